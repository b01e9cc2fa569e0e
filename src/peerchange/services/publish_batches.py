"""The triples ``peerchange publish`` sends: one graph's N-Triples, whole or in batches.

For the SPARQL Update path every blank node is skolemised (RDF 1.1 Concepts §3.5) to
``https://w3id.org/peerchange/.well-known/genid/<hex>``, the hex a SHA-256 of the graph IRI
and the node's canonical label (pyoxigraph's RDF canonicalisation of the graph): a blank
node means something only inside one request, so a batch boundary could otherwise split
one, and the same data always gives the same IRIs, so publishing twice leaves the same
store. The Graph Store Protocol path sends a graph in one request and keeps its blank
nodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pyoxigraph as ox

from peerchange.core.namespaces import BASE

GENID = BASE + ".well-known/genid/"
# Virtuoso refuses an update whose SQL translation passes 10,000 lines (about 1,400
# triples); larger batches are also slower there
DEFAULT_BATCH_TRIPLES = 1_000
DEFAULT_BATCH_BYTES = 1_000_000


def graph_triples(store: ox.Store, graph: str) -> list[ox.Triple]:
    """The triples of the named graph ``graph`` in ``store``."""
    return [q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))]


def skolem_iri(graph: str, label: str) -> ox.NamedNode:
    """The well-known IRI of the blank node with canonical ``label`` in ``graph``."""
    digest = hashlib.sha256(f"{graph}\0{label}".encode()).hexdigest()[:32]
    return ox.NamedNode(GENID + digest)


def skolemise(graph: str, triples: list[ox.Triple]) -> list[ox.Triple]:
    """``triples`` with every blank node replaced by its skolem IRI (deterministic)."""
    if not any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)
               for t in triples):
        return triples
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)

    def term(node: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> object:
        return skolem_iri(graph, node.value) if isinstance(node, ox.BlankNode) else node

    return [ox.Triple(term(q.subject), q.predicate, term(q.object))  # type: ignore[arg-type]
            for q in dataset]


def ntriples_lines(triples: list[ox.Triple]) -> list[str]:
    """One N-Triples line per triple (with its newline), sorted, so the same graph always
    gives the same text."""
    return sorted(f"{t.subject} {t.predicate} {t.object} .\n" for t in triples)


def batches(lines: list[str], *, max_triples: int = DEFAULT_BATCH_TRIPLES,
            max_bytes: int = DEFAULT_BATCH_BYTES) -> Iterator[list[str]]:
    """``lines`` in batches of at most ``max_triples`` lines and ``max_bytes`` UTF-8 bytes
    (a single longer line makes a batch of its own)."""
    batch: list[str] = []
    size = 0
    for line in lines:
        n = len(line.encode())
        if batch and (len(batch) >= max_triples or size + n > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(line)
        size += n
    if batch:
        yield batch
