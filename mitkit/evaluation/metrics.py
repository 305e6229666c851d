"""Evaluation of multi-instrument transcription: transcription, separation and instrument count.

This module is the task specification of mitkit's evaluation protocol (README.md, "Results":
mir_eval with MIREX tolerances). Every metric comes from ``mir_eval``; this module only converts mitkit's note
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
:func:`load_benchmark` reads either a mitkit chorale benchmark (``index.json``, see ARCHITECTURE.md) or
a folder of ``name.wav|.flac|.ogg|.mp3`` + ``name.mid|.midi`` pairs (one part per non-drum MIDI
instrument). :func:`evaluate_benchmark` runs a :class:`System` on every mix and aggregates per number of
parts; :func:`format_markdown_table` prints one or several systems side by side.

Examples
--------
>>> import numpy as np
>>> from mitkit.evaluation.metrics import transcription_metrics
>>> ref = np.array([[0.10, 0.60, 60, 80], [0.70, 1.20, 62, 80]])
>>> est = np.array([[0.12, 0.58, 60, 90], [0.70, 1.20, 63, 90]])
>>> m = transcription_metrics(ref, est)
>>> round(m["note_f1"], 3)
0.5
"""
from __future__ import annotations

import logging
import math
import warnings
from typing import Any, Sequence

import mir_eval
import numpy as np
from scipy.optimize import linear_sum_assignment

from mitkit.constants import midi_to_hz
from mitkit.errors import MitkitError, warn
from mitkit.note_creation import create_notes
from mitkit.notes import _as_track_list, as_note_array, notes_to_seconds

logger = logging.getLogger(__name__)

__all__ = [
    "FRAME_HOP",
    "ONSET_TOLERANCE",
    "PITCH_TOLERANCE",
    "TRANSCRIPTION_KEYS",
    "AGGREGATE_KEYS",
    "as_note_array",
    "notes_to_frames",
    "transcription_metrics",
    "separation_metrics",
    "note_kinds",
    "recall_by_kind",
    "instrument_count_accuracy",
]

FRAME_HOP = 0.01  # s; frame grid of the frame metrics (MIREX multiple-F0 convention)
ONSET_TOLERANCE = 0.05  # s; mir_eval / MIREX default
PITCH_TOLERANCE = 50.0  # cents; mir_eval / MIREX default (a quarter tone)
OFFSET_RATIO = 0.2  # fraction of the reference duration; mir_eval default
OFFSET_MIN_TOLERANCE = 0.05  # s; mir_eval default

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

# Why a reference note was missed (missed_by_reason), in the order the reasons are tried.
MISS_REASONS = ("late", "early", "inside an earlier note", "octave below", "wrong pitch", "nothing")
NEAR_MISS = 0.15  # s; an estimated note of the right pitch this close to a missed onset makes it "late"/"early"

_TIME_EPS = 1e-9  # s; guards frame-grid comparisons against float rounding of n * frame_hop


# ---- note arrays -----------------------------------------------------------------------------


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
        warn(f"{which} holds no notes: every transcription metric is 0")
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


def note_f1(ref: Any, est: Any, *, onset_tolerance: float = ONSET_TOLERANCE,
            pitch_tolerance: float = PITCH_TOLERANCE) -> float:
    """Onset-only note F1 alone: :func:`transcription_metrics`' ``note_f1`` without the frame metrics, which
    cost far more (mir_eval converts every frame's pitches one by one); what threshold tuning maximises."""
    _check_positive(onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance)
    return _note_prf(as_note_array(ref, "ref"), as_note_array(est, "est"), onset_tolerance=onset_tolerance,
                     pitch_tolerance=pitch_tolerance, offset_ratio=None)[2]


def score_posteriorgrams(ref: Any, Y_F, Y_O, thresholds: dict | None = None) -> tuple[dict[str, float], np.ndarray]:
    """Make notes from posteriorgrams (:func:`mitkit.note_creation.create_notes` at ``thresholds``) and
    score them against reference notes: the one "posteriorgram vs reference" scorer (training checks,
    tuning, notebook studies). An empty estimate or reference scores 0 without a warning.

    Returns
    -------
    metrics : :func:`transcription_metrics` of the notes; notes : the estimate, ``(N, 4)`` seconds.
    """
    est = notes_to_seconds(create_notes(Y_F, Y_O, **(thresholds or {})))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transcription_metrics(ref, est), est


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
    ref, kinds, _, matched = _matched_reference(parts, est, onset_tolerance, pitch_tolerance)
    return {k: [int(np.count_nonzero(matched & (kinds == k))), int(np.count_nonzero(kinds == k))] for k in NOTE_KINDS}


