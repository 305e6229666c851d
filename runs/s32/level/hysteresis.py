"""Scratch study: onset-confirmed notes under a lower frame threshold (hysteresis). After create_notes, every
onset peak (onset posterior, level-scaled threshold times s) not inside or within 2 frames of a note of its pitch
walks forward over frames where Y_F >= frame_threshold * h (frames of existing notes at that pitch excluded) and
is kept when at least min_note_frames long. Shipped model; scored as `mitkit tune` scores."""
import sys

import numpy as np
from scoring import CHECKPOINT, posteriorgrams, score_line

import mitkit.note_creation as nc
from mitkit.constants import MIDI_MIN
from mitkit.notes import NOTE_DTYPE
from mitkit.onset_level import scale_to_onset_level

GRID = [tuple(float(x) for x in g.split(":")) for g in sys.argv[2].split(",")]  # h:s pairs
th = dict(CHECKPOINT["thresholds"])
data = posteriorgrams(sys.argv[1].split(","))
print("posteriorgrams done", flush=True)


def with_hysteresis(Y_F, Y_O, h, s):
    notes = nc.create_notes(Y_F, Y_O, **th)
    if h >= 1:
        return notes
    st = scale_to_onset_level(th, Y_O)
    on_t, fr_t, mn = st["onset_threshold"] * s, th["frame_threshold"], th["min_note_frames"]
    low = Y_F >= fr_t * h
    covered = np.zeros_like(low)
    for n in notes:
        p = n["pitch"] - MIDI_MIN
        covered[p, max(n["start"] - 2, 0):n["end"]] = True
    low &= ~covered
    rows, frames = nc._onset_peaks(Y_O, on_t)
    extra = []
    for p, t0 in sorted(zip(rows.tolist(), frames.tolist()), key=lambda x: -x[1]):
        if covered[p, t0] or not low[p, t0]:
            continue
        end = nc._walk(low[p], t0, 1)  # no gaps bridged: a short note ends where its frames fall
        if end - t0 >= mn:
            low[p, t0:end] = False
            extra.append((t0, end, p + MIDI_MIN, float(Y_F[p, t0:end].mean())))
    if not extra:
        return notes
    out = np.concatenate([notes, np.array(extra, dtype=NOTE_DTYPE)])
    return out[np.lexsort((out["pitch"], out["start"]))]


for h, s in GRID:
    lines = [score_line(b, mixes, posts, lambda p: with_hysteresis(p.frames, p.onsets, h, s))
             for b, (mixes, posts) in data.items()]
    print(f"== h {h} s {s}\n  " + "\n  ".join(lines), flush=True)
