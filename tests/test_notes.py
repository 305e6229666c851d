"""Tests for mitkit.notes: hand-written posteriorgrams with exact expected notes, a slow reference
implementation of the documented algorithm, conversions and error paths."""
import warnings

import numpy as np
import pytest

from mitkit.constants import FRAME_RATE, MIDI_MIN, N_PITCHES
from mitkit.errors import MitkitError
from mitkit.note_creation import add_inferred_onsets, check_note_settings, create_notes
from mitkit.note_refinement import remove_partial_notes, start_at_onsets
from mitkit.notes import NOTE_DTYPE, notes_to_seconds, seconds_to_notes, validate_notes

P = N_PITCHES


def grams(T=100):
    return np.zeros((P, T), np.float32), np.zeros((P, T), np.float32)


def triples(notes):
    """(start, end, midi) of each note, in output order."""
    return [tuple(int(v) for v in n) for n in notes[["start", "end", "pitch"]].tolist()]


# ---- hand-written cases -------------------------------------------------------------------------
def test_single_note_exact_bounds_and_amplitude():
    Y_F, Y_O = grams()
    Y_F[36, 10:40] = 0.9
    Y_O[36, 10] = 0.8
    notes = create_notes(Y_F, Y_O)
    assert notes.dtype == NOTE_DTYPE
    assert triples(notes) == [(10, 40, MIDI_MIN + 36)]
    assert notes["amplitude"][0] == pytest.approx(0.9)


def test_amplitude_is_mean_of_frame_posterior_over_the_note():
    Y_F, Y_O = grams()
    Y_F[20, 10:20] = 0.5
    Y_F[20, 20:30] = 1.0
    Y_O[20, 10] = 0.9
    notes = create_notes(Y_F, Y_O, infer_onsets=False)
    assert triples(notes) == [(10, 30, MIDI_MIN + 20)]
    assert notes["amplitude"][0] == pytest.approx(0.75)


@pytest.mark.parametrize("gap, expected", [
    (10, [(10, 60)]),  # 10 inactive frames < energy_tolerance=11: bridged, one note
    (11, [(10, 30)]),  # 11 inactive frames end the note; the second segment has no onset
])
def test_gap_shorter_or_longer_than_energy_tolerance(gap, expected):
    Y_F, Y_O = grams()
    Y_F[40, 10:30] = 0.9
    Y_F[40, 30 + gap:60] = 0.9
    Y_O[40, 10] = 0.9
    notes = create_notes(Y_F, Y_O, infer_onsets=False, second_pass=False, energy_tolerance=11)
    assert [(s, e) for s, e, _ in triples(notes)] == expected


def test_two_notes_same_pitch_with_long_gap_both_found():
    Y_F, Y_O = grams()
    Y_F[40, 10:30] = 0.9
    Y_F[40, 45:70] = 0.9
    Y_O[40, 10] = 0.9
    Y_O[40, 45] = 0.9
    notes = create_notes(Y_F, Y_O, infer_onsets=False, second_pass=False)
    assert triples(notes) == [(10, 30, 64), (45, 70, 64)]


def test_bridged_gap_lowers_amplitude():
    Y_F, Y_O = grams()
    Y_F[40, 10:30] = 0.9
    Y_F[40, 35:60] = 0.9  # 5-frame gap
    Y_O[40, 10] = 0.9
    notes = create_notes(Y_F, Y_O, infer_onsets=False, second_pass=False)
    assert triples(notes) == [(10, 60, 64)]
    assert notes["amplitude"][0] == pytest.approx(0.9 * 45 / 50)


@pytest.mark.parametrize("length, kept", [(7, False), (8, True)])
def test_min_note_frames(length, kept):
    Y_F, Y_O = grams()
    Y_F[50, 20:20 + length] = 0.9
    Y_O[50, 20] = 0.9
    notes = create_notes(Y_F, Y_O, min_note_frames=8)
    assert triples(notes) == ([(20, 20 + length, MIDI_MIN + 50)] if kept else [])


def test_inferred_onset_when_onset_posteriorgram_is_empty():
    Y_F, Y_O = grams()
    Y_F[30, 20:50] = 0.8
    # the rise at frame 20 (0.8) is rescaled to max(Y_O.max(), Y_F.max()) = 0.8 >= 0.5
    notes = create_notes(Y_F, Y_O, infer_onsets=True, second_pass=False)
    assert triples(notes) == [(20, 50, MIDI_MIN + 30)]
    assert create_notes(Y_F, Y_O, infer_onsets=False, second_pass=False).size == 0


