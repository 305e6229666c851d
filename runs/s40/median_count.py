"""Scratch (issue 13, session 40): the count's most likely K against the median of its probabilities (which
minimises the expected distance to the true K) on the 279 validation mixes: right, and off by more than one."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, "scripts")
from count_study import transcribe_all  # noqa: E402

from mitkit.checkpoint import load_checkpoint  # noqa: E402
from mitkit.evaluation.benchmarks import load_benchmark  # noqa: E402
from mitkit.instrument_count import count_instruments  # noqa: E402

clf = load_checkpoint("mitkit/weights/mitkit_base.pt")["polyphony_classifier"]
rows = []
for f in ["data/count-val", "data/chorale-val", "data/count-val-OPL3_FM", "data/count-val-csound_GM"]:
    for mix, notes, E in transcribe_all(load_benchmark(f), None, Path("runs/s39/count-cache") / f"{Path(f).name}.npz"):
        if not len(notes):
            rows.append((len(mix.parts), 1, 1, 1))
            continue
        c = count_instruments(notes, E, clf)
        ks, ps = zip(*sorted(c.probabilities))
        cum = np.cumsum(ps)
        median = ks[int(np.searchsorted(cum, 0.5))]
        mean = int(round(float(np.dot(ks, ps))))
        rows.append((len(mix.parts), c.k, median, mean))
r = np.array(rows)
for i, name in [(1, "most likely"), (2, "median"), (3, "mean, rounded")]:
    print(f"{name:14s} right {np.sum(r[:, i] == r[:, 0])} of {len(r)}, off by > 1: {np.sum(np.abs(r[:, i] - r[:, 0]) > 1)}")
