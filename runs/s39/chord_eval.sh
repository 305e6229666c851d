#!/bin/bash
# Judge a chord-axis timbre branch (runs/s39/chord_axis_train.py): the linear polyphony probe on validation notes,
# the learned count refitted on its embeddings (scripts/fit_polyphony.py, stored in the copy), and separation with
# K given against the bundled model.   runs/s39/chord_eval.sh [CHECKPOINT]
set -e
cd /work/main
X=${1:-runs/chord-axis/best.pt}
OUT=runs/s39/chord-axis-eval.pt
cp "$X" $OUT
P=.venv/bin/python
TRAIN="data/count-train data/count-train2 data/count-train3"
VAL="data/count-val data/count-val-OPL3_FM data/count-val-csound_GM"
$P runs/s39/decay_study.py --checkpoint $OUT --cache-dir runs/s39/count-cache-chord --save runs/s39/decay_chord.npz \
  --train $TRAIN --val $VAL > runs/s39/chord_probe.log 2>&1
$P scripts/fit_polyphony.py --on $TRAIN data/chorale-train-a data/chorale-train-b data/chorale-train-c \
  --check-on data/count-val data/chorale-val data/count-val-OPL3_FM data/count-val-csound_GM \
  --count-c 0.01 0.03 0.1 0.3 --checkpoint $OUT --cache-dir runs/s39/count-cache-chord --write $OUT \
  > runs/s39/chord_refit.log 2>&1
BENCHES="chorale-val-w quartet-mvt-val chorale-val" runs/s35/eval_candidate.sh $OUT > runs/s39/chord_eval.log 2>&1
