"""Evaluation of multi-instrument transcription: transcription, separation and instrument count.

This module is the task specification of mitkit's evaluation protocol (``../shared/DESIGN.md``,
"Evaluation protocol"). Every metric comes from ``mir_eval``; this module only converts mitkit's note
arrays into mir_eval's conventions, validates them, matches tracks to parts, and aggregates.

Notebook: 03_embeddings_and_clustering

Conventions
-----------
Notes
    A note array is a float array of shape ``(N, 4)`` with columns ``onset_s, offset_s, midi_pitch,
    velocity``: onset and offset in seconds (``0 <= onset < offset``), pitch as a (possibly fractional)
    MIDI number, velocity in ``0 .. 127`` (ignored by every metric). The pair ``(intervals, pitches)`` —
    intervals ``(N, 2)`` seconds and pitches ``(N,)`` MIDI — is accepted too (velocity is then
    :data:`DEFAULT_VELOCITY`). ``N = 0`` is legal: metrics warn and return zeros.
Parts and tracks
    A *reference part* is the note array of one instrument of the ground truth; an *estimated track* is
    the note array of one instrument of a system's output. A mix has ``K_ref`` parts, a system returns
    ``K_est`` tracks (``K_est`` may differ from ``K_ref`` when the count is estimated).
Frames
    Frame metrics sample the notes on a fixed grid of :data:`FRAME_HOP` = 10 ms (``t_n = n * frame_hop``),
    the MIREX multiple-F0 convention. The grid does not depend on any model's frame rate, so mitkit
    (≈11.6 ms frames) and basic-pitch (≈11.6 ms, different origin) are scored on the same samples.
    A note is active in frame ``n`` when ``onset_s <= t_n < offset_s``; a pitch doubled in unison
    (two parts, one pitch) counts once per frame, since a mixture cannot show it twice.

Metrics
-------
:func:`transcription_metrics` (all parts of a mix pooled against all tracks pooled)
    ``frame_precision, frame_recall, frame_f1``: ``mir_eval.multipitch`` on the 10 ms grid, with the
    pitch tolerance (cents) as its matching window.
    ``note_precision, note_recall, note_f1``: ``mir_eval.transcription``, onset-only
    (``offset_ratio=None``): a match needs ``|onset_est - onset_ref| <= onset_tolerance`` and a pitch
    within ``pitch_tolerance`` cents.
    ``note_offset_precision, note_offset_recall, note_offset_f1``: the same plus mir_eval's default
    offset rule (within ``max(offset_ratio * ref_duration, offset_min_tolerance)``).
:func:`separation_metrics`
    onset-only note F1 between every reference part and every estimated track, then the one-to-one
    assignment (Hungarian, ``scipy.optimize.linear_sum_assignment``) that maximises the total F1.
    ``separation_f1`` is the mean over *reference parts* of the F1 of their matched track; a part
    left without a track (``K_est < K_ref``) scores 0; tracks left without a part (``K_est > K_ref``)
    are not scored (their notes still cost precision in :func:`transcription_metrics`).
:func:`instrument_count_accuracy`
    fraction of mixes whose estimated number of tracks equals the true number of parts.

Benchmarks
----------
:func:`load_benchmark` reads either a mitkit chorale benchmark (``index.json``, see ``CONTRACT.md``) or
a folder of ``name.wav|.flac|.ogg|.mp3`` + ``name.mid|.midi`` pairs (one part per non-drum MIDI
instrument). :func:`evaluate_benchmark` runs a :class:`System` on every mix and aggregates per number of
parts; :func:`format_markdown_table` prints one or several systems side by side.

Examples
--------
>>> import numpy as np
>>> from mitkit.evaluate import transcription_metrics
>>> ref = np.array([[0.10, 0.60, 60, 80], [0.70, 1.20, 62, 80]])
>>> est = np.array([[0.12, 0.58, 60, 90], [0.70, 1.20, 63, 90]])
>>> m = transcription_metrics(ref, est)
>>> round(m["note_f1"], 3)
0.5
"""
from __future__ import annotations

import json
import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, Sequence, runtime_checkable

import mir_eval
import numpy as np
from scipy.optimize import linear_sum_assignment

from mitkit.constants import midi_to_hz
from mitkit.errors import MitkitError

logger = logging.getLogger(__name__)

__all__ = [
    "FRAME_HOP",
    "ONSET_TOLERANCE",
    "PITCH_TOLERANCE",
    "TRANSCRIPTION_KEYS",
    "AGGREGATE_KEYS",
    "as_note_array",
    "merge_tracks",
    "notes_to_frames",
    "transcription_metrics",
    "separation_metrics",
    "note_kinds",
    "recall_by_kind",
    "instrument_count_accuracy",
    "System",
    "CallableSystem",
    "BenchmarkMix",
    "load_benchmark",
    "evaluate_benchmark",
    "format_markdown_table",
]

