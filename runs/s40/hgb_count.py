"""Scratch (issue 13, session 40): the learned count with a nonlinear chord-playing classifier. Boosted trees
(depth 4, 200 rounds, class-balanced) on each note's embedding and its company (runs/s40/note_context.py,
--features 0 1 2 3), cross-fitted and refitted as scripts/fit_polyphony.py does; MODEL=mlp: a 32-unit MLP."""
import os
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

sys.path.insert(0, "runs/s40")
import note_context as nc  # noqa: E402

cws = nc.cws
MODEL = os.environ.get("MODEL", "hgb")


def fit_classifier(X, y):
    if MODEL == "mlp":
        idx = np.concatenate([np.flatnonzero(y == c) for c in (0, 1)])  # balance by resampling the minority
        n = max(np.sum(y == 0), np.sum(y == 1))
        rng = np.random.default_rng(0)
        idx = np.concatenate([rng.choice(np.flatnonzero(y == c), n, replace=True) for c in (0, 1)])
        return make_pipeline(StandardScaler(), MLPClassifier((32,), alpha=1e-3, max_iter=200, early_stopping=True,
                                                             random_state=0)).fit(X[idx], y[idx])
    return HistGradientBoostingClassifier(max_depth=4, max_iter=200, random_state=0).fit(
        X, y, sample_weight=compute_sample_weight("balanced", y))


def as_dict(clf, **extra):
    return {"model": clf, "coef": [0.0], "intercept": 0.0, **extra}


def polyphonic_probability(E, classifier):
    X = np.hstack([E, cws.feats_of(E)]) if cws.COLS else np.asarray(E, np.float64)
    p = classifier["model"].predict_proba(X)[:, 1]
    cws.LAST_P[:] = [p]
    return p


if __name__ == "__main__":
    cws.data_of = nc.data_of
    cws.fit_classifier = fit_classifier
    cws.polyphonic_probability = polyphonic_probability
    cws.fp.as_dict = as_dict
    cws.main()
