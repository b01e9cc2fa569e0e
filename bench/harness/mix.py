"""The two query mixes and peerchange's own pages.

Both mixes are standard SPARQL every server answers, sent as form POSTs with ``Accept:
application/sparql-results+json``: two one-hop lookups, a two-hop trace join, an ASK and a
GROUP BY top-5.

- **fixed** (``bench/queries/mix/*.rq``): the same five requests over and over, naming
  resources of synthetic study 1, which every file ``peerchange synth`` writes holds. A
  server with an answer cache answers nearly all of it from the cache.
- **varied** (``bench/queries/varied/*.rq``): the same five kinds, but each round of a
  client draws its parameters (``$mechanism``, ``$model``) from the data: a study and one
  of its first three mechanisms (every synthetic study has at least three), from a seeded
  generator, the same sequence for every server. Parameters are substituted as RDF terms
  (an IRI checked by pyoxigraph and written in N-Triples form), never as raw text.

``check`` runs each query once and reduces the answer to plain values, so the servers'
answers can be compared with peerchange's.

The pages (peerchange only, reported apart: the peers have no such pages) are the canned
API and the reviewer's trace of a mechanism.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from pyoxigraph import NamedNode

MIX_DIR = Path(__file__).resolve().parents[1] / "queries" / "mix"
VARIED_DIR = Path(__file__).resolve().parents[1] / "queries" / "varied"
JSON = "application/sparql-results+json"
ID = "https://w3id.org/peerchange/id/"
MECHANISM = ID + "mechanism/synth-1-m1"

# (name, path and query string, Accept) of peerchange's own faces
PAGES: list[tuple[str, str, str]] = [
    ("api-mechanism-theories", "/api/mechanism-theories?mechanism=" + MECHANISM, JSON),
    ("api-claims-by-status", "/api/claims-by-status?per_page=10&status="
     "https://w3id.org/peerchange/onto/StatedInSource", JSON),
    ("trace-page", "/trace/synth-1-m1", "text/html"),
    ("trace-json", "/trace/synth-1-m1", "application/json"),
]


@dataclass(frozen=True)
class Request:
    """One request of a mix: a SPARQL query (POSTed to the endpoint) or a page (GET)."""

    name: str
    query: str | None = None
    path: str | None = None
    accept: str = JSON

    def send(self, session: requests.Session, endpoint: str, base: str,
             timeout: float = 300) -> requests.Response:
        if self.query is not None:
            return session.post(endpoint, data={"query": self.query},
                                headers={"Accept": self.accept}, timeout=timeout)
        return session.get(base + self.path, headers={"Accept": self.accept},
                           timeout=timeout)


def queries() -> list[Request]:
    """The SPARQL mix, one request per ``.rq`` file, by name."""
    return [Request(p.stem, query=p.read_text(encoding="utf-8"))
            for p in sorted(MIX_DIR.glob("*.rq"))]


def substitute(template: str, bindings: dict[str, str]) -> str:
    """``template`` with each ``$name`` of ``bindings`` replaced by that IRI as a term.

    The IRI is checked by pyoxigraph (``NamedNode``) and written as ``<...>``; comment lines
    are left alone. A ``$name`` left unbound is an error (the query would mean another).
    """
    terms = {name: str(NamedNode(value)) for name, value in bindings.items()}

    def term(match: re.Match) -> str:
        if match[1] not in terms:
            raise KeyError(f"${match[1]} is not bound")
        return terms[match[1]]

    return "\n".join(line if line.lstrip().startswith("#") else
                     re.sub(r"\$(\w+)", term, line) for line in template.splitlines())


def templates() -> dict[str, str]:
    """The varied mix's templates, by name (the same names as the fixed mix's)."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(VARIED_DIR.glob("*.rq"))}