def test_add_inferred_onsets_values():
    Y_F, Y_O = grams(10)
    Y_F[0, 3:] = [0.2, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    Y_O[0, 4] = 0.3
    O = add_inferred_onsets(Y_F, Y_O)
    # rise = min(1-frame, 2-frame) difference: t=3 -> 0.2, t=4 -> min(0.4, 0.6) = 0.4, else 0;
    # rescaled so its max equals max(Y_O.max(), Y_F.max()) = 0.6
    expected = np.zeros(10, np.float32)
    expected[3], expected[4] = 0.3, 0.6
    np.testing.assert_allclose(O[0], expected, atol=1e-6)
    assert O[1:].max() == 0


def test_second_pass_picks_up_sustained_note_without_onset():
    Y_F, Y_O = grams()
    Y_F[60, 5:45] = 0.6
    Y_F[60, 25] = 0.9  # strongest frame: the walk starts here, goes both ways
    Y_F[60, 12:15] = 0.1  # a 3-frame dip before the maximum is bridged by the backward walk
    notes = create_notes(Y_F, Y_O, infer_onsets=False, second_pass=True)
    assert triples(notes) == [(5, 45, MIDI_MIN + 60)]
    assert create_notes(Y_F, Y_O, infer_onsets=False, second_pass=False).size == 0


def test_second_pass_skips_frames_used_by_onset_notes():
    Y_F, Y_O = grams()
    Y_F[40, 10:30] = 0.9
    Y_O[40, 10] = 0.9
    Y_F[40, 50:70] = 0.7  # no onset: only the second pass finds it
    notes = create_notes(Y_F, Y_O, infer_onsets=False)
    assert triples(notes) == [(10, 30, 64), (50, 70, 64)]


def test_neighbouring_semitones_are_dampened():
    Y_F, Y_O = grams()
    Y_F[40, 10:40] = 0.9
    Y_O[40, 10] = 0.9
    Y_F[41, 10:40] = 0.5  # semitone "ghost" of the same sound: absorbed
    Y_F[39, 12:38] = 0.5  # also absorbed
    Y_F[42, 10:40] = 0.5  # a whole tone away: a note of its own (second pass)
    notes = create_notes(Y_F, Y_O, infer_onsets=False)
    assert triples(notes) == [(10, 40, MIDI_MIN + 40), (10, 40, MIDI_MIN + 42)]


def test_doubled_onset_peak_starts_note_at_earlier_peak():
    Y_F, Y_O = grams()
    Y_F[40, 10:40] = 0.9
    Y_O[40, 10:13] = [0.8, 0.4, 0.7]  # two local maxima, 2 frames apart
    notes = create_notes(Y_F, Y_O, infer_onsets=False, second_pass=False)
    assert triples(notes) == [(10, 40, 64)]


def test_onset_plateau_counts_once_at_its_first_frame():
    Y_F, Y_O = grams()
    Y_F[40, 10:40] = 0.9
    Y_O[40, 10:13] = 0.8
    notes = create_notes(Y_F, Y_O, infer_onsets=False, second_pass=False)
    assert triples(notes) == [(10, 40, 64)]


def test_notes_touching_first_and_last_frame():
    Y_F, Y_O = grams(60)
    Y_F[0, 0:20] = 0.9
    Y_O[0, 0] = 0.9
    Y_F[P - 1, 40:60] = 0.9
    Y_O[P - 1, 40] = 0.9
    notes = create_notes(Y_F, Y_O, infer_onsets=False, second_pass=False)
    assert triples(notes) == [(0, 20, MIDI_MIN), (40, 60, MIDI_MIN + P - 1)]
    # the second pass reaches the edges too
    Y_O[:] = 0
    assert triples(create_notes(Y_F, Y_O, infer_onsets=False)) == triples(notes)


def test_output_sorted_by_start_then_pitch():
    Y_F, Y_O = grams()
    for p, s in [(50, 30), (10, 5), (30, 5), (70, 60)]:
        Y_F[p, s:s + 20] = 0.9
        Y_O[p, s] = 0.9
    notes = create_notes(Y_F, Y_O)
    assert [(s, m - MIDI_MIN) for s, _, m in triples(notes)] == [(5, 10), (5, 30), (30, 50),
                                                                  (60, 70)]


def test_silence_gives_empty_array_without_warning():
    Y_F, Y_O = grams()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        notes = create_notes(Y_F, Y_O)
    assert notes.shape == (0,) and notes.dtype == NOTE_DTYPE


def test_zero_frames_warns_and_returns_empty():
    Y_F, Y_O = grams(0)
    with pytest.warns(UserWarning, match="T=0"):
        notes = create_notes(Y_F, Y_O)
    assert notes.size == 0 and notes.dtype == NOTE_DTYPE


# ---- a slow, literal implementation of the documented algorithm ---------------------------------
def reference_notes(Y_F, Y_O, onset_threshold=0.5, frame_threshold=0.3, min_note_frames=8,
                    energy_tolerance=11, infer_onsets=True, second_pass=True):
    Pn, T = Y_F.shape
    O = add_inferred_onsets(Y_F, Y_O) if infer_onsets else Y_O
    active = (Y_F >= np.float32(frame_threshold)).tolist()

    def walk(p, t0, step):  # returns the last frame of the note (inclusive)
        last, k, t = t0, 0, t0 + step
        while 0 <= t < T and k < energy_tolerance:
            if active[p][t]:
                last, k = t, 0
            else:
                k += 1
            t += step
        return last

    def claim(p, s, e, neighbours):
        for q in ([p - 1, p, p + 1] if neighbours else [p]):
            if 0 <= q < Pn:
                for t in range(s, e):
                    active[q][t] = False

    peaks = []
    for p in range(Pn):
        row = O[p]
        for t in range(T):
            if row[t] < onset_threshold or (t > 0 and row[t] <= row[t - 1]):
                continue
            u = t + 1
            while u < T and row[u] == row[t]:
                u += 1
            if u == T or row[u] < row[t]:
                peaks.append((t, p))
    notes, first_start = [], {}
    for t0, p in sorted(peaks, reverse=True):
        e = walk(p, t0, 1) + 1
        if e - t0 >= min_note_frames:
            claim(p, t0, e, True)
            first_start[p] = len(notes)
            notes.append([t0, e, p])
        elif p in first_start and notes[first_start[p]][0] == e and t0 < e:
            claim(p, t0, e, True)
            notes[first_start[p]][0] = t0
    if second_pass:
        while True:
            masked = np.where(np.array(active), Y_F, -1.0)
            idx = int(np.argmax(masked))
            if masked.flat[idx] < 0:
                break
            p, t = divmod(idx, T)
            s, e = walk(p, t, -1), walk(p, t, 1) + 1
            keep = e - s >= min_note_frames
            claim(p, s, e, keep)
            if keep:
                notes.append([s, e, p])
    return sorted((s, e, p + MIDI_MIN) for s, e, p in notes)


def random_posteriorgrams(rng, T=160):
    """Blocky notes with random gaps, dips, doubled onsets and noise."""
    Y_F = (rng.random((P, T)) ** 20 * 0.6).astype(np.float32)
    Y_O = (rng.random((P, T)) ** 40 * 0.7).astype(np.float32)
    for _ in range(25):
        p, s = int(rng.integers(0, P)), int(rng.integers(0, T - 5))
        e = min(T, s + int(rng.integers(3, 60)))
        Y_F[p, s:e] = rng.uniform(0.2, 1.0, e - s)
        if rng.random() < 0.7:
            Y_O[p, s] = rng.uniform(0.3, 1.0)
        if rng.random() < 0.3 and s + 2 < T:
            Y_O[p, s + 2] = rng.uniform(0.3, 1.0)
    return Y_F, Y_O


@pytest.mark.parametrize("kw", [
    {},
    {"infer_onsets": False},
    {"second_pass": False},
    {"energy_tolerance": 3, "min_note_frames": 4, "frame_threshold": 0.5},
    {"onset_threshold": 0.3, "energy_tolerance": 1, "min_note_frames": 1},
])
def test_matches_literal_reference_implementation(rng, kw):
    for _ in range(4):
        Y_F, Y_O = random_posteriorgrams(rng)
        got = triples(create_notes(Y_F, Y_O, partial_amplitude=0, onset_lookback=0, **kw))  # steps 1-3 (4, 5 below)
        assert sorted(got) == reference_notes(Y_F, Y_O, **kw)
        assert got == sorted(got, key=lambda n: (n[0], n[2]))


# ---- step 4: partials mistaken for notes --------------------------------------------------------
def test_weak_note_on_a_partial_is_dropped():
    Y_F, Y_O = grams()
    Y_F[24, 10:60], Y_O[24, 10] = 0.9, 0.9      # MIDI 48, strong
    Y_F[43, 15:50], Y_O[43, 15] = 0.45, 0.5     # MIDI 67: its 3rd harmonic, weak -> a partial
    Y_F[40, 15:50], Y_O[40, 15] = 0.45, 0.5     # MIDI 64: not a harmonic of 48 -> kept
    assert [n[2] for n in triples(create_notes(Y_F, Y_O))] == [48, 64]
    assert [n[2] for n in triples(create_notes(Y_F, Y_O, partial_amplitude=0))] == [48, 64, 67]
    Y_F[43, 15:50] = 0.7                       # strong enough to be a note of its own
    assert [n[2] for n in triples(create_notes(Y_F, Y_O))] == [48, 64, 67]


def random_notes(rng, n: int, last_start: int, longest: int, pitches) -> np.ndarray:
    """n notes starting in 0 … last_start - 1, 1 … longest - 1 frames long, at the given MIDI pitches."""
    notes = np.zeros(n, NOTE_DTYPE)
    notes["start"] = rng.integers(0, last_start, n)
    notes["end"] = notes["start"] + rng.integers(1, longest, n)
    notes["pitch"] = pitches
    return notes


def test_remove_partial_notes_matches_literal_rule(rng):
    for _ in range(5):
        n = 60
        notes = random_notes(rng, n, 200, 80, rng.integers(40, 60, n) + rng.choice([0, 12, 19, 24, 28, 31], n))
        notes["amplitude"] = rng.uniform(0.3, 1.0, n)
        expected = [i for i in range(n) if not (notes["amplitude"][i] < 0.6 and any(
            notes["amplitude"][j] > notes["amplitude"][i]
            and notes["pitch"][i] - notes["pitch"][j] in (12, 19, 24, 28, 31)
            and min(notes["end"][i], notes["end"][j]) - max(notes["start"][i], notes["start"][j])
            >= 0.5 * (notes["end"][i] - notes["start"][i]) for j in range(n)))]
        got = remove_partial_notes(notes)
        assert got.tolist() == notes[expected].tolist() and 0 < len(got) < n


# ---- step 5: starts at the onset -----------------------------------------------------------------
def test_slow_attack_starts_at_its_onset_peak():
    Y_F, Y_O = grams()
    Y_F[36, 20:70] = 0.8                        # MIDI 60: the frames find it at 20 ...
    Y_F[36, 14:20] = 0.2                        # ... rising under the frame threshold before
    Y_O[36, 12] = 0.3                           # the onset head heard it at 12, under the onset threshold
    assert triples(create_notes(Y_F, Y_O, onset_lookback=0)) == [(20, 70, 60)]
    assert triples(create_notes(Y_F, Y_O)) == [(12, 70, 60)]
    assert triples(create_notes(Y_F, Y_O, onset_lookback=7)) == [(20, 70, 60)]  # 8 frames back: too far
    Y_O[36, 12] = 0.04                          # under LOOKBACK_MIN_ONSET: noise, not an onset
    assert triples(create_notes(Y_F, Y_O)) == [(20, 70, 60)]


def test_a_repeated_note_keeps_its_start():
    notes = np.array([(0, 30, 60, 0.8), (30, 60, 60, 0.8), (30, 60, 62, 0.8)], dtype=NOTE_DTYPE)
    Y_O = np.zeros((P, 80), np.float32)
    Y_O[36, 25] = 0.5                           # inside the note before it, at the same pitch
    Y_O[38, 25] = 0.5                           # at pitch 62 nothing sounded before: it moves
    assert start_at_onsets(notes, Y_O)["start"].tolist() == [0, 30, 25]
    Y_O[38, 30] = 0.6                           # the onset at its start is the stronger: it stays
    assert start_at_onsets(notes, Y_O)["start"].tolist() == [0, 30, 30]
    assert start_at_onsets(notes, Y_O, lookback=0).tolist() == notes.tolist()


def test_start_at_onsets_edges():
    notes = np.array([(20, 60, 60, 0.8)], dtype=NOTE_DTYPE)
    Y_O = np.zeros((P, 80), np.float32)
    Y_O[36, 10] = 0.25                          # exactly min_onset (0.25 is exact in float32): enough
    assert start_at_onsets(notes, Y_O, min_onset=0.25)["start"].tolist() == [10]
    assert start_at_onsets(notes, Y_O, min_onset=0.26)["start"].tolist() == [20]
    Y_O[36, 20] = 0.25                          # as strong at the start itself: not stronger, it stays
    assert start_at_onsets(notes, Y_O)["start"].tolist() == [20]
    Y_O[36, 20], Y_O[36, 14] = 0.0, 0.25        # a tie: the earlier frame
    assert start_at_onsets(notes, Y_O)["start"].tolist() == [10]
    assert start_at_onsets(notes, Y_O, lookback=10)["start"].tolist() == [10]  # 10 frames back is in reach
    assert start_at_onsets(notes, Y_O, lookback=9)["start"].tolist() == [14]
    Y_O[36, 0] = 0.9                            # at frame 0, in reach of a note starting at 5
    assert start_at_onsets(np.array([(5, 30, 60, 0.8)], dtype=NOTE_DTYPE), Y_O)["start"].tolist() == [0]
    for bad in (-1, 1.5, True):
        with pytest.raises(MitkitError, match="onset_lookback"):
            start_at_onsets(notes, Y_O, lookback=bad)


def test_start_at_onsets_matches_literal_rule(rng):
    for _ in range(5):
        n = 80
        notes = random_notes(rng, n, 300, 60, rng.integers(40, 52, n))
        Y_O = (rng.random((P, 400)) ** 8).astype(np.float32)
        got = start_at_onsets(notes, Y_O, lookback=10, min_onset=0.3)
        for i in range(n):
            row, s = notes["pitch"][i] - 24, int(notes["start"][i])
            before = [int(notes["end"][j]) for j in range(n) if notes["pitch"][j] == notes["pitch"][i]
                      and (notes["start"][j], j) < (s, i)]
            window = [t for t in range(max(s - 10, 0, *before), s)]
            best = max(window, key=lambda t: (Y_O[row, t], -t)) if window else None
            moves = best is not None and Y_O[row, best] >= 0.3 and Y_O[row, best] > Y_O[row, s]
            assert got["start"][i] == (best if moves else s), i
        assert (got["start"] < notes["start"]).any() and (got["end"] == notes["end"]).all()


def test_onset_lookback_is_checked():
    Y_F, Y_O = grams()
    for bad in (-1, 2.5, True, "24"):
        with pytest.raises(MitkitError, match="onset_lookback"):
            create_notes(Y_F, Y_O, onset_lookback=bad)


# ---- step 6: notes a strong onset confirms on weaker frames --------------------------------------
def test_a_strong_onset_confirms_a_note_on_weak_frames():
    """A short note whose frames stay under the frame threshold (0.3 of 0.5) after a strong onset (0.9 at an onset
    threshold of 0.5) is found only by step 6, with its exact bounds and amplitude; an onset too weak to confirm
    (0.9 < 0.5 x 2), or weak frames under the lowered threshold, add nothing."""
    Y_F, Y_O = grams()
    Y_F[36, 20:28] = 0.3
    Y_F[36, 28:31] = 0.1
    Y_O[36, 20] = 0.9
    th = {"onset_threshold": 0.5, "frame_threshold": 0.5, "min_note_frames": 4, "infer_onsets": False}
    assert create_notes(Y_F, Y_O, **th).size == 0
    notes = create_notes(Y_F, Y_O, **th, weak_frame_ratio=0.5)
    assert triples(notes) == [(20, 28, 60)] and notes["amplitude"][0] == pytest.approx(0.3)
    assert triples(create_notes(Y_F, Y_O, **th, weak_frame_ratio=0.1)) == [(20, 31, 60)]
    assert create_notes(Y_F, Y_O, **th, weak_frame_ratio=0.7).size == 0  # 0.3 < 0.35
    assert create_notes(Y_F, Y_O, **th, weak_frame_ratio=0.5, strong_onset_ratio=2).size == 0
    assert create_notes(Y_F, Y_O, **{**th, "min_note_frames": 9}, weak_frame_ratio=0.5).size == 0


def test_a_weakly_held_repeated_note_after_a_sounding_one_is_confirmed():
    """A note held strongly (frames 10-40), then the same pitch re-attacked at frame 40 and held weakly: the
    passes make one note, step 6 the second from the re-attack's onset. An onset two frames before a note of its
    pitch starts (MIDI 64: a doubled onset peak) confirms nothing."""
    Y_F, Y_O = grams()
    Y_F[36, 10:40] = 0.9
    Y_F[36, 40:60] = 0.3
    Y_O[36, 10] = Y_O[36, 40] = 0.9
    Y_O[40, 8] = Y_O[40, 10] = 0.9
    Y_F[40, 8:10] = 0.3
    Y_F[40, 10:30] = 0.9
    th = {"onset_threshold": 0.5, "frame_threshold": 0.5, "min_note_frames": 2, "infer_onsets": False,
          "onset_lookback": 0}
    assert triples(create_notes(Y_F, Y_O, **th)) == [(10, 40, 60), (10, 30, 64)]
    assert triples(create_notes(Y_F, Y_O, **th, weak_frame_ratio=0.5)) == [(10, 40, 60), (10, 30, 64), (40, 60, 60)]


def test_onset_confirmed_notes_match_a_literal_rule(rng):
    """Random posteriorgrams: step 6 adds exactly the notes a frame-by-frame reading of its rule adds (onset peaks
    latest first, each uncovered one walked over weak frames not yet taken, kept when long enough)."""
    from scipy.signal import find_peaks

    for _ in range(4):
        T = 300
        Y_F = (rng.random((P, T)) ** 3).astype(np.float32)
        Y_O = (rng.random((P, T)) ** 6).astype(np.float32)
        th = {"onset_threshold": 0.6, "frame_threshold": 0.5, "min_note_frames": 3}
        before = create_notes(Y_F, Y_O, **th)
        after = create_notes(Y_F, Y_O, **th, weak_frame_ratio=0.4, strong_onset_ratio=1.3)
        covered = np.zeros((P, T), bool)
        for n in before:
            covered[n["pitch"] - MIDI_MIN, max(n["start"] - 2, 0):n["end"]] = True
        taken, want = covered.copy(), []
        peaks = [(t, p) for p in range(P) for t in find_peaks(np.pad(Y_O[p], 1), height=0.6 * 1.3, plateau_size=1)[1]["left_edges"] - 1]
        for t0, p in sorted(peaks, reverse=True):
            if covered[p, t0]:
                continue
            end = t0
            while end < T and Y_F[p, end] >= 0.5 * 0.4 and not taken[p, end]:
                end += 1
            if end - t0 >= 3:
                taken[p, t0:end] = True
                want.append((t0, end, p + MIDI_MIN))
        assert want, "the random case must exercise the rule"
        assert sorted(triples(after)) == sorted(triples(before) + want)


@pytest.mark.parametrize("kw, match", [
    ({"weak_frame_ratio": 0}, r"weak_frame_ratio=0 must be a number in \(0, 1\)"),
    ({"weak_frame_ratio": 1.0}, "weak_frame_ratio=1.0 must be"),
    ({"weak_frame_ratio": True}, "weak_frame_ratio=True must be"),
    ({"weak_frame_ratio": "0.3"}, "weak_frame_ratio='0.3' must be"),
    ({"strong_onset_ratio": 0.9}, r"strong_onset_ratio=0.9 must be a number in \[1, 10\]"),
    ({"strong_onset_ratio": None}, "strong_onset_ratio=None must be"),
])
def test_onset_confirmed_settings_are_checked(kw, match):
    Y_F, Y_O = grams()
    with pytest.raises(MitkitError, match=match):
        create_notes(Y_F, Y_O, **kw)
    with pytest.raises(MitkitError, match=match):
        check_note_settings(**kw)


# ---- conversions --------------------------------------------------------------------------------
def test_notes_to_seconds_hand_computed():
    notes = np.array([(0, 86, 60, 0.5), (10, 20, 107, 0.0), (5, 6, 24, 1.0)], dtype=NOTE_DTYPE)
    out = notes_to_seconds(notes)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out[:, 0], [0, 10 / FRAME_RATE, 5 / FRAME_RATE])
    np.testing.assert_allclose(out[:, 1], [86 / FRAME_RATE, 20 / FRAME_RATE, 6 / FRAME_RATE])
    np.testing.assert_array_equal(out[:, 2], [60, 107, 24])
    np.testing.assert_array_equal(out[:, 3], [64, 1, 127])  # round(63.5) = 64; clipped to 1..127


