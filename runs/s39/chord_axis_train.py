"""Scratch (issue 13): a timbre branch told which notes a chord-playing instrument plays. The count's polyphony
classifier reads the 12-d note embedding, which InfoNCE shapes to tell instruments apart, not to say whether an
instrument plays chords; a linear read of it tops out at balanced accuracy 0.70-0.81 on validation notes. Here the
timbre fine-tune also asks one fixed axis of the unit embedding (dimension 0) to say so: a binary cross-entropy on
``CHORD_SCALE * v[0]`` against the bin's instrument's ``Instrument.polyphonic``, weight ``CHORD_WEIGHT``, folded
into the logged timbre loss. No new parameters; the trainer, data and CLI are mitkit's, patched here.

    CHORD_WEIGHT=0.5 python runs/s39/chord_axis_train.py train --preset base --data data/synth-v9 \
        --run runs/chord-axis --init bundled --stage timbre ...
"""
import os
import sys

import numpy as np
import torch
from torch.nn import functional as F_

import mitkit.training.losses as L
import mitkit.training.mixtures as mx
import mitkit.training.trainer as tr
from mitkit.cli import main
from mitkit.synth.instruments import BY_PROGRAM

CHORD_WEIGHT = float(os.environ.get("CHORD_WEIGHT", "0.5"))
CHORD_SCALE = 8.0
CURRENT = {}
_getitem, _compute, _timbre = mx.MixtureDataset.__getitem__, L.compute_losses, L.timbre_loss


def getitem(self, i):
    item = _getitem(self, i)
    piece = self._by_id[item["piece"]] if hasattr(self, "_by_id") else None
    if piece is None:
        self._by_id = {p["id"]: p for p in self.bank.pieces}
        piece = self._by_id[item["piece"]]
    flags = np.zeros(self.max_instruments, np.float32)
    for slot, k in enumerate(item["stems"][:item["n_instruments"]]):
        flags[slot] = float(BY_PROGRAM[int(piece["programs"][int(k)])].polyphonic)
    item["polyphonic"] = flags
    return item


def timbre_loss(V, rolls, *, kind="infonce", max_bins=L.MAX_BINS, generator=None):
    base = _timbre(V, rolls, kind=kind, max_bins=max_bins, generator=generator)
    flags = CURRENT["flags"]
    terms = []
    for b in range(V.shape[0]):
        v, labels = L.sample_active_bins(V[b], rolls[b], max_bins=max_bins, generator=generator)
        if labels.numel():
            terms.append(F_.binary_cross_entropy_with_logits(CHORD_SCALE * v[:, 0].float(), flags[b][labels].float()))
    chord = torch.stack(terms).mean() if terms else V.sum() * 0.0
    return base + CHORD_WEIGHT * chord


def compute_losses(model, batch, cfg, **kw):
    CURRENT["flags"] = batch["polyphonic"]
    return _compute(model, batch, cfg, **kw)


mx.MixtureDataset.__getitem__ = getitem
L.timbre_loss = timbre_loss
tr.compute_losses = compute_losses

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
