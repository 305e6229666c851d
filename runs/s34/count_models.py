"""Other learned counts against the shipped recipe (a logistic regression over COUNT_FEATURES), on the same
cross-fitted training evidence and the same validation mixes as scripts/fit_polyphony.py.

    python runs/s34/count_models.py runs/s34/refit.pt   # after fit_polyphony.py filled runs/s34/count-cache
"""
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, "scripts")
import fit_polyphony as fp  # noqa: E402
from count_study import transcribe_all  # noqa: E402
from mitkit.checkpoint import load_checkpoint  # noqa: E402
from mitkit.count_model import COUNT_FEATURES  # noqa: E402
from mitkit.evaluation.benchmarks import load_benchmark  # noqa: E402
from mitkit.instrument_count import count_instruments  # noqa: E402

warnings.simplefilter("ignore")
CKPT = sys.argv[1]
CACHE = Path("runs/s34/count-cache")
TRAIN = ["count-train", "count-train2", "count-train3", "chorale-train-a", "chorale-train-b", "chorale-train-c"]
CHECK = ["count-val", "chorale-val", "count-val-OPL3_FM", "count-val-csound_GM"]
store = Path("runs/s34/count-evidence.npz")


def data_of(name):
    return transcribe_all(load_benchmark(f"data/{name}"), CKPT, CACHE / f"{name}.npz")


def per_mix(features, folders, width):
    """``features(notes, E)`` of every mix of ``folders``, in the order of the evidence below: training mixes
    without notes are left out (as the training evidence leaves them), a validation mix without notes gets zeros."""
    rows = []
    for name in folders:
        for mix, notes, E in data_of(name):
            if len(notes):
                rows.append(features(notes, E))
            elif folders is not TRAIN:
                rows.append([0.0] * width)
    return np.array(rows)


def report_beside(label, Atr, Ava, Cs=(0.01, 0.03, 0.1, 0.3)):
    """The shipped recipe (a logistic regression per C) with mix-level numbers ``Atr`` / ``Ava`` (training /
    validation rows, as :func:`per_mix` gives them) beside the evidence, standardised on the training mixes."""
    m, s = Atr.mean(0), Atr.std(0) + 1e-9
    train, check = np.column_stack([Ztr, (Atr - m) / s]), np.column_stack([Zva, (Ava - m) / s])
    for C in Cs:
        report(f"{label} C={C}", LogisticRegression(C=C, max_iter=5000).fit(train, ytr).predict(check))


def matrix(evidence):
    return np.array([[e[n] for n in COUNT_FEATURES] for e in evidence])


if store.exists():
    z = np.load(store)
    Xtr, ytr, gtr, Xva, yva, gva, bva = (z[k] for k in ("Xtr", "ytr", "gtr", "Xva", "yva", "gva", "bva"))
else:
    train = [d for name in TRAIN for d in data_of(name) if len(d[1])]
    Xtr = matrix(fp.cross_fitted_evidence(train, 5))
    ytr = np.array([len(m.parts) for m, _, _ in train])
    gtr = np.array([fp.group_of(m) == "polyphonic" for m, _, _ in train])
    classifier = load_checkpoint(CKPT)["polyphony_classifier"]
    rows, yva, gva, bva = [], [], [], []
    for i, name in enumerate(CHECK):
        for mix, notes, E in data_of(name):
            rows.append(count_instruments(notes, E, classifier).evidence if len(notes) else None)
            yva.append(len(mix.parts)), gva.append(fp.group_of(mix) == "polyphonic"), bva.append(i)
    empty = {n: 0.0 for n in COUNT_FEATURES}
    Xva = matrix([r or empty for r in rows])
    yva, gva, bva = map(np.array, (yva, gva, bva))
    np.savez(store, Xtr=Xtr, ytr=ytr, gtr=gtr, Xva=Xva, yva=yva, gva=gva, bva=bva)

mean, scale = Xtr.mean(0), Xtr.std(0)
scale[scale == 0] = 1
Ztr, Zva = (Xtr - mean) / scale, (Xva - mean) / scale
F = list(COUNT_FEATURES)


def report(name, pred):
    right = pred == yva
    per = " ".join(f"{CHECK[i][10:] or CHECK[i]:>10} {right[bva == i].sum():3d}/{(bva == i).sum()}" for i in range(4))
    far = np.mean(np.abs(pred - yva) > 1)
    print(f"{name:44} {right.sum():3d}/{len(yva)}  mono {right[~gva].mean():.1%} poly {right[gva].mean():.1%} "
          f"far {far:.1%} | {per}")


for C in (0.01, 0.03, 0.1, 0.3, 1.0):
    report(f"LR C={C}", LogisticRegression(C=C, max_iter=5000).fit(Ztr, ytr).predict(Zva))
for C in (0.03, 0.1):
    report(f"LR balanced C={C}", LogisticRegression(C=C, max_iter=5000, class_weight="balanced").fit(Ztr, ytr).predict(Zva))


def onehot_voices(Z, X):
    v = X[:, F.index("voices")]
    li = X[:, F.index("lines")]
    cp = X[:, F.index("chord_probability")]
    extra = [v == k for k in (1, 2, 3, 4)] + [(v == k) * cp for k in (1, 2, 3, 4)] + [li == k for k in (0, 1, 2, 3, 4)]
    return np.column_stack([Z] + [np.asarray(e, float) for e in extra])


for C in (0.03, 0.1, 0.3):
    report(f"LR + voices one-hot x chord C={C}",
           LogisticRegression(C=C, max_iter=5000).fit(onehot_voices(Ztr, Xtr), ytr).predict(onehot_voices(Zva, Xva)))
for depth in (2, 3):
    for lr in (0.05, 0.1):
        m = HistGradientBoostingClassifier(max_depth=depth, learning_rate=lr, max_iter=200, l2_regularization=1.0,
                                           random_state=0).fit(Xtr, ytr)
        report(f"HGB depth {depth} lr {lr}", m.predict(Xva))
for leaf in (5, 20):
    m = RandomForestClassifier(n_estimators=300, min_samples_leaf=leaf, random_state=0, n_jobs=1).fit(Xtr, ytr)
    report(f"RF leaf {leaf}", m.predict(Xva))


def rules_k(X):
    """The rules' reading's K (mitkit.instrument_count: lines / chords and lines / chords)."""
    cp, v, li = (X[:, F.index(n)] for n in ("chord_probability", "voices", "lines"))
    return np.where(cp >= 0.7, 1, np.where(cp >= 0.6, np.clip(li + 1, 2, 4), v)).astype(int)


for C in (0.03, 0.1):
    m = LogisticRegression(C=C, max_iter=5000).fit(Ztr, ytr)
    P = m.predict_proba(Zva)
    rk = rules_k(Xva)
    for width in (1, 2):
        allowed = np.abs(m.classes_[None, :] - rk[:, None]) <= width
        allowed |= (m.classes_[None, :] == 1)  # one chord-playing instrument may always play everything
        report(f"LR C={C} within {width} of the rules (or 1)", m.classes_[np.argmax(np.where(allowed, P, -1), 1)])
    report("rules alone", rk)
