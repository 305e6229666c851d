"""Tests written to kill surviving mutants of `mutmut run` (README.md, "Mutation testing") in mitkit.notes, mitkit.note_creation,
mitkit.clustering and mitkit.evaluation.metrics: each pins a behaviour (a boundary, a default, an error message) the other unit tests
left open. Hand-computed cases only; all fast."""
import logging

import numpy as np
import pytest

from mitkit.constants import FRAME_RATE
from mitkit.errors import MitkitError
from mitkit.note_refinement import remove_partial_notes
from mitkit.notes import NOTE_DTYPE, notes_to_seconds, seconds_to_notes, validate_notes

# ---- mitkit.notes.validate_notes ------------------------------------------------------------------

def test_validate_notes_needs_every_field_and_one_dimension():
    no_pitch = np.zeros(2, dtype=[("start", "i8"), ("end", "i8")])
    with pytest.raises(MitkitError, match="fields start, end, pitch"):
        validate_notes(no_pitch)
    two_d = np.array([[(0, 5, 60, 1.0)]], dtype=NOTE_DTYPE)  # every field, but (1, 1)
    with pytest.raises(MitkitError, match="1-D array"):
        validate_notes(two_d)


def test_validate_notes_fills_a_missing_amplitude_with_one():
    plain = np.array([(0, 5, 60), (3, 9, 72)], dtype=[("start", "i8"), ("end", "i8"), ("pitch", "i8")])
    out = validate_notes(plain)
    assert out.dtype == NOTE_DTYPE and out["amplitude"].tolist() == [1.0, 1.0]
    kept = validate_notes(np.array([(0, 5, 60, 0.25)], dtype=NOTE_DTYPE))
    assert kept["amplitude"].tolist() == [0.25]


def test_validate_notes_errors_name_the_note():
    notes = np.array([(0, 5, 60, 1.0), (7, 7, 60, 1.0)], dtype=NOTE_DTYPE)
    with pytest.raises(MitkitError, match=r"notes\[1\] \(start=7, end=7\) must satisfy"):
        validate_notes(notes)
    notes = np.array([(0, 9, 60, 1.0), (0, 4, 61, 1.0)], dtype=NOTE_DTYPE)
    with pytest.raises(MitkitError, match=r"notes\[0\].end=9 must be at most the number of frames T=8"):
        validate_notes(notes, n_frames=8)
    assert validate_notes(notes, n_frames=9).size == 2  # end == T is allowed (end is exclusive)


# ---- mitkit.note_creation.remove_partial_notes -------------------------------------------------------------

def _notes(*rows):
    return np.array(list(rows), dtype=NOTE_DTYPE)


def test_partial_rule_boundaries():
    strong = (0, 40, 48, 0.9)
    # amplitude exactly max_amplitude: not weak, kept
    assert remove_partial_notes(_notes(strong, (0, 40, 60, 0.6)))["pitch"].tolist() == [48, 60]
    # overlap exactly min_overlap of the weak note's length (10 of 20 frames): dropped
    assert remove_partial_notes(_notes(strong, (30, 50, 60, 0.5)))["pitch"].tolist() == [48]
    assert remove_partial_notes(_notes(strong, (31, 51, 60, 0.5)))["pitch"].tolist() == [48, 60]
    # the note below must be *stronger*: an equally weak fundamental does not remove its partial
    assert remove_partial_notes(_notes((0, 40, 48, 0.5), (0, 40, 60, 0.5)))["pitch"].tolist() == [48, 60]


def test_partial_rule_min_overlap_range():
    notes = _notes((0, 40, 48, 0.9), (0, 40, 60, 0.5))
    assert remove_partial_notes(notes, min_overlap=1.0)["pitch"].tolist() == [48]  # 1 is allowed
    for bad in (0, 0.0, 1.5, -0.1):
        with pytest.raises(MitkitError, match=r"min_overlap=.* must be in \(0, 1\]"):
            remove_partial_notes(notes, min_overlap=bad)


# ---- mitkit.notes conversions -----------------------------------------------------------------------

def test_notes_to_seconds_clips_velocity_to_127():
    out = notes_to_seconds(_notes((0, 10, 60, 1.5), (0, 10, 62, 0.0)))
    assert out[:, 3].tolist() == [127.0, 1.0] and out.dtype == np.float64


def test_seconds_to_notes_accepts_three_columns_with_velocity_127():
    notes = seconds_to_notes([[0.5, 1.0, 60]])
    assert notes[["start", "end", "pitch"]].tolist() == [(round(0.5 * FRAME_RATE), round(1.0 * FRAME_RATE), 60)]
    assert notes["amplitude"].tolist() == [1.0]


def test_seconds_to_notes_shapes_and_values():
    with pytest.raises(MitkitError, match=r"note_list.shape=\(1, 1\) must be \(N, 4\)"):
        seconds_to_notes([[1.0]])
    with pytest.raises(MitkitError, match=r"note_list.shape=\(2, 2\) must be \(N, 4\)"):
        seconds_to_notes([[0.0, 1.0], [1.0, 2.0]])
    with pytest.raises(MitkitError, match=r"note_list must be finite \(it contains NaN or inf\)"):
        seconds_to_notes([[0.0, np.inf, 60, 90]])
    order = r"note_list must have 0 <= onset_s <= offset_s in every row"
    with pytest.raises(MitkitError, match=order):
        seconds_to_notes([[-0.5, 1.0, 60, 90]])  # a negative onset alone
    with pytest.raises(MitkitError, match=order):
        seconds_to_notes([[2.0, 1.0, 60, 90]])  # an offset before its onset alone
    # legal edge cases: onset 0, offset == onset (one frame long), onsets later than the pitch number
    notes = seconds_to_notes([[0.0, 0.0, 60, 90], [100.0, 101.0, 30, 90]])
    assert notes[["start", "end", "pitch"]].tolist() == [(0, 1, 60), (8613, 8699, 30)]


def test_seconds_to_notes_clips_amplitude():
    notes = seconds_to_notes([[0.0, 1.0, 60, -10], [0.0, 1.0, 62, 200], [0.0, 1.0, 64, 63.5]])
    assert notes["amplitude"].tolist() == pytest.approx([0.0, 1.0, 0.5])


# ---- mitkit.notes.as_note_array ----------------------------------------------------------------------

from mitkit.notes import as_note_array


def test_as_note_array_empty_inputs_and_dtype():
    assert as_note_array([]).shape == as_note_array(([], [])).shape == (0, 4)
    assert as_note_array([[0, 1, 60, 100]]).dtype == np.float64  # integers in, floats out
    np.testing.assert_array_equal(as_note_array(([[0, 1]], [60])), [[0.0, 1.0, 60.0, 100.0]])


