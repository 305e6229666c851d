"""Note creation: from frame and onset posteriorgrams to note events.

This is mitkit's own implementation of the post-processing popularised by Spotify's basic-pitch
("note creation", Bittner et al., ICASSP 2022) and used by the paper mitkit reproduces
(arXiv 2509.12712). It is plain NumPy, separate from the network, and fast enough for a
10-minute file (T ≈ 51,700 frames) in well under a second.

Notebook: 02_training

Conventions
-----------
- ``Y_F`` (frame posteriorgram) and ``Y_O`` (onset posteriorgram) are float arrays of shape
  ``(P=84, T)`` with values in [0, 1]; row p is MIDI pitch ``MIDI_MIN + p``; frame t is centred on
  time ``t / FRAME_RATE`` seconds.
- A note is a record of :data:`NOTE_DTYPE`: ``start`` and ``end`` in frames (``end`` exclusive),
  ``pitch`` as a MIDI number, ``amplitude`` = mean of ``Y_F`` over the note's frames at its pitch (the
  frames that made it: step 5 may move its start earlier without changing it).
- A frame is *active* at pitch p when ``Y_F[p, t] >= frame_threshold``.

Algorithm (:func:`create_notes`)
--------------------------------
0. *Onset level* (``onset_reference``, mitkit's): the onset and re-onset thresholds follow the audio's onset
   level (:func:`mitkit.onset_level.scale_to_onset_level`), lower where the network marks onsets weakly.
1. *Inferred onsets* (``infer_onsets=True``): the rise of ``Y_F`` over the last 1 and 2 frames
   (the smaller of the two, negative rises set to 0) is rescaled so that its largest value equals
   ``max(Y_O.max(), Y_F.max())`` and combined with ``Y_O`` by an element-wise maximum. Using
   ``Y_F.max()`` as well as ``Y_O.max()`` (basic-pitch uses ``Y_O.max()`` only) lets a clear rise of
   the frame posteriorgram make a note even where the onset head stayed silent.
2. *Onset pass*: onset candidates are the local maxima in time (the first frame of a plateau) of
   the combined onset map that reach ``onset_threshold``. They are processed from the latest to the
   earliest. From its onset frame a note extends forward over active frames, bridging gaps, until
   ``energy_tolerance`` consecutive inactive frames; it ends after its last active frame. Notes
   shorter than ``min_note_frames`` are dropped. A kept note *claims* its frames: they become
   inactive at its pitch and, with ``claim_neighbours=True`` (basic-pitch's rule, the default), at
   the two neighbouring semitones, so they are not reused. An onset whose note is too short only
   because it runs straight into a later note of the same pitch (a doubled onset peak) moves that
   later note's start back instead of being lost.
3. *Second pass* (``second_pass=True``, basic-pitch's "melodia trick"): the strongest remaining
   active frame seeds a note that is walked forward and backward with the same gap rule; its frames
   are claimed, and kept if long enough. This repeats, in decreasing order of ``Y_F``, until no
   active frame is left. It recovers sustained notes whose onset was missed.
4. *Partials* (mitkit's, ``partial_amplitude=0.6``): a weak note on the 2nd … 6th harmonic of a
   stronger note that sounds over at least half of it is dropped
   (:func:`mitkit.note_refinement.remove_partial_notes`).
5. *Starts at the onset* (mitkit's, ``onset_lookback=24``): a note whose frames rose later than the onset
   head's peak at its pitch (a slow attack) starts at that peak, up to 24 frames earlier
   (:func:`mitkit.note_refinement.start_at_onsets`).
6. *Notes an onset confirms* (mitkit's, ``weak_frame_ratio``, off by default): a strong onset peak (``Y_O`` at
   ``strong_onset_ratio`` times the onset threshold) that no note covers starts a note held by frames down to
   ``weak_frame_ratio`` times the frame threshold (:func:`mitkit.note_refinement.add_onset_confirmed_notes`).

Differences from basic-pitch, on purpose: ``end`` is exclusive everywhere (basic-pitch's second
pass drops the last frame), walks reach the first and last frames, a note must have at least
``min_note_frames`` frames (basic-pitch: more than ``min_note_len``), plateaus of the onset map
count as peaks, and only kept notes dampen their neighbouring semitones.
"""
from __future__ import annotations

