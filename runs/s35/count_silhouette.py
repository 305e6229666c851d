"""Scratch (issue 13): the count misses mixes whose parts the timbre groups separate well when told the true K
(runs/s35/count_miss_separation.py). Does how well K groups hold together (silhouette of the K-group split of the
confident notes, on cosine distance, K = 2, 3, 4) add to the learned count? Same mixes and order as
runs/s34/count_models.py."""
import sys
import warnings

import numpy as np
from sklearn.metrics import silhouette_score

sys.path.insert(0, "runs/s34")
sys.argv = [sys.argv[0], sys.argv[1]] if len(sys.argv) > 1 else [sys.argv[0]]
warnings.simplefilter("ignore")
import count_models as cm  # noqa: E402  (prints its table once; loads the cached evidence)
from mitkit.clustering import core_notes  # noqa: E402
from mitkit.embeddings import cluster_qr, cosine_similarity, spectral_embedding  # noqa: E402

MAX, TEMP = 600, 0.2


def silhouettes(notes, E):
    keep = np.flatnonzero(core_notes(notes["amplitude"]))
    if keep.size > MAX:
        keep = np.sort(np.random.default_rng(0).choice(keep, MAX, replace=False))
    if keep.size < 12:
        return [0.0, 0.0, 0.0]
    X = E[keep]
    S = cosine_similarity(X)
    _, U = spectral_embedding(np.exp((S - 1.0) / TEMP), 6)
    D = np.clip(1.0 - S, 0.0, 2.0)
    np.fill_diagonal(D, 0.0)
    out = []
    for k in (2, 3, 4):
        labels = cluster_qr(U[:, :k])
        out.append(float(silhouette_score(D, labels, metric="precomputed")) if len(set(labels)) > 1 else 0.0)
    return out


Atr, Ava = (cm.per_mix(silhouettes, folders, 3) for folders in (cm.TRAIN, cm.CHECK))
assert len(Atr) == len(cm.Xtr) and len(Ava) == len(cm.Xva)
for j, k in enumerate((2, 3, 4)):
    print(f"silhouette K={k}: " + "  ".join(f"true {t}: train {Atr[cm.ytr == t, j].mean():.3f} val {Ava[cm.yva == t, j].mean():.3f}"
                                               for t in (1, 2, 3, 4)))
cm.report_beside("LR + silhouettes", Atr, Ava)


def shaped(A):
    best = A.argmax(1)
    onehot = np.eye(3)[best]
    return np.column_stack([A, onehot, A.max(1), A[:, 1] - A[:, 0], A[:, 2] - A[:, 1]])


cm.report_beside("LR + silhouettes shaped", shaped(Atr), shaped(Ava))
