"""Fit the polyphony classifier of ``instruments="auto"`` and store it in a checkpoint.

The classifier reads, from a note's timbre embedding, whether a chord-playing instrument (piano, guitar,
harp, organ, …: ``Instrument.polyphonic`` in :mod:`mitkit.synth.instruments`) played it. It is a logistic
regression on the 12-d unit embedding, fitted on the notes the network finds in train-split count
benchmarks; each found note takes the label of the reference part that holds a note of its pitch sounding
at its onset (notes matching no reference note are left out).

    mitkit count-bench --out data/count-train --split train --n-pieces 6 --seed 5 --lengths 10 30 --soundfont mixed
    python scripts/fit_polyphony.py --on data/count-train --check-on data/count-val \\
        [--checkpoint X.pt] [--write mitkit/weights/mitkit_base.pt]

The classifier belongs to the network whose embeddings it reads: refit it after retraining.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from mitkit.checkpoint import load_checkpoint, save_checkpoint
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.notes import notes_to_seconds
from mitkit.synth.instruments import BY_NAME

sys.path.insert(0, str(Path(__file__).parent))
from count_study import transcribe_all  # noqa: E402  (the shared transcription cache)

ONSET_SLACK_S = 0.05  # a found onset may precede the reference onset by this much


def labelled_notes(data):
    """Embeddings and labels (1: a chord-playing instrument) of the found notes that match a reference note."""
    X, y = [], []
    for mix, notes, E in data:
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
    args = ap.parse_args(argv)

    def data_of(folders):
        return [d for f in folders for d in transcribe_all(load_benchmark(f), args.checkpoint,
                                                           args.cache_dir / f"{Path(f).name}.npz")]

    X, y = labelled_notes(data_of(args.on))
    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(X, y)
    print(f"fitted on {len(y)} notes ({y.mean():.0%} from chord-playing instruments): "
          f"balanced accuracy {balanced_accuracy(clf, X, y):.3f}")
    for folder in args.check_on:
        Xc, yc = labelled_notes(data_of([folder]))
        print(f"{folder}: {len(yc)} notes, balanced accuracy {balanced_accuracy(clf, Xc, yc):.3f}")
    classifier = {"coef": [round(float(c), 6) for c in clf.coef_[0]], "intercept": round(float(clf.intercept_[0]), 6),
                  "fitted_on": [Path(f).name for f in args.on], "notes": int(len(y))}
    print(classifier)
    if args.write:
        ckpt = load_checkpoint(args.write)
        ckpt["polyphony_classifier"] = classifier
        save_checkpoint(args.write, ckpt, overwrite=True)
        print(f"stored in {args.write}")


def balanced_accuracy(clf, X, y) -> float:
    pred = clf.predict(X)
    return float(np.mean([np.mean(pred[y == c] == c) for c in (0, 1) if np.any(y == c)]))


if __name__ == "__main__":
    main()
