"""Speed and memory of mitkit against basic-pitch, side by side, stage by stage, in one run.

Notebook: 04_speed_benchmarks

Systems (all run on the same audio, in the same run)
----------------------------------------------------
``mitkit-amt``
    ``mitkit.transcribe(..., instruments=1)``: CQT, AMT branch, note creation.
``mitkit-full``
    ``mitkit.transcribe(..., instruments=K)``: the above plus the timbre branch, note embeddings and
    spectral clustering with K given (default 4).
``mitkit-onnx-full``
    ``mitkit-full`` with ``backend="onnx"`` (onnxruntime, float32; PyTorch is not imported in its process).
``basic-pitch``
    Spotify's basic-pitch 0.4.0 through its ONNX model (:func:`mitkit.evaluation.baselines.basic_pitch_transcribe`).

Protocol
--------
- Audio: a source clip (the bundled example when it exists, else :func:`synth_signal`, a seeded
  four-voice harmonic-tone signal, or any file given as ``audio``) looped to each length
  (default 10 s, 60 s and 10 min).
- Each (system, length) runs in a fresh Python process: ``warmup`` untimed calls on the first
  ``WARMUP_SECONDS`` of the audio (model loading, one-off compilation), then ``repeats`` timed calls
  on the whole file (``long_repeats`` for files longer than ``long_seconds``). The time is the median
  of the timed calls; the real-time factor is ``RTF = time / duration`` (lower is faster).
- Peak memory is the process's peak resident set size (:func:`peak_rss_mib`: ``VmHWM`` on Linux,
  where ``getrusage(...).ru_maxrss`` would carry the parent's peak into the child; ``ru_maxrss``
  elsewhere), read right after the timed calls: it includes the interpreter, the libraries, the
  model and the audio, and it is not polluted by other systems or lengths. mitkit runs long files in chunks
  (:mod:`mitkit.inference`) and ``transcribe`` streams the embeddings of files longer than
  ``KEEP_EMBEDDINGS_SECONDS`` (``keep_embeddings=False``), so its peak should be nearly flat in length.
- Stage breakdown (in the ``mitkit-full`` process, after its peak RSS has been read):
  :func:`stage_timings` runs the chunks of :func:`mitkit.inference.predict` with a clock around each
  stage: CQT (including the whole-file pass that measures EnergyNorm's σ), AMT branch, timbre
  branch, note creation, clustering (note-embedding aggregation plus spectral clustering).
  It keeps V for the whole file, as ``transcribe`` does for files up to 5 minutes; for longer files
  ``transcribe`` runs the network twice instead (AMT pass, then a streamed timbre pass), so its total
  exceeds the stage sum.
- Ratios: mitkit time / basic-pitch time at the same length, from the same run.

Timings depend on the machine and on whatever else runs on it: the results record the CPU, the
thread count and the load average before and after, and speed claims should quote ratios measured
in one run (STYLE.md, principle 13) rather than absolute seconds. On a machine shared with other
jobs, torch's intra-op threads stall each other; ``threads=1`` (given to torch and onnxruntime
alike) then gives steadier and usually faster numbers for both systems.

Examples
--------
>>> from mitkit.evaluation.speed import run_bench
>>> from mitkit.evaluation.speed_report import format_results
>>> from mitkit.evaluation.speed_plots import plot_bench
>>> results = run_bench(lengths=(10, 60), repeats=3)   # doctest: +SKIP
>>> print(format_results(results))                     # doctest: +SKIP
>>> plot_bench(results).show()                         # doctest: +SKIP

The command line does the same: ``mitkit bench --lengths 10 60 600 --out bench.json``.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

from mitkit import constants as C
from mitkit.errors import MitkitError
from mitkit.evaluation.speed_report import SYSTEMS, TARGETS, check_targets, memory_growth, ratios
from mitkit.evaluation.stage_timings import (
    DEFAULT_INSTRUMENTS,
    STAGES,
    _prepare_model,
    bench_audio,
    load_bench_model,
    source_clip,
    stage_timings,
)
from mitkit.version import __version__

# torch and basic-pitch are imported inside functions: a basic-pitch measurement process must not
# carry torch in its peak memory.

logger = logging.getLogger(__name__)

__all__ = [
    "STAGES",
    "TARGETS",
    "DEFAULT_LENGTHS",
    "source_clip",
    "bench_audio",
    "load_bench_model",
    "stage_timings",
    "measure_system",
    "run_bench",
    "ratios",
    "check_targets",
    "peak_rss_mib",
]

DEFAULT_LENGTHS = (10.0, 60.0, 600.0)  # seconds of audio
DEFAULT_REPEATS = 3  # timed calls per (system, length); the median is reported
LONG_SECONDS = 120.0  # files longer than this use ``long_repeats`` timed calls
DEFAULT_LONG_REPEATS = 1
WARMUP_SECONDS = 10.0  # warm-up calls run on at most this much of the audio


_RESULT_MARKER = "MITKIT_BENCH_RESULT "  # prefix of the child process's JSON line on stdout
# The measurement process: reads measure_system's keywords as JSON on stdin, writes its row on stdout.
# For basic-pitch the mitkit package is registered without running its __init__ (which imports
# torch through mitkit.transcription), so that basic-pitch's peak memory holds no torch.
_CHILD_CODE = """\
import importlib.util, json, sys
spec = json.loads(sys.stdin.read())
bare = spec.pop("_bare_package", None)
if bare:
    package = importlib.util.module_from_spec(importlib.util.spec_from_file_location(
        "mitkit", bare["init"], submodule_search_locations=[bare["dir"]]))
    package.__version__ = bare["version"]
    sys.modules["mitkit"] = package
