"""Scratch (issue 13, session 40): the marimba's lost notes and the note-length rule. Per chosen count mix and
setting: each part's share of notes found (onset within 50 ms at its pitch) and the share of found notes that
match any reference note (precision by the same rule)."""
import json
import os
import sys
import warnings

import numpy as np

import mitkit
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.notes import notes_to_seconds

SETTINGS = [{}, {"min_note_frames": 3}, {"min_note_frames": 2}, {"frame_threshold": 0.4},
            {"min_note_frames": 2, "frame_threshold": 0.4}]
if os.environ.get("SETTINGS"):  # e.g. SETTINGS='[{}, {"onset_threshold": 0.5}]'
    SETTINGS = json.loads(os.environ["SETTINGS"])
for arg in sys.argv[1:]:
    folder, mid = arg.split(":")
    mix = next(m for m in load_benchmark(folder) if m.id == mid)
    for s in SETTINGS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = notes_to_seconds(mitkit.transcribe(mix.audio, instruments=2, keep_embeddings=False, **s).frame_notes)
        ref = np.concatenate(mix.parts)
        rec = [np.mean([np.any((found[:, 2] == p) & (np.abs(found[:, 0] - on) < 0.05)) for on, _, p, *_ in part])
               for part in mix.parts]
        prec = np.mean([np.any((ref[:, 2] == p) & (np.abs(ref[:, 0] - on) < 0.05)) for on, _, p, *_ in found])
        print(f"{folder[10:] or 'val'} {mid} {str(s):45s} found " + " ".join(f"{n}:{r:.2f}" for n, r in zip(mix.part_names, rec))
              + f"  precision {prec:.3f} ({len(found)} notes)", flush=True)
