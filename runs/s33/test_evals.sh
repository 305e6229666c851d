#!/bin/bash
# the test benchmarks, once, with the bundled model (after the choice)
set -uo pipefail
cd /work/main
export PATH=/work/main/.venv/bin:$PATH
O=runs/s33/test; mkdir -p $O
date; mitkit evaluate --benchmark data/chorale-bench --systems mitkit --count all --out $O/chorale-bench.json --overwrite
date; mitkit evaluate --benchmark data/chorale-bench --systems mitkit-frame,pitch-order,random --count oracle --out $O/chorale-bench-others.json --overwrite
date; mitkit evaluate --benchmark data/chorale-test-w --systems mitkit --count oracle --out $O/chorale-test-w.json --overwrite
date; python scripts/count_study.py --on data/count-test --separation --cache $O/count-test.npz
date
