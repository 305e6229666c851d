#!/bin/bash
set -uo pipefail
cd /work/main
export PATH=/work/main/.venv/bin:$PATH
date; mitkit evaluate --benchmark data/chorale-bench --systems mitkit --count all --out runs/s32/ship/test-chorale-bench.json --overwrite
date; mitkit evaluate --benchmark data/chorale-bench --systems mitkit-frame,pitch-order,random --count oracle --out runs/s32/ship/test-chorale-bench-others.json --overwrite
date; mitkit evaluate --benchmark data/chorale-test-w --systems mitkit --count oracle --out runs/s32/ship/test-chorale-test-w.json --overwrite
date; python scripts/count_study.py --on data/count-test --separation --cache runs/s32/ship/count-test.npz
date; mitkit evaluate --benchmark data/chorale-val --systems mitkit --count oracle
date
