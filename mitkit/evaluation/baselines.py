"""Baselines that mitkit is compared with, each behind the :class:`mitkit.evaluation.benchmarks.System` interface.

Notebook: 03_embeddings_and_clustering

Transcription
    :class:`BasicPitch` / :func:`basic_pitch_transcribe`: Spotify's basic-pitch 0.4.0, instrument-agnostic
    (one track with every note), run through its bundled ONNX model with onnxruntime. basic-pitch is an
    optional dependency, imported only when first used::

        pip install --no-deps basic-pitch==0.4.0
        pip install librosa==0.11.0 resampy==0.4.2 onnxruntime "setuptools>=77.0.3,<82"

    (its normal install pulls TensorFlow, which mitkit neither needs nor wants.)

Separation (notes in, K tracks out)
    :func:`pitch_order_tracks`: at each note's onset, rank it among the notes sounding then; the
    highest goes to track 0, the next to track 1, … (strong on SATB chorales, whose voices rarely cross).
    :func:`random_tracks`: each note to a uniformly random track (the floor).
    :class:`SeparatedSystem` chains a transcription system and one of these into a separating system.
    Frame-level clustering lives in :mod:`mitkit.clustering`.

Examples
--------
>>> import numpy as np
>>> from mitkit.evaluation.baselines import pitch_order_tracks
>>> chord = np.array([[0.0, 1.0, 60, 90], [0.0, 1.0, 72, 90], [0.0, 1.0, 67, 90]])
>>> [t[:, 2].tolist() for t in pitch_order_tracks(chord, 3)]
[[72.0], [67.0], [60.0]]
"""
from __future__ import annotations

import contextlib
import functools
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from mitkit.errors import MitkitError, warn
from mitkit.evaluation.benchmarks import System
from mitkit.evaluation.metrics import ONSET_TOLERANCE
from mitkit.notes import as_note_array, merge_tracks

logger = logging.getLogger(__name__)

__all__ = [
    "basic_pitch_model_path",
    "basic_pitch_transcribe",
    "BasicPitch",
    "pitch_order_tracks",
    "random_tracks",
    "SeparatedSystem",
]

BASIC_PITCH_INSTALL_HINT = (
    'pip install --no-deps basic-pitch==0.4.0 && pip install librosa==0.11.0 resampy==0.4.2 onnxruntime '
    '"setuptools>=77.0.3,<82"'
)
BASIC_PITCH_N_OVERLAP_FRAMES = 30  # frames of overlap between model windows, as in basic_pitch.inference
BASIC_PITCH_BATCH = 8  # windows per onnxruntime call; bounds memory on long files


# ---- basic-pitch ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_basic_pitch_import() -> Iterator[None]:
    """Import basic-pitch without its import-time chatter.

    ``basic_pitch/__init__.py`` calls ``logging.warning`` for each absent backend (TensorFlow, CoreML,
    TFLite); on a root logger without handlers that also runs ``logging.basicConfig`` and so changes the
    user's logging setup. resampy warns that ``pkg_resources`` is deprecated. Both are silenced here.
    """
    root = logging.getLogger()
    guard = logging.NullHandler()  # makes basicConfig a no-op while importing
    added = not root.handlers
    if added:
        root.addHandler(guard)

    def drop_backend_notices(record: logging.LogRecord) -> bool:
        return "is not installed" not in str(record.msg)

    root.addFilter(drop_backend_notices)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*pkg_resources.*")
            yield
    finally:
        root.removeFilter(drop_backend_notices)
        if added:
            root.removeHandler(guard)


def _import_basic_pitch() -> tuple[Any, Any, Any]:
    """Return the modules ``basic_pitch``, ``basic_pitch.inference``, ``basic_pitch.note_creation``."""
    try:
        with _quiet_basic_pitch_import():
            import basic_pitch
            from basic_pitch import inference, note_creation
    except ImportError as exc:
        raise MitkitError(
            f"basic-pitch baseline needs basic-pitch 0.4.0 with onnxruntime ({exc}); install it with: "
            f"{BASIC_PITCH_INSTALL_HINT}"
        ) from None
    return basic_pitch, inference, note_creation


def basic_pitch_model_path() -> Path:
    """Path of the ONNX model bundled with basic-pitch (``saved_models/icassp_2022/nmp.onnx``).

    ``basic_pitch.ICASSP_2022_MODEL_PATH`` points at whichever backend is installed (a TensorFlow
    saved model when TensorFlow is present); mitkit always uses the ONNX file explicitly.
    """
    basic_pitch, _, _ = _import_basic_pitch()
    path = Path(basic_pitch.__file__).parent / "saved_models" / "icassp_2022" / "nmp.onnx"
    if not path.is_file():
        raise MitkitError(f"basic-pitch ONNX model {path} is missing; reinstall with: {BASIC_PITCH_INSTALL_HINT}")
    return path