@pytest.mark.parametrize("notes, message", [
    ([[0, 1, 60]], "notes shape=(1, 3) must be (N, 4): onset_s, offset_s, midi_pitch, velocity"),
    ((np.zeros((0, 2)), [60]), "notes pitches shape=(1,) must be (0,) to match intervals"),
    (([[0, 1]], []), "notes pitches shape=(0,) must be (1,) to match intervals"),
    (([0, 1], [60]), "notes intervals shape=(2,) must be (N, 2)"),
    (np.zeros(1, dtype=NOTE_DTYPE), "notes has the structured dtype " + str(np.zeros(1, dtype=NOTE_DTYPE).dtype)
     + ": frame-based notes must be converted to seconds, (N, 4) onset_s, offset_s, midi_pitch, velocity"),
    ([[0, 1, 60, 100], [0, np.nan, 60, 100]], "notes[1]=[0.0, nan, 60.0, 100.0] must be finite (no NaN or inf)"),
    ([[0, 1, 60, 100], [np.inf, 1, 60, 100]], "notes[1]=[inf, 1.0, 60.0, 100.0] must be finite (no NaN or inf)"),
    ([["a", 1, 60, 100]], "notes must be a numeric (N, 4) array: could not convert string to float: 'a'"),
    ([[0, 1, 60, 100], [-0.5, 1, 60, 100]], "notes[1]=[-0.5, 1.0, 60.0, 100.0]: onset must be >= 0 s"),
    ([[1, 1, 60, 100]], "notes[0]=[1.0, 1.0, 60.0, 100.0]: offset must be greater than onset"),
    ([[0, 1, 0, 100]], "notes[0]=[0.0, 1.0, 0.0, 100.0]: midi_pitch must be in (0, 127]"),
    ([[0, 1, 128, 100]], "notes[0]=[0.0, 1.0, 128.0, 100.0]: midi_pitch must be in (0, 127]"),
    ([[0, 1, 60, -1]], "notes[0]=[0.0, 1.0, 60.0, -1.0]: velocity must be in [0, 127]"),
    ([[0, 1, 60, 128]], "notes[0]=[0.0, 1.0, 60.0, 128.0]: velocity must be in [0, 127]"),
])
def test_as_note_array_errors_in_full(notes, message):
    with pytest.raises(MitkitError) as err:
        as_note_array(notes)
    assert str(err.value) == message


def test_as_note_array_accepts_the_range_ends():
    ends = [[0, 1, 1, 0], [0, 1, 127, 127], [0, 1, 60, 0.5], [0, 1, 0.5, 127]]
    np.testing.assert_array_equal(as_note_array(ends), ends)


# ---- mitkit.notes: rolls, pooled tracks, Track ------------------------------------------------------

from mitkit.constants import MIDI_MIN
from mitkit.embeddings import check_frame_grams
from mitkit.notes import Note, Track, merge_tracks, note_rolls, rolls_to_notes


def test_rolls_to_notes_without_onsets_reads_runs_above_one_half():
    frames = np.zeros((84, 12), np.float32)
    frames[40, 2:5] = 1.0
    frames[40, 5] = 0.5  # not above 0.5: ends the run
    frames[40, 7:12] = 0.9  # runs to the last frame
    frames[0, 0] = 1.0  # sounding at frame 0
    got = rolls_to_notes(frames)
    expected = [[0, 1, MIDI_MIN, 100], [2, 5, MIDI_MIN + 40, 100], [7, 12, MIDI_MIN + 40, 100]]
    np.testing.assert_allclose(got, np.array(expected) * [1 / FRAME_RATE, 1 / FRAME_RATE, 1, 1])


def test_rolls_to_notes_with_onsets():
    frames = np.zeros((84, 12), np.float32)
    onsets = np.zeros_like(frames)
    frames[40, 0:10] = 1.0
    onsets[40, 3], onsets[40, 6] = 1.0, 0.5  # 0.5 is no onset: the note goes on through frame 6
    frames[41, 0:1] = 0.0
    frames[41, 1:4] = 1.0
    onsets[41, 0] = 1.0  # an onset on a silent frame still starts a note, which runs into the sounding frames
    frames[42, 0] = 1.0  # sounding at frame 0 without an onset: a note from 0 s
    got = rolls_to_notes(frames, onsets, velocity=90)
    expected = [[0, 1, 42, 90], [0, 3, 40, 90], [0, 4, 41, 90], [3, 10, 40, 90]]
    expected = np.array(expected, float) * [1 / FRAME_RATE, 1 / FRAME_RATE, 1, 1] + [0, 0, MIDI_MIN, 0]
    np.testing.assert_allclose(got, expected)


def test_note_rolls_edges():
    frames, onsets = note_rolls([], 0)
    assert frames.shape == onsets.shape == (84, 0) and frames.dtype == onsets.dtype == np.float32
    t = 10 / FRAME_RATE
    frames, onsets = note_rolls([[0, 1, 300, 100], [0, t, MIDI_MIN, 100], [t, 2 * t, MIDI_MIN + 83, 100]], 10)
    # a pitch out of range is skipped, not the end of the list; the lowest pitch counts; a note that starts
    # at the last frame's end is outside
    assert np.flatnonzero(frames[0]).tolist() == list(range(10)) and np.flatnonzero(onsets[0]).tolist() == [0]
    assert frames.sum() == 10 and onsets.sum() == 1


def test_merge_tracks_sorts_by_onset_then_pitch_and_names_the_track():
    merged = merge_tracks([[[0, 3, 62, 100]], [[1, 2, 60, 100], [0, 5, 60, 100]]])
    np.testing.assert_array_equal(merged[:, :3], [[0, 5, 60], [0, 3, 62], [1, 2, 60]])
    with pytest.raises(MitkitError) as err:
        merge_tracks([[[0, 1, 60, 100]], [[0, 1, 60]]])
    assert str(err.value) == "tracks[1] shape=(1, 3) must be (N, 4): onset_s, offset_s, midi_pitch, velocity"
    with pytest.raises(MitkitError) as err:
        merge_tracks(np.zeros((2, 4)))
    assert str(err.value) == ("tracks is an array of shape (2, 4); it must be a list of note arrays, one per part "
                              "or track (wrap a single note array as [notes])")
    with pytest.raises(MitkitError) as err:
        merge_tracks(5)
    assert str(err.value) == "tracks of type int must be a list of note arrays"


def test_track_to_array_shapes():
    assert Track(0, []).to_array().shape == (0, 4)
    np.testing.assert_array_equal(Track(1, [Note(0.5, 1.0, 60, 90)]).to_array(), [[0.5, 1.0, 60, 90]])


def test_check_frame_grams_messages_and_dtype():
    with pytest.raises(MitkitError) as err:
        check_frame_grams(np.zeros((80, 5)), np.zeros((3, 80, 5)))
    assert str(err.value) == "Y_F.shape=(80, 5) must be (84, T)"
    Y_F = np.zeros((84, 5))
    Y_F[0, 0] = np.nan
    with pytest.raises(MitkitError) as err:
        check_frame_grams(Y_F, np.zeros((3, 84, 5)))
    assert str(err.value) == "Y_F must be finite (it contains NaN or inf)"
    Y_F, V = check_frame_grams(np.zeros((84, 5)), np.zeros((3, 84, 5)))
    assert Y_F.dtype == V.dtype == np.float32


# ---- mitkit.clustering ------------------------------------------------------------------------------

from mitkit import clustering
from mitkit.clustering import CORE_MIN_NOTES, cluster_notes, core_notes, order_labels_by_pitch
from mitkit.instrument_count import count_voices


def test_count_voices_ignores_rests_and_counts_overlaps():
    # two voices for 100 frames, then 900 frames of rest, then one voice for 10 frames: rests do not count,
    # so 100 of 110 sounding frames hold 2 notes
    notes = _notes((0, 100, 60, 0.9), (0, 100, 55, 0.9), (1000, 1010, 60, 0.9))
    assert count_voices(notes) == 2
    # one note after another (end == next start) is one voice, not two
    assert count_voices(_notes((0, 50, 60, 0.9), (50, 100, 62, 0.9), (100, 150, 64, 0.9))) == 1
    # three voices over 40 % of the sounding frames: 3 (min_fraction 0.3), not with min_fraction 0.5
    three = _notes((0, 100, 60, 0.9), (0, 100, 55, 0.9), (0, 40, 50, 0.9))
    assert count_voices(three) == 3 and count_voices(three, min_fraction=0.5) == 2
    assert count_voices(three, min_fraction=1.0) == 2  # 1 is allowed
    for bad in (0, 1.5):
        with pytest.raises(MitkitError, match="min_fraction"):
            count_voices(three, min_fraction=bad)


