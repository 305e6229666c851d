"""How often is the number of instruments counted right? The count rules side by side on count benchmarks.

Transcribes every mix of the given benchmarks once (bundled model unless ``--checkpoint``; notes and note
embeddings are cached in ``--cache``), then counts K with each rule of :data:`RULES` and prints the share
counted right per texture group (one-note-at-a-time parts, a polyphonic instrument) and per length, the
share off by more than one, and separation F1 with the counted K against the true K.

    mitkit count-bench --out data/count-val --split validation --n-pieces 4 --seed 0
    python scripts/count_study.py --on data/count-val [--cache runs/count-val.npz]

Tune on validation-split benchmarks only; run the test split once, to report.
"""
from __future__ import annotations

import argparse
import functools
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.evaluation.metrics import separation_metrics
from mitkit.instrument_count import count_instruments, count_voices, estimate_n_clusters
from mitkit.notes import NOTE_DTYPE, notes_to_seconds
from mitkit.transcription import group_notes


def rule_voices(notes, E, amplitudes):
    return min(count_voices(notes), len(notes))


def rule_timbre(notes, E, amplitudes):
    from mitkit.clustering import core_notes
    return estimate_n_clusters(E[core_notes(amplitudes)])


def rule_auto(notes, E, amplitudes, classifier=None):
    return count_instruments(notes, E, classifier).k  # no classifier: timbre groups, as transcribe does


RULES = {"voices": rule_voices, "timbre groups (mitkit 0.1's auto)": rule_timbre, "auto": rule_auto}


def benchmark_of(mix) -> str:
    """The benchmark folder's name of ``mix`` (its audio lies in BENCHMARK/mixes/)."""
    return Path(mix.audio).parent.parent.name


def transcribe_all(mixes, checkpoint, cache: Path | None):
    """Per mix: frame notes, note embeddings (unit rows), true part notes."""
    import mitkit
    store = dict(np.load(cache, allow_pickle=False)) if cache and cache.exists() else {}
    out = []
    for mix in mixes:
        key = f"{benchmark_of(mix)}/{Path(mix.audio).stem}"  # benchmarks of the same music share mix names
        if f"{key}/notes" not in store:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t = mitkit.transcribe(mix.audio, instruments=2, checkpoint=checkpoint, keep_embeddings=False)
            store[f"{key}/notes"] = t.frame_notes
            store[f"{key}/E"] = t.embeddings if t.embeddings is not None else np.zeros((0, 12))
        out.append((mix, store[f"{key}/notes"].astype(NOTE_DTYPE), store[f"{key}/E"]))
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, **store)
    return out


def group_of(mix) -> str:
    texture = mix.instrumentation
    return "polyphonic" if texture.startswith("poly") else "one note at a time"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--on", nargs="+", required=True, metavar="BENCHMARK")
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--cache", type=Path, default=None, help="npz cache of notes and embeddings per mix")
    ap.add_argument("--verbose", action="store_true", help="print every mix's count")
    ap.add_argument("--separation", action="store_true", help="also separation F1 with counted vs true K")
    args = ap.parse_args(argv)
    mixes = [m for folder in args.on for m in load_benchmark(folder)]
    data = transcribe_all(mixes, args.checkpoint, args.cache)
    from mitkit.checkpoint import load_checkpoint
    ckpt = load_checkpoint(args.checkpoint)
    classifier, temperature = ckpt.get("polyphony_classifier"), float(ckpt.get("affinity_temperature", 1.0))
    for name, rule in RULES.items():
        if name == "auto":
            rule = functools.partial(rule_auto, classifier=classifier)
        hits, far, sep_true, sep_counted = defaultdict(list), [], [], []
        for mix, notes, E in data:
            true_k = len(mix.parts)
            k = rule(notes, E, notes["amplitude"]) if len(notes) else 1
            if args.verbose:
                print(f"  {benchmark_of(mix):24} {mix.id:24} true {true_k} counted {k}")
            seconds = max(float(p[:, 1].max()) for p in mix.parts)
            for key in (group_of(mix), f"{round(seconds, -1):>4.0f} s", mix.instrumentation):
                hits[key].append(k == true_k)
            far.append(abs(k - true_k) > 1)
            if args.separation and len(notes) > true_k:
                est = notes_to_seconds(notes)
                refs = mix.parts
                for K, sink in ((true_k, sep_true), (k, sep_counted)):  # as transcribe groups them
                    labels, _ = group_notes(notes, E, min(K, len(notes)), temperature, 0, classifier)
                    sink.append(separation_metrics(refs, [est[labels == j] for j in range(K)])["separation_f1"])
        print(f"\n{name}: right on {np.mean([h for key, v in hits.items() if ' s' in key for h in v]):.1%} "
              f"of {len(data)} mixes, off by more than one on {np.mean(far):.1%}")
        for key in sorted(hits):
            print(f"  {key:20} {np.mean(hits[key]):6.1%}  ({len(hits[key])})")
        if args.separation:
            print(f"  separation F1: true K {np.mean(sep_true):.3f}, counted K {np.mean(sep_counted):.3f}")


if __name__ == "__main__":
    main()
