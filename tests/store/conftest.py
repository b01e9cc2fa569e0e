"""Helpers for the store folder tests: a store built in a temporary folder, its layout,
and ways to damage it on purpose."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from peerchange.core.store_folder import BUILD_PREFIX, MARKER, STORE_PREFIX


def pointer(folder: Path) -> dict:
    """The folder's record of its current store (``peerchange-store.json``)."""
    return json.loads((folder / MARKER).read_text(encoding="utf-8"))


def current(folder: Path) -> Path:
    """The current store folder (``DIR/store-*``) the record names."""
    return folder / pointer(folder)["folder"]


def stores(folder: Path) -> list[str]:
    """The names of the store folders in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(STORE_PREFIX))


def builds(folder: Path) -> list[str]:
    """The names of unfinished build folders in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(BUILD_PREFIX))


class Lines(list):
    """A progress callback that keeps the lines (``lines(text)`` appends)."""

    def __call__(self, line: str) -> None:
        self.append(line)

    def text(self) -> str:
        return "\n".join(self)


@pytest.fixture
def lines() -> Lines:
    return Lines()


Load = Callable[..., object]


@pytest.fixture
def load(tmp_path: Path) -> Load:
    """``load(extra=(), progress=None, folder=tmp_path/"store")``: the graph, loaded with an
    on-disk store the way the server loads it."""
    from peerchange.core.knowledge_graph import load_graph

    def run(extra=(), progress=None, folder: Path | None = None):
        return load_graph(extra, store_path=str(folder or tmp_path / "store"),
                          progress=progress if progress is not None else (lambda _: None))

    return run


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store folder of the shipped graph, built once per session (copy it, never use it)."""
    from peerchange.core.knowledge_graph import load_graph

    folder = tmp_path_factory.mktemp("template") / "store"
    graph = load_graph(store_path=str(folder))
    graph.release()
    return folder


@pytest.fixture
def built(template_store: Path, tmp_path: Path) -> Path:
    """``tmp_path/"store"``: a copy of :func:`template_store` (file times kept, so it is
    reused as it is)."""
    folder = tmp_path / "store"
    shutil.copytree(template_store, folder)
    return folder
