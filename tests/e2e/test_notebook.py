"""The notebook tutorial runs, top to bottom, in a fresh kernel, and shows what it promises:
audio players and tables inline, one answer per method."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "notebook.ipynb"


def test_the_notebook_tutorial_runs_and_shows_players_and_tables(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        "the stored notebook carries outputs: clear them before committing"
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = [output.get("data", {}).get("text/html", "")
             for cell in notebook.cells if cell.cell_type == "code"
             for output in cell.get("outputs", [])]
    explanations = [page for page in shown if "amcli-explanation" in page]
    assert len(explanations) == 4  # prosody, mask, input, latent
    assert all("<audio" in page and "<table>" in page for page in explanations)
    printed = "".join(output.get("text", "") for output in notebook.cells[-2].outputs)
    assert [line.split()[0] for line in printed.splitlines()] == ["prosody", "mask", "input",
                                                                   "latent"]
