"""What note creation does to the notes its two passes made (steps 4 and 5 of
:func:`mitkit.note_creation.create_notes`): drop the notes that are a stronger note's partial, and start each
note where the onset head heard it begin, not where the frame posterior first crossed its threshold.

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
