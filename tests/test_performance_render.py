"""How the training data is played: zone shifts, pitch-bend vibrato, intonation, timing, articulation."""
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from mitkit import constants as C
from mitkit.errors import MitkitError
from mitkit.synth import instruments as inst
from mitkit.synth import render, scores

DRY = render.Room(reverb_level=0.0, reverb_roomsize=0.0, chorus_nr=0, chorus_level=0.0)


def f0_of(x, expected_hz, *, sr=C.SAMPLE_RATE):
    """Frequency (Hz) of the strongest spectral peak within ±1 semitone of ``expected_hz``, refined by
    parabolic interpolation of the log magnitude on a zero-padded spectrum."""
    n = 1 << 20
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), n))
    f = np.fft.rfftfreq(n, 1 / sr)
    band = np.flatnonzero((f > expected_hz * 2 ** (-1 / 12)) & (f < expected_hz * 2 ** (1 / 12)))
    k = band[np.argmax(spec[band])]
    a, b, c = np.log(spec[k - 1:k + 2] + 1e-20)
    return f[k] + 0.5 * (a - c) / (a - 2 * b + c) * (f[1] - f[0])


@pytest.mark.parametrize("program, shift", [(40, 5), (40, -4), (71, 7), (0, -6)])
def test_zone_shift_keeps_the_pitch(program, shift):
    notes = np.array([[0.0, 1.5, 69, 100]])
    x = render.render_stems([(notes, render.StemStyle(program=program, zone_shift=shift))], room=DRY,
                            tail_s=0.0)[0]
    cents = 1200 * np.log2(f0_of(x[int(0.3 * C.SAMPLE_RATE):int(1.3 * C.SAMPLE_RATE)], 440.0) / 440.0)
    assert abs(cents) < 15, (program, shift, cents)


def test_zone_shift_sounds_another_sample():
    notes = np.array([[0.0, 1.0, 67, 100]])
    a, b = (render.render_stems([(notes, render.StemStyle(program=40, zone_shift=s))], room=DRY, tail_s=0.0)[0]
            for s in (0, 6))
    assert np.corrcoef(a, b)[0, 1] < 0.9  # a different recording, not the same one resampled


def test_zone_shift_out_of_key_range_is_refused():
    with pytest.raises(MitkitError, match="zone_shift=7 must keep every key in 0..127"):
        render.stem_events(np.array([[0.0, 1.0, 124, 90]]), render.StemStyle(program=0, zone_shift=7))


def test_bend_curve_stays_within_vibrato_and_intonation_bounds():
    style = render.StemStyle(program=40, tuning_cents=3.0, vibrato_hz=6.0, vibrato_cents=15.0,
                             intonation_cents=8.0, vibrato_delay_s=0.2, seed=5)
    notes = np.array([[0.0, 2.0, 60, 90], [2.0, 2.5, 62, 90], [3.0, 6.0, 64, 90]])
    ev = render.stem_events(notes, style)
    bends = np.array([(s, a) for s, kind, _, a, _ in ev if kind == render._BEND], float)
    cents = bends[:, 1] / 8192 * render.PITCH_BEND_RANGE_CENTS
    assert np.all(np.abs(cents - 3.0) <= 15.0 + 8.0 + 0.1)
    # vibrato is really there on the long note: its curve swings by most of ±15 cents around its centre
    held = (bends[:, 0] > 3.6 * C.SAMPLE_RATE) & (bends[:, 0] < 5.9 * C.SAMPLE_RATE)
    assert np.ptp(cents[held]) > 20
    # and at the player's rate: zero crossings of the centred curve ≈ 2 per cycle at 6 Hz ± 5 %
    c = cents[held] - cents[held].mean()
    rate = np.count_nonzero(np.diff(np.sign(c)) != 0) / 2 / (np.ptp(bends[held, 0]) / C.SAMPLE_RATE)
    assert 5.4 < rate < 6.6
    # no bend event before its note's onset or after its end (labels and pitch curve stay aligned)
    on_s = notes[:, 0] * C.SAMPLE_RATE
    owner = np.searchsorted(on_s, bends[1:, 0], side="right") - 1
    assert np.all(bends[1:, 0] < notes[owner, 1] * C.SAMPLE_RATE)


