"""Scratch: would a non-linear polyphony classifier read chord-playing notes better than the shipped linear one?
Balanced accuracy on the validation count benchmarks' matched notes, fitted on the training count mixes' notes
(the caches of runs/s34/count-cache, as scripts/fit_polyphony.py)."""
import sys
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import PolynomialFeatures

sys.path.insert(0, "scripts")
import fit_polyphony as fp  # noqa: E402
from count_study import transcribe_all  # noqa: E402
from mitkit.evaluation.benchmarks import load_benchmark  # noqa: E402

warnings.simplefilter("ignore")


def notes_of(names):
    data = [d for n in names for d in transcribe_all(load_benchmark(f"data/{n}"), "runs/s34/refit.pt",
                                                     __import__("pathlib").Path(f"runs/s34/count-cache/{n}.npz"))]
    return fp.labelled_notes(data)


X, y = notes_of(["count-train", "count-train2", "count-train3"])
vals = {n: notes_of([n]) for n in ["count-val", "count-val-OPL3_FM", "count-val-csound_GM"]}
print(f"train notes {len(y)}, chord-playing {y.mean():.0%}")
rng = np.random.default_rng(0)
sub = rng.choice(len(y), min(len(y), 60000), replace=False)
models = {
    "linear (shipped recipe)": fp.fit_classifier(X, y),
    "quadratic LR C=1": (PolynomialFeatures(2, include_bias=False), LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000)),
    "quadratic LR C=0.1": (PolynomialFeatures(2, include_bias=False), LogisticRegression(C=0.1, class_weight="balanced", max_iter=3000)),
}
for name, m in models.items():
    if isinstance(m, tuple):
        poly, lr = m
        lr.fit(poly.fit_transform(X), y)
        predict = lambda Z, poly=poly, lr=lr: lr.predict(poly.transform(Z))  # noqa: E731
    else:
        predict = m.predict
    row = []
    for vn, (Xv, yv) in vals.items():
        pred = predict(Xv)
        row.append(f"{vn} {np.mean([np.mean(pred[yv == c] == c) for c in (0, 1)]):.3f}")
    print(f"{name:26}", " | ".join(row), flush=True)
mlp = MLPClassifier(hidden_layer_sizes=(32,), alpha=1e-3, max_iter=200, random_state=0, early_stopping=True)
w = np.where(y[sub] == 1, 0.5 / y[sub].mean(), 0.5 / (1 - y[sub].mean()))
mlp.fit(X[sub], y[sub])
row = []
for vn, (Xv, yv) in vals.items():
    p = mlp.predict_proba(Xv)[:, 1]
    pred = (p >= y[sub].mean()).astype(int)  # prior-corrected threshold, as class balancing would
    row.append(f"{vn} {np.mean([np.mean(pred[yv == c] == c) for c in (0, 1)]):.3f}")
print(f"{'MLP 32 (prior threshold)':26}", " | ".join(row))
