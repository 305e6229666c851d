"""Scratch (issue 13, session 40): models on the cached evidence (runs/s40/models.py), validation counted right."""
import warnings

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")
d = np.load("runs/s40/evidence.npz")
Xtr, ytr, Xv, yv, src, tex = d["Xtr"], d["ytr"], d["Xv"], d["yv"], d["src"], d["tex"]
n_base = Xtr.shape[1] - 5
poly = np.array([t.startswith("poly") for t in tex])


def report(name, pred):
    right = pred == yv
    per = " ".join(f"{s[10:] or s}:{right[src == s].sum()}" for s in dict.fromkeys(src))
    print(f"{name:40s} {right.sum():3d}/{len(yv)}  mono {right[~poly].mean():.3f} poly {right[poly].mean():.3f}  {per}")
    return right


report("shipped", d["shipped"])
for cols_name, cols in [("base", slice(0, n_base)), ("base+together", slice(None))]:
    A, B = Xtr[:, cols], Xv[:, cols]
    for C in (0.01, 0.03, 0.1):
        m = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000)).fit(A, ytr)
        report(f"{cols_name} LR C={C}", m.predict(B))
    for depth in (2, 3):
        m = HistGradientBoostingClassifier(max_depth=depth, learning_rate=0.05, max_iter=200, l2_regularization=1.0,
                                           random_state=0).fit(A, ytr)
        report(f"{cols_name} HGB depth {depth}", m.predict(B))
    m = RandomForestClassifier(500, min_samples_leaf=5, random_state=0, n_jobs=2).fit(A, ytr)
    report(f"{cols_name} RF leaf 5", m.predict(B))
    for alpha in (1.0, 10.0):
        m = make_pipeline(StandardScaler(), MLPClassifier((16,), alpha=alpha, max_iter=3000, random_state=0)).fit(A, ytr)
        report(f"{cols_name} MLP16 alpha {alpha}", m.predict(B))
