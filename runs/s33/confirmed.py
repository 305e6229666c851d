"""Scratch check: the library's step 6 (create_notes(weak_frame_ratio=h, strong_onset_ratio=s)) on the shipped
model at its thresholds, scored as `mitkit tune` scores; reproduces runs/s32/level/hysteresis.py's study."""
import sys

sys.path.insert(0, "runs/s32/level")
from scoring import CHECKPOINT, posteriorgrams, score_line  # noqa: E402

import mitkit.note_creation as nc  # noqa: E402

GRID = [tuple(float(x) for x in g.split(":")) for g in sys.argv[2].split(",")]  # h:s pairs; h 1 = off
th = dict(CHECKPOINT["thresholds"])
data = posteriorgrams(sys.argv[1].split(","))
print("posteriorgrams done", flush=True)
for h, s in GRID:
    extra = {} if h >= 1 else {"weak_frame_ratio": h, "strong_onset_ratio": s}
    lines = [score_line(b, mixes, posts, lambda p: nc.create_notes(p.frames, p.onsets, **th, **extra))
             for b, (mixes, posts) in data.items()]
    print(f"== h {h} s {s}\n  " + "\n  ".join(lines), flush=True)