@functools.lru_cache(maxsize=2)
def _basic_pitch_model(path: str) -> Any:
    _, inference, _ = _import_basic_pitch()
    try:
        import onnxruntime  # noqa: F401  (basic-pitch only tries ONNX when this imports)
    except ImportError:
        raise MitkitError(f"basic-pitch baseline needs onnxruntime; install it with: {BASIC_PITCH_INSTALL_HINT}") from None
    model = inference.Model(path)
    if model.model_type != inference.Model.MODEL_TYPES.ONNX:
        raise MitkitError(f"basic-pitch model {path} loaded as {model.model_type}, must load with onnxruntime")
    return model


def _load_audio_for_basic_pitch(audio: Any, sr: int | None, target_sr: int) -> np.ndarray:
    """Mono float32 waveform at ``target_sr`` Hz, resampled as ``basic_pitch.inference`` does (librosa)."""
    import librosa

    if isinstance(audio, (str, Path)):
        if not Path(audio).is_file():
            raise MitkitError(f"audio={str(audio)!r} must be an existing audio file")
        with warnings.catch_warnings():  # audioread, imported lazily by librosa, warns on Python 3.11+
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="audioread")
            y, _ = librosa.load(str(audio), sr=target_sr, mono=True)
        return y.astype(np.float32)
    y = np.asarray(audio, dtype=np.float32)
    if sr is None:
        raise MitkitError("sr=None must be the sample rate in Hz when audio is an array")
    if not (isinstance(sr, (int, np.integer)) and sr > 0):
        raise MitkitError(f"sr={sr!r} must be a positive int (Hz)")
    if y.ndim == 2:
        y = y.mean(axis=0)  # (C, S) -> (S,)
    if y.ndim != 1:
        raise MitkitError(f"audio shape={y.shape} must be (S,) or (channels, S)")
    if not np.all(np.isfinite(y)):
        raise MitkitError("audio must be finite (no NaN or inf)")
    if sr != target_sr:
        y = librosa.resample(y, orig_sr=int(sr), target_sr=target_sr)  # soxr_hq, as librosa.load
    return y.astype(np.float32)