def test_core_notes_boundaries():
    a = np.full(CORE_MIN_NOTES + 6, 0.3)
    a[:CORE_MIN_NOTES] = 0.6  # exactly the threshold counts as confident
    assert core_notes(a).tolist() == list(range(CORE_MIN_NOTES))
    b = np.full(CORE_MIN_NOTES + 6, 0.3)
    b[5:5 + CORE_MIN_NOTES] = 0.9  # exactly CORE_MIN_NOTES confident notes: those, no fill-up
    assert core_notes(b).tolist() == list(range(5, 5 + CORE_MIN_NOTES))
    d = np.array([0.6] * CORE_MIN_NOTES + [0.7] * 6)  # 30 confident, 24 of them exactly at 0.6: all 30
    assert core_notes(d).tolist() == list(range(CORE_MIN_NOTES + 6))
    # fewer than CORE_MIN_NOTES pass: the strongest, ties broken by position (stable)
    c = np.full(CORE_MIN_NOTES + 10, 0.5)
    c[-1] = 0.55
    assert core_notes(c).tolist() == list(range(CORE_MIN_NOTES - 1)) + [CORE_MIN_NOTES + 9]


def test_order_labels_by_pitch_ties_and_single_label():
    # equal mean pitch: the larger cluster first
    assert order_labels_by_pitch([5, 5, 5, 9, 9], pitches=[60, 60, 60, 60, 60]).tolist() == [0, 0, 0, 1, 1]
    assert order_labels_by_pitch([9, 9, 5, 5, 5], pitches=[60, 60, 60, 60, 60]).tolist() == [1, 1, 0, 0, 0]
    # a single label becomes 0; unassigned stays -1
    assert order_labels_by_pitch([3, 3, -1, 3], pitches=[60, 61, 62, 63]).tolist() == [0, 0, -1, 0]
    assert order_labels_by_pitch([7, 7]).tolist() == [0, 0]


def test_join_nearest_compares_directions_and_allows_an_empty_cluster():
    # cluster 0: many vectors along x; cluster 1: one vector along y. A point at 40 degrees from x and 50
    # from y is nearer x in direction; an unnormalised sum of 10 x-vectors would win anything anyway,
    # so check the other side: a point nearer y must join cluster 1 despite cluster 0's size.
    E = np.array([[1.0, 0.0]] * 10 + [[0.0, 1.0]] + [[np.cos(1.0), np.sin(1.0)]])  # last: 57 degrees from x
    idx = np.arange(11)
    sub = np.array([0] * 10 + [1])
    assert clustering._join_nearest(E, idx, sub, 2).tolist() == [0] * 10 + [1, 1]
    # K = 3 with cluster 2 empty: a zero centroid, never chosen
    assert clustering._join_nearest(E, idx, sub, 3).tolist() == [0] * 10 + [1, 1]


def test_temperature_and_cluster_count_ranges():
    E = np.eye(3)[[0, 0, 1, 1, 2, 2]] + 0.01
    for t in (0.01, 100):
        assert clustering.affinity_matrix(E, temperature=t).shape == (6, 6)
    for bad in (0.009, 100.5, True, "1"):
        with pytest.raises(MitkitError, match=r"temperature=.* must be a number in \[0.01, 100\]"):
            clustering.affinity_matrix(E, temperature=bad)
    # K == max_clusters is allowed
    assert sorted(set(cluster_notes(E, 3, max_clusters=3).tolist())) == [0, 1, 2]


def test_cluster_notes_defaults_and_forwarding(spectral_calls):
    E = np.eye(3)[[0, 0, 1, 1, 2, 2]] + 0.01
    cluster_notes(E, 2)
    cluster_notes(E, 2, random_state=7, temperature=0.3)
    assert spectral_calls == [(2, 0, 1.0), (2, 7, 0.3)]


# ---- mitkit.note_creation.create_notes and its building blocks ---------------------------------------------

from mitkit.note_creation import add_inferred_onsets, check_note_settings, create_notes


def _grams(T=100):
    return np.zeros((84, T), np.float32), np.zeros((84, T), np.float32)


def _triples(notes):
    return [(int(s), int(e), int(p)) for s, e, p in notes[["start", "end", "pitch"]].tolist()]


def test_inferred_onset_is_the_smaller_of_the_one_and_two_frame_rises():
    Y_F, Y_O = _grams(6)
    Y_F[0] = [0.0, 0.5, 0.2, 0.6, 0.6, 0.6]  # a dip: at t=3 the 1-frame rise is 0.4, the 2-frame rise 0.1
    Y_F[1] = [0.0, 0.0, 0.0, 0.5, 0.5, 0.5]  # a clean step: 0.5 either way
    O = add_inferred_onsets(Y_F, Y_O)
    # row 0: t=2 -> min(-0.3, 0.2) -> 0 (negative), t=3 -> min(0.4, 0.1) = 0.1; t=0, 1 -> 0 by definition;
    # row 1: 0.5 at t=3. Rescaled so that the largest rise (0.5) equals max(Y_O.max(), Y_F.max()) = 0.6
    np.testing.assert_allclose(O[0], [0, 0, 0, 0.1 * 0.6 / 0.5, 0, 0], atol=1e-6)
    np.testing.assert_allclose(O[1], [0, 0, 0, 0.6, 0, 0], atol=1e-6)
    assert add_inferred_onsets(*_grams(0)).shape == (84, 0)  # no frames: nothing to rescale


def test_onset_exactly_at_the_threshold_and_frame_exactly_at_the_threshold_count():
    Y_F, Y_O = _grams()
    Y_F[40, 10:30] = 0.3  # == frame_threshold: active
    Y_O[40, 10] = 0.5  # == onset_threshold: a peak
    notes = create_notes(Y_F, Y_O, onset_threshold=0.5, frame_threshold=0.3, infer_onsets=False, second_pass=False)
    assert _triples(notes) == [(10, 30, 64)]


def test_walk_gap_across_a_look_ahead_chunk_boundary():
    """_walk looks ahead in chunks of 64, then 128, ... frames; a gap that starts at a chunk's end must be
    measured exactly like one inside a chunk (energy_tolerance=11 inactive frames end a note)."""
    for gap, end in ((11, 65), (10, 120)):
        Y_F, Y_O = _grams(200)
        Y_F[40, 0:65] = 0.9  # frames 1..64 fill the first look-ahead chunk exactly
        Y_F[40, 65 + gap:120] = 0.9
        Y_O[40, 0] = 0.9
        notes = create_notes(Y_F, Y_O, infer_onsets=False, second_pass=False)
        assert _triples(notes)[0] == (0, end, 64), gap
    # 9 inactive frames at the end of the first chunk are bridged
    Y_F, Y_O = _grams(200)
    Y_F[40, 0:56] = 0.9
    Y_F[40, 65:90] = 0.9
    Y_O[40, 0] = 0.9
    assert _triples(create_notes(Y_F, Y_O, infer_onsets=False, second_pass=False)) == [(0, 90, 64)]


