"""Scratch: can a re-onset peak inside a created note be told true (a reference onset of its pitch within 50 ms,
after the note's own start) from false by local features? Collects features per candidate peak and caches them.

    python runs/s35/reonset_features.py OUT.npz BENCH [BENCH ...]
"""
import sys
import warnings

import numpy as np

from mitkit.checkpoint import load_model, thresholds_of
from mitkit.constants import FRAME_RATE, MIDI_MIN
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.note_creation import _onset_peaks, create_notes
from mitkit.notes import merge_tracks
from mitkit.onset_level import onset_level
from mitkit.training.tuning import mix_posteriorgrams

TOL = 0.05
NAMES = ["v", "v_over_start", "v_over_level", "fdip", "frise", "age", "ocontrast", "others_now", "octave_below_onset",
         "fifth_below_onset", "f_before", "f_after", "onext", "dur_left"]


def features(p, notes, refs_by_pitch, level):
    Y_F, Y_O = p.frames, p.onsets
    T = Y_F.shape[1]
    rows, frames = _onset_peaks(Y_O, 0.15)
    out, labels = [], []
    order = np.lexsort((frames, rows))
    rows, frames = rows[order], frames[order]
    for n in notes:
        r = n["pitch"] - MIDI_MIN
        s, e = n["start"], n["end"]
        sel = (rows == r) & (frames > s + 2) & (frames < e - 1)
        if not sel.any():
            continue
        v_start = Y_O[r, max(s - 1, 0):s + 2].max()
        ref = refs_by_pitch.get(n["pitch"], np.zeros(0))
        for f in frames[sel]:
            t = f / FRAME_RATE
            v = Y_O[r, f]
            lo = max(f - 4, s)
            fdip = Y_F[r, lo:f + 1].min() / max(Y_F[r, s:f].mean(), 1e-3)
            frise = Y_F[r, f:min(f + 5, T)].max() - Y_F[r, lo:f + 1].min()
            ocontrast = v - Y_O[r, max(f - 6, s):f].min() if f - 6 >= s or f > s else v
            win = slice(max(f - 1, 0), f + 2)
            others = np.delete(Y_O[:, win].max(axis=1), r).max()
            ob = Y_O[r - 12, win].max() if r >= 12 else 0.0
            fb = Y_O[r - 7, win].max() if r >= 7 else 0.0
            fbef = Y_F[r, max(f - 6, s):f].mean()
            faft = Y_F[r, f + 1:min(f + 7, e)].mean() if f + 1 < e else 0.0
            nxt = Y_O[r, f + 3:min(f + 40, e)].max() if f + 3 < e else 0.0
            out.append([v, v / max(v_start, 1e-3), v / max(level, 1e-3), fdip, frise, (f - s) / FRAME_RATE, ocontrast,
                        others, ob, fb, fbef, faft, nxt, (e - f) / FRAME_RATE])
            labels.append(bool(np.any((np.abs(ref - t) <= TOL) & (ref > s / FRAME_RATE + TOL))))
    return out, labels


def main():
    out_path, benches = sys.argv[1], sys.argv[2:]
    model, ckpt = load_model(None)
    th = thresholds_of(ckpt)
    X, y, group = [], [], []
    for gi, b in enumerate(benches):
        mixes = load_benchmark(b)
        ps = mix_posteriorgrams(model, mixes)
        for mix, p in zip(mixes, ps):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                notes = create_notes(p.frames, p.onsets, **th)
            ref = merge_tracks(mix.parts)
            by_pitch = {int(k): ref[ref[:, 2] == k, 0] for k in np.unique(ref[:, 2])}
            f, l = features(p, notes, by_pitch, onset_level(p.onsets) or 0.8277)
            X += f; y += l; group += [gi] * len(l)
        print(b, "candidates", sum(1 for g in group if g == gi), "true", sum(l for l, g in zip(y, group) if g == gi), flush=True)
    np.savez(out_path, X=np.array(X), y=np.array(y), group=np.array(group), benches=np.array(benches), names=np.array(NAMES))


if __name__ == "__main__":
    main()
