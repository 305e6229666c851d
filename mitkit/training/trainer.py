"""Training: config presets, the loop, checkpoints that resume exactly, and DDP.

Notebook: 02_training

The two branches share no parameters, so each has its own optimizer and schedule (arXiv 2509.12712): the AMT
branch AdamW + ReduceLROnPlateau on its validation loss, the timbre branch AdamW + cosine warm restarts.
``stage="joint"`` steps both on every batch (one data pipeline for two trainings, which is the same as
training them one after the other on the same batches), ``"amt"`` or ``"timbre"`` trains one only.

Run under ``torchrun --nproc_per_node=N -m mitkit.cli train ...`` for DistributedDataParallel (gloo on
CPU, nccl on GPU); each rank draws its own mixtures, gradients are averaged.
"""
from __future__ import annotations

import csv
import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from mitkit.checkpoint import branch_state, kept_branch, load_checkpoint, save_checkpoint
from mitkit.constants import TRAINING_STAGES
from mitkit.errors import MitkitError
from mitkit.model import BRANCH_FIELDS, MitNet, ModelConfig, widen_onset_layers
from mitkit.training.losses import ONSET_ALPHA, compute_losses

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Everything a training run needs; ``TrainConfig.preset("tiny" | "base", **overrides)``.

    Notebook: 02_training
    """

    data: str | list = "data/synth-v1"  # folder made by `mitkit synth` (manifest.json inside), or several together
    # which branches learn: "joint", "amt", "timbre", "onset" (the onset layers alone: frame posterior unchanged)
    stage: str = "joint"
    steps: int = 20000  # optimizer steps in total
    batch_size: int = 18  # mixtures per step (per process under DDP)
    clip_frames: int = 900  # frames per training clip (900 ≈ 10.45 s)
    max_instruments: int = 4  # a mixture holds 1 … this many stems
    min_instruments: int = 1  # a training mixture holds at least this many (validation ones: 1 …)
    lr: float = 3e-4  # AdamW learning rate of both branches
    weight_decay: float = 1e-2  # AdamW weight decay
    plateau_patience: int = 4  # validations without improvement before the AMT lr is halved
    restart_steps: int = 2000  # period of the timbre branch's cosine warm restarts
    timbre_loss: str = "infonce"  # "infonce" or "deep_clustering" (ablation)
    max_bins: int = 512  # active bins sampled per clip for the contrastive loss
    # frames of each training clip the timbre branch runs on (a random window; 0 = the whole clip): its loss
    # samples max_bins bins per clip, so a window holds enough of them at a fraction of the cost
    timbre_frames: int = 0
    eval_every: int = 500  # steps between validations (and checkpoints)
    val_batches: int = 8  # fixed validation batches per validation
    num_workers: int = 1  # DataLoader worker processes
    seed: int = 0  # seeds the model, the mixtures and the sampling of bins
    threads: int = 0  # torch CPU threads (0: torch's default)
    reattack_weight: float = 1.0  # onset-loss weight of re-attacks (same pitch, no gap) relative to other onsets
    onset_alpha: float = ONSET_ALPHA  # positive-class weight of the onset focal loss (the paper's 0.06)
    onset_spread: int = 0  # frames either side of each onset that the onset target marks as well (0: one frame)
    precision: str = "auto"  # "auto" (bf16 branches on a CPU with native bf16, else fp32), "bf16" or "fp32"
    compile: str = "auto"  # "auto" (torch.compile the branches on a CPU with a C++ compiler), "on" or "off"
    retain_memory: bool = True  # on a CPU, keep memory freed by a step for the next one (retain_freed_memory)
    model: dict = field(default_factory=dict)  # ModelConfig overrides
    init: str = ""  # checkpoint whose weights start the run (fine-tuning; "bundled" = the shipped model)
    fresh: str = ""  # a branch ("amt"/"timbre") started from scratch all the same, the init's other one kept
    # validation benchmark folder(s), one per sound-source family, say: keep the AMT branch of best note F1 there
    select_on: str | list = ""

    @classmethod
    def preset(cls, name: str, **overrides) -> "TrainConfig":
        if name not in PRESETS:
            raise MitkitError(f"preset={name!r} must be one of {sorted(PRESETS)}")
        return replace(PRESETS[name], **overrides)


PRESETS = {
    # a visibly working transcriber in a few minutes on a laptop CPU: the AMT branch only, short clips, a larger
    # lr (onset note F1 0.54 on 2-instrument validation mixes after 400 steps); not compiled (90 s of compiling)
    "tiny": TrainConfig(stage="amt", steps=400, batch_size=4, clip_frames=128, lr=3e-3, eval_every=100,
                        val_batches=2, restart_steps=300, max_bins=256, compile="off"),
    # the shipped recipe; the timbre branch on half of each clip: as good per step, joint steps 1.4x faster (CPU)
    "base": TrainConfig(timbre_frames=450),
}


def retain_freed_memory() -> bool:
    """Keep the memory a training step frees inside the process for the next step; True where it applies.

    A CPU training step allocates and frees activation buffers of tens of megabytes. glibc's malloc serves
    blocks that large with ``mmap`` and hands them back to the operating system when freed, so every step
    pays page faults to get the same memory again (about 140,000 a second in a bf16 run on this machine).
    ``mallopt`` turns that off for the whole process (no ``mmap`` for large blocks, no trimming of the
    heap): a bf16 joint step ran about 1.4x faster (``scripts/bench_train.py``), and the process keeps its
    peak memory until it ends. Other C libraries (macOS, musl) are left as they are.
    """
    import ctypes
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's <malloc.h>
    return libc.mallopt(M_MMAP_MAX, 0) == 1 and libc.mallopt(M_TRIM_THRESHOLD, 2 ** 31 - 1) == 1


def training_bf16(precision: str, device: torch.device) -> bool:
    """Whether the branches train under bfloat16 autocast: ``precision`` "bf16", or "auto" on a CPU that
    computes bf16 natively (AVX512-BF16/AMX: about 2.5x faster per step). "auto" keeps float32 on a GPU
    (the bundled recipe) and on CPUs without native bf16, where emulated bf16 is slower than float32."""
    from mitkit.inference import use_bf16
    return use_bf16(precision) and (precision == "bf16" or device.type == "cpu")


COMPILE_CHOICES = ("auto", "on", "off")


def training_compiled(choice: str, device: torch.device) -> bool:
    """Whether the branches train compiled (:meth:`MitNet.compile_branches`): ``choice`` "on", or "auto" on
    a CPU where a C++ compiler is installed (inductor generates C++; measured there: about 1.6x per bf16
    step). "auto" stays eager on a GPU, where it was not measured."""
    import shutil

    if choice not in COMPILE_CHOICES:
        raise MitkitError(f"compile={choice!r} must be 'auto', 'on' or 'off'")
    if choice == "auto":
        return device.type == "cpu" and any(shutil.which(cc) for cc in ("c++", "g++", "clang++"))
    return choice == "on"


class Trainer:
    """Holds model, optimizers, schedules, data and history; ``run()`` trains to ``cfg.steps``.

    A run folder holds ``last.pt`` (everything needed to resume), ``best.pt`` (the best validation
    state of each branch, with config and history) and ``log.csv``.

    Notebook: 02_training
    """

    def __init__(self, cfg: TrainConfig, run_dir, *, device=None, train_set=None, val_set=None):
        if cfg.stage not in TRAINING_STAGES:
            raise MitkitError(f"stage={cfg.stage!r} must be one of {', '.join(TRAINING_STAGES)}")
        if not 0.0 < cfg.onset_alpha < 1.0:
            raise MitkitError(f"onset_alpha={cfg.onset_alpha!r} must be in (0, 1): the onset loss weighs positives "
                              "by it and negatives by 1 - it")
        if isinstance(cfg.onset_spread, bool) or not isinstance(cfg.onset_spread, int) or cfg.onset_spread < 0:
            raise MitkitError(f"onset_spread={cfg.onset_spread!r} must be an integer >= 0 (frames either side)")
        self.cfg, self.run_dir = cfg, Path(run_dir)
        self.rank = int(os.environ.get("RANK", 0))
        self.world = int(os.environ.get("WORLD_SIZE", 1))
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.owns_process_group = self.world > 1 and not torch.distributed.is_initialized()
        if self.owns_process_group:
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            torch.distributed.init_process_group(backend)
            if self.device.type == "cuda":
                self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed clip shapes: let cuDNN pick its fastest kernels
        elif cfg.retain_memory:
            retain_freed_memory()
        self.bf16 = training_bf16(cfg.precision, self.device)
        torch.manual_seed(cfg.seed)
        if cfg.fresh not in ("", "amt", "timbre") or (cfg.fresh and not cfg.init):
            raise MitkitError(f"fresh={cfg.fresh!r} must be 'amt' or 'timbre', with an init checkpoint whose "
                              "other branch the run keeps")
        init = load_checkpoint(cfg.init) if cfg.init else None
        # a fine-tune keeps its init's architecture, changed only where cfg.model says so
        settings = {**(init["model_config"] if init else {}), **cfg.model}
        try:
            self.model = MitNet(ModelConfig(**settings))
        except TypeError as err:  # a field this mitkit lacks (a newer checkpoint, a typo in cfg.model)
            raise MitkitError(f"model settings {settings} must be fields of this mitkit's ModelConfig "
                              f"(init={cfg.init!r}, model={cfg.model}): {err}") from None
        self.inherited = {}  # the init checkpoint's tuned settings that still apply (_load_init)
        if init:
            self._load_init(init)
        self.model.to(self.device)
        self.compiled = training_compiled(cfg.compile, self.device)
        if self.compiled:
            self.model.compile_branches()
        self.branches = {"amt": [self.model.amt, self.model.amt_norm],
                         "timbre": [self.model.timbre, self.model.timbre_norm]}
        active = TRAINING_STAGES[cfg.stage]
        self.optimizers, self.schedulers = {}, {}
        for name, modules in self.branches.items():
            trained = self.model.amt.onset_layers() if (name, cfg.stage) == ("amt", "onset") else modules
            params = [p for m in trained for p in m.parameters()]
            for p in (p for m in modules for p in m.parameters()):
                p.requires_grad_(False)
            for p in params:
                p.requires_grad_(name in active)
            if name in active:
                opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
                self.optimizers[name] = opt
                self.schedulers[name] = (
                    torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=cfg.plateau_patience)
                    if name == "amt" else
                    torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=cfg.restart_steps))
        self.net = self.model
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        if train_set is None or val_set is None:
            from mitkit.training.mixtures import MixtureDataset, StemBank
        if train_set is None:
            train_set = MixtureDataset(StemBank(cfg.data, "train"), clip_frames=cfg.clip_frames, seed=cfg.seed,
                                       max_instruments=cfg.max_instruments, min_instruments=cfg.min_instruments,
                                       length=10 ** 9)
        if val_set is None:
            val_set = MixtureDataset(StemBank(cfg.data, "validation"), clip_frames=cfg.clip_frames,
                                     max_instruments=cfg.max_instruments, seed=10_000 + cfg.seed,
                                     length=cfg.val_batches * cfg.batch_size)
        self.train_set, self.val_set = train_set, val_set
        self.selection = None  # the select_on benchmarks: at the thresholds best.pt will carry, or an onset grid's best
        if cfg.select_on and "amt" in active:
            from mitkit.training.selection import BenchmarkSelection
            self.selection = BenchmarkSelection(cfg.select_on, self.inherited.get("thresholds"))
        self.step, self.history = 0, []
        self.best = {name: {"loss": math.inf, "state": None, "step": 0} for name in active}

    def _load_init(self, ckpt: dict):
        """Start from another checkpoint's weights (``cfg.init``, loaded)."""
        theirs = ModelConfig(**ckpt["model_config"]).to_dict()  # fields the checkpoint predates: defaults
        mine = self.model.config.to_dict()
        state, own = ckpt["model"], self.model.state_dict()
        differs = {k for k in mine if mine[k] != theirs[k]}
        if differs and differs <= {"onset_channels", "onset_reads_cqt"} and all(mine[k] > theirs[k] for k in differs):
            # the onset layers grow (more features, or the CQT as input) and start computing what they did
            state = widen_onset_layers(state, own)
        elif differs and not (self.cfg.fresh and not differs & BRANCH_FIELDS[kept_branch(self.cfg.fresh)]):
            raise MitkitError(f"init={self.cfg.init!r} must hold the model this run trains: its model_config "
                              f"{ckpt['model_config']} differs from {mine}")
        if self.cfg.fresh:  # that branch as initialised (seeded), in whatever shape only it changes (--amt-channels)
            state = {**state, **{k: v.clone() for k, v in branch_state(own, self.cfg.fresh).items()}}
        self.model.load_state_dict(state)
        # tuned settings stay with the weights they were tuned for, until `mitkit tune` replaces them: note
        # thresholds while the AMT branch starts from these weights, the clustering temperature and the
        # polyphony classifier (which read the embeddings) while the timbre branch is neither fresh nor trained
        keep = ["thresholds"] * (self.cfg.fresh != "amt")
        if self.cfg.fresh != "timbre" and "timbre" not in TRAINING_STAGES[self.cfg.stage]:
            keep += ["affinity_temperature", "polyphony_classifier"]
        self.inherited = {k: ckpt[k] for k in keep if ckpt.get(k) is not None}

    # ---- data --------------------------------------------------------------------------------
    def _loader(self, dataset, start_item: int, n_items: int):
        """Items ``start_item + k·world + rank``: the order depends on the step only, so resuming
        re-creates exactly the batches a killed run would have seen."""
        idx = list(range(start_item + self.rank, start_item + n_items * self.world, self.world))
        return torch.utils.data.DataLoader(torch.utils.data.Subset(dataset, idx), batch_size=self.cfg.batch_size,
                                           num_workers=self.cfg.num_workers, persistent_workers=False,
                                           pin_memory=self.device.type == "cuda")

    def _train_mode(self):
        self.model.train()
        if self.cfg.stage == "onset":  # the frozen layers' BatchNorm statistics must not drift either
            self.model.amt.eval()
            for layer in self.model.amt.onset_layers():
                layer.train()

    def _to_device(self, batch):
        return {k: v.to(self.device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}

    # ---- validation ----------------------------------------------------------------------------
    @torch.no_grad()
    def validate(self) -> dict:
        self.model.eval()
        gen = torch.Generator().manual_seed(self.cfg.seed + 1)
        sums, n = {}, 0
        for batch in self._loader(self.val_set, 0, len(self.val_set) // self.world):
            for k, v in compute_losses(self.model, self._to_device(batch), self.cfg, generator=gen,
                                       bf16=self.bf16).items():
                sums[k] = sums.get(k, 0.0) + float(v)
            n += 1
        val = {f"val_{k}": v / max(n, 1) for k, v in sums.items()}
        if self.selection:
            scores = self.selection.scores(self.model, precision=self._precision())
            val["val_bench_note_f1"] = scores.pop("note_f1")
            # logged beside it, not selected on: the recalls under their benchmark's name, the rest as the selection's
            val.update({f"val_{k}" if k.startswith("recall_") else f"val_bench_{k}": v for k, v in scores.items()})
        self._train_mode()
        if self.world > 1:
            t = torch.tensor(list(val.values()), device=self.device)
            torch.distributed.all_reduce(t)
            val = dict(zip(val, (t / self.world).tolist()))
        return val

    def _precision(self) -> str:
        return "bf16" if self.bf16 else "fp32"

    def _rescore_best_amt(self):
        """Score the stored best AMT weights again when they were scored at other note settings than this run
        uses (a run from before the score used the inherited thresholds), so later steps compete fairly."""
        best = self.best.get("amt")
        if not self.selection or not best or best["state"] is None:
            return
        if best.get("measured_at") == self.selection.scored_at:
            return
        f1 = self.selection.note_f1(self.model, precision=self._precision(), state=best["state"])
        self._train_mode()
        log.info("best AMT weights (step %d) scored again at %s: note F1 %.4f (was %.4f)",
                 best["step"], self.selection.scored_at, f1, -best["loss"])
        best.update(loss=-f1, measured_at=self.selection.scored_at)
        self.schedulers["amt"].best = -f1  # the plateau counts improvements on the same measure

    def _branch_val_loss(self, name, val):
        if name == "amt" and "val_bench_note_f1" in val:  # mitkit.training.selection says why
            return -val["val_bench_note_f1"]
        return val["val_frame"] + val["val_onset"] if name == "amt" else val["val_timbre"]

    def _after_validation(self, val):
        for name in self.optimizers:
            loss = self._branch_val_loss(name, val)
            if name == "amt":
                self.schedulers[name].step(loss)
            if loss < self.best[name]["loss"]:
                state = {k: v.detach().clone().cpu() for m in self.branches[name]
                         for k, v in _prefixed_state(self.model, m).items()}
                self.best[name] = {"loss": loss, "state": state, "step": self.step,
                                   "measured_at": self.selection.scored_at if "val_bench_note_f1" in val else None}

    # ---- checkpoints ---------------------------------------------------------------------------
    def best_state_dict(self) -> dict:
        """The model's state with each trained branch at its best validation step."""
        state = {k: v.detach().clone().cpu() for k, v in self.model.state_dict().items()}
        for best in self.best.values():
            if best["state"] is not None:
                state.update(best["state"])
        return state

    def save(self):
        if self.rank:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        common = {"model_config": self.model.config.to_dict(), "train_config": asdict(self.cfg),
                  "step": self.step, "history": self.history, **self.inherited}
        resume = {"model": self.model.state_dict(), "best": self.best, "torch_rng": torch.get_rng_state(),
                  **{part: {k: x.state_dict() for k, x in getattr(self, part).items()}
                     for part in ("optimizers", "schedulers")}}
        save_checkpoint(self.run_dir / "last.pt", {**common, **resume}, overwrite=True)
        # each branch's best loss and step; best.pt's own step and history end where its latest weights are from
        metrics = {f"best_{k}_{field}": v[key] for k, v in self.best.items()
                   for field, key in (("val_loss", "loss"), ("step", "step"))}
        step = max((v["step"] for v in self.best.values() if v["state"] is not None), default=self.step)
        best = {"step": step, "history": [row for row in self.history if row["step"] <= step], "metrics": metrics}
        save_checkpoint(self.run_dir / "best.pt", {**common, **best, "model": self.best_state_dict()}, overwrite=True)

    def resume(self, path=None, *, lr: float | None = None):
        """Continue from ``last.pt`` (or ``path``) exactly; with ``lr``, at that learning rate (the saved
        optimizer state would otherwise keep the rate the run had reached)."""
        ckpt = load_checkpoint(path or self.run_dir / "last.pt")
        self.model.load_state_dict(ckpt["model"])
        for k, o in self.optimizers.items():
            o.load_state_dict(ckpt["optimizers"][k])
            self.schedulers[k].load_state_dict(ckpt["schedulers"][k])
            if lr is not None:  # every group at the new rate, and the warm restarts' base rate with it
                for group in o.param_groups:
                    group["lr"] = group["initial_lr"] = lr
                self.schedulers[k].base_lrs = [lr] * len(o.param_groups)
        self.best.update(ckpt["best"])
        self._rescore_best_amt()
        self.step, self.history = ckpt["step"], ckpt["history"]
        torch.set_rng_state(ckpt["torch_rng"])
        log.info("resumed from step %d", self.step)

    # ---- the loop ----------------------------------------------------------------------------
    def train_step(self, batch, generator, *, seconds: dict | None = None) -> dict:
        """One optimizer step on ``batch``; returns its losses. ``seconds`` (a dict) accumulates the
        time spent in ``forward`` (with the losses), ``backward`` and ``optimizer`` (the speed benchmark)."""
        clock = time.perf_counter
        t0 = clock()
        losses = compute_losses(self.net, self._to_device(batch), self.cfg, generator=generator, bf16=self.bf16)
        t1 = clock()
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=True)
        losses["total"].backward()
        t2 = clock()
        for name, opt in self.optimizers.items():
            torch.nn.utils.clip_grad_norm_([p for m in self.branches[name] for p in m.parameters()], 5.0)
            opt.step()
            if name == "timbre":
                self.schedulers[name].step()
        self.step += 1
        if seconds is not None:
            for key, dt in (("forward", t1 - t0), ("backward", t2 - t1), ("optimizer", clock() - t2)):
                seconds[key] = seconds.get(key, 0.0) + dt
        return losses

    def run(self, *, progress: bool = True, time_limit: float | None = None) -> list[dict]:
        """Train until ``cfg.steps`` (or ``time_limit`` seconds), validating and checkpointing every
        ``eval_every`` steps; returns the history (one dict per validation)."""
        cfg = self.cfg
        self._train_mode()
        gen = torch.Generator().manual_seed(cfg.seed + self.step)
        # wall time and audio seen accumulate across resumed runs
        started = time.time() - (self.history[-1]["wall_s"] if self.history else 0.0)
        audio_seconds = self.history[-1]["audio_h"] * 3600 if self.history else 0.0
        limit_at = time.time() + time_limit if time_limit is not None else None
        bar = tqdm(total=cfg.steps, initial=self.step, disable=not progress or self.rank, desc="train")
        running, n_running = {}, 0
        if cfg.init and self.step == 0 and not self.history:
            # score the starting weights, so a fine-tune only replaces a branch by something better
            names = ("frame", "onset") * ("amt" in self.optimizers) + ("timbre",) * ("timbre" in self.optimizers)
            self._record(0.0, 0.0, {k: math.nan for k in (*names, "total")})  # as compute_losses names them
        while self.step < cfg.steps:
            n_items = (cfg.steps - self.step) * cfg.batch_size
            for batch in self._loader(self.train_set, self.step * cfg.batch_size * self.world, n_items):
                losses = self.train_step(batch, gen)
                audio_seconds += batch["audio"].shape[0] * batch["audio"].shape[1] / 22050 * self.world
                for k, v in losses.items():
                    running[k] = running.get(k, 0.0) + float(v.detach())
                n_running += 1
                bar.update(1)
                bar.set_postfix(loss=f"{float(losses['total'].detach()):.4f}")
                out_of_time = limit_at is not None and time.time() > limit_at
                if self.step % cfg.eval_every == 0 or self.step == cfg.steps or out_of_time:
                    self._record(round(time.time() - started, 1), round(audio_seconds / 3600, 3),
                                 {k: v / n_running for k, v in running.items()})
                    self.save()
                    running, n_running = {}, 0
                if self.step >= cfg.steps or out_of_time:
                    break
            if limit_at is not None and time.time() > limit_at:
                break
        bar.close()
        return self.history

    def close(self):
        """End a distributed run: wait for every rank, then tear down the process group this trainer started
        (one it found already set up belongs to its caller). Without it, torchrun ranks leave the group to the
        interpreter's exit, where gloo's threads can abort a rank after its work is done."""
        if self.owns_process_group and torch.distributed.is_initialized():
            torch.distributed.barrier()
            torch.distributed.destroy_process_group()
        self.owns_process_group = False

    def _record(self, wall_s: float, audio_h: float, train_losses: dict):
        """Validate, then log one history row: step, time, audio seen, train and validation values, lrs."""
        row = {"step": self.step, "wall_s": wall_s, "audio_h": audio_h,
               **{f"train_{k}": v for k, v in train_losses.items()}, **self.validate(),
               **{f"lr_{k}": o.param_groups[0]["lr"] for k, o in self.optimizers.items()}}
        self._after_validation(row)
        self.history.append(row)
        self._log_row(row)

    def _log_row(self, row):
        if self.rank:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / "log.csv"
        rows, keys, append = [], list(row), path.exists()
        if append:
            with open(path, newline="") as f:
                reader = csv.DictReader(f)
                header = list(reader.fieldnames or [])
                if header != keys:  # other columns (e.g. a resumed run with another stage): keep every row
                    rows, append = list(reader), False
                    keys = header + [k for k in keys if k not in header]
        if append:
            with open(path, "a", newline="") as f:
                csv.DictWriter(f, fieldnames=keys).writerow(row)
        else:
            tmp = path.with_name(path.name + ".tmp")
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=keys, restval="")
                w.writeheader()
                w.writerows(rows + [row])
            os.replace(tmp, path)
        log.info(json.dumps(row))


@torch.no_grad()
def mixture_scores(model, dataset, *, n_items: int = 8, thresholds: dict | None = None) -> dict:
    """Mean frame and onset-only note F1 of ``model`` on the first ``n_items`` mixtures of ``dataset``
    (a :class:`~mitkit.training.mixtures.MixtureDataset`), all instruments pooled. A quick check of a training run.

    Notebook: 02_training
    """
    from mitkit.evaluation.metrics import score_posteriorgrams
    from mitkit.inference import predict
    from mitkit.training.mixtures import mixture_notes

    model.eval()
    scores = []
    for i in range(min(n_items, len(dataset))):
        item = dataset[i]
        post = predict(model, item["audio"], with_timbre=False)
        scores.append(score_posteriorgrams(mixture_notes(item), post.frames, post.onsets, thresholds)[0])
    return {k: float(np.mean([s[k] for s in scores])) for k in ("frame_f1", "note_f1")}


def _prefixed_state(model: nn.Module, sub: nn.Module) -> dict:
    """State-dict entries of submodule ``sub`` with their full names inside ``model``."""
    prefix = next(name for name, m in model.named_modules() if m is sub)
    return {f"{prefix}.{k}": v for k, v in sub.state_dict().items()}