@pytest.mark.parametrize("below", [False, True])
def test_a_dropped_second_pass_note_claims_only_its_own_row(below):
    """Second pass, tolerance 3: A (strongest) is a note and claims its neighbour B's middle; what is left
    of B is too short, so B is dropped and claims only its own row: C, next to B but a whole tone from A,
    keeps its full length."""
    a, b, c = (51, 50, 49) if below else (40, 41, 42)
    Y_F, Y_O = _grams()
    Y_F[a, 10:41] = 0.9
    Y_F[b, 5:46] = 0.8
    Y_F[c, 3:31] = 0.7
    notes = create_notes(Y_F, Y_O, infer_onsets=False, energy_tolerance=3)
    assert sorted(_triples(notes)) == sorted([(10, 41, a + 24), (3, 31, c + 24)])


def test_amplitude_of_a_later_note_on_the_same_row():
    Y_F, Y_O = _grams()
    Y_F[40, 10:30] = 0.9
    Y_F[40, 60:80] = 0.5
    Y_O[40, 10] = Y_O[40, 60] = 0.9
    notes = create_notes(Y_F, Y_O, infer_onsets=False, second_pass=False, onset_threshold=0.5)
    assert _triples(notes) == [(10, 30, 64), (60, 80, 64)]
    np.testing.assert_allclose(notes["amplitude"], [0.9, 0.5], atol=1e-6)


def test_partial_amplitude_is_passed_on():
    Y_F, Y_O = _grams()
    Y_F[24, 10:60], Y_O[24, 10] = 0.9, 0.9  # MIDI 48
    Y_F[36, 15:50], Y_O[36, 15] = 0.7, 0.7  # MIDI 60, its octave, amplitude 0.7
    assert [n[2] for n in _triples(create_notes(Y_F, Y_O))] == [48, 60]  # 0.7 >= 0.6: a note
    assert [n[2] for n in _triples(create_notes(Y_F, Y_O, partial_amplitude=0.8))] == [48]


def test_inferred_onsets_are_float32_whatever_the_input_dtype():
    Y_F, Y_O = (g.astype(np.float64) for g in _grams(6))
    Y_F[0, 3:] = 0.5
    assert add_inferred_onsets(Y_F, Y_O).dtype == np.float32
    assert add_inferred_onsets(Y_F.astype(np.float32), Y_O).dtype == np.float32


def _reonset_case(sounds_from, peak):
    """Row 40 sounds weakly from ``sounds_from`` with an onset-posterior peak at ``peak`` that only the re-onset
    rule can take (0.4: under the onset threshold 0.5, over the re-onset threshold 0.3); row 41, a semitone up,
    sounds stronger over the same frames without any onset. Taken as a re-onset, row 40's note comes first
    (the onset pass) and claims row 41; otherwise the second pass keeps only row 41's stronger note."""
    Y_F, Y_O = _grams()
    Y_F[40, sounds_from:40] = 0.5
    Y_F[41, sounds_from:40] = 0.9
    Y_O[40, peak] = 0.4
    notes = create_notes(Y_F, Y_O, onset_threshold=0.5, reonset_threshold=0.3, infer_onsets=False)
    return _triples(notes)


def test_a_reonset_needs_the_pitch_sounding_in_the_frame_just_before():
    assert _reonset_case(9, 10) == [(10, 40, 64)]  # sounding at frame 9: a re-onset at 10
    assert _reonset_case(10, 10) == [(10, 40, 65)]  # starts with the peak: not a re-onset
    assert _reonset_case(1, 1) == [(1, 40, 65)]  # frame 1, nothing sounding at frame 0
    assert _reonset_case(0, 0) == [(0, 40, 65)]  # frame 0 has no frame before it


def test_a_reonset_at_frame_one_splits_a_note_sounding_from_frame_zero():
    Y_F, Y_O = _grams()
    Y_F[40, 0:40] = 0.9
    Y_O[40, 1] = 0.4
    notes = create_notes(Y_F, Y_O, onset_threshold=0.5, reonset_threshold=0.3, infer_onsets=False,
                         min_note_frames=1)
    assert _triples(notes) == [(0, 1, 64), (1, 40, 64)]


def test_posteriorgrams_of_integers_and_booleans_are_read_as_numbers_and_others_are_refused():
    Y_F, Y_O = _grams()
    Y_F[40, 10:40] = 1.0
    Y_O[40, 10] = 1.0
    expected = _triples(create_notes(Y_F, Y_O))
    assert expected == [(10, 40, 64)]
    assert _triples(create_notes(Y_F.astype(np.int64), Y_O.astype(np.uint8))) == expected
    assert _triples(create_notes(Y_F.astype(bool), Y_O.astype(bool))) == expected
    for dtype in (np.complex64, np.str_, object):
        bad = Y_F.astype(dtype)
        with pytest.raises(MitkitError, match=rf"^Y_F.dtype={bad.dtype} must be a real number type$"):
            create_notes(bad, Y_O)


def test_a_float64_frame_posterior_equal_to_the_threshold_is_active():
    """Posteriorgrams are read as float32, as the network writes them: 0.3 given as float64 is the float32
    0.3 that the frame threshold 0.3 is compared with, so it counts (a float64 comparison would not)."""
    Y_F, Y_O = (g.astype(np.float64) for g in _grams())
    Y_F[40, 10:30] = 0.3
    notes = create_notes(Y_F, Y_O, frame_threshold=0.3, infer_onsets=False)
    assert _triples(notes) == [(10, 30, 64)]


@pytest.mark.parametrize(("value", "ok"), [(0, True), (1, True), (0.5, True), (1.5, False), (-0.1, False),
                                           (True, False), ("0.5", False), (None, False)])
def test_partial_amplitude_range_and_type(value, ok):
    if ok:
        assert check_note_settings(partial_amplitude=value)["partial_amplitude"] == float(value)
    else:
        with pytest.raises(MitkitError, match=rf"^partial_amplitude={value!r} must be a number in \[0, 1\]$"):
            check_note_settings(partial_amplitude=value)


def test_reonset_threshold_errors_name_it():
    with pytest.raises(MitkitError, match=r"^reonset_threshold=1.5 must be a number in \(0, 1\]$"):
        check_note_settings(reonset_threshold=1.5)
    assert check_note_settings(reonset_threshold=None)["reonset_threshold"] is None


def test_second_pass_ties_go_to_the_lower_pitch_then_the_earlier_frame():
    """Seeds of equal posterior are taken in row-major order (as ``np.argmax`` would scan): with semitone
    claims on, two rows sounding equally strong a semitone apart give the lower one. Other rows of other
    strengths make the sort a real one (an unstable sort reorders the ties)."""
    Y_F, Y_O = _grams()
    Y_F[40, 0:40] = 0.6
    Y_F[41, 0:40] = 0.6
    for row in range(0, 30, 3):
        Y_F[row, 0:60] = np.resize([0.5, 0.55, 0.6, 0.65], 60)
    notes = create_notes(Y_F, Y_O, infer_onsets=False, claim_neighbours=True)
    assert (0, 40, 64) in _triples(notes) and (0, 40, 65) not in _triples(notes)


def test_the_debug_log_counts_the_notes_and_frames(caplog):
    Y_F, Y_O = _grams()
    Y_F[40, 10:40] = 0.9
    Y_O[40, 10] = 0.9
    with caplog.at_level(logging.DEBUG, logger="mitkit.note_creation"):
        create_notes(Y_F, Y_O)
    assert [r.getMessage() for r in caplog.records if r.name == "mitkit.note_creation"] == [
        "create_notes: 1 notes from T=100 frames"]