def test_add_expression_only_bends_one_note_instruments(rng):
    piano, violin = inst.BY_NAME["acoustic_grand_piano"], inst.BY_NAME["violin"]
    for _ in range(20):
        p = render.add_expression(render.random_style(piano, rng), piano, rng)
        v = render.add_expression(render.random_style(violin, rng), violin, rng)
        assert p.vibrato_hz == 0 and p.intonation_cents == 0
        assert v.vibrato == 0 and (v.vibrato_hz == 0 or 4.5 <= v.vibrato_hz <= 7.0)
        assert v.vibrato_cents <= 20 and v.intonation_cents <= 8
        assert abs(v.zone_shift) <= 7 and abs(p.zone_shift) <= 7


def test_timing_offsets_are_bounded_and_legato_lines_stay_joined(rng):
    q = np.array([[0.0, 1.0, 60], [1.0, 1.0, 60], [2.0, 0.5, 62], [3.0, 1.0, 64]])  # (offset, dur, pitch)
    shift = scores.part_timing_offsets(q, rng, max_offset_s=0.02)
    assert np.all(np.abs(shift) <= 0.02) and np.ptp(shift) > 0
    nxt = scores._shift_of_next(q, shift)
    assert nxt[0] == shift[1] and nxt[1] == shift[2]  # notes 0 and 1 end where the next begins
    assert nxt[2] == shift[2] and nxt[3] == shift[3]  # a rest follows note 2; note 3 is last


def _chorale_parts(articulation, seed=0):
    return scores.score_to_parts(scores.load_score("bach/bwv253"), np.random.default_rng(seed),
                                 bpm_range=scores.CHORALE_TEMPO, vocal_only=True, articulation=articulation)


def test_written_articulation_re_attacks_repeated_notes_without_a_gap():
    repeats = 0
    for part in _chorale_parts("written"):
        n = part.notes
        same = n[1:, 2] == n[:-1, 2]
        repeats += same.sum()
        assert np.allclose(n[1:, 0][same], n[:-1, 1][same])  # ends exactly at the next onset
    assert repeats > 0
    for part in _chorale_parts("detached"):
        n = part.notes
        same = n[1:, 2] == n[:-1, 2]
        assert np.all(n[1:, 0][same] - n[:-1, 1][same] >= scores.MIN_GAP_S - 1e-9)


def test_detached_articulation_without_jitter_is_the_benchmark_rendering():
    """The fixed chorale benchmarks call score_to_parts with articulation="detached" and no jitter: that
    must give exactly what the renderer gave before articulations existed (stored by mitkit 0.1's
    ``score_to_parts(..., max_seconds=28.0)`` of bwv253, seed 0), so the test benchmark is unchanged."""
    stored = json.loads((Path(__file__).parent / "data" / "chorale_bwv253_detached.json").read_text())
    parts = scores.score_to_parts(scores.load_score("bach/bwv253"), np.random.default_rng(0),
                                  bpm_range=scores.CHORALE_TEMPO, vocal_only=True, max_seconds=28.0,
                                  articulation="detached", timing_jitter_s=0.0)
    assert [p.name for p in parts] == list(stored)
    for p in parts:
        np.testing.assert_allclose(p.notes, stored[p.name], atol=2e-6)


def test_bad_articulation():
    with pytest.raises(MitkitError, match="articulation='staccatissimo' must be one of"):
        _chorale_parts("staccatissimo")


def test_repeated_note_without_gap_sounds_a_new_attack():
    """FluidSynth re-triggers a key at a note-off and note-on on the same sample: the label's onset
    is where the audio's new attack is (within one frame)."""
    notes = np.array([[0.3, 1.0, 60, 100], [1.0, 1.7, 60, 100]])
    x = render.render_stems([(notes, render.StemStyle(program=0))], room=DRY, tail_s=0.2)[0]
    hop = C.HOP_LENGTH
    energy = np.log(np.array([np.sum(x[i:i + hop] ** 2) for i in range(0, len(x) - hop, hop)]) + 1e-12)
    rise = np.diff(energy)
    window = slice(int(0.8 * C.FRAME_RATE), int(1.2 * C.FRAME_RATE))
    t_attack = (window.start + np.argmax(rise[window]) + 1) / C.FRAME_RATE
    assert abs(t_attack - 1.0) <= 1.5 / C.FRAME_RATE


def test_random_parts_hold_legato_repeats_and_fast_figures():
    violin = inst.BY_NAME["violin"]
    gaps, lengths = [], []
    for seed in range(30):
        n = scores.random_part(violin, 20.0, np.random.default_rng(seed)).notes
        same = n[1:, 2] == n[:-1, 2]
        gaps += list((n[1:, 0] - n[:-1, 1])[same])
        lengths += list(n[:, 1] - n[:, 0])
    gaps, lengths = np.array(gaps), np.array(lengths)
    assert np.any(np.isclose(gaps, 0.0))  # repeated pitches re-attacked with no gap
    assert np.mean(lengths < 0.2) > 0.1  # fast notes are common
    assert np.all(gaps >= -1e-9)  # one voice per key: never overlapping