def test_seconds_round_trip():
    notes = np.array([(3, 40, 60, 64 / 127), (10, 11, 70, 1.0)], dtype=NOTE_DTYPE)
    back = seconds_to_notes(notes_to_seconds(notes))
    np.testing.assert_array_equal(back[["start", "end", "pitch"]], notes[["start", "end", "pitch"]])
    np.testing.assert_allclose(back["amplitude"], notes["amplitude"], rtol=1e-6)
    assert notes_to_seconds(np.zeros(0, NOTE_DTYPE)).shape == (0, 4)
    assert seconds_to_notes(np.zeros((0, 4))).dtype == NOTE_DTYPE


# ---- error paths --------------------------------------------------------------------------------
def test_bad_posteriorgrams_raise():
    Y_F, Y_O = grams()
    with pytest.raises(MitkitError, match=r"Y_F.shape=\(83, 100\) must be \(84, T\)"):
        create_notes(Y_F[:-1], Y_O)
    with pytest.raises(MitkitError, match=r"Y_O.shape=\(84, 99\) must equal"):
        create_notes(Y_F, Y_O[:, :-1])
    bad = Y_F.copy()
    bad[3, 4] = np.nan
    with pytest.raises(MitkitError, match="Y_F must be finite"):
        create_notes(bad, Y_O)
    bad[3, 4] = 1.5
    with pytest.raises(MitkitError, match=r"Y_F must hold values in \[0, 1\]"):
        create_notes(bad, Y_O)
    with pytest.raises(MitkitError, match=r"Y_O must hold values in \[0, 1\]"):
        create_notes(Y_F, Y_O - 0.1)


