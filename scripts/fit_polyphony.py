"""Fit the polyphony classifier and the learned count of ``instruments="auto"`` and store them in a checkpoint.

The classifier reads, from a note's timbre embedding, whether a chord-playing instrument (piano, guitar,
harp, organ, …: ``Instrument.polyphonic`` in :mod:`mitkit.synth.instruments`) played it. It is a logistic
regression on the 12-d unit embedding, fitted on the notes the network finds in train-split count
benchmarks; each found note takes the label of the reference part that holds a note of its pitch sounding
at its onset (notes matching no reference note are left out). Only mixes whose parts name their instruments
(count benchmarks) train it; the chorale benchmarks name voices, and train the count alone.

    mitkit count-bench --out data/count-train --split train --n-pieces 6 --seed 5 --lengths 10 30 --soundfont mixed
    mitkit chorale-bench --out data/chorale-train --split train --n-chorales 12 --seed 21
    python scripts/fit_polyphony.py --on data/count-train data/chorale-train --check-on data/count-val \\
        data/chorale-val [--count-c 0.01 0.03 0.1] [--checkpoint X.pt] [--write mitkit/weights/mitkit_base.pt]

The learned count (:mod:`mitkit.count_model`) is a multinomial logistic regression from the count's evidence
(:data:`~mitkit.count_model.COUNT_FEATURES`) to K, fitted on the same mixes. Its evidence includes the
classifier's probabilities, which are surer on the notes the classifier was fitted on than on new music; so
each mix's evidence comes from a classifier fitted without that mix's piece (cross-fitting, ``--folds``
groups of pieces), and the model learns how far to trust the classifier on music it did not see. Given several
``--count-c``, the strength that counts the most ``--check-on`` mixes right (all pooled; the smaller on a tie)
is kept.

Both belong to the network whose embeddings they read: refit them after retraining.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from mitkit.checkpoint import load_checkpoint, save_checkpoint
from mitkit.count_model import COUNT_FEATURES
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.instrument_count import count_instruments
from mitkit.notes import notes_to_seconds
from mitkit.synth.instruments import BY_NAME

sys.path.insert(0, str(Path(__file__).parent))
from count_study import group_of, transcribe_all  # noqa: E402  (the shared transcription cache)

ONSET_SLACK_S = 0.05  # a found onset may precede the reference onset by this much
COUNT_C = 0.03  # the learned count's regularisation, chosen on validation (model card, "The learned count")


def names_instruments(mix) -> bool:
    """Whether every part of ``mix`` names its instrument (count benchmarks; chorale benchmarks name voices)."""
    return all(name in BY_NAME for name in mix.part_names)


def labelled_notes(data):
    """Embeddings and labels (1: a chord-playing instrument) of the found notes that match a reference note,
    from the mixes whose parts name their instruments."""
    X, y = [], []
    for mix, notes, E in data:
        if not names_instruments(mix):
            continue
        table = notes_to_seconds(notes)
        flags = [BY_NAME[name].polyphonic for name in mix.part_names]
        for row, e in zip(table, E):
            onset, pitch = row[0], row[2]
            hits = {flags[k] for k, part in enumerate(mix.parts)
                    if np.any((part[:, 2] == pitch) & (part[:, 0] - ONSET_SLACK_S <= onset) & (onset < part[:, 1]))}
            if len(hits) == 1:
                X.append(e)
                y.append(int(hits.pop()))
    return np.array(X), np.array(y)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--on", nargs="+", required=True, metavar="BENCHMARK", help="train-split count benchmarks")
    ap.add_argument("--check-on", nargs="*", default=[], metavar="BENCHMARK", help="report accuracy here too")
    ap.add_argument("--checkpoint", default=None, help="the network whose embeddings are read (default: bundled)")
    ap.add_argument("--cache-dir", type=Path, default=Path("runs/count-cache"))
    ap.add_argument("--write", default=None, metavar="CHECKPOINT", help="store the classifier in this checkpoint")
    ap.add_argument("--count-c", type=float, nargs="+", default=[COUNT_C], metavar="C",
                    help=f"inverse regularisation strength of the learned count (default {COUNT_C}, chosen on "
                         "validation); several: keep the one that counts the most --check-on mixes right")
    ap.add_argument("--folds", type=int, default=5, help="groups of pieces for the cross-fitted evidence")
    args = ap.parse_args(argv)

    def data_of(folders):
        return [d for f in folders for d in transcribe_all(load_benchmark(f), args.checkpoint,
                                                           args.cache_dir / f"{Path(f).name}.npz")]

    train = [d for d in data_of(args.on) if len(d[1])]
    X, y = labelled_notes(train)
    clf = fit_classifier(X, y)
    print(f"fitted on {len(y)} notes ({y.mean():.0%} from chord-playing instruments): "
          f"balanced accuracy {balanced_accuracy(clf, X, y):.3f}")
    for folder in args.check_on:
        Xc, yc = labelled_notes(data_of([folder]))
        if len(yc):  # chorale benchmarks name voices, not instruments
            print(f"{folder}: {len(yc)} notes, balanced accuracy {balanced_accuracy(clf, Xc, yc):.3f}")
    classifier = as_dict(clf, fitted_on=[Path(f).name for f in args.on], notes=int(len(y)))
    evidence = cross_fitted_evidence(train, args.folds)
    checks = {folder: data_of([folder]) for folder in args.check_on}
    right = {}
    for C in args.count_c:
        classifier["count"] = fit_count_model(train, evidence, C)
        right[C] = sum(report_count(folder, data, classifier) for folder, data in checks.items())
    best = best_strength(right)
    if len(args.count_c) > 1:
        print(f"kept C = {best} ({right[best]} of {sum(map(len, checks.values()))} --check-on mixes right)")
    classifier["count"] = fit_count_model(train, evidence, best)
    print(classifier)
    if args.write:
        ckpt = load_checkpoint(args.write)
        ckpt["polyphony_classifier"] = classifier
        save_checkpoint(args.write, ckpt, overwrite=True)
        print(f"stored in {args.write}")


def best_strength(right: dict) -> float:
    """The regularisation strength C that counted the most validation mixes right (``right``: C -> mixes);
    on a tie the smaller C, the simpler model."""
    return min(right, key=lambda C: (-right[C], C))


def fit_classifier(X, y) -> LogisticRegression:
    return LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(X, y)


def as_dict(clf, **extra) -> dict:
    """The classifier as plain numbers, as :func:`mitkit.instrument_count.polyphonic_probability` reads it."""
    return {"coef": [round(float(c), 6) for c in clf.coef_[0]], "intercept": round(float(clf.intercept_[0]), 6),
            **extra}


def cross_fitted_evidence(train, folds: int) -> list[dict]:
    """Each mix's count evidence, read with a classifier fitted without its piece (module docstring)."""
    piece = [f"{Path(mix.audio).parent}/{mix.id.split('-')[0]}" for mix, _, _ in train]  # ids: piece-…
    pieces = sorted(set(piece))
    fold_of = {name: i % folds for i, name in enumerate(pieces)}
    fold = np.array([fold_of[name] for name in piece])
    evidence = [None] * len(train)
    for f in range(folds):
        held_out = np.flatnonzero(fold == f)
        if held_out.size == 0:
            continue
        clf = as_dict(fit_classifier(*labelled_notes([d for d, g in zip(train, fold) if g != f])))
        for i in held_out:
            evidence[i] = count_instruments(train[i][1], train[i][2], clf).evidence
    print(f"cross-fitted evidence: {len(train)} mixes of {len(pieces)} pieces")
    return evidence