FRAME_HOP = 0.01  # s; frame grid of the frame metrics (MIREX multiple-F0 convention)
ONSET_TOLERANCE = 0.05  # s; mir_eval / MIREX default
PITCH_TOLERANCE = 50.0  # cents; mir_eval / MIREX default (a quarter tone)
OFFSET_RATIO = 0.2  # fraction of the reference duration; mir_eval default
OFFSET_MIN_TOLERANCE = 0.05  # s; mir_eval default
DEFAULT_VELOCITY = 100.0  # velocity given to notes passed as (intervals, pitches)
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")
MIDI_EXTENSIONS = (".mid", ".midi")
BENCHMARK_FORMAT = "mitkit-benchmark"

# Stable key names of transcription_metrics, in output order.
TRANSCRIPTION_KEYS = (
    "frame_precision",
    "frame_recall",
    "frame_f1",
    "note_precision",
    "note_recall",
    "note_f1",
    "note_offset_precision",
    "note_offset_recall",
    "note_offset_f1",
)
# Keys averaged per group by evaluate_benchmark (plus n_mixes and real_time_factor).
AGGREGATE_KEYS = TRANSCRIPTION_KEYS + ("separation_f1",)
# Kinds of reference notes whose onset-only recall evaluate_benchmark reports apart (see note_kinds).
NOTE_KINDS = ("repeated", "short", "other")
REPEAT_GAP = 0.05  # s; a note is "repeated" when its part played its pitch until at most this long before
SHORT_NOTE = 0.2  # s; a note shorter than this (and not repeated) is "short"

_TIME_EPS = 1e-9  # s; guards frame-grid comparisons against float rounding of n * frame_hop


# ---- note arrays -----------------------------------------------------------------------------


def as_note_array(notes: Any, name: str = "notes") -> np.ndarray:
    """Validate a note list and return it as a float64 ``(N, 4)`` array.

    Parameters
    ----------
    notes : array-like (N, 4) or tuple (intervals (N, 2), pitches (N,))
        ``onset_s, offset_s, midi_pitch, velocity`` rows, or the ``(intervals, pitches)`` pair
        (velocity is then :data:`DEFAULT_VELOCITY`). An empty list is an empty ``(0, 4)`` array.
    name : str
        Name of the argument, used in error messages.

    Returns
    -------
    np.ndarray, float64, shape (N, 4)
        A new array (the input is never modified), rows in input order.

    Raises
    ------
    MitkitError
        Wrong shape, a structured (frame-based) note array, non-finite values, negative onsets,
        ``offset <= onset``, pitches outside ``0 < pitch <= 127`` or velocities outside ``0 .. 127``.
    """
    if isinstance(notes, tuple) and len(notes) == 2:
        intervals = np.asarray(notes[0], dtype=float)
        pitches = np.asarray(notes[1], dtype=float)
        if intervals.size == 0 and pitches.size == 0:
            return np.zeros((0, 4))
        if intervals.ndim != 2 or intervals.shape[1] != 2:
            raise MitkitError(f"{name} intervals shape={intervals.shape} must be (N, 2)")
        if pitches.shape != (intervals.shape[0],):
            raise MitkitError(
                f"{name} pitches shape={pitches.shape} must be ({intervals.shape[0]},) to match intervals"
            )
        velocity = np.full(len(pitches), DEFAULT_VELOCITY)
        arr = np.column_stack([intervals, pitches, velocity])
    else:
        if getattr(getattr(notes, "dtype", None), "names", None) is not None:
            raise MitkitError(
                f"{name} has the structured dtype {notes.dtype}: frame-based notes must be converted to "
                "seconds, (N, 4) onset_s, offset_s, midi_pitch, velocity"
            )
        try:
            arr = np.array(notes, dtype=float)
        except (TypeError, ValueError) as exc:
            raise MitkitError(f"{name} must be a numeric (N, 4) array: {exc}") from None
        if arr.size == 0:
            return np.zeros((0, 4))
        if arr.ndim != 2 or arr.shape[1] != 4:
            raise MitkitError(
                f"{name} shape={arr.shape} must be (N, 4): onset_s, offset_s, midi_pitch, velocity"
            )
    if not np.all(np.isfinite(arr)):
        bad = int(np.argwhere(~np.isfinite(arr))[0, 0])
        raise MitkitError(f"{name}[{bad}]={arr[bad].tolist()} must be finite (no NaN or inf)")
    checks = (
        (arr[:, 0] < 0, "onset must be >= 0 s"),
        (arr[:, 1] <= arr[:, 0], "offset must be greater than onset"),
        ((arr[:, 2] <= 0) | (arr[:, 2] > 127), "midi_pitch must be in (0, 127]"),
        ((arr[:, 3] < 0) | (arr[:, 3] > 127), "velocity must be in [0, 127]"),
    )
    for mask, rule in checks:
        if mask.any():
            bad = int(np.flatnonzero(mask)[0])
            raise MitkitError(f"{name}[{bad}]={arr[bad].tolist()}: {rule}")
    return arr


