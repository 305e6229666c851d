#!/bin/bash
# Issue 19: a chamber-run checkpoint judged tuned, as the bundled model was: the bundled timbre branch grafted in,
# `mitkit tune` with the shipped model's recall as floor (GUARD= for none), then every named validation benchmark
# against the bundled model (runs/s35/eval_candidate.sh).   [GUARD=] runs/s38/tune_eval.sh SRC OUT
set -e
cd "$(dirname "$0")/../.."
SRC=$1; OUT=$2
GUARD=${GUARD-"--keep-recall-on data/chorale-val-w --recall-floor-from bundled"}
rm -f "$OUT"
.venv/bin/python scripts/graft_branch.py "$SRC" --branch timbre --from bundled --out "$OUT"
.venv/bin/mitkit tune "$OUT" --on data/chorale-val data/chorale-val-w data/quartet-mvt-val $GUARD 2>&1 \
  | grep -E "tuned|validation|warning|Error|error"
BENCHES=${BENCHES:-"chorale-val-w quartet-mvt-val chorale-val"} runs/s35/eval_candidate.sh "$OUT"
