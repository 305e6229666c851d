"""Scratch (issue 13): the per-K voice-leading features of count_lines.py (cached in count_lines.npz), shaped:
which K moves the fewest notes, and by how much, added to the learned count's evidence."""
import sys
import warnings

import numpy as np

sys.path.insert(0, "runs/s34")
sys.argv = [sys.argv[0], "runs/s34/refit.pt"]
warnings.simplefilter("ignore")
import count_models as cm  # noqa: E402

z = np.load("runs/s36/count_lines.npz")
Atr, Ava = z["Atr"], z["Ava"]


def shaped(A):
    moved = A[:, 0::3]
    best = moved.argmin(1)
    srt = np.sort(moved, 1)
    return np.column_stack([A, np.eye(3)[best], srt[:, 1] - srt[:, 0], moved.min(1),
                            np.log((moved + 0.01) / (moved.min(1, keepdims=True) + 0.01))])


for label, f in (("moved only", lambda A: A[:, 0::3]), ("shaped", shaped)):
    cm.report_beside(f"LR + {label}", f(Atr), f(Ava))
moved = Ava[:, 0::3]
rule = moved.argmin(1) + 2
for t in (1, 2, 3, 4):
    sel = cm.yva == t
    print(f"true {t}: argmin-moved K counts", np.bincount(rule[sel], minlength=5)[2:])