def _marked_score():
    """Two parts of eight quarter notes: the top one p with a staccato, a tenuto, an accent and a slur over
    notes 5-7; the bottom one f without marks."""
    from music21 import articulations, dynamics, note, spanner, stream
    score = stream.Score()
    top, bottom = stream.Part(), stream.Part()
    top.partName, bottom.partName = "top", "bottom"
    top.insert(0, dynamics.Dynamic("p"))
    bottom.insert(0, dynamics.Dynamic("f"))
    notes = []
    for k in range(8):
        n = note.Note(72 + k % 3, quarterLength=1.0)
        notes.append(n)
        top.insert(float(k), n)
        bottom.insert(float(k), note.Note(48 + k % 3, quarterLength=1.0))
    notes[1].articulations.append(articulations.Staccato())
    notes[2].articulations.append(articulations.Tenuto())
    notes[3].articulations.append(articulations.Accent())
    top.insert(0, spanner.Slur(notes[4], notes[6]))
    score.insert(0, top)
    score.insert(0, bottom)
    return score


def test_score_marks_are_read_per_note():
    (_, top, _), (_, bottom, _) = scores.score_quarter_notes(_marked_score())
    assert np.isnan(top[0, scores.Q_PLAYED]) and top[1, scores.Q_PLAYED] == 0.5 and top[2, scores.Q_PLAYED] == 1.0
    assert top[:, scores.Q_ACCENT].tolist() == [0, 0, 0, 12, 0, 0, 0, 0]
    assert (top[:, scores.Q_DYNAMIC] == scores.DYNAMIC_VELOCITY["p"]).all()
    assert (bottom[:, scores.Q_DYNAMIC] == scores.DYNAMIC_VELOCITY["f"]).all()
    assert top[:, scores.Q_SLURRED].tolist() == [0, 0, 0, 0, 1, 1, 0, 0]  # the slur's last note ends as usual


def test_score_marks_shape_the_performance():
    parts = scores.score_to_parts(_marked_score(), np.random.default_rng(0), bpm_range=(60.0, 60.0),
                                  articulation="detached", timing_jitter_s=0.0)
    top, bottom = (p.notes for p in parts)
    beat = np.diff(top[:, 0])  # about 1 s at 60 bpm (the tempo drifts a little)
    length = top[:, 1] - top[:, 0]
    assert length[1] == pytest.approx(0.5 * beat[1], rel=1e-6)       # staccato: half its written length
    assert length[2] == pytest.approx(beat[2], rel=1e-6)             # tenuto: all of it, even detached
    assert top[4, 1] == pytest.approx(top[5, 0]) and top[5, 1] == pytest.approx(top[6, 0])  # slurred: joined
    assert length[0] < 0.97 * beat[0] and length[6] < 0.97 * beat[6]  # unmarked notes stay detached
    assert top[:, 3].mean() + 25 < bottom[:, 3].mean()                # p against f
    assert top[3, 3] >= np.delete(top[:, 3], 3).max() - 6             # the accent stands out of the p line


def test_swells_move_the_level_of_held_notes_only():
    held = np.array([[0.2, 2.6, 69, 100]])
    short = np.array([[0.2, 0.5, 69, 100]])
    plain = render.StemStyle(program=71, seed=3)  # clarinet: a steady tone
    swelling = dataclasses.replace(plain, swell_depth=0.6)

    def envelope_db(notes, style):
        x = render.render_stems([(notes, style)], room=DRY, tail_s=0.2)[0]
        hop = C.HOP_LENGTH
        return 10 * np.log10(np.array([np.mean(x[i:i + hop] ** 2) for i in range(0, len(x) - hop, hop)]) + 1e-12)

    a, b = envelope_db(held, plain), envelope_db(held, swelling)
    frame = lambda t: int(t * C.FRAME_RATE)  # noqa: E731
    assert b[frame(0.35)] < a[frame(0.35)] - 4                  # starts well below the plain note
    inside = slice(frame(0.4), frame(2.5))
    assert b[inside].max() - b[inside].min() > 4 > a[inside].max() - a[inside].min()
    onset = lambda e: int(np.argmax(np.diff(e)[frame(0.1):frame(0.4)])) + frame(0.1)  # noqa: E731
    assert abs(onset(a) - onset(b)) <= 1                        # the attack stays where the label is
    np.testing.assert_array_equal(envelope_db(short, plain), envelope_db(short, swelling))  # short: unchanged
