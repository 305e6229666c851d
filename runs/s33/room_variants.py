"""Scratch diagnosis: which note-creation setting the false notes of reverberant audio answer to. Mixes through a
random room (as runs/s33/degraded.py, room only); notes at the bundled thresholds with each NAME=JSON change."""
import json
import sys
import warnings

import numpy as np

from mitkit.audio import load_audio
from mitkit.checkpoint import load_checkpoint, model_from_checkpoint
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.inference import predict
from mitkit.note_creation import create_notes
from mitkit.synth.rooms import apply_acoustics, random_acoustics

sys.path.insert(0, "runs/s32/level")
from scoring import score_line  # noqa: E402

warnings.simplefilter("ignore")
ckpt = load_checkpoint()
model = model_from_checkpoint(ckpt).eval()
th = dict(ckpt["thresholds"])
data = {}
for name in sys.argv[1].split(","):
    mixes = load_benchmark(f"data/{name}")[:int(sys.argv[2])]
    posts = []
    for i, mix in enumerate(mixes):
        rng = np.random.default_rng(1000 + i)
        y = apply_acoustics(load_audio(mix.audio)[None], random_acoustics(1, rng))[0]
        posts.append(predict(model, y / max(1e-6, float(np.abs(y).max()))))
    data[name] = (mixes, posts)
for arg in ["bundled={}", *sys.argv[3:]]:
    label, extra = arg.split("=", 1)
    settings = {**th, **json.loads(extra)}
    for name, (mixes, posts) in data.items():
        print(f"{label:14s}", score_line(name, mixes, posts, lambda p: create_notes(p.frames, p.onsets, **settings)),
              flush=True)
