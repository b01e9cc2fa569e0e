"""``peerchange query``: run one query on the embedded graph or a remote endpoint and
render the answer for a terminal (a table) or in a SPARQL results / RDF format."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

from peerchange.core.errors import PeerchangeError, SourceError
from peerchange.core.formats import RDF_FORMATS, RESULT_FORMATS, Format, find_format
from peerchange.core.namespaces import PREFIXES, shorten
from peerchange.core.querytext import inspect_query
from peerchange.core.sources import Source


class RemoteEndpointError(PeerchangeError):
    """The remote SPARQL endpoint could not be reached or answered with an error."""

    http_status = 502
    exit_code = 2
    title = "Remote endpoint error"


def read_query_argument(arg: str) -> str:
    """Return the query text: ``-`` reads standard input, an existing file (or a name
    ending in ``.rq``/``.sparql``) is read, anything else is the query itself.

    :raise SourceError: for a ``.rq`` file that does not exist or is not UTF-8.
    """
    if arg == "-":
        return sys.stdin.read()
    path = Path(arg)
    looks_like_file = path.suffix in {".rq", ".sparql", ".txt"} and "\n" not in arg
    if looks_like_file or (len(arg) < 1024 and "\n" not in arg and path.is_file()):
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SourceError("no such query file", path=arg) from None
        except UnicodeDecodeError:
            raise SourceError("the query file is not UTF-8", path=arg) from None
    return arg


def _formats_for(fmt: str, form: str) -> Format:
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


def run_query(
    text: str,
    *,
    fmt: str = "table",
    endpoint: str | None = None,
    extra: Iterable[Source] = (),
    timeout: float | None = None,
) -> str:
    """Run ``text`` and return what to print."""
    if endpoint:
        form = inspect_query(text).form or "SELECT"
        out_fmt = _formats_for(fmt, form)
        body = _remote(text, endpoint, out_fmt, form)
    else:
        from peerchange.core.knowledge_graph import load_graph
        from peerchange.services.sparql import SparqlService

        service = SparqlService(load_graph(extra), timeout=30.0 if timeout is None else timeout,
                                max_rows=0)
        prepared = service.prepare(text)
        form = prepared.form
        body = service.execute(prepared, _formats_for(fmt, form)).body
    if fmt == "table" and form in ("SELECT", "ASK"):
        return render_table(json.loads(body))
    return body.decode("utf-8")


def _remote(text: str, endpoint: str, fmt: Format, form: str) -> bytes:
    from urllib.error import HTTPError, URLError

    from SPARQLWrapper import POST, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

    client = SPARQLWrapper(endpoint)
    client.setMethod(POST)
    client.setQuery(text)
    client.setOnlyConneg(True)
    client.addCustomHttpHeader("Accept", fmt.media_type)
    try:
        response = client.query().response
        return response.read()
    except SPARQLWrapperException as exc:
        raise RemoteEndpointError(_refusal(endpoint, exc)) from None
    except HTTPError as exc:  # statuses SPARQLWrapper does not translate (403, 406, 503 ...)
        body = exc.read().decode("utf-8", "replace").strip()
        raise RemoteEndpointError(
            f"{endpoint} answered {exc.code} {exc.reason}" + (f": {body}" if body else "")
        ) from None
    except URLError as exc:
        raise RemoteEndpointError(f"cannot reach {endpoint}: {exc.reason}") from None
    except OSError as exc:
        raise RemoteEndpointError(f"cannot reach {endpoint}: {exc}") from None


def _refusal(endpoint: str, exc: Exception) -> str:
    """The endpoint's own message from a SPARQLWrapper exception (which keeps it as a repr)."""
    import ast

    code = getattr(exc.__context__, "code", None)  # the urllib HTTPError it replaced
    text = str(exc)
    _, sep, raw = text.partition("Response:\n")
    if sep:
        try:
            text = ast.literal_eval(raw).decode("utf-8", "replace").strip()
        except (ValueError, SyntaxError, AttributeError):
            text = raw.strip()
    return f"{endpoint} refused the query" + (f" (HTTP {code})" if code else "") + f": {text}"


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