import logging
import numbers

import numpy as np

from mitkit.constants import MIDI_MIN, N_PITCHES
from mitkit.errors import MitkitError, warn
from mitkit.note_refinement import (
    DEFAULT_ONSET_LOOKBACK,
    DEFAULT_PARTIAL_AMPLITUDE,
    DEFAULT_STRONG_ONSET_RATIO,
    add_onset_confirmed_notes,
    check_onset_lookback,
    check_strong_onset_ratio,
    check_weak_frame_ratio,
    remove_partial_notes,
    start_at_onsets,
)
from mitkit.notes import NOTE_DTYPE, empty_notes
from mitkit.onset_level import scale_to_onset_level

logger = logging.getLogger(__name__)


DEFAULT_ONSET_THRESHOLD = 0.5  # onset posterior a peak must reach to start a note


DEFAULT_FRAME_THRESHOLD = 0.3  # frame posterior at which a frame counts as active

# Re-onsets (repeated notes without a gap) are off unless a checkpoint was tuned with them: the frame
# posterior does not mark them, so only a model whose onset head learned them can use the rule.
DEFAULT_REONSET_THRESHOLD = None


# The paper keeps notes longer than ≈ 7.5 frames (≈ 87 ms); as an integer count of frames
# this is "at least 8 frames" (8 / FRAME_RATE ≈ 92.9 ms).
DEFAULT_MIN_NOTE_FRAMES = 8


# inactive frames (≈ 128 ms) that end a note; shorter gaps are bridged
DEFAULT_ENERGY_TOLERANCE = 11


# basic-pitch's rule: a kept note also silences the semitones either side of it (against ghost notes of
# vibrato and pitch bends). It also hides a real note a semitone away, as when two parts sound a
# semitone apart; checkpoints tuned without it store ``claim_neighbours: False`` in their thresholds.
DEFAULT_CLAIM_NEIGHBOURS = True


_N_DIFF = 2  # onset inference: rise measured over the last 1 and 2 frames (basic-pitch's n_diff)


_WALK_CHUNK = 64  # first look-ahead of a walk, in frames; doubled while the note goes on


