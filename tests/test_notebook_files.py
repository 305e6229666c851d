"""The notebooks as files: exercise solutions collapsed, links that point at files that exist."""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercise_solutions_are_collapsed(path):
    cells = json.loads(path.read_text())["cells"]
    solutions, answers, in_exercises = [], [], False
    for i, c in enumerate(cells):
        source = "".join(c["source"])
        if c["cell_type"] == "markdown" and source.startswith("## "):
            in_exercises = source.startswith("## Exercises")
        elif c["cell_type"] == "code" and "# Your answers" in source:
            answers.append(source)
        elif c["cell_type"] == "code" and (in_exercises or (i > 4 and "from solutions" in source)):
            solutions.append(c)
    assert solutions, "every notebook ends with exercises whose solutions run in a collapsed cell"
    assert all(c["metadata"].get("jupyter", {}).get("source_hidden") for c in solutions)
    # beside them, a cell for the student's own answer, checked by a check_… helper of the solutions module
    assert len(answers) == 1 and re.search(r"exercises\.check_\w+\(my_\w+\)", answers[0])
    assert not any(c["metadata"].get("jupyter", {}).get("source_hidden") for c in cells
                   if "# Your answers" in "".join(c["source"]))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_relative_links_point_at_files(path):
    text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
    links = re.findall(r"\]\(((?:\.\./|solutions/)[^)#\s]+)", text)
    assert links, "the notebooks link the code they teach"
    missing = sorted({link for link in links if not (path.parent / link).exists()})
    assert not missing, f"links to files that do not exist: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_links_to_code_land_on_the_function(path):
    """``[`create_notes`](../docs/api/mitkit.note_creation.md#create_notes)``: every link to mitkit's code goes
    to the API reference page of its module, at the heading of the name in the link text (JupyterLab opens
    the page scrolled there; a link to the .py file would open it at the top)."""
    text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
    assert not re.findall(r"\]\(\.\./mitkit/[^)]*\)", text), "link to the API reference instead of the .py file"
    links = re.findall(r"\[`([^`]+)`\]\(\.\./docs/api/([^)#\s]+)(?:#([^)\s]+))?\)", text)
    assert links
    wrong = []
    for label, page, anchor in links:
        lines = (path.parent / "../docs/api" / page).read_text().splitlines()
        headings = {line.lstrip("#").strip() for line in lines if line.startswith(("## ", "### "))}
        name = re.sub(r"\(.*$", "", label)
        if anchor:
            ok = anchor in headings and name.endswith(anchor.split(".")[-1])
        else:  # a module: its page
            ok = page == ("" if name.startswith("mitkit") else "mitkit.") + name + ".md"
        if not ok:
            wrong.append(f"{label} -> {page}#{anchor}")
    assert not wrong, wrong


def test_api_reference_is_current():
    """docs/api/*.md are what ``python scripts/build_api_docs.py`` writes from today's docstrings: after changing a
    public signature or docstring, run it and commit docs/api."""
    import importlib.util
    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("build_api_docs", root / "scripts" / "build_api_docs.py")
    build_api_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_api_docs)
    pages = build_api_docs.build()
    committed = {f.name: f.read_text() for f in (root / "docs" / "api").glob("*.md")}
    assert sorted(committed) == sorted(pages), "run `python scripts/build_api_docs.py` (pages added or removed)"
    stale = sorted(name for name, text in pages.items() if committed[name] != text)
    assert not stale, f"run `python scripts/build_api_docs.py`: {stale} are out of date"


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
