"""The committed notebooks read cleanly where nothing runs (GitHub, the book): no progress-bar spam, no
warnings, no widget placeholders that a saved page cannot render, and every explorer is a short note."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mnist_explore.explore._common import NOTE

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
MAX_OUTPUTS = 50
WIDGET = "application/vnd.jupyter.widget-view+json"


def code_cells(path: Path):
    for k, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] == "code":
            yield k, "".join(cell["source"]), cell.get("outputs", [])


def last_statement(source: str) -> str:
    """The first line of a cell's last top-level statement."""
    lines = [line for line in source.splitlines() if line.strip() and not line[0].isspace() and line[0] not in ")]"]
    return lines[-1] if lines else ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_clean(path):
    for k, source, outputs in code_cells(path):
        assert len(outputs) <= MAX_OUTPUTS, f"{path.name} cell {k} holds {len(outputs)} outputs"
        for output in outputs:
            text = "".join(output.get("text", ""))
            assert not (output.get("name") == "stderr" and ("Warning" in text or "\r" in text or "\x1b" in text)), \
                f"{path.name} cell {k} saved a warning or a progress bar on stderr: {text[:200]!r}"
            assert WIDGET not in output.get("data", {}), f"{path.name} cell {k} saved a widget placeholder"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_explorers_are_saved_as_a_note(path):
    """An explorer cell saves nothing a page cannot show: no output yet, or, executed in batch
    (MNIST_EXPLORE_INTERACTIVE=0), the note pointing to make lab."""
    cells = list(code_cells(path))
    if not any(outputs for _, _, outputs in cells):
        pytest.skip(f"{path.name} is saved without outputs")
    for k, source, outputs in cells:
        if last_statement(source).startswith("explore."):
            texts = ["".join(o.get("text", "")).strip() for o in outputs]
            assert texts in ([], [NOTE]), f"{path.name} cell {k} saved {texts!r}"  # unrun, or run in batch
