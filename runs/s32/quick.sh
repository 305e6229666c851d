#!/bin/bash
# quick look: a run checkpoint's AMT weights grafted into bundled, bundled thresholds
cd /work/main
.venv/bin/python runs/ship29/quick.py $1 runs/s32/quick.pt
for b in quartet-mvt-val chorale-val-w quartet-mvt-val-OPL3_FM; do echo "== $b"; .venv/bin/mitkit evaluate --checkpoint runs/s32/quick.pt --benchmark data/$b --systems mitkit --count oracle 2>&1 | grep -E "^\| mitkit \| all"; done
