#!/bin/bash
# The data of the chamber-weighted note-finding run (issue 19): the shipped branch's 36 h of stems and the
# chamber-music supplement of the thirty-first session, both deterministic by seed.
set -e
cd "$(dirname "$0")/../.."
.venv/bin/mitkit synth --out data/synth-v9 --hours 36 --seed 8 --workers 2 --quiet
.venv/bin/mitkit synth --out data/synth-chamber --hours 8 --seed 31 --workers 2 --recipe chamber --quiet
