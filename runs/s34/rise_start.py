"""Scratch study: start each note where its onset peak began to rise, not at the peak. In reverberant audio the
network's onset posterior peaks late (runs/s34/late_study.log). For each note made at the bundled thresholds,
walk back from its start along the onset posterior at its pitch while it keeps falling (backwards) and stays at
least R times the start's value, at most LOOKBACK frames and never into an earlier note of its pitch; the
note starts there. Note F1, precision and the recall of each kind, per benchmark, for each R."""
import sys
import warnings

import numpy as np

from mitkit.checkpoint import load_model, thresholds_of
from mitkit.constants import MIDI_MIN
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.evaluation.metrics import _note_prf, recall_by_kind
from mitkit.note_creation import create_notes
from mitkit.notes import merge_tracks, notes_to_seconds
from mitkit.training.tuning import mix_posteriorgrams

warnings.simplefilter("ignore")
LOOKBACK = 12


def rise_start(notes, Y_O, ratio):
    notes = notes.copy()
    order = np.lexsort((notes["start"], notes["pitch"]))
    prev_end = {}
    for i in order:
        p, t = int(notes["pitch"][i]), int(notes["start"][i])
        row = Y_O[p - MIDI_MIN]
        floor = ratio * row[t]
        limit = max(prev_end.get(p, 0), t - LOOKBACK)
        s = t
        while s - 1 >= limit and row[s - 1] <= row[s] and row[s - 1] >= floor:
            s -= 1
        notes["start"][i] = s
        prev_end[p] = int(notes["end"][i])
    return notes


model, ckpt = load_model(None)
th = thresholds_of(ckpt)
ratios = [None, 0.7, 0.5, 0.3]
for folder in sys.argv[1:]:
    mixes = load_benchmark(folder)
    posts = mix_posteriorgrams(model, mixes)
    base = [create_notes(p.frames, p.onsets, **th) for p in posts]
    for r in ratios:
        f1, prec, found = [], [], {}
        for mix, p, notes in zip(mixes, posts, base):
            est = notes_to_seconds(notes if r is None else rise_start(notes, p.onsets, r))
            pr, _, f = _note_prf(merge_tracks(mix.parts), est, onset_tolerance=0.05, pitch_tolerance=50.0,
                                 offset_ratio=None)
            f1.append(f), prec.append(pr)
            for kind, (hit, n) in recall_by_kind(mix.parts, est).items():
                a = found.setdefault(kind, [0, 0])
                a[0] += hit
                a[1] += n
        kinds = " ".join(f"{k} {h / n:.3f}" for k, (h, n) in found.items() if n)
        print(f"{folder:28} R {str(r):5} note F1 {np.mean(f1):.4f} P {np.mean(prec):.4f} recall {kinds}", flush=True)
