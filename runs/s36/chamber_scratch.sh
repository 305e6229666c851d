#!/bin/bash
# Issue 19: the shipped note-finding branch's recipe from scratch (section "Thirty-six hours of stems, the wider
# branch from scratch again"), with the chamber-music supplement in its data from the first step (17 % of the
# clips are string quartets / ensembles playing quartet movements). Only --data and --run differ from the shipped
# run, so its log (mitkit/weights/training_log_amt_wide24_36h.csv) is the baseline at equal steps.
#   runs/s36/render.sh first (data/synth-v9, data/synth-chamber); then this; add --resume to continue.
# The first rate (--lr 5e-4) is given only to a fresh start: given on resuming it would replace the rate the run
# had reached (the plateau rule's halvings); the thirty-sixth and thirty-seventh sessions' first resumes gave it.
set -e
cd "$(dirname "$0")/../.."
LR="--lr 5e-4"
for arg in "$@"; do [ "$arg" = --resume ] && LR=""; done
exec .venv/bin/mitkit train --preset base --data data/synth-v9 data/synth-chamber --run runs/amt-chamber36 \
  --stage amt --amt-channels 24 --onset-reads-cqt --onset-alpha 0.75 --reattack-weight 6 --onset-spread 1 \
  --batch-size 8 $LR --eval-every 300 --steps 20000 --workers 0 --threads 2 \
  --select-on data/chorale-val-w data/quartet-mvt-val "$@"
