"""Scratch (issue 13, session 40): the chord-playing reading a whole instrument at a time. For each part of the
validation count mixes, the mean probability over its matched notes; an instrument is read right when that mean
is on its side of 0.5. Classifiers: the embedding alone (logistic regression), with the note's company
(runs/s40/note_context.py), and boosted trees on both."""
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, "scripts")
sys.path.insert(0, "runs/s40")
import fit_polyphony as fp  # noqa: E402
from note_context import context_features  # noqa: E402

from mitkit.synth.instruments import BY_NAME  # noqa: E402

warnings.filterwarnings("ignore")


def load(f):
    return [(m, n, np.hstack([E, context_features(n, E)])) for m, n, E in
            fp.transcribe_all(fp.load_benchmark(f), None, Path("runs/s39/count-cache") / f"{Path(f).name}.npz") if len(n)]


train = [d for f in ["data/count-train", "data/count-train2", "data/count-train3"] for d in load(f)]
X, y = fp.labelled_notes(train)
models = {"embedding LR": (slice(0, 12), LogisticRegression(class_weight="balanced", max_iter=2000)),
          "embedding+company LR": (slice(None), LogisticRegression(class_weight="balanced", max_iter=2000)),
          "embedding+company HGB": (slice(None), HistGradientBoostingClassifier(max_depth=4, max_iter=200,
                                                                                class_weight="balanced", random_state=0))}
for name, (cols, m) in models.items():
    m.fit(X[:, cols], y)
for f in ["data/count-val", "data/count-val-OPL3_FM", "data/count-val-csound_GM"]:
    data = load(f)
    for name, (cols, m) in models.items():
        right = {True: [], False: []}
        for mix, notes, F in data:
            p = m.predict_proba(F[:, cols])[:, 1]
            from mitkit.notes import notes_to_seconds
            table = notes_to_seconds(notes)
            for part, pname in zip(mix.parts, mix.part_names):
                mine = np.array([np.any((part[:, 2] == r[2]) & (part[:, 0] - fp.ONSET_SLACK_S <= r[0]) & (r[0] < part[:, 1]))
                                 for r in table])
                if mine.sum() >= 3:
                    flag = BY_NAME[pname].polyphonic
                    right[flag].append((p[mine].mean() >= 0.5) == flag)
        print(f"{Path(f).name:22s} {name:22s} chord-playing read right {np.mean(right[True]):.2f} of {len(right[True])}, "
              f"lines {np.mean(right[False]):.2f} of {len(right[False])}", flush=True)