@pytest.mark.parametrize("kw, match", [
    ({"onset_threshold": 0.0}, r"onset_threshold=0.0 must be a number in \(0, 1\]"),
    ({"frame_threshold": 1.5}, r"frame_threshold=1.5 must be a number in \(0, 1\]"),
    ({"frame_threshold": "0.3"}, r"frame_threshold='0.3' must be a number"),
    ({"min_note_frames": 0}, "min_note_frames=0 must be an integer >= 1"),
    ({"energy_tolerance": 2.5}, "energy_tolerance=2.5 must be an integer >= 1"),
    ({"partial_amplitude": -0.1}, r"partial_amplitude=-0.1 must be a number in \[0, 1\]"),
])
def test_bad_parameters_raise(kw, match):
    Y_F, Y_O = grams()
    with pytest.raises(MitkitError, match=match):
        create_notes(Y_F, Y_O, **kw)


def test_validate_notes_errors():
    with pytest.raises(MitkitError, match="must satisfy 0 <= start < end"):
        validate_notes(np.array([(5, 5, 60, 1.0)], dtype=NOTE_DTYPE))
    with pytest.raises(MitkitError, match=r"pitch=200 must be in 24..107"):
        validate_notes(np.array([(5, 9, 200, 1.0)], dtype=NOTE_DTYPE))
    with pytest.raises(MitkitError, match="must be at most the number of frames T=8"):
        validate_notes(np.array([(5, 9, 60, 1.0)], dtype=NOTE_DTYPE), n_frames=8)
    with pytest.raises(MitkitError, match="fields start, end, pitch"):
        validate_notes(np.zeros((3, 4)))
    with pytest.raises(MitkitError, match=r"note_list.shape=\(2, 5\) must be \(N, 4\)"):
        seconds_to_notes(np.zeros((2, 5)))


