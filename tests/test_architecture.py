"""The package's architecture rules (ARCHITECTURE.md), checked with the tools that own them.

- ``lint-imports`` (import-linter): the layers and the forbidden imports in pyproject.toml.
- grimp (import-linter's graph): no import cycle at all, counting imports inside functions.
- ``ruff check``: lint and import order of the package, tests, scripts and notebook solutions.
- ``import mitkit`` and ``mitkit --help`` load neither torch nor plotly; no module over ~500 lines.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 520  # "no module over ~500 lines" (ARCHITECTURE.md)


def _tool(name: str) -> str:
    path = Path(sys.executable).with_name(name)  # the environment's own copy, beside its python
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is not installed (it comes with the dev extra: scripts/setup.sh)"
    return found


def test_import_contracts_hold():
    run = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def test_ruff_finds_nothing():
    run = subprocess.run([_tool("ruff"), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Components of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(edges.get(w, ()))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = set()
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.add(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(comp)
    return out


def test_strongly_connected_finds_a_planted_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(edges) == [{"a", "b", "c"}]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_even_inside_functions():
    graph = grimp.build_graph("mitkit", cache_dir=None)  # every import statement, at any depth
    edges = {m: set(graph.find_modules_directly_imported_by(m)) - {m} for m in graph.modules}
    edges = {m: {w for w in ws if w != "mitkit"} for m, ws in edges.items()}  # the root only re-exports lazily
    assert strongly_connected(edges) == []


def test_no_module_is_too_long():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "mitkit").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them along the data flow): {long}"


@pytest.mark.parametrize("code", [
    "import mitkit",
    "import mitkit.cli; mitkit.cli.build_parser().format_help()",
])
def test_a_light_start(code):
    check = f"{code}; import sys; heavy = [m for m in ('torch', 'plotly') if m in sys.modules]; print(heavy)"
    run = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", f"{code!r} imported {run.stdout.strip()}"


def test_public_api_loads_on_first_use():
    import mitkit
    assert callable(mitkit.transcribe) and mitkit.Transcription.__name__ == "Transcription"
    assert set(mitkit.__all__) <= set(dir(mitkit))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        mitkit.nothing_here


def _resolves(ref: str) -> bool:
    import importlib
    parts = ref.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            if isinstance(obj, type) and name not in dir(obj):
                return True  # an instance attribute (e.g. Trainer.history): not checkable here
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


def test_dotted_names_in_docs_and_docstrings_exist():
    """``mitkit.x.y`` in a docstring, the README, ARCHITECTURE.md or the model card names something that
    exists (a move that leaves a stale reference behind fails here)."""
    import re
    files = [*(ROOT / "mitkit").rglob("*.py"), ROOT / "README.md", ROOT / "ARCHITECTURE.md",
             ROOT / "mitkit" / "weights" / "README.md", *(ROOT / "notebooks" / "solutions").glob("*.py")]
    stale = sorted({(str(p.relative_to(ROOT)), ref) for p in files
                    for ref in re.findall(r"\bmitkit(?:\.[A-Za-z_]\w*)+", p.read_text())
                    if not ref.split(".")[-1].startswith("x_")  # mutmut's names for mutated functions
                    and not _resolves(ref)})
    assert not stale, stale


def test_scripts_import_what_exists():
    """The scripts/ (not run by the suite) import names that exist in the package."""
    import ast
    import importlib
    missing = []
    for path in sorted((ROOT / "scripts").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mitkit"):
                module = importlib.import_module(node.module)
                missing += [f"{path.name}: {node.module}.{a.name}" for a in node.names if not hasattr(module, a.name)
                            and importlib.util.find_spec(f"{node.module}.{a.name}") is None]
    assert not missing, missing


def test_readme_and_architecture_name_every_module():
    """README's module table names every top-level module, ARCHITECTURE.md every module (sub-packages as
    ``synth.render`` …), so the maps keep up with the tree."""
    readme, arch = (ROOT / "README.md").read_text(), (ROOT / "ARCHITECTURE.md").read_text()
    top = [p.stem for p in (ROOT / "mitkit").glob("*.py") if p.stem != "__init__"]
    nested = [f"{p.parent.name}.{p.stem}" for p in (ROOT / "mitkit").glob("*/*.py") if p.stem != "__init__"]
    assert not [m for m in top if f"`{m}`" not in readme], "modules missing from README's table"
    assert not [m for m in top + nested if f"`{m}`" not in arch], "modules missing from ARCHITECTURE.md"
