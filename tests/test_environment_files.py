"""The set-up files agree: scripts/setup.sh (pip into .venv/), environment.yml (conda), pyproject.toml."""
import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def _setup_pip_requirements():
    """Requirement strings that scripts/setup.sh passes to pip (its $PIP lines)."""
    reqs = []
    for line in (ROOT / "scripts" / "setup.sh").read_text().splitlines():
        if line.startswith("$PIP "):
            words = re.findall(r'"[^"]*"|\S+', line)[1:]
            reqs += [w.strip('"') for w in words if not w.startswith("-") and w != "constraints.txt"]
    return reqs


def _environment_pip_lines():
    text = (ROOT / "environment.yml").read_text()
    pip_block = text[text.index("- pip:"):]
    return [m.strip() for m in re.findall(r"^\s+- (.+)$", pip_block, flags=re.M)]


def test_environment_yml_installs_what_setup_installs():
    env = _environment_pip_lines()
    assert "-c constraints.txt" in env  # the same pins
    wanted = _setup_pip_requirements()
    assert "torch==2.13.0" in wanted and '.[dev]' in wanted
    for req in wanted:
        if req == ".[dev]":
            assert "-e .[dev]" in env
        elif req.startswith("basic-pitch"):  # --no-deps cannot be said in a requirements list
            assert f"pip install --no-deps {req}" in (ROOT / "environment.yml").read_text()
        else:
            assert req in env, req


def test_python_versions_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.10"
    assert "sys.version_info < (3, 10)" in (ROOT / "scripts" / "setup.sh").read_text()
    conda_python = re.search(r"- python=(\d+)\.(\d+)", (ROOT / "environment.yml").read_text())
    assert (int(conda_python[1]), int(conda_python[2])) >= (3, 10)


def test_constraints_pin_every_listed_dependency_once():
    pins = [line.split("==")[0].lower() for line in (ROOT / "constraints.txt").read_text().splitlines()
            if line and not line.startswith("#")]
    assert len(pins) == len(set(pins))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = [re.split(r"[<>=\[]", d)[0].lower().replace("_", "-") for d in project["dependencies"]]
    for name in ("numpy", "soundfile", "soxr", "scikit-learn", "pretty-midi", "plotly", "tqdm"):
        assert name in direct and name.replace("-", "_") in {p.replace("-", "_") for p in pins}, name


def test_package_version_matches_pyproject():
    from mitkit.version import __version__
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__


def test_ci_runs_every_command_the_readme_starts_with():
    """README's set-up commands (the main job, the test suite, the browser tests) are lines of .ci/run, byte
    for byte: CI runs what a new user is told to run, not a paraphrase of it."""
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^```bash\n(bash scripts/setup\.sh[^\n]*)\n```", readme, flags=re.M)
    assert len(commands) >= 3, commands  # the demo, the test suite, the browser tests
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert [c for c in commands if c not in ci_lines] == []