def test_a_reonset_inside_a_sustained_note_splits_it():
    """A repeated note without a gap: Y_F stays high, only Y_O marks the second attack."""
    T = 60
    Y_F = np.zeros((N_PITCHES, T), np.float32)
    Y_O = np.zeros_like(Y_F)
    Y_F[10, 5:40] = 0.9
    Y_O[10, 5] = 0.8  # the first attack
    Y_O[10, 20] = 0.2  # the re-attack: far below the onset threshold
    Y_O[10, 30] = 0.05  # a wobble of the onset head, below the re-onset threshold
    settings = dict(onset_threshold=0.5, frame_threshold=0.3, min_note_frames=4)
    one = create_notes(Y_F, Y_O, **settings)
    assert [(n["start"], n["end"]) for n in one] == [(5, 40)]
    two = create_notes(Y_F, Y_O, **settings, reonset_threshold=0.15)
    assert [(n["start"], n["end"]) for n in two] == [(5, 20), (20, 40)]
    # a peak at a pitch that was silent just before is an ordinary onset: the re-onset rule does not start it
    Y_O[30, 10] = 0.2
    Y_F[30, 10:30] = 0.9
    assert 30 + MIDI_MIN not in create_notes(Y_F, Y_O, **settings, reonset_threshold=0.15,
                                             infer_onsets=False, second_pass=False)["pitch"]