from mitkit.evaluation.speed import _RESULT_MARKER, measure_system
row = measure_system(**spec)
sys.stdout.write(_RESULT_MARKER + json.dumps(row) + "\\n")
"""


# ---- audio -------------------------------------------------------------------------------------


# ---- model -------------------------------------------------------------------------------------


# ---- stage timings -----------------------------------------------------------------------------


# ---- one (system, length) measurement ----------------------------------------------------------

def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB.

    On Linux this reads ``VmHWM`` from ``/proc/self/status``: ``getrusage(RUSAGE_SELF).ru_maxrss``
    keeps the high-water mark of the process image that ``fork`` copied from the parent across
    ``exec``, so a measurement process started by a 500 MiB parent would report at least 500 MiB
    whatever it did. Elsewhere it falls back to ``ru_maxrss``.
    """
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB → MiB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2 ** 20 if sys.platform == "darwin" else peak / 2 ** 10  # bytes on macOS, KiB on Linux


def _limit_onnx_threads(threads: int) -> None:
    """Make onnxruntime sessions created from now on in this process use ``threads`` intra-op threads
    (basic-pitch builds its session with default options), so both systems get the same threads."""
    import onnxruntime
    original = onnxruntime.InferenceSession
    if getattr(original, "_mitkit_threads", None) == threads:
        return

    def session(*args, **kwargs):
        options = kwargs.pop("sess_options", None) or onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        return original(*args, sess_options=options, **kwargs)

    session._mitkit_threads = threads
    onnxruntime.InferenceSession = session


def _system_call(system: str, checkpoint, instruments: int, keep_embeddings):
    """A callable ``waveform -> number of notes`` that runs ``system`` end to end."""
    if system == "basic-pitch":
        from mitkit.evaluation.baselines import basic_pitch_transcribe

        def run(y):
            return len(basic_pitch_transcribe(y, sr=C.SAMPLE_RATE))
        return run
    from mitkit.transcription import transcribe
    k = 1 if system == "mitkit-amt" else instruments
    backend = "onnx" if system == "mitkit-onnx-full" else "torch"

    def run(y):
        return len(transcribe(y, sr=C.SAMPLE_RATE, instruments=k, checkpoint=checkpoint, backend=backend,
                              keep_embeddings=keep_embeddings).frame_notes)
    return run


