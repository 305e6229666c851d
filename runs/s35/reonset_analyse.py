"""Scratch: how well single features and a logistic regression tell true re-onset peaks from false ones."""
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

d = np.load(sys.argv[1])
X, y, g, benches, names = d["X"], d["y"], d["group"], d["benches"], list(d["names"])
print("AUC per feature, per benchmark")
print("feature".ljust(20), " ".join(b.split("/")[-1][:14].rjust(14) for b in benches))
for j, n in enumerate(names):
    print(n.ljust(20), " ".join(f"{roc_auc_score(y[g == i], X[g == i, j]) if y[g == i].any() else float('nan'):14.3f}"
                                  for i in range(len(benches))))


def fit(Xt, yt):
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)).fit(Xt, yt)


print("\nleave one benchmark out: AUC, and at p>=0.5/0.7/0.9 how many true / false splits")
for i, b in enumerate(benches):
    m = fit(X[g != i], y[g != i])
    p = m.predict_proba(X[g == i])[:, 1]
    yy = y[g == i]
    row = [f"{b.split('/')[-1][:24]:24s} AUC {roc_auc_score(yy, p):.3f}"]
    for t in (0.5, 0.7, 0.9, 0.95):
        row.append(f"{t}: {int((yy & (p >= t)).sum())}/{int((~yy & (p >= t)).sum())}")
    print("  ".join(row), f"(true {int(yy.sum())})")
m = fit(X, y)
print("\ncoefficients (all):", dict(zip(names, np.round(m[-1].coef_[0], 2))))
