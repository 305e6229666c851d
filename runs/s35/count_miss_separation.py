"""Scratch: for the validation chorales the count misses, is the timbre embedding able to separate the parts at the
true K (separation F1 at true K against counted K), and what do the count's evidence and runner-up say?"""
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, "scripts")
from count_study import benchmark_of, transcribe_all  # noqa: E402

from mitkit.checkpoint import load_checkpoint
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.evaluation.metrics import separation_metrics
from mitkit.instrument_count import count_instruments
from mitkit.notes import notes_to_seconds
from mitkit.transcription import group_notes

folders = ["data/chorale-val", "data/chorale-val-w", "data/chorale-val-w-OPL3_FM", "data/chorale-val-w-csound_GM"]
mixes = [m for f in folders for m in load_benchmark(f)]
data = transcribe_all(mixes, None, Path("runs/s35/chorale-count-cache.npz"))
ckpt = load_checkpoint()
clf, temp = ckpt.get("polyphony_classifier"), float(ckpt.get("affinity_temperature", 1.0))
for mix, notes, E in data:
    true_k = len(mix.parts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = count_instruments(notes, E, clf)
    if c.k == true_k:
        continue
    est = notes_to_seconds(notes)
    sep = {}
    for K in sorted({true_k, c.k}):
        labels, _ = group_notes(notes, E, min(K, len(notes)), temp, 0, clf)
        sep[K] = separation_metrics(mix.parts, [est[labels == j] for j in range(K)])["separation_f1"]
    ev = {k: v for k, v in vars(c).items() if k != "k"} if hasattr(c, "__dict__") else c
    print(f"{benchmark_of(mix):24} {mix.id:22} {[p.get('class', '?') if isinstance(p, dict) else '' for p in []]}"
          f"true {true_k} counted {c.k}  sep@true {sep[true_k]:.3f} sep@counted {sep[c.k]:.3f}")
    print("    ", str(ev)[:400])
