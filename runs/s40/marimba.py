"""Scratch (issue 13, session 40): why the network misses a marimba's notes. For each reference note of the
chord-playing part of chosen count mixes: the highest onset posterior within 3 frames of its onset, frames the
frame posterior stays >= 0.5 from there, and whether a found note matches it (the count cache's notes)."""
import sys
import warnings

import numpy as np

import mitkit
from mitkit.constants import FRAME_RATE, MIDI_MIN
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.notes import notes_to_seconds

for arg in sys.argv[1:]:
    folder, mid = arg.split(":")
    mix = next(m for m in load_benchmark(folder) if m.id == mid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = mitkit.transcribe(mix.audio, instruments=2, keep_embeddings=False)
    YF, YO = t.posteriorgrams.frames, t.posteriorgrams.onsets
    found = notes_to_seconds(t.frame_notes)
    for name, part in zip(mix.part_names, mix.parts):
        rows = []
        for on, off, pitch, *_ in part:
            b, f = int(pitch) - MIDI_MIN, int(round(on * FRAME_RATE))
            if not 0 <= b < YF.shape[0]:
                continue
            o = float(YO[b, max(f - 3, 0):f + 4].max())
            run = 0
            while f + run < YF.shape[1] and YF[b, f + run] >= 0.5:
                run += 1
            hit = bool(np.any((found[:, 2] == pitch) & (np.abs(found[:, 0] - on) < 0.05)))
            rows.append((o, run, hit, off - on, pitch))
        r = np.array(rows)
        miss = r[r[:, 2] == 0]
        print(f"{mid} {name:22s} found {r[:, 2].mean():.2f} of {len(r)}; onset peak median hit/miss "
              f"{np.median(r[r[:, 2] == 1, 0]) if r[:, 2].any() else 0:.2f}/{np.median(miss[:, 0]) if len(miss) else 0:.2f}; "
              f"frames >= 0.5 median hit/miss {np.median(r[r[:, 2] == 1, 1]) if r[:, 2].any() else 0:.0f}/"
              f"{np.median(miss[:, 1]) if len(miss) else 0:.0f}; missed with onset < 0.5: {np.mean(miss[:, 0] < 0.5) if len(miss) else 0:.2f}, "
              f"frames < 4: {np.mean(miss[:, 1] < 4) if len(miss) else 0:.2f}; pitch range {r[:, 4].min():.0f}-{r[:, 4].max():.0f}")
