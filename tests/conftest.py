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
