"""The clean counterpart of runs/s33/degraded.py: the same first N mixes, no room, no chain."""
import sys
import warnings

from mitkit.audio import load_audio
from mitkit.checkpoint import load_checkpoint, model_from_checkpoint
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.inference import predict
from mitkit.note_creation import create_notes

sys.path.insert(0, "runs/s32/level")
from scoring import score_line  # noqa: E402

warnings.simplefilter("ignore")
ckpt = load_checkpoint()
model = model_from_checkpoint(ckpt).eval()
now = dict(ckpt["thresholds"])
before = {k: v for k, v in now.items() if k not in ("claim_neighbours", "weak_frame_ratio", "strong_onset_ratio")}
for name in sys.argv[1].split(","):
    mixes = load_benchmark(f"data/{name}")[:int(sys.argv[2])]
    posts = [predict(model, load_audio(mix.audio)) for mix in mixes]
    for label, th in (("before", before), ("now", now)):
        print(label, score_line(name, mixes, posts, lambda p: create_notes(p.frames, p.onsets, **th)), flush=True)
