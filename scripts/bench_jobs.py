"""Whole-corpus throughput: `mitkit transcribe DIR --recursive --jobs N` against `--jobs 1`, measured in one run.

Writes ``--files`` synthetic recordings of ``--seconds`` each (4-voice harmonic tones, seeded) into a
temporary folder, transcribes them as whole processes with 1 and with N workers, and prints the wall
times and the speed-up ratio (the figure that counts on a shared, noisy machine).

    python scripts/bench_jobs.py --files 40 --seconds 10 --jobs 2
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

from mitkit import constants as C
from mitkit.synth.tones import synth_signal


def run(corpus: Path, out: Path, jobs: int, instruments: str, backend: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mitkit.cli", "transcribe", str(corpus), "--recursive", "--out", str(out),
                    "--jobs", str(jobs), "--instruments", instruments, "--backend", backend],
                   check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=40)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--instruments", default="4")
    p.add_argument("--backends", nargs="+", default=["torch", "onnx"], choices=["torch", "onnx"])
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="mitkit-bench-jobs-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for i in range(args.files):
            sf.write(corpus / f"{i:03d}.flac", synth_signal(args.seconds, seed=i), C.SAMPLE_RATE)
        for backend in args.backends:
            one = run(corpus, Path(tmp) / f"{backend}1", 1, args.instruments, backend)
            many = run(corpus, Path(tmp) / f"{backend}N", args.jobs, args.instruments, backend)
            print(f"{args.files} files × {args.seconds:g} s, --instruments {args.instruments}, --backend {backend}: "
                  f"--jobs 1 {one:.1f} s, --jobs {args.jobs} {many:.1f} s, speed-up {one / many:.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
