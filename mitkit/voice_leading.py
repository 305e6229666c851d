"""Voice leading: tracks redrawn note by note so that each plays a line.

Spectral clustering (:mod:`mitkit.clustering`) groups notes by timbre alone. Two instruments of one family (a
quartet's two violins) share a timbre, and a note whose embedding is noisy lands in a track it fits a little
better than its own part's, even while that track plays another note. A player's part has more to go by: one
note at a time, mostly in small steps. :func:`follow_lines` walks through the notes in time order and gives
each group of notes that start together (within ``CHORD_FRAMES``) the tracks that cost least, where note n on
track k costs

    TIMBRE_WEIGHT · (1 − cos(e_n, mean embedding of k))     its timbre against the track's
  + LEAP_COST · |pitch_n − pitch of k's last note|          the leap the track's line would make (semitones)
  + BUSY_COST, when k still sounds a note                   one note at a time

A chord-playing track (``chord_tracks``: a piano beside melody instruments) may take several notes at once,
pays no BUSY_COST, and its leap is measured from its mean pitch (its last note says little about its next). A
one-note-at-a-time track takes a second note of one group only when no other track is left, at CROWD_COST.
Each group is one assignment problem (:func:`scipy.optimize.linear_sum_assignment`); then the tracks' mean
embeddings and pitches are updated and the walk repeated until nothing moves, at most ``MAX_ROUNDS`` times.

:func:`clashing_pairs` finds the notes that sound together, any track: what one note at a time forbids.

Notebook: 03_embeddings_and_clustering
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from mitkit.embeddings import mean_directions
from mitkit.errors import MitkitError

# The weights below were chosen together on the validation benchmarks, each with one say (separation F1 with
# K given: chorales detached and as written, quartets, and the count benchmark in three sample families; model
# card, "Voice leading"): mean 0.791 -> 0.800, the quartets 0.509 -> 0.559.
#: Cost of a note's timbre on a track, per unit of cosine distance to the track's mean embedding.
TIMBRE_WEIGHT = 4.0
#: Cost of a leap, per semitone between a note and the last note of a one-note-at-a-time track.
LEAP_COST = 1 / 12
#: Cost of a note on a one-note-at-a-time track that still sounds another note.
BUSY_COST = 0.5
#: Extra cost of a second note of one group on a one-note-at-a-time track (only when no track is left).
CROWD_COST = 3.0
#: Notes that start within this many frames of the first of a group (≈ 58 ms) are placed together.
CHORD_FRAMES = 5
#: A note still sounding less than this many frames into the next is a release, not a clash.
RING_FRAMES = 2
#: Walks through the notes at most (each with the tracks' means of the previous one).
MAX_ROUNDS = 3

#: Two notes clash when they overlap by more than this share of the shorter one (a created note often rings a
#: little into the next one of its instrument; a clash is one note sounding over another).
CLASH_OVERLAP = 0.8


def clashing_pairs(notes, min_overlap: float = CLASH_OVERLAP) -> np.ndarray:
    """``(M, 2)`` index pairs ``i < j`` of notes that overlap by more than ``min_overlap`` of the shorter
    one (frame notes; any pitch). A sweep over the notes sorted by start: memory grows with the pairs,
    not with N²."""
    start, end = notes["start"].astype(np.int64), notes["end"].astype(np.int64)
    order = np.argsort(start, kind="stable")
    sorted_start = start[order]
    pairs = []
    for a, i in enumerate(order):
        later = order[a + 1:np.searchsorted(sorted_start, end[i], side="left")]  # they start before i ends
        if later.size:
            overlap = np.minimum(end[i], end[later]) - start[later]
            shorter = np.minimum(end[i] - start[i], end[later] - start[later])
            for j in later[overlap > min_overlap * shorter]:
                pairs.append((min(i, j), max(i, j)))
    return np.array(sorted(pairs), np.int64).reshape(-1, 2)


def follow_lines(notes, E, labels, *, chord_tracks=(), max_rounds: int = MAX_ROUNDS) -> np.ndarray:
    """Track ids in which each one-note-at-a-time track plays a line: timbre, small steps and one note at a
    time weighed note by note (the module's text has the costs). ``transcribe`` calls it after the clustering
    whenever the checkpoint has a polyphony classifier.

    Parameters
    ----------
    notes : NOTE_DTYPE array (frames); E : (N, D) unit note embeddings; labels : (N,) track ids 0..K-1.
    chord_tracks : track ids of chord-playing instruments (a piano beside the lines): they may play several
        notes at once.
    max_rounds : walks through the notes at most.

    Returns
    -------
    np.ndarray, shape (N,), int64: the new track ids, in 0..K-1 (the input is not changed).

    Examples
    --------
    Two violins, one timbre: the clustering split them by accident; the lines decide.

    >>> import numpy as np
    >>> from mitkit.notes import NOTE_DTYPE
    >>> notes = np.array([(0, 40, 76, .9), (0, 40, 64, .9), (40, 80, 74, .9), (40, 80, 65, .9)], NOTE_DTYPE)
    >>> follow_lines(notes, np.ones((4, 2)) / np.sqrt(2), np.array([0, 1, 1, 0])).tolist()
    [0, 1, 0, 1]
    """
    labels = np.array(labels, dtype=np.int64)
    E = np.asarray(E, np.float64)
    if len(labels) != len(notes) or len(E) != len(notes):
        raise MitkitError(f"notes ({len(notes)}), E ({len(E)}) and labels ({len(labels)}) must have one row per note")
    K = int(labels.max()) + 1 if labels.size else 0
    if K < 2:
        return labels
    chordal = np.isin(np.arange(K), np.asarray(chord_tracks, np.int64))
    for _ in range(max_rounds):
        redrawn = _walk(notes, E, labels, K, chordal)
        if np.array_equal(redrawn, labels):
            break
        labels = redrawn
    return labels


def _walk(notes, E, labels, K: int, chordal: np.ndarray) -> np.ndarray:
    """One walk through the notes in time order, with the tracks' means taken from ``labels``."""
    pitch, start, end = notes["pitch"].astype(np.float64), notes["start"].astype(np.int64), notes["end"]
    fit = E @ mean_directions(E, labels, K).T  # (N, K) cosine to each track's mean embedding
    mean_pitch = np.array([pitch[labels == k].mean() if np.any(labels == k) else pitch.mean() for k in range(K)])
    last_pitch = mean_pitch.copy()
    sounds_until = np.full(K, np.iinfo(np.int64).min // 2)
    out = labels.copy()
    order = np.lexsort((-pitch, start))
    ordered_start = start[order]
    a = 0
    while a < len(order):
        b = np.searchsorted(ordered_start, ordered_start[a] + CHORD_FRAMES, side="right")
        group = order[a:b]
        leap_from = np.where(chordal, mean_pitch, last_pitch)
        cost = (TIMBRE_WEIGHT * (1.0 - fit[group]) + LEAP_COST * np.abs(pitch[group, None] - leap_from)
                + BUSY_COST * ((sounds_until > start[group, None] + RING_FRAMES) & ~chordal))  # (n, K)
        # columns: every track once, then every track again for each further note of the group
        extra = np.where(chordal, 0.0, CROWD_COST)
        slots = np.concatenate([cost] + [cost + extra] * (len(group) - 1), axis=1)
        rows, cols = linear_sum_assignment(slots)
        for i, col in zip(rows, cols):
            n, k = group[i], col % K
            out[n], last_pitch[k], sounds_until[k] = k, pitch[n], max(sounds_until[k], end[n])
        a = b
    return out
