"""Tests of `mitkit evaluate` (mitkit.cli) and mitkit's evaluation systems (mitkit.evaluation.systems).

The model is the untrained `random_checkpoint`: these tests check the plumbing (what runs, what is
written, what is shared), not accuracy.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import tone

from mitkit import constants as C
from mitkit.cli import main
from mitkit.errors import MitkitError
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.evaluation.metrics import TRANSCRIPTION_KEYS
from mitkit.evaluation.systems import (
    AUTO_LABEL,
    VOICES_LABEL,
    Mitkit,
    SharedTranscriptions,
    evaluate_systems,
    make_systems,
    parse_system_names,
)

SECONDS = 2.0
# Two 2-part mixes: an upper and a lower voice, two notes of 1 s each (harmonic tones, so there is
# something to hear even for an untrained model).
PARTS = {
    "mix-a": ([[0.0, 1.0, 72, 100], [1.0, 2.0, 74, 100]], [[0.0, 1.0, 48, 100], [1.0, 2.0, 50, 100]]),
    "mix-b": ([[0.0, 1.0, 67, 100], [1.0, 2.0, 69, 100]], [[0.0, 2.0, 55, 100]]),
}


@pytest.fixture
def tiny_benchmark(tmp_path):
    """A 2-mix benchmark folder in the mitkit-benchmark format (index.json + mixes/*.flac)."""
    root = tmp_path / "bench"
    (root / "mixes").mkdir(parents=True)
    mixes = []
    for mix_id, parts in PARTS.items():
        y = np.zeros(int(SECONDS * C.SAMPLE_RATE), np.float32)
        for notes in parts:
            for onset, offset, pitch, _ in notes:
                a, b = int(onset * C.SAMPLE_RATE), int(offset * C.SAMPLE_RATE)
                y[a:b] += tone(pitch, offset - onset, amplitude=0.3, harmonics=(1.0, 0.5, 0.25))[: b - a]
        sf.write(root / "mixes" / f"{mix_id}.flac", y, C.SAMPLE_RATE)
        mixes.append({"id": mix_id, "audio": f"mixes/{mix_id}.flac", "n_parts": len(parts),
                      "instrumentation": "other",
                      "parts": [{"name": f"voice {k}", "program": 40, "notes": notes} for k, notes in enumerate(parts)]})
    index = {"format": "mitkit-benchmark", "version": 1, "sample_rate": C.SAMPLE_RATE, "mixes": mixes}
    (root / "index.json").write_text(json.dumps(index))
    return root


def test_evaluate_cli_writes_json_and_prints_table(tiny_benchmark, random_checkpoint, tmp_path, capsys):
    out = tmp_path / "results.json"
    rc = main(["evaluate", "--checkpoint", str(random_checkpoint), "--benchmark", str(tiny_benchmark),
               "--systems", "mitkit,pitch-order,random", "--limit", "2", "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    table = [line for line in printed.splitlines() if line.startswith("|")]
    assert table[0].startswith("| system | parts | mixes |")
    for label in ("mitkit", AUTO_LABEL, VOICES_LABEL, "pitch-order", "random"):
        assert f"| {label} | all | 2 |" in printed
    assert "separation F1" in table[0] and "count acc." in table[0]
    assert f"wrote {out}" in printed

    report = json.loads(out.read_text())
    assert report["format"] == "mitkit-evaluation" and report["version"] == 1
    assert report["checkpoint"] == str(random_checkpoint)
    assert report["benchmark"] == str(tiny_benchmark)
    assert report["systems"] == ["mitkit", AUTO_LABEL, VOICES_LABEL, "pitch-order", "random"]
    assert report["thresholds"]["onset_threshold"] == 0.5 and report["thresholds"]["frame_threshold"] == 0.5
    assert report["thresholds_tuned"] is True
    assert [r["system"] for r in report["results"]] == report["systems"]
    for result in report["results"]:
        assert set(result) == {"system", "benchmark", "settings", "mixes", "by_n_parts", "overall"}
        assert [m["id"] for m in result["mixes"]] == ["mix-a", "mix-b"]
        assert list(result["by_n_parts"]) == ["2"]
        overall = result["overall"]
        assert overall["n_mixes"] == 2
        for key in TRANSCRIPTION_KEYS + ("separation_f1",):
            assert 0.0 <= overall[key] <= 1.0
        for mix in result["mixes"]:  # every system shares the one note-level pass and is charged for it
            assert mix["shared_runtime_s"] > 0 and mix["runtime_s"] >= mix["shared_runtime_s"]
        counted = result["system"] in (AUTO_LABEL, VOICES_LABEL)
        assert result["settings"]["oracle_count"] is not counted
        assert (overall["instrument_count_accuracy"] is None) is not counted
        if not counted:  # oracle K: as many tracks as parts
            assert all(m["n_tracks"] == 2 for m in result["mixes"])
    # Note creation does not depend on K: every system sees the same pooled notes.
    pooled = {r["system"]: [m["note_f1"] for m in r["mixes"]] for r in report["results"]}
    assert len({tuple(v) for v in pooled.values()}) == 1


def test_shared_pass_equals_transcribe(tiny_benchmark, random_checkpoint):
    """Re-clustering the shared transcription's embeddings is what mitkit.transcribe(instruments=K) does."""
    from mitkit.transcription import transcribe

    audio = load_benchmark(tiny_benchmark)[0].audio
    shared = SharedTranscriptions(random_checkpoint)
    system = Mitkit(shared=shared)
    k = 3
    expected = transcribe(audio, instruments=k, checkpoint=random_checkpoint)
    assert len(expected.frame_notes) > k  # enough notes to cluster (else the test would not test the re-clustering)
    got = system(audio, k)
    assert len(got) == k
    want = [track.to_array() for track in expected.tracks] + [np.zeros((0, 4))] * (k - expected.instruments)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w)
    assert len(system(audio, None)) == shared.get(audio).instruments  # auto: the shared result's own tracks
    assert list(shared.seconds) == [str(audio)]  # one network pass for every K
    pooled = Mitkit(instruments=1, shared=shared)(audio, 3)
    assert len(pooled) == 1 and len(pooled[0]) == len(expected.frame_notes)


def test_benchmark_from_environment(tiny_benchmark, random_checkpoint, monkeypatch, capsys):
    monkeypatch.setenv("MITKIT_BENCHMARK", str(tiny_benchmark))
    rc = main(["evaluate", "--checkpoint", str(random_checkpoint), "--systems", "random", "--limit", "1"])
    assert rc == 0
    assert "| random | all | 1 |" in capsys.readouterr().out


def test_evaluate_cli_errors(tiny_benchmark, random_checkpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MITKIT_BENCHMARK", raising=False)
    assert main(["evaluate", "--checkpoint", str(random_checkpoint)]) == 2
    assert "mitkit chorale-bench --out DIR" in capsys.readouterr().err
    out = tmp_path / "exists.json"
    out.write_text("{}")
    assert main(["evaluate", "--benchmark", str(tiny_benchmark), "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["evaluate", "--benchmark", str(tiny_benchmark), "--systems", "mitkit,nonesuch"])
    assert "must be 'all' or names among" in capsys.readouterr().err


def test_system_names_and_counts(random_checkpoint):
    assert parse_system_names("all") == ["mitkit", "mitkit-frame", "pitch-order", "random", "basic-pitch"]
    assert parse_system_names("random, mitkit,random") == ["mitkit", "random"]
    with pytest.raises(MitkitError, match="systems=''"):
        parse_system_names("")
    def labels(count):
        return [(s.name, oracle) for s, oracle in make_systems("mitkit,mitkit-frame", count=count,
                                                               checkpoint=random_checkpoint)]

    assert labels("oracle") == [("mitkit", True), ("mitkit-frame", True)]
    assert labels("auto") == [(AUTO_LABEL, False), ("mitkit-frame", True)]
    assert labels("both") == [("mitkit", True), (AUTO_LABEL, False), ("mitkit-frame", True)]
    assert labels("all") == [("mitkit", True), (AUTO_LABEL, False), (VOICES_LABEL, False), ("mitkit-frame", True)]
    with pytest.raises(MitkitError, match="count='some'"):
        make_systems("mitkit", count="some")
    with pytest.raises(MitkitError, match="limit=0"):
        evaluate_systems([], limit=0)
