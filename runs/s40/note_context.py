"""Scratch (issue 13, session 40): a note's company as evidence that a chord-playing instrument plays it.
Per note: how alike in timbre (cosine of unit embeddings) the notes that start with it are (the highest, 0 when
none does), whether any does, and how alike the notes sounding at its onset are. Chord notes of one instrument
share its timbre whatever the timbre is; lines of distinct instruments do not. Probe: the polyphony classifier's
balanced accuracy with these beside the embedding (fit on train, validation families side by side); then the
learned count refitted with them (runs/s39/count_with_sound.py's patching)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, "scripts")
sys.path.insert(0, "runs/s39")
import count_with_sound as cws  # noqa: E402
import fit_polyphony as fp  # noqa: E402

TOGETHER = 3  # frames between onsets of notes that start together


def context_features(notes, E):
    """(N, 4): highest cosine to a note starting together, whether one does, highest cosine to a note sounding at
    the onset (started earlier), the mean cosine to the notes starting together."""
    E = np.asarray(E, np.float64)
    s, e = notes["start"].astype(int), notes["end"].astype(int)
    S = E @ E.T
    together = (np.abs(s[:, None] - s[None]) <= TOGETHER)
    np.fill_diagonal(together, False)
    sounding = (s[None] < s[:, None] - TOGETHER) & (e[None] > s[:, None])
    F = np.zeros((len(notes), 4))
    F[:, 0] = np.where(together.any(1), np.where(together, S, -1).max(1), 0.0)
    F[:, 1] = together.any(1)
    F[:, 2] = np.where(sounding.any(1), np.where(sounding, S, -1).max(1), 0.0)
    F[:, 3] = np.where(together.any(1), (S * together).sum(1) / np.maximum(together.sum(1), 1), 0.0)
    return F


def data_of(folder, cache_dir, checkpoint=None):
    data = fp.transcribe_all(fp.load_benchmark(folder), checkpoint, Path(cache_dir) / f"{Path(folder).name}.npz")
    if cws.COLS:
        for mix, notes, E in data:
            F = context_features(notes, E) if len(notes) else np.zeros((0, 4))
            cws.FEATS.append((np.asarray(E, np.float64), F[:, cws.COLS]))
    return data


if __name__ == "__main__":
    cws.data_of = data_of
    cws.main()
