"""Scratch (issue 13): the learned count refitted as scripts/fit_polyphony.py does, with the polyphony classifier
reading each note's sound features (runs/s39/decay_study.py: decay and steadiness) beside its embedding. The
per-note probability is patched into mitkit.instrument_count.polyphonic_probability; everything else (evidence,
cross-fitting, the count's C chosen on the pooled validation mixes) is fit_polyphony's.

    python runs/s39/count_with_sound.py [--features 0 1 2 3 4 5]   (none: the shipped recipe, as a baseline)
"""
import argparse
import sys
import types
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, "scripts")
sys.path.insert(0, "runs/s39")
import fit_polyphony as fp  # noqa: E402
from decay_study import decay_features  # noqa: E402

import mitkit.count_evidence as ce  # noqa: E402
import mitkit.count_model as cm  # noqa: E402
import mitkit.instrument_count as ic  # noqa: E402
from mitkit.audio import load_audio  # noqa: E402
from mitkit.evaluation.benchmarks import load_benchmark  # noqa: E402
from mitkit.frontend import log_cqt  # noqa: E402

FEATS: list = []  # (E, the mix's note sound features); count_instruments copies E, so found by value


def feats_of(E):
    E = np.asarray(E, np.float64)
    for E0, F in FEATS:
        if E0.shape == E.shape and np.allclose(E0, E, atol=1e-4):
            return F
    raise KeyError("no features for these embeddings")
COLS: list[int] = []


def data_of(folder, cache_dir, checkpoint=None):
    data = fp.transcribe_all(load_benchmark(folder), checkpoint, Path(cache_dir) / f"{Path(folder).name}.npz")
    if COLS:
        for mix, notes, E in data:
            S = log_cqt(load_audio(mix.audio))
            F = np.array([decay_features(S, n) for n in notes]).reshape(len(notes), -1)
            FEATS.append((np.asarray(E, np.float64), F[:, COLS] if len(notes) else np.zeros((0, len(COLS)))))
    return data


def labelled_notes(data):
    X, y = [], []
    for mix, notes, E in data:
        Xm, ym = ORIGINAL_LABELLED([(mix, notes, np.hstack([E, feats_of(E)]) if COLS else E)])
        if len(ym):
            X.append(Xm)
            y.append(ym)
    return (np.vstack(X), np.concatenate(y)) if y else (np.zeros((0, 1)), np.zeros(0))


def fit_classifier(X, y):
    sc = StandardScaler().fit(X)
    lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(sc.transform(X), y)
    coef = lr.coef_[0] / sc.scale_
    intercept = lr.intercept_[0] - float(np.sum(lr.coef_[0] * sc.mean_ / sc.scale_))
    return types.SimpleNamespace(coef_=coef[None], intercept_=np.array([intercept]),
                                 predict=lambda Z: (Z @ coef + intercept > 0).astype(int))


LAST_P = []


def polyphonic_probability(E, classifier):
    X = np.hstack([E, feats_of(E)]) if COLS and len(classifier["coef"]) > E.shape[1] else E
    z = np.asarray(X, np.float64) @ np.asarray(classifier["coef"], np.float64) + float(classifier["intercept"])
    LAST_P[:] = [1.0 / (1.0 + np.exp(-z))]
    return LAST_P[0]


GROUP_CHORD_FEATURES = tuple(f"groups_{k}_{w}_chord" for k in ce.GROUPINGS for w in ("busiest", "others"))


