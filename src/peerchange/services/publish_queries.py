"""The SPARQL templates of ``peerchange publish``: ``queries/internal/publish-*.rq`` (queries)
and ``publish-*.ru`` (SPARQL 1.1 Updates), rendered for a remote store.

:mod:`peerchange.core.queryfiles` loads ``.rq`` files only; the updates are read here with
the same front matter reader. A remote store cannot take pyoxigraph substitutions, so each
parameter stands in the file as the placeholder IRI ``<urn:peerchange:param:NAME>`` (the
file stays valid SPARQL) and is replaced by the N-Triples form of the IRI it is bound to,
checked by pyoxigraph. An update's ``#@data`` line is replaced by a batch of N-Triples.
"""

from __future__ import annotations

import re
from functools import cache

import pyoxigraph as ox

from peerchange.core.errors import QueryFileError
from peerchange.core.queryfiles import QueryFile, get_query, read_query_file
from peerchange.core.resources import resource_dir

PLACEHOLDER = re.compile(r"<urn:peerchange:param:([A-Za-z_][A-Za-z0-9_]*)>")
DATA_LINE = re.compile(r"(?m)^[ \t]*#@data[ \t]*$")


@cache
def update_file(name: str) -> QueryFile:
    """The shipped update ``queries/{name}.ru`` (``internal/publish-move`` ...).

    :raise QueryFileError: there is no such file (a packaging bug).
    """
    path = resource_dir("queries") / f"{name}.ru"
    if not path.is_file():
        raise QueryFileError(f"no update file queries/{name}.ru in this installation")
    return read_query_file(path, name)


def bind_iris(text: str, iris: dict[str, str], *, name: str) -> str:
    """``text`` with each ``<urn:peerchange:param:NAME>`` replaced by ``<iris[NAME]>``.

    :raise QueryFileError: a placeholder has no value, or a value is unused.
    :raise ValueError: a value is not an IRI.
    """
    terms = {key: str(ox.NamedNode(value)) for key, value in iris.items()}
    used: set[str] = set()

    def term(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in terms:
            raise QueryFileError(f"queries/{name}: no value for the parameter {key!r}")
        used.add(key)
        return terms[key]

    bound = PLACEHOLDER.sub(term, text)
    if set(terms) - used:
        raise QueryFileError(f"queries/{name}: no parameter {sorted(set(terms) - used)}")
    return bound


def render_query(name: str, iris: dict[str, str]) -> str:
    """The text of the shipped query ``internal/{name}`` with its IRIs bound."""
    query = get_query(f"internal/{name}")
    return bind_iris(query.text, iris, name=query.name)


def render_update(name: str, iris: dict[str, str], data: str | None = None) -> str:
    """The text of the shipped update ``internal/{name}`` with its IRIs bound and, for a
    template with a ``#@data`` line, ``data`` (N-Triples) in its place."""
    update = update_file(f"internal/{name}")
    text = bind_iris(update.text, iris, name=update.name)
    parts = DATA_LINE.split(text)
    if (data is not None) != (len(parts) == 2):
        raise QueryFileError(f"queries/{update.name}.ru: data goes where its #@data line is")
    return parts[0] + data + parts[1] if data is not None else text
