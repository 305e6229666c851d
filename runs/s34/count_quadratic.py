"""Scratch: the learned count with a quadratic polyphony classifier (logistic regression on the embedding's
products of pairs, runs/s34/poly_classifier.log: +0.02 balanced accuracy on validation notes) in place of the
linear one, everything else as scripts/fit_polyphony.py does it. Prints the count's validation table as
runs/s34/count_models.py does."""
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import PolynomialFeatures

sys.path.insert(0, "scripts")
import fit_polyphony as fp  # noqa: E402
import mitkit.instrument_count as ic  # noqa: E402
from count_study import transcribe_all  # noqa: E402
from mitkit.count_model import COUNT_FEATURES  # noqa: E402
from mitkit.evaluation.benchmarks import load_benchmark  # noqa: E402

warnings.simplefilter("ignore")
C_CLF = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
POLY = PolynomialFeatures(2, include_bias=False)
linear_probability = ic.polyphonic_probability


def quadratic_probability(E, classifier):
    if classifier.get("degree") != 2:
        return linear_probability(E, classifier)
    Z = POLY.fit_transform(np.asarray(E, np.float64))
    return 1.0 / (1.0 + np.exp(-(Z @ np.asarray(classifier["coef"]) + classifier["intercept"])))


ic.polyphonic_probability = quadratic_probability


class Quadratic:
    def fit(self, X, y):
        self.lr = LogisticRegression(C=C_CLF, class_weight="balanced", max_iter=3000).fit(POLY.fit_transform(X), y)
        self.coef_, self.intercept_ = self.lr.coef_, self.lr.intercept_
        return self

    def predict(self, X):
        return self.lr.predict(POLY.fit_transform(X))


fp.fit_classifier = lambda X, y: Quadratic().fit(X, y)
as_dict = fp.as_dict
fp.as_dict = lambda clf, **extra: {**as_dict(clf, **extra), "degree": 2}

CACHE = Path("runs/s34/count-cache")
TRAIN = ["count-train", "count-train2", "count-train3", "chorale-train-a", "chorale-train-b", "chorale-train-c"]
CHECK = ["count-val", "chorale-val", "count-val-OPL3_FM", "count-val-csound_GM"]


def data_of(name):
    return transcribe_all(load_benchmark(f"data/{name}"), "runs/s34/refit.pt", CACHE / f"{name}.npz")


train = [d for n in TRAIN for d in data_of(n) if len(d[1])]
X, y = fp.labelled_notes(train)
classifier = fp.as_dict(fp.fit_classifier(X, y))
evidence = fp.cross_fitted_evidence(train, 5)
checks = {n: data_of(n) for n in CHECK}
for C in (0.01, 0.03, 0.1, 0.3):
    classifier["count"] = fp.fit_count_model(train, evidence, C)
    right = sum(fp.report_count(n, d, classifier) for n, d in checks.items())
    print(f"== classifier C {C_CLF}, count C {C}: {right} of {sum(map(len, checks.values()))} right", flush=True)
