"""One recording, whole processes: `mitkit transcribe` against basic-pitch's own command, measured in one run.

What a user waits for at the command line — interpreter start, imports, model load, transcription and the
files written — for each system on the same file. The systems take turns (round robin, ``--repeats``
rounds) so that a shared machine's load falls on all of them alike; the median of each is printed with
its ratio to basic-pitch 0.4.0 (the figure that counts on a noisy machine).

    python scripts/bench_process.py [--audio FILE] [--repeats 5] [--loop N] [--only TEXT]

Targets (issue "Inference runtime"): full transcription with separation (K = 4) ≤ 1.0x basic-pitch's time,
AMT only (K = 1) ≤ 0.5x. ``--loop N`` plays the file N times in a row (longer audio), ``--only TEXT`` keeps
the systems whose name holds TEXT (and basic-pitch): e.g. ``--only "full (K=4)" --loop 4`` shows where
``--backend auto`` switches from onnxruntime to PyTorch (``mitkit.backends.TORCH_BREAK_EVEN_S``).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

import mitkit

BIN = Path(sys.executable).parent


def systems(audio: Path, out: Path) -> dict[str, list[str]]:
    def mitkit_cmd(k: str, backend: str) -> list[str]:
        return [str(BIN / "mitkit"), "transcribe", str(audio), "--instruments", k, "--backend", backend,
                "--out", str(out), "--overwrite"]
    return {"mitkit AMT only (K=1), PyTorch": mitkit_cmd("1", "torch"),
            "mitkit AMT only (K=1), onnxruntime": mitkit_cmd("1", "onnx"),
            "mitkit full (K=4), PyTorch": mitkit_cmd("4", "torch"),
            "mitkit full (K=4), onnxruntime": mitkit_cmd("4", "onnx"),
            "mitkit full (K=4), auto": mitkit_cmd("4", "auto"),
            "mitkit full (K=auto), onnxruntime": mitkit_cmd("auto", "onnx"),
            "basic-pitch 0.4.0": [str(BIN / "basic-pitch"), str(out), str(audio)]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--audio", type=Path, default=mitkit.example_path(), help="default: the bundled example")
    p.add_argument("--repeats", type=int, default=5, help="rounds; each system runs once per round")
    p.add_argument("--loop", type=int, default=1, help="play the audio this many times in a row")
    p.add_argument("--only", default="", help="keep the systems whose name holds this text (and basic-pitch)")
    args = p.parse_args()
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="mitkit-bench-process-") as tmp:
        audio = args.audio
        if args.loop > 1:
            y, sr = sf.read(str(args.audio), dtype="float32")
            audio = Path(tmp) / f"{args.audio.stem}-x{args.loop}.flac"
            sf.write(audio, np.concatenate([y] * args.loop), sr)
        seconds = sf.info(str(audio)).duration
        chosen = {name: cmd for name, cmd in systems(audio, Path(tmp) / "out").items()
                  if args.only in name or name.startswith("basic-pitch")}
        for r in range(args.repeats + 1):  # round 0 warms the file cache and is not counted
            for name, cmd in chosen.items():
                shutil.rmtree(Path(tmp) / "out", ignore_errors=True)
                (Path(tmp) / "out").mkdir()
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                if r:
                    times.setdefault(name, []).append(time.perf_counter() - t0)
    base = statistics.median(times["basic-pitch 0.4.0"])
    print(f"## Whole processes on {audio.name} ({seconds:.1f} s), median of {args.repeats} rounds\n")
    print("| system | wall time (s) | vs basic-pitch |\n|---|---:|---:|")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts):.2f} | {statistics.median(ts) / base:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
