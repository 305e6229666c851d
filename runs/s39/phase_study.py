"""Scratch (issue 19): does the phase of the CQT at a note's fundamental tell a re-attack from a swell?

A re-triggered note starts its waveform afresh, so the phase at its fundamental jumps against the steady advance
of the sounding note, even where the level hardly moves (a bow change, FluidR3_GM's slow string attack). The
network reads log power only (EnergyNorm), never phase. Candidates as runs/s35/reonset_features.py: every
onset-posterior peak of at least 0.15 inside a note the bundled model makes, true when a reference onset of its
pitch lies within 50 ms. Features: the peak height (the shipped re-onset rule's one number) and the phase
deviation (second difference of phase, wrapped; Bello et al. 2005) at the fundamental's strongest bin and at the
second harmonic, around the peak against the note's own median. AUC per benchmark, each feature alone and a
logistic regression fitted on the other benchmarks.

    python runs/s39/phase_study.py data/quartet-mvt-val data/chorale-val-w ...
"""
import sys
import warnings

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from mitkit.audio import load_audio
from mitkit.checkpoint import load_model, thresholds_of
from mitkit.constants import FRAME_RATE, MIDI_MIN
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.frontend import CQT
from mitkit.note_creation import _onset_peaks, create_notes
from mitkit.notes import merge_tracks
from mitkit.training.tuning import mix_posteriorgrams

TOL = 0.05
NAMES = ["peak", "phase_f0", "phase_f0_rel", "phase_h2_rel", "level_rise", "phase_f0_weighted_rel", "phase_h4_rel",
         "phase_h8_rel"]


def phase_deviation(X):
    """|princarg(φ(t) − 2φ(t−1) + φ(t−2))| per bin and frame (0 for the first two frames)."""
    phi = np.angle(X)
    d = phi[:, 2:] - 2 * phi[:, 1:-1] + phi[:, :-2]
    d = np.abs(np.angle(np.exp(1j * d)))
    return np.pad(d, ((0, 0), (2, 0)))


def features(p, notes, refs_by_pitch, X):
    Y_O = p.onsets
    T = min(Y_O.shape[1], X.shape[1])
    mag = np.abs(X[:, :T])
    dev = phase_deviation(X[:, :T])
    logp = np.log(mag ** 2 + 1e-10)
    rows, frames = _onset_peaks(Y_O[:, :T], 0.15)
    out, labels = [], []
    for n in notes:
        r = n["pitch"] - MIDI_MIN
        s, e = n["start"], min(n["end"], T)
        sel = (rows == r) & (frames > s + 2) & (frames < e - 1)
        if not sel.any():
            continue
        b = 3 * r  # the semitone's three bins b, b+1, b+2; its centre b+1
        ref = refs_by_pitch.get(n["pitch"], np.zeros(0))
        strongest = b + int(np.argmax(mag[b:b + 3, s:e].mean(axis=1)))
        h2 = strongest + 36 if strongest + 36 < mag.shape[0] else strongest
        base_f0 = np.median(dev[strongest, s + 2:e]) + 1e-3
        base_h2 = np.median(dev[h2, s + 2:e]) + 1e-3
        hs = [min(strongest + k, mag.shape[0] - 1) for k in (72, 108)]  # harmonics 4 and 8: shorter kernels
        base_hs = [np.median(dev[h, s + 2:e]) + 1e-3 for h in hs]
        w = mag[b:b + 3, s:e]
        wdev = (dev[b:b + 3, s:e] * w).sum(0) / np.maximum(w.sum(0), 1e-12)
        base_w = np.median(wdev[2:]) + 1e-3
        for f in frames[sel]:
            t = f / FRAME_RATE
            win = slice(max(f - 2, s + 2), min(f + 3, e))
            ph = dev[strongest, win].max()
            lv = logp[b:b + 3, :T].max(axis=0)
            rise = lv[f:min(f + 4, T)].max() - lv[max(f - 4, s):f + 1].min()
            out.append([Y_O[r, f], ph, ph / base_f0, dev[h2, win].max() / base_h2, rise,
                        wdev[win.start - s:win.stop - s].max() / base_w,
                        *[dev[h, win].max() / bh for h, bh in zip(hs, base_hs)]])
            labels.append(bool(np.any((np.abs(ref - t) <= TOL) & (ref > s / FRAME_RATE + TOL))))
    return out, labels


def main():
    benches = sys.argv[1:]
    model, ckpt = load_model(None)
    th = thresholds_of(ckpt)
    cqt = CQT()
    data = {}
    for b in benches:
        mixes = load_benchmark(b)
        ps = mix_posteriorgrams(model, mixes)
        Xb, yb = [], []
        for mix, p in zip(mixes, ps):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                notes = create_notes(p.frames, p.onsets, **th)
            with torch.no_grad():
                X = cqt(torch.as_tensor(load_audio(mix.audio)))[0].numpy()
            ref = merge_tracks(mix.parts)
            by_pitch = {int(k): ref[ref[:, 2] == k, 0] for k in np.unique(ref[:, 2])}
            f, lab = features(p, notes, by_pitch, X)
            Xb += f
            yb += lab
        data[b] = (np.array(Xb), np.array(yb))
        print(f"{b}: {len(yb)} candidates, {int(np.sum(yb))} true", flush=True)
    np.savez("runs/s39/phase_features.npz", **{f"{b}/{k}": v for b, (X, y) in data.items() for k, v in zip("Xy", (X, y))})
    for b, (X, y) in data.items():
        aucs = [f"{name} {roc_auc_score(y, X[:, i]):.3f}" for i, name in enumerate(NAMES)]
        print(b, " | ".join(aucs))
        others = [o for o in data if o != b]
        if others:
            Xo = np.vstack([data[o][0] for o in others])
            yo = np.concatenate([data[o][1] for o in others])
            for cols, label in (([0], "peak"), ([0, 4], "peak+rise"), ([0, 2, 3, 5], "peak+phase"), ([0, 2, 3, 5, 6, 7], "peak+phase h1-8"),
                                ([0, 2, 3, 4, 5], "peak+phase+rise")):
                lr = LogisticRegression(max_iter=2000).fit(np.log1p(np.abs(Xo[:, cols])), yo)
                score = lr.decision_function(np.log1p(np.abs(X[:, cols])))
                print(f"   fitted on the others, {label}: AUC {roc_auc_score(y, score):.3f}")


if __name__ == "__main__":
    main()
