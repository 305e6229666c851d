"""Scratch check: does step 6 hold up on degraded audio? Each validation mix heard through a random room
(mitkit.synth.rooms, one source) and a recording chain with noise at 15-30 dB SNR (augment_mixture, noise always);
notes made at the thresholds shipped before this session and at today's, scored as `mitkit tune` scores.
Arguments: benchmarks (comma-separated), mixes of each, and what to apply: room, chain, both (default) or clean
(nothing: the same mixes as they are, the counterpart of the others)."""
import sys
import warnings

import numpy as np

from mitkit.audio import load_audio
from mitkit.checkpoint import load_checkpoint, model_from_checkpoint
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.inference import predict
from mitkit.note_creation import create_notes
from mitkit.synth.augment import augment_mixture
from mitkit.synth.rooms import apply_acoustics, random_acoustics

sys.path.insert(0, "runs/s32/level")
from scoring import score_line  # noqa: E402

warnings.simplefilter("ignore")
MODE = sys.argv[3] if len(sys.argv) > 3 else "both"
ckpt = load_checkpoint()
model = model_from_checkpoint(ckpt).eval()
now = dict(ckpt["thresholds"])
before = {k: v for k, v in now.items() if k not in ("claim_neighbours", "weak_frame_ratio", "strong_onset_ratio")}
for name in sys.argv[1].split(","):
    mixes = load_benchmark(f"data/{name}")[:int(sys.argv[2])]
    posts = []
    for i, mix in enumerate(mixes):
        rng = np.random.default_rng(1000 + i)
        y = load_audio(mix.audio)
        if MODE == "clean":
            posts.append(predict(model, y))
            continue
        room = random_acoustics(1, rng)
        if MODE in ("room", "both"):
            y = apply_acoustics(y[None], room)[0]
        if MODE in ("chain", "both"):
            y = augment_mixture(y, rng, noise_prob=1.0, snr_db=(15.0, 30.0))
        posts.append(predict(model, y / max(1e-6, float(np.abs(y).max()))))
    for label, th in (("before", before), ("now", now)):
        print(label, score_line(name, mixes, posts, lambda p: create_notes(p.frames, p.onsets, **th)), flush=True)
