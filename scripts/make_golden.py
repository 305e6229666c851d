"""Write tests/golden/example.json: the bundled model's transcription of the bundled example, frozen.

    python scripts/make_golden.py            # rewrite tests/golden/example.json
    python scripts/make_golden.py --check    # recompute and compare, write nothing (exit 1 on a difference)

This script is the only way to make the golden file: after the bundled model, its thresholds, the
example or anything on the path from audio to tracks changes *on purpose*, run it and commit the new
file together with that change (say why in the commit message). tests/test_golden.py recomputes
everything with :func:`compute_golden` and asserts equality (integers exactly, floats to ``FLOAT_TOL``);
the accuracy bars of tests/test_end_to_end.py read their numbers from the file.

What is frozen, for ``mitkit.transcribe(mitkit.example_path())`` with the defaults (instruments="auto")
and with ``instruments=4``: every note (start and end frame, MIDI pitch, velocity, track; onset/offset in
seconds rounded to 1 µs; amplitude rounded to 1e-6), the number of tracks K, the thresholds used, and
frame / note / separation F1 against ``mitkit.example_truth()`` (and separation F1 of pitch-order tracks
made from the same notes). The file also records what it was made from (sha256 of the bundled checkpoint
and of the example audio, the mitkit version) and the network precision it was computed at (``--precision``,
default fp32, which computes alike on CPUs with and without native bfloat16): the test runs with that precision.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "golden" / "example.json"
FORMAT = "mitkit-golden"
VERSION = 1
RUNS = {"default": {}, "k4": {"instruments": 4}}  # name -> keyword arguments of mitkit.transcription
#: Absolute tolerance of every float when comparing (values are rounded to 6 decimals). Not 1e-6: float32
#: kernels differ a little between CPUs (an AVX-512/AMX Xeon against the AVX2 EPYC the file was written on
#: moved four note amplitudes by one in the 6th decimal, which rounding turns into 1e-6 plus an ulp).
FLOAT_TOL = 1e-5


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def provenance(precision: str = "fp32") -> dict:
    """What the golden values are a function of (besides the code)."""
    import mitkit
    from mitkit.checkpoint import bundled_checkpoint_path
    return {"checkpoint_sha256": _sha256(bundled_checkpoint_path()), "example_sha256": _sha256(mitkit.example_path()),
            "precision": precision, "mitkit_version": mitkit.__version__}


def _plain(value):
    """A threshold as JSON writes it: booleans stay booleans, other numbers become float or int."""
    if isinstance(value, bool):
        return value
    return float(value) if isinstance(value, float) else int(value)


def summarize(t, parts) -> dict:
    """The frozen summary of one :class:`mitkit.Transcription` against the ground-truth ``parts``."""
    import numpy as np

    from mitkit.evaluation.baselines import pitch_order_tracks
    from mitkit.evaluation.metrics import separation_metrics, transcription_metrics
    from mitkit.notes import merge_tracks, notes_to_seconds

    table = notes_to_seconds(t.frame_notes)  # (N, 4): onset_s, offset_s, pitch, velocity; rows follow t.frame_notes
    est = [tr.to_array() for tr in t.tracks]
    merged = merge_tracks(est)
    metrics = transcription_metrics(merge_tracks(parts), merged)
    sep = separation_metrics(parts, est)
    pitch_order = separation_metrics(parts, pitch_order_tracks(merged, len(t.tracks)))
    return {
        "instruments": t.instruments,
        "thresholds": {k: _plain(v) for k, v in sorted(t.thresholds.items())},
        "affinity_temperature": round(float(t.affinity_temperature), 6),
        "n_notes": int(len(t.frame_notes)),
        "track_sizes": [len(tr.notes) for tr in t.tracks],
        # one row per note, in the result's order (by start, then pitch)
        "notes": [[int(n["start"]), int(n["end"]), int(n["pitch"]), int(v), int(k)]
                  for n, v, k in zip(t.frame_notes, table[:, 3], t.labels)],
        "notes_columns": ["start_frame", "end_frame", "pitch", "velocity", "track"],
        "seconds": [[round(float(a), 6), round(float(b), 6)] for a, b in table[:, :2]],
        "amplitudes": [round(float(a), 6) for a in np.asarray(t.frame_notes["amplitude"], float)],
        "metrics": {"frame_f1": round(float(metrics["frame_f1"]), 6), "note_f1": round(float(metrics["note_f1"]), 6),
                    "separation_f1": round(float(sep["separation_f1"]), 6),
                    "pitch_order_separation_f1": round(float(pitch_order["separation_f1"]), 6)},
    }


def compute_golden(precision: str = "fp32") -> dict:
    """Transcribe the example once per entry of ``RUNS`` and summarise, on the PyTorch backend at ``precision``
    ("fp32" or "bf16"; :func:`provenance` records it). The backend is fixed: "auto"
    runs onnxruntime (float32) for short audio in a process that has not imported PyTorch yet, which would
    make the file depend on how the script was started."""
    import mitkit
    parts = [p["notes"] for p in mitkit.example_truth()["parts"]]
    made_from = provenance(precision)
    runs = {}
    for name, kwargs in RUNS.items():
        t = mitkit.transcribe(mitkit.example_path(), **kwargs, precision=precision, backend="torch")
        runs[name] = {"call": {"instruments": kwargs.get("instruments", "auto")}, **summarize(t, parts)}
    return {"format": FORMAT, "version": VERSION, "made_by": "scripts/make_golden.py", **made_from,
            "example": mitkit.example_truth()["piece"], "n_parts": len(parts), "runs": runs}


def differences(expected, actual, path: str = "", tol: float = FLOAT_TOL) -> list[str]:
    """Where two JSON-like values differ: integers, strings and structure exactly, floats within ``tol``."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = [f"{path}.{k}: missing" for k in expected if k not in actual]
        out += [f"{path}.{k}: unexpected" for k in actual if k not in expected]
        for k in expected:
            if k in actual:
                out += differences(expected[k], actual[k], f"{path}.{k}", tol)
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: length {len(actual)} != {len(expected)}"]
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in differences(e, a, f"{path}[{i}]", tol)]
    if type(expected) is float and type(actual) is float:
        return [] if abs(expected - actual) <= tol else [f"{path}: {actual!r} != {expected!r}"]
    return [] if type(expected) is type(actual) and expected == actual else [f"{path}: {actual!r} != {expected!r}"]


def to_text(golden: dict) -> str:
    """JSON with one line per innermost list of numbers (a note per line: readable diffs)."""
    import re
    text = json.dumps(golden, indent=1)
    number = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"
    return re.sub(rf"\[\s+({number}(?:,\s+{number})*)\s+\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the stored file instead of writing it")
    parser.add_argument("--out", type=Path, default=GOLDEN, help=f"file to write (default: {GOLDEN})")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="network precision to freeze (default fp32, which computes alike on every CPU; bf16 "
                             "differs between CPUs with and without native bfloat16)")
    args = parser.parse_args(argv)
    if args.check:
        stored = json.loads(args.out.read_text())
        diff = differences(stored, compute_golden(stored["precision"]))
        print("\n".join(diff[:40]) or f"{args.out}: up to date")
        return 1 if diff else 0
    golden = compute_golden(args.precision)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_text(golden))
    for name, run in golden["runs"].items():
        print(f"{name}: K={run['instruments']}, {run['n_notes']} notes, metrics {run['metrics']}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
