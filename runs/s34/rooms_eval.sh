#!/bin/bash
# the resumed rooms fine-tune's best.pt (timbre branch grafted from the bundled model, the bundled thresholds) on the
# dry, room and held-out-sound validation benchmarks (the bundled model's rows: runs/s33/rooms_eval.log)
cd /work/main
C=runs/s34/rooms-best.pt
rm -f $C
.venv/bin/python scripts/graft_branch.py runs/rooms-ft/best.pt --branch timbre --from bundled --out $C
.venv/bin/python - <<'PY'
from mitkit.checkpoint import load_checkpoint, save_checkpoint
c, b = load_checkpoint("runs/s34/rooms-best.pt"), load_checkpoint()
print("best.pt step", c.get("metrics", {}).get("best_amt_step"))
c["thresholds"] = b["thresholds"]
save_checkpoint("runs/s34/rooms-best.pt", {k: v for k, v in c.items() if k not in ("format", "format_version")}, overwrite=True)
PY
for B in chorale-val-w quartet-mvt-val chorale-val-w-room quartet-mvt-val-room chorale-val-w-OPL3_FM quartet-mvt-val-OPL3_FM chorale-val; do
  .venv/bin/mitkit evaluate --checkpoint $C --benchmark data/$B --systems mitkit --count oracle 2>&1 | grep -E "^\| mitkit \| all" | sed "s#^#$B $C #"
done
