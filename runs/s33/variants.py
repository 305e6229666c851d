"""Scratch check: the shipped model's notes at its thresholds with extra settings (each argument after the first:
NAME=JSON of create_notes keyword arguments), scored as `mitkit tune` scores."""
import json
import sys

sys.path.insert(0, "runs/s32/level")
from scoring import CHECKPOINT, posteriorgrams, score_line  # noqa: E402

import mitkit.note_creation as nc  # noqa: E402

th = dict(CHECKPOINT["thresholds"])
data = posteriorgrams(sys.argv[1].split(","))
print("posteriorgrams done", flush=True)
for arg in sys.argv[2:]:
    name, extra = arg.split("=", 1)
    settings = {**th, **json.loads(extra)}
    lines = [score_line(b, mixes, posts, lambda p: nc.create_notes(p.frames, p.onsets, **settings))
             for b, (mixes, posts) in data.items()]
    print(f"== {name} {settings}\n  " + "\n  ".join(lines), flush=True)
