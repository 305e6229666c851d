#!/bin/bash
# Fine-tune only the bundled onset layers on general + rooms data (the frame layers, whose dry frame F1 and offsets
# the full rooms fine-tune lowered, stay the bundled ones), selected on dry and room validation benchmarks alike.
# Resume: the same command with --resume (give --lr then, or the script's rate returns).
cd /work/main
.venv/bin/mitkit train --preset base --data data/synth-s33 data/synth-s33-rooms --run runs/rooms-onset --init bundled \
    --stage onset --onset-alpha 0.75 --reattack-weight 6 --onset-spread 1 --batch-size 8 --lr 2.5e-4 --eval-every 300 \
    --steps 20000 --workers 0 --threads 2 --time-limit ${LIMIT:-2700} "$@" \
    --select-on data/chorale-val-w data/quartet-mvt-val data/chorale-val-w-room data/quartet-mvt-val-room
