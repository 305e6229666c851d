#!/bin/bash
# the train-split mixes the learned count and the polyphony classifier are fitted on (model card, "The learned count")
cd /work/main
M=.venv/bin/mitkit
$M count-bench --out data/count-train --split train --n-pieces 10 --seed 5 --lengths 10 30 --soundfont mixed
$M count-bench --out data/count-train2 --split train --n-pieces 4 --seed 9 --lengths 10 30 120 --soundfont mixed
$M count-bench --out data/count-train3 --split train --n-pieces 20 --seed 13 --lengths 10 30 120 --soundfont mixed
$M chorale-bench --out data/chorale-train-a --split train --n-chorales 12 --seed 21
$M chorale-bench --out data/chorale-train-b --split train --n-chorales 12 --seed 22 --articulation written --soundfont TimGM6mb
$M chorale-bench --out data/chorale-train-c --split train --n-chorales 12 --seed 23 --soundfont csound_GM
