#!/bin/bash
# count benchmarks for the decay study (issue 13): the train-split mixes the learned count is fitted on
# (runs/s34/render_count_train.sh) and the validation count benchmarks (model card, "The learned count")
cd /work/main
M=.venv/bin/mitkit
$M count-bench --out data/count-val --split validation --n-pieces 3 --seed 0
for S in OPL3_FM csound_GM; do $M count-bench --out data/count-val-$S --split validation --n-pieces 3 --seed 0 --soundfont $S; done
bash runs/s34/render_count_train.sh
