"""Golden regression: the bundled example's transcription must not change by accident.

tests/golden/example.json is written by ``python scripts/make_golden.py`` (the only way to make it; see
that script). Here everything is recomputed with the same function and compared: note frames, pitches,
velocities, tracks and K exactly; seconds, amplitudes and F1 scores to 1e-6. A deliberate change (a
retrained model, new thresholds, a fix in note creation) regenerates the file in the same commit.
"""
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = "if the change is deliberate, run `python scripts/make_golden.py` and commit tests/golden/example.json"


def _load_script():
    spec = importlib.util.spec_from_file_location("make_golden", ROOT / "scripts" / "make_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_golden = _load_script()


@pytest.fixture(scope="module")
def stored():
    return json.loads(make_golden.GOLDEN.read_text())


@pytest.fixture(scope="module")
def recomputed(stored):
    # the network precision the file was made at (make_golden --precision, fp32 unless asked otherwise)
    return make_golden.compute_golden(precision=stored["precision"])


def test_golden_file_is_current_for_the_bundled_model_and_example(stored):
    now = make_golden.provenance()
    assert stored["format"] == make_golden.FORMAT and stored["version"] == make_golden.VERSION
    assert stored["checkpoint_sha256"] == now["checkpoint_sha256"], f"the bundled checkpoint changed: {REGENERATE}"
    assert stored["example_sha256"] == now["example_sha256"], f"the bundled example changed: {REGENERATE}"
    assert set(stored["runs"]) == set(make_golden.RUNS)


def test_golden_file_is_what_the_script_writes(stored):
    """The stored text is exactly the script's serialisation (so it was not edited by hand)."""
    assert make_golden.GOLDEN.read_text() == make_golden.to_text(stored)


@pytest.mark.parametrize("run", sorted(make_golden.RUNS))
def test_transcription_matches_golden(stored, recomputed, run):
    want, got = stored["runs"][run], recomputed["runs"][run]
    # the integers first, for a readable failure
    assert got["instruments"] == want["instruments"], REGENERATE
    assert got["n_notes"] == want["n_notes"], REGENERATE
    assert got["track_sizes"] == want["track_sizes"], REGENERATE
    assert got["notes"] == want["notes"], REGENERATE
    diff = make_golden.differences(want, got, path=f"runs.{run}", tol=make_golden.FLOAT_TOL)
    assert not diff, "\n".join(diff[:30]) + "\n" + REGENERATE


def test_differences_helper():
    d = make_golden.differences
    assert d({"a": [1, 2.0]}, {"a": [1, 2.0 + 5e-7]}) == []
    assert d({"a": [1, 2.0]}, {"a": [1, 2.1]}) == [".a[1]: 2.1 != 2.0"]
    assert d({"a": 1}, {"a": 1.0}) == [".a: 1.0 != 1"]  # an int must stay an int
    assert d([1, 2], [1]) == [": length 1 != 2"]
    assert d({"a": 1}, {"b": 1}) == [".a: missing", ".b: unexpected"]
    assert d({"k": "auto"}, {"k": 4}) == [".k: 4 != 'auto'"]
