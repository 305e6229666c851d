"""The shipped model scored as `mitkit train --select-on` scores a run made without --init (create_notes'
default thresholds): the baseline of the recall columns in runs/amt-chamber36/log.csv.
    .venv/bin/python runs/s37/bundled_scores.py [CHECKPOINT]"""
import sys

import torch

from mitkit.checkpoint import load_checkpoint, model_from_checkpoint
from mitkit.training.selection import BenchmarkSelection

torch.set_num_threads(1)
ckpt = load_checkpoint(sys.argv[1] if len(sys.argv) > 1 else None)
model = model_from_checkpoint(ckpt)
selection = BenchmarkSelection(["data/chorale-val-w", "data/quartet-mvt-val"], None)
for k, v in selection.scores(model, precision="bf16").items():
    print(f"{k:40s} {v:.4f}")