def merge_tracks(tracks: Sequence[Any], name: str = "tracks") -> np.ndarray:
    """Pool the notes of several tracks (or parts) into one ``(N, 4)`` array sorted by (onset, pitch).

    Parameters
    ----------
    tracks : sequence of note arrays (N_k, 4)
    name : str
        Name of the argument, used in error messages.

    Returns
    -------
    np.ndarray, float64, shape (sum N_k, 4)
    """
    arrays = _as_track_list(tracks, name)
    if not arrays:
        return np.zeros((0, 4))
    merged = np.concatenate(arrays, axis=0)
    return merged[np.lexsort((merged[:, 2], merged[:, 0]))]


def _as_track_list(tracks: Sequence[Any], name: str) -> list[np.ndarray]:
    if isinstance(tracks, np.ndarray):
        raise MitkitError(
            f"{name} is an array of shape {tracks.shape}; it must be a list of note arrays, one per "
            "part or track (wrap a single note array as [notes])"
        )
    try:
        items = list(tracks)
    except TypeError:
        raise MitkitError(f"{name} of type {type(tracks).__name__} must be a list of note arrays") from None
    return [as_note_array(t, f"{name}[{k}]") for k, t in enumerate(items)]


def _check_positive(**values: float) -> None:
    for key, value in values.items():
        if value is None:
            continue
        if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value) and value > 0):
            raise MitkitError(f"{key}={value!r} must be a positive number")


# ---- frame sampling ------------------------------------------------------------------------------


