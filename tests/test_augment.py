"""Audio-level augmentation (mitkit.synth.augment): EQ, compression, a codec pass and noise keep the
length and the timing of a mix (so its labels), and are seeded."""
import numpy as np
import pytest

from mitkit.constants import HOP_LENGTH, SAMPLE_RATE
from mitkit.errors import MitkitError
from mitkit.synth import augment


def _bursts(levels=(0.8, 0.1, 0.8, 0.1), length_s=0.5):
    """Tone bursts (440 Hz) at the given peak levels, each ``length_s`` long after as much silence."""
    n = int(length_s * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    x = np.zeros(2 * n * len(levels), np.float32)
    for k, a in enumerate(levels):
        x[(2 * k + 1) * n:(2 * k + 2) * n] = a * np.sin(2 * np.pi * 440 * t) * np.minimum(1, t / 0.01)
    return x, n


def test_augmentation_keeps_shape_and_is_seeded():
    x = np.random.default_rng(0).standard_normal(5000).astype(np.float32) * 0.1
    kw = dict(eq_prob=1, compress_prob=1, codec_prob=1, noise_prob=1)
    a = augment.augment_mixture(x, np.random.default_rng(1), **kw)
    b = augment.augment_mixture(x, np.random.default_rng(1), **kw)
    assert a.shape == x.shape and a.dtype == np.float32 and np.array_equal(a, b) and not np.allclose(a, x)
    flat = augment.apply_eq(x, np.ones(2501, np.float32))
    np.testing.assert_allclose(flat, x, atol=1e-5)
    with pytest.raises(MitkitError, match="gains.shape"):
        augment.apply_eq(x, np.ones(10, np.float32))


@pytest.mark.parametrize("codec", sorted(augment.CODECS))
def test_codec_pass_keeps_length_and_timing(codec):
    x, n = _bursts()
    y = augment.codec_pass(x, codec, quality=0.8)
    assert y.shape == x.shape and y.dtype == np.float32
    assert 0 < np.mean((y - x) ** 2) < 0.05 * np.mean(x ** 2)  # lossy, but the same music
    lags = np.arange(-HOP_LENGTH, HOP_LENGTH + 1)
    corr = [float(np.dot(np.roll(y, -lag), x)) for lag in lags]
    assert abs(lags[int(np.argmax(corr))]) <= 2  # samples: no codec delay left


def test_compression_narrows_the_dynamics_and_keeps_onsets():
    x, n = _bursts()
    y = augment.compress(x, threshold_db=-30.0, ratio=3.0)
    before, after = (np.sqrt(np.mean(z[3 * n // 2:2 * n] ** 2)) / np.sqrt(np.mean(z[7 * n // 2:4 * n] ** 2))
                   for z in (x, y))
    # the bursts are 18 dB apart, both above the threshold: 3:1 leaves 6 dB
    assert 20 * np.log10(after) == pytest.approx(20 * np.log10(before) / 3, abs=1.5)
    for z in (x, y):
        assert np.max(np.abs(z[:n])) == 0  # nothing before the first burst
    first = [int(np.argmax(np.abs(z) > 0.05 * np.abs(z).max())) for z in (x, y)]
    assert abs(first[0] - first[1]) <= HOP_LENGTH // 4
    np.testing.assert_allclose(augment.compress(x, ratio=1.0), x, atol=1e-6)  # 1:1 changes nothing


def test_augmentation_errors():
    x = np.zeros(1000, np.float32)
    with pytest.raises(MitkitError, match="codec='flac' must be one of"):
        augment.codec_pass(x, "flac")
    with pytest.raises(MitkitError, match="quality"):
        augment.codec_pass(x, "mp3", quality=2.0)
    with pytest.raises(MitkitError, match="ratio"):
        augment.compress(x, ratio=0.5)
    assert np.array_equal(augment.compress(x), x)  # silence stays silence
