"""Tests of mitkit.evaluation.speed: audio, stage timings against predict, ratios and targets by hand, errors, and
one end-to-end smoke run of ``mitkit bench`` on 3 s of audio (structure only: no timing assertions)."""
import json

import numpy as np
import pytest
import torch

from mitkit import constants as C
from mitkit.errors import MitkitError
from mitkit.evaluation import speed, speed_plots, speed_report, stage_timings
from mitkit.synth import tones


@pytest.fixture
def untrained():
    torch.manual_seed(0)
    from mitkit.model import MitNet
    return MitNet().eval()


def test_synth_signal_is_seeded_and_loops():
    y = tones.synth_signal(2.0, seed=3)
    assert y.dtype == np.float32 and y.shape == (2 * C.SAMPLE_RATE,)
    assert np.abs(y).max() == pytest.approx(0.5)
    np.testing.assert_array_equal(y, tones.synth_signal(2.0, seed=3))
    assert not np.array_equal(y, tones.synth_signal(2.0, seed=4))
    long = stage_timings.loop_to_length(y, 5.5)
    assert long.shape == (int(5.5 * C.SAMPLE_RATE),) and long.dtype == np.float32
    np.testing.assert_array_equal(long[len(y):2 * len(y)], y)  # the second lap repeats the clip
    np.testing.assert_array_equal(long[4 * C.SAMPLE_RATE:], y[:int(1.5 * C.SAMPLE_RATE)])


def test_loop_errors():
    with pytest.raises(MitkitError, match="seconds=0"):
        stage_timings.loop_to_length(np.ones(10, np.float32), 0)
    with pytest.raises(MitkitError, match="length=0"):
        stage_timings.loop_to_length(np.zeros(0, np.float32), 1.0)
    with pytest.raises(MitkitError, match="seconds=-1"):
        tones.synth_signal(-1)


def test_stage_timings_reproduce_predict_in_chunks(untrained):
    """The timed stages compute exactly what predict computes, also when the file spans several chunks."""
    from mitkit import inference
    y = tones.synth_signal(3.0, seed=1)  # 259 frames: 3 chunks of 100, plus predict's σ pass
    st = stage_timings.stage_timings(y, untrained, instruments=1, return_outputs=True, chunk_frames=100,
                                     context_frames=40)  # a short context keeps the test fast
    ref = inference.predict(untrained, y, with_timbre=False, chunk_frames=100, context_frames=40)
    np.testing.assert_allclose(st["outputs"]["Y_F"], ref.frames, atol=1e-6)
    np.testing.assert_allclose(st["outputs"]["Y_O"], ref.onsets, atol=1e-6)
    assert st["n_chunks"] == 3 and st["n_frames"] == ref.n_frames and st["duration"] == pytest.approx(3.0)
    assert st["timbre"] is None and st["clustering"] is None and st["outputs"]["V"] is None
    assert all(st[s] > 0 for s in ("cqt", "amt", "notes"))
    assert st["total"] == pytest.approx(st["cqt"] + st["amt"] + st["notes"])
    assert st["n_notes"] == len(st["outputs"]["notes"])


def test_stage_timings_full(untrained):
    y = tones.synth_signal(3.0, seed=1)
    post = stage_timings.stage_timings(y, untrained, instruments=1, return_outputs=True)["outputs"]
    thresholds = stage_timings.calibrate_thresholds(post["Y_F"], post["Y_O"], onset_fraction=0.01)
    st = stage_timings.stage_timings(y, untrained, instruments=2, thresholds=thresholds, return_outputs=True)
    out = st["outputs"]
    assert out["V"].shape == (C.EMBEDDING_DIM, C.N_PITCHES, st["n_frames"])
    assert st["n_notes"] >= 2, "the calibrated thresholds must leave notes to cluster"
    assert out["labels"].shape == (st["n_notes"],) and set(out["labels"]) <= {0, 1}
    assert all(st[s] > 0 for s in stage_timings.STAGES)
    assert 0 < st["note_embeddings"] <= st["clustering"]
    assert st["total"] == pytest.approx(sum(st[s] for s in stage_timings.STAGES))


