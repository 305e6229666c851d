"""Training throughput on this machine: audio-hours of mixtures per hour of training, by stage and precision.

    python scripts/bench_train.py --data data/synth-v2 [--batch-size 8] [--clip-frames 900] [--steps 3] [--levers]
                                  [--timbre-window] [--joint-only]

Every configuration runs the real ``Trainer.train_step`` on batches of the real ``MixtureDataset`` (loaded
in this process, outside the timed step, and timed on its own). The first row is the reference, a plain
float32 joint step measured in the same run, and every row prints its speed-up over it: on a shared,
noisy machine the ratio is the figure that counts. The columns split one step into data loading (making
the batch), forward (with the losses), backward and optimizer.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from mitkit import constants as C
from mitkit.model import native_bf16
from mitkit.training.mixtures import MixtureDataset, StemBank
from mitkit.training.trainer import TrainConfig, Trainer

#: measured first, with the C library's own memory handling: the reference, and the fifth session's default
SYSTEM_MEMORY = [("joint", "fp32", "plain"), ("joint", "bf16", "compiled")]
#: then with freed memory kept in the process (mitkit.training.trainer.retain_freed_memory, `mitkit train`'s
#: default on a CPU; it cannot be undone within a process)
CONFIGS = [  # (stage, precision, variant); "compiled" is `mitkit train`'s default
    ("joint", "fp32", "plain"), ("joint", "bf16", "plain"), ("joint", "bf16", "compiled"),
    ("amt", "fp32", "plain"), ("amt", "bf16", "plain"), ("amt", "bf16", "compiled"),
    ("timbre", "fp32", "plain"), ("timbre", "bf16", "plain"), ("timbre", "bf16", "compiled"),
]
#: ``--levers``: speed-ups tried and not adopted (each measured beside the reference)
LEVERS = [("joint", "bf16", "channels-last"), ("joint", "fp32", "compiled")]
#: ``--timbre-window``: compiled bf16 with the timbre branch on a random window of each clip
#: (``TrainConfig.timbre_frames``), as a fraction of the clip
WINDOWS = {"compiled, timbre 1/2": 2, "compiled, timbre 1/3": 3}


def rows_for(args, native_bf16: bool) -> list[tuple]:
    """(stage, precision, variant, retain_memory) to measure, the reference first. On a CPU without native bf16
    (where `mitkit train --precision auto` trains in fp32, and bf16 would be emulated and slow) each bf16 row
    is measured in fp32 instead, unless ``--all-precisions``."""
    extra = LEVERS * args.levers + [("joint", "bf16", w) for w in WINDOWS] * args.timbre_window
    rows = [(*c, False) for c in SYSTEM_MEMORY] + [(*c, True) for c in CONFIGS + extra]
    rows = [r for r in rows if r[0] == "joint" or not args.joint_only]
    if not native_bf16 and not args.all_precisions:
        rows = list(dict.fromkeys((stage, "fp32", variant, keep) for stage, _, variant, keep in rows))
    return rows


def apply_variant(trainer: Trainer, variant: str):
    """Channels-last weights and inputs on both branches (``"compiled"`` is set in the config)."""
    for name in ("amt", "timbre") if variant == "channels-last" else ():
        branch = getattr(trainer.model, name)
        branch.to(memory_format=torch.channels_last)
        forward = branch.forward
        branch.forward = lambda x, forward=forward: forward(x.contiguous(memory_format=torch.channels_last))


def measure(bank, stage, precision, variant, args, *, retain_memory: bool) -> dict:
    window = WINDOWS.get(variant)
    cfg = TrainConfig.preset("base", stage=stage, precision=precision,
                             compile="on" if variant.startswith("compiled") else "off",
                             retain_memory=retain_memory, batch_size=args.batch_size,
                             clip_frames=args.clip_frames, threads=args.threads,
                             timbre_frames=args.clip_frames // window if window else 0)
    data = MixtureDataset(bank, clip_frames=args.clip_frames, seed=0, length=10 ** 6)
    trainer = Trainer(cfg, "/nonexistent-bench-run", device="cpu", train_set=data, val_set=data)
    apply_variant(trainer, variant)
    loader = iter(torch.utils.data.DataLoader(data, batch_size=args.batch_size, num_workers=0))
    gen = torch.Generator().manual_seed(0)
    trainer.train_step(next(loader), gen)  # warm-up: first-call allocations, kernel selection, compilation
    step_s, load_s, parts = [], [], {}
    for _ in range(args.steps):
        t0 = time.perf_counter()
        batch = next(loader)
        t1 = time.perf_counter()
        trainer.train_step(batch, gen, seconds=parts)
        load_s.append(t1 - t0)
        step_s.append(time.perf_counter() - t1)
    step, load = statistics.median(step_s), statistics.median(load_s)
    audio_h = args.batch_size * args.clip_frames / C.FRAME_RATE / 3600
    return {"stage": stage, "precision": precision, "variant": variant + ("" if retain_memory else ", system memory"),
            "step_s": step, "load_s": load,
            "h_per_h": audio_h / (step / 3600), "h_per_h_with_loading": audio_h / ((step + load) / 3600),
            **{k: v / args.steps for k, v in parts.items()}}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="dataset folder made by `mitkit synth`")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--clip-frames", type=int, default=900)
    p.add_argument("--steps", type=int, default=3, help="timed steps per configuration (after one warm-up)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--levers", action="store_true", help="also measure " + ", ".join(v for *_, v in LEVERS))
    p.add_argument("--timbre-window", action="store_true", help="also measure " + ", ".join(WINDOWS))
    p.add_argument("--joint-only", action="store_true", help="measure joint steps only (the amt and timbre rows "
                   "take most of the time)")
    p.add_argument("--max-pieces", type=int, default=None, help="load only this many training pieces (memory)")
    p.add_argument("--all-precisions", action="store_true", help="measure the bf16 rows also on a CPU without "
                   "native bf16 (emulated: slow)")
    args = p.parse_args(argv)
    native = native_bf16()
    rows = rows_for(args, native)
    bank = StemBank(args.data, "train", max_pieces=args.max_pieces)
    if args.threads:  # as each Trainer will set it, so that the header tells the truth
        torch.set_num_threads(args.threads)
    print(f"batch {args.batch_size} x {args.clip_frames} frames, torch threads {torch.get_num_threads()}, "
          f"native bf16: {native}" + ("" if native or args.all_precisions else " (bf16 rows measured in fp32)"))
    print(f"{'stage':7} {'precision':9} {'variant':27} {'step s':>7} {'audio h/h':>9} {'vs ref':>7} {'load s':>7} "
          f"{'forward':>8} {'backward':>8} {'optim':>6}  (share of step + load)")
    reference = None
    for stage, precision, variant, retain_memory in rows:
        r = measure(bank, stage, precision, variant, args, retain_memory=retain_memory)
        reference = reference or r
        total = r["step_s"] + r["load_s"]
        shares = " ".join(f"{100 * r[k] / total:7.0f}%" for k in ("forward", "backward", "optimizer"))
        print(f"{stage:7} {precision:9} {r['variant']:27} {r['step_s']:7.2f} {r['h_per_h']:9.1f} "
              f"{reference['step_s'] / r['step_s']:6.2f}x {100 * r['load_s'] / total:6.0f}% {shares}")


if __name__ == "__main__":
    main()
