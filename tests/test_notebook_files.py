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


#: what nbstripout removes from our notebooks: only volatile metadata (execution timings and the like);
#: outputs, execution counts, cell ids and saved widget state stay (they are the course's content)
NBSTRIPOUT = ["--keep-output", "--keep-count", "--keep-id", "--keep-metadata-keys", "metadata.widgets"]


def test_notebooks_hold_no_volatile_metadata():
    """After executing a notebook (nbconvert records timings in every cell), strip it with
    ``.venv/bin/nbstripout --keep-output --keep-count --keep-id --keep-metadata-keys metadata.widgets
    notebooks/*.ipynb``; saving an unchanged notebook then changes nothing in git."""
    import subprocess
    import sys
    from pathlib import Path
    nbstripout = Path(sys.executable).with_name("nbstripout")
    notebooks = sorted(str(p) for p in (Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
    run = subprocess.run([str(nbstripout), "--verify", *NBSTRIPOUT, *notebooks], capture_output=True, text=True)
    assert run.returncode == 0, f"volatile metadata in {run.stdout or run.stderr}: strip it (docstring)"