def test_stage_timings_errors(untrained):
    with pytest.raises(MitkitError, match="instruments=0"):
        stage_timings.stage_timings(np.zeros(100, np.float32), untrained, instruments=0)
    with pytest.raises(MitkitError, match=r"audio shape=\(2, 5\)"):
        stage_timings.stage_timings(np.zeros((2, 5), np.float32), untrained, instruments=1)


def test_calibrate_thresholds_hand_case():
    Y = np.linspace(0, 1, 101, dtype=np.float32).reshape(1, 101)
    th = stage_timings.calibrate_thresholds(Y, Y, frame_fraction=0.1, onset_fraction=0.5)
    assert th["frame_threshold"] == pytest.approx(0.9) and th["onset_threshold"] == pytest.approx(0.5)
    assert th["min_note_frames"] >= 1 and th["energy_tolerance"] >= 1
    with pytest.raises(MitkitError, match="frame_fraction=1"):
        stage_timings.calibrate_thresholds(Y, Y, frame_fraction=1)


def _rows(times):
    return [{"system": s, "seconds": sec, "time": t, "rtf": t / sec, "peak_rss_mib": rss, "n_notes": 1, "threads": 2}
            for (s, sec), (t, rss) in times.items()]


def test_ratios_memory_growth_and_targets_by_hand():
    rows = _rows({("mitkit-amt", 10.0): (0.4, 300.0), ("mitkit-full", 10.0): (1.0, 350.0),
                  ("basic-pitch", 10.0): (0.5, 400.0),
                  ("mitkit-amt", 600.0): (30.0, 320.0), ("mitkit-full", 600.0): (60.0, 1100.0),
                  ("basic-pitch", 600.0): (20.0, 900.0)})
    r = speed_report.ratios(rows)
    assert [e["seconds"] for e in r] == [10.0, 600.0]
    assert r[0]["amt"] == pytest.approx(0.8) and r[0]["full"] == pytest.approx(2.0)
    assert r[1]["amt"] == pytest.approx(1.5) and r[1]["full"] == pytest.approx(3.0)
    growth = speed_report.memory_growth(rows)
    assert growth == {"mitkit-amt": 20.0, "mitkit-full": 750.0, "basic-pitch": 500.0}
    checks = speed_report.check_targets({"rows": rows, "ratios": r, "targets": speed_report.TARGETS})
    verdict = {(c["name"], c["seconds"]): c["ok"] for c in checks}
    assert verdict[("amt_ratio", 10.0)] and not verdict[("amt_ratio", 600.0)]
    assert verdict[("full_ratio", 10.0)] and not verdict[("full_ratio", 600.0)]  # 2.0 meets "≤ 2.0×"
    assert verdict[("rtf mitkit-amt", 10.0)] and verdict[("rtf mitkit-amt", 600.0)]  # 0.04, then 0.05 ≤ 0.05
    assert not verdict[("rtf mitkit-full", 10.0)] and not verdict[("rtf mitkit-full", 600.0)]  # 0.1
    assert verdict[("peak_rss_mib mitkit-amt", 600.0)] and not verdict[("peak_rss_mib mitkit-full", 600.0)]
    assert ("peak_rss_mib mitkit-amt", 10.0) not in verdict  # the memory target is for 10 minutes
    assert speed_report.ratios(_rows({("mitkit-amt", 10.0): (0.4, 300.0)})) == [{"seconds": 10.0, "amt": None, "full": None,
                                                                                     "onnx_full": None}]


