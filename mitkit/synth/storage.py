"""How rendered stems are stored: stem loudness, audio files and JSON written atomically.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mitkit.constants import AUDIO_FORMATS, SAMPLE_RATE
from mitkit.files import write_json

STEM_RMS = 0.05  # loudness target of a stem's active part (linear RMS) before its random gain


STEM_GAIN_DB = (-6.0, 3.0)  # random per-stem gain range in dB




def stem_gain(x: np.ndarray, rng) -> float:
    """Gain that brings the loud half of a stem to ``STEM_RMS`` times a random gain, peak-limited to 0.99."""
    win = 2048
    n = len(x) // win
    if n == 0 or not np.any(x):
        return 1.0
    e = np.sort(np.mean(x[: n * win].reshape(n, win) ** 2, axis=1))[n // 2:]
    rms = float(np.sqrt(np.mean(e)))
    if rms <= 1e-9:
        return 1.0
    g = STEM_RMS * 10 ** (rng.uniform(*STEM_GAIN_DB) / 20) / rms if rng is not None else STEM_RMS / rms
    return float(min(g, 0.99 / float(np.max(np.abs(x)))))


def write_json_atomically(path: Path, obj) -> None:
    """Dataset bookkeeping (manifest, piece records): compact JSON, replaced atomically."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_json(path, obj, overwrite=True, indent=None)


def write_audio(path: Path, x: np.ndarray, audio_format: str) -> None:
    import soundfile as sf

    fmt, subtype = AUDIO_FORMATS[audio_format]
    tmp = path.with_name(".tmp-" + path.name)
    x = np.clip(x, -1.0, 1.0)
    # written in blocks: libsndfile's Vorbis encoder crashed on single writes of long stems (≈ 2 M samples)
    with sf.SoundFile(str(tmp), "w", SAMPLE_RATE, 1, format=fmt, subtype=subtype) as f:
        for i in range(0, len(x), 1 << 15):
            f.write(x[i:i + (1 << 15)])
    os.replace(tmp, path)


def notes_to_json(notes: np.ndarray) -> list:
    return [[round(float(a), 5), round(float(b), 5), int(p), int(v)] for a, b, p, v in notes]
