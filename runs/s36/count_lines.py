"""Scratch (issue 13): score each candidate K by the transcription it would make. For K = 2, 3, 4 the notes are
split into K timbre groups (cluster_notes at the shipped temperature) and then redrawn by voice leading
(mitkit.voice_leading.follow_lines). Where K distinct instruments each play a line, the redraw moves few notes and
leaves few clashes in a track; where one chord-playing instrument is cut into K groups by register, or the true K
is larger, the redraw moves many notes or leaves clashes. Per K: the share of notes moved, the share of notes
that clash with another of their track after the redraw, and the mean leap within tracks (semitones / 12).
Added to the learned count's evidence (the same mixes and order as runs/s34/count_models.py)."""
import sys
import warnings

import numpy as np

sys.path.insert(0, "runs/s34")
sys.argv = [sys.argv[0], sys.argv[1]] if len(sys.argv) > 1 else [sys.argv[0]]
warnings.simplefilter("ignore")
import count_models as cm  # noqa: E402
from mitkit.clustering import cluster_notes  # noqa: E402
from mitkit.voice_leading import clashing_pairs, follow_lines  # noqa: E402

TEMP = 0.2
KS = (2, 3, 4)


def line_features(notes, E):
    out = []
    pitch = notes["pitch"].astype(float)
    pairs = clashing_pairs(notes)
    for k in KS:
        if len(notes) <= k:
            out += [0.0, 0.0, 0.0]
            continue
        labels = cluster_notes(E, k, pitches=notes["pitch"], temperature=TEMP, amplitudes=notes["amplitude"])
        redrawn = follow_lines(notes, E, labels)
        moved = float(np.mean(redrawn != labels))
        if len(pairs):
            same = redrawn[pairs[:, 0]] == redrawn[pairs[:, 1]]
            clash = len(np.unique(pairs[same].ravel())) / len(notes)
        else:
            clash = 0.0
        leaps = []
        for t in range(k):
            idx = np.flatnonzero(redrawn == t)
            idx = idx[np.argsort(notes["start"][idx], kind="stable")]
            if idx.size > 1:
                leaps.append(np.abs(np.diff(pitch[idx])))
        leap = float(np.concatenate(leaps).mean() / 12) if leaps else 0.0
        out += [moved, clash, leap]
    return out


W = 3 * len(KS)
Atr, Ava = (cm.per_mix(line_features, folders, W) for folders in (cm.TRAIN, cm.CHECK))
np.savez("runs/s36/count_lines.npz", Atr=Atr, Ava=Ava)
assert len(Atr) == len(cm.Xtr) and len(Ava) == len(cm.Xva)
names = [f"{n} K={k}" for k in KS for n in ("moved", "clash", "leap")]
for j, n in enumerate(names):
    print(f"{n:12}: " + "  ".join(f"true {t}: tr {Atr[cm.ytr == t, j].mean():.3f} va {Ava[cm.yva == t, j].mean():.3f}"
                                   for t in (1, 2, 3, 4)))
cm.report_beside("LR + lines", Atr, Ava)
