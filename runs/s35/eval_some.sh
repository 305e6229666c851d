#!/bin/bash
# evaluate checkpoints (args) on the benchmarks in $BENCHES (oracle count), one row each
cd /work/main
for B in ${BENCHES:-chorale-val-w quartet-mvt-val chorale-val-w-room quartet-mvt-val-room quartet-mvt-val-csound_GM chorale-val}; do
  for M in "$@"; do
    A=""; [ $M != bundled ] && A="--checkpoint $M"
    .venv/bin/mitkit evaluate $A --benchmark data/$B --systems mitkit --count oracle 2>&1 | grep -E "^\| mitkit \| all" | sed "s#^#$B $M #"
  done
done
