"""The learned count's misses on cached validation mixes: which mixes, what the model read."""
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, "scripts")
from count_study import transcribe_all  # noqa: E402
from mitkit.checkpoint import load_checkpoint  # noqa: E402
from mitkit.evaluation.benchmarks import load_benchmark  # noqa: E402
from mitkit.instrument_count import count_instruments  # noqa: E402

ckpt_path, cache = (sys.argv[1] if sys.argv[1] != "bundled" else None), Path(sys.argv[2])
folders = sys.argv[3:]
classifier = load_checkpoint(ckpt_path)["polyphony_classifier"]
mixes = [m for f in folders for m in load_benchmark(f)]
warnings.simplefilter("ignore")
right = 0
for mix, notes, E in transcribe_all(mixes, ckpt_path, cache):
    c = count_instruments(notes, E, classifier)
    true_k = len(mix.parts)
    right += c.k == true_k
    if c.k != true_k:
        probs = " ".join(f"{k}:{p:.2f}" for k, p in c.probabilities)
        print(f"{Path(mix.audio).parent.parent.name:22} {mix.id:18} {'+'.join(mix.part_names)[:50]:50} true {true_k} "
              f"got {c.k} [{probs}] {c.reading} chord {c.chord_probability:.2f} voices {c.voices} lines {c.lines} "
              f"timbres {c.timbres}")
print(f"right {right}/{len(mixes)}")
