"""Scratch (issue 13, session 40): is the linear learned count the limit? The shipped evidence (cross-fitted on
the training mixes as scripts/fit_polyphony.py does; read with the bundled classifier on validation) fed to
other models, validation mixes counted right side by side. Evidence cached in runs/s40/evidence.npz."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, "scripts")
sys.path.insert(0, "runs/s40")
import fit_polyphony as fp  # noqa: E402
from together_study import together_features  # noqa: E402

from mitkit.checkpoint import load_checkpoint  # noqa: E402
from mitkit.count_model import COUNT_FEATURES  # noqa: E402
from mitkit.evaluation.benchmarks import load_benchmark  # noqa: E402
from mitkit.instrument_count import count_instruments  # noqa: E402

ON = ["data/count-train", "data/count-train2", "data/count-train3", "data/chorale-train-a",
      "data/chorale-train-b", "data/chorale-train-c"]
CHECK = ["data/count-val", "data/chorale-val", "data/count-val-OPL3_FM", "data/count-val-csound_GM"]
CACHE = Path("runs/s40/evidence.npz")
EXTRA = ("sim_together", "sim_next", "together_minus_next", "together_as_alike", "n_together")


def data_of(f):
    return fp.transcribe_all(load_benchmark(f), None, Path("runs/s39/count-cache") / f"{Path(f).name}.npz")


def build():
    train = [d for f in ON for d in data_of(f) if len(d[1])]
    ev = fp.cross_fitted_evidence(train, 5)
    clf = load_checkpoint("mitkit/weights/mitkit_base.pt")["polyphony_classifier"]

    def rows(data, evs):
        return np.array([[e[n] for n in COUNT_FEATURES] + [together_features(d[1], d[2])[n] for n in EXTRA]
                         for d, e in zip(data, evs)])

    Xtr, ytr = rows(train, ev), np.array([len(m.parts) for m, _, _ in train])
    Xv, yv, src, tex, shipped = [], [], [], [], []
    for f in CHECK:
        for mix, notes, E in data_of(f):
            if not len(notes):
                Xv.append(np.zeros(len(COUNT_FEATURES) + len(EXTRA)))
                shipped.append(1)
            else:
                c = count_instruments(notes, E, clf)
                Xv.append(rows([(mix, notes, E)], [c.evidence])[0])
                shipped.append(c.k)
            yv.append(len(mix.parts))
            src.append(Path(f).name)
            tex.append(mix.instrumentation)
    groups = np.array([f"{Path(m.audio).parent}/{m.id.split('-')[0]}" for m, _, _ in train])
    np.savez(CACHE, Xtr=Xtr, ytr=ytr, Xv=np.array(Xv), yv=np.array(yv), src=np.array(src), tex=np.array(tex),
             shipped=np.array(shipped), groups=groups, train_tex=np.array([m.instrumentation for m, _, _ in train]))


if __name__ == "__main__":
    build()
