"""Throughput of the synthetic-data pipeline (``mitkit synth``): audio hours rendered per wall-clock minute.

Renders the first ``--jobs`` jobs of a seed's plan into a temporary folder (parse + perform + FluidSynth +
FLAC), then, as a baseline measured in the same run, renders the same note lists with pretty_midi's
``PrettyMIDI.fluidsynth`` (one call per stem, int16-scale output) and prints the ratio.

    python scripts/bench_synth.py --jobs 12 --workers 1
"""
from __future__ import annotations

import argparse
import itertools
import tempfile
import time

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=12, help="pieces to render")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--audio-format", default="flac", choices=("flac", "ogg"))
    args = ap.parse_args(argv)

    import concurrent.futures as cf

    from mitkit.constants import SAMPLE_RATE
    from mitkit.synth import datasets, splits
    from mitkit.synth.render import soundfont_path

    jobs = list(itertools.islice(datasets.plan_jobs(args.seed), args.jobs))
    splits.chorale_group.cache_clear()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        if args.workers == 1:
            entries = [datasets.render_job(j, tmp, audio_format=args.audio_format) for j in jobs]
        else:
            with cf.ProcessPoolExecutor(args.workers) as pool:
                entries = list(pool.map(datasets.render_job, jobs, [tmp] * len(jobs),
                                        chunksize=1))
        wall = time.perf_counter() - t0
    entries = [e for e in entries if e]
    stem_h = sum(datasets.stem_seconds(e) for e in entries) / 3600
    mix_h = sum(e["duration"] for e in entries) / 3600
    print(f"mitkit synth: {len(entries)} pieces, {stem_h:.3f} h stem audio ({mix_h:.3f} h of mixtures) "
          f"in {wall:.1f} s wall, {args.workers} worker(s)")
    print(f"  throughput: {stem_h / (wall / 60):.3f} stem-audio hours per minute, "
          f"{mix_h / (wall / 60):.3f} mixture hours per minute")

    # Baseline: pretty_midi's FluidSynth rendering of the same notes (render only, no parsing, no files).
    import pretty_midi

    from mitkit.synth import render

    n_base = min(4, len(entries))
    t_ours = t_base = 0.0
    secs = 0.0
    for e in entries[:n_base]:
        parts = [(np.asarray(s["notes"], float), render.StemStyle(**s["style"])) for s in e["stems"]]
        t = time.perf_counter()
        fonts = [s["soundfont"] for s in e["stems"]]
        render.render_stems(parts, soundfont=fonts, room=render.Room(**e["room"]))
        t_ours += time.perf_counter() - t
        t = time.perf_counter()
        for (notes, style), font in zip(parts, fonts):
            pm = pretty_midi.PrettyMIDI()
            ins = pretty_midi.Instrument(program=style.program)
            ins.notes = [pretty_midi.Note(int(v), int(p), float(a), float(b)) for a, b, p, v in notes]
            pm.instruments.append(ins)
            pm.fluidsynth(fs=SAMPLE_RATE, synthesizer=soundfont_path(font))
        t_base += time.perf_counter() - t
        secs += datasets.stem_seconds(e)
    print(f"render only, {n_base} pieces ({secs / 60:.1f} min stem audio): mitkit.synth.render {t_ours:.2f} s, "
          f"pretty_midi.fluidsynth {t_base:.2f} s -> {t_base / max(t_ours, 1e-9):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
