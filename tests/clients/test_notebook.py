"""The researcher's notebook (``docs/examples/researcher.ipynb``) runs, so it cannot rot:
a real Jupyter kernel (nbclient + ipykernel) executes every cell against a live
``peerchange serve``, with SPARQLWrapper, pandas and a matplotlib plot. The notebook's own
cells assert what it claims (e.g. every theory → mechanism link is a curated inference).
About 15 s: slow."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "examples" / "researcher.ipynb"


@pytest.fixture(scope="module")
def executed(start_live_server, monkeypatch_module) -> nbformat.NotebookNode:
    server = start_live_server()
    monkeypatch_module.setenv("PEERCHANGE_ENDPOINT", server.sparql)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return nb


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def test_every_cell_runs_without_error(executed):
    assert not [o for o in _outputs(executed) if o.output_type == "error"]
    assert all(c.execution_count for c in executed.cells if c.cell_type == "code")


def test_it_answers_with_tables_and_a_plot(executed):
    data = [o.get("data", {}) for o in _outputs(executed)]
    assert sum("text/html" in d for d in data) >= 4  # the pandas tables
    assert any("image/png" in d for d in data)  # the plot


def test_the_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert not [c for c in nb.cells if c.cell_type == "code" and c.outputs]
