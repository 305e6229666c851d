#!/bin/bash
# candidate: the onset layers of runs/onset-chamber (general + chamber data), the rest bundled; tuned under the bundled recall floor
set -euo pipefail
cd /work/main
export PATH=/work/main/.venv/bin:$PATH
C=runs/s32/ship/cand.pt
rm -f $C
python scripts/graft_branch.py ${SRC:-runs/onset-chamber/last.pt} --branch timbre --from bundled --out $C
date; mitkit tune $C --on data/chorale-val data/chorale-val-w data/quartet-mvt-val --keep-recall-on data/chorale-val-w --recall-floor-from bundled
for B in quartet-mvt-val quartet-mvt-val-OPL3_FM quartet-mvt-val-csound_GM chorale-val-w-OPL3_FM chorale-val-w chorale-val-w-csound_GM chorale-val count-quartet; do
  date; mitkit evaluate --checkpoint $C --benchmark data/$B --systems mitkit --count oracle --out runs/s32/ship/eval-$B.json --overwrite 2>&1 | grep -E "^\| mitkit \| all|thresholds"
done
date
