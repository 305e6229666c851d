"""Audio-level augmentation of training mixtures: what a microphone, a recording chain and a lossy file do
to a recording. Applied on the fly by :class:`mitkit.training.mixtures.MixtureDataset`; nothing here moves
the audio in time, so the labels stay as they are.

Notebook: 02_training
"""
from __future__ import annotations

import io

import numpy as np

from mitkit.constants import SAMPLE_RATE
from mitkit.errors import MitkitError

#: Lossy codecs of :func:`codec_pass`: libsndfile (the ``soundfile`` package) encodes and decodes both,
#: sample-aligned with the input.
CODECS: dict[str, tuple[str, str]] = {"vorbis": ("OGG", "VORBIS"), "mp3": ("MP3", "MPEG_LAYER_III")}


def random_eq(n_samples: int, rng: np.random.Generator, *, max_db: float = 9.0,
              sr: int = SAMPLE_RATE) -> np.ndarray:
    """A smooth random EQ curve: low shelf, high shelf and one peak, as linear gains on the rfft bins.

    Returns float32 ``(n_samples // 2 + 1,)``; multiply an ``np.fft.rfft`` of length ``n_samples`` by it.
    Shelves and peak gains are drawn in ``±max_db`` dB; corner and centre frequencies log-uniformly.
    """
    f = np.fft.rfftfreq(n_samples, 1.0 / sr)
    lf = np.log2(np.maximum(f, 10.0))
    db = np.zeros_like(f)
    f_lo, f_hi, f_pk = (float(rng.uniform(np.log2(a), np.log2(b))) for a, b in
                        ((80, 400), (2000, 8000), (200, 5000)))
    db += rng.uniform(-max_db, max_db) / (1 + np.exp((lf - f_lo) * 4))  # low shelf
    db += rng.uniform(-max_db, max_db) / (1 + np.exp(-(lf - f_hi) * 4))  # high shelf
    db += rng.uniform(-max_db, max_db) * np.exp(-0.5 * ((lf - f_pk) / rng.uniform(0.3, 1.5)) ** 2)  # peak
    return (10.0 ** (db / 20)).astype(np.float32)


def apply_eq(x: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """Filter the last axis of ``x`` by an rfft gain curve of matching length (see :func:`random_eq`)."""
    n = x.shape[-1]
    if gains.shape[-1] != n // 2 + 1:
        raise MitkitError(f"gains.shape[-1]={gains.shape[-1]} must be n_samples // 2 + 1 = {n // 2 + 1}")
    return np.fft.irfft(np.fft.rfft(x, axis=-1) * gains, n=n, axis=-1).astype(np.float32)


def augment_mixture(mix: np.ndarray, rng: np.random.Generator, *, eq_prob: float = 0.5,
                    compress_prob: float = 0.3, codec_prob: float = 0.15, noise_prob: float = 0.5,
                    snr_db=(20.0, 50.0)) -> np.ndarray:
    """What a microphone, a recording chain and a listener's file do to a mix, each drawn on its own: a
    random EQ (probability ``eq_prob``), mild compression (``compress_prob``), a lossy codec
    (``codec_prob``), and white or pink noise at an SNR drawn from ``snr_db`` (``noise_prob``).

    ``mix`` is float32 ``(n_samples,)``; returns a new array of the same shape. Labels are unchanged: none
    of these moves the audio in time.
    """
    y = np.asarray(mix, np.float32)
    if rng.random() < eq_prob:
        y = apply_eq(y, random_eq(len(y), rng))
    if rng.random() < compress_prob:
        y = compress(y, threshold_db=float(rng.uniform(-24.0, -10.0)), ratio=float(rng.uniform(1.5, 4.0)))
    if rng.random() < codec_prob:
        y = codec_pass(y, str(rng.choice(list(CODECS))), quality=float(rng.uniform(0.2, 0.9)))
    if rng.random() < noise_prob:
        rms = float(np.sqrt(np.mean(y ** 2)))
        if rms > 0:
            noise = rng.standard_normal(len(y)).astype(np.float32)
            if rng.random() < 0.5:  # pink: 1/sqrt(f) amplitude
                f = np.fft.rfftfreq(len(y))
                noise = np.fft.irfft(np.fft.rfft(noise) / np.sqrt(np.maximum(f, 1.0 / len(y))), n=len(y))
                noise = noise.astype(np.float32)
            noise *= rms / max(float(np.sqrt(np.mean(noise ** 2))), 1e-12) / 10 ** (rng.uniform(*snr_db) / 20)
            y = y + noise
    return y


def compress(x: np.ndarray, *, threshold_db: float = -18.0, ratio: float = 2.0, time_s: float = 0.03,
             sr: int = SAMPLE_RATE) -> np.ndarray:
    """A feed-forward compressor: above ``threshold_db`` (relative to the loudest moment of ``x``), the level
    rises ``1 / ratio`` dB per dB. The level is the power envelope smoothed over ``time_s``, looked at in
    both directions (no lag: a gain change never trails the note that caused it). Same shape, float32.
    """
    from scipy.signal import filtfilt

    if not ratio >= 1.0:
        raise MitkitError(f"ratio={ratio} must be >= 1")
    y = np.asarray(x, np.float32)
    a = np.exp(-1.0 / (time_s * sr))
    env = np.sqrt(np.maximum(filtfilt([1.0 - a], [1.0, -a], y.astype(np.float64) ** 2), 0.0))
    peak = env.max()
    if peak <= 0:
        return y.copy()
    over_db = 20.0 * np.log10(np.maximum(env / peak, 1e-9)) - threshold_db
    gain_db = -np.maximum(over_db, 0.0) * (1.0 - 1.0 / ratio)
    return (y * 10.0 ** (gain_db / 20.0)).astype(np.float32)


def codec_pass(x: np.ndarray, codec: str = "vorbis", *, quality: float = 0.5, sr: int = SAMPLE_RATE) -> np.ndarray:
    """``x`` encoded with a lossy codec of :data:`CODECS` and decoded again (in memory), float32, same length.

    ``quality`` in [0, 1]: libsndfile's compression level, 0 = best quality, 1 = smallest file.
    """
    import soundfile as sf

    if codec not in CODECS:
        raise MitkitError(f"codec={codec!r} must be one of {sorted(CODECS)}")
    if not 0.0 <= quality <= 1.0:
        raise MitkitError(f"quality={quality} must be in [0, 1]")
    y = np.asarray(x, np.float32)
    fmt, subtype = CODECS[codec]
    buf = io.BytesIO()
    sf.write(buf, np.clip(y, -1.0, 1.0), sr, format=fmt, subtype=subtype, compression_level=quality)
    buf.seek(0)
    out, _ = sf.read(buf, dtype="float32")
    out = out[: len(y)]
    return np.pad(out, (0, len(y) - len(out))) if len(out) < len(y) else out