def fit_count_model(train, evidence, C: float) -> dict:
    """The learned count (:mod:`mitkit.count_model`) from each training mix's ``evidence``."""
    X = np.array([[e[name] for name in COUNT_FEATURES] for e in evidence])
    k = np.array([len(mix.parts) for mix, _, _ in train])
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=C, max_iter=5000).fit((X - mean) / scale, k)
    print(f"learned count: {len(k)} mixes, K = {sorted(set(k.tolist()))}, C = {C}")
    return {"features": list(COUNT_FEATURES), "classes": [int(c) for c in model.classes_],
            "mean": [round(float(x), 6) for x in mean], "scale": [round(float(x), 6) for x in scale],
            "coef": [[round(float(x), 6) for x in row] for row in model.coef_],
            "intercept": [round(float(x), 6) for x in model.intercept_], "C": C, "mixes": int(len(k))}


def report_count(folder, data, classifier) -> int:
    """Print the share of the mixes of ``folder`` counted right, with and without a chord-playing instrument;
    return how many were."""
    hits = {"one note at a time": [], "polyphonic": []}  # count_study's groups
    rules = {key: [] for key in hits}
    rules_only = {key: value for key, value in classifier.items() if key != "count"}
    for mix, notes, E in data:
        group = group_of(mix)
        true_k = len(mix.parts)
        hits[group].append(len(notes) > 0 and count_instruments(notes, E, classifier).k == true_k)
        rules[group].append(len(notes) > 0 and count_instruments(notes, E, rules_only).k == true_k)
    every = [h for v in hits.values() for h in v]
    every_rule = [h for v in rules.values() for h in v]
    print(f"{folder}: learned count right on {np.mean(every):.1%} of {len(every)} mixes "
          f"(the rules alone {np.mean(every_rule):.1%})")
    for key in hits:
        if hits[key]:
            print(f"  {key:32} {np.mean(hits[key]):6.1%}  (rules {np.mean(rules[key]):6.1%}, {len(hits[key])} mixes)")
    return int(sum(every))


def balanced_accuracy(clf, X, y) -> float:
    pred = clf.predict(X)
    return float(np.mean([np.mean(pred[y == c] == c) for c in (0, 1) if np.any(y == c)]))


if __name__ == "__main__":
    main()