def test_zero_frames_warning_text(recwarn):
    Y_F, Y_O = _grams(0)
    create_notes(Y_F, Y_O)
    [w] = recwarn.list
    assert str(w.message) == "create_notes: the posteriorgrams have no frames (T=0); no notes"


def test_error_messages_in_full():
    notes = np.array([(0, 4, 61, 1.0), (0, 9, 60, 1.0)], dtype=NOTE_DTYPE)  # the longest is the second
    with pytest.raises(MitkitError, match=r"^notes\[1\].end=9 must be at most the number of frames T=8$"):
        validate_notes(notes, n_frames=8)
    with pytest.raises(MitkitError, match=r"^note_list must be finite \(it contains NaN or inf\)$"):
        seconds_to_notes([[0.0, np.nan, 60, 90]])
    with pytest.raises(MitkitError, match=r"^note_list must have 0 <= onset_s <= offset_s in every row$"):
        seconds_to_notes([[2.0, 1.0, 60, 90]])


# ---- mitkit.clustering: the frame-level path --------------------------------------------------------

from mitkit.clustering import cluster_frames, notes_from_frame_clusters


def _two_clusters():
    """Row 40 labelled 0 and row 50 labelled 1 over frames 10..40; their onset peaks sit one and two
    frames before the labelled bins (frames 9 and 8)."""
    Y_F, Y_O = _grams()
    Y_F[40, 10:41] = Y_F[50, 10:41] = 0.9
    Y_O[40, 9] = Y_O[50, 8] = 0.8
    labels = np.full(Y_F.shape, -1)
    labels[40, 10:41], labels[50, 10:41] = 0, 1
    return Y_F, Y_O, labels


def test_notes_from_frame_clusters_hand_case():
    Y_F, Y_O, labels = _two_clusters()
    kw = {"infer_onsets": False, "second_pass": False}
    notes, lab = notes_from_frame_clusters(Y_F, Y_O, labels, **kw)  # K = labels.max() + 1 = 2
    assert _triples(notes) == [(8, 41, 74), (9, 41, 64)] and lab.tolist() == [1, 0] and lab.dtype == np.int64
    notes, lab = notes_from_frame_clusters(Y_F, Y_O, labels, 1, **kw)  # cluster 0 only
    assert _triples(notes) == [(9, 41, 64)] and lab.tolist() == [0]
    notes, lab = notes_from_frame_clusters(Y_F, Y_O, labels, 0, **kw)
    assert notes.size == 0 and lab.shape == (0,)
    # the note settings reach create_notes: 32 frames (9..40) are too short for min_note_frames=33, 33 are not
    notes, _ = notes_from_frame_clusters(Y_F, Y_O, labels, 2, min_note_frames=33, **kw)
    assert _triples(notes) == [(8, 41, 74)]
    for bad in (-1, True, 1.5):
        with pytest.raises(MitkitError, match="n_clusters=.* must be an integer >= 0"):
            notes_from_frame_clusters(Y_F, Y_O, labels, bad)
    empty_notes_, empty_labels = notes_from_frame_clusters(*_grams(0), np.zeros((84, 0), int))
    assert empty_notes_.size == 0 and empty_labels.shape == (0,) and empty_labels.dtype == np.int64


def test_cluster_frames_thresholds_and_a_single_bin():
    Y_F, _ = _grams(5)
    V = np.zeros((12, 84, 5), np.float32)
    V[0] = 1.0
    Y_F[30, 2] = 0.3  # exactly frame_threshold: active
    label_map = cluster_frames(Y_F, V, 1, frame_threshold=0.3)
    assert label_map[30, 2] == 0 and (label_map >= 0).sum() == 1
    assert (cluster_frames(Y_F, V, 1, frame_threshold=1.0) == -1).all()  # 1.0 is allowed
    assert (cluster_frames(Y_F, V, 1, max_bins=2) >= 0).sum() == 1  # 2 is allowed
    for kw in ({"frame_threshold": 1.5}, {"frame_threshold": 0}, {"frame_threshold": True}):
        with pytest.raises(MitkitError, match="frame_threshold"):
            cluster_frames(Y_F, V, 1, **kw)
    for bad in (1, True, 2.0):
        with pytest.raises(MitkitError, match="max_bins"):
            cluster_frames(Y_F, V, 1, max_bins=bad)


def test_onset_labels_look_one_frame_ahead_then_two():
    """An onset bin outside every cluster takes the label of the bin 1 frame later, else 2 frames later.
    Row 40: onset at 9, frame 10 in cluster 0, frames 11-12 in cluster 1 -> cluster 0's onset.
    Row 50: onset at 8, frame 9 unlabelled, frame 10 in cluster 0, frames 11-12 in cluster 1 -> cluster 0's."""
    Y_F, Y_O = _grams(30)
    labels = np.full(Y_F.shape, -1)
    for row, onset in ((40, 9), (50, 8)):
        Y_F[row, 10:13] = 0.9
        labels[row, 10], labels[row, 11:13] = 0, 1
        Y_O[row, onset] = 0.8
    notes, lab = notes_from_frame_clusters(Y_F, Y_O, labels, infer_onsets=False, second_pass=False,
                                           min_note_frames=1)
    assert list(zip(_triples(notes), lab.tolist())) == [((8, 11, 74), 0), ((9, 11, 64), 0)]


# ---- mitkit.instrument_count.estimate_n_clusters: paths the clustering tests did not reach -------------

from mitkit.embeddings import affinity_matrix
from mitkit.instrument_count import estimate_n_clusters
from mitkit.synth.embeddings import make_synthetic_embeddings


def test_count_from_a_precomputed_affinity_equals_the_count_from_embeddings():
    """An ``exp(cos)`` affinity is recognised (square, symmetric, positive, e on the diagonal) and read back
    as cosine similarity: the same eigenvalues, silhouettes and K as from the embeddings themselves."""
    E, _ = make_synthetic_embeddings([25, 30, 20], kappa=60, random_state=4)
    A = affinity_matrix(E)
    k_e, from_e = estimate_n_clusters(E, return_details=True)
    k_a, from_a = estimate_n_clusters(A, return_details=True)
    assert k_e == k_a == 3
    np.testing.assert_allclose(from_a["eigenvalues"], from_e["eigenvalues"], atol=1e-9)
    assert from_a["silhouettes"] == pytest.approx(from_e["silhouettes"], abs=1e-9)
    # the same matrix declared as embeddings is 75 points in 75 dimensions, not 3 clusters of notes
    assert estimate_n_clusters(A, precomputed=True) == 3
    with pytest.raises(MitkitError):
        estimate_n_clusters(E[:, :5], precomputed=True)  # not square: cannot be an affinity


def test_count_on_more_notes_than_the_subsample_keeps():
    """Above AUTO_K_MAX_POINTS notes the count runs on a seeded subsample: still the right K, the same K for
    the same seed, and details computed on exactly AUTO_K_MAX_POINTS notes."""
    from mitkit.instrument_count import AUTO_K_MAX_POINTS
    E, _ = make_synthetic_embeddings([500, 450, 400], kappa=60, random_state=5)
    assert len(E) > AUTO_K_MAX_POINTS
    k1, seed1 = estimate_n_clusters(E, return_details=True, random_state=1)
    k2, seed2 = estimate_n_clusters(E, return_details=True, random_state=2)
    assert k1 == k2 == 3 and seed1["n_points"] == len(E)
    np.testing.assert_array_equal(estimate_n_clusters(E, return_details=True, random_state=1)[1]["eigenvalues"],
                                  seed1["eigenvalues"])  # the same seed, the same subsample
    assert not np.allclose(seed1["eigenvalues"][:3], seed2["eigenvalues"][:3], atol=1e-6)  # another seed, another
    few = E[:AUTO_K_MAX_POINTS]  # at the limit nothing is drawn: the seed does not matter
    np.testing.assert_allclose(estimate_n_clusters(few, return_details=True, random_state=1)[1]["eigenvalues"],
                               estimate_n_clusters(few, return_details=True, random_state=2)[1]["eigenvalues"])


