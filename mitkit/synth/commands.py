"""The data commands of ``mitkit``: ``synth`` (training stems) and the rendered benchmarks (``chorale-bench``,
``quartet-bench``, ``count-bench``): their arguments and what each runs (:mod:`mitkit.cli` adds them)."""
from __future__ import annotations

import argparse
import time

from mitkit.constants import AUDIO_FORMATS, SPLITS
from mitkit.processes import parse_shard
from mitkit.synth import render, scores


def add_synth_commands(sub):
    """``mitkit synth`` and the rendered benchmarks (synthetic data, :mod:`mitkit.synth`)."""
    p = sub.add_parser("synth", help="render synthetic stems for training (FluidSynth; resumable, shardable)",
                       description="Render a synthetic multi-instrument stem dataset into --out (manifest.json, "
                                   "audio/, pieces/). Rerun the same command to resume; use --shard i/N per machine.")
    add_synth_arguments(p)
    p.set_defaults(func=synth_main)
    for name, help_, add_arguments, run in (
            ("chorale-bench", "render the fixed chorale benchmark from test-split chorales",
             add_bench_arguments, bench_main),
            ("quartet-bench", "render string-quartet excerpts (fast passages, repeated notes, two violins) with "
                              "their reference notes", add_quartet_bench_arguments, quartet_bench_main),
            ("count-bench", "render mixes with a known number of instruments (monophonic parts, string quartets, "
                            "a polyphonic instrument alone or under melodies)", add_count_bench_arguments,
             count_bench_main)):
        p = sub.add_parser(name, help=help_)
        add_arguments(p)
        p.set_defaults(func=run)


def add_synth_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``mitkit synth`` (for :mod:`mitkit.cli`)."""
    p.add_argument("--out", required=True, help="dataset folder (created; an existing one is resumed)")
    p.add_argument("--hours", type=float, required=True, help="hours of stem audio to hold (over all shards)")
    p.add_argument("--seed", type=int, default=0, help="plan seed: same seed, same pieces")
    p.add_argument("--workers", type=int, default=1, help="rendering processes on this machine")
    p.add_argument("--shard", type=parse_shard, default=(0, 1), help="i/N: this machine renders shard i of N")
    p.add_argument("--audio-format", choices=sorted(AUDIO_FORMATS), default="flac")
    from mitkit.synth.datasets import RECIPES
    p.add_argument("--recipe", choices=sorted(RECIPES), default="general",
                   help="what the pieces are: general (every source, the bundled model's data; 30%% of the pieces "
                        "in a simulated room), chamber (quartet movements played by strings) or rooms (the general "
                        "music, every piece in a simulated room): supplements for `mitkit train --data A B`")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_score_bench_arguments(p: argparse.ArgumentParser, *, split: str, pieces: str,
                               articulation: str) -> None:
    """Arguments shared by the benchmarks rendered from scores (chorales, quartets)."""
    p.add_argument("--out", required=True, help="benchmark folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-seconds", type=float, default=30.0)
    p.add_argument("--split", choices=SPLITS, default=split,
                   help=f"take {pieces} from this split (validation: for tuning thresholds)")
    p.add_argument("--articulation", choices=sorted(scores.ARTICULATION_WEIGHTS), default=articulation,
                   help="how notes end: detached (a gap before every note; the chorale test benchmark's) or "
                        "written (held for the written length: repeated notes re-attacked without a gap)")
    p.add_argument("--soundfont", choices=sorted(render.SOUNDFONTS), default="FluidR3_GM",
                   help="sound source of every part; a family held out of training (OPL3_FM today) measures "
                        "how the model does on sounds it never heard")
    p.add_argument("--simulated-room", action="store_true",
                   help="the players also stand in a random simulated room (a practice room to a hall, 1-6 m from "
                        "the microphone), heard as a recording would: what reverberation costs")
    p.add_argument("--quiet", action="store_true")


def _score_bench_options(args) -> dict:
    return dict(seed=args.seed, max_seconds=args.max_seconds, split=args.split, articulation=args.articulation,
                soundfont=args.soundfont, simulated_room=args.simulated_room, progress=not args.quiet)


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``mitkit chorale-bench`` (for :mod:`mitkit.cli`)."""
    p.add_argument("--n-chorales", type=int, default=8)
    _add_score_bench_arguments(p, split="test", pieces="chorales", articulation="detached")


def add_quartet_bench_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``mitkit quartet-bench`` (for :mod:`mitkit.cli`)."""
    p.add_argument("--n-excerpts", type=int, default=8, help="excerpts, cycling through the split's movements")
    _add_score_bench_arguments(p, split="validation", articulation="written",
                               pieces="movements (music21's quartets are in train and validation only)")


def quartet_bench_main(args) -> int:
    """Run ``mitkit quartet-bench`` from parsed arguments."""
    from mitkit.synth.benchmarks import build_quartet_benchmark
    index = build_quartet_benchmark(args.out, n_excerpts=args.n_excerpts, **_score_bench_options(args))
    print(f"{args.out}: {len(index['mixes'])} mixes")
    return 0


def add_count_bench_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``mitkit count-bench`` (for :mod:`mitkit.cli`)."""
    from mitkit.synth.count_benchmarks import LENGTHS, TEXTURES
    p.add_argument("--out", required=True, help="benchmark folder")
    p.add_argument("--n-pieces", type=int, default=4, help="chorale sets per length (each gives every texture)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split", choices=SPLITS, default="validation",
                   help="take chorales from this split (validation for tuning, test for reporting)")
    p.add_argument("--lengths", type=float, nargs="+", default=list(LENGTHS), help="mix lengths in seconds")
    p.add_argument("--textures", nargs="+", choices=list(TEXTURES), default=list(TEXTURES))
    p.add_argument("--soundfont", default="FluidR3_GM",
                   help=f"a sound source ({', '.join(render.SOUNDFONTS)}) or 'mixed': one of the training "
                        "data's drawn per part")
    p.add_argument("--quiet", action="store_true")


def count_bench_main(args) -> int:
    """Run ``mitkit count-bench`` from parsed arguments."""
    from mitkit.synth.count_benchmarks import build_count_benchmark
    index = build_count_benchmark(args.out, n_pieces=args.n_pieces, seed=args.seed, split=args.split,
                                  lengths=args.lengths, textures=args.textures, soundfont=args.soundfont,
                                  progress=not args.quiet)
    print(f"{args.out}: {len(index['mixes'])} mixes")
    return 0


def synth_main(args) -> int:
    """Run ``mitkit synth`` from parsed arguments; prints a one-line summary."""
    from mitkit.synth.datasets import stem_seconds, synth
    t0 = time.time()
    man = synth(args.out, hours=args.hours, seed=args.seed, workers=args.workers, shard=args.shard,
                audio_format=args.audio_format, recipe=args.recipe, progress=not args.quiet)
    secs = sum(stem_seconds(p) for p in man["pieces"])
    print(f"{args.out}: {len(man['pieces'])} pieces, {secs / 3600:.2f} h of stem audio ({time.time() - t0:.0f} s wall "
          "this run)")
    return 0


def bench_main(args) -> int:
    """Run ``mitkit chorale-bench`` from parsed arguments."""
    from mitkit.synth.benchmarks import build_chorale_benchmark
    index = build_chorale_benchmark(args.out, n_chorales=args.n_chorales, **_score_bench_options(args))
    print(f"{args.out}: {len(index['mixes'])} mixes")
    return 0
