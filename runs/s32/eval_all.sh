#!/bin/bash
# evaluate CHECKPOINT (or bundled) on the validation benchmarks into OUTDIR
cd /work/main
C=$1; O=$2; mkdir -p $O
for B in quartet-mvt-val quartet-mvt-val-OPL3_FM quartet-mvt-val-csound_GM chorale-val-w-OPL3_FM chorale-val-w chorale-val-w-csound_GM chorale-val count-quartet; do
  .venv/bin/mitkit evaluate ${C:+--checkpoint $C} --benchmark data/$B --systems mitkit --count oracle --out $O/eval-$B.json --overwrite 2>&1 | grep -E "^\| mitkit \| all"
done