# ---------------------------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------------------------
def _check_posteriorgram(name: str, X) -> np.ndarray:
    """Return ``X`` as float32 ``(N_PITCHES, T)`` in [0, 1], or raise :class:`MitkitError`."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] != N_PITCHES:
        raise MitkitError(f"{name}.shape={X.shape} must be ({N_PITCHES}, T)")
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)
            or X.dtype == bool):
        raise MitkitError(f"{name}.dtype={X.dtype} must be a real number type")
    X = X.astype(np.float32, copy=False)
    if X.size:
        if not np.isfinite(X).all():
            raise MitkitError(f"{name} must be finite (it contains NaN or inf)")
        lo, hi = float(X.min()), float(X.max())
        if lo < 0.0 or hi > 1.0:
            raise MitkitError(f"{name} must hold values in [0, 1], got min={lo:g}, max={hi:g}")
    return X


def _check_threshold(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 < value <= 1.0:
        raise MitkitError(f"{name}={value!r} must be a number in (0, 1]")
    return float(value)


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise MitkitError(f"{name}={value!r} must be an integer >= 1")
    return int(value)


def check_note_settings(*, onset_threshold=DEFAULT_ONSET_THRESHOLD, frame_threshold=DEFAULT_FRAME_THRESHOLD,
                        min_note_frames=DEFAULT_MIN_NOTE_FRAMES, energy_tolerance=DEFAULT_ENERGY_TOLERANCE,
                        partial_amplitude=DEFAULT_PARTIAL_AMPLITUDE,
                        reonset_threshold=DEFAULT_REONSET_THRESHOLD,
                        claim_neighbours=DEFAULT_CLAIM_NEIGHBOURS, onset_reference=None,
                        onset_lookback=DEFAULT_ONSET_LOOKBACK, weak_frame_ratio=None,
                        strong_onset_ratio=DEFAULT_STRONG_ONSET_RATIO) -> dict:
    """Validate :func:`create_notes`'s settings and return them as a dict of plain numbers.

    Callers run it before any expensive work (``mitkit.transcription`` checks thresholds before the
    network runs), so a bad value is reported at once.

    Raises
    ------
    MitkitError
        When a threshold is not in (0, 1] (``reonset_threshold``, ``onset_reference`` may be None: off), a
        frame count is not an integer >= 1 (``onset_lookback``: >= 0), ``partial_amplitude`` not in [0, 1],
        ``claim_neighbours`` not a bool, ``weak_frame_ratio`` not in (0, 1) or None, or ``strong_onset_ratio``
        not in [1, 10].
    """
    if isinstance(partial_amplitude, bool) or not isinstance(partial_amplitude, numbers.Real) \
            or not 0 <= partial_amplitude <= 1:
        raise MitkitError(f"partial_amplitude={partial_amplitude!r} must be a number in [0, 1]")
    if not isinstance(claim_neighbours, (bool, np.bool_)):
        raise MitkitError(f"claim_neighbours={claim_neighbours!r} must be True or False")
    return {"onset_threshold": _check_threshold("onset_threshold", onset_threshold),
            "frame_threshold": _check_threshold("frame_threshold", frame_threshold),
            "min_note_frames": _check_positive_int("min_note_frames", min_note_frames),
            "energy_tolerance": _check_positive_int("energy_tolerance", energy_tolerance),
            "partial_amplitude": float(partial_amplitude),
            "reonset_threshold": None if reonset_threshold is None
            else _check_threshold("reonset_threshold", reonset_threshold),
            "claim_neighbours": bool(claim_neighbours),
            "onset_reference": None if onset_reference is None
            else _check_threshold("onset_reference", onset_reference),
            "onset_lookback": check_onset_lookback(onset_lookback),
            "weak_frame_ratio": check_weak_frame_ratio(weak_frame_ratio),
            "strong_onset_ratio": check_strong_onset_ratio(strong_onset_ratio)}


# ---------------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------------
def add_inferred_onsets(Y_F: np.ndarray, Y_O: np.ndarray) -> np.ndarray:
    """Combine the onset posteriorgram with onsets inferred from rises of the frame posteriorgram.

    The rise at frame t is ``min(Y_F[:, t] - Y_F[:, t-1], Y_F[:, t] - Y_F[:, t-2])`` (0 for the
    first two frames and wherever it is negative). It is rescaled so that its maximum equals
    ``max(Y_O.max(), Y_F.max())`` and combined with ``Y_O`` by an element-wise maximum.

    Parameters
    ----------
    Y_F, Y_O : np.ndarray, shape (P, T), float in [0, 1]
        Frame and onset posteriorgrams (not validated here; see :func:`create_notes`).

    Returns
    -------
    np.ndarray, shape (P, T), float32 in [0, 1]
        The combined onset map.

    Notebook: 02_training
    """
    Y_F = np.asarray(Y_F, dtype=np.float32)
    Y_O = np.asarray(Y_O, dtype=np.float32)
    rise = np.zeros_like(Y_F)
    T = Y_F.shape[1]
    if T > _N_DIFF:
        cur = Y_F[:, _N_DIFF:]
        r = cur - Y_F[:, _N_DIFF - 1:-1]  # rise over 1 frame
        for n in range(2, _N_DIFF + 1):
            np.minimum(r, cur - Y_F[:, _N_DIFF - n:T - n], out=r)  # rise over n frames
        np.maximum(r, 0.0, out=r)
        rise[:, _N_DIFF:] = r
    peak = float(rise.max()) if rise.size else 0.0
    if peak > 0.0:
        scale = max(float(Y_O.max()), float(Y_F.max()))
        rise *= np.float32(scale / peak)
    return np.maximum(Y_O, rise)


def _onset_peaks(O: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Local maxima in time of ``O`` (P, T) reaching ``threshold``: (pitch rows, frames), unsorted.

    A plateau counts once, at its first frame; frames outside the array count as 0, so the first
    and the last frame can be peaks. (What ``scipy.signal.find_peaks(row, height=threshold,
    plateau_size=1)`` finds, with its left edges, for all rows at once: importing scipy.signal took
    0.7 s of every transcription.)
    """
    candidates = np.flatnonzero((O >= threshold).any(axis=1))
    X = np.pad(O[candidates].astype(np.float64), ((0, 0), (1, 1)))  # a zero frame either side
    starts = np.ones(X.shape, dtype=bool)
    starts[:, 1:] = X[:, 1:] != X[:, :-1]
    r, c = np.nonzero(starts)  # every run of equal values, row by row, in time order
    value = X[r, c]
    inner = np.zeros(r.size, dtype=bool)  # runs with a neighbour run on both sides, in the same row
    inner[1:-1] = (r[:-2] == r[1:-1]) & (r[2:] == r[1:-1])
    higher = np.zeros(r.size, dtype=bool)
    higher[1:-1] = (value[1:-1] > value[:-2]) & (value[1:-1] > value[2:])
    peak = inner & higher & (value >= threshold)
    return candidates[r[peak]].astype(np.int64), (c[peak] - 1).astype(np.int64)


