"""The `mitkit synth`, `mitkit train` and `mitkit chorale-bench` commands, run through the CLI entry point.

Small on purpose: one synthetic piece (about 37 s of 4 stems, rendered once per module), two training
steps of the tiny preset, and a one-chorale benchmark of 8 s excerpts from a shortened chorale list.
"""
import csv
import json

import numpy as np
import pytest
import soundfile as sf

from mitkit.checkpoint import load_checkpoint
from mitkit.cli import build_parser, main
from mitkit.synth import scores, splits

TRAIN_ARGS = ["--preset", "tiny", "--batch-size", "2", "--eval-every", "2", "--workers", "0", "--threads", "1",
              "--device", "cpu"]


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli") / "synth"
    assert main(["synth", "--out", str(root), "--hours", "0.01", "--seed", "0", "--quiet"]) == 0
    return root


def test_synth_command_renders_and_resumes(synth_dir, capsys):
    man = json.loads((synth_dir / "manifest.json").read_text())
    assert man["format"] == "mitkit-stems" and man["version"] == 1 and man["sample_rate"] == 22050
    assert len(man["pieces"]) >= 1
    for piece in man["pieces"]:
        assert piece["split"] in ("train", "validation", "test") and len(piece["stems"]) >= 2
        lengths = {sf.info(str(synth_dir / s["file"])).frames for s in piece["stems"]}
        assert len(lengths) == 1  # the stems of a piece are sample-aligned
    hours = sum(len(p["stems"]) * p["duration"] for p in man["pieces"]) / 3600
    assert hours >= 0.01  # --hours counts every stem
    stamps = {f.name: f.stat().st_mtime_ns for f in (synth_dir / "audio").iterdir()}
    # the same command again resumes: nothing is rendered again
    assert main(["synth", "--out", str(synth_dir), "--hours", "0.01", "--seed", "0", "--quiet"]) == 0
    assert f"{len(man['pieces'])} pieces" in capsys.readouterr().out
    assert {f.name: f.stat().st_mtime_ns for f in (synth_dir / "audio").iterdir()} == stamps
    assert json.loads((synth_dir / "manifest.json").read_text())["pieces"] == man["pieces"]


def test_synth_command_errors(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path / "x"), "--hours", "0", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "hours=0" in err and "must be > 0" in err
    with pytest.raises(SystemExit):  # argparse: a shard index must be below the shard count
        main(["synth", "--out", str(tmp_path / "x"), "--hours", "1", "--shard", "2/2"])


@pytest.fixture(scope="module")
def train_data(synth_dir, tmp_path_factory):
    """The synthetic piece listed twice: once for training, once for validation (the same audio)."""
    root = tmp_path_factory.mktemp("cli") / "train-data"
    root.mkdir()
    (root / "audio").symlink_to(synth_dir / "audio", target_is_directory=True)
    man = json.loads((synth_dir / "manifest.json").read_text())
    piece = man["pieces"][0]
    man["pieces"] = [{**piece, "split": "train"}, {**piece, "id": piece["id"] + "-v", "split": "validation"}]
    (root / "manifest.json").write_text(json.dumps(man))
    return root


def _log_steps(run):
    with open(run / "log.csv", newline="") as f:
        return [int(row["step"]) for row in csv.DictReader(f)]


