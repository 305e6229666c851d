"""Scratch (issue 13, session 40): are notes that start together as alike in timbre as the notes that follow
each other? A relative reading of "one instrument plays the chord", which needs no knowledge of the timbre.
Per mix: mean cosine of co-onset note pairs, of successive pairs (a note and the nearest-pitch note starting
as it ends), their difference; printed per texture and soundfont family, with the chord probability beside."""
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, "scripts")
from count_study import transcribe_all  # noqa: E402

from mitkit.checkpoint import load_checkpoint  # noqa: E402
from mitkit.embeddings import core_notes  # noqa: E402
from mitkit.evaluation.benchmarks import load_benchmark  # noqa: E402
from mitkit.instrument_count import polyphonic_probability  # noqa: E402

TOGETHER = 3      # frames between onsets of notes that start together
NEXT_GAP = (-6, 12)  # frames from a note's end to the onset of the note that follows it
NEXT_PITCH = 5    # semitones at most to the note that follows


def together_features(notes, E):
    s, e, p = notes["start"].astype(int), notes["end"].astype(int), notes["pitch"].astype(int)
    order = np.argsort(s, kind="stable")
    s, e, p, E = s[order], e[order], p[order], np.asarray(E, float)[order]
    together, following, dp_t, dp_f = [], [], [], []
    n = len(s)
    j0 = 0
    for i in range(n):
        # co-onset partners after i
        j = i + 1
        while j < n and s[j] - s[i] <= TOGETHER:
            together.append(float(E[i] @ E[j]))
            dp_t.append(abs(p[i] - p[j]))
            j += 1
        # the note that follows i: onset near i's end, nearest pitch
        lo, hi = e[i] + NEXT_GAP[0], e[i] + NEXT_GAP[1]
        while j0 < n and s[j0] < lo:
            j0 += 1
        k = j0
        best, best_d = None, NEXT_PITCH + 1
        while k < n and s[k] <= hi:
            d = abs(p[k] - p[i])
            if k != i and s[k] > s[i] + TOGETHER and d < best_d:
                best, best_d = k, d
            k += 1
        if best is not None:
            following.append(float(E[i] @ E[best]))
            dp_f.append(best_d)
    t = np.array(together) if together else np.zeros(1)
    f = np.array(following) if following else np.zeros(1)
    return {"sim_together": float(np.mean(t)), "sim_next": float(np.mean(f)),
            "together_minus_next": float(np.mean(t) - np.mean(f)),
            "together_as_alike": float(np.mean(t >= np.quantile(f, 0.25))),
            "n_together": len(together) / max(n, 1)}


def main():
    clf = load_checkpoint("mitkit/weights/mitkit_base.pt")["polyphony_classifier"]
    rows = defaultdict(list)
    for f in sys.argv[1:]:
        data = transcribe_all(load_benchmark(f), None, Path("runs/s39/count-cache") / f"{Path(f).name}.npz")
        for mix, notes, E in data:
            if len(notes) < 10:
                continue
            feats = together_features(notes, E)
            feats["chord_probability"] = float(polyphonic_probability(E, clf)[core_notes(notes["amplitude"])].mean())
            rows[(Path(f).name, mix.instrumentation)].append(feats)
    names = list(next(iter(rows.values()))[0])
    print(f"{'benchmark':22s} {'texture':9s} n  " + " ".join(f"{k[:14]:>14s}" for k in names))
    for (b, t), fs in sorted(rows.items()):
        print(f"{b:22s} {t:9s} {len(fs):2d} " + " ".join(f"{np.mean([x[k] for x in fs]):14.3f}" for k in names))


if __name__ == "__main__":
    main()


def auc(pos, neg):
    pos, neg = np.asarray(pos), np.asarray(neg)
    return float(np.mean((pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None])))


def separability(files):
    clf = load_checkpoint("mitkit/weights/mitkit_base.pt")["polyphony_classifier"]
    for f in files:
        data = transcribe_all(load_benchmark(f), None, Path("runs/s39/count-cache") / f"{Path(f).name}.npz")
        by = defaultdict(list)
        for mix, notes, E in data:
            if len(notes) < 10:
                continue
            feats = together_features(notes, E)
            feats["chord_probability"] = float(polyphonic_probability(E, clf)[core_notes(notes["amplitude"])].mean())
            by[mix.instrumentation].append(feats)
        out = []
        for k in by["poly"][0]:
            a = auc([x[k] for x in by["poly"]], [x[k] for t in ("mono4", "quartet", "mono3") for x in by[t]])
            b = auc([x[k] for x in by["poly+1"]], [x[k] for t in ("mono2", "mono3") for x in by[t]])
            out.append(f"{k[:16]} {a:.2f}/{b:.2f}")
        print(Path(f).name, " | ".join(out))
