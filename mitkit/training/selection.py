"""Which note-finding weights a run keeps: note F1 on validation benchmarks (``mitkit train --select-on``).

The mixture loss is a poor guide to real pieces (a CPU fine-tune lowered it by 14 % while chorale note F1 fell
from 0.860 to 0.841), so a run given benchmarks keeps the AMT branch whose notes score best there. The notes are
made at the thresholds ``mitkit evaluate`` and ``transcribe`` will use on the kept checkpoint: a fine-tune's
inherited tuned ones, else ``create_notes``' defaults.
"""
from __future__ import annotations

from pathlib import Path

import torch


class BenchmarkSelection:
    """The mixes of validation benchmark ``folders`` (one or several; their mixes pooled), read once, scored
    by mean onset-only note F1 of the notes made at ``thresholds`` (None: ``create_notes``' defaults)."""

    def __init__(self, folders, thresholds: dict | None = None):
        from mitkit.audio import load_audio
        from mitkit.evaluation.benchmarks import load_benchmark
        from mitkit.notes import merge_tracks

        folders = [folders] if isinstance(folders, (str, Path)) else list(folders)
        mixes = [mix for folder in folders for mix in load_benchmark(folder)]
        self.audio = [load_audio(mix.audio) for mix in mixes]
        self.references = [merge_tracks(mix.parts) for mix in mixes]
        self.thresholds = thresholds

    @torch.no_grad()
    def note_f1(self, model, *, precision: str = "fp32", state: dict | None = None) -> float:
        """Mean note F1 of ``model`` (left in eval mode); with ``state`` (some of its state-dict entries, e.g.
        a stored best branch), of the model with those weights, which it gets back afterwards."""
        from mitkit.inference import predict
        from mitkit.training.tuning import mean_note_f1

        current = None
        if state is not None:
            current = {k: v.detach().clone() for k, v in model.state_dict().items()}
            model.load_state_dict({**current, **state})
        model.eval()
        try:
            posts = [predict(model, y, with_timbre=False, precision=precision) for y in self.audio]
        finally:
            if current is not None:
                model.load_state_dict(current)
        return mean_note_f1(self.references, posts, self.thresholds)
