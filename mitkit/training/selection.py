"""Which note-finding weights a run keeps: note F1 on validation benchmarks (``mitkit train --select-on``).

The mixture loss is a poor guide to real pieces (a CPU fine-tune lowered it by 14 % while chorale note F1 fell
from 0.860 to 0.841), so a run given benchmarks keeps the AMT branch whose notes score best there. The notes are
made at the thresholds ``mitkit evaluate`` and ``transcribe`` will use on the kept checkpoint: a fine-tune's
inherited tuned ones, else ``create_notes``' defaults. Beside the score, each evaluation reports the recall of
repeated, short and other notes on each benchmark (:meth:`BenchmarkSelection.scores`; the run's ``log.csv``), so
that a run meant for one kind of note shows whether it finds more of them, not only whether the pooled score rose.
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
        names = [Path(folder).name for folder in folders]  # a folder's name, or its path where names repeat
        self.benchmarks = [(str(folder) if names.count(name) > 1 else name, load_benchmark(folder))
                           for folder, name in zip(folders, names)]
        mixes = [mix for _, bench in self.benchmarks for mix in bench]
        self.audio = [load_audio(mix.audio) for mix in mixes]
        self.references = [merge_tracks(mix.parts) for mix in mixes]
        self.thresholds = thresholds

    def note_f1(self, model, *, precision: str = "fp32", state: dict | None = None) -> float:
        """Mean note F1 of ``model`` (left in eval mode); with ``state`` (some of its state-dict entries, e.g.
        a stored best branch), of the model with those weights, which it gets back afterwards."""
        from mitkit.training.tuning import mean_note_f1

        return mean_note_f1(self.references, self._posteriorgrams(model, precision, state), self.thresholds)

    def scores(self, model, *, precision: str = "fp32") -> dict[str, float]:
        """``{"note_f1": ..., "recall_<kind>_<benchmark>": ...}``: the mean note F1 of :meth:`note_f1` and, per
        benchmark folder (by name; by path where two share a name), the recall of each kind of note it holds (repeated, short, other;
        :func:`mitkit.training.tuning.recall_by_kind_of`), all from one pass of the network."""
        from mitkit.training.tuning import mean_note_f1, recall_by_kind_of

        posts = self._posteriorgrams(model, precision, None)
        out = {"note_f1": mean_note_f1(self.references, posts, self.thresholds)}
        start = 0
        for name, mixes in self.benchmarks:
            recall = recall_by_kind_of(mixes, posts[start:start + len(mixes)], self.thresholds or {})
            out.update({f"recall_{kind}_{name}": value for kind, value in recall.items()})
            start += len(mixes)
        return out

    @torch.no_grad()
    def _posteriorgrams(self, model, precision: str, state: dict | None) -> list:
        from mitkit.inference import predict

        current = None
        if state is not None:
            current = {k: v.detach().clone() for k, v in model.state_dict().items()}
            model.load_state_dict({**current, **state})
        model.eval()
        try:
            return [predict(model, y, with_timbre=False, precision=precision) for y in self.audio]
        finally:
            if current is not None:
                model.load_state_dict(current)
