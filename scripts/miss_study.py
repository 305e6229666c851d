"""Where the notes are lost: why each reference note that a checkpoint misses is missed, by kind of note.

For a checkpoint (its tuned thresholds) and benchmark folders, prints per folder a table of the missed notes of
each kind (repeated, short, other: :func:`mitkit.evaluation.metrics.note_kinds`) by reason (late or early, inside
an earlier note of its pitch, only the octave below found, another pitch, nothing:
:func:`mitkit.evaluation.metrics.missed_by_reason`); ``--reonset`` adds the note F1 and the recall of each kind
when notes are also split at onset peaks of at least each given value inside a sounding note
(``create_notes(reonset_threshold=)``). ``--by-instrument`` adds, over all the folders, each instrument's (each
part name's) share of notes found, a column per folder, the worst first (each part matched on its own against
every found note by :func:`mitkit.evaluation.metrics.recall_by_kind`).

    python scripts/miss_study.py --on data/quartet-mvt-val data/chorale-val-w [--checkpoint X.pt] \\
        [--reonset 0.5 0.4 0.3]
    python scripts/miss_study.py --on data/count-val data/count-val-OPL3_FM data/count-val-csound_GM --by-instrument

A validation tool: never choose anything on the test benchmarks.
"""
from __future__ import annotations

import argparse
import warnings
from collections import defaultdict
from pathlib import Path

from mitkit.checkpoint import load_model, thresholds_of
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.evaluation.metrics import MISS_REASONS, NOTE_KINDS, missed_by_reason, note_kinds, recall_by_kind
from mitkit.note_creation import create_notes
from mitkit.notes import merge_tracks, notes_to_seconds
from mitkit.training.tuning import mean_note_f1, mix_posteriorgrams, recall_by_kind_of


def found_notes(posteriorgrams, thresholds: dict) -> list:
    """Each mix's notes (seconds, all tracks) made from its posteriorgrams at ``thresholds``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [notes_to_seconds(create_notes(p.frames, p.onsets, **thresholds)) for p in posteriorgrams]


def miss_table(mixes, estimates) -> list[str]:
    """Markdown rows: per kind of note, how many there are, how many are missed, and why (``estimates``: each
    mix's :func:`found_notes`)."""
    missed = {k: dict.fromkeys(MISS_REASONS, 0) for k in NOTE_KINDS}
    totals = dict.fromkeys(NOTE_KINDS, 0)
    for mix, est in zip(mixes, estimates):
        for kind, reasons in missed_by_reason(mix.parts, est).items():
            for reason, n in reasons.items():
                missed[kind][reason] += n
        for part in mix.parts:
            for kind in note_kinds(part):
                totals[kind] += 1
    rows = ["| kind | notes | missed | " + " | ".join(MISS_REASONS) + " |", "|---" + "|---:" * (2 + len(MISS_REASONS)) + "|"]
    for kind in NOTE_KINDS:
        rows.append(f"| {kind} | {totals[kind]} | {sum(missed[kind].values())} | "
                    + " | ".join(str(missed[kind][r]) for r in MISS_REASONS) + " |")
    return rows


def found_by_instrument(mixes, estimates) -> dict[str, list[int]]:
    """Per part name (an instrument, or a voice), ``[notes found, notes]`` over ``mixes`` (``estimates``: each
    mix's :func:`found_notes`)."""
    found = defaultdict(lambda: [0, 0])
    for mix, est in zip(mixes, estimates):
        for name, part in zip(mix.part_names, mix.parts):
            for hit, total in recall_by_kind([part], est).values():
                found[name][0] += hit
                found[name][1] += total
    return dict(found)


def instrument_table(by_folder: dict[str, dict[str, list[int]]]) -> list[str]:
    """Markdown rows: each instrument's share of notes found in each folder (blank where it does not play), its
    notes in all; the lowest mean share first."""
    names = {name for found in by_folder.values() for name in found}

    def share(name, folder):
        hit, total = by_folder[folder].get(name, (0, 0))
        return hit / total if total else None

    def mean_share(name):
        shares = [x for x in (share(name, f) for f in by_folder) if x is not None]
        return sum(shares) / len(shares)

    rows = ["| instrument | " + " | ".join(Path(f).name for f in by_folder) + " | notes |",
            "|---" + "|---:" * (len(by_folder) + 1) + "|"]
    for name in sorted(names, key=lambda n: (mean_share(n), n)):
        cells = [share(name, f) for f in by_folder]
        rows.append(f"| {name} | " + " | ".join("" if x is None else f"{x:.2f}" for x in cells)
                    + f" | {sum(by_folder[f].get(name, (0, 0))[1] for f in by_folder)} |")
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--on", nargs="+", required=True, metavar="BENCHMARK", help="benchmark folders (validation)")
    ap.add_argument("--checkpoint", default=None, help="checkpoint (default: the bundled model)")
    ap.add_argument("--reonset", type=float, nargs="*", default=[], metavar="R",
                    help="also score notes split at onset peaks of at least R inside a sounding note")
    ap.add_argument("--by-instrument", action="store_true",
                    help="also each instrument's share of notes found, a column per folder, the worst first")
    args = ap.parse_args(argv)
    model, ckpt = load_model(args.checkpoint)
    thresholds = thresholds_of(ckpt)
    print(f"thresholds: {thresholds}")
    by_folder = {}
    for folder in args.on:
        mixes = load_benchmark(folder)
        posteriorgrams = mix_posteriorgrams(model, mixes)
        print(f"\n{Path(folder).name} ({len(mixes)} mixes): missed notes by reason")
        estimates = found_notes(posteriorgrams, thresholds)  # made once: the miss table and the instruments read them
        print("\n".join(miss_table(mixes, estimates)))
        refs = [merge_tracks(m.parts) for m in mixes]
        for reonset in [thresholds.get("reonset_threshold"), *args.reonset]:
            th = {**thresholds, "reonset_threshold": reonset}
            recall = recall_by_kind_of(mixes, posteriorgrams, th)
            print(f"  re-onsets at {reonset}: note F1 {mean_note_f1(refs, posteriorgrams, th):.4f}, recall "
                  + ", ".join(f"{k} {v:.3f}" for k, v in recall.items()))
        if args.by_instrument:
            by_folder[folder] = found_by_instrument(mixes, estimates)
    if args.by_instrument:
        print("\nnotes found by instrument (onset within 50 ms at its pitch, any track)")
        print("\n".join(instrument_table(by_folder)))


if __name__ == "__main__":
    main()
