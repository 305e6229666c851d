"""Reproduce the validation numbers behind mitkit's post-processing rules.

For a checkpoint and validation-split benchmark folders (``mitkit chorale-bench --split validation``),
prints, over all mixes pooled:

- onset-only note F1 without and with the partial rule (``create_notes(partial_amplitude=0 / 0.6)``),
- per folder, onset-only note F1, precision and recall with a note's start moved back to its onset peak by up
  to 0 (off) … 48 frames (``create_notes(onset_lookback=)``),
- separation F1 with the true K, clustering every note vs only the confident ones (``amplitudes=``),
- how often the number of parts is counted right: ``estimate_n_clusters`` on all notes and on the
  confident ones, and ``count_voices`` at several ``min_fraction`` values.

    python scripts/validation_study.py --on data/chorale-val data/chorale-val2 [--checkpoint X.pt]
        [--onset-threshold 0.4 --frame-threshold 0.4 --min-note-frames 11]

Never point it at the test benchmark: these rules are chosen here.
"""
import argparse
import warnings

import numpy as np

from mitkit.checkpoint import load_checkpoint, model_from_checkpoint
from mitkit.clustering import cluster_notes, core_notes
from mitkit.embeddings import note_embeddings
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.evaluation.metrics import separation_metrics, transcription_metrics
from mitkit.instrument_count import count_voices, estimate_n_clusters
from mitkit.note_creation import DEFAULT_THRESHOLDS, create_notes
from mitkit.notes import merge_tracks, notes_to_seconds
from mitkit.training.tuning import mix_posteriorgrams

VOICE_FRACTIONS = (0.3, 0.35, 0.4, 0.45)
LOOKBACKS = (0, 8, 16, 24, 48)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--on", nargs="+", required=True, metavar="BENCHMARK", help="validation benchmark folders")
    ap.add_argument("--checkpoint", default=None, help="checkpoint (default: the bundled model)")
    ap.add_argument("--onset-threshold", type=float)
    ap.add_argument("--frame-threshold", type=float)
    ap.add_argument("--min-note-frames", type=int)
    args = ap.parse_args()
    ckpt = load_checkpoint(args.checkpoint)
    th = {**DEFAULT_THRESHOLDS, **ckpt.get("thresholds", {})}
    th.update({k: v for k, v in (("onset_threshold", args.onset_threshold), ("frame_threshold", args.frame_threshold),
                                 ("min_note_frames", args.min_note_frames)) if v is not None})
    temperature = float(ckpt.get("affinity_temperature", 1.0))
    folder_mixes = [(folder, mix) for folder in args.on for mix in load_benchmark(folder)]
    mixes = [mix for _, mix in folder_mixes]
    posts = mix_posteriorgrams(model_from_checkpoint(ckpt), mixes, with_timbre=True)
    rows = {}

    def add(key, value):
        rows.setdefault(key, []).append(value)

    warnings.simplefilter("ignore")  # empty tracks score 0 and say so
    for (folder, mix), post in zip(folder_mixes, posts):
        ref = merge_tracks(mix.parts)
        for lookback in LOOKBACKS:
            m = transcription_metrics(ref, notes_to_seconds(create_notes(post.frames, post.onsets, **th,
                                                                         onset_lookback=lookback)))
            add(f"{folder}: note F1 / P / R, onset_lookback={lookback}",
                (m["note_f1"], m["note_precision"], m["note_recall"]))
        for partial in (0.0, 0.6):
            notes = create_notes(post.frames, post.onsets, **th, partial_amplitude=partial)
            add(f"note F1, partial_amplitude={partial}", transcription_metrics(ref, notes_to_seconds(notes))["note_f1"])
        K = mix.n_parts
        E, table = note_embeddings(notes, post.frames, post.embeddings), notes_to_seconds(notes)
        for name, amplitudes in (("all notes", None), ("confident notes", notes["amplitude"])):
            labels = cluster_notes(E, K, pitches=notes["pitch"], temperature=temperature, amplitudes=amplitudes)
            add(f"separation F1 (true K), {name}",
                separation_metrics(mix.parts, [table[labels == k] for k in range(K)])["separation_f1"])
        add("count right, estimate_n_clusters, all notes", estimate_n_clusters(E) == K)
        add("count right, estimate_n_clusters, confident notes",
            estimate_n_clusters(E[core_notes(notes["amplitude"])]) == K)
        for f in VOICE_FRACTIONS:
            add(f"count right, count_voices(min_fraction={f})", count_voices(notes, min_fraction=f) == K)
    print(f"{len(mixes)} mixes, thresholds {th}, affinity temperature {temperature}")
    for key, values in rows.items():
        print(f"{key:55s} {' / '.join(f'{v:.4f}' for v in np.atleast_1d(np.mean(values, axis=0)))}")


if __name__ == "__main__":
    main()