def _median(values):
    values = [v for v in values if v is not None]
    return float(statistics.median(values)) if values else None


def measure_system(system: str, seconds: float, *, checkpoint=None, instruments: int = DEFAULT_INSTRUMENTS,
                   repeats: int = DEFAULT_REPEATS, warmup: int = 1, audio=None, seed: int = 0,
                   stages: bool = True, keep_embeddings=None, threads: int | None = None) -> dict:
    """Time one system on one length of audio and read this process's peak RSS.

    Meant to run in a fresh process (``run_bench`` starts one per system and length), so that the
    peak RSS belongs to this measurement alone. Arguments as in :func:`run_bench`; ``checkpoint`` is
    the path ``transcribe`` loads (None: bundled).

    Returns
    -------
    dict: ``system``, ``seconds`` (audio duration), ``times`` (s, each timed call), ``time`` (median),
    ``rtf``, ``peak_rss_mib``, ``rss_before_mib`` (peak before the timed calls: libraries, model,
    audio, warm-up), ``n_notes``, ``threads``, ``repeats``, ``torch_loaded`` (whether torch is in
    this process: False for basic-pitch in its own process), and for ``mitkit-full`` with ``stages``:
    ``stages`` (median seconds per stage, see :func:`stage_timings`).
    """
    if system not in SYSTEMS:
        raise MitkitError(f"system={system!r} must be one of {SYSTEMS}")
    if system == "mitkit-onnx-full":  # checkpoint: an .onnx file (run_bench exports one), None: the shipped one
        os.environ["MITKIT_THREADS"] = str(threads or 0)  # read by mitkit.onnx_backend.OnnxNetwork
        n_threads = int(threads) if threads else None
    elif system != "basic-pitch":
        import torch
        if threads:
            torch.set_num_threads(int(threads))
        n_threads = torch.get_num_threads()
    elif threads:
        _limit_onnx_threads(int(threads))
        n_threads = int(threads)
    else:
        n_threads = None  # onnxruntime's default: one thread per physical core
    y, _ = bench_audio(seconds, audio=audio, seed=seed)
    duration = len(y) / C.SAMPLE_RATE
    run = _system_call(system, checkpoint, instruments, keep_embeddings)
    warm = y[:int(min(duration, WARMUP_SECONDS) * C.SAMPLE_RATE)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no notes found" from an untrained model's warm-up clip
        for _ in range(warmup):
            run(warm)
    rss_before = peak_rss_mib()
    load_before = _load_average()
    times, n_notes = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        n_notes = run(y)
        times.append(time.perf_counter() - t0)
    row = {"system": system, "seconds": duration, "times": times, "time": _median(times),
           "rtf": _median(times) / duration, "peak_rss_mib": peak_rss_mib(), "rss_before_mib": rss_before,
           "n_notes": n_notes, "threads": n_threads, "repeats": repeats, "isolated": False,
           "torch_loaded": "torch" in sys.modules, "load": [load_before, _load_average()]}
    if system == "mitkit-full":
        from mitkit.inference import CHUNK_FRAMES
        from mitkit.transcription import KEEP_EMBEDDINGS_SECONDS
        keep = keep_embeddings if keep_embeddings is not None else duration <= KEEP_EMBEDDINGS_SECONDS
        row["streamed"] = not keep and len(y) > CHUNK_FRAMES * C.HOP_LENGTH  # transcribe's second network pass
    if stages and system == "mitkit-full":
        bm = load_bench_model(checkpoint)
        runs = [stage_timings(y, bm.model, instruments=instruments, thresholds=bm.thresholds) for _ in range(repeats)]
        row["stages"] = {key: _median([r[key] for r in runs]) for key in (*STAGES, "note_embeddings", "total")}
        row["stages"]["n_notes"] = runs[-1]["n_notes"]
        row["stages"]["n_chunks"] = runs[-1]["n_chunks"]
    return row


def _run_isolated(spec: dict) -> dict:
    """``measure_system(**spec)`` in a fresh Python process; its JSON result."""
    env = dict(os.environ)
    package_dir = Path(__file__).resolve().parent
    package_root = str(package_dir.parent)  # so the child imports this mitkit
    if spec["system"] == "basic-pitch":
        spec = {**spec, "_bare_package": {"init": str(package_dir / "__init__.py"), "dir": str(package_dir),
                                          "version": __version__}}
    env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    proc = subprocess.run([sys.executable, "-c", _CHILD_CODE], input=json.dumps(spec), capture_output=True,
                          text=True, env=env)
    if proc.stderr.strip():
        logger.debug("bench %s %.0f s stderr:\n%s", spec["system"], spec["seconds"], proc.stderr)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(_RESULT_MARKER)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise MitkitError(f"benchmark of system={spec['system']!r} at seconds={spec['seconds']} must finish, but its "
                          f"process exited with code {proc.returncode}:\n{tail}")
    row = json.loads(lines[-1][len(_RESULT_MARKER):])
    row["isolated"] = True
    return row


# ---- the whole benchmark -----------------------------------------------------------------------

def _load_average() -> float | None:
    """The 1-minute load average (runnable processes), or None where the OS has none."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def _machine() -> dict:
    import torch
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {"mitkit": __version__, "python": platform.python_version(), "torch": torch.__version__}
    from importlib import metadata
    for package in ("basic-pitch", "onnxruntime", "scikit-learn"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {"cpu": cpu, "cpu_count": os.cpu_count(), "platform": platform.platform(), "versions": versions,
            "load_before": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


def _check_args(lengths, systems, instruments, repeats, long_repeats, warmup):
    if not lengths:
        raise MitkitError("lengths=() must hold at least one length in seconds")
    for length in lengths:
        if not (isinstance(length, (int, float)) and 0 < length < 24 * 3600):
            raise MitkitError(f"length={length!r} must be a positive number of seconds (under a day)")
    for system in systems:
        if system not in SYSTEMS:
            raise MitkitError(f"system={system!r} must be one of {SYSTEMS}")
    if isinstance(instruments, bool) or not isinstance(instruments, (int, np.integer)) \
            or not 2 <= instruments <= C.MAX_INSTRUMENTS:
        raise MitkitError(f"instruments={instruments!r} must be an integer 2..{C.MAX_INSTRUMENTS} "
                          "(K of the full system)")
    for name, value, low in (("repeats", repeats, 1), ("long_repeats", long_repeats, 1), ("warmup", warmup, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise MitkitError(f"{name}={value!r} must be an integer >= {low}")


def run_bench(lengths=DEFAULT_LENGTHS, *, systems=SYSTEMS, instruments: int = DEFAULT_INSTRUMENTS, checkpoint=None,
              repeats: int = DEFAULT_REPEATS, long_repeats: int = DEFAULT_LONG_REPEATS,
              long_seconds: float = LONG_SECONDS, warmup: int = 1, audio=None, seed: int = 0, stages: bool = True,
              keep_embeddings=None, threads: int | None = None, isolate: bool = True, progress: bool = True) -> dict:
    """Time and measure mitkit (AMT-only and full) and basic-pitch on the same audio at several lengths.

    Parameters
    ----------
    lengths : audio lengths in seconds (default 10 s, 60 s, 10 min).
    systems : any of ``SYSTEMS``: ``"mitkit-amt"``, ``"mitkit-full"``, ``"mitkit-onnx-full"``, ``"basic-pitch"``.
    instruments : K given to the full system (2 … 8).
    checkpoint : mitkit checkpoint path; None: the bundled model.
    repeats : timed calls per system and length (median reported); ``long_repeats`` for lengths
        above ``long_seconds``.
    warmup : untimed calls (on at most ``WARMUP_SECONDS`` of audio) before timing.
    audio : path of a recording to loop instead of the bundled example / synthetic signal.
    seed : seed of the synthetic signal.
    stages : also time each stage of mitkit (in the ``mitkit-full`` process, see :func:`stage_timings`).
    keep_embeddings : passed to ``transcribe`` (None: its default, which streams files over 5 minutes).
    threads : CPU threads of torch (mitkit) and onnxruntime (basic-pitch); None: each library's
        default for this machine (one per core). On a busy machine fewer threads than cores can be
        much faster: an intra-op thread that waits for a descheduled sibling stalls every layer.
    isolate : one fresh process per system and length (needed for a clean peak RSS). With False
        everything runs here (``threads`` then sets this process's thread counts) and
        ``peak_rss_mib`` is None.
    progress : a progress bar over the measurements.

    Returns
    -------
    dict (JSON-serialisable) with ``rows`` (one per system and length, see :func:`measure_system`),
    ``ratios`` (see :func:`ratios`), ``checks`` (see :func:`check_targets`), ``memory_growth_mib``,
    ``targets``, ``model``, ``audio``, ``config``, ``machine``.

    Notebook: 04_speed_benchmarks
    """
    from tqdm.auto import tqdm

    systems = tuple(systems)
    lengths = tuple(float(length) for length in lengths)
    _check_args(lengths, systems, instruments, repeats, long_repeats, warmup)
    if "basic-pitch" in systems:
        from mitkit.evaluation.baselines import basic_pitch_model_path
        basic_pitch_model_path()  # fail early, with the install hint, when basic-pitch is missing
    machine = _machine()
    clip, audio_description = source_clip(audio, seed=seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mitkit-bench-") as workdir:
        bm, model_info = _prepare_model(checkpoint, Path(workdir), clip, seed)
        # every measurement loops this very clip, even if the bundled example appears or changes meanwhile
        clip_path = Path(workdir) / "clip.wav"
        sf.write(clip_path, clip, C.SAMPLE_RATE, subtype="FLOAT")
        onnx_checkpoint = None  # the ONNX system runs the same network: the shipped export of the bundled one
        if "mitkit-onnx-full" in systems and (checkpoint is not None or not bm.trained):
            from mitkit.onnx_export import export_onnx
            onnx_checkpoint = str(export_onnx(Path(workdir) / "model.onnx", checkpoint=bm.checkpoint))
        jobs = [(system, length) for length in lengths for system in systems]
        bar = tqdm(jobs, disable=not progress, desc="bench", unit="run")
        for system, length in bar:
            bar.set_postfix_str(f"{system} {length:g} s")
            spec = {"system": system, "seconds": length, "instruments": int(instruments),
                    "checkpoint": onnx_checkpoint if system == "mitkit-onnx-full" else bm.checkpoint,
                    "repeats": int(long_repeats if length > long_seconds else repeats), "warmup": int(warmup),
                    "audio": str(clip_path), "seed": seed, "stages": stages,
                    "keep_embeddings": keep_embeddings, "threads": threads}
            if isolate:
                row = _run_isolated(spec)
            else:
                row = measure_system(**spec)
                row["peak_rss_mib"] = row["rss_before_mib"] = None  # this process's peak says nothing per run
            logger.info("%s %.0f s: %.3f s (RTF %.4f)", system, length, row["time"], row["rtf"])
            rows.append(row)
    machine["load_after"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    results = {"format": "mitkit-bench", "version": 1, "rows": rows, "targets": dict(TARGETS), "model": model_info,
               "audio": {"source": audio_description, "clip_seconds": len(clip) / C.SAMPLE_RATE},
               "config": {"lengths": list(lengths), "systems": list(systems), "instruments": int(instruments),
                          "repeats": repeats, "long_repeats": long_repeats, "long_seconds": long_seconds,
                          "warmup": warmup, "warmup_seconds": WARMUP_SECONDS, "isolated": isolate,
                          "keep_embeddings": keep_embeddings, "seed": seed},
               "machine": machine}
    results["ratios"] = ratios(rows)
    results["memory_growth_mib"] = memory_growth(rows)
    results["checks"] = check_targets(results)
    return results


# ---- reporting ---------------------------------------------------------------------------------


