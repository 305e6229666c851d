import numpy as np
import pytest
import torch

from mitkit import constants as C


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def tone(midi, seconds=1.0, *, sr=C.SAMPLE_RATE, amplitude=0.5, harmonics=(1.0,)):
    """A steady harmonic tone at a MIDI pitch."""
    t = np.arange(int(seconds * sr)) / sr
    f = C.midi_to_hz(midi)
    y = sum(a * np.sin(2 * np.pi * f * (h + 1) * t) for h, a in enumerate(harmonics))
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
