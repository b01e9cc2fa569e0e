"""Write RDF documents for linked-data clients: Turtle, RDF/XML, N-Triples, and JSON-LD
compacted with the published ``@context`` (built once in :mod:`peerchange.services.terms`,
served at ``/context.jsonld``).

Blank nodes are relabelled from the graph's structure and triples sorted, so the same data
gives the same bytes on every load and every server. Compaction is done by PyLD, the
JSON-LD reference implementation for Python; its input is pyoxigraph's expanded JSON-LD,
so nothing is re-parsed. PyLD never fetches a remote context here: its document loader
refuses every URL.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import pyoxigraph as ox

from peerchange.core.formats import RDF_FORMATS, Format, find_format
from peerchange.core.namespaces import DOCUMENT_PREFIXES, LABEL_PROPERTIES

# The RDF formats of a resource document, Turtle (the default) first.
DOCUMENT_FORMATS: tuple[Format, ...] = tuple(
    fmt for name in ("turtle", "jsonld", "rdfxml", "ntriples")
    if (fmt := find_format(name, RDF_FORMATS)) is not None
)
CONTEXT_FILE = "context.jsonld"
_PLAIN_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*[A-Za-z0-9_-]|[A-Za-z_]?")


T = TypeVar("T", ox.Triple, ox.Quad)


class _NoRemoteContexts:
    """A PyLD document loader that refuses every URL: nothing is ever fetched."""

    def __call__(self, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        from pyld import jsonld  # pyld (and requests) imported when a document needs it

        raise jsonld.JsonLdError(
            f"remote JSON-LD documents are not loaded ({url})", "jsonld.LoadDocumentError",
            code="loading document failed",
        )


_OPTIONS: dict[str, Any] = {"documentLoader": _NoRemoteContexts()}


def _triples(items: Iterable[ox.Triple | ox.Quad]) -> list[ox.Triple]:
    seen: set[ox.Triple] = set()
    out: list[ox.Triple] = []
    for t in items:
        triple = ox.Triple(t.subject, t.predicate, t.object) if isinstance(t, ox.Quad) else t
        if triple not in seen:
            seen.add(triple)
            out.append(triple)
    return out


def canonical_blank_nodes(items: Sequence[T], rounds: int = 4) -> list[T]:
    """Return ``items`` with their blank nodes relabelled from the graph's structure.

    A store gives blank nodes random labels at each load; relabelling each one by a digest
    of its neighbourhood (refined over a few rounds, as in the Weisfeiler-Lehman test)
    makes the same data serialize to the same bytes on every load and every server, so
    dumps and documents of one release are reproducible.
    """
    out_edges: dict[ox.BlankNode, list[tuple[str, object, str]]] = {}
    in_edges: dict[ox.BlankNode, list[tuple[object, str, str]]] = {}
    for t in items:
        g = str(t.graph_name) if isinstance(t, ox.Quad) else ""
        if isinstance(t.subject, ox.BlankNode):
            out_edges.setdefault(t.subject, []).append((t.predicate.value, t.object, g))
            in_edges.setdefault(t.subject, [])
        if isinstance(t.object, ox.BlankNode):
            in_edges.setdefault(t.object, []).append((t.subject, t.predicate.value, g))
            out_edges.setdefault(t.object, [])
    if not out_edges:
        return list(items)
    sig = dict.fromkeys(out_edges, "")

    def name(node: object) -> str:
        return "_:" + sig[node] if isinstance(node, ox.BlankNode) else str(node)

    for _ in range(rounds):
        sig = {
            b: hashlib.sha256("\n".join(
                [sig[b]]
                + sorted(f">{p} {name(o)} {g}" for p, o, g in out_edges[b])
                + sorted(f"<{name(s)} {p} {g}" for s, p, g in in_edges[b])
            ).encode()).hexdigest()
            for b in out_edges
        }
    labels: dict[ox.BlankNode, ox.BlankNode] = {}
    used: dict[str, int] = {}
    for b in sorted(out_edges, key=lambda b: (sig[b], str(b))):
        base = "b" + sig[b][:16]
        n = used.get(base, 0)
        used[base] = n + 1
        labels[b] = ox.BlankNode(base if n == 0 else f"{base}x{n}")

    def relabel(node: Any) -> Any:
        return labels.get(node, node) if isinstance(node, ox.BlankNode) else node

    mapped: list[Any] = []
    for t in items:
        if isinstance(t, ox.Quad):
            mapped.append(ox.Quad(relabel(t.subject), t.predicate, relabel(t.object),
                                  t.graph_name))
        else:
            mapped.append(ox.Triple(relabel(t.subject), t.predicate, relabel(t.object)))
    return mapped


def sort_key(t: ox.Triple | ox.Quad) -> tuple[str, ...]:
    """A stable order: by subject, predicate, object (and graph for quads)."""
    key = (str(t.subject), str(t.predicate), str(t.object))
    return (str(t.graph_name), *key) if isinstance(t, ox.Quad) else key


def compact_jsonld(
    triples: Sequence[ox.Triple], context: dict[str, Any], context_ref: str | None = None,
    *, indent: int | None = 1,
) -> bytes:
    """Return ``triples`` as JSON-LD compacted with ``context``.

    :param context_ref: the URL of the published context to put in ``@context`` instead of
        the context itself (the result is the same document for a client that loads it).
    """
    from pyld import jsonld  # pyld (and requests) imported when a document needs it

    expanded = json.loads(ox.serialize(list(triples), format=ox.RdfFormat.JSON_LD) or b"[]")
    compacted = jsonld.compact(expanded, context, _OPTIONS)
    if context_ref is not None:
        compacted["@context"] = context_ref
    return (json.dumps(compacted, ensure_ascii=False, indent=indent) + "\n").encode()


def write_document(
    triples: Iterable[ox.Triple | ox.Quad],
    fmt: Format,
    *,
    context: dict[str, Any],
    context_ref: str | None = None,
    focus: str | None = None,
) -> bytes:
    """Serialize a document's triples (duplicates removed, in a stable order) in ``fmt``.

    :param context: the published JSON-LD context document (for JSON-LD).
    :param context_ref: its URL, written as ``@context`` of a JSON-LD document.
    :param focus: the IRI the document is about: its triples come first, then those of
        other subjects, then the subjects that only carry a label.
    """
    items = canonical_blank_nodes(_triples(triples))
    described = {t.subject for t in items if t.predicate.value not in LABEL_PROPERTIES}
    focus_node = ox.NamedNode(focus) if focus else None

    def rank(t: ox.Triple) -> tuple[int, tuple[str, ...]]:
        order = 0 if t.subject == focus_node else 1 if t.subject in described else 2
        return (order, sort_key(t))

    items.sort(key=rank)
    if fmt.name == "jsonld":
        return compact_jsonld(items, context, context_ref)
    if fmt.rdf is None or fmt.quads:
        raise ValueError(f"{fmt.name} is not a triple format")
    kwargs: dict[str, Any] = {"format": fmt.rdf}
    if fmt.rdf in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML):
        kwargs["prefixes"] = used_prefixes(items)
    return ox.serialize(items, **kwargs)


def used_prefixes(triples: Iterable[ox.Triple]) -> dict[str, str]:
    """Return the document prefixes whose namespace some IRI in ``triples`` starts with.

    A prefix is left out when one of its IRIs has a local part that Turtle could only write
    with escapes (``pcd:mechanism\\/engagement``): such IRIs read better written in full.
    """
    namespaces = sorted(DOCUMENT_PREFIXES.items(), key=lambda kv: -len(kv[1]))
    used: set[str] = set()
    awkward: set[str] = set()
    for t in triples:
        nodes = [t.subject, t.predicate, t.object]
        if isinstance(t.object, ox.Literal):
            nodes.append(t.object.datatype)
        for node in nodes:
            if isinstance(node, ox.NamedNode):
                for prefix, ns in namespaces:
                    if node.value.startswith(ns):
                        used.add(prefix)
                        if not _PLAIN_LOCAL.fullmatch(node.value[len(ns):]):
                            awkward.add(prefix)
                        break
    used -= awkward
    # RDF/XML needs a prefix for every predicate namespace: keep rdf always
    used.add("rdf")
    return {p: DOCUMENT_PREFIXES[p] for p in sorted(used)}
