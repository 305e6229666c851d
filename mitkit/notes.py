"""Note formats: the two ways mitkit writes a note, and conversions between them and piano rolls.

- **Frames** (:data:`NOTE_DTYPE`, structured array): ``start`` and ``end`` in frames at
  ``FRAME_RATE`` (``end`` exclusive), ``pitch`` as a MIDI number and ``amplitude`` (mean frame
  posterior). What note creation (:mod:`mitkit.note_creation`) makes and clustering reads.
- **Seconds** (``(N, 4)`` float array ``[onset_s, offset_s, midi_pitch, velocity]``, or
  :class:`Note` objects in a :class:`Track`): what users, exports and metrics see.
  :func:`as_note_array` accepts every spelling of this format and is its one validator.

Conversions: :func:`notes_to_seconds` / :func:`seconds_to_notes` between the two, and
:func:`note_rolls` / :func:`rolls_to_notes` between seconds and frame/onset piano rolls.

Notebook: 02_training, 05_transcribe_your_own_audio
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mitkit.constants import FRAME_RATE, HOP_LENGTH, MIDI_MAX, MIDI_MIN, N_PITCHES
from mitkit.errors import MitkitError

logger = logging.getLogger(__name__)

__all__ = [
    "NOTE_DTYPE",
    "empty_notes",
    "notes_to_seconds",
    "seconds_to_notes",
    "validate_notes",
]

#: Record type of one note: frames (``end`` exclusive), MIDI pitch, mean frame posterior in [0, 1].
NOTE_DTYPE = np.dtype([("start", "i8"), ("end", "i8"), ("pitch", "i8"), ("amplitude", "f4")])


def empty_notes() -> np.ndarray:
    """An empty note array, shape ``(0,)``, dtype :data:`NOTE_DTYPE`."""
    return np.zeros(0, dtype=NOTE_DTYPE)


def validate_notes(notes, n_frames: int | None = None) -> np.ndarray:
    """Check a note array and return it as :data:`NOTE_DTYPE`.

    Parameters
    ----------
    notes : np.ndarray, shape (N,)
        Structured array with at least the fields ``start``, ``end``, ``pitch`` (``amplitude`` is
        filled with 1.0 when missing).
    n_frames : int, optional
        Number of frames T of the posteriorgram the notes index into; when given,
        ``end <= n_frames`` is checked.

    Returns
    -------
    np.ndarray, shape (N,), dtype NOTE_DTYPE

    Raises
    ------
    MitkitError
        When a field is missing, ``start >= end``, ``start < 0``, a pitch is outside
        ``MIDI_MIN..MIDI_MAX`` or ``end > n_frames``.
    """
    notes = np.asarray(notes)
    names = notes.dtype.names or ()
    missing = [f for f in ("start", "end", "pitch") if f not in names]
    if notes.ndim != 1 or missing:
        raise MitkitError(f"notes (dtype={notes.dtype}, ndim={notes.ndim}) must be a 1-D array "
                          f"with fields start, end, pitch (see mitkit.notes.NOTE_DTYPE)")
    out = np.zeros(notes.shape[0], dtype=NOTE_DTYPE)
    for f in ("start", "end", "pitch"):
        out[f] = notes[f]
    out["amplitude"] = notes["amplitude"] if "amplitude" in names else 1.0
    if out.size:
        bad = np.flatnonzero((out["start"] < 0) | (out["end"] <= out["start"]))
        if bad.size:
            i = int(bad[0])
            raise MitkitError(f"notes[{i}] (start={out['start'][i]}, end={out['end'][i]}) "
                              f"must satisfy 0 <= start < end")
        bad = np.flatnonzero((out["pitch"] < MIDI_MIN) | (out["pitch"] > MIDI_MAX))
        if bad.size:
            i = int(bad[0])
            raise MitkitError(f"notes[{i}].pitch={out['pitch'][i]} must be in "
                              f"{MIDI_MIN}..{MIDI_MAX}")
        if n_frames is not None and out["end"].max() > n_frames:
            i = int(np.argmax(out["end"]))
            raise MitkitError(f"notes[{i}].end={out['end'][i]} must be at most the number of "
                              f"frames T={n_frames}")
    return out


def notes_to_seconds(notes) -> np.ndarray:
    """Convert notes in frames to the evaluation format ``(N, 4)`` in seconds.

    Parameters
    ----------
    notes : np.ndarray, shape (N,), dtype NOTE_DTYPE
        As returned by :func:`create_notes`.

    Returns
    -------
    np.ndarray, shape (N, 4), float64
        Columns ``onset_s = start / FRAME_RATE``, ``offset_s = end / FRAME_RATE``, ``midi_pitch``,
        ``velocity = round(127 * amplitude)`` clipped to 1..127.

    Examples
    --------
    >>> import numpy as np
    >>> from mitkit.notes import NOTE_DTYPE, notes_to_seconds
    >>> n = np.array([(0, 86, 60, 0.5)], dtype=NOTE_DTYPE)
    >>> notes_to_seconds(n).round(3).tolist()
    [[0.0, 0.998, 60.0, 64.0]]
    """
    notes = validate_notes(notes)
    out = np.zeros((notes.size, 4), dtype=np.float64)
    out[:, 0] = notes["start"] / FRAME_RATE
    out[:, 1] = notes["end"] / FRAME_RATE
    out[:, 2] = notes["pitch"]
    out[:, 3] = np.clip(np.round(notes["amplitude"].astype(np.float64) * 127), 1, 127)
    return out


def seconds_to_notes(note_list) -> np.ndarray:
    """Inverse of :func:`notes_to_seconds`: ``(N, 4)`` seconds to :data:`NOTE_DTYPE` frames.

    ``start = round(onset_s * FRAME_RATE)``, ``end = max(round(offset_s * FRAME_RATE), start + 1)``,
    ``amplitude = velocity / 127``. The result is sorted by (start, pitch).

    Parameters
    ----------
    note_list : array_like, shape (N, 4) or (N, 3)
        Columns ``onset_s, offset_s, midi_pitch[, velocity]``; velocity defaults to 127.

    Returns the ``(N,)`` :data:`NOTE_DTYPE` array; raises :class:`MitkitError` on a wrong shape, non-finite
    values, negative onsets, offsets before onsets or pitches outside ``MIDI_MIN..MIDI_MAX``.
    """
    a = np.asarray(note_list, dtype=np.float64)
    if a.size == 0:
        return empty_notes()
    if a.ndim != 2 or a.shape[1] not in (3, 4):
        raise MitkitError(f"note_list.shape={a.shape} must be (N, 4): onset_s, offset_s, "
                          f"midi_pitch, velocity")
    if not np.isfinite(a).all():
        raise MitkitError("note_list must be finite (it contains NaN or inf)")
    if (a[:, 0] < 0).any() or (a[:, 1] < a[:, 0]).any():
        raise MitkitError("note_list must have 0 <= onset_s <= offset_s in every row")
    notes = np.zeros(a.shape[0], dtype=NOTE_DTYPE)
    notes["start"] = np.round(a[:, 0] * FRAME_RATE)
    notes["end"] = np.maximum(np.round(a[:, 1] * FRAME_RATE), notes["start"] + 1)
    notes["pitch"] = np.round(a[:, 2])
    velocity = a[:, 3] if a.shape[1] == 4 else np.full(a.shape[0], 127.0)
    notes["amplitude"] = np.clip(velocity / 127.0, 0.0, 1.0)
    notes = validate_notes(notes)
    return notes[np.lexsort((notes["pitch"], notes["start"]))]


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


def n_frames_for(n_samples: int) -> int:
    """Frames covering ``n_samples`` samples: frame t is centred on sample ``t * HOP_LENGTH``."""
    return int(n_samples) // HOP_LENGTH + 1


def note_rolls(notes, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame and onset piano rolls of a note list at the model frame rate.

    Parameters
    ----------
    notes : array_like, shape (N, 4)
        ``[onset_s, offset_s, midi_pitch, velocity]``. Pitches outside ``MIDI_MIN``..``MIDI_MAX`` are ignored.
    n_frames : int
        T, the number of frames.

    Returns
    -------
    frames, onsets : np.ndarray, float32, shape (84, T)
        ``frames[p, t] = 1`` while MIDI ``MIDI_MIN + p`` sounds (from ``round(onset_s * FRAME_RATE)`` to
        ``round(offset_s * FRAME_RATE)`` exclusive, at least one frame); ``onsets[p, t] = 1`` on the first.

    Examples
    --------
    >>> fr, on = note_rolls([[0.0, 0.05, 60, 80]], 10)
    >>> np.flatnonzero(fr[60 - 24]), np.flatnonzero(on[60 - 24])
    (array([0, 1, 2, 3]), array([0]))
    """
    if n_frames < 0:
        raise MitkitError(f"n_frames={n_frames} must be >= 0")
    frames = np.zeros((N_PITCHES, n_frames), np.float32)
    onsets = np.zeros((N_PITCHES, n_frames), np.float32)
    a = np.asarray(notes, np.float64).reshape(-1, 4) if np.size(notes) else np.zeros((0, 4))
    for on, off, pitch, _ in a:
        p = int(round(pitch)) - MIDI_MIN
        s = int(round(on * FRAME_RATE))
        if not 0 <= p < N_PITCHES or s >= n_frames or off < 0:
            continue
        e = max(int(round(off * FRAME_RATE)), s + 1)
        frames[p, max(s, 0):min(e, n_frames)] = 1.0
        if s >= 0:
            onsets[p, s] = 1.0
    return frames, onsets


