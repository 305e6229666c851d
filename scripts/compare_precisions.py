"""Does the fast training path learn as well as plain fp32? The `tiny` preset from the same seed in each
variant (fp32 or bf16, eager or compiled with `torch.compile` as the `base` preset does), then frame and note
F1 of each on the same 32 validation mixtures (`mixture_scores`), and the wall times.

    python scripts/compare_precisions.py --data data/synth-v2 --out runs/precision
    python scripts/compare_precisions.py --data data/synth-v5 --out runs/compiled --variants fp32 fp32-compiled

bf16 is emulated, and slow, on a CPU without native bf16 (``mitkit.model.native_bf16``): compare the fp32
variants there.
"""
from __future__ import annotations

import argparse
import time

import torch

from mitkit.training.mixtures import MixtureDataset, StemBank
from mitkit.training.trainer import TrainConfig, Trainer, mixture_scores

#: name: (precision, compile)
VARIANTS = {"fp32": ("fp32", "off"), "bf16": ("bf16", "off"), "fp32-compiled": ("fp32", "on"),
            "bf16-compiled": ("bf16", "on")}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="a dataset made by `mitkit synth`")
    p.add_argument("--out", required=True, help="folder for the runs (one per variant)")
    p.add_argument("--max-pieces", type=int, default=80, help="training pieces loaded (memory: ≈ 90 MB per piece)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = p.parse_args()
    torch.set_num_threads(1)
    train = MixtureDataset(StemBank(args.data, "train", max_pieces=args.max_pieces, progress=False),
                           clip_frames=128, seed=0, length=10**9)
    val_bank = StemBank(args.data, "validation", progress=False)
    val = MixtureDataset(val_bank, clip_frames=128, seed=10_000, length=8)
    scored = MixtureDataset(val_bank, clip_frames=900, seed=777, length=32, augment=False)
    for name in args.variants:
        precision, compile_ = VARIANTS[name]
        cfg = TrainConfig.preset("tiny", precision=precision, compile=compile_, seed=0, threads=1, num_workers=0)
        trainer = Trainer(cfg, f"{args.out}/tiny-{name}", device="cpu", train_set=train, val_set=val)
        t0 = time.time()
        trainer.run(progress=False)
        wall = time.time() - t0
        scores = mixture_scores(trainer.model, scored, n_items=32)
        print(name, f"{wall:.0f} s", {k: round(v, 4) for k, v in scores.items()},
              "val_total", round(trainer.history[-1]["val_total"], 5), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
