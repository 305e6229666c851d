#!/bin/bash
# Where the chamber run stands, untuned: a checkpoint of runs/amt-chamber36 with the bundled timbre branch grafted
# in and the bundled note thresholds, against the bundled model, on the two selection benchmarks (oracle count).
#   runs/s37/quick_eval.sh runs/amt-chamber36/best.pt runs/s37/cand.pt
set -e
cd "$(dirname "$0")/../.."
SRC=$1; OUT=$2
rm -f "$OUT"
.venv/bin/python scripts/graft_branch.py "$SRC" --branch timbre --from bundled --out "$OUT"
.venv/bin/python - "$OUT" <<'PY'
import sys
from mitkit.checkpoint import load_checkpoint, save_checkpoint, thresholds_of
from mitkit.checkpoint import bundled_checkpoint_path
c = load_checkpoint(sys.argv[1])
c["thresholds"] = thresholds_of(load_checkpoint(bundled_checkpoint_path()))
save_checkpoint(sys.argv[1], c, overwrite=True)
print("step", c.get("step"), "thresholds", c["thresholds"])
PY
BENCHES="chorale-val-w quartet-mvt-val" runs/s35/eval_candidate.sh "$OUT"
