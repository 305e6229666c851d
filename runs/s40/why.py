"""Scratch: the evidence behind the shipped count on chosen validation mixes (benchmark, mix id)."""
import sys
from pathlib import Path

sys.path.insert(0, "scripts")
from count_study import transcribe_all  # noqa: E402

from mitkit.checkpoint import load_checkpoint  # noqa: E402
from mitkit.count_model import evidence_weights  # noqa: E402
from mitkit.evaluation.benchmarks import load_benchmark  # noqa: E402
from mitkit.instrument_count import count_instruments  # noqa: E402

clf = load_checkpoint("mitkit/weights/mitkit_base.pt")["polyphony_classifier"]
for arg in sys.argv[1:]:
    f, mid = arg.split(":")
    data = transcribe_all(load_benchmark(f), None, Path("runs/s39/count-cache") / f"{Path(f).name}.npz")
    for mix, notes, E in data:
        if Path(mix.audio).stem == mid:
            c = count_instruments(notes, E, clf)
            print(arg, "true", len(mix.parts), "counted", c.k, [(k, round(p, 2)) for k, p in c.probabilities])
            w = evidence_weights(c.evidence, clf["count"], c.k)
            print("  ", ", ".join(f"{n}={c.evidence[n]:.2f}({s:+.2f})" for n, s in w[:10]))
            w = evidence_weights(c.evidence, clf["count"], len(mix.parts))
            print("  for true:", ", ".join(f"{n}={c.evidence[n]:.2f}({s:+.2f})" for n, s in w[:10]))
