"""Audio in: read a file or take an array, down-mix to mono, resample to 22,050 Hz.

Notebook: 05_transcribe_your_own_audio

Files are read with soundfile (WAV, FLAC, OGG/Vorbis, MP3 and whatever else libsndfile reads);
resampling uses soxr's high-quality mode.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from . import constants as C
from .errors import MitkitError

SILENCE_RMS = 1e-5  # below this (≈ −100 dBFS) a signal counts as silent


def load_audio(source, *, sr: int | None = None, target_sr: int = C.SAMPLE_RATE) -> np.ndarray:
    """Mono float32 waveform at ``target_sr`` from a path or an array.

    Parameters
    ----------
    source : str, os.PathLike, numpy array or torch tensor
        A path to an audio file, or samples shaped ``(N,)``, ``(N, channels)`` or ``(channels, N)``
        (the shorter axis is taken as channels).
    sr : int, keyword-only
        Sample rate of ``source`` when it is an array (required then); ignored for files.
    target_sr : int
        Output sample rate in Hz.

    Returns
    -------
    y : np.ndarray, float32, shape ``(N',)``

    Raises
    ------
    MitkitError
        Missing or unreadable file, missing ``sr`` for arrays, empty audio, NaN or infinite samples.

    Examples
    --------
    >>> import numpy as np, mitkit
    >>> y = mitkit.load_audio(np.zeros((2, 44100)) + 0.1, sr=44100)
    >>> y.shape
    (22050,)

    Notebook: 05_transcribe_your_own_audio
    """
    if isinstance(source, (str, os.PathLike)):
        y, sr = _read_file(Path(source))
        name = str(source)
    else:
        if sr is None:
            raise MitkitError("sr=None must be given as the sample rate (Hz) when audio is an array")
        y = source.detach().cpu().numpy() if hasattr(source, "detach") else np.asarray(source)
        name = "audio array"
        if not np.issubdtype(y.dtype, np.number):
            raise MitkitError(f"audio dtype={y.dtype} must be numeric")
        if y.ndim == 2 and y.shape[0] < y.shape[1]:
            y = y.T  # (channels, N) → (N, channels)
        elif y.ndim > 2:
            raise MitkitError(f"audio shape={y.shape} must be (N,) or (N, channels)")
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise MitkitError(f"sr={sr} must be a positive integer (Hz)")
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1)
    if y.size == 0:
        raise MitkitError(f"audio length=0 must be positive: {name} holds no samples")
    if not np.all(np.isfinite(y)):
        raise MitkitError(f"audio must be finite: {name} holds {int(np.sum(~np.isfinite(y)))} NaN or inf samples")
    if sr != target_sr:
        y = soxr.resample(y, sr, target_sr, quality="HQ").astype(np.float32)
    return y


def _read_file(path: Path):
    if not path.exists():
        raise MitkitError(f"audio path={str(path)!r} must exist: no such file")
    if path.is_dir():
        raise MitkitError(f"audio path={str(path)!r} must be a file, not a directory")
    try:
        y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise MitkitError(f"audio path={str(path)!r} must be a readable audio file: {err}") from None
    return y, int(sr)


def is_silent(y: np.ndarray) -> bool:
    """True when the waveform's RMS is below ``SILENCE_RMS``."""
    return y.size == 0 or float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) < SILENCE_RMS

