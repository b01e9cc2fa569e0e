"""The terminal side of ``peerchange query``: reading the QUERY argument, choosing the
answer's format from ``--format`` and the query form, and rendering SPARQL JSON results
as an aligned text table."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from peerchange.core.errors import PeerchangeError, SourceError
from peerchange.core.formats import RDF_FORMATS, RESULT_FORMATS, Format, find_format
from peerchange.core.namespaces import PREFIXES, shorten

QUERY_FILE_SUFFIXES = {".rq", ".sparql", ".txt"}


def read_query_argument(arg: str) -> str:
    """Return the query text: ``-`` reads standard input, an existing file (or a name
    ending in ``.rq``/``.sparql``/``.txt``) is read, anything else is the query itself.

    :raise SourceError: for a query file that does not exist, cannot be read or is not
        UTF-8, and for a folder.
    """
    if arg == "-":
        return sys.stdin.read()
    if "\n" in arg:
        return arg
    # os.path (not Path) answers False, rather than raising, for text too long to be a path
    if os.path.isdir(arg):
        raise SourceError("is a folder; give a query, a query file or - for standard input",
                          path=arg)
    if Path(arg).suffix not in QUERY_FILE_SUFFIXES and not os.path.isfile(arg):
        return arg
    try:
        return Path(arg).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError("no such query file", path=arg) from None
    except UnicodeDecodeError:
        raise SourceError("the query file is not UTF-8", path=arg) from None
    except OSError as exc:
        raise SourceError(f"cannot read the query file: {exc.strerror or exc}",
                          path=arg) from None


def answer_format(fmt: str, form: str) -> Format:
    """The format to ask for: ``--format`` ``fmt`` for a query of ``form`` (``table`` asks
    for SPARQL JSON results, or the first RDF format for CONSTRUCT/DESCRIBE).

    :raise PeerchangeError: ``fmt`` does not apply to ``form``.
    """
    if fmt == "table":
        return RESULT_FORMATS[0] if form in ("SELECT", "ASK") else RDF_FORMATS[0]
    group = RESULT_FORMATS if form in ("SELECT", "ASK") else RDF_FORMATS
    found = find_format(fmt, group)
    if found is None:
        kind = "SELECT/ASK" if group is RESULT_FORMATS else "CONSTRUCT/DESCRIBE"
        names = ", ".join(f.name for f in group)
        raise PeerchangeError(f"--format {fmt} does not apply to a {form} query; for "
                              f"{kind} use table, {names}.")
    return found


def _display_iri(iri: str) -> str:
    """``prefix:local`` for reading (the local part may hold ``/``, as in ``pcd:mechanism/x``),
    else ``<iri>``."""
    short = shorten(iri)
    if short.startswith("<"):
        for prefix, ns in sorted(PREFIXES.items(), key=lambda p: -len(p[1])):
            local = iri[len(ns):]
            if iri.startswith(ns) and local and all(c.isalnum() or c in "_-./" for c in local):
                return f"{prefix}:{local}"
    return short


def _cell(term: dict | None) -> str:
    if not term:
        return ""
    if term["type"] == "uri":
        return _display_iri(term["value"])
    if term["type"] == "bnode":
        return f"_:{term['value']}"
    value = term["value"].replace("\n", " ")
    if "xml:lang" in term:
        return f"{value} @{term['xml:lang']}"
    return value


def render_table(doc: dict, *, max_width: int = 60) -> str:
    """Render SPARQL JSON results as an aligned text table (ASK: ``true``/``false``)."""
    if "boolean" in doc:
        return "true\n" if doc["boolean"] else "false\n"
    variables = doc["head"]["vars"]
    bindings = doc["results"]["bindings"]
    rows = [[_cell(b.get(v)) for v in variables] for b in bindings]
    # literals longer than max_width are clipped; IRIs never are (a cut IRI is ambiguous)
    clipped = [
        [c if len(c) <= max_width or (b.get(v) or {}).get("type") == "uri"
         else c[: max_width - 1] + "…" for c, v in zip(r, variables, strict=True)]
        for r, b in zip(rows, bindings, strict=True)
    ]
    widths = [max([len(v)] + [len(r[i]) for r in clipped]) for i, v in enumerate(variables)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True)).rstrip(), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in clipped]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"