# ---- mitkit.evaluation.metrics -------------------------------------------------------------------
ONE = np.array([[0.0, 1.0, 60, 100]])


@pytest.mark.parametrize("name", ["onset_tolerance", "pitch_tolerance", "offset_ratio", "offset_min_tolerance",
                                  "frame_hop"])
def test_every_metric_tolerance_is_checked_by_name(name):
    from mitkit.evaluation.metrics import note_f1, recall_by_kind, separation_metrics, transcription_metrics
    with pytest.raises(MitkitError, match=f"^{name}=-1 must be a positive number"):
        transcription_metrics(ONE, ONE, **{name: -1})
    if name in ("onset_tolerance", "pitch_tolerance"):
        for fn in (lambda **kw: note_f1(ONE, ONE, **kw), lambda **kw: separation_metrics([ONE], [ONE], **kw),
                   lambda **kw: recall_by_kind([ONE], ONE, **kw)):
            with pytest.raises(MitkitError, match=f"^{name}=-1 must be"):
                fn(**{name: -1})


def test_metric_tolerances_take_effect():
    from mitkit.evaluation.metrics import note_f1, recall_by_kind, transcription_metrics
    sharp = np.array([[0.0, 1.0, 60.6, 100]])  # 60 cents sharp
    assert transcription_metrics(ONE, sharp)["frame_f1"] == 0 and note_f1(ONE, sharp) == 0
    wide = transcription_metrics(ONE, sharp, pitch_tolerance=60.3)  # 0.603 semitones: a match
    assert wide["frame_f1"] == 1 and wide["note_f1"] == 1 and note_f1(ONE, sharp, pitch_tolerance=60.3) == 1
    assert recall_by_kind([ONE], sharp, pitch_tolerance=60.3)["other"] == [1, 1]
    late_end = np.array([[0.0, 1.15, 60, 100]])  # offset 0.15 s late on a 1-s note
    assert transcription_metrics(ONE, late_end)["note_offset_f1"] == 1  # tolerance max(0.2 × 1 s, 0.05 s)
    assert transcription_metrics(ONE, late_end, offset_ratio=0.1)["note_offset_f1"] == 0
    assert transcription_metrics(ONE, late_end, offset_ratio=0.1, offset_min_tolerance=0.2)["note_offset_f1"] == 1
    late = np.array([[0.08, 1.0, 60, 100]])  # onset 80 ms late
    assert recall_by_kind([ONE], late)["other"] == [0, 1]
    assert recall_by_kind([ONE], late, onset_tolerance=0.1)["other"] == [1, 1]
    # frames on a 0.25-s grid: the reference sounds at 0, 0.25, 0.5, 0.75 s and the estimate, 0.3 s long, at 0 and
    # 0.25 s: precision 1, recall 1/2
    short = np.array([[0.0, 0.3, 60, 100]])
    m = transcription_metrics(ONE, short, frame_hop=0.25)
    assert (m["frame_precision"], m["frame_recall"]) == (1.0, 0.5)


def test_metric_errors_name_the_argument():
    from mitkit.evaluation.metrics import note_f1, note_kinds, recall_by_kind, separation_metrics, transcription_metrics
    bad = np.zeros((2, 2, 2))
    with pytest.raises(MitkitError, match="^ref "):
        transcription_metrics(bad, ONE)
    with pytest.raises(MitkitError, match="^est "):
        transcription_metrics(ONE, bad)
    with pytest.raises(MitkitError, match="^ref "):
        note_f1(bad, ONE)
    with pytest.raises(MitkitError, match="^est "):
        note_f1(ONE, bad)
    with pytest.raises(MitkitError, match="^part "):
        note_kinds(bad)
    with pytest.raises(MitkitError, match="^est "):
        recall_by_kind([ONE], bad)
    with pytest.raises(MitkitError, match="^parts is an array"):
        recall_by_kind(ONE, ONE)
    with pytest.raises(MitkitError, match="^ref_parts is an array"):
        separation_metrics(ONE, [ONE])


def test_separation_warns_only_when_there_is_nothing_to_match(recwarn):
    from mitkit.evaluation.metrics import separation_metrics
    assert separation_metrics([ONE, ONE + [0, 0, 7, 0]], [ONE])["n_parts"] == 2
    assert separation_metrics([ONE], [ONE])["separation_f1"] == 1.0
    assert not [w for w in recwarn.list if "separation_f1" in str(w.message)]
    for refs, ests, what in (([], [ONE], "ref_parts is empty"), ([ONE], [], "est_tracks is empty"),
                             ([np.zeros((0, 4))], [ONE], "ref_parts hold no notes")):
        with pytest.warns(UserWarning, match=f"^{what}: separation_f1 is 0"):
            assert separation_metrics(refs, ests)["separation_f1"] == 0.0


def test_check_positive_checks_every_value_after_a_none():
    from mitkit.evaluation.metrics import _check_positive
    _check_positive(offset_ratio=None, frame_hop=0.01)  # None means "not used"
    with pytest.raises(MitkitError, match="^frame_hop=-1 must be"):
        _check_positive(offset_ratio=None, frame_hop=-1)


def test_note_scores_of_an_empty_side_are_all_zero():
    from mitkit.evaluation.metrics import separation_metrics
    s = separation_metrics([ONE, ONE + [0, 0, 7, 0]], [ONE, np.zeros((0, 4))])  # one track found nothing
    assert s["part_f1"] == [1.0, 0.0] and s["pair_f1"][1] == [0.0, 0.0]


def test_recall_by_kind_of_no_reference_note_counts_nothing():
    from mitkit.evaluation.metrics import recall_by_kind
    empty = {"repeated": [0, 0], "short": [0, 0], "other": [0, 0]}
    assert recall_by_kind([np.zeros((0, 4))], ONE) == empty and recall_by_kind([], ONE) == empty


