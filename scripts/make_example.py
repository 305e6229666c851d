"""Rebuild the bundled example (mitkit/assets/example.flac + example.json).

The example is the 4-part, BACH10-instrumented mix of the first chorale of the chorale benchmark
(seed 0): a test-split chorale, never trained or tuned on, rendered with FluidR3_GM by mitkit's own
renderer. Run from the repository root: ``python scripts/make_example.py``.
"""
import json
import shutil
import tempfile
from pathlib import Path

from mitkit.synth.benchmarks import build_chorale_benchmark

ASSETS = Path(__file__).resolve().parents[1] / "mitkit" / "assets"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        index = build_chorale_benchmark(tmp, n_chorales=1, seed=0, max_seconds=30.0)
        mix = next(m for m in index["mixes"] if m["instrumentation"] == "bach10" and m["n_parts"] == 4)
        ASSETS.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(tmp) / mix["audio"], ASSETS / "example.flac")
    truth = {"description": f"J.S. Bach chorale {mix['chorale']} (excerpt), violin / clarinet / tenor sax / "
                            "bassoon, rendered with FluidR3_GM by mitkit",
             "piece": mix["chorale"], "duration": mix["duration"],
             "parts": [{"name": p["name"], "program": p["program"], "class": p["class"], "notes": p["notes"]}
                       for p in mix["parts"]]}
    (ASSETS / "example.json").write_text(json.dumps(truth, indent=1))
    print(f"wrote {ASSETS / 'example.flac'} ({mix['duration']:.1f} s) and example.json")


if __name__ == "__main__":
    main()
