"""Shared by the scratch studies in this folder: the shipped model's posteriorgrams of validation benchmarks, and
one line of scores for notes made from them, as `mitkit tune` scores (mean note F1 and note precision over the
mixes, recall of repeated / short / other notes pooled over them)."""
import warnings

import numpy as np

from mitkit.checkpoint import load_checkpoint, model_from_checkpoint
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.evaluation.metrics import NOTE_KINDS, recall_by_kind, transcription_metrics
from mitkit.notes import merge_tracks, notes_to_seconds
from mitkit.training.tuning import mix_posteriorgrams

warnings.simplefilter("ignore")
CHECKPOINT = load_checkpoint()


def posteriorgrams(benches) -> dict:
    """``{name: (mixes, posteriorgrams)}`` of ``data/NAME`` for each name, with the shipped model."""
    model = model_from_checkpoint(CHECKPOINT)
    return {b: (mixes, mix_posteriorgrams(model, mixes)) for b in benches for mixes in [load_benchmark(f"data/{b}")]}


def score_line(name, mixes, posts, make_notes) -> str:
    """``make_notes(posteriorgram)`` (frames) for every mix, scored against its parts."""
    f1, precision, kinds = [], [], {k: [0, 0] for k in NOTE_KINDS}
    for mix, p in zip(mixes, posts):
        est = notes_to_seconds(make_notes(p))
        m = transcription_metrics(merge_tracks(mix.parts), est)
        f1.append(m["note_f1"])
        precision.append(m["note_precision"])
        for k, (found, total) in recall_by_kind(mix.parts, est).items():
            kinds[k][0] += found
            kinds[k][1] += total
    recalls = "/".join(f"{found / total:.3f}" if total else "-" for found, total in kinds.values())
    return f"{name[:22]:22s} F1 {np.mean(f1):.3f} P {np.mean(precision):.3f} rk {recalls}"