def test_note_kinds_boundaries_and_order():
    from mitkit.evaluation.metrics import note_kinds
    # exactly SHORT_NOTE long is not short; a gap of exactly REPEAT_GAP is still a re-attack (binary fractions:
    # the differences are exact)
    part = np.array([[0.0, 0.25, 60, 80], [0.3125, 0.75, 60, 80]])
    assert note_kinds(part, short_note=0.25, repeat_gap=0.0625).tolist() == ["other", "repeated"]
    # kinds come back in the caller's row order, whatever the onset order
    assert note_kinds(part[::-1], short_note=0.25, repeat_gap=0.0625).tolist() == ["repeated", "other"]
    # unison doublings (same pitch, same onset), many of them: the first row of each pair is the attack and
    # the second its repetition, which needs a stable sort (numpy's default is not, past 16 rows)
    pairs = np.array([[t, t + 0.5, 40 + k % 40, 80] for k, t in enumerate(np.arange(0.0, 50.0, 1.0))
                      for _ in range(2)])
    rng = np.random.default_rng(0)
    order = np.concatenate([[2 * k, 2 * k + 1] for k in rng.permutation(len(pairs) // 2)])
    assert note_kinds(pairs[order]).tolist() == ["other", "repeated"] * (len(pairs) // 2)
    # a note that ends earlier than an overlapping one of the same pitch does not reset the pitch's last end
    nested = np.array([[0.0, 2.0, 60, 80], [0.5, 1.0, 60, 80], [2.0, 3.0, 60, 80]])
    assert note_kinds(nested).tolist() == ["other", "repeated", "repeated"]
    # rows sorted by onset, ties kept in the given order (stable), e.g. two notes at one onset
    tie = np.array([[0.0, 1.0, 60, 80], [1.0, 2.0, 60, 80], [1.0, 1.5, 64, 80]])
    assert note_kinds(tie).tolist() == ["other", "repeated", "other"]


def test_notes_to_frames_edges():
    from mitkit.evaluation.metrics import notes_to_frames
    times, freqs = notes_to_frames(np.zeros((0, 4)), frame_hop=0.5)
    assert times.tolist() == [0.0] and [f.tolist() for f in freqs] == [[]]  # no note: one empty frame
    # a note starting exactly on a frame includes it; one ending exactly on a frame excludes it
    times, freqs = notes_to_frames([[0.5, 1.0, 69, 100], [0.0, 0.5, 57, 100]], frame_hop=0.5)
    assert [f.tolist() for f in freqs] == [[220.0], [440.0], []]
    assert all(f.dtype == np.float64 for f in freqs)
    # a note shorter than a frame step between two frames sounds on no frame
    _, freqs = notes_to_frames([[0.1, 0.2, 69, 100], [0.0, 1.0, 57, 100]], frame_hop=0.5)
    assert [f.tolist() for f in freqs] == [[220.0], [220.0], []]
    with pytest.raises(MitkitError, match="^frame_hop=0 must be"):
        notes_to_frames(ONE, frame_hop=0)


def test_instrument_count_accuracy_checks_its_inputs_by_name():
    from mitkit.evaluation.metrics import instrument_count_accuracy
    assert instrument_count_accuracy([0, 1], [0, 1]) == 1.0  # zero is a valid count (silence)
    for bad, what in (([-1], "true_counts"), ([np.inf], "true_counts"), ([1.5], "true_counts")):
        with pytest.raises(MitkitError, match=f"^{what}"):
            instrument_count_accuracy(bad, [1])
        with pytest.raises(MitkitError, match="^est_counts"):
            instrument_count_accuracy([1], bad)
    with pytest.raises(MitkitError, match=r"^true_counts shape=\(1, 1\) must be one-dimensional"):
        instrument_count_accuracy([[1]], [1])
    with pytest.warns(UserWarning, match="^no counts given: instrument_count_accuracy is 0"):
        instrument_count_accuracy([], [])


# ---- mitkit.transcription.transcribe: what it passes on and reports ------------------------------------------

import soundfile as sf

import mitkit
from mitkit import constants as C
from mitkit import transcription
from mitkit.audio import load_audio
from mitkit.backends import TorchBackend


@pytest.fixture(scope="module")
def excerpt():
    """The first 6 s of the bundled example (four parts), at the model's rate."""
    return load_audio(mitkit.example_path())[:6 * C.SAMPLE_RATE]


@pytest.fixture
def calls(monkeypatch):
    """What transcribe hands to the backend loader, the backend and the clustering, recorded as it runs."""
    seen = {"load": [], "predict": [], "stream": [], "seed": [], "create_notes": []}
    real_load, real_cluster, real_create = transcription.load_backend, transcription.cluster_notes, transcription.create_notes
    real_predict, real_stream = TorchBackend.predict, TorchBackend.stream_note_embeddings
    monkeypatch.setattr(transcription, "load_backend", lambda *a, **k: seen["load"].append(k) or real_load(*a, **k))
    monkeypatch.setattr(transcription, "cluster_notes",
                        lambda *a, **k: seen["seed"].append(k["random_state"]) or real_cluster(*a, **k))
    monkeypatch.setattr(transcription, "create_notes", lambda *a, **k: seen["create_notes"].append(k) or real_create(*a, **k))
    monkeypatch.setattr(TorchBackend, "predict", lambda self, *a, **k: seen["predict"].append(k) or real_predict(self, *a, **k))
    monkeypatch.setattr(TorchBackend, "stream_note_embeddings",
                        lambda self, *a, **k: seen["stream"].append(k) or real_stream(self, *a, **k))
    return seen


def test_transcribe_passes_its_settings_on(excerpt, tmp_path, calls):
    path = tmp_path / "excerpt.wav"
    sf.write(path, excerpt, C.SAMPLE_RATE)
    t = mitkit.transcribe(path, instruments=2, backend="torch", device="cpu", precision="fp32")
    assert t.audio == str(path)  # a file source is named in the result (its JSON and report)
    assert calls["load"] == [{"device": "cpu", "precision": "fp32", "audio_seconds": pytest.approx(6.0)}]
    assert calls["predict"] == [{"with_timbre": True, "progress": False}]  # no progress bar unless asked
    assert calls["seed"] == [0]  # the documented default seed
    t = mitkit.transcribe(excerpt, sr=C.SAMPLE_RATE, instruments=2, backend="torch", progress=True, random_state=3)
    assert t.audio is None and calls["predict"][-1]["progress"] is True and calls["seed"][-1] == 3


def test_streamed_embeddings_show_progress_when_asked(calls):
    # longer than one chunk without keeping V: the note embeddings are streamed chunk by chunk
    mitkit.transcribe(mitkit.example_path(), instruments=4, backend="torch", keep_embeddings=False, progress=True)
    assert calls["predict"][-1] == {"with_timbre": False, "progress": True}
    assert calls["stream"] == [{"progress": True}]


def test_frame_clustering_of_one_instrument_runs_the_timbre_branch(excerpt, calls):
    """instruments=1 skips the timbre branch, but frame-level clustering needs V: it runs the network again."""
    t = mitkit.transcribe(excerpt, sr=C.SAMPLE_RATE, instruments=1, clustering="frame", backend="torch")
    assert calls["predict"] == [{"with_timbre": False, "progress": False}, {"with_timbre": True, "progress": False}]
    assert t.posteriorgrams.embeddings is not None and t.posteriorgrams.embeddings.shape[:2] == (12, 84)
    assert len(t.tracks) == 1 and len(t.tracks[0].notes) > 0


def test_voices_count_for_frame_clustering_uses_the_given_thresholds(excerpt, calls):
    mitkit.transcribe(excerpt, sr=C.SAMPLE_RATE, instruments="voices", clustering="frame", backend="torch",
                      onset_threshold=0.55)
    assert calls["create_notes"] and calls["create_notes"][0]["onset_threshold"] == 0.55


def test_one_track_labels_are_integers(excerpt):
    t = mitkit.transcribe(excerpt, sr=C.SAMPLE_RATE, instruments=1, backend="torch")
    assert t.labels.dtype.kind == "i" and set(t.labels.tolist()) == {0}


def test_transcribe_errors_and_warnings_name_the_problem(excerpt, tmp_path):
    with pytest.raises(MitkitError, match="^clustering='bars' must be 'note' or 'frame'$"):
        mitkit.transcribe(excerpt, sr=C.SAMPLE_RATE, clustering="bars")
    # a bad precision is reported before the (missing) audio is read
    with pytest.raises(MitkitError, match="precision='half'"):
        mitkit.transcribe(tmp_path / "missing.wav", precision="half")
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, np.zeros(C.SAMPLE_RATE), C.SAMPLE_RATE)
    with pytest.warns(UserWarning, match=f"^audio {quiet} is silent: no notes to transcribe$"):
        mitkit.transcribe(quiet)
    with pytest.warns(UserWarning, match="^audio array is silent: no notes to transcribe$"):
        mitkit.transcribe(np.zeros(C.SAMPLE_RATE), sr=C.SAMPLE_RATE)
    with pytest.warns(UserWarning, match="^no notes found in audio array at the given thresholds$"):
        mitkit.transcribe(excerpt, sr=C.SAMPLE_RATE, onset_threshold=1.0, frame_threshold=1.0, backend="torch")


# ---- mitkit.inference.use_bf16 --------------------------------------------------------------------------------

@pytest.mark.parametrize("native", [True, False])
def test_use_bf16_resolves_each_precision(monkeypatch, native):
    import mitkit.model
    from mitkit.inference import use_bf16
    monkeypatch.setattr(mitkit.model, "native_bf16", lambda: native)
    assert use_bf16("bf16") is True and use_bf16("fp32") is False  # forced either way
    assert use_bf16("auto") is native  # bf16 only where the CPU computes it natively
    with pytest.raises(MitkitError, match="^precision='AUTO' must be 'auto', 'bf16' or 'fp32'$"):
        use_bf16("AUTO")


def test_regroup_uses_the_documented_default_seed(excerpt, calls):
    t = mitkit.transcribe(excerpt, sr=C.SAMPLE_RATE, instruments=2, backend="torch")
    t.regroup(3)
    assert calls["seed"] == [0, 0]


# ---- mitkit.chunks.segment -----------------------------------------------------------------------------------

def test_segment_takes_only_the_samples_its_frames_need():
    """A chunk's audio is its frames plus context, never the rest of the file (a 10-minute file would run the
    network over the whole remainder for every chunk)."""
    from mitkit.chunks import segment
    audio = np.arange(100 * C.HOP_LENGTH, dtype=np.float32)
    piece, offset = segment(audio, 10, 20, 5)
    assert offset == 5 and len(piece) == 20 * C.HOP_LENGTH and piece[0] == 5 * C.HOP_LENGTH
    piece, offset = segment(audio, 2, 12, 5)  # context cut at the start of the file
    assert offset == 2 and len(piece) == 17 * C.HOP_LENGTH and piece[0] == 0
    piece, offset = segment(audio, 90, 100, 5)  # and at its end
    assert offset == 5 and len(piece) == 15 * C.HOP_LENGTH


# ---- mitkit.notes and mitkit.embeddings again (fifteenth session) -------------------------------------

from mitkit.embeddings import check_embeddings, check_max_clusters, cluster_qr, cosine_similarity, spectral_embedding
from mitkit.notes import n_frames_for


def test_check_embeddings_reads_any_real_type_any_width_and_returns_unit_rows():
    E = check_embeddings(np.array([[3.0, 4.0], [0.0, 0.0], [0.0, 2.0]], np.float32))
    assert E.dtype == np.float64
    np.testing.assert_allclose(E, [[0.6, 0.8], [0.0, 0.0], [0.0, 1.0]])  # a zero row stays zero
    np.testing.assert_allclose(check_embeddings(np.array([[2], [-3]], np.int64)), [[1.0], [-1.0]])  # D = 1
    with pytest.raises(MitkitError, match=r"^E.shape=\(2, 0\) must be \(N, D\) with D >= 1$"):
        check_embeddings(np.zeros((2, 0)))


def test_max_clusters_refuses_a_boolean():
    with pytest.raises(MitkitError, match=r"^max_clusters=True must be an integer >= 1$"):
        check_max_clusters(True)


def test_check_frame_grams_names_a_non_finite_V():
    V = np.zeros((3, 84, 5))
    V[1, 2, 3] = np.inf
    with pytest.raises(MitkitError) as err:
        check_frame_grams(np.zeros((84, 5)), V)
    assert str(err.value) == "V must be finite (it contains NaN or inf)"


def test_cosine_similarity_is_clipped_exactly_to_plus_and_minus_one():
    """A unit vector's dot product with itself can round to 1 + 2**-52; the similarity must not."""
    rng = np.random.default_rng(0)
    for _ in range(1000):
        u = rng.normal(size=16)
        u /= np.linalg.norm(u)
        if u @ u > 1.0:
            break
    assert u @ u > 1.0  # such a vector was found
    C = cosine_similarity(np.vstack([u, -u]))
    assert C[0, 0] == 1.0 and C[0, 1] == -1.0 and C.max() == 1.0 and C.min() == -1.0


def test_spectral_embedding_is_computed_in_float64_and_its_fallback_gives_the_same(monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4))
    W = np.exp(X @ X.T / 4)
    mu64, U64 = spectral_embedding(W, 3)
    mu32, U32 = spectral_embedding(W.astype(np.float32), 3)  # the float32 input is read as float64
    np.testing.assert_allclose(mu32, mu64, atol=1e-6)
    assert mu32.dtype == np.float64 and U32.dtype == np.float64
    import scipy.linalg
    real_eigh = scipy.linalg.eigh

    def subset_fails(M, **kwargs):  # LAPACK's subset solver failing, as it can on repeated rows
        if "subset_by_index" in kwargs:
            raise np.linalg.LinAlgError("subset solver failed")
        return real_eigh(M, **kwargs)
    monkeypatch.setattr(scipy.linalg, "eigh", subset_fails)
    mu_fb, U_fb = spectral_embedding(W, 3)
    np.testing.assert_allclose(mu_fb, mu64, atol=1e-10)
    np.testing.assert_allclose(np.abs(U_fb), np.abs(U64), atol=1e-8)  # eigenvectors up to sign


def test_cluster_qr_labels_are_int64():
    U = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    labels = cluster_qr(U)
    assert labels.dtype == np.int64 and labels[0] == labels[1] != labels[2] == labels[3]


def test_core_notes_ties_keep_the_earliest_notes():
    a = np.resize([0.5, 0.4, 0.5, 0.3], 200)  # no confident note; 100 tied at the top
    assert core_notes(a).tolist() == list(range(0, 2 * CORE_MIN_NOTES, 2))


def test_merge_tracks_of_nothing_is_an_empty_note_array():
    for tracks in ([], [np.zeros((0, 4))]):
        merged = merge_tracks(tracks)
        assert merged.shape == (0, 4)


def test_n_frames_for_counts_frames_centred_on_every_hop():
    assert [n_frames_for(n) for n in (0, 255, 256, 512, 22050)] == [1, 1, 2, 3, 87]
    assert all(type(n_frames_for(n)) is int for n in (0, 256.0))


def test_note_rolls_edges_of_pitch_and_length():
    with pytest.raises(MitkitError) as err:
        note_rolls([], -1)
    assert str(err.value) == "n_frames=-1 must be >= 0"
    top = MIDI_MIN + 84  # one above the highest row: ignored, not an error
    fr, on = note_rolls([[0.0, 0.5, top, 80], [0.1, 0.1, 60, 80], [0.0, 0.0, 61, 80]], 50)
    assert fr.sum() == 2 and on.sum() == 2  # each zero-length note marks exactly one frame
    s = int(round(0.1 * FRAME_RATE))
    assert np.flatnonzero(fr[60 - MIDI_MIN]).tolist() == [s] and np.flatnonzero(fr[61 - MIDI_MIN]).tolist() == [0]
