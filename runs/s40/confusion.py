"""Scratch (issue 13, session 40): where does the shipped count go wrong? Per validation mix: true K, counted K,
texture, instruments, length. Uses the bundled checkpoint's classifier and count model."""
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, "scripts")
from count_study import transcribe_all  # noqa: E402

from mitkit.checkpoint import load_checkpoint  # noqa: E402
from mitkit.evaluation.benchmarks import load_benchmark  # noqa: E402
from mitkit.instrument_count import count_instruments  # noqa: E402
from mitkit.synth.instruments import BY_NAME  # noqa: E402

ck = load_checkpoint("mitkit/weights/mitkit_base.pt")
clf = ck["polyphony_classifier"]
conf = Counter()
for f in sys.argv[1:]:
    data = transcribe_all(load_benchmark(f), None, Path("runs/s39/count-cache") / f"{Path(f).name}.npz")
    for mix, notes, E in data:
        c = count_instruments(notes, E, clf) if len(notes) else None
        k = c.k if c else 1
        poly = [n for n in mix.part_names if n in BY_NAME and BY_NAME[n].polyphonic]
        K = len(mix.parts)
        dur = max(float(p[:, 1].max()) for p in mix.parts if len(p))
        conf[(bool(poly), K, k)] += 1
        if k != K:
            print(f"{Path(f).name:22s} {Path(mix.audio).stem:40s} K={K} k={k} {'+'.join(mix.part_names):50s} "
                  f"{dur:5.0f}s p={c.probabilities[:2] if c else ''} chord={c.chord_probability if c else 0:.2f} "
                  f"voices={c.voices if c else 0} lines={c.lines if c else 0} timbres={c.timbres if c else 0}")
for key in sorted(conf):
    print(key, conf[key])
