"""Tracks that each play a line (mitkit.voice_leading.follow_lines), the clashes they avoid, and where transcribe
redraws them."""
import numpy as np
import pytest

from mitkit.checkpoint import load_checkpoint
from mitkit.errors import MitkitError
from mitkit.notes import NOTE_DTYPE
from mitkit.transcription import group_notes
from mitkit.voice_leading import clashing_pairs, follow_lines


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
    got = follow_lines(notes, E, labels)
    assert got.tolist() == [0, 1, 0, 1, 0, 1]
    assert labels.tolist() == [0, 1, 0, 0, 0, 1]  # the input is not changed
    assert follow_lines(notes, E, labels, max_rounds=0).tolist() == labels.tolist()


def test_two_lines_of_one_timbre_are_told_apart_by_their_steps():
    """A quartet's two violins: one timbre, two overlapping lines in small steps, split at random by the
    clustering; each line ends up whole on one track."""
    rng = np.random.default_rng(0)
    high = 76 + np.cumsum(rng.choice([-2, -1, 1, 2], 12))
    low = 62 + np.cumsum(rng.choice([-2, -1, 1, 2], 12))
    notes = frame_notes(*[(40 * i, 40 * i + 40, p) for i, p in enumerate(high)],
                        *[(40 * i + 20, 40 * i + 60, p) for i, p in enumerate(low)])
    E = np.ones((24, 2)) / np.sqrt(2) + rng.normal(0, 0.01, (24, 2))
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    got = follow_lines(notes, E, rng.integers(0, 2, 24))
    assert got.tolist() in ([0] * 12 + [1] * 12, [1] * 12 + [0] * 12)


def test_timbre_outweighs_a_leap():
    """A part leaping two octaves back and forth keeps its notes when its timbre is its own."""
    notes = frame_notes(*[(30 * i, 30 * i + 25, 60 if i % 2 else 84) for i in range(8)],
                        *[(30 * i + 5, 30 * i + 30, 72) for i in range(8)])
    E = np.r_[np.tile([1.0, 0.0], (8, 1)), np.tile([0.0, 1.0], (8, 1))]
    labels = np.r_[np.zeros(8, int), np.ones(8, int)]
    assert follow_lines(notes, E, labels).tolist() == labels.tolist()


def test_more_notes_at_once_than_tracks_share_the_cheapest_one():
    chord = frame_notes((0, 50, 60), (0, 50, 64), (0, 50, 67))  # three at once, two tracks: one must share
    E3 = np.array([[1, 0], [0.9, 0.44], [0, 1]])
    assert follow_lines(chord, E3, np.array([0, 0, 1])).tolist() == [0, 0, 1]
    assert follow_lines(chord, E3, np.zeros(3, int)).tolist() == [0, 0, 0]  # one track: nothing to do


def test_follow_lines_checks_its_rows():
    notes, E, labels = two_voices()
    with pytest.raises(MitkitError, match="one row per note"):
        follow_lines(notes, E[:-1], labels)


@pytest.fixture(scope="module")
def classifier():
    return load_checkpoint(None)["polyphony_classifier"]


def embeddings_read_as(classifier, chords: bool, n: int):
    """Unit embeddings the checkpoint's polyphony classifier reads as chord-playing (or not) with certainty."""
    w = np.asarray(classifier["coef"], float)
    e = (1 if chords else -1) * w / np.linalg.norm(w)
    return np.tile(e, (n, 1))


def test_transcribe_follows_lines_with_chord_tracks_exempt_only_where_chords_play(classifier, monkeypatch):
    """group_notes (transcribe's and regroup's) redraws the tracks with a classifier: every track a line when
    the notes read as one-note-at-a-time parts (K given here), the chord-playing tracks exempt otherwise, and
    never without a classifier."""
    import mitkit.transcription as transcription
    notes, _, labels = two_voices()
    calls = []
    monkeypatch.setattr(transcription, "cluster_notes", lambda E, k, **kw: labels.copy())
    monkeypatch.setattr(transcription, "follow_lines",
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
    assert follow_lines(notes, E, labels, chord_tracks=[0]).tolist() == [0, 0, 0, 1, 0]
    # without the exemption a second and third note on the piano's track pay for crowding it: the stray note stays
    assert follow_lines(notes, E, labels).tolist() == [0, 0, 0, 1, 1]
    # an exempt track that holds clashing notes keeps them; every track exempt: nothing moves
    assert follow_lines(notes, E, np.array([1, 1, 1, 0, 0]), chord_tracks=[0, 1]).tolist() == [1, 1, 1, 0, 0]


def test_chord_tracks_are_the_likeliest_and_those_read_as_chord_playing(classifier):
    from mitkit.instrument_count import chord_tracks
    chords, lines = embeddings_read_as(classifier, True, 3), embeddings_read_as(classifier, False, 3)
    E = np.concatenate([lines, chords])
    assert chord_tracks(E, np.array([0, 0, 0, 1, 1, 1]), classifier) == [1]
    one_chord_note = np.concatenate([chords[:1], lines[:2], lines])  # track 0 reads 1/3 chord-playing
    assert chord_tracks(one_chord_note, np.array([0, 0, 0, 1, 1, 1]), classifier) == [0]  # none: the likelier
    assert chord_tracks(np.concatenate([chords, chords]), np.array([0, 0, 0, 1, 1, 1]), classifier) == [0, 1]
    assert chord_tracks(E, np.array([0, 0, 0, 2, 2, 2]), classifier) == [2]  # an empty track is never one
