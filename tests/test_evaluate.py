"""Tests of mitkit.evaluation.metrics: hand-computed metric cases, Hungarian matching, benchmarks, error paths."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from mitkit.errors import MitkitError
from mitkit.evaluation.benchmarks import (
    BenchmarkMix,
    CallableSystem,
    System,
    evaluate_benchmark,
    format_markdown_table,
    load_benchmark,
)
from mitkit.evaluation.metrics import (
    TRANSCRIPTION_KEYS,
    instrument_count_accuracy,
    notes_to_frames,
    separation_metrics,
    transcription_metrics,
)
from mitkit.notes import as_note_array, merge_tracks

# Four reference notes, 0.5 s each; the estimate has one exact note, one wrong pitch (+1 semitone),
# one onset 40 ms late (offset 150 ms late) and one onset 60 ms late.
REF = np.array(
    [
        [0.10, 0.60, 60, 80],
        [0.70, 1.20, 62, 80],
        [1.30, 1.80, 64, 80],
        [1.90, 2.40, 65, 80],
    ]
)
EST = np.array(
    [
        [0.10, 0.60, 60, 90],  # exact
        [0.70, 1.20, 63, 90],  # 100 cents off: no match
        [1.34, 1.95, 64, 90],  # onset +40 ms: match; offset +150 ms > max(0.2 * 0.5, 0.05): no offset match
        [1.96, 2.40, 65, 90],  # onset +60 ms: no match
    ]
)


def test_transcription_metrics_hand_case():
    m = transcription_metrics(REF, EST)
    assert list(m) == list(TRANSCRIPTION_KEYS)
    # Onset-only: 2 of 4 estimates match 2 of 4 references.
    assert m["note_precision"] == pytest.approx(0.5)
    assert m["note_recall"] == pytest.approx(0.5)
    assert m["note_f1"] == pytest.approx(0.5)
    # With offsets only the exact note matches.
    assert m["note_offset_precision"] == pytest.approx(0.25)
    assert m["note_offset_f1"] == pytest.approx(0.25)
    # Frames at 10 ms: ref 4 x 50 = 200 active frames; est 50 + 50 + 61 + 44 = 205;
    # matches 50 (exact) + 46 (1.34..1.80) + 44 (1.96..2.40) = 140.
    assert m["frame_recall"] == pytest.approx(140 / 200)
    assert m["frame_precision"] == pytest.approx(140 / 205)
    p, r = 140 / 205, 140 / 200
    assert m["frame_f1"] == pytest.approx(2 * p * r / (p + r))


def test_transcription_metrics_tolerances():
    ref = np.array([[0.0, 0.5, 60, 100]])
    est = np.array([[0.0, 0.5, 60.4, 100]])  # 40 cents sharp
    assert transcription_metrics(ref, est)["note_f1"] == 1.0
    assert transcription_metrics(ref, est)["frame_f1"] == 1.0
    strict = transcription_metrics(ref, est, pitch_tolerance=30.0)
    assert strict["note_f1"] == 0.0 and strict["frame_f1"] == 0.0
    # A wider onset tolerance accepts the 60 ms onset of the hand case.
    assert transcription_metrics(REF, EST, onset_tolerance=0.07)["note_recall"] == pytest.approx(0.75)


def test_transcription_metrics_perfect_and_pair_input():
    intervals, pitches = REF[:, :2], REF[:, 2]
    m = transcription_metrics((intervals, pitches), REF)
    assert all(v == pytest.approx(1.0) for v in m.values())


def test_notes_to_frames_merges_unison_and_excludes_offset():
    notes = np.array([[0.0, 0.02, 69, 100], [0.0, 0.02, 69, 60], [0.01, 0.03, 81, 100]])
    times, freqs = notes_to_frames(notes, frame_hop=0.01)
    assert times.tolist() == pytest.approx([0.0, 0.01, 0.02, 0.03])
    assert [f.tolist() for f in freqs] == [[440.0], [440.0, 880.0], [880.0], []]


@pytest.mark.parametrize("side", ["ref", "est"])
def test_transcription_metrics_empty_warns_zero(side):
    empty = np.zeros((0, 4))
    args = (empty, REF) if side == "ref" else (REF, [])
    with pytest.warns(UserWarning, match=f"{side} holds no notes"):
        m = transcription_metrics(*args)
    assert m == dict.fromkeys(TRANSCRIPTION_KEYS, 0.0)


@pytest.mark.parametrize(
    "notes, match",
    [
        (np.zeros((3, 3)), r"shape=\(3, 3\) must be \(N, 4\)"),
        ([[0.5, 0.4, 60, 100]], "offset must be greater than onset"),
        ([[0.5, 0.5, 60, 100]], "offset must be greater than onset"),
        ([[0.0, np.nan, 60, 100]], "must be finite"),
        ([[-0.1, 0.4, 60, 100]], "onset must be >= 0"),
        ([[0.0, 0.4, 0, 100]], r"midi_pitch must be in \(0, 127\]"),
        ([[0.0, 0.4, 60, 200]], r"velocity must be in \[0, 127\]"),
        ((np.zeros((2, 3)), np.zeros(2)), r"intervals shape=\(2, 3\) must be \(N, 2\)"),
        ((np.zeros((2, 2)), np.zeros(3)), r"pitches shape=\(3,\) must be \(2,\)"),
        (np.zeros(2, dtype=[("start", "i8"), ("end", "i8")]), "structured dtype"),
        ([[0, 1, 60, 100], [0, 1]], "must be a numeric"),
    ],
)
def test_as_note_array_errors(notes, match):
    with pytest.raises(MitkitError, match=match):
        as_note_array(notes)


def test_transcription_metrics_error_names_argument():
    with pytest.raises(MitkitError, match=r"est\[1\]="):
        transcription_metrics(REF, [[0, 1, 60, 100], [1.0, 0.5, 60, 100]])
    with pytest.raises(MitkitError, match="onset_tolerance=0 must be a positive number"):
        transcription_metrics(REF, REF, onset_tolerance=0)
    with pytest.raises(MitkitError, match="frame_hop=-0.01 must be a positive number"):
        transcription_metrics(REF, REF, frame_hop=-0.01)


def test_as_note_array_copies():
    notes = REF.copy()
    out = as_note_array(notes)
    out[0, 0] = 99.0
    assert notes[0, 0] == 0.10


# ---- separation ----------------------------------------------------------------------------------


def _parts(rng, k=3, n=8):
    """k parts in disjoint pitch ranges (so every wrong pair has F1 = 0)."""
    parts = []
    for j in range(k):
        onsets = np.sort(rng.uniform(0, 10, n))
        pitches = 40 + 12 * j + rng.integers(0, 12, n)
        parts.append(np.column_stack([onsets, onsets + 0.3, pitches, np.full(n, 90)]))
    return parts


def test_separation_permuted_reference_is_perfect(rng):
    parts = _parts(rng)
    est = [parts[2], parts[0], parts[1]]
    s = separation_metrics(parts, est)
    assert s["separation_f1"] == pytest.approx(1.0)
    assert s["assignment"] == [(0, 1), (1, 2), (2, 0)]
    assert s["part_f1"] == pytest.approx([1.0, 1.0, 1.0])
    assert np.array(s["pair_f1"]) == pytest.approx(np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]]))
    assert (s["n_parts"], s["n_tracks"]) == (3, 3)


def test_separation_hand_case_hungarian_beats_greedy():
    a = np.array([[0.0, 0.5, 60, 90], [1.0, 1.5, 62, 90], [2.0, 2.5, 64, 90], [3.0, 3.5, 65, 90]])
    b = np.array([[0.0, 0.5, 48, 90]])
    t0 = np.vstack([a, b])  # all of a and b
    t1 = a[:2]  # half of a
    s = separation_metrics([a, b], [t0, t1])
    # F1(a, t0) = 2 * (4/5 * 1) / (4/5 + 1) = 8/9; F1(b, t0) = 2 * (1/5 * 1) / (1/5 + 1) = 1/3;
    # F1(a, t1) = 2 * (1 * 1/2) / (1 + 1/2) = 2/3; F1(b, t1) = 0.
    assert np.array(s["pair_f1"]) == pytest.approx(np.array([[8 / 9, 2 / 3], [1 / 3, 0.0]]))
    # Greedy (best pair first) would take a-t0 and leave b-t1: total 8/9. The optimum is 2/3 + 1/3.
    assert s["assignment"] == [(0, 1), (1, 0)]
    assert s["part_f1"] == pytest.approx([2 / 3, 1 / 3])
    assert s["separation_f1"] == pytest.approx(0.5)


def test_separation_fewer_tracks_than_parts(rng):
    parts = _parts(rng)
    s = separation_metrics(parts, [parts[1], parts[0]])
    assert s["separation_f1"] == pytest.approx(2 / 3)
    assert s["assignment"] == [(0, 1), (1, 0)]
    assert s["part_f1"] == pytest.approx([1.0, 1.0, 0.0])
    assert (s["n_parts"], s["n_tracks"]) == (3, 2)


def test_separation_more_tracks_than_parts(rng):
    parts = _parts(rng, k=2)
    junk = np.array([[5.0, 5.5, 100, 90]])
    s = separation_metrics(parts, [junk, parts[1], np.zeros((0, 4)), parts[0]])
    assert s["separation_f1"] == pytest.approx(1.0)
    assert s["assignment"] == [(0, 3), (1, 1)]
    assert np.array(s["pair_f1"]).shape == (2, 4)


def test_separation_empty_warns():
    a = np.array([[0.0, 0.5, 60, 90]])
    with pytest.warns(UserWarning, match="est_tracks is empty"):
        s = separation_metrics([a], [])
    assert s["separation_f1"] == 0.0 and s["assignment"] == [] and s["part_f1"] == [0.0]
    with pytest.warns(UserWarning, match="ref_parts is empty"):
        assert separation_metrics([], [a])["separation_f1"] == 0.0


def test_separation_errors():
    a = np.array([[0.0, 0.5, 60, 90]])
    with pytest.raises(MitkitError, match="must be a list of note arrays"):
        separation_metrics(a, [a])
    with pytest.raises(MitkitError, match=r"est_tracks\[1\]"):
        separation_metrics([a], [a, [[0.0, 0.5, 60]]])


def test_instrument_count_accuracy():
    assert instrument_count_accuracy([2, 3, 4, 4], [2, 3, 3, 4]) == 0.75
    with pytest.warns(UserWarning, match="no counts"):
        assert instrument_count_accuracy([], []) == 0.0
    with pytest.raises(MitkitError, match="must equal true_counts length"):
        instrument_count_accuracy([2, 3], [2])
    with pytest.raises(MitkitError, match="must hold non-negative integers"):
        instrument_count_accuracy([2, 3], [2, 2.5])


def test_merge_tracks_sorts():
    t0 = np.array([[1.0, 2.0, 60, 90]])
    t1 = np.array([[0.0, 1.0, 64, 90], [1.0, 2.0, 55, 90]])
    assert merge_tracks([t0, t1])[:, 2].tolist() == [64, 55, 60]
    assert merge_tracks([]).shape == (0, 4)


# ---- benchmarks ----------------------------------------------------------------------------------


def _write_silence(path, seconds=2.0, sr=8000):
    import soundfile

    soundfile.write(str(path), np.zeros(int(seconds * sr), dtype=np.float32), sr)


@pytest.fixture
def chorale_benchmark(tmp_path, rng):
    (tmp_path / "mixes").mkdir()
    mixes = []
    for m, k in enumerate([2, 3, 3]):
        parts = _parts(rng, k=k, n=5)
        mix_id = f"mix{m}"
        _write_silence(tmp_path / "mixes" / f"{mix_id}.flac")
        mixes.append(
            {
                "id": mix_id,
                "audio": f"mixes/{mix_id}.flac",
                "n_parts": k,
                "instrumentation": "other",
                "parts": [{"name": f"P{j}", "program": 40, "notes": p.tolist()} for j, p in enumerate(parts)],
            }
        )
    index = {"format": "mitkit-benchmark", "version": 1, "mixes": mixes}
    (tmp_path / "index.json").write_text(json.dumps(index))
    return tmp_path


class OracleReversed:
    """Returns the true parts in reverse order (perfect up to permutation); knows the truth by file."""

    name = "oracle"
    separates = True

    def __init__(self, mixes, drop_last=False):
        self.truth = {str(m.audio): m.parts for m in mixes}
        self.drop_last = drop_last

    def __call__(self, audio, n_parts=None, *, sr=None):
        parts = self.truth[str(audio)][::-1]
        return parts[:-1] if self.drop_last and n_parts is None else parts


def test_load_benchmark_index(chorale_benchmark):
    mixes = load_benchmark(chorale_benchmark)
    assert [m.n_parts for m in mixes] == [2, 3, 3]
    assert mixes[0].audio == chorale_benchmark / "mixes" / "mix0.flac"
    assert mixes[1].part_names == ["P0", "P1", "P2"]
    assert all(p.shape == (5, 4) for p in mixes[2].parts)


def test_evaluate_benchmark_oracle(chorale_benchmark):
    mixes = load_benchmark(chorale_benchmark)
    system = OracleReversed(mixes)
    assert isinstance(system, System)
    res = evaluate_benchmark(chorale_benchmark, system, progress=False)
    assert res["system"] == "oracle" and len(res["mixes"]) == 3
    assert set(res["by_n_parts"]) == {2, 3}
    assert res["by_n_parts"][3]["n_mixes"] == 2
    for agg in [*res["by_n_parts"].values(), res["overall"]]:
        assert agg["note_f1"] == pytest.approx(1.0)
        assert agg["separation_f1"] == pytest.approx(1.0)
        assert agg["instrument_count_accuracy"] is None
        assert agg["real_time_factor"] >= 0
    assert res["mixes"][0]["assignment"] == [(0, 1), (1, 0)]
    assert res["mixes"][0]["duration_s"] == pytest.approx(2.0)
    json.dumps(res)  # serialisable

    table = format_markdown_table(json.loads(json.dumps(res)))
    lines = table.splitlines()
    assert lines[0].startswith("| system | parts | mixes | frame F1 | note F1 | note precision | note F1 (offsets)")
    assert "count acc." not in lines[0]
    assert lines[2].startswith("| oracle | 2 | 1 | 1.000 | 1.000 | 1.000 | 1.000")
    assert lines[-1].startswith("| oracle | all | 3 |")


def test_evaluate_benchmark_estimated_count_and_single_track(chorale_benchmark):
    mixes = load_benchmark(chorale_benchmark)
    res = evaluate_benchmark(mixes, OracleReversed(mixes, drop_last=True), oracle_count=False, progress=False)
    assert res["overall"]["instrument_count_accuracy"] == 0.0
    assert res["by_n_parts"][2]["separation_f1"] == pytest.approx(0.5)
    assert res["by_n_parts"][3]["separation_f1"] == pytest.approx(2 / 3)

    pooled = CallableSystem("pooled", lambda audio, n, sr=None: [merge_tracks(mixes[0].parts)], separates=False)
    res2 = evaluate_benchmark(mixes, pooled, limit=1, progress=False)
    assert res2["overall"]["note_f1"] == pytest.approx(1.0)
    assert res2["overall"]["separation_f1"] is None and res2["mixes"][0]["assignment"] is None
    table = format_markdown_table([res, res2])
    assert "| pooled | 2 | 1 |" in table and "| – |" in table and "count acc." in table

    reference = merge_tracks(mixes[0].parts)
    false_note = np.array([[reference[:, 1].max() + 1.0, reference[:, 1].max() + 1.5, 100, 80]])
    extra = CallableSystem("extra", lambda audio, n, sr=None: [np.vstack([reference, false_note])], separates=False)
    res3 = evaluate_benchmark(mixes, extra, limit=1, progress=False)
    precision = len(reference) / (len(reference) + 1)
    assert res3["overall"]["note_precision"] == pytest.approx(precision)
    overall = res3["overall"]
    assert f"| extra | all | 1 | {overall['frame_f1']:.3f} | {overall['note_f1']:.3f} | {precision:.3f} |" \
        in format_markdown_table(res3)


def test_load_benchmark_audio_midi_pairs(tmp_path):
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    for program, pitches in ((40, [72, 74]), (42, [48, 50])):
        inst = pretty_midi.Instrument(program=program)
        for i, p in enumerate(pitches):
            inst.notes.append(pretty_midi.Note(velocity=80, pitch=p, start=0.5 * i, end=0.5 * i + 0.4))
        pm.instruments.append(inst)
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes.append(pretty_midi.Note(velocity=80, pitch=36, start=0.0, end=0.1))
    pm.instruments.append(drums)
    pm.write(str(tmp_path / "duet.mid"))
    _write_silence(tmp_path / "duet.wav")
    _write_silence(tmp_path / "orphan.wav")
    with pytest.warns(UserWarning, match="no MIDI file"):
        mixes = load_benchmark(tmp_path)
    assert [m.id for m in mixes] == ["duet"] and mixes[0].n_parts == 2
    np.testing.assert_allclose(mixes[0].parts[1], [[0.0, 0.4, 48, 80], [0.5, 0.9, 50, 80]], atol=1e-3)
    assert mixes[0].part_names == ["Violin", "Cello"]


def test_benchmark_errors(tmp_path, chorale_benchmark):
    with pytest.raises(MitkitError, match="must be an existing folder"):
        load_benchmark(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(MitkitError, match="must hold index.json or audio files"):
        load_benchmark(empty)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "index.json").write_text(json.dumps({"format": "mitkit-stems", "version": 1}))
    with pytest.raises(MitkitError, match="format='mitkit-stems' must be 'mitkit-benchmark'"):
        load_benchmark(bad)
    with pytest.raises(MitkitError, match="must be callable with a str attribute `name`"):
        evaluate_benchmark(chorale_benchmark, lambda audio, n: [])
    with pytest.raises(MitkitError, match="results must be the dict"):
        format_markdown_table({"system": "x"})
    mix = BenchmarkMix("m", chorale_benchmark / "mixes" / "mix0.flac", [np.array([[0, 1, 60, 90]])])
    bad_system = CallableSystem("bad", lambda audio, n, sr=None: np.zeros((1, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(MitkitError, match="must be a list of note arrays"):
            evaluate_benchmark([mix], bad_system, progress=False)


def test_note_kinds_by_hand():
    from mitkit.evaluation.metrics import note_kinds
    part = np.array([[0.0, 0.5, 60, 80],    # other
                     [0.5, 1.0, 60, 80],    # repeated: same pitch, no gap
                     [1.03, 1.5, 60, 80],   # repeated: 30 ms gap <= 50 ms
                     [1.6, 1.7, 60, 80],    # short: 100 ms gap is a real rest, 0.1 s long
                     [1.7, 2.5, 62, 80]])   # other
    assert note_kinds(part).tolist() == ["other", "repeated", "repeated", "short", "other"]


def test_recall_by_kind_counts_matches_per_kind():
    from mitkit.evaluation.metrics import recall_by_kind
    soprano = np.array([[0.0, 0.5, 72, 80], [0.5, 1.0, 72, 80], [1.0, 1.1, 74, 80]])
    bass = np.array([[0.0, 1.0, 48, 80], [1.0, 2.0, 48, 80]])
    est = np.array([[0.01, 1.0, 72, 80], [1.0, 1.1, 74, 80], [0.0, 2.0, 48, 80]])  # both re-attacks missed
    counts = recall_by_kind([soprano, bass], est)
    assert counts == {"repeated": [0, 2], "short": [1, 1], "other": [2, 2]}
    assert recall_by_kind([soprano, bass], np.zeros((0, 4)))["other"] == [0, 2]


def test_missed_by_reason_names_each_miss_once():
    """Each reference note the onset-only match misses gets exactly one reason, the first that applies;
    found notes get none."""
    from mitkit.evaluation.metrics import MISS_REASONS, missed_by_reason
    soprano = np.array([[0.0, 0.5, 72, 80],    # found
                        [0.5, 1.0, 72, 80],    # repeated, merged into the note before: inside an earlier note
                        [1.0, 1.5, 74, 80],    # other, the estimate 0.1 s late
                        [1.5, 2.0, 76, 80],    # other, the estimate 0.1 s early (starts at 1.4)
                        [2.0, 2.1, 79, 80],    # short, only the octave below (another part's note) found
                        [3.0, 3.5, 81, 80],    # other, a semitone off
                        [4.0, 4.5, 84, 80]])   # other, nothing near
    bass = np.array([[2.0, 3.0, 67, 80]])      # found
    est = np.array([[0.0, 1.0, 72, 80], [1.1, 1.5, 74, 80], [1.4, 2.0, 76, 80], [2.0, 3.0, 67, 80],
                    [3.01, 3.5, 82, 80]])
    counts = missed_by_reason([soprano, bass], est)
    assert set(counts) == {"repeated", "short", "other"} and all(tuple(c) == MISS_REASONS for c in counts.values())
    assert counts["repeated"] == {**dict.fromkeys(MISS_REASONS, 0), "inside an earlier note": 1}
    assert counts["short"] == {**dict.fromkeys(MISS_REASONS, 0), "octave below": 1}
    assert counts["other"] == {**dict.fromkeys(MISS_REASONS, 0), "late": 1, "early": 1, "wrong pitch": 1, "nothing": 1}
    assert sum(missed_by_reason([soprano, bass], np.zeros((0, 4)))["other"].values()) == 6
    assert sum(n for c in missed_by_reason([soprano, bass], np.concatenate([soprano, bass])).values()
               for n in c.values()) == 0


def test_note_f1_alone_equals_the_full_metrics_note_f1():
    from mitkit.evaluation.metrics import note_f1, transcription_metrics
    rng = np.random.default_rng(4)
    ref = np.array([[t, t + 0.3, p, 90] for t, p in zip(np.arange(0, 6, 0.4), rng.integers(50, 70, 15))])
    est = ref.copy()
    est[::3, 0] += 0.08  # a third of the onsets outside the 50-ms tolerance
    est[1::5, 2] += 1  # some wrong pitches
    full = transcription_metrics(ref, est)["note_f1"]
    assert 0 < full < 1 and note_f1(ref, est) == full
    assert note_f1(ref, est[:0]) == 0.0


def test_miss_study_tallies_notes_found_by_instrument():
    """scripts/miss_study.py --by-instrument: each part name's notes found over the mixes (one instrument in two
    mixes adds up), and the table puts the worst-found instrument first, blank where it does not play."""
    import importlib.util
    from pathlib import Path

    from mitkit.evaluation.benchmarks import BenchmarkMix
    spec = importlib.util.spec_from_file_location("miss_study", Path(__file__).parents[1] / "scripts" / "miss_study.py")
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    flute = np.array([[0.0, 0.5, 72, 80], [0.5, 1.0, 74, 80]])
    marimba = np.array([[0.0, 0.2, 60, 80], [0.5, 0.7, 62, 80]])
    found = [np.array([[0.0, 0.5, 72, 80], [0.5, 1.0, 74, 80], [0.5, 0.7, 62, 80]]), np.array([[0.0, 0.5, 72, 80]])]
    mixes = [BenchmarkMix(id=f"m{i}", audio=Path("none.wav"), parts=[flute, marimba], part_names=["flute", "marimba"])
             for i in range(2)]
    tally = study.found_by_instrument(mixes, found)  # each mix's found notes, in seconds
    assert tally == {"flute": [3, 4], "marimba": [1, 4]}
    rows = study.instrument_table({"data/a": tally, "data/b": {"flute": [2, 2]}})
    assert rows[0] == "| instrument | a | b | notes |"
    assert rows[2:] == ["| marimba | 0.25 |  | 4 |", "| flute | 0.75 | 1.00 | 6 |"]
