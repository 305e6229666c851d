"""The chamber run's selection F1 beside the shipped branch's run at equal steps, and the recall columns
(`val_recall_<kind>_<benchmark>`, logged from the thirty-seventh session's resume on). From the thirty-eighth
session's resume on the run is selected at the best onset threshold of a grid (`grid`, threshold `on`); the
comparison with the baseline uses the score at the default onset threshold, as the baseline was scored.
    .venv/bin/python runs/s37/compare_log.py [runs/amt-chamber36/log.csv]"""
import csv
import sys

run = sys.argv[1] if len(sys.argv) > 1 else "runs/amt-chamber36/log.csv"
base = {int(r["step"]): float(r["val_bench_note_f1"])
        for r in csv.DictReader(open("mitkit/weights/training_log_amt_wide24_36h.csv"))}
rows = [r for r in csv.DictReader(open(run)) if r.get("val_bench_note_f1")]
recall_cols = [c for c in rows[-1] if c.startswith("val_recall_")]
print("step  this  base  diff  grid   on   lr       " + "  ".join(c.replace("val_recall_", "") for c in recall_cols))
diffs = []
for r in rows:
    s = int(r["step"])
    b = base.get(s)
    fixed = float(r.get("val_bench_note_f1_default_onset") or r["val_bench_note_f1"])
    grid = f"{float(r['val_bench_note_f1']):.3f}  {float(r['val_bench_onset_threshold']):.1f}" \
        if r.get("val_bench_onset_threshold") else "  -     - "
    d = fixed - b if b is not None else None
    if d is not None:
        diffs.append(d)
    rec = "  ".join(f"{float(r[c]):.3f}" if r.get(c) else "  -  " for c in recall_cols)
    print(f"{s:5d} {fixed:.3f} {b if b is None else f'{b:.3f}'} "
          f"{'' if d is None else f'{d:+.3f}'} {grid} {float(r['lr_amt']):.2e}  {rec}")
print(f"at equal steps: ahead {sum(d > 0 for d in diffs)} of {len(diffs)}, mean {sum(diffs) / len(diffs):+.4f}")