def test_train_command_trains_refuses_to_clobber_and_resumes(train_data, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--data", str(train_data), "--run", str(run), "--steps", "2", *TRAIN_ARGS]) == 0
    assert f"done: {run / 'best.pt'}" in capsys.readouterr().out
    assert _log_steps(run) == [2]
    best = load_checkpoint(run / "best.pt")
    cfg = best["train_config"]
    # the tiny preset, with the command line's overrides
    assert (cfg["steps"], cfg["batch_size"], cfg["eval_every"], cfg["num_workers"]) == (2, 2, 2, 0)
    assert (cfg["stage"], cfg["clip_frames"], cfg["lr"]) == ("amt", 128, 3e-3)
    assert (cfg["onset_spread"], cfg["reattack_weight"]) == (0, 1.0)  # one-frame onset targets unless asked
    assert cfg["data"] == str(train_data)
    last = run / "last.pt"
    before = (last.read_bytes(), last.stat().st_mtime_ns)

    # the same run folder again, without --resume: refused, and nothing is touched
    assert main(["train", "--data", str(train_data), "--run", str(run), "--steps", "4", *TRAIN_ARGS]) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and "--resume" in err
    assert (last.read_bytes(), last.stat().st_mtime_ns) == before
    assert _log_steps(run) == [2]

    # --resume continues from step 2 to step 4
    assert main(["train", "--data", str(train_data), "--run", str(run), "--steps", "4", "--resume", *TRAIN_ARGS]) == 0
    resumed = load_checkpoint(run / "last.pt")
    assert resumed["step"] == 4 and [row["step"] for row in resumed["history"]] == [2, 4]
    assert _log_steps(run) == [2, 4]
    assert load_checkpoint(run / "best.pt")["train_config"]["steps"] == 4


def test_train_command_errors(tmp_path, capsys):
    assert main(["train", "--preset", "huge", "--run", str(tmp_path / "r")]) == 2
    assert "preset='huge'" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path / "nowhere"), "--run", str(tmp_path / "r"), "--steps", "1",
                 *TRAIN_ARGS]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_train_command_tunes_afterwards_with_the_guard(train_data, tmp_path, capsys, monkeypatch):
    """--tune-on and --keep-recall-on reach the tuner, for the run's best checkpoint; the guard alone is refused
    before any training."""
    from mitkit.training import tuning
    calls = []
    monkeypatch.setattr(tuning, "tune_checkpoint", lambda path, on, **kw: calls.append((path, on, kw)) or {"x": 1})
    run = tmp_path / "tuned"
    assert main(["train", "--data", str(train_data), "--run", str(run), "--steps", "1", *TRAIN_ARGS,
                 "--tune-on", "A", "B", "--keep-recall-on", "B"]) == 0
    assert calls == [(run / "best.pt", ["A", "B"], {"device": "cpu", "keep_recall_on": ["B"]})]
    assert "tuned thresholds: {'x': 1}" in capsys.readouterr().out
    assert main(["train", "--data", str(train_data), "--run", str(tmp_path / "guard-only"), "--steps", "1",
                 *TRAIN_ARGS, "--keep-recall-on", "B"]) == 2
    assert "--tune-on" in capsys.readouterr().err and not (tmp_path / "guard-only").exists()


def test_train_command_sets_the_layer_widths(train_data, tmp_path, capsys):
    run = tmp_path / "wide"
    assert main(["train", "--data", str(train_data), "--run", str(run), "--steps", "1", *TRAIN_ARGS,
                 "--eval-every", "1", "--onset-channels", "9", "--onset-reads-cqt", "--onset-spread", "2",
                 "--amt-channels", "12"]) == 0
    last = load_checkpoint(run / "last.pt")
    config = last["model_config"]
    assert (config["onset_channels"], config["onset_reads_cqt"], config["amt_channels"]) == (9, True, 12)
    assert last["train_config"]["onset_spread"] == 2
    for flag, bad in (("--onset-channels", "0"), ("--onset-spread", "-1"), ("--amt-channels", "0")):
        with pytest.raises(SystemExit):
            main(["train", "--data", str(train_data), "--run", str(tmp_path / "r"), flag, bad])
        assert flag in capsys.readouterr().err


def _validation_chorale():
    groups = splits._stored_chorale_groups()
    return next(r for r in sorted(groups) if splits.split_of(groups[r]) == "validation")


def test_chorale_bench_command(tmp_path, monkeypatch, capsys):
    """--split validation renders validation chorales only (a short chorale list keeps this fast); the
    default split is the test split."""
    assert build_parser().parse_args(["chorale-bench", "--out", "x"]).split == "test"
    val = _validation_chorale()
    monkeypatch.setattr(scores, "chorale_names", lambda: ("bach/bwv269", "bach/bwv253", "bach/bwv347", val))
    out = tmp_path / "bench"
    assert main(["chorale-bench", "--out", str(out), "--n-chorales", "1", "--max-seconds", "8", "--split",
                 "validation", "--quiet"]) == 0
    assert f"{out}: 6 mixes" in capsys.readouterr().out
    index = json.loads((out / "index.json").read_text())
    assert index["format"] == "mitkit-benchmark" and index["split"] == "validation"
    assert [m["n_parts"] for m in index["mixes"]] == [2, 3, 4, 2, 3, 4]
    assert sorted({m["instrumentation"] for m in index["mixes"]}) == ["bach10", "other"]
    for m in index["mixes"]:
        assert m["chorale"] == val and splits.split_of(splits.chorale_group(m["chorale"])) == "validation"
        x, sr = sf.read(str(out / m["audio"]))
        assert sr == 22050 and len(x) <= 8 * sr and np.abs(x).max() > 0.01
        assert len(m["parts"]) == m["n_parts"] and all(len(p["notes"]) > 0 for p in m["parts"])


def test_python_dash_m_runs_every_parser():
    """`python -m mitkit.cli` (the module run as a script, as scripts/bench_jobs.py does) builds the same parser."""
    import subprocess
    import sys
    run = subprocess.run([sys.executable, "-m", "mitkit.cli", "transcribe", "--help"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "--shard" in run.stdout and "--recursive" in run.stdout
