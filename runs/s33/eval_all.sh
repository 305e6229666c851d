#!/bin/bash
# evaluate CHECKPOINT (empty: bundled) into OUTDIR: validation benchmarks with K given, count benchmarks with "auto"
cd /work/main
C=$1; O=$2; mkdir -p $O
for B in quartet-mvt-val quartet-mvt-val-OPL3_FM quartet-mvt-val-csound_GM chorale-val-w chorale-val-w-OPL3_FM chorale-val-w-csound_GM chorale-val; do
  .venv/bin/mitkit evaluate ${C:+--checkpoint $C} --benchmark data/$B --systems mitkit --count oracle --out $O/eval-$B.json --overwrite 2>&1 | grep -E "^\| mitkit \| all" | sed "s/^/$B /"
done
for B in count-val count-val-OPL3_FM count-val-csound_GM chorale-val; do
  .venv/bin/mitkit evaluate ${C:+--checkpoint $C} --benchmark data/$B --systems mitkit --count auto --out $O/auto-$B.json --overwrite 2>&1 | grep -E "^\| mitkit \| all" | sed "s/^/$B auto /"
done
