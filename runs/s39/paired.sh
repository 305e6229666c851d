#!/bin/bash
# per-mix hits of the learned count with and without the note sound features, for McNemar's test
cd /work/main
P=.venv/bin/python
$P runs/s39/count_with_sound.py --count-c 0.01 0.03 --per-mix runs/s39/hits_base > runs/s39/paired_base.log 2>&1
$P runs/s39/count_with_sound.py --features 0 1 2 3 4 5 --count-c 0.01 0.03 --per-mix runs/s39/hits_sound > runs/s39/paired_sound.log 2>&1