def _matched_reference(parts, est, onset_tolerance: float, pitch_tolerance: float):
    """All parts' notes pooled ``(N, 4)``, their :func:`note_kinds`, ``est`` as an array, and which reference
    notes mir_eval's one-to-one onset-only matching pairs with an estimated note."""
    _check_positive(onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance)
    arrays = [a for a in _as_track_list(parts, "parts") if len(a)]
    ref = np.concatenate(arrays) if arrays else np.zeros((0, 4))
    kinds = np.concatenate([note_kinds(a) for a in arrays]) if arrays else np.zeros(0, str)
    est_arr = as_note_array(est, "est")
    matched = np.zeros(len(ref), bool)
    if len(est_arr) and len(ref):
        pairs = mir_eval.transcription.match_notes(
            ref[:, :2], midi_to_hz(ref[:, 2]), est_arr[:, :2], midi_to_hz(est_arr[:, 2]),
            onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance, offset_ratio=None)
        matched[[i for i, _ in pairs]] = True
    return ref, kinds, est_arr, matched


def missed_by_reason(parts: Sequence[Any], est: Any, *, onset_tolerance: float = ONSET_TOLERANCE,
                     near: float = NEAR_MISS) -> dict[str, dict[str, int]]:
    """Why the reference notes that the onset-only match of :func:`recall_by_kind` misses are missed:
    ``{kind: {reason: count}}`` over :data:`NOTE_KINDS` and :data:`MISS_REASONS`. A missed note takes the
    first reason that applies: an estimated note of its pitch starts within ``near`` seconds after it
    (``"late"``) or before it (``"early"``); one of its pitch sounds through its onset (``"inside an earlier
    note"``, a re-attack merged); one starts within ``onset_tolerance`` an octave below (``"octave below"``,
    an octave doubling heard as the lower note alone) or at another octave or a semitone away (``"wrong
    pitch"``); else ``"nothing"``.

    Examples
    --------
    >>> part = np.array([[0.0, 0.5, 60, 80], [0.5, 1.0, 60, 80], [1.0, 1.5, 72, 80], [2.0, 2.5, 64, 80]])
    >>> est = np.array([[0.0, 1.0, 60, 80], [1.0, 1.5, 60, 80]])
    >>> missed_by_reason([part], est)["repeated"]["inside an earlier note"], missed_by_reason([part], est)["other"]
    (1, {'late': 0, 'early': 0, 'inside an earlier note': 0, 'octave below': 1, 'wrong pitch': 0, 'nothing': 1})
    """
    ref, kinds, est, matched = _matched_reference(parts, est, onset_tolerance, PITCH_TOLERANCE)
    counts = {k: dict.fromkeys(MISS_REASONS, 0) for k in NOTE_KINDS}
    for onset, pitch, kind in zip(ref[~matched, 0], ref[~matched, 2], kinds[~matched]):
        same = est[est[:, 2] == pitch]
        lag = same[:, 0] - onset
        at_onset = np.abs(est[:, 0] - onset) <= onset_tolerance
        step = est[at_onset, 2] - pitch
        if np.any(np.abs(lag) <= near):
            reason = "late" if lag[np.argmin(np.abs(lag))] > 0 else "early"
        elif np.any((same[:, 0] < onset) & (same[:, 1] > onset)):
            reason = "inside an earlier note"
        elif np.any(step == -12):
            reason = "octave below"
        elif np.any((np.abs(step) <= 1) | (np.abs(step) % 12 == 0)):
            reason = "wrong pitch"
        else:
            reason = "nothing"
        counts[str(kind)][reason] += 1
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
        warn(f"{what}: separation_f1 is 0")
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
        warn("no counts given: instrument_count_accuracy is 0")
        return 0.0
    return float(np.mean(true == est))


# ---- systems -----------------------------------------------------------------------------------


# ---- benchmarks --------------------------------------------------------------------------------


