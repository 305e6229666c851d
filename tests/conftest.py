import numpy as np
import pytest
import torch

from mitkit import constants as C
from mitkit.synth.tones import partials


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def tone(midi, seconds=1.0, *, sr=C.SAMPLE_RATE, amplitude=0.5, harmonics=(1.0,)):
    """A steady harmonic tone at a MIDI pitch."""
    t = np.arange(int(seconds * sr)) / sr
    y = partials(C.midi_to_hz(midi), t, harmonics, sr=sr)
    return (amplitude * y / max(1.0, sum(harmonics))).astype(np.float32)


@pytest.fixture
def random_checkpoint(tmp_path):
    """A checkpoint of an untrained model (seeded), for tests that need the pipeline but not accuracy."""
    from mitkit.checkpoint import save_checkpoint
    from mitkit.model import MitNet
    torch.manual_seed(0)
    model = MitNet()
    return save_checkpoint(tmp_path / "random.pt", {"model": model.state_dict(),
                                                    "model_config": model.config.to_dict(),
                                                    "thresholds": {"onset_threshold": 0.5, "frame_threshold": 0.5}})


@pytest.fixture
def example_benchmark(tmp_path):
    """The bundled example as a one-mix benchmark folder (index.json + audio), e.g. as 'validation' data."""
    import json
    import shutil

    import mitkit
    bench = tmp_path / "example-bench"
    (bench / "mixes").mkdir(parents=True)
    shutil.copy(mitkit.example_path(), bench / "mixes" / "ex.flac")
    parts = [{"name": p["name"], "program": p["program"], "notes": np.asarray(p["notes"]).tolist()}
             for p in mitkit.example_truth()["parts"]]
    (bench / "index.json").write_text(json.dumps({"format": "mitkit-benchmark", "version": 1, "mixes": [
        {"id": "ex", "audio": "mixes/ex.flac", "n_parts": 4, "instrumentation": "bach10", "parts": parts}]}))
    return bench


# ---- the bundled example, transcribed once per session --------------------------------------------

@pytest.fixture(scope="session")
def example_parts():
    """Ground-truth parts of the bundled example: a list of ``(N_k, 4)`` note arrays."""
    import mitkit
    return [p["notes"] for p in mitkit.example_truth()["parts"]]


@pytest.fixture(scope="session")
def example_k4():
    """``mitkit.transcribe(example, instruments=4)`` (read-only: shared by several test modules)."""
    import mitkit
    return mitkit.transcribe(mitkit.example_path(), instruments=4)


@pytest.fixture(scope="session")
def example_default():
    """``mitkit.transcribe(example)`` with every default (instruments="auto"; read-only, shared)."""
    import mitkit
    return mitkit.transcribe(mitkit.example_path())


# ---- no silent skips --------------------------------------------------------------------------------
# A missing soundfont, library or optional dependency must fail CI, not hide a module behind "s".
# A test that may legitimately skip says so with @pytest.mark.allow_skip("why"); MITKIT_ALLOW_SKIPS=1
# turns the guard off for a local run on a machine without, say, FluidSynth.

ALLOW_SKIPS_ENV = "MITKIT_ALLOW_SKIPS"
# pytest's own doctest runner skips an example block whose lines are all `# doctest: +SKIP` on purpose
_DOCTEST_ALL_SKIPPED = "all tests skipped by +SKIP option"


@pytest.fixture
def spectral_calls(monkeypatch):
    """The (K, random_state, temperature) of every call of mitkit.clustering._spectral_labels in the test,
    which still runs as usual: what the clustering entry points pass on."""
    from mitkit import clustering
    calls, real = [], clustering._spectral_labels

    def spy(E, K, random_state, temperature):
        calls.append((K, random_state, temperature))
        return real(E, K, random_state, temperature)

    monkeypatch.setattr(clustering, "_spectral_labels", spy)
    return calls


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _skip_allowed(item, reason: str) -> bool:
    import os
    return (os.environ.get(ALLOW_SKIPS_ENV) == "1" or _DOCTEST_ALL_SKIPPED in reason
            or (item is not None and item.get_closest_marker("allow_skip") is not None))


def _fail_unexpected_skip(report, item) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report)
        if not _skip_allowed(item, reason):
            report.outcome = "failed"
            report.longrepr = (f"unexpected skip ({reason}): mitkit's CI must run every test. Install what is "
                               f"missing (bash scripts/setup.sh), mark the test @pytest.mark.allow_skip('why'), "
                               f"or set {ALLOW_SKIPS_ENV}=1 for a local run")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_unexpected_skip(outcome.get_result(), item)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A module skipped while it is collected (``pytest.importorskip``, ``pytest.skip(allow_module_level=True)``)."""
    outcome = yield
    _fail_unexpected_skip(outcome.get_result(), None)


@pytest.fixture(scope="session")
def onnx_track_sizes():
    """Notes per track of ``mitkit.transcribe(example, backend="onnx")`` with every other default: what an install
    without PyTorch must write."""
    import mitkit
    return [len(tr.notes) for tr in mitkit.transcribe(mitkit.example_path(), backend="onnx").tracks]