def rolls_to_notes(frames: np.ndarray, onsets: np.ndarray | None = None, *, velocity: float = 100.0) -> np.ndarray:
    """Notes ``(N, 4)`` [onset_s, offset_s, pitch, velocity] read back from one instrument's rolls
    ``(84, T)``: a note starts at each onset and lasts while the frame roll stays on, up to the next
    onset of the same pitch. The inverse of :func:`note_rolls` up to frame rounding. Without
    ``onsets``, every run of active frames is one note.

    Notebook: 02_training
    """
    frames = np.asarray(frames) > 0.5
    if onsets is None:
        onsets = frames & ~np.pad(frames, ((0, 0), (1, 0)))[:, :-1]  # the first frame of every run
    onsets = np.asarray(onsets)
    notes = []
    starts = onsets > 0.5
    starts[:, 0] |= frames[:, 0]  # a note already sounding when the clip begins starts at 0 s
    for p, t in zip(*np.nonzero(starts)):
        end = t + 1
        while end < frames.shape[1] and frames[p, end] and onsets[p, end] <= 0.5:
            end += 1
        notes.append((t / FRAME_RATE, end / FRAME_RATE, MIDI_MIN + p, velocity))
    notes.sort()
    return np.array(notes, float).reshape(-1, 4)


@dataclass
class Note:
    onset: float  # seconds
    offset: float  # seconds
    pitch: int  # MIDI number
    velocity: int  # 1 … 127, from the mean frame activation


@dataclass
class Track:
    id: int
    notes: list[Note]
    program: int = 0  # General MIDI program used for export and sonification

    def to_array(self) -> np.ndarray:
        """Notes as ``(N, 4)`` float ``[onset_s, offset_s, pitch, velocity]`` (the evaluation format)."""
        return np.array([[n.onset, n.offset, n.pitch, n.velocity] for n in self.notes], dtype=float).reshape(-1, 4)


DEFAULT_VELOCITY = 100.0  # velocity given to notes passed as (intervals, pitches)