def test_run_bench_argument_errors():
    with pytest.raises(MitkitError, match="lengths"):
        speed.run_bench(lengths=())
    with pytest.raises(MitkitError, match="instruments=1"):
        speed.run_bench(lengths=(3,), instruments=1)
    with pytest.raises(MitkitError, match="system='crepe'"):
        speed.run_bench(lengths=(3,), systems=("crepe",))
    with pytest.raises(MitkitError, match="repeats=0"):
        speed.run_bench(lengths=(3,), repeats=0)
    with pytest.raises(MitkitError, match="length=-3"):
        speed.run_bench(lengths=(-3,))


def test_peak_rss_is_this_process():
    before = speed.peak_rss_mib()
    block = np.ones(64 * 2 ** 20 // 8)  # 64 MiB, touched
    assert speed.peak_rss_mib() >= before and speed.peak_rss_mib() > 64
    del block


def test_bench_command_smoke(tmp_path, random_checkpoint, capsys):
    """``mitkit bench`` on 3 s with one repeat: every system runs in its own process, the table prints,
    the JSON holds the measured times and ratios computed from them."""
    import basic_pitch  # noqa: F401  (installed by scripts/setup.sh: missing, this test fails)

    from mitkit.cli import main
    out = tmp_path / "bench.json"
    assert main(["bench", "--lengths", "3", "--repeats", "1", "--instruments", "2", "--threads", "1",
                 "--checkpoint", str(random_checkpoint), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| audio | system | time (s) | RTF | peak RSS (MiB) | notes | load |" in printed
    assert "Stage breakdown" in printed and "×" in printed
    results = json.loads(out.read_text())
    rows = {r["system"]: r for r in results["rows"]}
    assert set(rows) == set(speed_report.SYSTEMS)
    for r in rows.values():
        assert r["seconds"] == pytest.approx(3.0) and len(r["times"]) == 1 and r["isolated"]
        assert r["time"] == r["times"][0] > 0 and r["rtf"] == pytest.approx(r["time"] / r["seconds"])
        assert 50 < r["peak_rss_mib"] < 4096 and r["rss_before_mib"] <= r["peak_rss_mib"]
        assert r["threads"] == 1
        # neither basic-pitch's peak nor onnxruntime's holds torch
        assert r["torch_loaded"] == (r["system"] not in ("basic-pitch", "mitkit-onnx-full"))
        assert len(r["load"]) == 2
    # same audio, same model (onnxruntime runs float32, PyTorch bf16 here: an untrained model's notes may differ)
    assert len({r["n_notes"] for r in rows.values() if r["system"] in ("mitkit-amt", "mitkit-full")}) == 1
    assert rows["mitkit-onnx-full"]["n_notes"] > 0
    [ratio] = results["ratios"]
    assert ratio["amt"] == pytest.approx(rows["mitkit-amt"]["time"] / rows["basic-pitch"]["time"])
    assert ratio["full"] == pytest.approx(rows["mitkit-full"]["time"] / rows["basic-pitch"]["time"])
    assert ratio["onnx_full"] == pytest.approx(rows["mitkit-onnx-full"]["time"] / rows["basic-pitch"]["time"])
    stages = rows["mitkit-full"]["stages"]
    assert set(stage_timings.STAGES) <= set(stages) and stages["total"] > 0
    assert results["model"]["trained"] and results["config"]["instruments"] == 2
    assert {c["name"] for c in results["checks"]} >= {"amt_ratio", "full_ratio", "onnx_full_ratio", "rtf mitkit-amt"}
    assert "full, onnxruntime" in printed
    fig = speed_plots.plot_bench(results)
    assert len(fig.data) == 2 * len(speed_report.SYSTEMS) + len(stage_timings.STAGES)
    assert main(["bench", "--lengths", "3", "--out", str(out)]) == 2  # refuses to overwrite


def test_load_bench_model_reads_the_given_checkpoint(random_checkpoint):
    given = stage_timings.load_bench_model(random_checkpoint)
    assert given.trained and given.checkpoint == str(random_checkpoint)
    assert given.thresholds["frame_threshold"] == 0.5  # from the checkpoint, the rest from the defaults
    assert given.thresholds["energy_tolerance"] == 11
