#!/bin/bash
set -euo pipefail
cd /work/main
export PATH=/work/main/.venv/bin:$PATH
C=runs/s32/ship/cand.pt
date; python scripts/fit_polyphony.py --on data/count-train data/count-train2 data/count-train3 data/chorale-train-a \
    data/chorale-train-b data/chorale-train-c --check-on data/count-val data/chorale-val data/count-val-OPL3_FM \
    data/count-val-csound_GM --count-c 0.01 0.03 0.1 0.3 --checkpoint $C --cache-dir runs/count-cache-s32 --write $C
date