def draws(studies: int, seed: int, count: int = 4096) -> list[dict[str, str]]:
    """``count`` parameter sets: a study (1..``studies``) and one of its mechanisms m1-m3."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        study, m = rng.randrange(1, studies + 1), rng.randrange(1, 4)
        out.append({"mechanism": f"{ID}mechanism/synth-{study}-m{m}",
                    "model": f"{ID}model/synth-{study}-change-model"})
    return out


def varied(bindings: dict[str, str]) -> list[Request]:
    """One round of the varied mix: each template with these parameters."""
    return [Request(name, query=substitute(text, bindings))
            for name, text in templates().items()]


def varied_schedule(params: list[dict[str, str]],
                    clients: int) -> Callable[[int], Iterator[Request]]:
    """For client k: rounds of the varied mix, the k-th client starting at k/clients of
    ``params`` (so clients do not send the same parameters at the same time), each round
    rotated by k (as the fixed mix's clients start at their own offset)."""
    rendered = templates()

    def schedule(k: int) -> Iterator[Request]:
        start = k * len(params) // max(clients, 1)
        j = 0
        while True:
            bindings = params[(start + j) % len(params)]
            j += 1
            names = list(rendered)
            names = names[k % len(names):] + names[:k % len(names)]
            for name in names:
                yield Request(name, query=substitute(rendered[name], bindings))

    return schedule


def study_count(data: Path) -> int | None:
    """The number of synthetic studies in ``data``: ``synth`` writes studies 1..N in order,
    so the highest ``synth-N-`` in the file's last 256 KB (else the name ``synth-N``)."""
    with data.open("rb") as f:
        f.seek(max(0, data.stat().st_size - (1 << 18)))
        tail = f.read()
    found = [int(n) for n in re.findall(rb"/synth-(\d+)-", tail)]
    if found:
        return max(found)
    match = re.fullmatch(r"synth-(\d+)\.n[tq]", data.name)
    return int(match[1]) if match else None


def pages() -> list[Request]:
    return [Request(name, path=path, accept=accept) for name, path, accept in PAGES]


def probe() -> str:
    """The query whose answer says a server is up and loaded (the mix's ASK)."""
    return (MIX_DIR / "ask-mechanism.rq").read_text(encoding="utf-8")


def reduce(answer: dict) -> object:
    """Plain values of a SPARQL JSON answer: a boolean, or the rows as tuples of strings.

    Rows keep their order (every SELECT of the mix orders its rows); terms are reduced
    to their lexical value, so servers that spell a datatype differently still agree.
    """
    if "boolean" in answer:
        return bool(answer["boolean"])
    names = answer["head"]["vars"]
    return [tuple(row.get(n, {}).get("value") for n in names)
            for row in answer["results"]["bindings"]]


def check(endpoint: str, base: str, requests_: list[Request] | None = None,
          suffix: str = "") -> dict[str, object]:
    """Run each query (default: the fixed mix) once; return its reduced answer by name
    (plus ``suffix``); raise on an error."""
    session = requests.Session()
    answers = {}
    for request in queries() if requests_ is None else requests_:
        r = request.send(session, endpoint, base)
        if r.status_code != 200:
            raise RuntimeError(f"{request.name}: HTTP {r.status_code}: {r.text[:300]}")
        answers[request.name + suffix] = reduce(r.json())
    return answers


def check_pages(base: str) -> dict[str, int]:
    """GET each page once; return its size in bytes (raise unless 200)."""
    session = requests.Session()
    sizes = {}
    for request in pages():
        r = request.send(session, "", base)
        if r.status_code != 200:
            raise RuntimeError(f"{request.name}: HTTP {r.status_code}: {r.text[:300]}")
        sizes[request.name] = len(r.content)
    return sizes


def problems(answers: dict[str, object], reference: dict[str, object]) -> list[str]:
    """Why ``answers`` are not correct: an empty answer, or one unlike the reference's."""
    found = []
    for name, expected in reference.items():
        got = answers.get(name)
        if got in (None, [], False):
            found.append(f"{name}: empty answer")
        elif got != expected:
            found.append(f"{name}: {len(got) if isinstance(got, list) else got} rows/value, "
                         f"peerchange {len(expected) if isinstance(expected, list) else expected}")
    return found