def _add_reonsets(rows, frames, Y_O, active, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Onset candidates plus *re-onsets*: peaks of the onset posterior ``Y_O`` (not of the combined map)
    that reach ``threshold`` while the pitch was already sounding in the frame before. A repeated note
    played without a gap leaves no rise in ``Y_F``; only the onset head can mark it. Processed with the
    other onsets (latest first), a re-onset's note claims its frames, so the note before it ends there.
    """
    r2, f2 = _onset_peaks(Y_O, threshold)
    sounding = (f2 > 0) & active[r2, np.maximum(f2 - 1, 0)]
    if not sounding.any():
        return rows, frames
    pairs = np.unique(np.concatenate([np.stack([rows, frames], 1), np.stack([r2[sounding], f2[sounding]], 1)]), axis=0)
    return pairs[:, 0], pairs[:, 1]


def _walk(active: np.ndarray, t0: int, tolerance: int) -> int:
    """Walk forward along one pitch row from frame ``t0`` (which belongs to the note).

    Returns the exclusive end of the note: one past its last active frame before the first run of
    ``tolerance`` inactive frames (or before the end of the row). Looks ahead in growing chunks so
    a note costs a handful of vectorised calls whatever its length.
    """
    T = active.shape[0]
    last = t0  # last frame known to belong to the note
    pos = t0 + 1
    if not active[pos:pos + tolerance].any():  # fast path: nothing active right after t0
        return last + 1
    width = _WALK_CHUNK
    while pos < T:
        stop = min(T, pos + width)
        on = active[pos:stop].nonzero()[0]
        if on.size:
            on += pos
            if on[0] - last - 1 >= tolerance:  # inactive frames before the first active one
                return last + 1
            big = (on[1:] - on[:-1] - 1 >= tolerance).nonzero()[0]  # gaps inside the chunk
            if big.size:
                return int(on[big[0]]) + 1
            last = int(on[-1])
        if stop - last - 1 >= tolerance:
            return last + 1
        pos = stop
        width *= 2
    return last + 1


def _claim(active: np.ndarray, p: int, start: int, end: int, neighbours: bool) -> None:
    """Mark frames ``start:end`` inactive at row p (and at p ± 1 when ``neighbours``)."""
    lo = max(p - 1, 0) if neighbours else p
    hi = min(p + 2, active.shape[0]) if neighbours else p + 1
    active[lo:hi, start:end] = False


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------
def create_notes(
    Y_F,
    Y_O,
    *,
    onset_threshold: float = DEFAULT_ONSET_THRESHOLD,
    frame_threshold: float = DEFAULT_FRAME_THRESHOLD,
    min_note_frames: int = DEFAULT_MIN_NOTE_FRAMES,
    energy_tolerance: int = DEFAULT_ENERGY_TOLERANCE,
    infer_onsets: bool = True,
    second_pass: bool = True,
    partial_amplitude: float = DEFAULT_PARTIAL_AMPLITUDE,
    reonset_threshold: float | None = DEFAULT_REONSET_THRESHOLD,
    claim_neighbours: bool = DEFAULT_CLAIM_NEIGHBOURS,
    onset_reference: float | None = None,
    onset_lookback: int = DEFAULT_ONSET_LOOKBACK,
    weak_frame_ratio: float | None = None,
    strong_onset_ratio: float = DEFAULT_STRONG_ONSET_RATIO,
) -> np.ndarray:
    """Turn frame and onset posteriorgrams into notes (BasicPitch-style note creation).

    See the module docstring for the algorithm. Silence (no active frame, no onset) gives an empty
    array without a warning: warning about "no notes" is the caller's job. A posteriorgram with no
    frames at all (T = 0) warns and returns an empty array.

    Parameters
    ----------
    Y_F : array_like, shape (P=84, T), float in [0, 1]
        Frame posteriorgram: probability that pitch p sounds at frame t.
    Y_O : array_like, shape (P=84, T), float in [0, 1]
        Onset posteriorgram: probability that a note of pitch p starts at frame t.
    onset_threshold : float in (0, 1], default 0.5
        Onset posterior (after onset inference) that a local maximum must reach to start a note.
    frame_threshold : float in (0, 1], default 0.3
        Frame posterior at which a frame counts as active (``Y_F >= frame_threshold``).
    min_note_frames : int >= 1, default 8
        Shortest note kept, in frames (8 frames ≈ 92.9 ms: the paper's "longer than ≈ 87 ms").
    energy_tolerance : int >= 1, default 11
        Number of consecutive inactive frames (11 frames ≈ 128 ms) that ends a note; shorter gaps
        are bridged.
    infer_onsets : bool, default True
        Add onsets inferred from rises of ``Y_F`` (see :func:`add_inferred_onsets`).
    second_pass : bool, default True
        Make notes from the strongest remaining active frames after the onset pass
        (basic-pitch's "melodia trick").
    partial_amplitude : float in [0, 1], default 0.6
        Drop notes weaker than this that sit on a partial of a stronger, sounding note
        (:func:`remove_partial_notes`); 0 keeps every note.
    reonset_threshold : float in (0, 1] or None (default: off)
        A peak of ``Y_O`` at least this high, at a pitch that was already sounding, starts a new note
        there (a repeated note without a gap); chosen on validation with the model it belongs to.
    claim_neighbours : bool, default True
        A kept note also makes its frames inactive at the semitones either side (basic-pitch's rule).
        False keeps notes a semitone from a sounding one; chosen on validation with the model (the bundled
        model's thresholds keep it on since they were retuned with step 5; they had turned it off before).
    onset_reference : float in (0, 1] or None (default: off)
        The onset level (:func:`mitkit.onset_level.onset_level`) of the validation audio ``onset_threshold``
        was tuned on: the onset and re-onset thresholds then follow this audio's own level
        (:func:`mitkit.onset_level.scale_to_onset_level`), lower where the network's onset peaks are lower
        throughout (bowed strings, sounds it never heard).
    onset_lookback : int >= 0, default 24
        A note's start moves back up to this many frames, to the onset peak it grew from, where the frame
        posterior found it late (:func:`mitkit.note_refinement.start_at_onsets`); 0 keeps the starts.
    weak_frame_ratio : float in (0, 1) or None (default: off)
        Step 6: a peak of ``Y_O`` of at least ``strong_onset_ratio`` times the onset threshold that no note
        covers starts a note over the frames with ``Y_F >= weak_frame_ratio * frame_threshold``
        (:func:`mitkit.note_refinement.add_onset_confirmed_notes`); chosen on validation with the model.
    strong_onset_ratio : float in [1, 10], default 1.2
        How far above the (level-scaled) onset threshold a peak must be to confirm a note in step 6.

    Returns
    -------
    np.ndarray, shape (N,), dtype NOTE_DTYPE
        Notes sorted by (start, pitch): ``start``/``end`` in frames (end exclusive), ``pitch`` as a
        MIDI number, ``amplitude`` = mean of ``Y_F`` over the frames that made the note (before step 5), in [0, 1].

    Raises
    ------
    MitkitError
        When a posteriorgram is not ``(84, T)``, the two shapes differ, a value is NaN/inf or
        outside [0, 1], or a parameter is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from mitkit.note_creation import create_notes
    >>> Y_F = np.zeros((84, 100), np.float32); Y_O = np.zeros_like(Y_F)
    >>> Y_F[36, 10:40] = 0.9; Y_O[36, 10] = 0.8          # one note, MIDI 60, frames 10..39
    >>> create_notes(Y_F, Y_O)[["start", "end", "pitch"]].tolist()
    [(10, 40, 60)]

    Notebook: 02_training
    """
    Y_F = _check_posteriorgram("Y_F", Y_F)
    Y_O = _check_posteriorgram("Y_O", Y_O)
    if Y_F.shape != Y_O.shape:
        raise MitkitError(f"Y_O.shape={Y_O.shape} must equal Y_F.shape={Y_F.shape}")
    settings = check_note_settings(onset_threshold=onset_threshold, frame_threshold=frame_threshold,
                                   min_note_frames=min_note_frames, energy_tolerance=energy_tolerance,
                                   partial_amplitude=partial_amplitude, reonset_threshold=reonset_threshold,
                                   claim_neighbours=claim_neighbours, onset_reference=onset_reference,
                                   onset_lookback=onset_lookback, weak_frame_ratio=weak_frame_ratio,
                                   strong_onset_ratio=strong_onset_ratio)
    settings = scale_to_onset_level(settings, Y_O)
    onset_threshold, frame_threshold = settings["onset_threshold"], settings["frame_threshold"]
    min_note_frames, energy_tolerance = settings["min_note_frames"], settings["energy_tolerance"]
    partial_amplitude, reonset_threshold = settings["partial_amplitude"], settings["reonset_threshold"]
    claim_neighbours, onset_lookback = settings["claim_neighbours"], settings["onset_lookback"]
    weak_frame_ratio = settings["weak_frame_ratio"]

    P, T = Y_F.shape
    if T == 0:
        warn("create_notes: the posteriorgrams have no frames (T=0); no notes")
        return empty_notes()

    onset_map = add_inferred_onsets(Y_F, Y_O) if infer_onsets else Y_O
    active = Y_F >= np.float32(frame_threshold)  # (P, T) bool; claimed frames are set False

    starts: list[int] = []
    ends: list[int] = []
    pitches: list[int] = []

    # ---- 1. onset pass: latest onset first -----------------------------------------------------
    rows, frames = _onset_peaks(onset_map, onset_threshold)
    if reonset_threshold is not None:
        rows, frames = _add_reonsets(rows, frames, Y_O, active, reonset_threshold)
    order = np.lexsort((rows, frames))[::-1]  # by frame then pitch, descending
    next_note = np.full(P, -1, dtype=np.int64)  # per pitch: index of the earliest note so far
    for p, t0 in zip(rows[order].tolist(), frames[order].tolist()):
        row = active[p]
        end = _walk(row, t0, energy_tolerance)
        if end - t0 >= min_note_frames:
            _claim(active, p, t0, end, neighbours=claim_neighbours)
            next_note[p] = len(starts)
            starts.append(t0)
            ends.append(end)
            pitches.append(p)
            continue
        j = next_note[p]
        if j >= 0 and end == starts[j] and t0 < starts[j]:
            # too short only because it runs into a later note: a doubled onset of that note
            _claim(active, p, t0, starts[j], neighbours=claim_neighbours)
            starts[j] = t0

    # ---- 2. second pass: strongest remaining active frame first ----------------------------------
    if second_pass and active.any():
        flat = np.flatnonzero(active)  # C order: p-major, as np.argmax would scan
        # A walk never crosses `energy_tolerance` inactive frames and claims only shrink the
        # active set, so a seed can only yield a note inside its current "segment" (active frames
        # of one row joined across shorter gaps). Seeds in segments shorter than min_note_frames
        # can never make a note, and dropping them changes nothing else: skip them (speed only).
        rows_, frames_ = np.divmod(flat, T)
        new_seg = np.ones(flat.size, dtype=bool)
        new_seg[1:] = (rows_[1:] != rows_[:-1]) | (np.diff(frames_) - 1 >= energy_tolerance)
        seg_id = np.cumsum(new_seg) - 1
        last_of_seg = np.append(new_seg[1:], True)
        span = frames_[last_of_seg] - frames_[new_seg] + 1  # per segment, in frames
        flat = flat[span[seg_id] >= min_note_frames]
        order = np.argsort(-Y_F.ravel()[flat], kind="stable")
        active_flat = active.reshape(-1)  # a view: claims show up here
        rev = active[:, ::-1]  # reversed-time view for the backward walk
        for idx in flat[order].tolist():
            if not active_flat[idx]:
                continue
            p, t = divmod(idx, T)
            end = _walk(active[p], t, energy_tolerance)
            start = T - _walk(rev[p], T - 1 - t, energy_tolerance)
            keep = end - start >= min_note_frames
            _claim(active, p, start, end, neighbours=keep and claim_neighbours)
            if keep:
                starts.append(start)
                ends.append(end)
                pitches.append(p)

    if not starts and weak_frame_ratio is None:
        return empty_notes()
    notes = np.zeros(len(starts), dtype=NOTE_DTYPE)
    notes["start"] = starts
    notes["end"] = ends
    notes["pitch"] = np.asarray(pitches) + MIDI_MIN
    # mean of Y_F over each note's frames at its pitch, from running sums of the rows used
    rows = np.asarray(pitches, dtype=np.int64)
    used, row_of = np.unique(rows, return_inverse=True)
    csum = np.zeros((used.size, T + 1))  # (rows used, T + 1) float64
    np.cumsum(Y_F[used], axis=1, dtype=np.float64, out=csum[:, 1:])
    s_, e_ = notes["start"], notes["end"]
    notes["amplitude"] = (csum[row_of, e_] - csum[row_of, s_]) / (e_ - s_)
    notes = notes[np.lexsort((notes["pitch"], notes["start"]))]
    # ---- 4. partials mistaken for notes -----------------------------------------------------------
    if partial_amplitude > 0:
        notes = remove_partial_notes(notes, max_amplitude=partial_amplitude)
    # ---- 5. starts where the onset head heard them -------------------------------------------------
    if onset_lookback > 0:
        notes = start_at_onsets(notes, Y_O, lookback=onset_lookback)
        notes = notes[np.lexsort((notes["pitch"], notes["start"]))]
    # ---- 6. notes a strong onset confirms on weaker frames ------------------------------------------
    if weak_frame_ratio is not None:
        peaks = _onset_peaks(Y_O, onset_threshold * settings["strong_onset_ratio"])
        notes = add_onset_confirmed_notes(notes, Y_F, peaks, frame_threshold=frame_threshold,
                                          weak_frame_ratio=weak_frame_ratio, min_note_frames=min_note_frames)
    logger.debug("create_notes: %d notes from T=%d frames", notes.size, T)
    return notes


# Used when a checkpoint carries no tuned thresholds (basic-pitch's defaults, as the paper uses them).
DEFAULT_THRESHOLDS = {"onset_threshold": 0.5, "frame_threshold": 0.3, "min_note_frames": 8, "energy_tolerance": 11}
