"""Scratch diagnosis: how late are the notes found late in reverberant audio, and where does the onset posterior
peak against the reference onset? Per benchmark: for every reference note with an estimated note of its pitch
starting within 0.15 s, the lag (est - ref); and, at the reference onset's pitch, the frame of the onset
posterior's highest value within 0.15 s of the reference onset."""
import sys
import warnings

import numpy as np

from mitkit.checkpoint import load_model, thresholds_of
from mitkit.constants import FRAME_RATE
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.note_creation import create_notes
from mitkit.notes import merge_tracks, notes_to_seconds
from mitkit.training.tuning import mix_posteriorgrams

warnings.simplefilter("ignore")
import os
model, ckpt = load_model(os.environ.get("CKPT"))  # default: the bundled model
th = thresholds_of(ckpt)
from mitkit.constants import MIDI_MIN as LOW  # MIDI pitch of the posteriorgram's first bin
for folder in sys.argv[1:]:
    mixes = load_benchmark(folder)
    posts = mix_posteriorgrams(model, mixes)
    lags, peaks, peak_values = [], [], []
    for mix, p in zip(mixes, posts):
        est = notes_to_seconds(create_notes(p.frames, p.onsets, **th))
        ref = merge_tracks(mix.parts)
        for onset, pitch in zip(ref[:, 0], ref[:, 2]):
            same = est[est[:, 2] == pitch, 0] - onset
            near = same[np.abs(same) <= 0.15]
            if near.size:
                lags.append(near[np.argmin(np.abs(near))])
            f0 = int(round(onset * FRAME_RATE))
            lo, hi = max(0, f0 - 13), min(p.onsets.shape[1], f0 + 14)
            col = p.onsets[int(pitch) - LOW, lo:hi]
            if col.size:
                peaks.append((lo + int(np.argmax(col)) - f0) / FRAME_RATE)
                peak_values.append(float(col.max()))
    lags, peaks = np.array(lags), np.array(peaks)
    print(f"{folder}: {len(lags)} notes with an estimate of their pitch within 0.15 s")
    print("  est - ref (s), quantiles 10/25/50/75/90 %:", np.round(np.quantile(lags, [.1, .25, .5, .75, .9]), 3),
          f" late > 0.05: {np.mean(lags > 0.05):.1%}, early < -0.05: {np.mean(lags < -0.05):.1%}")
    late = lags[lags > 0.05]
    if late.size:
        print("  the late ones' lag (s), quantiles 10/50/90 %:", np.round(np.quantile(late, [.1, .5, .9]), 3))
    print("  onset posterior's peak - ref (s):", np.round(np.quantile(peaks, [.1, .25, .5, .75, .9]), 3),
          f" peak > 0.05 s late: {np.mean(peaks > 0.05):.1%}; peak value median {np.median(peak_values):.2f}")
