"""SPARQL query files (``queries/**/*.rq``) and their grlc-style ``#+`` front matter.

A query file opens with comment lines ``#+ key: value`` that together form a YAML
mapping (``summary``, ``description``, ``tags``, ``params``, ``severity`` ...), followed by
the SPARQL text. The Python code never holds SPARQL: it loads these files by name and
binds parameters as RDF terms with pyoxigraph ``substitutions``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from peerchange.core.errors import QueryFileError
from peerchange.core.resources import resource_dir

KINDS = ("api", "checks", "reports", "internal")


@dataclass(frozen=True)
class QueryFile:
    """One ``.rq`` file: its name (path under ``queries/`` without ``.rq``), text and metadata."""

    name: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def short_name(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    @property
    def summary(self) -> str:
        return str(self.meta.get("summary", self.short_name))

    def select(
        self,
        store: ox.Store,
        bindings: dict[str, ox.NamedNode | ox.Literal | ox.BlankNode] | None = None,
        *,
        union: bool = True,
    ) -> list[dict[str, Any]]:
        """Run this SELECT query and return its rows as ``{variable: term}`` dicts.

        Unbound variables are left out of a row.
        """
        result = self._run(store, bindings, union=union)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryFileError(f"queries/{self.name}.rq is not a SELECT query")
        names = [v.value for v in result.variables]
        rows = []
        for solution in result:
            row = {}
            for name in names:
                term = solution[name]
                if term is not None:
                    row[name] = term
            rows.append(row)
        return rows

    def construct(
        self,
        store: ox.Store,
        bindings: dict[str, ox.NamedNode | ox.Literal | ox.BlankNode] | None = None,
        *,
        union: bool = True,
    ) -> list[ox.Triple]:
        """Run this CONSTRUCT/DESCRIBE query and return its triples."""
        result = self._run(store, bindings, union=union)
        if not isinstance(result, ox.QueryTriples):
            raise QueryFileError(f"queries/{self.name}.rq is not a CONSTRUCT query")
        return list(result)

    def _run(self, store: ox.Store, bindings: Any, *, union: bool) -> Any:
        subs = {ox.Variable(k): v for k, v in (bindings or {}).items()}
        try:
            return store.query(
                self.text, use_default_graph_as_union=union, substitutions=subs or None
            )
        except SyntaxError as exc:
            raise QueryFileError(f"queries/{self.name}.rq does not parse: {exc}") from None


def parse_front_matter(text: str, *, name: str = "<query>") -> dict[str, Any]:
    """Return the YAML mapping formed by the leading ``#+`` lines of ``text``."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#+"):
            lines.append(stripped[2:].removeprefix(" "))
        elif stripped and not stripped.startswith("#"):
            break
    if not lines:
        return {}
    try:
        meta = yaml.safe_load("\n".join(lines))
    except yaml.YAMLError as exc:
        raise QueryFileError(f"queries/{name}.rq: bad #+ front matter: {exc}") from None
    if not isinstance(meta, dict):
        raise QueryFileError(f"queries/{name}.rq: #+ front matter must be a YAML mapping")
    return meta


def read_query_file(path: Path, name: str) -> QueryFile:
    """Read one query file (``name`` is its path under ``queries/`` without ``.rq``)."""
    text = path.read_text(encoding="utf-8")
    return QueryFile(name=name, text=text, meta=parse_front_matter(text, name=name))


@cache
def all_queries() -> dict[str, QueryFile]:
    """Return every shipped query file by name (``checks/missing-label-violation`` ...)."""
    root = resource_dir("queries")
    return {
        str(p.relative_to(root).with_suffix("")): read_query_file(
            p, str(p.relative_to(root).with_suffix(""))
        )
        for p in sorted(root.rglob("*.rq"))
    }


def get_query(name: str) -> QueryFile:
    """Return the shipped query ``name`` (e.g. ``reports/summary-counts``).

    :raise QueryFileError: if there is no such file (a packaging bug).
    """
    try:
        return all_queries()[name]
    except KeyError:
        raise QueryFileError(f"no query file queries/{name}.rq in this installation") from None


def queries_of_kind(kind: str) -> list[QueryFile]:
    """Return the shipped queries under ``queries/{kind}/``, sorted by name."""
    return [q for n, q in sorted(all_queries().items()) if q.kind == kind]
