"""Which note-finding weights a run keeps: note F1 on validation benchmarks (``mitkit train --select-on``).

The mixture loss is a poor guide to real pieces (a CPU fine-tune lowered it by 14 % while chorale note F1 fell
from 0.860 to 0.841), so a run given benchmarks keeps the AMT branch whose notes score best there. A fine-tune
scores the notes made at the tuned thresholds it inherited, the ones ``mitkit evaluate`` and ``transcribe`` will
use on the kept checkpoint. A run from scratch, whose thresholds ``mitkit tune`` will choose, scores the notes made
at the best of a few onset thresholds (:data:`SELECTION_ONSET_GRID`, ``create_notes``' other defaults): the onset
head's level drifts from one evaluation to the next, and at one fixed onset threshold the score followed that
drift (±0.05 between evaluations 300 steps apart) more than what the network hears. Beside the score, each
evaluation reports the recall of repeated, short and other notes on each benchmark (:meth:`BenchmarkSelection.scores`;
the run's ``log.csv``), so that a run meant for one kind of note shows whether it finds more of them, not only
whether the pooled score rose.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

#: Onset thresholds a run from scratch is scored at (the best of them counts); holds create_notes' default.
#: The onset head's level rises as a run goes on: the chamber run's best was 0.7 from step 7,800 on, and 0.8
#: scored less than 0.7 at step 9,300 (0.830 against 0.846), so the grid reaches one step past it.
SELECTION_ONSET_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


class BenchmarkSelection:
    """The mixes of validation benchmark ``folders`` (one or several; their mixes pooled), read once, scored
    by mean onset-only note F1 of the notes made at ``thresholds``, or (None) at the best onset threshold of
    :data:`SELECTION_ONSET_GRID` with ``create_notes``' other defaults."""

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
        self.candidates = ([dict(thresholds)] if thresholds is not None
                           else [{"onset_threshold": onset} for onset in SELECTION_ONSET_GRID])
        #: what a score is measured at (a stored best scored otherwise is scored again on resuming)
        self.scored_at = (dict(thresholds) if thresholds is not None
                          else {"onset_threshold": list(SELECTION_ONSET_GRID)})

    def note_f1(self, model, *, precision: str = "fp32", state: dict | None = None) -> float:
        """Mean note F1 of ``model`` (left in eval mode); with ``state`` (some of its state-dict entries, e.g.
        a stored best branch), of the model with those weights, which it gets back afterwards."""
        return self._best(self._posteriorgrams(model, precision, state))[0]

    def scores(self, model, *, precision: str = "fp32") -> dict[str, float]:
        """``{"note_f1": ..., "recall_<kind>_<benchmark>": ...}``: the mean note F1 of :meth:`note_f1` and, per
        benchmark folder (by name; by path where two share a name), the recall of each kind of note it holds
        (repeated, short, other; :func:`mitkit.training.tuning.recall_by_kind_of`) at the same thresholds, all
        from one pass of the network. A run from scratch also gets ``onset_threshold`` (the grid's best) and
        ``note_f1_default_onset`` (at ``create_notes``' defaults, as runs were scored before the grid)."""
        from mitkit.note_creation import DEFAULT_ONSET_THRESHOLD
        from mitkit.training.tuning import recall_by_kind_of

        posts = self._posteriorgrams(model, precision, None)
        f1, thresholds, by_candidate = self._best(posts)
        out = {"note_f1": f1}
        if self.thresholds is None:
            out["onset_threshold"] = thresholds["onset_threshold"]
            out["note_f1_default_onset"] = by_candidate[SELECTION_ONSET_GRID.index(DEFAULT_ONSET_THRESHOLD)]
        start = 0
        for name, mixes in self.benchmarks:
            recall = recall_by_kind_of(mixes, posts[start:start + len(mixes)], thresholds)
            out.update({f"recall_{kind}_{name}": value for kind, value in recall.items()})
            start += len(mixes)
        return out

    def _best(self, posts) -> tuple[float, dict, list[float]]:
        """The best mean note F1 over the candidate thresholds, those thresholds (the first among equals), and
        every candidate's."""
        from mitkit.training.tuning import mean_note_f1

        f1 = [mean_note_f1(self.references, posts, th) for th in self.candidates]
        top = int(np.argmax(f1))
        return f1[top], self.candidates[top], f1

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
