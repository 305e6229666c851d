"""What note creation does to the notes its two passes made (steps 4 to 6 of
:func:`mitkit.note_creation.create_notes`): drop the notes that are a stronger note's partial, start each
note where the onset head heard it begin, not where the frame posterior first crossed its threshold, and add
the notes a strong onset marks whose frames stayed under the frame threshold.

Both are mitkit's, chosen on validation benchmarks (their docstrings give the numbers;
``python scripts/validation_study.py`` reprints them).

Notebook: 02_training
"""
from __future__ import annotations

import numbers

import numpy as np

from mitkit.constants import MIDI_MIN
from mitkit.errors import MitkitError
from mitkit.notes import validate_notes

#: Notes weaker than this (mean Y_F) that sit on a partial of a stronger note are dropped (step 4).
DEFAULT_PARTIAL_AMPLITUDE = 0.6


#: Intervals in semitones from a fundamental to its 2nd … 6th harmonics (octave, twelfth, …).
PARTIAL_INTERVALS = (12, 19, 24, 28, 31)


#: A partial note must lie under the stronger note for at least this fraction of its length.
PARTIAL_MIN_OVERLAP = 0.5


#: How far back (in frames, 24 ≈ 279 ms) a note's start may move to the onset peak it grew from (step 5);
#: 0 turns the step off.
DEFAULT_ONSET_LOOKBACK = 24


#: The onset posterior a peak must reach for a note's start to move to it (step 5): above the noise floor,
#: far below any onset threshold (the peak only dates a note the frames already found).
LOOKBACK_MIN_ONSET = 0.05


#: Step 6 (off unless a checkpoint was tuned with it): an onset peak this many times the onset threshold
#: confirms a note that the frame posterior holds only weakly.
DEFAULT_STRONG_ONSET_RATIO = 1.2


#: Step 6: a confirmed note lasts while no note of its pitch started within this many frames before it.
CONFIRMED_CLEARANCE = 2


def remove_partial_notes(notes, *, max_amplitude: float = DEFAULT_PARTIAL_AMPLITUDE,
                         intervals=PARTIAL_INTERVALS, min_overlap: float = PARTIAL_MIN_OVERLAP) -> np.ndarray:
    """Drop weak notes that are a stronger note's partial rather than a note of their own.

    A bright tone puts energy on its 2nd … 6th harmonics (12, 19, 24, 28, 31 semitones up), and the
    frame head sometimes fires there weakly. A note is dropped when its amplitude is below
    ``max_amplitude`` and a *stronger* note ``intervals`` semitones below it sounds during at least
    ``min_overlap`` of its length. On 132 validation chorale mixes (bundled model, thresholds 0.4 / 0.3 / 11,
    ``scripts/validation_study.py``) onset-only note F1 rose from 0.809 to 0.860 (0.6, harmonics 2-6,
    overlap 0.5; 0.7, overlap 0.8 or 1.0, or the octave alone did worse).

    Parameters
    ----------
    notes : NOTE_DTYPE array (frames).
    max_amplitude : float, default 0.6
    intervals : sequence of int, default PARTIAL_INTERVALS
    min_overlap : float in (0, 1], default 0.5

    Returns
    -------
    The kept notes, in their original order.

    Examples
    --------
    >>> import numpy as np
    >>> from mitkit.notes import NOTE_DTYPE
    >>> notes = np.array([(0, 50, 48, 0.9), (5, 40, 67, 0.45), (5, 40, 64, 0.45)], dtype=NOTE_DTYPE)
    >>> remove_partial_notes(notes)["pitch"].tolist()   # 67 is C3's 3rd harmonic; 64 is not a partial
    [48, 64]
    """
    notes = validate_notes(notes)
    if not 0 < min_overlap <= 1:
        raise MitkitError(f"min_overlap={min_overlap!r} must be in (0, 1]")
    s, e, p, a = (notes[k] for k in ("start", "end", "pitch", "amplitude"))
    by_pitch = {int(q): np.flatnonzero(p == q) for q in np.unique(p)}
    keep = np.ones(notes.size, dtype=bool)
    for i in np.flatnonzero(a < max_amplitude).tolist():
        need = min_overlap * (e[i] - s[i])
        for h in intervals:
            js = by_pitch.get(int(p[i]) - h)
            if js is None:
                continue
            overlap = np.minimum(e[js], e[i]) - np.maximum(s[js], s[i])
            if np.any((overlap >= need) & (a[js] > a[i])):
                keep[i] = False
                break
    return notes[keep]