def basic_pitch_transcribe(
    audio: Any,
    *,
    sr: int | None = None,
    onset_threshold: float = 0.5,
    frame_threshold: float = 0.3,
    minimum_note_length: float = 127.70,
    minimum_frequency: float | None = None,
    maximum_frequency: float | None = None,
    melodia_trick: bool = True,
) -> np.ndarray:
    """Transcribe audio with basic-pitch 0.4.0 (ONNX), all instruments in one note array.

    Reproduces ``basic_pitch.inference.predict`` (same windows, overlap, unwrapping and note creation,
    same defaults) without its prints and for arrays as well as files.

    Parameters
    ----------
    audio : str, Path or np.ndarray
        Audio file, or waveform ``(S,)`` or ``(channels, S)`` at ``sr`` Hz.
    sr : int or None
        Sample rate of an array ``audio`` in Hz; ignored for files.
    onset_threshold, frame_threshold : float
        basic-pitch's thresholds on its onset and note posteriorgrams, in [0, 1].
    minimum_note_length : float
        Shortest note in milliseconds (basic-pitch's unit and default).
    minimum_frequency, maximum_frequency : float or None
        Pitch range in Hz; ``None`` keeps basic-pitch's full range (MIDI 21–108).
    melodia_trick : bool
        basic-pitch's "melodia" second pass.

    Returns
    -------
    np.ndarray, float64, shape (N, 4)
        ``onset_s, offset_s, midi_pitch, velocity`` sorted by (onset, pitch); velocity
        ``round(127 * amplitude)`` as in basic-pitch's MIDI output, at least 1.

    Warns
    -----
    UserWarning
        When no note is found (silence); the array is then empty.

    Notes
    -----
    The first call in a fresh install compiles librosa's numba code (≈18 s); later calls take about
    0.1–0.3 s per 10 s of audio on 2 CPU cores.
    """
    for key, value in (("onset_threshold", onset_threshold), ("frame_threshold", frame_threshold)):
        if not 0.0 <= value <= 1.0:
            raise MitkitError(f"{key}={value} must be in [0, 1]")
    if not minimum_note_length > 0:
        raise MitkitError(f"minimum_note_length={minimum_note_length} must be positive (ms)")
    _, inference, note_creation = _import_basic_pitch()
    from basic_pitch import constants as bpc

    model = _basic_pitch_model(str(basic_pitch_model_path()))
    y = _load_audio_for_basic_pitch(audio, sr, bpc.AUDIO_SAMPLE_RATE)  # (S,)

    # Windows of AUDIO_N_SAMPLES overlapping by 30 frames, first one centred as in get_audio_input.
    overlap_len = BASIC_PITCH_N_OVERLAP_FRAMES * bpc.FFT_HOP
    hop_size = bpc.AUDIO_N_SAMPLES - overlap_len
    padded = np.concatenate([np.zeros(overlap_len // 2, dtype=np.float32), y])
    windows = [w for w, _ in inference.window_audio_file(padded, hop_size)]  # each (AUDIO_N_SAMPLES, 1)
    output: dict[str, list[np.ndarray]] = {"note": [], "onset": [], "contour": []}
    for b in range(0, len(windows), BASIC_PITCH_BATCH):
        batch = np.stack(windows[b : b + BASIC_PITCH_BATCH]).astype(np.float32)  # (B, AUDIO_N_SAMPLES, 1)
        for key, value in model.predict(batch).items():
            output[key].append(value)
    model_output = {
        key: inference.unwrap_output(np.concatenate(value), len(y), BASIC_PITCH_N_OVERLAP_FRAMES)
        for key, value in output.items()
    }
    min_note_len = int(np.round(minimum_note_length / 1000 * (bpc.AUDIO_SAMPLE_RATE / bpc.FFT_HOP)))
    with np.errstate(divide="ignore", invalid="ignore"):  # basic-pitch divides by max(frame_diff) = 0 on silence
        _, note_events = note_creation.model_output_to_notes(
            model_output,
            onset_thresh=onset_threshold,
            frame_thresh=frame_threshold,
            min_note_len=min_note_len,
            min_freq=minimum_frequency,
            max_freq=maximum_frequency,
            multiple_pitch_bends=False,
            melodia_trick=melodia_trick,
        )
    if not note_events:
        warn("basic-pitch found no notes (silent or very short audio)")
        return np.zeros((0, 4))
    notes = np.array(
        [[start, end, pitch, np.clip(np.round(127 * amplitude), 1, 127)] for start, end, pitch, amplitude, _ in note_events],
        dtype=float,
    )
    notes[:, 0] = np.maximum(notes[:, 0], 0.0)
    notes = notes[notes[:, 1] > notes[:, 0]]
    return notes[np.lexsort((notes[:, 2], notes[:, 0]))]


class BasicPitch:
    """basic-pitch 0.4.0 (ONNX) as an instrument-agnostic :class:`~mitkit.evaluation.benchmarks.System`.

    Parameters
    ----------
    **options
        Keywords of :func:`basic_pitch_transcribe` (thresholds, minimum note length, …).

    Examples
    --------
    >>> system = BasicPitch()                      # doctest: +SKIP
    >>> [notes] = system("mix.flac")               # doctest: +SKIP
    """

    separates = False  # one track with every note

    def __init__(self, *, name: str = "basic-pitch", **options: Any) -> None:
        self.name = name
        self.options = options

    def __call__(self, audio: Any, n_parts: int | None = None, *, sr: int | None = None) -> list[np.ndarray]:
        """Return ``[notes]``: one track whatever ``n_parts`` is."""
        return [basic_pitch_transcribe(audio, sr=sr, **self.options)]

    def __repr__(self) -> str:
        return f"BasicPitch(name={self.name!r}, options={self.options!r})"


# ---- separation baselines ----------------------------------------------------------------------


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise MitkitError(f"k={k!r} must be a positive int (number of tracks)")
    return int(k)


def _split(notes: np.ndarray, labels: np.ndarray, k: int) -> list[np.ndarray]:
    """K note arrays, track ``j`` holding the notes with ``labels == j``, each sorted by (onset, pitch)."""
    order = np.lexsort((notes[:, 2], notes[:, 0]))
    notes, labels = notes[order], labels[order]
    return [notes[labels == j] for j in range(k)]


def pitch_order_tracks(notes: Any, k: int, *, chord_tolerance: float = ONSET_TOLERANCE) -> list[np.ndarray]:
    """Split notes into K tracks by pitch order: highest voice to track 0, next to track 1, ….

    For note ``i`` with onset ``t_i``, let the moment ``τ_i = t_i + chord_tolerance`` and the sounding
    set ``S_i = {i} ∪ {j : onset_j <= τ_i < offset_j}``. Its rank ``r_i`` is the number of *distinct*
    pitches in ``S_i`` above its own (unisons share a rank), and it goes to track ``min(r_i, K - 1)``:
    when more than K notes sound, the lowest ones share the last track. ``chord_tolerance`` lets the
    notes of one chord that start a few milliseconds apart (estimated notes, human timing) see each
    other, and lets notes released just after ``t_i`` drop out.

    Parameters
    ----------
    notes : note array (N, 4)
        ``onset_s, offset_s, midi_pitch, velocity``.
    k : int
        Number of tracks K >= 1.
    chord_tolerance : float
        Seconds after the onset at which the sounding set is taken (>= 0).

    Returns
    -------
    list of K np.ndarray (N_j, 4)
        Every input note in exactly one track; tracks sorted by (onset, pitch); empty tracks are
        ``(0, 4)`` arrays.

    Examples
    --------
    >>> notes = np.array([[0.0, 2.0, 60, 90], [0.0, 1.0, 72, 90], [1.0, 2.0, 55, 90]])
    >>> [t[:, 2].tolist() for t in pitch_order_tracks(notes, 2)]
    [[72.0], [60.0, 55.0]]

    Notebook: 03_embeddings_and_clustering
    """
    k = _check_k(k)
    if not (np.isfinite(chord_tolerance) and chord_tolerance >= 0):
        raise MitkitError(f"chord_tolerance={chord_tolerance!r} must be a non-negative number of seconds")
    arr = as_note_array(notes)
    if len(arr) == 0:
        warn("notes is empty: every track is empty")
        return [np.zeros((0, 4)) for _ in range(k)]
    onset, offset, pitch = arr[:, 0], arr[:, 1], arr[:, 2]
    rank = np.zeros(len(arr), dtype=int)
    for i in range(len(arr)):
        tau = onset[i] + chord_tolerance
        sounding = (onset <= tau) & (offset > tau)  # (N,)
        sounding[i] = True
        rank[i] = np.unique(pitch[sounding & (pitch > pitch[i])]).size
    return _split(arr, np.minimum(rank, k - 1), k)


def random_tracks(notes: Any, k: int, *, seed: int = 0) -> list[np.ndarray]:
    """Split notes into K tracks at random: each note to a uniformly drawn track (the floor baseline).

    Parameters
    ----------
    notes : note array (N, 4)
    k : int
        Number of tracks K >= 1.
    seed : int
        Seed of ``np.random.default_rng``; the split is deterministic given (notes, k, seed).

    Returns
    -------
    list of K np.ndarray (N_j, 4)
        Every input note in exactly one track, tracks sorted by (onset, pitch).
    """
    k = _check_k(k)
    arr = as_note_array(notes)
    if len(arr) == 0:
        warn("notes is empty: every track is empty")
        return [np.zeros((0, 4)) for _ in range(k)]
    labels = np.random.default_rng(seed).integers(k, size=len(arr))  # (N,), drawn in input order
    return _split(arr, labels, k)


@dataclass
class SeparatedSystem:
    """A transcription system followed by a note-level separation baseline, as one separating System.

    Parameters
    ----------
    transcriber : System
        Produces the notes (its tracks are pooled), e.g. :class:`BasicPitch`.
    separator : callable ``(notes (N, 4), k) -> list of K note arrays``
        E.g. :func:`pitch_order_tracks` or ``functools.partial(random_tracks, seed=0)``.
    name : str or None
        Label; default ``"<transcriber> + <separator>"``.

    Notes
    -----
    The separators need the number of parts, so the system raises :class:`MitkitError` when called
    with ``n_parts=None`` (evaluate it with ``oracle_count=True``).

    Examples
    --------
    >>> system = SeparatedSystem(BasicPitch(), pitch_order_tracks)   # doctest: +SKIP
    >>> system.name                                                  # doctest: +SKIP
    'basic-pitch + pitch_order_tracks'
    """

    transcriber: System
    separator: Callable[[np.ndarray, int], list[np.ndarray]]
    name: str | None = None
    separates = True  # class attribute, not a field

    def __post_init__(self) -> None:
        if self.name is None:
            sep = self.separator
            sep_name = getattr(sep, "__name__", None) or getattr(getattr(sep, "func", None), "__name__", repr(sep))
            self.name = f"{self.transcriber.name} + {sep_name}"

    def __call__(self, audio: Any, n_parts: int | None = None, *, sr: int | None = None) -> list[np.ndarray]:
        if n_parts is None:
            raise MitkitError(f"n_parts=None: {self.name} needs the number of parts (use oracle_count=True)")
        notes = merge_tracks(self.transcriber(audio, None, sr=sr), f"{self.transcriber.name} tracks")
        return self.separator(notes, n_parts)
