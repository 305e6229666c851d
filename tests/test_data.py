"""Synthetic data, the parts that need no synthesizer: labels, instrument ranges, random notes, splits.

(mitkit.synth.instruments, mitkit.synth.scores, mitkit.synth.datasets; rendering tests are in test_data_render.py.)
"""
import numpy as np
import pytest

from mitkit.constants import HOP_LENGTH, MIDI_MAX, MIDI_MIN, N_PITCHES, SPLITS
from mitkit.errors import MitkitError
from mitkit.notes import n_frames_for, note_rolls, rolls_to_notes
from mitkit.synth import instruments as inst
from mitkit.synth import scores
from mitkit.synth.splits import split_of

# ---- labels ------------------------------------------------------------------------------------------

def test_note_rolls_hand_case():
    # frame rate 86.13/s: 0.1 s -> frame 9 (8.61), 0.3 s -> frame 26 (25.84); 0.5 s -> 43 (43.07)
    notes = [[0.1, 0.3, 60, 80], [0.5, 0.501, 107, 10], [0.0, 0.2, 23, 80], [0.2, 0.4, 108, 80]]
    fr, on = note_rolls(notes, 50)
    assert fr.shape == on.shape == (N_PITCHES, 50) and fr.dtype == np.float32
    assert np.array_equal(np.flatnonzero(fr[60 - MIDI_MIN]), np.arange(9, 26))
    assert np.array_equal(np.flatnonzero(on[60 - MIDI_MIN]), [9])
    assert np.array_equal(np.flatnonzero(fr[107 - MIDI_MIN]), [43])  # shorter than a frame: still one frame
    assert fr.sum() == 17 + 1 and on.sum() == 2  # pitches 23 and 108 are outside the 84-pitch range


def test_note_rolls_clips_to_length_and_empty():
    fr, on = note_rolls([[0.0, 10.0, 69, 80], [5.0, 6.0, 70, 80]], 20)
    assert fr[69 - MIDI_MIN].sum() == 20 and on[69 - MIDI_MIN, 0] == 1 and fr[70 - MIDI_MIN].sum() == 0
    fr, on = note_rolls(np.zeros((0, 4)), 5)
    assert fr.shape == (84, 5) and not fr.any()
    with pytest.raises(MitkitError, match="n_frames=-1 must be"):
        note_rolls([], -1)


def test_n_frames_matches_frame_centres():
    assert n_frames_for(0) == 1 and n_frames_for(HOP_LENGTH - 1) == 1 and n_frames_for(HOP_LENGTH) == 2


# ---- instruments and ranges -------------------------------------------------------------------------

def test_instrument_table_is_consistent():
    assert len({i.program for i in inst.INSTRUMENTS}) == len(inst.INSTRUMENTS)
    assert all(MIDI_MIN <= i.low < i.high <= MIDI_MAX for i in inst.INSTRUMENTS)
    for name, names in inst.ENSEMBLES.items():
        classes = [inst.BY_NAME[n].cls for n in names]
        # classes are distinct but where one instrument is named twice (two players)
        assert len(set(classes)) == len(set(names)), name
    assert inst.instrument(40).name == "violin" and inst.instrument("bassoon").program == 70
    with pytest.raises(MitkitError, match="instrument=999 must be"):
        inst.instrument(999)


@pytest.mark.parametrize("ins", inst.INSTRUMENTS, ids=lambda i: i.name)
def test_random_part_respects_range(ins):
    part = scores.random_part(ins, 8.0, np.random.default_rng(ins.program))
    n = part.notes
    assert len(n) > 3
    assert n[:, 2].min() >= ins.low and n[:, 2].max() <= ins.high
    assert np.all(n[:, 1] > n[:, 0]) and n[:, 0].max() < 8.0 + 1e-9
    assert n[:, 3].min() >= 1 and n[:, 3].max() <= 127
    if not ins.polyphonic:  # one note at a time
        order = np.argsort(n[:, 0])
        assert np.all(n[order][1:, 0] >= n[order][:-1, 1] - 1e-9)


def test_assign_instruments_distinct_classes_and_ranges(rng):
    spans = [(60, 79), (55, 74), (48, 69), (36, 62)]  # SATB
    for ens in [None, *inst.ENSEMBLES]:
        chosen = inst.assign_instruments(spans, rng, ensemble=ens)
        assert len({i.cls for i in chosen}) == (3 if ens == "string_quartet" else 4)
        assert all(i.fits(*s) for i, s in zip(chosen, spans))
    quartet = inst.assign_instruments([(60, 79), (55, 74), (48, 69), (36, 60)], rng, ensemble="string_quartet")
    assert [i.name for i in quartet] == ["violin", "violin", "viola", "cello"]
    # a doubled class is allowed only for the ensemble's own second player, not for the other parts
    excl = inst.assign_instruments(spans, rng, ensemble="string_quartet", exclude_classes=["violin"])
    assert len({i.cls for i in excl}) == 4 and "violin" not in {i.cls for i in excl}
    bach10 = inst.assign_instruments(spans, rng, ensemble="bach10")
    assert [i.name for i in bach10] == ["violin", "clarinet", "tenor_sax", "bassoon"]
    with pytest.raises(MitkitError, match="cannot be played"):
        inst.assign_instruments([(20, 110)], rng)
    with pytest.raises(MitkitError, match="ensemble='nope' must be"):
        inst.assign_instruments(spans, rng, ensemble="nope")