def notes_to_frames(
    notes: Any, *, frame_hop: float = FRAME_HOP, n_frames: int | None = None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sample a note array on a frame grid, in ``mir_eval.multipitch``'s format.

    Parameters
    ----------
    notes : note array (N, 4) or (intervals, pitches)
    frame_hop : float
        Grid step in seconds; frame ``n`` is at ``t_n = n * frame_hop``.
    n_frames : int or None
        Number of frames ``T``; default: enough to reach the last offset.

    Returns
    -------
    times : np.ndarray, float64, shape (T,)
        Frame times in seconds.
    freqs : list of T np.ndarray
        Active frequencies in Hz per frame, ascending, each pitch once (unison doublings merged).

    Examples
    --------
    >>> times, freqs = notes_to_frames([[0.0, 0.02, 69, 100]], frame_hop=0.01)
    >>> [f.tolist() for f in freqs]
    [[440.0], [440.0], []]
    """
    _check_positive(frame_hop=frame_hop)
    arr = as_note_array(notes)
    if n_frames is None:
        last = float(arr[:, 1].max()) if len(arr) else 0.0
        n_frames = int(math.ceil(last / frame_hop - _TIME_EPS)) + 1
    times = np.arange(n_frames) * frame_hop  # (T,)
    # Frame n is active for a note when onset <= t_n < offset.
    start = np.searchsorted(times, arr[:, 0] - _TIME_EPS, side="left")  # (N,) first active frame
    end = np.searchsorted(times, arr[:, 1] - _TIME_EPS, side="left")  # (N,) first inactive frame
    lengths = np.maximum(end - start, 0)
    total = int(lengths.sum())
    # One (frame, pitch) row per active note-frame, then duplicates (unison) removed.
    first = np.repeat(start - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    frame_idx = first + np.arange(total)  # (total,)
    pitch_rep = np.repeat(arr[:, 2], lengths)  # (total,)
    pairs = np.unique(np.column_stack([frame_idx, pitch_rep]), axis=0)  # sorted by frame, then pitch
    bounds = np.searchsorted(pairs[:, 0], np.arange(n_frames + 1), side="left")  # (T + 1,)
    hz = np.asarray(midi_to_hz(pairs[:, 1]), dtype=float)
    freqs = [hz[bounds[n] : bounds[n + 1]] for n in range(n_frames)]
    return times, freqs


# ---- transcription -------------------------------------------------------------------------------


def _note_prf(
    ref: np.ndarray,
    est: np.ndarray,
    *,
    onset_tolerance: float,
    pitch_tolerance: float,
    offset_ratio: float | None,
    offset_min_tolerance: float = OFFSET_MIN_TOLERANCE,
) -> tuple[float, float, float]:
    """mir_eval note precision, recall, F1 on validated arrays; silent zeros when one side is empty."""
    if len(ref) == 0 or len(est) == 0:
        return 0.0, 0.0, 0.0
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ref[:, :2],
        midi_to_hz(ref[:, 2]),
        est[:, :2],
        midi_to_hz(est[:, 2]),
        onset_tolerance=onset_tolerance,
        pitch_tolerance=pitch_tolerance,
        offset_ratio=offset_ratio,
        offset_min_tolerance=offset_min_tolerance,
    )
    return float(p), float(r), float(f)


def transcription_metrics(
    ref: Any,
    est: Any,
    *,
    onset_tolerance: float = ONSET_TOLERANCE,
    pitch_tolerance: float = PITCH_TOLERANCE,
    offset_ratio: float = OFFSET_RATIO,
    offset_min_tolerance: float = OFFSET_MIN_TOLERANCE,
    frame_hop: float = FRAME_HOP,
) -> dict[str, float]:
    """Frame and note precision, recall and F1 of estimated notes against reference notes.

    Parameters
    ----------
    ref, est : note array (N, 4) or (intervals, pitches)
        Reference and estimated notes, all instruments pooled (see :func:`merge_tracks`).
    onset_tolerance : float
        Largest onset difference of a note match, in seconds.
    pitch_tolerance : float
        Largest pitch difference of a note or frame match, in cents.
    offset_ratio : float
        Offset tolerance of the ``note_offset_*`` metrics as a fraction of the reference duration.
    offset_min_tolerance : float
        Smallest offset tolerance of the ``note_offset_*`` metrics, in seconds.
    frame_hop : float
        Step of the frame grid of the ``frame_*`` metrics, in seconds (see the module docstring).

    Returns
    -------
    dict of str to float
        The keys of :data:`TRANSCRIPTION_KEYS`, in that order, each in [0, 1].

    Warns
    -----
    UserWarning
        When ``ref`` or ``est`` holds no note; every metric is then 0.

    Examples
    --------
    >>> ref = np.array([[0.0, 0.5, 60, 100], [0.5, 1.0, 64, 100]])
    >>> transcription_metrics(ref, ref)["note_offset_f1"]
    1.0
    """
    _check_positive(
        onset_tolerance=onset_tolerance,
        pitch_tolerance=pitch_tolerance,
        offset_ratio=offset_ratio,
        offset_min_tolerance=offset_min_tolerance,
        frame_hop=frame_hop,
    )
    ref_arr = as_note_array(ref, "ref")
    est_arr = as_note_array(est, "est")
    if len(ref_arr) == 0 or len(est_arr) == 0:
        which = "ref" if len(ref_arr) == 0 else "est"
        warnings.warn(f"{which} holds no notes: every transcription metric is 0", stacklevel=2)
        return dict.fromkeys(TRANSCRIPTION_KEYS, 0.0)

    # Frames: both sides on one grid, so mir_eval never resamples.
    end = max(ref_arr[:, 1].max(), est_arr[:, 1].max())
    n_frames = int(math.ceil(end / frame_hop - _TIME_EPS)) + 1
    ref_time, ref_freqs = notes_to_frames(ref_arr, frame_hop=frame_hop, n_frames=n_frames)
    est_time, est_freqs = notes_to_frames(est_arr, frame_hop=frame_hop, n_frames=n_frames)
    scores = mir_eval.multipitch.evaluate(
        ref_time, ref_freqs, est_time, est_freqs, window=pitch_tolerance / 100.0
    )
    fp, fr = float(scores["Precision"]), float(scores["Recall"])
    ff = float(mir_eval.util.f_measure(fp, fr)) if fp + fr > 0 else 0.0

    tol = dict(onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance)
    onset_prf = _note_prf(ref_arr, est_arr, offset_ratio=None, **tol)
    offset_prf = _note_prf(
        ref_arr, est_arr, offset_ratio=offset_ratio, offset_min_tolerance=offset_min_tolerance, **tol
    )
    return dict(zip(TRANSCRIPTION_KEYS, (fp, fr, ff, *onset_prf, *offset_prf)))


def note_kinds(part: Any, *, repeat_gap: float = REPEAT_GAP, short_note: float = SHORT_NOTE) -> np.ndarray:
    """Kind of every note of one part, in its row order: ``"repeated"`` when the part's previous note of
    the same pitch ended at most ``repeat_gap`` seconds before this onset (a re-attack that silence does
    not mark), else ``"short"`` when it lasts less than ``short_note`` seconds, else ``"other"``.

    Examples
    --------
    >>> note_kinds(np.array([[0.0, 0.5, 60, 80], [0.5, 1.0, 60, 80], [1.0, 1.1, 62, 80]])).tolist()
    ['other', 'repeated', 'short']
    """
    arr = as_note_array(part, "part")
    kinds = np.where(arr[:, 1] - arr[:, 0] < short_note, "short", "other").astype(object)
    order = np.argsort(arr[:, 0], kind="stable")
    last_end: dict[float, float] = {}
    for i in order:
        prev = last_end.get(arr[i, 2])
        if prev is not None and arr[i, 0] - prev <= repeat_gap:
            kinds[i] = "repeated"
        last_end[arr[i, 2]] = max(arr[i, 1], prev if prev is not None else -np.inf)
    return kinds.astype(str)


def recall_by_kind(parts: Sequence[Any], est: Any, *, onset_tolerance: float = ONSET_TOLERANCE,
                   pitch_tolerance: float = PITCH_TOLERANCE) -> dict[str, list[int]]:
    """Onset-only note matches of ``est`` (all tracks pooled) against the reference ``parts``, counted by
    :func:`note_kinds`: ``{kind: [matched, total]}`` for each of :data:`NOTE_KINDS` (mir_eval's one-to-one
    matching of all notes, so a kind's recall is its share of the matches that
    :func:`transcription_metrics` counts)."""
    arrays = _as_track_list(parts, "parts")
    counts = {k: [0, 0] for k in NOTE_KINDS}
    if not arrays or not sum(len(a) for a in arrays):
        return counts
    ref = np.concatenate(arrays)
    kinds = np.concatenate([note_kinds(a) for a in arrays])
    est_arr = as_note_array(est, "est")
    matched = np.zeros(len(ref), bool)
    if len(est_arr):
        pairs = mir_eval.transcription.match_notes(
            ref[:, :2], midi_to_hz(ref[:, 2]), est_arr[:, :2], midi_to_hz(est_arr[:, 2]),
            onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance, offset_ratio=None)
        matched[[i for i, _ in pairs]] = True
    for k in NOTE_KINDS:
        counts[k] = [int(np.count_nonzero(matched & (kinds == k))), int(np.count_nonzero(kinds == k))]
    return counts


# ---- separation ----------------------------------------------------------------------------------


def separation_metrics(
    ref_parts: Sequence[Any],
    est_tracks: Sequence[Any],
    *,
    onset_tolerance: float = ONSET_TOLERANCE,
    pitch_tolerance: float = PITCH_TOLERANCE,
) -> dict[str, Any]:
    """Onset-only note F1 of estimated tracks matched one-to-one to reference parts.

    Parameters
    ----------
    ref_parts : list of K_ref note arrays (N_k, 4)
        One note array per instrument of the ground truth.
    est_tracks : list of K_est note arrays (M_j, 4)
        One note array per estimated track; ``K_est`` may differ from ``K_ref``.
    onset_tolerance : float
        Largest onset difference of a note match, in seconds.
    pitch_tolerance : float
        Largest pitch difference of a note match, in cents.

    Returns
    -------
    dict
        ``separation_f1`` (float): mean over the ``K_ref`` parts of the F1 of the matched track,
        0 for an unmatched part; ``part_f1`` (list of K_ref floats): those per-part scores;
        ``assignment`` (list of ``(ref_index, est_index)`` tuples, sorted by ``ref_index``): the
        matching that maximises the total F1; ``pair_f1`` (K_ref lists of K_est floats): F1 of every
        (part, track) pair; ``n_parts`` (K_ref) and ``n_tracks`` (K_est).

    Warns
    -----
    UserWarning
        When there is no reference part, no reference note or no estimated track.

    Examples
    --------
    >>> a = np.array([[0.0, 0.5, 72, 100]]); b = np.array([[0.0, 0.5, 60, 100]])
    >>> s = separation_metrics([a, b], [b, a])
    >>> s["separation_f1"], s["assignment"]
    (1.0, [(0, 1), (1, 0)])

    Notebook: 03_embeddings_and_clustering
    """
    _check_positive(onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance)
    refs = _as_track_list(ref_parts, "ref_parts")
    ests = _as_track_list(est_tracks, "est_tracks")
    k_ref, k_est = len(refs), len(ests)
    if k_ref == 0 or k_est == 0 or all(len(r) == 0 for r in refs):
        what = "ref_parts is empty" if k_ref == 0 else "est_tracks is empty" if k_est == 0 else (
            "ref_parts hold no notes"
        )
        warnings.warn(f"{what}: separation_f1 is 0", stacklevel=2)
    pair = np.zeros((k_ref, k_est))  # (K_ref, K_est) onset-only note F1
    for i, r in enumerate(refs):
        for j, e in enumerate(ests):
            pair[i, j] = _note_prf(
                r, e, onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance, offset_ratio=None
            )[2]
    rows, cols = linear_sum_assignment(pair, maximize=True)  # min(K_ref, K_est) pairs
    part_f1 = np.zeros(k_ref)
    part_f1[rows] = pair[rows, cols]
    return {
        "separation_f1": float(part_f1.mean()) if k_ref else 0.0,
        "part_f1": part_f1.tolist(),
        "assignment": [(int(i), int(j)) for i, j in zip(rows, cols)],
        "pair_f1": pair.tolist(),
        "n_parts": k_ref,
        "n_tracks": k_est,
    }


def instrument_count_accuracy(true_counts: Sequence[int], est_counts: Sequence[int]) -> float:
    """Fraction of mixes whose estimated instrument count equals the true one.

    Parameters
    ----------
    true_counts, est_counts : sequence of int, length M
        Number of reference parts and of estimated tracks per mix.

    Returns
    -------
    float
        In [0, 1]; 0 (with a warning) when ``M = 0``.

    Examples
    --------
    >>> instrument_count_accuracy([2, 3, 4], [2, 3, 3])
    0.6666666666666666
    """
    true = np.asarray(true_counts, dtype=float)
    est = np.asarray(est_counts, dtype=float)
    for key, arr in (("true_counts", true), ("est_counts", est)):
        if arr.ndim != 1:
            raise MitkitError(f"{key} shape={arr.shape} must be one-dimensional")
        if arr.size and (not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr))):
            raise MitkitError(f"{key}={arr.tolist()} must hold non-negative integers")
    if true.shape != est.shape:
        raise MitkitError(f"est_counts length={est.size} must equal true_counts length={true.size}")
    if true.size == 0:
        warnings.warn("no counts given: instrument_count_accuracy is 0", stacklevel=2)
        return 0.0
    return float(np.mean(true == est))


# ---- systems -----------------------------------------------------------------------------------


@runtime_checkable
class System(Protocol):
    """What :func:`evaluate_benchmark` runs: audio in, one note array per estimated instrument out.

    mitkit itself, basic-pitch (:class:`mitkit.baselines.BasicPitch`) and the separation baselines
    (:class:`mitkit.baselines.SeparatedSystem`) all follow it.

    Attributes
    ----------
    name : str
        Label used in result tables.
    separates : bool
        ``False`` for an instrument-agnostic system (one track with every note): separation metrics
        are then not computed for it.

    Notes
    -----
    Call signature: ``system(audio, n_parts=None, *, sr=None) -> list[np.ndarray]``

    audio : str, Path or np.ndarray
        Path of an audio file, or a mono waveform (S,) at ``sr`` Hz.
    n_parts : int or None
        Number of instruments when known (oracle count), ``None`` to let the system estimate it.
    sr : int or None
        Sample rate of an array ``audio``; ignored for paths.

    Returns a list of ``K_est`` note arrays ``(N_k, 4)``: ``onset_s, offset_s, midi_pitch, velocity``.
    """

    name: str
    separates: bool

    def __call__(self, audio: Any, n_parts: int | None = None, *, sr: int | None = None) -> list[np.ndarray]:
        ...


@dataclass
class CallableSystem:
    """Wrap a plain function as a :class:`System`.

    Parameters
    ----------
    name : str
        Label used in result tables.
    fn : callable ``(audio, n_parts, sr) -> list of note arrays``
        Called with keyword ``sr``.
    separates : bool
        Whether the tracks are instruments (``True``) or one pooled track (``False``).

    Examples
    --------
    Wrap mitkit's own transcriber (``instruments`` as in :func:`mitkit.transcribe`):

    >>> def run(audio, n_parts=None, *, sr=None):  # doctest: +SKIP
    ...     t = mitkit.transcribe(audio, sr=sr, instruments=n_parts or "auto")
    ...     return [track.notes for track in t.tracks]
    >>> system = CallableSystem("mitkit", run)  # doctest: +SKIP
    """

    name: str
    fn: Callable[..., list[np.ndarray]]
    separates: bool = True

    def __call__(self, audio: Any, n_parts: int | None = None, *, sr: int | None = None) -> list[np.ndarray]:
        return self.fn(audio, n_parts, sr=sr)


# ---- benchmarks --------------------------------------------------------------------------------


@dataclass
class BenchmarkMix:
    """One mix of a benchmark: its audio file and its reference parts.

    Attributes
    ----------
    id : str
    audio : Path
        Audio file of the mix.
    parts : list of np.ndarray (N_k, 4)
        Reference notes, one array per part (instrument).
    part_names : list of str
    instrumentation : str
        ``"bach10"``, ``"other"`` or ``"midi"`` (audio + MIDI folders).
    """

    id: str
    audio: Path
    parts: list[np.ndarray]
    part_names: list[str] = field(default_factory=list)
    instrumentation: str = ""

    @property
    def n_parts(self) -> int:
        return len(self.parts)


def load_benchmark(root: str | Path) -> list[BenchmarkMix]:
    """Read the mixes of a benchmark folder.

    Parameters
    ----------
    root : str or Path
        Either a folder with ``index.json`` (``"format": "mitkit-benchmark"``, see ``CONTRACT.md``),
        or a folder of audio files (``.wav``, ``.flac``, ``.ogg``, ``.mp3``), each with a MIDI file of
        the same name (``.mid`` or ``.midi``) holding the ground truth: every non-drum instrument with
        notes is one part. Audio files without a MIDI file are skipped with a warning.

    Returns
    -------
    list of BenchmarkMix
        In index order, or sorted by file name.
    """
    root = Path(root)
    if not root.is_dir():
        raise MitkitError(f"root={str(root)!r} must be an existing folder")
    index = root / "index.json"
    if index.is_file():
        return _load_index(root, index)
    return _load_audio_midi_pairs(root)


def _load_index(root: Path, index: Path) -> list[BenchmarkMix]:
    with open(index, encoding="utf-8") as f:
        data = json.load(f)
    if data.get("format") != BENCHMARK_FORMAT:
        raise MitkitError(f"{index} format={data.get('format')!r} must be {BENCHMARK_FORMAT!r}")
    if data.get("version") != 1:
        raise MitkitError(f"{index} version={data.get('version')!r} must be 1")
    mixes = []
    for m, mix in enumerate(data.get("mixes", [])):
        mix_id = str(mix.get("id", m))
        parts = [as_note_array(p.get("notes", []), f"mix {mix_id} part {k}") for k, p in enumerate(mix["parts"])]
        n_parts = mix.get("n_parts", len(parts))
        if n_parts != len(parts):
            raise MitkitError(f"mix {mix_id}: n_parts={n_parts} must equal the number of parts={len(parts)}")
        mixes.append(
            BenchmarkMix(
                id=mix_id,
                audio=root / mix["audio"],
                parts=parts,
                part_names=[str(p.get("name", k)) for k, p in enumerate(mix["parts"])],
                instrumentation=str(mix.get("instrumentation", "")),
            )
        )
    return mixes


def _load_audio_midi_pairs(root: Path) -> list[BenchmarkMix]:
    import pretty_midi  # pinned dependency; imported here to keep `import mitkit.evaluate` light

    mixes, skipped = [], []
    for audio in sorted(p for p in root.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS):
        midi = next((m for ext in MIDI_EXTENSIONS if (m := audio.with_suffix(ext)).is_file()), None)
        if midi is None:
            skipped.append(audio.name)
            continue
        pm = pretty_midi.PrettyMIDI(str(midi))
        parts, names = [], []
        for k, inst in enumerate(pm.instruments):
            if inst.is_drum or not inst.notes:
                continue
            rows = [[n.start, n.end, n.pitch, n.velocity] for n in inst.notes if n.end > n.start]
            notes = as_note_array(rows, f"{midi.name} instrument {k}")
            parts.append(notes[np.lexsort((notes[:, 2], notes[:, 0]))])
            names.append(inst.name or pretty_midi.program_to_instrument_name(inst.program))
        mixes.append(BenchmarkMix(id=audio.stem, audio=audio, parts=parts, part_names=names, instrumentation="midi"))
    if skipped:
        warnings.warn(f"{len(skipped)} audio file(s) in {root} have no MIDI file and are skipped: {skipped}")
    if not mixes:
        raise MitkitError(
            f"root={str(root)!r} must hold index.json or audio files ({', '.join(AUDIO_EXTENSIONS)}) "
            f"with MIDI files of the same name ({', '.join(MIDI_EXTENSIONS)})"
        )
    return mixes


def _audio_duration(path: Path) -> float | None:
    try:
        import soundfile

        return float(soundfile.info(str(path)).duration)
    except Exception:  # noqa: BLE001 - an unreadable header only costs the real-time factor
        logger.warning("could not read the duration of %s", path)
        return None


def _aggregate(records: list[dict[str, Any]], count_accuracy: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"n_mixes": len(records)}
    for key in AGGREGATE_KEYS:
        values = [r[key] for r in records if r.get(key) is not None]
        out[key] = float(np.mean(values)) if values else None
    durations = [r["duration_s"] for r in records if r["duration_s"]]
    runtime = sum(r["runtime_s"] for r in records if r["duration_s"])
    out["real_time_factor"] = runtime / sum(durations) if durations else None
    for kind in NOTE_KINDS:  # pooled over mixes: repeated notes are too few per mix for a mean of ratios
        hits = sum(r["recall_by_kind"][kind][0] for r in records if r.get("recall_by_kind"))
        total = sum(r["recall_by_kind"][kind][1] for r in records if r.get("recall_by_kind"))
        out[f"recall_{kind}"] = hits / total if total else None
    out["instrument_count_accuracy"] = (
        instrument_count_accuracy([r["n_parts"] for r in records], [r["n_tracks"] for r in records])
        if count_accuracy and records
        else None
    )
    return out


def evaluate_benchmark(
    benchmark: str | Path | Iterable[BenchmarkMix],
    system: System,
    *,
    oracle_count: bool = True,
    limit: int | None = None,
    onset_tolerance: float = ONSET_TOLERANCE,
    pitch_tolerance: float = PITCH_TOLERANCE,
    frame_hop: float = FRAME_HOP,
    progress: bool = True,
) -> dict[str, Any]:
    """Run a system on every mix of a benchmark and aggregate the metrics per number of parts.

    Parameters
    ----------
    benchmark : str, Path or iterable of BenchmarkMix
        A benchmark folder (see :func:`load_benchmark`) or mixes already loaded.
    system : System
        Called as ``system(mix.audio, n_parts)`` with the audio path.
    oracle_count : bool
        ``True``: give the system the true number of parts. ``False``: pass ``n_parts=None`` and
        report :func:`instrument_count_accuracy` of the number of returned tracks.
    limit : int or None
        Evaluate only the first ``limit`` mixes (quick checks).
    onset_tolerance, pitch_tolerance, frame_hop : float
        As in :func:`transcription_metrics` (seconds, cents, seconds).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    dict
        ``system`` (name), ``benchmark`` (folder or ``None``), ``settings`` (the keywords above),
        ``mixes`` (one record per mix: ``id, n_parts, n_tracks, instrumentation, duration_s,
        runtime_s``, the :data:`TRANSCRIPTION_KEYS` on all parts pooled, ``separation_f1``,
        ``part_f1``, ``assignment``, ``pair_f1``; the separation entries are ``None`` for a system
        with ``separates=False``), ``by_n_parts`` (int ``K`` -> aggregate) and ``overall``
        (aggregate). An aggregate holds ``n_mixes``, the mean of every :data:`AGGREGATE_KEYS` over its
        mixes (``None`` when not computed), ``real_time_factor`` (total runtime / total audio
        duration), ``instrument_count_accuracy`` (``None`` when ``oracle_count``) and
        ``recall_repeated``, ``recall_short``, ``recall_other``: onset-only recall of each kind of
        reference note (:func:`note_kinds`), pooled over the group's mixes (each record holds its
        ``recall_by_kind`` counts).
        The dict is JSON-serialisable (``json.dump`` turns the ``by_n_parts`` keys into strings).
    """
    from tqdm.auto import tqdm

    _check_positive(onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance, frame_hop=frame_hop)
    if not callable(system) or not isinstance(getattr(system, "name", None), str):
        raise MitkitError(f"system={system!r} must be callable with a str attribute `name` (see System)")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise MitkitError(f"limit={limit!r} must be a positive int or None")
    root = None
    if isinstance(benchmark, (str, Path)):
        root = str(benchmark)
        mixes = load_benchmark(benchmark)
    else:
        mixes = list(benchmark)
    if limit is not None:
        mixes = mixes[:limit]
    if not mixes:
        raise MitkitError("benchmark must hold at least one mix")
    separates = bool(getattr(system, "separates", True))
    tol = dict(onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance)

    records = []
    for mix in tqdm(mixes, desc=f"evaluate {system.name}", disable=not progress):
        t0 = time.perf_counter()
        tracks = system(mix.audio, mix.n_parts if oracle_count else None)
        runtime = time.perf_counter() - t0
        tracks = _as_track_list(tracks, f"{system.name} tracks of mix {mix.id}")
        record: dict[str, Any] = {
            "id": mix.id,
            "n_parts": mix.n_parts,
            "n_tracks": len(tracks),
            "instrumentation": mix.instrumentation,
            "duration_s": _audio_duration(mix.audio),
            "runtime_s": runtime,
        }
        record.update(transcription_metrics(merge_tracks(mix.parts), merge_tracks(tracks), frame_hop=frame_hop, **tol))
        record["recall_by_kind"] = recall_by_kind(mix.parts, merge_tracks(tracks), **tol)
        if separates:
            sep = separation_metrics(mix.parts, tracks, **tol)
            record.update({k: sep[k] for k in ("separation_f1", "part_f1", "assignment", "pair_f1")})
        else:
            record.update(separation_f1=None, part_f1=None, assignment=None, pair_f1=None)
        records.append(record)

    count_acc = not oracle_count
    groups = sorted({r["n_parts"] for r in records})
    return {
        "system": system.name,
        "benchmark": root,
        "settings": {"oracle_count": oracle_count, "frame_hop": frame_hop, **tol},
        "mixes": records,
        "by_n_parts": {k: _aggregate([r for r in records if r["n_parts"] == k], count_acc) for k in groups},
        "overall": _aggregate(records, count_acc),
    }


_TABLE_COLUMNS = (
    ("frame_f1", "frame F1"),
    ("note_f1", "note F1"),
    ("note_offset_f1", "note F1 (offsets)"),
    ("separation_f1", "separation F1"),
    ("recall_repeated", "recall repeated"),
    ("recall_short", "recall short"),
    ("recall_other", "recall other"),
    ("instrument_count_accuracy", "count acc."),
    ("real_time_factor", "RTF"),
)


def format_markdown_table(results: dict[str, Any] | Sequence[dict[str, Any]], *, digits: int = 3) -> str:
    """Markdown table of one or several :func:`evaluate_benchmark` results, side by side.

    One row per system and number of parts, then one ``all`` row per system. Metrics that were not
    computed print as ``–``; a column that is empty for every row is left out.

    Parameters
    ----------
    results : dict or sequence of dict
        Return values of :func:`evaluate_benchmark` (also after a JSON round trip).
    digits : int
        Decimals of every number.

    Returns
    -------
    str
        The table, one line per row, ending without a newline.
    """
    if isinstance(results, dict):
        results = [results]
    rows = []
    for res in results:
        try:
            by_k = sorted(((int(k), v) for k, v in res["by_n_parts"].items()), key=lambda kv: kv[0])
            overall = res["overall"]
            name = str(res["system"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise MitkitError("results must be the dict (or a list of dicts) returned by evaluate_benchmark") from None
        rows += [(name, str(k), agg) for k, agg in by_k] + [(name, "all", overall)]
    columns = [(key, title) for key, title in _TABLE_COLUMNS if any(agg.get(key) is not None for *_, agg in rows)]

    def fmt(value: Any) -> str:
        return "–" if value is None else f"{value:.{digits}f}"

    header = ["system", "parts", "mixes"] + [title for _, title in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|"]
    for name, k, agg in rows:
        cells = [name, k, str(agg.get("n_mixes", ""))] + [fmt(agg.get(key)) for key, _ in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
