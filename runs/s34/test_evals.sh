#!/bin/bash
# the test benchmarks, once, after the choice: the count refitted (runs/s34/refit.pt) against the bundled one
set -uo pipefail
cd /work/main
export PATH=/work/main/.venv/bin:$PATH
O=runs/s34/test; mkdir -p $O
for C in mitkit/weights/mitkit_base.pt runs/s34/refit.pt; do
  echo "== $C"
  python scripts/count_study.py --on data/count-test --separation --cache runs/s34/count-test.npz --checkpoint $C
  mitkit evaluate --checkpoint $C --benchmark data/chorale-bench --systems mitkit --count auto \
      --out $O/chorale-bench-$(basename $C .pt).json --overwrite 2>&1 | grep -E "^\| mitkit"
done
