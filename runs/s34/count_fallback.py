"""Scratch: where the learned count is unsure (its most likely K below TAU), does the rules' reading do better?
On runs/s34/count-evidence.npz (cross-fitted training evidence, validation evidence)."""
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.argv = sys.argv[:1] + ["runs/s34/refit.pt"]
sys.path.insert(0, "runs/s34")
import count_models as cm  # noqa: E402  (prints its table first)

m = LogisticRegression(C=0.03, max_iter=5000).fit(cm.Ztr, cm.ytr)
P = m.predict_proba(cm.Zva)
learned = m.classes_[P.argmax(1)]
rules = cm.rules_k(cm.Xva)
for tau in (0.0, 0.35, 0.4, 0.45, 0.5, 0.6):
    unsure = P.max(1) < tau
    cm.report(f"fallback to the rules below {tau} ({unsure.sum()} mixes)", np.where(unsure, rules, learned))