@pytest.mark.parametrize("bad", [0, 1.5, "x"])
def test_reonset_threshold_is_checked(bad):
    with pytest.raises(MitkitError, match="reonset_threshold"):
        check_note_settings(reonset_threshold=bad)


def test_neighbour_claims_hide_a_note_a_semitone_away_unless_turned_off():
    """Two parts a semitone apart: MIDI 60 from frame 0, MIDI 61 from frame 10, both to frame 50. The later
    onset is processed first; with basic-pitch's rule its note silences 60 from frame 10, cutting that note
    to 10 frames (dropped at min_note_frames=11); without it both notes are whole."""
    Y_F = np.zeros((N_PITCHES, 60), np.float32)
    Y_O = np.zeros_like(Y_F)
    Y_F[60 - MIDI_MIN, 0:50] = 0.9
    Y_F[61 - MIDI_MIN, 10:50] = 0.8
    Y_O[60 - MIDI_MIN, 0] = Y_O[61 - MIDI_MIN, 10] = 0.9
    assert triples(create_notes(Y_F, Y_O, min_note_frames=8)) == [(0, 10, 60), (10, 50, 61)]
    assert triples(create_notes(Y_F, Y_O, min_note_frames=11)) == [(10, 50, 61)]
    assert triples(create_notes(Y_F, Y_O, min_note_frames=11, claim_neighbours=False)) == [(0, 50, 60), (10, 50, 61)]
    # the second pass too: without onsets, the stronger row is walked first and, by the rule, hides the other
    Y_O[:] = 0
    both = dict(min_note_frames=11, infer_onsets=False)
    assert triples(create_notes(Y_F, Y_O, **both)) == [(0, 50, 60)]
    assert triples(create_notes(Y_F, Y_O, **both, claim_neighbours=False)) == [(0, 50, 60), (10, 50, 61)]


