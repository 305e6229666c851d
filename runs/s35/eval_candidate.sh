#!/bin/bash
# note F1 etc. of the bundled model and a candidate checkpoint on every validation benchmark (oracle count);
# BENCHES="a b" (folder names under data/) for fewer
cd /work/main
C=${1:-runs/s35/rooms3900-tuned.pt}
BENCHES=${BENCHES:-chorale-val-w quartet-mvt-val chorale-val-w-room quartet-mvt-val-room chorale-val-w-OPL3_FM quartet-mvt-val-OPL3_FM chorale-val-w-csound_GM quartet-mvt-val-csound_GM chorale-val}
for B in $BENCHES; do
  for M in bundled $C; do
    A=""; [ $M != bundled ] && A="--checkpoint $M"
    .venv/bin/mitkit evaluate $A --benchmark data/$B --systems mitkit --count oracle 2>&1 | grep -E "^\| mitkit \| all" | sed "s#^#$B $M #"
  done
done
