"""Does "the notes that sound together share a timbre" add to the learned count? Timbre similarity of notes
sounding at once (and starting together) against that of all note pairs, as extra evidence beside
COUNT_FEATURES, on runs/s34/count-evidence.npz's mixes (same order as count_models.py)."""
import sys
import warnings

import numpy as np

sys.path.insert(0, "runs/s34")
sys.argv = [sys.argv[0], sys.argv[1]]
warnings.simplefilter("ignore")
import count_models as cm  # noqa: E402  (prints its table once; loads the cached evidence)
from mitkit.clustering import core_notes  # noqa: E402

MAX = 600


def at_once_features(notes, E):
    if len(notes) < 3:
        return [0.0, 0.0, 0.0, 0.0]
    keep = np.flatnonzero(core_notes(notes["amplitude"]))
    if keep.size > MAX:
        keep = np.random.default_rng(0).choice(keep, MAX, replace=False)
    n, e = notes[keep], E[keep]
    S = e @ e.T
    overlap = (n["start"][:, None] < n["end"][None, :]) & (n["start"][None, :] < n["end"][:, None])
    together = np.abs(n["start"][:, None] - n["start"][None, :]) <= 1
    off = ~np.eye(len(n), dtype=bool)
    pitch_far = n["pitch"][:, None] != n["pitch"][None, :]
    every = S[off].mean()
    o = S[overlap & off & pitch_far]
    t = S[together & off & pitch_far]
    o_mean = o.mean() if o.size else every
    t_mean = t.mean() if t.size else every
    return [o_mean - every, t_mean - every, o_mean, every]


Atr, Ava = (cm.per_mix(at_once_features, folders, 4) for folders in (cm.TRAIN, cm.CHECK))
assert len(Atr) == len(cm.Xtr) and len(Ava) == len(cm.Xva)
for name, a in (("at once - all", 0), ("together - all", 1)):
    for k in (1, 2, 3, 4):
        print(f"{name:16} K={k}: train {Atr[cm.ytr == k, a].mean():+.3f}  val {Ava[cm.yva == k, a].mean():+.3f}")
cm.report_beside("LR + timbre at once", Atr, Ava)
