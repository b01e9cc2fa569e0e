"""The query mix (``bench/queries/mix/*.rq``) and peerchange's own pages.

The mix is standard SPARQL every server answers, sent as form POSTs with ``Accept:
application/sparql-results+json``: two one-hop lookups, a two-hop trace join, an ASK and a
GROUP BY top-5. Its queries name resources of synthetic study 1, which every file
``peerchange synth`` writes holds. ``check`` runs each once and reduces the answer to
plain values, so the servers' answers can be compared with peerchange's.

The pages (peerchange only, reported apart: the peers have no such pages) are the canned
API and the reviewer's trace of a mechanism.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import requests

MIX_DIR = Path(__file__).resolve().parents[1] / "queries" / "mix"
JSON = "application/sparql-results+json"
MECHANISM = "https://w3id.org/peerchange/id/mechanism/synth-1-m1"

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


def check(endpoint: str, base: str) -> dict[str, object]:
    """Run each query of the mix once; return its reduced answer (raise on an error)."""
    session = requests.Session()
    answers = {}
    for request in queries():
        r = request.send(session, endpoint, base)
        if r.status_code != 200:
            raise RuntimeError(f"{request.name}: HTTP {r.status_code}: {r.text[:300]}")
        answers[request.name] = reduce(r.json())
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
