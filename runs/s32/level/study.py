"""Scratch study: onset thresholds that follow the audio's onset level more steeply (factor ** gamma), bundled
model, create_notes on the posteriorgrams (as `mitkit tune` scores). Prints per benchmark: mean note F1, mean note
precision, pooled recall of repeated / short / other, and the spread of the level factor.

    python runs/s32/level/study.py BENCH,BENCH,... GAMMA,GAMMA,... [ONSET,ONSET,...]
"""
import sys

import numpy as np
from scoring import CHECKPOINT, posteriorgrams, score_line

import mitkit.note_creation as nc
import mitkit.onset_level as ol

GAMMAS = [float(g) for g in sys.argv[2].split(",")]
ONSETS = [float(o) for o in sys.argv[3].split(",")] if len(sys.argv) > 3 else [None]
th = dict(CHECKPOINT["thresholds"])
data = posteriorgrams(sys.argv[1].split(","))
for b, (mixes, posts) in data.items():
    f = [level / th["onset_reference"] for p in posts if (level := ol.onset_level(p.onsets)) is not None]
    print(f"{b}: {len(mixes)} mixes, level factor median {np.median(f):.3f} range {min(f):.3f}-{max(f):.3f}", flush=True)

real = ol.scale_to_onset_level


def steeper(gamma):
    """scale_to_onset_level with its factor level / reference raised to ``gamma``: the same function, given the
    reference that makes level / reference' = (level / reference) ** gamma."""
    def scale(settings, Y_O):
        level, reference = ol.onset_level(Y_O), settings.get("onset_reference")
        if level is not None and reference is not None:
            settings = {**settings, "onset_reference": level ** (1 - gamma) * reference ** gamma}
        return real(settings, Y_O)
    return scale


for onset in ONSETS:
    t = dict(th) if onset is None else {**th, "onset_threshold": onset}
    for gamma in GAMMAS:
        nc.scale_to_onset_level = steeper(gamma)
        lines = [score_line(b, mixes, posts, lambda p: nc.create_notes(p.frames, p.onsets, **t))
                 for b, (mixes, posts) in data.items()]
        print(f"== onset {t['onset_threshold']} gamma {gamma}\n  " + "\n  ".join(lines), flush=True)
nc.scale_to_onset_level = real
