"""Evaluate a :class:`~peerchange.core.execution.QueryJob` on a remote SPARQL store.

The store is asked for one canonical format (SPARQL JSON results, N-Triples), its answer
is parsed into RDF terms, and the same code as for the embedded store
(:func:`~peerchange.core.execution.shape_select`, ``shape_graph``, ``shape_boolean`` and
:mod:`peerchange.core.results`) writes every output format with our row and byte caps
and truncation marks: the formats, caps and headers do not depend on the backend.

Parameters of shipped queries (pyoxigraph ``substitutions`` in the embedded store) go to
the store as a trailing ``VALUES`` block (SPARQL 1.1 §10.2, as rdflib's ``initBindings``)
written from the RDF terms, never by editing the query's body. A base IRI goes as a
leading ``BASE``. Remote queries are I/O: they run in the calling thread under the
deadline (:mod:`peerchange.core.remote_store`); no query process is forked for them.

A store that cut an answer at its own row cap (Virtuoso's ``X-SPARQL-MaxRows``) is an
error (:class:`~peerchange.core.errors.StoreError`, 502) unless our own row cap is the
smaller, in which case the answer is cut at ours as always.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyoxigraph as ox

from peerchange.core import metrics
from peerchange.core.describe import add_labels
from peerchange.core.errors import StoreError
from peerchange.core.execution import (
    Answer,
    QueryJob,
    finish,
    shape_boolean,
    shape_graph,
    shape_select,
)
from peerchange.core.queryfiles import get_query
from peerchange.core.querytext import QUERY_FORMS, tokens
from peerchange.core.remote_store import GRAPH_MEDIA, SELECT_MEDIA, RemoteStore, StoreReply

Term = ox.NamedNode | ox.Literal | ox.BlankNode
LABEL_BATCH = 200
VIRTUOSO_CBD = 'DEFINE sql:describe-mode "CBD"\n'
# blank nodes bound to a query's variables travel as these IRIs and come back blank
BOUND_BLANK = "https://w3id.org/peerchange/.well-known/genid/bound-"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


def values_block(rows: Sequence[Mapping[str, Term]]) -> str:
    """A ``VALUES`` clause binding the rows' variables to their terms (a blank node as
    its skolem IRI, :data:`BOUND_BLANK`)."""
    names = sorted({name for row in rows for name in row})
    if not names:
        return ""
    lines = []
    for row in rows:
        cells = []
        for name in names:
            term = row.get(name)
            if term is None:
                cells.append("UNDEF")
            else:
                cells.append(_term_text(name, term))
        lines.append("(" + " ".join(cells) + ")")
    head = "(" + " ".join("?" + n for n in names) + ")"
    return "\nVALUES " + head + " {\n  " + "\n  ".join(lines) + "\n}\n"


def group_start(text: str) -> int | None:
    """The offset just inside the query's WHERE group (after its ``{``), found by the
    lexical scan (:func:`peerchange.core.querytext.tokens`); ``None`` if it has none."""
    toks = tokens(text)
    at = next((i for i, t in enumerate(toks)
               if t.kind == "word" and t.text.upper() in QUERY_FORMS), None)
    if at is None:
        return None
    i = at + 1
    if toks[at].text.upper() == "CONSTRUCT" and i < len(toks) and toks[i].text == "{":
        depth = 0  # skip the template
        while i < len(toks):
            depth += {"{": 1, "}": -1}.get(toks[i].text, 0) if toks[i].kind == "other" else 0
            i += 1
            if depth == 0:
                break
    for tok in toks[i:]:
        if tok.kind == "other" and tok.text == "{":
            return tok.pos + 1
    return None


def remote_text(job: QueryJob, rows: Sequence[Mapping[str, Term]] | None = None) -> str:
    """The text sent to the store: ``BASE`` + the job's text with its parameters bound.

    One row of bindings (a shipped query's parameters) is bound as pyoxigraph's
    ``substitutions`` bind it: each of the variable's tokens, found by the lexical scan,
    becomes the term (written from the RDF term, never from text), and in a ``SELECT``
    list ``(<term> AS ?x)``, so the column stays. Several rows (a batch of IRIs) go in a
    ``VALUES`` block opening the WHERE group; a trailing block (§10.2) is the last resort.
    Virtuoso 7.2 is why: it applies a trailing ``VALUES`` after the projection ("No
    column ?x" for a bound variable not selected), refuses one outside ``SELECT``, and
    evaluates a zero-length path (``?x pcm:p? ?y``) with both ends unbound to nothing,
    so a bound end must be a constant in the text.
    """
    rows = rows if rows is not None else ([job.substitutions] if job.substitutions else [])
    # on the query's first line, so the store's line numbers in errors stay the query's
    base = f"BASE {ox.NamedNode(job.base_iri)} " if job.base_iri else ""
    if not rows:
        return base + job.text
    if len(rows) == 1:
        text = _substituted(job.text, rows[0])
        if text is not None:
            return base + text
    block = values_block(rows)
    at = group_start(job.text)
    if at is not None:
        return base + job.text[:at] + block + job.text[at:]
    return base + job.text + block


def _term_text(name: str, term: Term) -> str:
    if isinstance(term, ox.BlankNode):
        # a blank node cannot be named in another store's query: it goes as a skolem IRI
        # of ours and comes back as the same blank node (:func:`_term`, :func:`parse_graph`)
        return str(ox.NamedNode(BOUND_BLANK + term.value))
    return str(term)


def _substituted(text: str, row: Mapping[str, Term]) -> str | None:
    """``text`` with each bound variable replaced by its term; ``None`` where a variable
    is bound in a place a term cannot take (after ``AS`` or ``VALUES``, or under a star
    projection).

    In a ``SELECT`` list the variable becomes ``(<term> AS ?x)`` (the column stays);
    ``ORDER BY ?x`` keeps the variable (it is that column); ``GROUP BY ?x`` loses it
    (grouping by a constant changes nothing, and Virtuoso refuses constant group keys),
    and a ``GROUP BY`` left with no key goes too.
    """
    toks = tokens(text)
    edits: list[tuple[int, int, str]] = []
    projecting = False  # inside a SELECT list
    depth = 0  # brackets inside that list
    clause = ""  # "GROUP" or "ORDER" after its BY, until the clause ends
    group_at = -1  # where the current GROUP BY starts, and how many keys it keeps
    kept = 0
    previous = ""
    for i, tok in enumerate(toks):
        word = tok.text.upper() if tok.kind == "word" else ""
        if clause and (word in ("HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES", "SELECT")
                       or tok.text in ("{", "}")):
            if clause == "GROUP" and kept == 0:
                edits.append((group_at, tok.pos, ""))
            clause = ""
        if word == "BY" and previous in ("GROUP", "ORDER"):
            clause, kept = previous, 0
            group_at = toks[i - 1].pos
        elif clause == "GROUP" and not (tok.kind == "var" and tok.text[1:] in row):
            kept += 1 if tok.text not in ("(", ")") else 0
        if word == "SELECT":
            projecting, depth = True, 0
        elif projecting and (word in ("WHERE", "FROM") or (tok.text == "{" and depth == 0)):
            projecting = False
        elif projecting and tok.kind == "other" and tok.text in "()":
            depth += 1 if tok.text == "(" else -1
        elif projecting and tok.text == "*" and previous in ("SELECT", "DISTINCT", "REDUCED"):
            return None
        if tok.kind == "var" and tok.text[1:] in row:
            name = tok.text[1:]
            if previous in ("AS", "VALUES") or _in_values(toks, tok):
                return None
            term = _term_text(name, row[name])
            end = tok.pos + len(tok.text)
            if projecting and depth == 0:
                edits.append((tok.pos, end, f"({term} AS {tok.text})"))
            elif clause == "GROUP":
                edits.append((tok.pos, end, ""))
            elif clause != "ORDER":
                edits.append((tok.pos, end, term))
        previous = word or tok.text
    if clause == "GROUP" and kept == 0:
        edits.append((group_at, len(text), ""))
    out, last = [], 0
    for begin, end, value in sorted(edits):
        if begin < last:  # a removed GROUP BY holds an edit of its own key
            continue
        out += [text[last:begin], value]
        last = end
    return "".join(out) + text[last:]


def without_from(text: str) -> str:
    """``text`` without its ``FROM`` / ``FROM NAMED`` clauses (found by the lexical scan),
    for a request whose protocol dataset overrides them (SPARQL 1.1 Protocol §2.1.4):
    Virtuoso would add the ``FROM`` graphs to the protocol's instead."""
    toks = tokens(text)
    cut: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.kind == "other" and tok.text == "{":
            break  # the dataset clauses come before the WHERE group
        if tok.kind == "word" and tok.text.upper() == "FROM":
            j = i + 1
            if j < len(toks) and toks[j].kind == "word" and toks[j].text.upper() == "NAMED":
                j += 1
            if j < len(toks) and toks[j].kind in ("iri", "pname"):
                cut.append((tok.pos, toks[j].pos + len(toks[j].text)))
                i = j
        i += 1
    out, last = [], 0
    for begin, end in cut:
        out += [text[last:begin]]
        last = end
    return "".join(out) + text[last:]


def _in_values(toks: list, tok: Any) -> bool:
    """Whether ``tok`` is in the variable list of a ``VALUES (?a ?b)``."""
    at = toks.index(tok)
    for earlier in reversed(toks[:at]):
        if earlier.kind == "var":
            continue
        if earlier.text == "(":
            continue
        return earlier.kind == "word" and earlier.text.upper() == "VALUES"
    return False


def run_remote(remote: RemoteStore, job: QueryJob, timeout: float, *,
               union: Sequence[str] = (), stream: bool = False) -> Answer:
    """Evaluate ``job`` on ``remote`` before ``timeout`` s; the answer as
    :func:`~peerchange.core.execution.run_with_timeout` gives it.

    :param union: the published data graphs: where a DESCRIBE's labels come from when
        the job names no graphs.
    """
    start = time.perf_counter()
    deadline = time.monotonic() + timeout if timeout > 0 else None
    form = job.form
    accept = SELECT_MEDIA if form in ("SELECT", "ASK") else GRAPH_MEDIA
    text = remote_text(job)
    if job.default_graphs is not None or job.named_graphs is not None:
        text = without_from(text)
    if form == "DESCRIBE" and remote.is_virtuoso:
        # Virtuoso describes a resource by its incoming triples too; the embedded store
        # gives its concise bounded description, and so does Virtuoso in this mode
        text = VIRTUOSO_CBD + text
    reply = remote.request(text, accept=accept, timeout=timeout,
                           default_graphs=job.default_graphs,
                           named_graphs=job.named_graphs)
    if form == "ASK":
        answer = shape_boolean(_boolean(reply), job, start)
    elif form == "SELECT":
        variables, rows = parse_select(reply)
        if reply.max_rows is not None and len(rows) >= reply.max_rows and not (
                job.max_rows and job.max_rows < reply.max_rows):
            raise StoreError(f"The store cut the answer at {reply.max_rows:,} rows (its "
                             "own limit, e.g. Virtuoso's ResultSetMaxRows); raise that "
                             "limit in the store, or add a LIMIT to the query.")
        answer = shape_select(variables, rows, job, start)
    else:
        graphs = job.label_graphs if job.label_graphs is not None else list(union)

        def labels(triples: list) -> list:
            left = None if deadline is None else max(0.1, deadline - time.monotonic())
            return add_labels(triples, lambda iris: labels_from(remote, iris, graphs,
                                                                left or 0))

        answer = shape_graph(parse_graph(reply), job, start, labels)
    if answer.truncated:
        metrics.count("answers_truncated", limit=answer.limit or "rows")
    return finish(answer, stream=stream)


def labels_from(remote: RemoteStore, iris: Iterable[ox.NamedNode], graphs: Sequence[str],
                timeout: float) -> list[ox.Triple]:
    """The label triples of ``iris`` in ``graphs`` of ``remote`` (batched VALUES)."""
    file = get_query("internal/remote/labels-of")
    todo = list(iris)
    out: list[ox.Triple] = []
    for i in range(0, len(todo), LABEL_BATCH):
        rows = [{"resource": iri} for iri in todo[i:i + LABEL_BATCH]]
        job = QueryJob(text=file.text, form="SELECT")
        reply = remote.request(remote_text(job, rows), accept=SELECT_MEDIA, timeout=timeout,
                               default_graphs=list(graphs) or None)
        variables, solutions = parse_select(reply)
        index = {v: n for n, v in enumerate(variables)}
        for row in solutions:
            s, p, o = (row[index["resource"]], row[index["labelProperty"]],
                       row[index["label"]])
            if s is not None and p is not None and o is not None:
                out.append(ox.Triple(s, p, o))
    return out


# -- parsing the store's answers --------------------------------------------------------


def _json(reply: StoreReply) -> dict[str, Any]:
    try:
        doc = json.loads(reply.body)
    except ValueError as exc:
        raise StoreError(f"The store's answer is not SPARQL JSON results ({exc}); it sent "
                         f"{reply.media_type or 'no media type'}.") from None
    if not isinstance(doc, dict):
        raise StoreError("The store's answer is not SPARQL JSON results.")
    return doc


def _boolean(reply: StoreReply) -> bool:
    value = _json(reply).get("boolean")
    if not isinstance(value, bool):
        raise StoreError("The store answered an ASK query without a boolean.")
    return value


def parse_select(reply: StoreReply) -> tuple[list[str], list[tuple]]:
    """The variables and rows (tuples of terms, ``None`` where unbound) of a SPARQL JSON
    answer. Read here rather than by pyoxigraph: stores name blank nodes in ways
    pyoxigraph refuses (Virtuoso's ``nodeID://b10``), and older ones write
    ``typed-literal``."""
    doc = _json(reply)
    try:
        variables = [str(v) for v in doc["head"].get("vars", [])]
        bindings = doc["results"]["bindings"]
        rows = [tuple(_term(b[v]) if v in b else None for v in variables) for b in bindings]
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise StoreError(f"The store's SPARQL JSON answer cannot be read: {exc}") from None
    return variables, rows


_BNODE = re.compile(r"[^A-Za-z0-9]")


def _bnode(label: str) -> ox.BlankNode:
    clean = _BNODE.sub("", label.removeprefix("nodeID://").removeprefix("_:"))
    return ox.BlankNode(("b" + clean) if clean else None)


def _term(value: dict[str, Any]) -> Any:
    kind = value["type"]
    if kind == "uri":
        return _unskolem(ox.NamedNode(value["value"]))
    if kind == "bnode":
        return _bnode(value["value"])
    if kind in ("literal", "typed-literal"):
        lang = value.get("xml:lang")
        if lang:
            return ox.Literal(value["value"], language=lang)
        datatype = value.get("datatype")
        if datatype == _XSD_BOOLEAN:
            # Virtuoso writes booleans as 1 and 0; the canonical forms are true and false
            text = {"1": "true", "0": "false"}.get(value["value"], value["value"])
            return ox.Literal(text, datatype=ox.NamedNode(datatype))
        if datatype and datatype != _XSD_STRING:
            return ox.Literal(value["value"], datatype=ox.NamedNode(datatype))
        return ox.Literal(value["value"])
    if kind == "triple":
        inner = value["value"]
        return ox.Triple(_term(inner["subject"]), _term(inner["predicate"]),
                         _term(inner["object"]))
    raise ValueError(f"unknown term type {kind!r}")


def parse_graph(reply: StoreReply) -> Iterator[ox.Triple]:
    """The triples of a graph answer (N-Triples asked for; Turtle accepted)."""
    fmt = ox.RdfFormat.from_media_type(reply.media_type) if reply.media_type else None
    if fmt is None or reply.media_type in ("text/plain", GRAPH_MEDIA):
        fmt = ox.RdfFormat.N_TRIPLES
    try:
        quads = list(ox.parse(io.BytesIO(reply.body), fmt))
    except (SyntaxError, ValueError) as exc:
        raise StoreError(f"The store's graph answer ({reply.media_type}) cannot be read: "
                         f"{exc}") from None
    return iter([ox.Triple(_unskolem(q.subject), q.predicate,
                           _canonical_boolean(_unskolem(q.object))) for q in quads])


def _canonical_boolean(term: Any) -> Any:
    if (isinstance(term, ox.Literal) and term.datatype.value == _XSD_BOOLEAN
            and term.value in ("1", "0")):
        return ox.Literal("true" if term.value == "1" else "false", datatype=term.datatype)
    return term


def _unskolem(term: Any) -> Any:
    if isinstance(term, ox.NamedNode) and term.value.startswith(BOUND_BLANK):
        return ox.BlankNode(term.value[len(BOUND_BLANK):])
    return term
