"""Scratch (issue 13): does how a note's level falls after its onset tell a chord-playing instrument better than
the note embedding alone? Struck and plucked instruments (pianos, guitars, harp, mallets, harpsichord) decay;
winds, voices and bowed strings hold. Per matched note: the CQT level at its fundamental (the semitone's three
bins' maximum, natural-log power, EnergyNorm'd) over its frames; features = least-squares slope (per second) over
the note's first 1.5 s, peak-to-end drop, log duration. Logistic regression (class-balanced, as
scripts/fit_polyphony.py) fitted on the training count mixes' notes, balanced accuracy on validation notes.

    python runs/s39/decay_study.py --train data/count-train ... --val data/count-val ...
"""
import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, "scripts")
from count_study import transcribe_all  # noqa: E402
from fit_polyphony import labelled_notes, names_instruments  # noqa: E402

from mitkit import constants as C  # noqa: E402
from mitkit.audio import load_audio  # noqa: E402
from mitkit.evaluation.benchmarks import load_benchmark  # noqa: E402
from mitkit.frontend import log_cqt  # noqa: E402

warnings.simplefilter("ignore")
MAX_FRAMES = int(1.5 * C.FRAME_RATE)
N_FEATURES = 6  # what decay_features returns per note


def decay_features(S, note):
    """slope per second, drop (end minus peak), log duration, level rise over the 5 frames before the onset."""
    b = 3 * (int(note["pitch"]) - C.MIDI_MIN)
    s, e = int(note["start"]), min(int(note["end"]), S.shape[1])
    e = max(e, s + 2)
    lv = S[b:b + 3, s:min(e, s + MAX_FRAMES)].max(axis=0)
    t = np.arange(lv.size) / C.FRAME_RATE
    pk = int(np.argmax(lv[: max(1, lv.size // 2)]))
    tail, tt = lv[pk:], t[pk:]
    slope = np.polyfit(tt, tail, 1)[0] if tail.size >= 3 else 0.0
    drop = float(lv[-1] - lv[pk])
    before = S[b:b + 3, max(0, s - 5):s].max(axis=0).min() if s > 0 else lv[0] - 5
    feats = [float(slope), drop, np.log((e - s) / C.FRAME_RATE), float(lv[pk] - before)]
    # steadiness of pitch and level (vibrato, tremolo): held instruments played with expression waver, keyboards
    # and organs do not. Centroid over the semitone's bins and a third either side, and level, both detrended.
    lo = max(b - 1, 0)
    P = np.exp(S[lo:b + 4, s:min(e, s + MAX_FRAMES)])
    centroid = (P * np.arange(P.shape[0])[:, None]).sum(0) / np.maximum(P.sum(0), 1e-12)
    if centroid.size >= 8:
        tt = np.arange(centroid.size)
        pitch_wobble = float(np.std(centroid - np.polyval(np.polyfit(tt, centroid, 1), tt)))
        level_wobble = float(np.std(np.diff(lv)))
    else:
        pitch_wobble, level_wobble = 0.0, 0.0
    return feats + [pitch_wobble, level_wobble]


def labelled(names, checkpoint, cache_dir):
    """Embeddings, sound features and labels of the matched notes: fit_polyphony.labelled_notes' matching, run on
    each note's embedding with its features appended (so the two stay aligned)."""
    rows, y = [], []
    for n in names:
        data = transcribe_all(load_benchmark(n), checkpoint, Path(cache_dir) / f"{Path(n).name}.npz")
        for mix, notes, E in data:
            if not names_instruments(mix) or not len(notes):
                continue
            S = log_cqt(load_audio(mix.audio))
            F = np.array([decay_features(S, note) for note in notes])
            X, labels = labelled_notes([(mix, notes, np.hstack([E, F]))])
            if len(labels):
                rows.append(X)
                y.append(labels)
        print(f"{n}: {sum(map(len, y))} notes so far", flush=True)
    X, y = np.vstack(rows), np.concatenate(y)
    D = X.shape[1] - N_FEATURES
    return X[:, :D], X[:, D:], y


def bal(pred, y):
    return np.mean([np.mean(pred[y == c] == c) for c in (0, 1)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--val", nargs="+", required=True)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--cache-dir", default="runs/s39/count-cache")
    ap.add_argument("--save", default="runs/s39/decay_features.npz")
    a = ap.parse_args()
    Et, Ft, yt = labelled(a.train, a.checkpoint, a.cache_dir)
    vals = {v: labelled([v], a.checkpoint, a.cache_dir) for v in a.val}
    np.savez(a.save, Et=Et, Ft=Ft, yt=yt, **{f"{Path(v).name}/{k}": arr for v, arrs in vals.items()
                                              for k, arr in zip("EFy", arrs)})
    print(f"train notes {len(yt)}, chord-playing {yt.mean():.0%}")
    for label, cols, fcols in [("embedding (shipped)", "E", []), ("decay only", "F", [0, 1, 2, 3]),
                               ("steadiness only", "F", [2, 4, 5]), ("decay + steadiness", "F", list(range(6))),
                               ("embedding + decay", "EF", [0, 1, 2, 3]),
                               ("embedding + all", "EF", list(range(6)))]:
        def X(E, F, cols=cols, fcols=fcols):
            return np.hstack([m for c, m in (("E", E), ("F", F[:, fcols])) if c in cols])
        sc = StandardScaler().fit(X(Et, Ft))
        clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(sc.transform(X(Et, Ft)), yt)
        row = [f"{Path(v).name} {bal(clf.predict(sc.transform(X(E, F))), y):.3f}" for v, (E, F, y) in vals.items()]
        print(f"{label:22}", " | ".join(row), flush=True)


if __name__ == "__main__":
    main()
