"""Tracks of one-note-at-a-time instruments (mitkit.clustering.one_note_at_a_time) and where transcribe uses them."""
import numpy as np
import pytest

from mitkit.checkpoint import load_checkpoint
from mitkit.clustering import clashing_pairs, one_note_at_a_time
from mitkit.errors import MitkitError
from mitkit.notes import NOTE_DTYPE
from mitkit.transcription import group_notes


def frame_notes(*rows):
    return np.array([(start, end, pitch, 0.9) for start, end, pitch in rows], NOTE_DTYPE)


def test_clashing_pairs_are_overlaps_of_most_of_the_shorter_note():
    notes = frame_notes((0, 100, 60), (10, 90, 64), (95, 140, 62), (100, 120, 67), (200, 210, 60), (200, 210, 72))
    # (0, 1): 80 of 80 frames; (0, 2): 5 of 45, a ring-over, no clash; (2, 3): 20 of 20; same-start (4, 5)
    assert clashing_pairs(notes).tolist() == [[0, 1], [2, 3], [4, 5]]
    assert clashing_pairs(notes, min_overlap=0.05).tolist() == [[0, 1], [0, 2], [2, 3], [4, 5]]
    assert clashing_pairs(notes[:0]).shape == (0, 2)


def test_clashing_pairs_match_the_all_pairs_definition():
    rng = np.random.default_rng(0)
    start = rng.integers(0, 500, 300)
    notes = frame_notes(*zip(start, start + rng.integers(1, 80, 300), rng.integers(40, 80, 300)))
    s, e = notes["start"].astype(int), notes["end"].astype(int)
    overlap = np.minimum(e[:, None], e[None, :]) - np.maximum(s[:, None], s[None, :])
    shorter = np.minimum((e - s)[:, None], (e - s)[None, :])
    want = np.argwhere(np.triu(overlap > 0.8 * shorter, 1))
    assert clashing_pairs(notes).tolist() == want.tolist()


def two_voices():
    """Voice A (embedding near [1, 0]) and voice B (near [0, 1]) play together; one B note was clustered
    with A. Its fit to B is a little lower than to A, so timbre alone keeps it there."""
    notes = frame_notes((0, 50, 72), (0, 50, 60), (50, 100, 74), (50, 100, 62), (100, 150, 76), (100, 150, 64))
    E = np.array([[1, 0], [0, 1], [1, 0], [0.75, 0.66], [1, 0], [0.05, 1.0]], float)
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    return notes, E, np.array([0, 1, 0, 0, 0, 1])


def test_a_note_sounding_over_another_of_its_track_moves_to_the_silent_track():
    notes, E, labels = two_voices()
    got = one_note_at_a_time(notes, E, labels)
    assert got.tolist() == [0, 1, 0, 1, 0, 1]
    assert labels.tolist() == [0, 1, 0, 0, 0, 1]  # the input is not changed


def test_no_move_that_costs_too_much_fit_or_has_no_silent_track():
    notes, E, labels = two_voices()
    assert one_note_at_a_time(notes, E, labels, max_loss=0.05).tolist() == labels.tolist()
    chord = frame_notes((0, 50, 60), (0, 50, 64), (0, 50, 67))  # three at once, two tracks: one must share
    E3 = np.array([[1, 0], [0.9, 0.44], [0, 1]])
    got = one_note_at_a_time(chord, E3, np.array([0, 0, 1]), max_loss=1.0)
    assert sorted(np.bincount(got).tolist()) == [1, 2]
    assert one_note_at_a_time(chord, E3, np.zeros(3, int)).tolist() == [0, 0, 0]  # one track: nothing to do


def test_one_note_at_a_time_checks_its_rows():
    notes, E, labels = two_voices()
    with pytest.raises(MitkitError, match="one row per note"):
        one_note_at_a_time(notes, E[:-1], labels)


@pytest.fixture(scope="module")
def classifier():
    return load_checkpoint(None)["polyphony_classifier"]


def embeddings_read_as(classifier, chords: bool, n: int):
    """Unit embeddings the checkpoint's polyphony classifier reads as chord-playing (or not) with certainty."""
    w = np.asarray(classifier["coef"], float)
    e = (1 if chords else -1) * w / np.linalg.norm(w)
    return np.tile(e, (n, 1))


