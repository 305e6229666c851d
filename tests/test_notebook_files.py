"""The notebooks as files: exercise solutions collapsed, links that point at files that exist."""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercise_solutions_are_collapsed(path):
    cells = json.loads(path.read_text())["cells"]
    solutions, in_exercises = [], False
    for i, c in enumerate(cells):
        source = "".join(c["source"])
        if c["cell_type"] == "markdown" and source.startswith("## "):
            in_exercises = source.startswith("## Exercises")
        elif c["cell_type"] == "code" and (in_exercises or (i > 4 and "from solutions" in source)):
            solutions.append(c)
    assert solutions, "every notebook ends with exercises whose solutions run in a collapsed cell"
    assert all(c["metadata"].get("jupyter", {}).get("source_hidden") for c in solutions)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_relative_links_point_at_files(path):
    text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
    links = re.findall(r"\]\(((?:\.\./|solutions/)[^)#\s]+)", text)
    assert links, "the notebooks link the code they teach"
    missing = sorted({link for link in links if not (path.parent / link).exists()})
    assert not missing, f"links to files that do not exist: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_linked_names_are_defined_in_the_linked_file(path):
    """``[`create_notes`](../mitkit/note_creation.py)``: the first name in the link text is a function,
    class or constant of that file (a link left behind by a move points at the wrong file)."""
    text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
    stale = []
    for label, target in re.findall(r"\[`([^`]+)`[^\]]*\]\((\.\./mitkit/[^)#\s]+\.py)", text):
        name = re.sub(r"\(.*$", "", label).split(".")[-1]
        if target.endswith(label.replace(".", "/") + ".py"):
            continue  # a link to a module by its name
        source = (path.parent / target).read_text()
        if name != "transcribe" and not re.search(rf"^\s*(def|class) {name}\b|^{name}\b.*=", source, re.M):
            stale.append(f"{label} -> {target}")
    assert not stale, stale


def test_notebooks_are_committed_clean():
    """Notebooks are committed as ``scripts/clean_notebook.py`` leaves them (outputs kept, nothing volatile):
    after executing one, run ``.venv/bin/python scripts/clean_notebook.py notebooks/*.ipynb``."""
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, str(root / "scripts" / "clean_notebook.py"), "--check",
                          *map(str, NOTEBOOKS)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_cleaning_undoes_what_jupyterlab_adds_on_saving():
    """What JupyterLab writes when an unedited notebook is saved (measured with JupyterLab 4.6 and
    jupyterlab-plotly): a PNG beside each figure, whole floats as ints, the kernel's Python version, an empty
    widget state. The clean form of that file is the committed one."""
    import copy
    import importlib.util

    import nbformat
    spec = importlib.util.spec_from_file_location("clean_notebook", NOTEBOOKS[0].parents[1] / "scripts" / "clean_notebook.py")
    cleaner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cleaner)
    committed = nbformat.read(NOTEBOOKS[0], as_version=4)
    saved = copy.deepcopy(committed)
    saved.metadata["language_info"]["version"] = "3.99.0"
    saved.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2,
                                                                                "version_minor": 0}}
    figures = 0
    for cell in saved.cells:
        for out in cell.get("outputs", []):
            if cleaner.PLOTLY in out.get("data", {}):
                out["data"]["image/png"] = "iVBORw0KGgo="
                figures += 1
    assert figures
    saved.cells[0].metadata["scale"] = 2.0  # a float the browser writes as 2
    expected = copy.deepcopy(committed)
    expected.cells[0].metadata["scale"] = 2
    assert cleaner._text(cleaner.clean(saved)) == cleaner._text(expected)  # text: 2 == 2.0 for Python
    assert cleaner._text(cleaner.clean(committed)) == NOTEBOOKS[0].read_text()
