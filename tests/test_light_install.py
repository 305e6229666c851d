"""The light install: `pip install mitkit` without the torch extra transcribes on onnxruntime."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _package_source(dest: Path) -> Path:
    """What `pip install .` needs, copied out of the repository: pip builds in the source folder (build/,
    *.egg-info), which must stay the repository's own."""
    import shutil
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "mitkit", dest / "mitkit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def test_light_install_transcribes_the_example(tmp_path, onnx_track_sizes):
    source = _package_source(tmp_path / "source")
    venv = tmp_path / "light"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    pip = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          "-c", str(ROOT / "constraints.txt"), str(source)],
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-3000:]
    no_torch = subprocess.run([str(python), "-c", "import torch"], capture_output=True, text=True)
    assert no_torch.returncode != 0 and "No module named 'torch'" in no_torch.stderr
    example = ROOT / "mitkit" / "assets" / "example.flac"
    run = subprocess.run([str(venv / "bin" / "mitkit"), "transcribe", str(example), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    saved = json.loads((tmp_path / "out" / "example.json").read_text())
    # the same tracks as onnxruntime gives in this (full) environment
    assert [len(t["notes"]) for t in saved["tracks"]] == onnx_track_sizes and saved["instruments"] == 4
    assert saved["count"]["reading"] == "lines"
    # what needs PyTorch says so
    fit = subprocess.run([str(venv / "bin" / "mitkit"), "train", "--data", str(tmp_path), "--run", str(tmp_path / "r")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert fit.returncode == 2 and "needs torch, which this install lacks: pip install 'mitkit[torch]'" in fit.stderr
    train = subprocess.run([str(venv / "bin" / "mitkit"), "transcribe", str(example), "--backend", "torch",
                            "--out", str(tmp_path / "out2")], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert train.returncode != 0 and "backend='torch' needs PyTorch" in train.stderr