@pytest.mark.parametrize("bad", [0, 1, "no", None])
def test_claim_neighbours_is_checked(bad):
    with pytest.raises(MitkitError, match=r"claim_neighbours=.* must be True or False"):
        check_note_settings(claim_neighbours=bad)
    assert check_note_settings(claim_neighbours=np.bool_(False))["claim_neighbours"] is False


def test_onset_peaks_are_scipy_find_peaks_left_edges():
    # note creation finds onset peaks in NumPy; scipy.signal.find_peaks (plateaus at their left edge,
    # zero frames around each row) is the reference
    from scipy.signal import find_peaks

    from mitkit.note_creation import _onset_peaks
    rng = np.random.default_rng(0)
    for trial in range(200):
        O = rng.random((int(rng.integers(1, 8)), int(rng.integers(1, 40)))).astype(np.float32)
        if trial % 2:
            O = np.round(O * 4) / 4  # plateaus, some at the threshold
        threshold = float(rng.choice([0.25, 0.4, 0.5, 0.75]))
        want_rows, want_frames = [], []
        for p in range(O.shape[0]):
            _, props = find_peaks(np.pad(O[p], 1), height=threshold, plateau_size=1)
            want_rows += [p] * len(props["left_edges"])
            want_frames += list(props["left_edges"] - 1)
        rows, frames = _onset_peaks(O, threshold)
        assert rows.tolist() == want_rows and frames.tolist() == want_frames, trial
