#!/bin/bash
# Fine-tune the bundled note-finding branch on general + rooms data (half the pieces' audio in a simulated room),
# selected on dry and room validation benchmarks alike. Resume: the same command with --resume.
cd /work/main
.venv/bin/mitkit train --preset base --data data/synth-s33 data/synth-s33-rooms --run runs/rooms-ft --init bundled \
    --stage amt --onset-alpha 0.75 --reattack-weight 6 --onset-spread 1 --batch-size 8 --lr 1.25e-4 --eval-every 300 \
    --steps 20000 --workers 0 --threads 2 --time-limit ${LIMIT:-2400} "$@" \
    --select-on data/chorale-val-w data/quartet-mvt-val data/chorale-val-w-room data/quartet-mvt-val-room