def grouping_overlaps(notes, E, core, *, temperature, max_points, random_state=0):
    """ce.grouping_overlaps, and per K the mean chord probability of the group that sounds two notes at once
    most (busiest) and the highest of the other groups' (a K that holds one chord-playing instrument and
    lines: busiest high, others low)."""
    out = {**ce.grouping_overlaps(notes, E, core, temperature=temperature, max_points=max_points,
                                  random_state=random_state), **dict.fromkeys(GROUP_CHORD_FEATURES, 0.0)}
    p = LAST_P[0]
    sample = np.asarray(core)
    if sample.size > max_points:
        sample = np.sort(np.random.default_rng(random_state).choice(sample, max_points, replace=False))
    if sample.size < 2 * ce.GROUPINGS[-1]:
        return out
    X = E[sample]
    _, U = ce.spectral_embedding(np.exp((ce.cosine_similarity(X) - 1.0) / temperature), ce.GROUPINGS[-1] + 2)
    n_frames = int(notes["end"].max())
    for k in ce.GROUPINGS:
        labels = ce.cluster_qr(U[:, :k])
        means = np.stack([X[labels == j].mean(axis=0) if np.any(labels == j) else np.zeros(E.shape[1])
                          for j in range(k)])
        group = (E @ means.T).argmax(axis=1)
        chords = np.array([ce.sounding_counts(notes[group == j], n_frames) >= 2 for j in range(k)])
        busiest = int(chords.sum(axis=1).argmax())
        chord_of = [float(p[group == j].mean()) if np.any(group == j) else 0.0 for j in range(k)]
        out[f"groups_{k}_busiest_chord"] = chord_of[busiest]
        out[f"groups_{k}_others_chord"] = max(c for j, c in enumerate(chord_of) if j != busiest)
    return out


ORIGINAL_LABELLED = fp.labelled_notes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", type=int, nargs="*", default=[])
    ap.add_argument("--cache-dir", default="runs/s39/count-cache")
    ap.add_argument("--checkpoint", default=None, help="the network whose notes and embeddings are read")
    ap.add_argument("--group-chords", action="store_true", help="the groups' chord probabilities as evidence")
    ap.add_argument("--count-c", type=float, nargs="+", default=[0.01, 0.03, 0.1, 0.3])
    ap.add_argument("--per-mix", default=None, help="save each validation mix's hit here (PREFIX_C<C>.npy)")
    a = ap.parse_args()
    if a.group_chords:
        cm.COUNT_FEATURES = fp.COUNT_FEATURES = (*cm.COUNT_FEATURES, *GROUP_CHORD_FEATURES)
        ic.grouping_overlaps = grouping_overlaps
    COLS.extend(a.features)
    fp.labelled_notes, fp.fit_classifier = labelled_notes, fit_classifier
    ic.polyphonic_probability = polyphonic_probability
    on = ["data/count-train", "data/count-train2", "data/count-train3", "data/chorale-train-a",
          "data/chorale-train-b", "data/chorale-train-c"]
    check = ["data/count-val", "data/chorale-val", "data/count-val-OPL3_FM", "data/count-val-csound_GM"]
    train = [d for f in on for d in data_of(f, a.cache_dir, a.checkpoint) if len(d[1])]
    X, y = labelled_notes(train)
    clf = fit_classifier(X, y)
    print(f"features {COLS}: fitted on {len(y)} notes, balanced accuracy {fp.balanced_accuracy(clf, X, y):.3f}")
    checks = {f: data_of(f, a.cache_dir, a.checkpoint) for f in check}
    for f, data in checks.items():
        Xc, yc = labelled_notes(data)
        if len(yc):
            print(f"{f}: {len(yc)} notes, balanced accuracy {fp.balanced_accuracy(clf, Xc, yc):.3f}")
    classifier = fp.as_dict(clf)
    evidence = fp.cross_fitted_evidence(train, 5)
    right = {}
    for C in a.count_c:
        classifier["count"] = fp.fit_count_model(train, evidence, C)
        right[C] = sum(fp.report_count(f, data, classifier) for f, data in checks.items())
        print(f"C = {C}: {right[C]} of {sum(map(len, checks.values()))} right", flush=True)
        if a.per_mix:  # each validation mix counted right or not, for a paired comparison of two variants
            hits = [int(len(notes) > 0 and ic.count_instruments(notes, E, classifier).k == len(mix.parts))
                    for data in checks.values() for mix, notes, E in data]
            np.save(f"{a.per_mix}_C{C}.npy", np.array(hits))


if __name__ == "__main__":
    main()
