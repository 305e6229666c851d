"""Audio in: read a file or take an array, down-mix to mono, resample to 22,050 Hz.

Notebook: 05_transcribe_your_own_audio

Files are read with soundfile (WAV, FLAC, OGG/Vorbis, MP3 and whatever else libsndfile reads);
resampling uses soxr's high-quality mode.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from mitkit import constants as C
from mitkit.errors import MitkitError, warn

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
        Missing, unreadable or non-regular file (a FIFO), ``sr`` missing or outside 1000..768000 Hz for
        arrays, arrays that are not real numbers of 1 or 2 dimensions, empty audio, NaN or infinite samples.

    Warns
    -----
    UserWarning
        When the audio peaks beyond full scale (it is scaled to peak 1), or a WAV file is truncated.

    Integer arrays are PCM: int16 is divided by 32,768 (int32 by 2**31, uint8 centred on 128).

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
        y = _as_array(source)
        name = "audio array"
        if y.ndim == 2 and y.shape[0] < y.shape[1]:
            y = y.T  # (channels, N) → (N, channels)
    _check_rate(sr)
    if y.size == 0:
        raise MitkitError(f"audio length=0 must be positive: {name} holds no samples")
    y = _to_float(y, name)
    if y.ndim == 2:
        y = y.mean(axis=1)
    if not np.all(np.isfinite(y)):
        raise MitkitError(f"audio must be finite: {name} holds {int(np.sum(~np.isfinite(y)))} NaN or inf samples")
    peak = float(np.max(np.abs(y)))
    if peak > 1.0:
        warn(f"{name} peaks at {peak:.3g}, beyond full scale (1.0): scaled down to peak 1.0")
        y = y / np.float32(peak)
    if sr != target_sr:
        n_in = len(y)
        y = soxr.resample(y, sr, target_sr, quality="HQ").astype(np.float32)
        if y.size == 0:
            raise MitkitError(f"audio length={n_in} samples at {sr} Hz must last at least one sample at "
                              f"{target_sr} Hz: {name} is too short")
        ringing = float(np.max(np.abs(y)))
        if ringing > 1.0:  # resampling overshoots near full scale (a full-scale click: +6 %): keep peak <= 1
            y /= np.float32(ringing)
    return y


MIN_RATE, MAX_RATE = 1000, 768000  # Hz; sample rates accepted for arrays and files


def _check_rate(sr) -> None:
    if isinstance(sr, (bool, np.bool_)) or not isinstance(sr, (int, np.integer)) or not MIN_RATE <= sr <= MAX_RATE:
        raise MitkitError(f"sr={sr!r} must be an integer sample rate in {MIN_RATE}..{MAX_RATE} Hz")


def _as_array(source) -> np.ndarray:
    """Samples of an array-like as a NumPy array of 1 or 2 dimensions, real and numeric."""
    if hasattr(source, "detach"):  # a torch tensor: bfloat16/float16 have no NumPy twin, go via float32
        t = source.detach().cpu()
        y = (t.float() if str(t.dtype) in ("torch.bfloat16", "torch.float16") else t).numpy()
    else:
        try:
            y = np.asarray(source)
        except ValueError as err:  # ragged nested lists
            raise MitkitError(f"audio must be a numeric array (N,) or (N, channels): {err}") from None
    if np.iscomplexobj(y):
        raise MitkitError(f"audio dtype={y.dtype} must be real: complex samples are not audio")
    if not np.issubdtype(y.dtype, np.number):  # also refuses bool and object (e.g. strings)
        raise MitkitError(f"audio dtype={y.dtype} must be numeric")
    if y.ndim not in (1, 2):
        raise MitkitError(f"audio shape={y.shape} must be (N,) or (N, channels)")
    return y


def _to_float(y: np.ndarray, name: str) -> np.ndarray:
    """float32 samples; integer PCM is scaled to [-1, 1) by its type's full scale (int16 / 32768, ...)."""
    if np.issubdtype(y.dtype, np.unsignedinteger):  # unsigned PCM (8-bit WAV) is centred on half scale
        half = float(np.iinfo(y.dtype).max // 2 + 1)
        return ((y.astype(np.float64) - half) / half).astype(np.float32)
    if np.issubdtype(y.dtype, np.integer):
        return (y.astype(np.float64) / float(-np.iinfo(y.dtype).min)).astype(np.float32)
    return np.asarray(y, dtype=np.float32)


def _read_file(path: Path):
    if not path.exists():
        raise MitkitError(f"audio path={str(path)!r} must exist: no such file")
    if path.is_dir():
        raise MitkitError(f"audio path={str(path)!r} must be a file, not a directory")
    if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or device would block or never end
        raise MitkitError(f"audio path={str(path)!r} must be a regular file (it is a FIFO, socket or device)")
    try:
        y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise MitkitError(f"audio path={str(path)!r} must be a readable audio file: {err}") from None
    _warn_if_truncated(path, len(y), int(sr))
    return y, int(sr)


def _warn_if_truncated(path: Path, n_read: int, sr: int) -> None:
    """A WAV file whose header promises more samples than the file holds (an interrupted copy or
    recording): libsndfile decodes what is there without a word; say so."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return
    fmt, data = head.find(b"fmt "), head.find(b"data")
    if fmt < 0 or data < 0:
        return
    channels = int.from_bytes(head[fmt + 10:fmt + 12], "little")
    bits = int.from_bytes(head[fmt + 22:fmt + 24], "little")
    declared = int.from_bytes(head[data + 4:data + 8], "little")
    frame_bytes = max(channels * bits // 8, 1)
    expected = declared // frame_bytes
    if declared != 0xFFFFFFFF and expected > n_read:
        warn(f"audio path={str(path)!r} is truncated: its header declares {expected / sr:.2f} s, "
                      f"the file holds {n_read / sr:.2f} s; transcribing what is there")


def is_silent(y: np.ndarray) -> bool:
    """True when the waveform's RMS is below ``SILENCE_RMS``."""
    return y.size == 0 or float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) < SILENCE_RMS