def test_tidy_notes_separates_repeated_pitches():
    n = scores.tidy_notes([[0.0, 1.0, 60, 80], [0.5, 1.5, 60, 80], [0.2, 0.21, 62, 80]])
    assert n.tolist() == [[0.0, 0.48, 60, 80], [0.5, 1.5, 60, 80]]  # 62 is too short after all


def test_melody_key_is_transposition_invariant():
    a = np.array([[0, 1, 60], [1, 1, 62], [2, 1, 64], [3, 1, 64], [4, 1, 65]], float)
    b = a + [0, 0, 5]
    low = a - [0, 0, 12]
    assert scores.melody_key([a, low]) == scores.melody_key([b])
    c = a.copy()
    c[1, 2] = 63
    assert scores.melody_key([a]) != scores.melody_key([c])


# ---- splits -----------------------------------------------------------------------------------------

def test_split_of_is_deterministic_and_proportional():
    keys = [f"piece-{i}" for i in range(4000)]
    labels = [split_of(k) for k in keys]
    assert labels == [split_of(k) for k in keys]
    frac = {s: labels.count(s) / len(keys) for s in SPLITS}
    assert abs(frac["train"] - 0.8) < 0.03 and abs(frac["test"] - 0.1) < 0.03
    assert split_of("chorale-bwv253") == split_of("chorale-bwv253")


def test_rolls_to_notes_inverts_note_rolls():
    from mitkit.notes import note_rolls
    notes = np.array([[0.0, 0.5, 60, 90], [0.3, 0.8, 64, 90], [0.5, 0.9, 60, 90]])
    frames, onsets = note_rolls(notes, 100)
    back = rolls_to_notes(frames, onsets)
    np.testing.assert_allclose(back[:, :3], notes[:, :3], atol=1.0 / 86)  # within a frame
    late = rolls_to_notes(frames[:, 10:], onsets[:, 10:])  # a clip that starts inside the first note
    assert late[0, 0] == 0.0 and late[0, 2] == 60 and len(late) == 3


def test_second_player_of_an_instrument_gets_its_own_sound():
    from mitkit.synth import datasets

    rng = np.random.default_rng(0)
    violins = [inst.BY_NAME["violin"]] * 2 + [inst.BY_NAME["viola"]]
    for _ in range(20):
        fonts = ["FluidR3_GM"] * 3
        datasets._second_players_sound_their_own(violins, fonts, rng)
        assert fonts[1] != fonts[0] and fonts[0] == fonts[2] == "FluidR3_GM"  # viola is nobody's second


def test_accompanied_parts_put_the_lower_voices_on_one_chord_playing_instrument():
    from mitkit.synth import datasets, scores
    rng = np.random.default_rng(3)
    parts = scores.score_to_parts(scores.load_score("bach/bwv253"), rng, bpm_range=scores.CHORALE_TEMPO,
                                  vocal_only=True, articulation="written")
    seen = set()
    for seed in range(12):
        played, ins_list = datasets.accompanied_parts(parts, np.random.default_rng(seed))
        assert len(played) == len(ins_list) in (2, 3)
        n_melody = len(played) - 1
        seen.add(n_melody)
        soprano = max(parts, key=lambda p: p.notes[:, 2].mean())
        np.testing.assert_array_equal(played[0].notes, soprano.notes)          # the top part keeps its notes
        assert ins_list[-1].polyphonic and not any(i.polyphonic for i in ins_list[:-1])
        assert len({i.cls for i in ins_list}) == len(ins_list)
        lower = sorted(parts, key=lambda p: -p.notes[:, 2].mean())[n_melody:]
        accompaniment = played[-1].notes
        shift = accompaniment[:, 2].min() - min(p.notes[:, 2].min() for p in lower)
        assert shift in (0, 12) and ins_list[-1].fits(*played[-1].span)
        # every onset of the merged voices is played (a pitch shared at once sounds once)
        onsets = {(round(t, 6), int(m) + shift) for p in lower for t, m in p.notes[:, [0, 2]]}
        assert {(round(t, 6), int(m)) for t, m in accompaniment[:, [0, 2]]} <= onsets
        assert len(accompaniment) >= max(len(p.notes) for p in lower)
    assert seen == {1, 2}  # one or two melody instruments
