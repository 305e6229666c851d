"""Scratch (issue 13, session 40): which instruments' notes the network misses. Over every validation count
mix (the count cache's notes: bundled model, shipped thresholds), each instrument's share of reference notes
found (onset within 50 ms at its pitch), per sound source; the worst first."""
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, "scripts")
from count_study import transcribe_all  # noqa: E402

from mitkit.evaluation.benchmarks import load_benchmark  # noqa: E402
from mitkit.notes import notes_to_seconds  # noqa: E402

hits = defaultdict(lambda: defaultdict(list))
folders = ["data/count-val", "data/count-val-OPL3_FM", "data/count-val-csound_GM"]
for f in folders:
    for mix, notes, _ in transcribe_all(load_benchmark(f), None, Path("runs/s39/count-cache") / f"{Path(f).name}.npz"):
        found = notes_to_seconds(notes)
        for name, part in zip(mix.part_names, mix.parts):
            hits[name][f].extend(bool(np.any((found[:, 2] == p) & (np.abs(found[:, 0] - on) < 0.05)))
                                 for on, _, p, *_ in part)
rows = sorted(hits.items(), key=lambda kv: np.mean([np.mean(v) for v in kv[1].values()]))
print(f"{'instrument':24s} " + " ".join(f"{Path(f).name[10:] or 'FluidR3_GM':>12s}" for f in folders) + "   notes")
for name, by in rows:
    print(f"{name:24s} " + " ".join(f"{np.mean(by[f]):12.2f}" if by[f] else f"{'':>12s}" for f in folders)
          + f"   {sum(len(v) for v in by.values())}")
