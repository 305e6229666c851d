import json

import numpy as np
import pytest
import torch

from mitkit import constants as C
from mitkit.checkpoint import load_checkpoint
from mitkit.errors import MitkitError
from mitkit.training.trainer import TrainConfig, Trainer

CLIP = 64


class ToneMixtures(torch.utils.data.Dataset):
    """Deterministic two-instrument mixtures of steady tones (pure vs bright), with their rolls."""

    def __init__(self, n, seed):
        self.n, self.seed = n, seed

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        rng = np.random.default_rng([self.seed, i])
        t = np.arange(CLIP * C.HOP_LENGTH) / C.SAMPLE_RATE
        audio = np.zeros_like(t)
        frames = np.zeros((2, C.N_PITCHES, CLIP), np.float32)
        onsets = np.zeros_like(frames)
        for k, harmonics in enumerate([(1.0,), (1.0, 0.7, 0.5, 0.4)]):
            p = int(rng.integers(20, 60))
            start = int(rng.integers(0, CLIP // 2))
            f = C.midi_to_hz(C.MIDI_MIN + p)
            gate = t >= start / C.FRAME_RATE
            audio += gate * sum(a * np.sin(2 * np.pi * f * (h + 1) * t) for h, a in enumerate(harmonics)) * 0.2
            frames[k, p, start:] = 1
            onsets[k, p, start] = 1
        return {"audio": audio.astype(np.float32), "frames": frames, "onsets": onsets, "n_instruments": 2}


def _trainer(tmp_path, steps, name="run", **overrides):
    cfg = TrainConfig.preset("tiny", **{"stage": "joint", "steps": steps, "batch_size": 2, "clip_frames": CLIP,
                                        "eval_every": 2, "val_batches": 1, "num_workers": 0, "threads": 1,
                                        **overrides})
    return Trainer(cfg, tmp_path / name, device="cpu", train_set=ToneMixtures(10 ** 6, 0),
                   val_set=ToneMixtures(2, 99))


def test_training_runs_logs_and_checkpoints(tmp_path):
    tr = _trainer(tmp_path, 4)
    history = tr.run(progress=False)
    assert [row["step"] for row in history] == [2, 4]
    assert {"train_frame", "train_onset", "train_timbre", "val_total", "lr_amt"} <= set(history[-1])
    assert all(np.isfinite(row["val_total"]) for row in history)
    best = load_checkpoint(tmp_path / "run" / "best.pt")  # weights_only loading works
    assert best["train_config"]["steps"] == 4 and best["model_config"]["embedding_dim"] == 12
    assert (tmp_path / "run" / "log.csv").read_text().count("\n") == 3


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_resume_continues_exactly(tmp_path, precision):
    straight = _trainer(tmp_path, 4, "straight", precision=precision)
    straight.run(progress=False)
    first = _trainer(tmp_path, 2, "resumed", precision=precision)
    first.run(progress=False)
    second = _trainer(tmp_path, 4, "resumed", precision=precision)
    assert second.bf16 == (precision == "bf16")
    second.resume()
    assert second.step == 2
    second.run(progress=False)
    for (k, a), b in zip(straight.model.state_dict().items(), second.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k


@pytest.mark.parametrize("stage", ["joint", "timbre"])
def test_resuming_with_a_learning_rate_continues_at_it(tmp_path, stage):
    first = _trainer(tmp_path, 2, "slower", stage=stage)
    first.run(progress=False)
    kept = _trainer(tmp_path, 4, "slower", stage=stage)
    kept.resume()
    assert {g["lr"] for o in kept.optimizers.values() for g in o.param_groups} != {1e-5}
    slower = _trainer(tmp_path, 4, "slower", stage=stage)
    slower.resume(lr=1e-5)
    slower.run(progress=False)  # the schedulers step from the new rate, not back to the old one
    rates = {name: {g["lr"] for g in o.param_groups} for name, o in slower.optimizers.items()}
    assert all(max(r) <= 1e-5 for r in rates.values()), rates
    assert slower.history[-1]["step"] == 4


def test_compiled_training_matches_eager_and_resumes_exactly(tmp_path):
    """The compiled fast path (bf16, torch.compile) trains what eager bf16 trains, resumes exactly, runs
    compiled in training mode only and keeps the eager modules' state_dict keys."""
    straight = _trainer(tmp_path, 4, "straight", precision="bf16", compile="on")
    assert straight.compiled and straight.model._branch("amt") is not straight.model.amt
    straight.run(progress=False)
    straight.model.eval()
    assert straight.model._branch("amt") is straight.model.amt  # validation and inference stay eager
    eager = _trainer(tmp_path, 4, "eager", precision="bf16", compile="off")
    eager.run(progress=False)
    assert list(straight.model.state_dict()) == list(eager.model.state_dict())
    for row, eager_row in zip(straight.history, eager.history):  # bf16 kernels differ in rounding only
        assert row["train_total"] == pytest.approx(eager_row["train_total"], rel=0.05)
        assert row["val_total"] == pytest.approx(eager_row["val_total"], rel=0.05)
    first = _trainer(tmp_path, 2, "resumed", precision="bf16", compile="on")
    first.run(progress=False)
    second = _trainer(tmp_path, 4, "resumed", precision="bf16", compile="on")
    second.resume()
    second.run(progress=False)
    for (k, a), b in zip(straight.model.state_dict().items(), second.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k


def test_compile_choice(monkeypatch):
    import shutil

    from mitkit.training.trainer import training_compiled
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert not training_compiled("auto", cpu)  # inductor needs a C++ compiler
    assert training_compiled("on", cpu)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/" + name)
    assert training_compiled("auto", cpu)
    assert not training_compiled("auto", cuda) and not training_compiled("off", cpu)
    with pytest.raises(MitkitError, match="compile='yes' must be 'auto', 'on' or 'off'"):
        training_compiled("yes", cpu)
    assert TrainConfig.preset("tiny").compile == "off" and TrainConfig.preset("base").compile == "auto"
    assert TrainConfig.preset("base").timbre_frames == TrainConfig().clip_frames // 2


def test_init_fine_tunes_from_a_checkpoint(tmp_path):
    """A timbre-only fine-tune starts from the given weights, scores them at step 0, leaves the AMT
    branch untouched and never keeps a worse timbre branch than it started with."""
    _trainer(tmp_path, 2, "pre").run(progress=False)
    start = load_checkpoint(tmp_path / "pre" / "best.pt")["model"]
    tuned = _trainer(tmp_path, 2, "fine", stage="timbre", init=str(tmp_path / "pre" / "best.pt"))
    for k, v in tuned.model.state_dict().items():
        assert torch.equal(v, start[k]), k
    history = tuned.run(progress=False)
    assert [row["step"] for row in history] == [0, 2]
    assert (tmp_path / "fine" / "log.csv").read_text().count("\n") == 3  # one header, one row per validation
    best = load_checkpoint(tmp_path / "fine" / "best.pt")
    assert best["train_config"]["init"].endswith("best.pt")
    assert best["metrics"]["best_timbre_val_loss"] <= history[0]["val_timbre"]
    for k, v in best["model"].items():
        if k.startswith("amt"):
            assert torch.equal(v, start[k]), k


def test_fresh_branch_starts_from_scratch_and_keeps_the_other(tmp_path):
    _trainer(tmp_path, 2, "pre").run(progress=False)
    start = load_checkpoint(tmp_path / "pre" / "best.pt")["model"]
    scratch = _trainer(tmp_path, 1, "scratch").model.state_dict()  # same seed, no init
    fresh = _trainer(tmp_path, 1, "fresh", stage="amt", init=str(tmp_path / "pre" / "best.pt"), fresh="amt")
    for k, v in fresh.model.state_dict().items():
        kept = scratch if k.split(".")[0] in ("amt", "amt_norm") else start
        assert torch.equal(v, kept[k]), k
    assert any(not torch.equal(scratch[k], start[k]) for k in start if k.startswith("amt."))  # a real change
    for bad in ({"fresh": "amt"}, {"fresh": "cqt", "init": str(tmp_path / "pre" / "best.pt")}):
        with pytest.raises(MitkitError, match="must be 'amt' or 'timbre', with an init checkpoint"):
            _trainer(tmp_path, 1, "bad", **bad)


def test_fresh_branch_may_take_another_width_the_kept_one_may_not(tmp_path):
    """--init X --fresh amt --amt-channels N: a wider note-finding branch from scratch next to X's timbre
    branch; a change that reaches the kept branch is refused."""
    _trainer(tmp_path, 2, "pre").run(progress=False)
    pre = load_checkpoint(tmp_path / "pre" / "best.pt")
    wide = _trainer(tmp_path, 1, "wide", stage="amt", init=str(tmp_path / "pre" / "best.pt"), fresh="amt",
                    model={"amt_channels": pre["model_config"]["amt_channels"] + 8})
    state = wide.model.state_dict()
    assert state["amt.conv_in.0.weight"].shape[0] == pre["model"]["amt.conv_in.0.weight"].shape[0] + 8
    for k, v in pre["model"].items():
        if k.split(".")[0] in ("timbre", "timbre_norm"):
            assert torch.equal(state[k], v), k
    wide.run(progress=False)
    assert load_checkpoint(tmp_path / "wide" / "best.pt")["model_config"]["amt_channels"] == state[
        "amt.conv_in.0.weight"].shape[0]
    with pytest.raises(MitkitError, match="must hold the model this run trains"):
        _trainer(tmp_path, 1, "bad", stage="amt", init=str(tmp_path / "pre" / "best.pt"), fresh="amt",
                 model={"timbre_channels": 8})


def test_graft_branch_takes_one_branch_and_its_settings(tmp_path):
    """scripts/graft_branch.py: the receiver keeps its other branch, config and record; the donor's branch
    brings its tuned settings; shapes that differ are refused with a clear message; --out is never replaced."""
    import importlib.util
    from pathlib import Path

    from mitkit.checkpoint import graft_branch, model_from_checkpoint, save_checkpoint
    spec = importlib.util.spec_from_file_location(
        "graft_branch", Path(__file__).parents[1] / "scripts" / "graft_branch.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    bundled = load_checkpoint()
    _trainer(tmp_path, 2, "wide", stage="amt", model={**bundled["model_config"], "amt_channels": 20}).run(
        progress=False)
    wide_path = tmp_path / "wide" / "best.pt"
    out = tmp_path / "grafted.pt"
    assert script.main([str(wide_path), "--branch", "timbre", "--from", "bundled", "--out", str(out)]) == 0
    wide, grafted = load_checkpoint(wide_path), load_checkpoint(out)
    model = model_from_checkpoint(grafted)  # loads strictly: every tensor in place
    for k, v in model.state_dict().items():
        source = bundled["model"] if k.split(".")[0] in ("timbre", "timbre_norm") else wide["model"]
        assert torch.equal(v, source[k]), k
    assert grafted["model_config"] == wide["model_config"] and grafted["step"] == wide["step"]
    assert grafted["affinity_temperature"] == bundled["affinity_temperature"]
    assert grafted["polyphony_classifier"] == bundled["polyphony_classifier"]
    assert "thresholds" not in grafted and grafted["grafted"] == {"branch": "timbre", "from": "bundled"}
    before = out.read_bytes()
    assert script.main([str(wide_path), "--branch", "timbre", "--from", "bundled", "--out", str(out)]) == 2
    assert out.read_bytes() == before
    narrow = save_checkpoint(tmp_path / "narrow.pt", {"model": model_from_checkpoint(
        load_checkpoint(wide_path)).state_dict(), "model_config": {**wide["model_config"], "timbre_channels": 8}})
    with pytest.raises(MitkitError, match="timbre branch must have the shapes of this checkpoint's"):
        graft_branch(load_checkpoint(narrow), bundled, "timbre")
    with pytest.raises(MitkitError, match="branch='cqt' must be one of"):
        graft_branch(wide, bundled, "cqt")


def test_select_on_a_benchmark_keeps_the_best_note_f1(tmp_path, example_benchmark):
    """With select_on, every validation scores note F1 on the benchmark and the AMT branch kept is the
    one with the highest note F1 (its negative is the 'loss' recorded)."""
    from mitkit.checkpoint import model_from_checkpoint
    from mitkit.training.tuning import mean_transcription_metrics, mix_posteriorgrams
    tr = _trainer(tmp_path, 4, "select", stage="amt", init="bundled",
                  select_on=[str(example_benchmark), str(example_benchmark)])  # folders pool their mixes
    history = tr.run(progress=False)
    f1 = [row["val_bench_note_f1"] for row in history]
    assert [row["step"] for row in history] == [0, 2, 4] and all(0 <= v <= 1 for v in f1)
    # the recall of each kind of note beside it, per benchmark (two folders of one name: named by path); the
    # example holds short and other notes, no repeated ones
    logged = (tmp_path / "select" / "log.csv").read_text().splitlines()[0].split(",")
    assert not [c for c in logged if c.startswith("val_recall_repeated")]
    for kind in ("short", "other"):
        column = f"val_recall_{kind}_{example_benchmark}"
        assert column in logged and all(0 <= row[column] <= 1 for row in history)
    assert f1[0] > 0.7  # the bundled model on its own example, before any step
    best = load_checkpoint(tmp_path / "select" / "best.pt")
    assert best["metrics"]["best_amt_val_loss"] == -max(f1)
    best_step = history[f1.index(max(f1))]["step"]
    assert best["metrics"]["best_amt_step"] == best_step
    # best.pt's step and history are its weights', not how far the run went (last.pt's)
    assert best["step"] == best_step and [row["step"] for row in best["history"]] == [0, 2, 4][:best_step // 2 + 1]
    assert load_checkpoint(tmp_path / "select" / "last.pt")["step"] == 4
    kept = model_from_checkpoint(best)
    from mitkit.evaluation.benchmarks import load_benchmark
    mixes = load_benchmark(example_benchmark)
    assert len(tr.selection.audio) == 2 * len(mixes)
    # scored at the notes evaluate and transcribe would make: the inherited tuned thresholds
    assert tr.selection.thresholds == load_checkpoint()["thresholds"]
    kept_posts = mix_posteriorgrams(kept, mixes)
    kept_f1 = mean_transcription_metrics(tr.selection.references, kept_posts, best["thresholds"])["note_f1"]
    assert abs(kept_f1 - max(f1)) < 1e-9
    assert mean_transcription_metrics(tr.selection.references, kept_posts)["note_f1"] != kept_f1  # not the defaults'


def test_a_run_from_scratch_logs_the_onset_threshold_it_was_scored_at(tmp_path, example_benchmark):
    """A run with no thresholds to inherit selects at the onset grid's best and logs which threshold that was
    and the score at the default one; its stored best says so, so a resume under another measure rescores it."""
    from mitkit.training.selection import SELECTION_ONSET_GRID
    tr = _trainer(tmp_path, 2, "scratch", stage="amt", select_on=str(example_benchmark))
    history = tr.run(progress=False)
    assert all(row["val_bench_onset_threshold"] in SELECTION_ONSET_GRID for row in history)
    assert all(row["val_bench_note_f1"] >= row["val_bench_note_f1_default_onset"] for row in history)
    stored = load_checkpoint(tmp_path / "scratch" / "last.pt")["best"]["amt"]
    assert stored["measured_at"] == {"onset_threshold": list(SELECTION_ONSET_GRID)}


def test_resume_scores_a_best_measured_otherwise_again(tmp_path, example_benchmark):
    """A run whose stored best AMT weights were scored at other note settings (create_notes' defaults, before
    the score used the inherited thresholds) scores them again on resuming; one scored alike is left as is."""
    from mitkit.checkpoint import save_checkpoint
    first = _trainer(tmp_path, 2, "old", stage="amt", init="bundled", select_on=str(example_benchmark))
    first.run(progress=False)
    last = tmp_path / "old" / "last.pt"
    measured = load_checkpoint(last)["best"]["amt"]
    assert measured["measured_at"] == load_checkpoint()["thresholds"]
    again = _trainer(tmp_path, 4, "old", stage="amt", init="bundled", select_on=str(example_benchmark))
    again.resume()
    assert again.best["amt"]["loss"] == measured["loss"]  # same measure: nothing to do
    old = load_checkpoint(last)
    old["best"]["amt"] = {k: v for k, v in old["best"]["amt"].items() if k != "measured_at"}
    old["best"]["amt"]["loss"] = -0.01  # as if scored at create_notes' defaults
    save_checkpoint(last, {k: v for k, v in old.items() if k not in ("format", "format_version")}, overwrite=True)
    rescored = _trainer(tmp_path, 4, "old", stage="amt", init="bundled", select_on=str(example_benchmark))
    rescored.resume()
    assert rescored.best["amt"]["step"] == measured["step"]
    assert abs(rescored.best["amt"]["loss"] - measured["loss"]) < 1e-9
    assert rescored.best["amt"]["measured_at"] == measured["measured_at"]
    assert rescored.schedulers["amt"].best == rescored.best["amt"]["loss"]


@pytest.mark.parametrize("stage, fresh, kept", [
    ("amt", "", {"thresholds", "affinity_temperature", "polyphony_classifier"}),
    ("joint", "", {"thresholds"}), ("timbre", "", {"thresholds"}),
    ("amt", "amt", {"affinity_temperature", "polyphony_classifier"}), ("amt", "timbre", {"thresholds"}),
    ("timbre", "amt", set())])
def test_init_tuned_settings_are_kept_while_they_apply(tmp_path, stage, fresh, kept):
    """A fine-tune's checkpoints carry the init's tuned note thresholds while the AMT branch starts from its
    weights, and its clustering temperature and polyphony classifier while the timbre branch is untouched."""
    bundled = load_checkpoint()
    tr = _trainer(tmp_path, 2, "ft", stage=stage, init="bundled", fresh=fresh, model=bundled["model_config"])
    tr.run(progress=False)
    settings = ("thresholds", "affinity_temperature", "polyphony_classifier")
    for name in ("best.pt", "last.pt"):
        ckpt = load_checkpoint(tmp_path / "ft" / name)
        assert {k for k in settings if k in ckpt} == kept
        for k in kept:
            assert ckpt[k] == bundled[k]
    scratch = _trainer(tmp_path, 2, "scratch")
    scratch.run(progress=False)
    assert not any(k in load_checkpoint(tmp_path / "scratch" / "best.pt") for k in settings)


def test_onset_stage_trains_the_onset_layers_alone(tmp_path):
    """--stage onset: only the onset layers change; every other weight and BatchNorm statistic (frame head,
    shared trunk, timbre branch) stays bit for bit, so the frame posterior is exactly the init's."""
    _trainer(tmp_path, 2, "pre").run(progress=False)
    start = load_checkpoint(tmp_path / "pre" / "best.pt")["model"]
    tr = _trainer(tmp_path, 2, "onset", stage="onset", init=str(tmp_path / "pre" / "best.pt"), onset_alpha=0.5)
    tr.run(progress=False)
    onset_keys = {f"amt.{name}" for name, _ in tr.model.amt.onset_features.named_parameters(prefix="onset_features")}
    onset_keys |= {f"amt.{name}" for name, _ in tr.model.amt.onset_features.named_buffers(prefix="onset_features")}
    onset_keys |= {f"amt.{name}" for name, _ in tr.model.amt.onset_head.named_parameters(prefix="onset_head")}
    last = load_checkpoint(tmp_path / "onset" / "last.pt")["model"]
    changed = {k for k in start if not torch.equal(start[k], last[k])}
    assert changed and changed <= onset_keys, changed - onset_keys
    assert {"amt.onset_head.weight", "amt.onset_features.0.weight"} <= changed


@pytest.mark.parametrize("wider", [{"onset_reads_cqt": True}, {"onset_channels": 12},
                                   {"onset_channels": 10, "onset_reads_cqt": True}])
def test_onset_layers_widen_an_init_that_was_narrower(tmp_path, wider):
    """model=wider (`--onset-reads-cqt`, `--onset-channels`) on an init with narrower onset layers: the new
    weights start unread (the CQT's inputs to the old features, the head's weights of the new features are
    zero), so the onset posterior starts as the init's; they learn; a fine-tune of the result keeps the wider
    model without being told; a narrower model than the init's is refused."""
    from mitkit.checkpoint import model_from_checkpoint
    _trainer(tmp_path, 2, "pre").run(progress=False)
    pre = tmp_path / "pre" / "best.pt"
    tr = _trainer(tmp_path, 2, "wide", stage="onset", init=str(pre), onset_alpha=0.5, model=wider)
    config = tr.model.config
    weight, head = tr.model.amt.onset_features[0].weight, tr.model.amt.onset_head.weight
    assert weight.shape[:2] == (config.onset_channels, config.amt_channels + C.N_HARMONICS * config.onset_reads_cqt)
    assert not weight[:7, config.amt_channels:].any()
    assert not head[:, 7:config.onset_channels].any() and head[:, config.onset_channels].any()
    audio = torch.from_numpy(ToneMixtures(1, 5)[0]["audio"])[None]
    with torch.no_grad():
        torch.testing.assert_close(tr.model.eval()(audio)["onset_logit"],
                                   model_from_checkpoint(load_checkpoint(pre))(audio)["onset_logit"], atol=1e-5, rtol=0)
    tr.run(progress=False)
    wide = load_checkpoint(tmp_path / "wide" / "last.pt")
    assert {k: wide["model_config"][k] for k in wider} == wider
    assert wide["model"]["amt.onset_head.weight"][:, 7:config.onset_channels].any() or config.onset_channels == 7
    assert wide["model"]["amt.onset_features.0.weight"][:7, config.amt_channels:].any() or not config.onset_reads_cqt
    again = _trainer(tmp_path, 1, "again", stage="onset", init=str(tmp_path / "wide" / "last.pt")).model.config
    assert again == config
    with pytest.raises(MitkitError, match="must hold the model"):
        _trainer(tmp_path, 1, "narrow", stage="onset", init=str(tmp_path / "wide" / "last.pt"),
                 model={"onset_channels": 5})


def test_onset_alpha_weighs_the_onset_loss(tmp_path, monkeypatch):
    import mitkit.training.losses as losses_module
    seen = []
    real = losses_module.focal_loss
    monkeypatch.setattr(losses_module, "focal_loss", lambda *a, **k: seen.append(k["alpha"]) or real(*a, **k))
    _trainer(tmp_path, 1, "alpha", onset_alpha=0.3, eval_every=1).run(progress=False)
    assert 0.3 in seen and losses_module.FRAME_ALPHA in seen and losses_module.ONSET_ALPHA not in seen
    for bad in ({"onset_alpha": 0.0}, {"onset_alpha": 1.0}, {"stage": "frames"}):
        with pytest.raises(MitkitError, match="must be in \\(0, 1\\)|must be one of joint, amt, onset, timbre"):
            _trainer(tmp_path, 1, "bad", **bad)


def test_onset_spread_widens_the_onset_target(tmp_path, monkeypatch):
    import mitkit.training.losses as losses_module
    positives = {}
    real = losses_module.focal_loss

    def spy(logits, targets, **k):
        if k["alpha"] == 0.3:  # the onset loss
            positives.setdefault(tr.cfg.onset_spread, []).append(float(targets.sum()))
        return real(logits, targets, **k)

    monkeypatch.setattr(losses_module, "focal_loss", spy)
    for spread in (0, 1):
        tr = _trainer(tmp_path, 1, f"spread{spread}", onset_alpha=0.3, onset_spread=spread, reattack_weight=3.0,
                      eval_every=1)
        tr.run(progress=False)
    # the same first batch (same seed): each onset frame becomes three, less where two onsets touch
    assert 2.5 * positives[0][0] <= positives[1][0] <= 3 * positives[0][0]
    for bad in (-1, 1.5, True):  # True is an int to Python, not a number of frames
        with pytest.raises(MitkitError, match="onset_spread"):
            _trainer(tmp_path, 1, "bad", onset_spread=bad)


def test_init_must_match_the_model(tmp_path):
    from mitkit.checkpoint import save_checkpoint
    _trainer(tmp_path, 2, "pre").run(progress=False)
    with pytest.raises(MitkitError, match="must hold the model this run trains"):
        _trainer(tmp_path, 2, "wide", init=str(tmp_path / "pre" / "best.pt"), model={"embedding_dim": 8})
    pre = load_checkpoint(tmp_path / "pre" / "best.pt")
    future = save_checkpoint(tmp_path / "future.pt", {"model": pre["model"],
                                                      "model_config": {**pre["model_config"], "attention": True}})
    for overrides in ({"init": str(future)}, {"model": {"atention": True}}):
        with pytest.raises(MitkitError, match="must be fields of this mitkit's ModelConfig"):
            _trainer(tmp_path, 2, "future", **overrides)


def test_log_keeps_earlier_rows_when_columns_change(tmp_path):
    """Resuming with another stage logs other columns: the earlier rows stay, under the union of columns."""
    import csv
    tr = _trainer(tmp_path, 2)
    tr._log_row({"step": 1, "val_frame": 0.5})
    tr._log_row({"step": 2, "val_frame": 0.4})
    tr._log_row({"step": 3, "val_timbre": 4.0})
    with open(tmp_path / "run" / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["1", "2", "3"]
    assert rows[1]["val_frame"] == "0.4" and rows[2]["val_timbre"] == "4.0" and rows[2]["val_frame"] == ""


def test_bad_preset():
    with pytest.raises(MitkitError, match="preset='huge'"):
        TrainConfig.preset("huge")


def test_distributed_two_cpu_processes(tmp_path):
    """torchrun with 2 gloo processes: both ranks end with the same weights, rank 0 checkpoints."""
    import subprocess
    import sys
    from pathlib import Path
    worker = Path(__file__).with_name("ddp_worker.py")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517",
           str(worker), str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    a, b = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for k in a:  # parameters agree; BatchNorm statistics are per rank (DDP re-broadcasts them each step)
        if "running_" not in k and "num_batches" not in k:
            assert torch.allclose(a[k], b[k], atol=1e-6), k
    assert (tmp_path / "best.pt").exists() and (tmp_path / "last.pt").exists()


def test_mitkit_train_under_torchrun(tmp_path):
    """The README's multi-process command: torchrun runs the mitkit script, `--` ahead of its options (torchrun
    would read --run as an abbreviation of its own --run-path); rank 0 checkpoints and says it is done, once."""
    import subprocess
    import sys
    from pathlib import Path

    from mitkit.synth import datasets
    data = tmp_path / "data"
    man = datasets.synth(data, hours=0.3, seed=1, progress=False)
    assert {"train", "validation"} <= {p["split"] for p in man["pieces"]}
    mitkit_script = Path(sys.executable).with_name("mitkit")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29519",
           str(mitkit_script), "--", "train", "--preset", "tiny", "--data", str(data), "--run", str(tmp_path / "run"),
           "--steps", "2", "--eval-every", "2", "--workers", "0", "--threads", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("done: ") == 1, done.stdout
    assert (tmp_path / "run" / "best.pt").exists() and (tmp_path / "run" / "last.pt").exists()


def test_close_tears_down_only_the_process_group_the_trainer_started(tmp_path, monkeypatch):
    """A process group set up by the caller stays theirs after close(); a single-process run has none to end."""
    _trainer(tmp_path, 1, "alone").close()
    assert not torch.distributed.is_initialized()
    store = torch.distributed.FileStore(str(tmp_path / "store"), 1)
    torch.distributed.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        monkeypatch.setenv("WORLD_SIZE", "2")  # as under torchrun, with the group already up
        tr = _trainer(tmp_path, 1, "inside")
        assert not tr.owns_process_group
        tr.close()
        assert torch.distributed.is_initialized()
    finally:
        torch.distributed.destroy_process_group()


def test_precision_switch_reaches_the_network(tmp_path, monkeypatch):
    """bf16 autocast covers the branches' forward pass; fp32 never autocasts; losses stay float32."""
    from mitkit import model as model_module
    seen = []
    forward = model_module.MitNet.forward

    def spy(self, audio, **kw):
        seen.append(kw["bf16"])
        return forward(self, audio, **kw)

    monkeypatch.setattr(model_module.MitNet, "forward", spy)
    for precision, expect in (("bf16", True), ("fp32", False)):
        seen.clear()
        tr = _trainer(tmp_path, 1, precision, precision=precision)
        tr.run(progress=False)
        assert seen and set(seen) == {expect}, precision
        assert all(np.isfinite(row["val_total"]) for row in tr.history)
    with pytest.raises(MitkitError, match="precision='fp16' must be 'auto', 'bf16' or 'fp32'"):
        _trainer(tmp_path, 1, "bad", precision="fp16")


def test_auto_precision_is_bf16_only_where_the_cpu_computes_it_natively(monkeypatch):
    from mitkit import model as model_module
    from mitkit.training.trainer import training_bf16
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(model_module, "native_bf16", lambda: False)
    assert not training_bf16("auto", cpu)  # emulated bf16 would be slower than fp32
    assert training_bf16("bf16", cpu)  # asked for explicitly
    monkeypatch.setattr(model_module, "native_bf16", lambda: True)
    assert training_bf16("auto", cpu)
    assert not training_bf16("auto", cuda)  # the GPU recipe keeps float32
    assert not training_bf16("fp32", cpu)


class _Exploit:
    """Pickles to a call of os.system: what a crafted checkpoint would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return (os.system, (f"touch {self.marker}",))


def test_resume_never_runs_code_from_a_crafted_checkpoint(tmp_path):
    marker = tmp_path / "pwned"
    tr = _trainer(tmp_path, 2, "crafted")
    tr.run(progress=False)
    payload = torch.load(tmp_path / "crafted" / "last.pt", weights_only=True)
    payload["history"] = _Exploit(marker)
    torch.save(payload, tmp_path / "crafted" / "last.pt")
    with pytest.raises(MitkitError, match="must be a mitkit checkpoint; torch.load failed"):
        _trainer(tmp_path, 4, "crafted").resume()
    assert not marker.exists()


def test_freed_memory_is_retained_on_a_cpu_unless_turned_off(tmp_path, monkeypatch):
    import platform

    from mitkit.training import trainer as trainer_module
    calls = []
    monkeypatch.setattr(trainer_module, "retain_freed_memory", lambda: calls.append(1) or True)
    _trainer(tmp_path, 1, name="off", retain_memory=False)
    assert calls == []
    _trainer(tmp_path, 1, name="on")
    assert calls == [1] and TrainConfig().retain_memory
    monkeypatch.undo()
    # the real call: glibc's mallopt accepts both settings here (a no-op elsewhere)
    assert trainer_module.retain_freed_memory() == (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")


def test_timbre_window_runs_the_branch_on_a_window_with_its_own_labels(tmp_path, monkeypatch):
    from mitkit.training import losses as losses_module
    seen = {}

    def spy(V, rolls, **kwargs):
        seen["V"], seen["rolls"] = V.shape, rolls.clone()
        return V.sum() * 0

    monkeypatch.setattr(losses_module, "timbre_loss", spy)
    window = CLIP // 4
    trainer = _trainer(tmp_path, 1, stage="timbre", timbre_frames=window)
    batch = next(iter(torch.utils.data.DataLoader(ToneMixtures(2, 5), batch_size=2)))
    gen = torch.Generator().manual_seed(3)
    losses_module.compute_losses(trainer.model, batch, trainer.cfg, generator=gen)
    assert seen["V"] == (2, C.EMBEDDING_DIM, C.N_PITCHES, window)
    start = int(torch.randint(0, CLIP - window + 1, (), generator=torch.Generator().manual_seed(3)))
    assert torch.equal(seen["rolls"], batch["frames"][..., start:start + window])  # the labels of those frames
    trainer.model.eval()  # validation scores whole clips
    losses_module.compute_losses(trainer.model, batch, trainer.cfg, generator=gen)
    assert seen["V"][-1] == CLIP and torch.equal(seen["rolls"], batch["frames"])
    trainer.model.train()
    # the whole clip when the window is off (0) or not shorter than the clip
    for frames in (0, CLIP):
        trainer.cfg.timbre_frames = frames
        losses_module.compute_losses(trainer.model, batch, trainer.cfg, generator=gen)
        assert seen["V"][-1] == CLIP and torch.equal(seen["rolls"], batch["frames"])


def test_min_instruments_reaches_the_training_mixtures_only(tmp_path, monkeypatch):
    from mitkit.training import mixtures
    made = {}

    def fake_bank(root, split):
        return split

    def fake_dataset(split, **kwargs):
        made[split] = kwargs
        return ToneMixtures(kwargs["length"], 0)

    monkeypatch.setattr(mixtures, "StemBank", fake_bank)
    monkeypatch.setattr(mixtures, "MixtureDataset", fake_dataset)
    cfg = TrainConfig.preset("tiny", stage="timbre", min_instruments=2, clip_frames=CLIP, num_workers=0)
    Trainer(cfg, tmp_path / "run", device="cpu")
    assert made["train"]["min_instruments"] == 2
    assert made["validation"].get("min_instruments", 1) == 1  # validation losses compare across runs



def test_several_data_folders_reach_both_stem_banks(tmp_path, monkeypatch):
    """`mitkit train --data A B` trains and validates on the pieces of both folders."""
    from mitkit.cli import build_parser
    from mitkit.training import mixtures
    args = build_parser().parse_args(["train", "--run", "r", "--data", "data/general", "data/chamber"])
    assert args.data == ["data/general", "data/chamber"]
    roots = {}

    def fake_bank(root, split):
        roots[split] = root
        return split

    monkeypatch.setattr(mixtures, "StemBank", fake_bank)
    monkeypatch.setattr(mixtures, "MixtureDataset", lambda split, **kw: ToneMixtures(kw["length"], 0))
    cfg = TrainConfig.preset("tiny", data=args.data, clip_frames=CLIP, num_workers=0)
    Trainer(cfg, tmp_path / "run", device="cpu")
    assert roots == {"train": ["data/general", "data/chamber"], "validation": ["data/general", "data/chamber"]}


def test_benchmark_selection_reports_the_recall_of_each_kind_per_benchmark(example_benchmark, tmp_path):
    """``scores`` gives the note F1 ``note_f1`` gives and, per benchmark folder, the recall of each kind of note
    that :func:`recall_by_kind_of` finds on that folder's mixes alone."""
    import shutil

    from mitkit.checkpoint import model_from_checkpoint
    from mitkit.evaluation.benchmarks import load_benchmark
    from mitkit.training.selection import BenchmarkSelection
    from mitkit.training.tuning import mix_posteriorgrams, recall_by_kind_of
    bundled = load_checkpoint()
    model = model_from_checkpoint(bundled)
    other = shutil.copytree(example_benchmark, tmp_path / "other-bench")  # the same audio, one part as reference
    index = json.loads((other / "index.json").read_text())
    index["mixes"][0].update(parts=index["mixes"][0]["parts"][:1], n_parts=1)
    (other / "index.json").write_text(json.dumps(index))
    selection = BenchmarkSelection([example_benchmark, other], bundled["thresholds"])
    scores = selection.scores(model)
    assert scores.pop("note_f1") == pytest.approx(selection.note_f1(model))
    expected = {}
    for folder in (example_benchmark, other):
        mixes = load_benchmark(folder)
        recall = recall_by_kind_of(mixes, mix_posteriorgrams(model, mixes), bundled["thresholds"])
        expected.update({f"recall_{kind}_{folder.name}": value for kind, value in recall.items()})
    assert {k.split("_")[1] for k in expected} == {"short", "other"}  # the example repeats no note: left out
    assert expected["recall_other_example-bench"] != expected["recall_other_other-bench"]
    assert scores == pytest.approx(expected, abs=0.02)


def test_a_run_from_scratch_is_scored_at_the_best_onset_threshold_of_the_grid(example_benchmark):
    """Without tuned thresholds, the selection scores the notes made at the best onset threshold of
    SELECTION_ONSET_GRID (create_notes' other defaults), reports that threshold and the score at the default
    one, and measures the recalls at the chosen threshold."""
    from mitkit.checkpoint import model_from_checkpoint
    from mitkit.evaluation.benchmarks import load_benchmark
    from mitkit.training.selection import SELECTION_ONSET_GRID, BenchmarkSelection
    from mitkit.training.tuning import mean_note_f1, mix_posteriorgrams, recall_by_kind_of
    model = model_from_checkpoint(load_checkpoint())
    selection = BenchmarkSelection(example_benchmark)
    assert selection.scored_at == {"onset_threshold": list(SELECTION_ONSET_GRID)}
    mixes = load_benchmark(example_benchmark)
    posts = mix_posteriorgrams(model, mixes)
    by_onset = {t: mean_note_f1(selection.references, posts, {"onset_threshold": t}) for t in SELECTION_ONSET_GRID}
    assert len(set(by_onset.values())) > 1  # the onset threshold matters on this example
    scores = selection.scores(model)
    chosen = scores.pop("onset_threshold")
    assert scores.pop("note_f1") == pytest.approx(max(by_onset.values()), abs=0.01) == by_onset[chosen]
    assert selection.note_f1(model) == pytest.approx(max(by_onset.values()), abs=0.01)
    assert scores.pop("note_f1_default_onset") == pytest.approx(mean_note_f1(selection.references, posts), abs=0.01)
    recall = recall_by_kind_of(mixes, posts, {"onset_threshold": chosen})
    assert scores == pytest.approx({f"recall_{k}_{example_benchmark.name}": v for k, v in recall.items()}, abs=0.02)
    tuned = BenchmarkSelection(example_benchmark, {"onset_threshold": 0.3})  # given thresholds: those alone
    assert tuned.scored_at == {"onset_threshold": 0.3}
    assert tuned.note_f1(model) == pytest.approx(by_onset[0.3], abs=0.01)
    assert set(tuned.scores(model)) == set(selection.scores(model)) - {"onset_threshold", "note_f1_default_onset"}


def test_benchmark_selection_scores_other_weights_and_gives_the_model_back(example_benchmark):
    """``note_f1(model, state=...)`` scores the model with those weights (a stored best branch) and leaves
    the model's own weights as they were."""
    from mitkit.checkpoint import model_from_checkpoint
    from mitkit.training.selection import BenchmarkSelection
    bundled = load_checkpoint()
    model = model_from_checkpoint(bundled)
    selection = BenchmarkSelection(example_benchmark, bundled["thresholds"])
    f1 = selection.note_f1(model)
    assert f1 > 0.7
    before = {k: v.clone() for k, v in model.state_dict().items()}
    silent = {k: torch.zeros_like(v) - 20 * k.endswith("bias") for k, v in before.items() if "frame_head" in k}
    assert silent and selection.note_f1(model, state=silent) == 0.0  # nothing sounds: no notes
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert selection.note_f1(model) == f1