def test_transcribe_keeps_tracks_one_note_at_a_time_only_for_lines(classifier, monkeypatch):
    """group_notes (transcribe's and regroup's) applies it with a classifier: to every track when the notes
    read as one-note-at-a-time parts (K given here), with the chord-playing tracks exempt otherwise, and
    never without a classifier."""
    import mitkit.transcription as transcription
    notes, _, labels = two_voices()
    calls = []
    monkeypatch.setattr(transcription, "cluster_notes", lambda E, k, **kw: labels.copy())
    monkeypatch.setattr(transcription, "one_note_at_a_time",
                        lambda n, E, lab, chord_tracks: calls.append(list(chord_tracks)) or lab[::-1].copy())
    lines, chords = embeddings_read_as(classifier, False, 6), embeddings_read_as(classifier, True, 6)
    got, _ = group_notes(notes, lines, 2, 0.3, 0, classifier)
    assert calls == [[]] and got.tolist() != labels.tolist()
    group_notes(notes, chords, 2, 0.3, 0, classifier)
    assert calls[-1] == [0, 1]  # every track reads as chord-playing: all exempt
    calls.clear()
    assert group_notes(notes, lines, 2, 0.3, 0, None)[0].tolist() == labels.tolist()
    assert calls == []
    # the gate: the notes' mean chord probability under LINES_ONLY (0.5), stricter than the count's lines (0.6)
    for probability, n_exempt in ((0.45, 0), (0.55, 1)):
        monkeypatch.setattr(transcription, "chord_probability", lambda E, a, c, p=probability: p)
        calls.clear()
        group_notes(notes, lines, 2, 0.3, 0, classifier)
        # no track reads as chord-playing: the likeliest one is exempt (both tracks tie here, so either)
        assert len(calls) == 1 and len(calls[0]) == n_exempt, probability


def piano_and_violin():
    """A piano (track 0, embedding near [1, 0]) plays a chord while a violin (track 1, near [0, 1]) plays a
    note; a second piano note was clustered with the violin, where it sounds over the violin's note."""
    notes = frame_notes((0, 60, 48), (0, 60, 52), (0, 60, 55), (0, 60, 76), (0, 60, 64))
    E = np.array([[1, 0], [1, 0.1], [0.95, 0.3], [0, 1], [0.7, 0.714]], float)
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    return notes, E, np.array([0, 0, 0, 1, 1])


def test_a_chord_track_keeps_its_chords_and_takes_clashing_notes():
    notes, E, labels = piano_and_violin()
    assert one_note_at_a_time(notes, E, labels, chord_tracks=[0]).tolist() == [0, 0, 0, 1, 0]
    # without the exemption the piano's chord notes are pushed into the violin's track and nothing fits
    assert one_note_at_a_time(notes, E, labels).tolist() != [0, 0, 0, 1, 0]
    # an exempt track that holds clashing notes keeps them; every track exempt: nothing moves
    assert one_note_at_a_time(notes, E, np.array([1, 1, 1, 0, 0]), chord_tracks=[0, 1]).tolist() == [1, 1, 1, 0, 0]


def test_chord_tracks_are_the_likeliest_and_those_read_as_chord_playing(classifier):
    from mitkit.instrument_count import chord_tracks
    chords, lines = embeddings_read_as(classifier, True, 3), embeddings_read_as(classifier, False, 3)
    E = np.concatenate([lines, chords])
    assert chord_tracks(E, np.array([0, 0, 0, 1, 1, 1]), classifier) == [1]
    one_chord_note = np.concatenate([chords[:1], lines[:2], lines])  # track 0 reads 1/3 chord-playing
    assert chord_tracks(one_chord_note, np.array([0, 0, 0, 1, 1, 1]), classifier) == [0]  # none: the likelier
    assert chord_tracks(np.concatenate([chords, chords]), np.array([0, 0, 0, 1, 1, 1]), classifier) == [0, 1]
    assert chord_tracks(E, np.array([0, 0, 0, 2, 2, 2]), classifier) == [2]  # an empty track is never one