def check_onset_lookback(value) -> int:
    """``value`` as an int >= 0 (frames), or :class:`MitkitError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise MitkitError(f"onset_lookback={value!r} must be an integer >= 0 (frames; 0 turns it off)")
    return int(value)


def start_at_onsets(notes, Y_O, *, lookback: int = DEFAULT_ONSET_LOOKBACK,
                    min_onset: float = LOOKBACK_MIN_ONSET) -> np.ndarray:
    """Move each note's start back to the onset peak it grew from, where the frames found it late.

    A bowed or blown note swells: the onset head marks its start, often below the onset threshold, and the
    frame posterior crosses its threshold some frames later, where the second pass (or an onset inferred
    from the frame rise) starts the note, too late for a 50-ms onset match. Here a note starts instead at
    the strongest value of the onset posterior at its pitch in the ``lookback`` frames before its start,
    where that value reaches ``min_onset`` and is higher than the value at its start, and never before the
    end of an earlier note of that pitch (a repeated note keeps its own start). Ends, pitches and
    amplitudes (the mean frame posterior over the frames that made the note) are unchanged.

    Chosen on the validation benchmarks with the bundled model at its shipped thresholds
    (``python scripts/validation_study.py --on data/chorale-val data/chorale-val-w data/quartet-mvt-val
    data/chorale-val2``): onset-only note F1 with lookback 0 → 8 / 16 / 24 / 48 frames: detached chorales
    0.861 → 0.875 / 0.877 / 0.879 / 0.881, chorales as written 0.873 → 0.889 / 0.891 / 0.892 / 0.895, string
    quartets 0.545 → 0.579 / 0.587 / 0.588 / 0.585, ``data/chorale-val2`` (outside the tuning pool) 0.864 →
    0.880 / 0.884 / 0.885 / 0.886; precision and recall both rise at every setting. 24 and 48 are even over
    the three tuning sets (mean 0.786 / 0.787); 24 is kept, the quartets' best and the shorter reach (a start
    moved less far can land on less that is not its onset in audio unlike these).

    Parameters
    ----------
    notes : NOTE_DTYPE array (frames), as :func:`mitkit.note_creation.create_notes` makes them.
    Y_O : array_like, shape (P=84, T), float in [0, 1]
        Onset posteriorgram (the network's, without onsets inferred from the frames).
    lookback : int >= 0, default 24
        Largest move, in frames; 0 returns the notes unchanged.
    min_onset : float, default 0.05

    Returns
    -------
    The notes in their original order, with the moved starts.

    Examples
    --------
    >>> import numpy as np
    >>> from mitkit.notes import NOTE_DTYPE
    >>> Y_O = np.zeros((84, 60), np.float32); Y_O[36, 12] = 0.3      # onset heard at frame 12, MIDI 60
    >>> notes = np.array([(20, 50, 60, 0.8)], dtype=NOTE_DTYPE)        # the frames found the note at 20
    >>> start_at_onsets(notes, Y_O)["start"].tolist()
    [12]
    """
    notes = validate_notes(notes).copy()
    lookback = check_onset_lookback(lookback)
    if lookback == 0 or notes.size == 0:
        return notes
    Y_O = np.asarray(Y_O)
    previous_end: dict[int, int] = {}  # per pitch row: the latest end of the notes so far
    for i in np.lexsort((notes["start"], notes["pitch"])).tolist():
        row, start = int(notes["pitch"][i]) - MIDI_MIN, int(notes["start"][i])
        lo = max(start - lookback, previous_end.get(row, 0))
        if lo < start:
            window = Y_O[row, lo:start]
            t = int(np.argmax(window))
            if window[t] >= min_onset and window[t] > Y_O[row, start]:
                notes["start"][i] = lo + t
        previous_end[row] = max(previous_end.get(row, 0), int(notes["end"][i]))
    return notes


def check_weak_frame_ratio(value) -> float | None:
    """``value`` as a float in (0, 1), None (step 6 off), or :class:`MitkitError`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise MitkitError(f"weak_frame_ratio={value!r} must be a number in (0, 1), or None (off)")
    return float(value)


def check_strong_onset_ratio(value) -> float:
    """``value`` as a float >= 1, or :class:`MitkitError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 1 <= value <= 10:
        raise MitkitError(f"strong_onset_ratio={value!r} must be a number in [1, 10]")
    return float(value)


def add_onset_confirmed_notes(notes, Y_F, peaks, *, frame_threshold: float, weak_frame_ratio: float,
                              min_note_frames: int) -> np.ndarray:
    """Add the notes that a strong onset marks but whose frames stayed under the frame threshold (step 6).

    A short note in a fast passage, or a bowed note re-attacked at the pitch just played, often leaves a clear
    onset peak and a frame posterior that rises only part of the way: the two passes make no note of it. Here
    each strong onset peak (``peaks``: the caller's peaks of the onset posterior at ``strong_onset_ratio`` times
    the onset threshold) that no note of its pitch covers (from ``CONFIRMED_CLEARANCE`` frames before its start
    to its end) starts a note over the frames that follow it with ``Y_F >= weak_frame_ratio * frame_threshold``,
    no gap bridged, kept when at least ``min_note_frames`` long; peaks are taken latest first, and a note ends
    where a later one starts. Its amplitude is the mean of ``Y_F`` over its frames. The other notes are unchanged.

    A hysteresis (a note that an onset confirms may sound on weaker frames) chosen on the validation benchmarks
    with the model it belongs to (``mitkit tune``; the model card has the numbers).

    Parameters
    ----------
    notes : NOTE_DTYPE array (frames), as steps 1 to 5 made them.
    Y_F : array, shape (P=84, T), float in [0, 1]: the frame posteriorgram.
    peaks : ``(rows, frames)`` int arrays: pitch rows and frames of the confirming onset peaks.
    frame_threshold, weak_frame_ratio, min_note_frames : as in :func:`mitkit.note_creation.create_notes`.

    Returns
    -------
    The notes and the added ones, sorted by (start, pitch).

    Examples
    --------
    >>> import numpy as np
    >>> from mitkit.notes import NOTE_DTYPE
    >>> Y_F = np.zeros((84, 60), np.float32); Y_F[36, 10:20] = 0.2    # weak frames at MIDI 60 after a strong onset
    >>> empty = np.zeros(0, dtype=NOTE_DTYPE)
    >>> add_onset_confirmed_notes(empty, Y_F, (np.array([36]), np.array([10])), frame_threshold=0.5,
    ...                           weak_frame_ratio=0.3, min_note_frames=4)[["start", "end", "pitch"]].tolist()
    [(10, 20, 60)]
    """
    notes = validate_notes(notes)
    rows, frames = (np.asarray(a, dtype=np.int64) for a in peaks)
    if rows.size == 0:
        return notes
    weak = np.asarray(Y_F) >= np.float32(frame_threshold * weak_frame_ratio)
    covered = np.zeros(weak.shape, dtype=bool)
    for start, end, pitch in zip(notes["start"].tolist(), notes["end"].tolist(), notes["pitch"].tolist()):
        covered[pitch - MIDI_MIN, max(start - CONFIRMED_CLEARANCE, 0):end] = True
    weak &= ~covered
    added = []
    for i in np.lexsort((rows, frames))[::-1].tolist():  # latest first: a note ends where a later one starts
        p, t0 = int(rows[i]), int(frames[i])
        if covered[p, t0] or not weak[p, t0]:
            continue
        run = weak[p, t0:]
        end = t0 + (int(np.argmin(run)) if not run.all() else run.size)
        if end - t0 >= min_note_frames:
            weak[p, t0:end] = False
            added.append((t0, end, p + MIDI_MIN, float(np.mean(Y_F[p, t0:end]))))
    if not added:
        return notes
    out = np.concatenate([notes, np.array(added, dtype=notes.dtype)])
    return out[np.lexsort((out["pitch"], out["start"]))]
