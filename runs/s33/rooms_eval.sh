#!/bin/bash
# the rooms fine-tune's best.pt (timbre branch grafted from the bundled model, the bundled thresholds) against the
# bundled model on dry, room and held-out-sound validation benchmarks
cd /work/main
rm -f runs/s33/rooms-best.pt
.venv/bin/python scripts/graft_branch.py runs/rooms-ft/best.pt --branch timbre --from bundled --out runs/s33/rooms-best.pt
.venv/bin/python - <<'PY'
from mitkit.checkpoint import load_checkpoint, save_checkpoint
c, b = load_checkpoint("runs/s33/rooms-best.pt"), load_checkpoint()
print("best.pt thresholds:", c.get("thresholds"), "step", c.get("metrics", {}).get("best_amt_step"))
c["thresholds"] = b["thresholds"]
save_checkpoint("runs/s33/rooms-best.pt", {k: v for k, v in c.items() if k not in ("format", "format_version")}, overwrite=True)
PY
for B in chorale-val-w quartet-mvt-val chorale-val-w-room quartet-mvt-val-room chorale-val-w-OPL3_FM quartet-mvt-val-OPL3_FM chorale-val; do
  for C in "" runs/s33/rooms-best.pt; do
    .venv/bin/mitkit evaluate ${C:+--checkpoint $C} --benchmark data/$B --systems mitkit --count oracle 2>&1 | grep -E "^\| mitkit \| all" | sed "s#^#$B ${C:-bundled} #"
  done
done
