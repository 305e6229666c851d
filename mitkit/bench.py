"""Speed and memory of mitkit against basic-pitch, side by side, stage by stage, in one run.

Notebook: 04_speed_benchmarks

Systems (all run on the same audio, in the same run)
----------------------------------------------------
``mitkit-amt``
    ``mitkit.transcribe(..., instruments=1)``: CQT, AMT branch, note creation.
``mitkit-full``
    ``mitkit.transcribe(..., instruments=K)``: the above plus the timbre branch, note embeddings and
    spectral clustering with K given (default 4).
``basic-pitch``
    Spotify's basic-pitch 0.4.0 through its ONNX model (:func:`mitkit.baselines.basic_pitch_transcribe`).

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
>>> from mitkit.bench import run_bench, format_results, plot_bench
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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from . import __version__
from . import constants as C
from .errors import MitkitError

# torch and basic-pitch are imported inside functions: a basic-pitch measurement process must not
# carry torch in its peak memory.

logger = logging.getLogger(__name__)

__all__ = [
    "SYSTEMS", "STAGES", "TARGETS", "DEFAULT_LENGTHS",
    "synth_signal", "source_clip", "loop_to_length", "bench_audio",
    "BenchModel", "load_bench_model", "calibrate_thresholds",
    "stage_timings", "measure_system", "run_bench", "ratios", "check_targets",
    "format_results", "write_results", "plot_bench", "peak_rss_mib",
]

SYSTEMS = ("mitkit-amt", "mitkit-full", "basic-pitch")
SYSTEM_LABELS = {"mitkit-amt": "mitkit AMT-only", "mitkit-full": "mitkit full",
                 "basic-pitch": "basic-pitch 0.4.0 (ONNX)"}
STAGES = ("cqt", "amt", "timbre", "notes", "clustering")  # in pipeline order
STAGE_LABELS = {"cqt": "CQT", "amt": "AMT branch", "timbre": "timbre branch", "notes": "note creation",
                "clustering": "clustering"}
DEFAULT_LENGTHS = (10.0, 60.0, 600.0)  # seconds of audio
DEFAULT_INSTRUMENTS = 4  # K given to the full system
DEFAULT_REPEATS = 3  # timed calls per (system, length); the median is reported
LONG_SECONDS = 120.0  # files longer than this use ``long_repeats`` timed calls
DEFAULT_LONG_REPEATS = 1
WARMUP_SECONDS = 10.0  # warm-up calls run on at most this much of the audio
SYNTH_SECONDS = 12.0  # length of the synthetic source clip before looping
MEMORY_TARGET_SECONDS = 600.0  # the peak-memory target is for a 10-minute file

# Goals from the issues: reported and checked in the output, never asserted.
TARGETS = {
    "amt_ratio": 1.0,  # mitkit AMT-only time / basic-pitch time
    "full_ratio": 2.0,  # mitkit full (K given) time / basic-pitch time
    "rtf": 0.05,  # processing seconds per second of audio, each mitkit system
    "peak_rss_mib": 1024.0,  # peak RSS of each mitkit system on a 10-minute file, MiB (< 1 GiB)
}

_RESULT_MARKER = "MITKIT_BENCH_RESULT "  # prefix of the child process's JSON line on stdout
# The measurement process: reads measure_system's keywords as JSON on stdin, writes its row on stdout.
# For basic-pitch the mitkit package is registered without running its __init__ (which imports
# torch through mitkit.transcribe), so that basic-pitch's peak memory holds no torch.
_CHILD_CODE = """\
import importlib.util, json, sys
spec = json.loads(sys.stdin.read())
bare = spec.pop("_bare_package", None)
if bare:
    package = importlib.util.module_from_spec(importlib.util.spec_from_file_location(
        "mitkit", bare["init"], submodule_search_locations=[bare["dir"]]))
    package.__version__ = bare["version"]
    sys.modules["mitkit"] = package
from mitkit.bench import _RESULT_MARKER, measure_system
row = measure_system(**spec)
sys.stdout.write(_RESULT_MARKER + json.dumps(row) + "\\n")
"""


# ---- audio -------------------------------------------------------------------------------------

# MIDI range of each synthetic voice: bass, tenor, alto, soprano
SYNTH_VOICES = ((36, 52), (48, 64), (55, 72), (62, 81))


def synth_signal(seconds: float = SYNTH_SECONDS, *, seed: int = 0, sr: int = C.SAMPLE_RATE) -> np.ndarray:
    """A polyphonic test signal: four voices of harmonic tones, each with its own spectrum.

    Each voice walks through its MIDI range in steps of up to 4 semitones with notes of 0.25–1 s
    (10 % rests); a note is 8 harmonics with voice-specific amplitudes, a 10 ms attack, an
    exponential decay and a 20 ms release. Deterministic given ``seed``.

    Parameters
    ----------
    seconds : length in seconds (> 0).
    seed : seed of ``np.random.default_rng``.
    sr : sample rate in Hz.

    Returns
    -------
    y : float32 ``(round(seconds * sr),)``, peak amplitude 0.5.
    """
    if not seconds > 0:
        raise MitkitError(f"seconds={seconds} must be positive")
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    y = np.zeros(n)
    k = np.arange(1, 9)  # harmonic numbers
    for lo, hi in SYNTH_VOICES:
        spectrum = rng.uniform(0.2, 1.0, k.size) / k ** rng.uniform(0.5, 2.0)  # this voice's timbre
        decay = rng.uniform(0.5, 3.0)  # 1/s
        pitch, t = int(rng.integers(lo, hi + 1)), 0.0
        while t < seconds:
            duration = float(rng.choice([0.25, 0.5, 0.5, 1.0]))
            pitch = int(np.clip(pitch + rng.integers(-4, 5), lo, hi))
            a, b = int(t * sr), min(int((t + duration) * sr), n)
            t += duration
            if rng.random() < 0.1 or b <= a:
                continue  # a rest
            tt = np.arange(b - a) / sr  # (S,) seconds since the onset
            f0 = C.midi_to_hz(pitch)
            audible = k * f0 < 0.45 * sr
            tone = np.sin(2 * np.pi * f0 * tt[:, None] * k[audible]) @ spectrum[audible]  # (S,)
            envelope = np.minimum(tt / 0.01, 1.0) * np.exp(-decay * tt) * np.minimum((tt[::-1] + 1 / sr) / 0.02, 1.0)
            y[a:b] += envelope * tone
    return (0.5 * y / max(np.abs(y).max(), 1e-12)).astype(np.float32)


def source_clip(audio=None, *, seed: int = 0) -> tuple[np.ndarray, str]:
    """The clip that is looped to every benchmark length, and a description of it.

    ``audio`` (a path) is loaded as is; otherwise the bundled example when it exists, else
    :func:`synth_signal` with ``seed``. Returns a mono float32 waveform at 22,050 Hz.
    """
    from .audio import load_audio
    if audio is not None:
        return load_audio(audio), f"{Path(audio).name} (looped)"
    from .assets import example_path
    path = example_path()
    if path.exists():
        return load_audio(path), f"bundled example {path.name} (looped)"
    return synth_signal(SYNTH_SECONDS, seed=seed), f"synthetic 4-voice harmonic tones, seed {seed} (looped)"


def loop_to_length(y: np.ndarray, seconds: float, *, sr: int = C.SAMPLE_RATE) -> np.ndarray:
    """``y`` repeated (and cut) to ``round(seconds * sr)`` samples, same dtype."""
    n = int(round(seconds * sr))
    if n <= 0:
        raise MitkitError(f"seconds={seconds} must be long enough for one sample at sr={sr}")
    if len(y) == 0:
        raise MitkitError("audio length=0 must be positive to loop it")
    return np.resize(y, n)


def bench_audio(seconds: float, *, audio=None, seed: int = 0) -> tuple[np.ndarray, str]:
    """The benchmark waveform of ``seconds`` seconds: :func:`source_clip` looped to length."""
    clip, description = source_clip(audio, seed=seed)
    return loop_to_length(clip, seconds), description


# ---- model -------------------------------------------------------------------------------------

@dataclass
class BenchModel:
    """The mitkit network under test.

    Attributes
    ----------
    model : eval-mode :class:`mitkit.model.MitNet`.
    checkpoint : path that ``mitkit.transcribe(checkpoint=...)`` loads the same model from
        (None: the bundled model).
    thresholds : note-creation settings (keywords of :func:`mitkit.notes.create_notes`).
    description : one line for the report.
    trained : False for the untrained stand-in used while no bundled weights exist.
    """
    model: object
    checkpoint: str | None
    thresholds: dict
    description: str
    trained: bool


def load_bench_model(checkpoint=None, *, seed: int = 0) -> BenchModel:
    """The model to benchmark: ``checkpoint``, else the bundled model, else an untrained stand-in.

    While the bundled weights (``mitkit/weights/mitkit_base.pt``) do not exist yet, a seeded untrained
    :class:`~mitkit.model.MitNet` is used: same architecture, so the network's cost is the real one, but
    its notes are meaningless, so note creation and clustering are timed on whatever notes it makes
    (see :func:`calibrate_thresholds`). The report says so.
    """
    import torch

    from .checkpoint import bundled_checkpoint_path
    from .model import MitNet
    from .transcribe import thresholds_of
    if checkpoint is None and not bundled_checkpoint_path().exists():
        torch.manual_seed(seed)
        model = MitNet().eval()
        return BenchModel(model, None, thresholds_of({}),
                          f"UNTRAINED MitNet (seed {seed}): no bundled weights at {bundled_checkpoint_path()} yet; "
                          "network cost is real, notes are not", trained=False)
    from .transcribe import load_model
    model, ckpt = load_model(checkpoint)  # the very object (cached) that transcribe() uses
    name = str(bundled_checkpoint_path()) if checkpoint is None else str(checkpoint)
    trained = ckpt.get("trained", True)  # the untrained stand-in's file says False
    step = f", step {ckpt['step']}" if "step" in ckpt else ""
    description = ckpt.get("description") or f"checkpoint {name} (mitkit {ckpt.get('mitkit_version')}{step})"
    return BenchModel(model, None if checkpoint is None else str(checkpoint), thresholds_of(ckpt),
                      description, trained=bool(trained))


def calibrate_thresholds(Y_F: np.ndarray, Y_O: np.ndarray, *, frame_fraction: float = 0.03,
                         onset_fraction: float = 0.002) -> dict:
    """Thresholds at quantiles of an (untrained) model's posteriorgrams.

    An untrained network outputs ≈ 0.5 everywhere, so fixed thresholds give either no notes or notes
    on every pitch. Putting ``frame_threshold`` at the ``1 - frame_fraction`` quantile of ``Y_F``
    (3 %: about 2.5 of 84 pitches active) and ``onset_threshold`` at the ``1 - onset_fraction``
    quantile of ``Y_O`` gives note creation and clustering a realistic number of notes to work on
    (the seeded untrained model then makes ≈ 9 notes/s on the synthetic signal, which holds ≈ 7).
    Only for timing; a trained checkpoint carries tuned thresholds.

    Parameters
    ----------
    Y_F, Y_O : float ``(84, T)`` frame and onset posteriorgrams.
    frame_fraction, onset_fraction : fractions of bins in (0, 1) above the thresholds.

    Returns
    -------
    dict with ``onset_threshold``, ``frame_threshold`` (floats) and the default ``min_note_frames``,
    ``energy_tolerance``.
    """
    from .transcribe import thresholds_of
    for name, value in (("frame_fraction", frame_fraction), ("onset_fraction", onset_fraction)):
        if not 0 < value < 1:
            raise MitkitError(f"{name}={value} must be in (0, 1)")
    thresholds = thresholds_of({})
    thresholds["frame_threshold"] = float(np.quantile(Y_F, 1 - frame_fraction))
    thresholds["onset_threshold"] = float(np.quantile(Y_O, 1 - onset_fraction))
    return thresholds


def _prepare_model(checkpoint, workdir: Path, clip: np.ndarray, seed: int) -> tuple[BenchModel, dict]:
    """Load the model once in the parent and give the measurement processes a private copy of it:
    the untrained stand-in is written to ``workdir``, and the bundled checkpoint is copied there, so
    every process of one run loads the same network and thresholds even if the bundled file is
    replaced meanwhile (it is while a training run updates it)."""
    from .checkpoint import bundled_checkpoint_path, save_checkpoint
    from .inference import predict
    from .model import parameter_count
    bm = load_bench_model(checkpoint, seed=seed)
    if bm.trained and checkpoint is None:
        bm.checkpoint = str(shutil.copyfile(bundled_checkpoint_path(), workdir / "bundled.pt"))
    if not bm.trained and bm.checkpoint is None:
        post = predict(bm.model, clip[:int(30 * C.SAMPLE_RATE)], with_timbre=False)
        bm.thresholds = calibrate_thresholds(post.frames, post.onsets)
        path = save_checkpoint(workdir / "untrained.pt", {
            "model": bm.model.state_dict(), "model_config": bm.model.config.to_dict(),
            "thresholds": bm.thresholds, "trained": False, "description": bm.description})
        bm.checkpoint = str(path)
    info = {"description": bm.description, "trained": bm.trained, "checkpoint": checkpoint and str(checkpoint),
            "thresholds": bm.thresholds, "parameters": parameter_count(bm.model)}
    return bm, info


# ---- stage timings -----------------------------------------------------------------------------

class _StageClock:
    """Accumulates wall-clock seconds per stage name."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - t0


def stage_timings(audio, model, *, instruments: int = DEFAULT_INSTRUMENTS, thresholds: dict | None = None,
                  random_state: int = 0, return_outputs: bool = False, precision: str = "auto") -> dict:
    """Seconds spent in each stage of mitkit's pipeline on one waveform.

    Runs the same chunks as :func:`mitkit.inference.predict` (same σ pass, same context, the branches
    called exactly as ``MitNet.forward`` calls them) under ``torch.no_grad``, with a clock around each
    stage, then note creation and, for ``instruments > 1``, note embeddings and spectral clustering
    with K = ``instruments``. V is kept for the whole file (``(12, 84, T)`` float32, ≈ 4 kB per frame).

    Parameters
    ----------
    audio : float32 waveform ``(N,)`` at 22,050 Hz.
    model : eval-mode :class:`mitkit.model.MitNet`.
    instruments : K; 1 times the AMT-only pipeline (``timbre`` and ``clustering`` are then None).
    thresholds : keywords of :func:`mitkit.notes.create_notes` (None: its defaults).
    random_state : seed of the spectral clustering.
    return_outputs : also return ``outputs``: ``Y_F``, ``Y_O`` ``(84, T)``, ``V`` ``(12, 84, T)`` or None,
        ``notes`` (NOTE_DTYPE) and ``labels`` ``(N,)`` or None.

    Returns
    -------
    dict with seconds per stage ``cqt`` (CQT and power, including the σ pass), ``amt``, ``timbre``,
    ``notes``, ``clustering`` (of which ``note_embeddings``), their ``total``, and ``duration`` (s),
    ``n_frames``, ``n_chunks``, ``n_notes``.

    Examples
    --------
    >>> from mitkit.bench import bench_audio, load_bench_model, stage_timings
    >>> bm = load_bench_model()                                        # doctest: +SKIP
    >>> y, _ = bench_audio(10.0)                                       # doctest: +SKIP
    >>> stage_timings(y, bm.model, instruments=4, thresholds=bm.thresholds)  # doctest: +SKIP

    Notebook: 04_speed_benchmarks
    """
    import torch

    from .frontend import EnergyNorm
    from .inference import CHUNK_FRAMES, CONTEXT_FRAMES, _segment, chunk_spans, clip_scale, use_bf16
    from .notes import create_notes

    if isinstance(instruments, bool) or not isinstance(instruments, (int, np.integer)) \
            or not 1 <= instruments <= C.MAX_INSTRUMENTS:
        raise MitkitError(f"instruments={instruments!r} must be an integer 1..{C.MAX_INSTRUMENTS}")
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise MitkitError(f"audio shape={y.shape} must be (N,) with N > 0")
    with_timbre = instruments > 1
    if with_timbre:
        from .clustering import cluster_notes, note_embeddings
    device = next(model.parameters()).device
    bf16 = use_bf16(precision)
    y_t = torch.as_tensor(np.ascontiguousarray(y), device=device)
    n_frames = model.cqt.n_frames(y_t.shape[-1])
    spans = chunk_spans(n_frames, CHUNK_FRAMES)
    Y_F = np.empty((C.N_PITCHES, n_frames), dtype=np.float32)
    Y_O = np.empty_like(Y_F)
    V = np.empty((model.config.embedding_dim, C.N_PITCHES, n_frames), np.float32) if with_timbre else None
    clock = _StageClock()
    with torch.no_grad():
        with clock("cqt"):  # σ of the whole file, as predict measures it before the chunks
            if len(spans) == 1:
                sigma = float(EnergyNorm.clip_scale(EnergyNorm.power(model.cqt(y_t[None]))))
            else:
                sigma = clip_scale(model, y_t, chunk_frames=CHUNK_FRAMES, context_frames=CONTEXT_FRAMES)
        sigma_t = torch.tensor([sigma], device=device)
        for start, stop in spans:
            seg, offset = _segment(y_t, start, stop, CONTEXT_FRAMES)
            centre = slice(offset, offset + stop - start)
            with clock("cqt"):
                P = EnergyNorm.power(model.cqt(seg[None]))  # (1, 288, T_seg)
            with clock("amt"):
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                    frame_logit, onset_logit = model.amt(model.stack(model.amt_norm(P, sigma_t)))  # (1, 84, T_seg)
                frame_logit, onset_logit = frame_logit.float(), onset_logit.float()
                Y_F[:, start:stop] = torch.sigmoid(frame_logit[0, :, centre]).cpu().numpy()
                Y_O[:, start:stop] = torch.sigmoid(onset_logit[0, :, centre]).cpu().numpy()
            if with_timbre:
                with clock("timbre"):
                    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                        v = model.timbre(model.stack(model.timbre_norm(P, sigma_t))).float()  # (1, 12, 84, T_seg)
                    V[:, :, start:stop] = v[0, :, :, centre].cpu().numpy()
    with clock("notes"):
        notes = create_notes(Y_F, Y_O, **(thresholds or {}))
    labels = None
    if with_timbre:
        if len(notes) >= instruments:
            with clock("clustering"):
                with clock("note_embeddings"):
                    E = note_embeddings(notes, Y_F, V)  # (N, 12)
                labels = cluster_notes(E, instruments, random_state=random_state, pitches=notes["pitch"],
                                       amplitudes=notes["amplitude"])
        else:
            warnings.warn(f"{len(notes)} notes found, fewer than instruments={instruments}: clustering not timed",
                          stacklevel=2)
    out = {stage: clock.seconds.get(stage) for stage in STAGES}
    out["note_embeddings"] = clock.seconds.get("note_embeddings")
    out["total"] = sum(v for v in (out[s] for s in STAGES) if v is not None)
    out.update(duration=len(y) / C.SAMPLE_RATE, n_frames=n_frames, n_chunks=len(spans), n_notes=len(notes),
               precision="bf16" if bf16 else "fp32")
    if return_outputs:
        out["outputs"] = {"Y_F": Y_F, "Y_O": Y_O, "V": V, "notes": notes, "labels": labels}
    return out


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
        from .baselines import basic_pitch_transcribe

        def run(y):
            return len(basic_pitch_transcribe(y, sr=C.SAMPLE_RATE))
        return run
    from .transcribe import transcribe
    k = 1 if system == "mitkit-amt" else instruments

    def run(y):
        return len(transcribe(y, sr=C.SAMPLE_RATE, instruments=k, checkpoint=checkpoint,
                              keep_embeddings=keep_embeddings).notes)
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
    if system != "basic-pitch":
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
        from .inference import CHUNK_FRAMES
        from .transcribe import KEEP_EMBEDDINGS_SECONDS
        keep = keep_embeddings if keep_embeddings is not None else duration <= KEEP_EMBEDDINGS_SECONDS
        row["streamed"] = not keep and len(y) > CHUNK_FRAMES * C.HOP_LENGTH  # transcribe's second network pass
    if stages and system == "mitkit-full":
        bm = load_bench_model(checkpoint, seed=seed)
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
    systems : any of ``SYSTEMS``: ``"mitkit-amt"``, ``"mitkit-full"``, ``"basic-pitch"``.
    instruments : K given to the full system (2 … 8).
    checkpoint : mitkit checkpoint path; None: the bundled model, or an untrained stand-in (reported)
        while no bundled weights exist.
    repeats : timed calls per system and length (median reported); ``long_repeats`` for lengths
        above ``long_seconds``.
    warmup : untimed calls (on at most ``WARMUP_SECONDS`` of audio) before timing.
    audio : path of a recording to loop instead of the bundled example / synthetic signal.
    seed : seed of the synthetic signal and of the untrained stand-in.
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
        from .baselines import basic_pitch_model_path
        basic_pitch_model_path()  # fail early, with the install hint, when basic-pitch is missing
    machine = _machine()
    clip, audio_description = source_clip(audio, seed=seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mitkit-bench-") as workdir:
        bm, model_info = _prepare_model(checkpoint, Path(workdir), clip, seed)
        # every measurement loops this very clip, even if the bundled example appears or changes meanwhile
        clip_path = Path(workdir) / "clip.wav"
        sf.write(clip_path, clip, C.SAMPLE_RATE, subtype="FLOAT")
        jobs = [(system, length) for length in lengths for system in systems]
        bar = tqdm(jobs, disable=not progress, desc="bench", unit="run")
        for system, length in bar:
            bar.set_postfix_str(f"{system} {length:g} s")
            spec = {"system": system, "seconds": length, "checkpoint": bm.checkpoint, "instruments": int(instruments),
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
    results["memory_growth_mib"] = _memory_growth(rows)
    results["checks"] = check_targets(results)
    return results


def _row(rows, system, seconds):
    return next((r for r in rows if r["system"] == system and abs(r["seconds"] - seconds) < 1e-6), None)


def ratios(rows) -> list[dict]:
    """mitkit time / basic-pitch time per length: ``[{"seconds", "amt", "full"}, ...]`` (None where a
    system was not run)."""
    out = []
    for seconds in sorted({r["seconds"] for r in rows}):
        base = _row(rows, "basic-pitch", seconds)
        entry = {"seconds": seconds}
        for key, system in (("amt", "mitkit-amt"), ("full", "mitkit-full")):
            row = _row(rows, system, seconds)
            entry[key] = row["time"] / base["time"] if row and base and base["time"] > 0 else None
        out.append(entry)
    return out


def _memory_growth(rows) -> dict:
    """Peak RSS at the longest length minus at the shortest, per system (MiB; None if not measured)."""
    growth = {}
    for system in dict.fromkeys(r["system"] for r in rows):
        mine = sorted((r for r in rows if r["system"] == system), key=lambda r: r["seconds"])
        first, last = mine[0]["peak_rss_mib"], mine[-1]["peak_rss_mib"]
        growth[system] = None if len(mine) < 2 or first is None or last is None else last - first
    return growth


def check_targets(results: dict) -> list[dict]:
    """Each target of ``TARGETS`` against the measurements: ``[{"name", "seconds", "value", "target", "ok"}]``.

    ``amt_ratio`` and ``full_ratio`` per length; ``rtf`` per mitkit system and length; ``peak_rss_mib``
    per mitkit system at 10 minutes (``MEMORY_TARGET_SECONDS``) when that length was run.
    """
    targets, checks = results["targets"], []
    for entry in results["ratios"]:
        for key in ("amt", "full"):
            if entry[key] is not None:
                checks.append({"name": f"{key}_ratio", "seconds": entry["seconds"], "value": entry[key],
                               "target": targets[f"{key}_ratio"], "ok": entry[key] <= targets[f"{key}_ratio"]})
    for row in results["rows"]:
        if row["system"] == "basic-pitch":
            continue
        checks.append({"name": f"rtf {row['system']}", "seconds": row["seconds"], "value": row["rtf"],
                       "target": targets["rtf"], "ok": row["rtf"] <= targets["rtf"]})
        if abs(row["seconds"] - MEMORY_TARGET_SECONDS) < 1e-6 and row["peak_rss_mib"] is not None:
            checks.append({"name": f"peak_rss_mib {row['system']}", "seconds": row["seconds"],
                           "value": row["peak_rss_mib"], "target": targets["peak_rss_mib"],
                           "ok": row["peak_rss_mib"] < targets["peak_rss_mib"]})
    return checks


# ---- reporting ---------------------------------------------------------------------------------

def _length(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 120 and seconds % 60 == 0 else f"{seconds:g} s"


def _num(value, fmt: str, none: str = "–") -> str:
    return none if value is None else format(value, fmt)


def format_results(results: dict) -> str:
    """The benchmark as markdown: setup, one table of time / RTF / peak RSS, the ratios, the stage
    breakdown of mitkit and the targets."""
    cfg, model, machine, rows = results["config"], results["model"], results["machine"], results["rows"]
    K = cfg["instruments"]
    labels = {**SYSTEM_LABELS, "mitkit-amt": "mitkit AMT-only (K=1)", "mitkit-full": f"mitkit full (K={K})"}
    load = machine.get("load_before"), machine.get("load_after")
    threads = ", ".join(f"{labels[r['system']].split(' (')[0]} {r['threads'] or 'default'}"
                        for r in {r["system"]: r for r in rows}.values())
    lines = [
        "## mitkit bench",
        "",
        f"- model: {model['description']}" + ("" if model["trained"] else
                                             f" (thresholds set at posteriorgram quantiles: "
                                             f"onset {model['thresholds']['onset_threshold']:.4f}, "
                                             f"frame {model['thresholds']['frame_threshold']:.4f})"),
        f"- audio: {results['audio']['source']}, clip {results['audio']['clip_seconds']:.1f} s",
        f"- machine: {machine['cpu']}, {machine['cpu_count']} CPUs, threads: {threads}; "
        f"load average {_num(load[0] and load[0][0], '.2f')} before, {_num(load[1] and load[1][0], '.2f')} after; "
        + ", ".join(f"{k} {v}" for k, v in machine["versions"].items()),
        f"- protocol: {cfg['warmup']} warm-up call(s) on ≤ {cfg['warmup_seconds']:g} s, then the median of "
        f"{cfg['repeats']} timed calls ({cfg['long_repeats']} above {_length(cfg['long_seconds'])}); "
        f"RTF = time / duration; peak RSS of a fresh process per system and length; load = 1-minute load "
        f"average before → after the timed calls (above {machine['cpu_count']} the CPUs were shared)"
        + ("" if cfg["isolated"] else " (NOT isolated: peak RSS not measured)"),
        "",
        "| audio | system | time (s) | RTF | peak RSS (MiB) | notes | load |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        load = row.get("load") or [None, None]
        lines.append(f"| {_length(row['seconds'])} | {labels[row['system']]} | {row['time']:.3f} | {row['rtf']:.4f} "
                     f"| {_num(row['peak_rss_mib'], '.0f')} | {_num(row['n_notes'], 'd')} "
                     f"| {_num(load[0], '.1f')}→{_num(load[1], '.1f')} |")
    if any(e["amt"] is not None or e["full"] is not None for e in results["ratios"]):
        t = results["targets"]
        lines += ["", f"Time ratio mitkit / basic-pitch (targets: AMT-only ≤ {t['amt_ratio']:g}×, "
                      f"full ≤ {t['full_ratio']:g}×)", "",
                  "| audio | AMT-only | full |", "|---:|---:|---:|"]
        for e in results["ratios"]:
            lines.append(f"| {_length(e['seconds'])} | {_num(e['amt'], '.2f')}{'×' * (e['amt'] is not None)} "
                         f"| {_num(e['full'], '.2f')}{'×' * (e['full'] is not None)} |")
    staged = [r for r in rows if r.get("stages")]
    if staged:
        lines += ["", f"Stage breakdown of mitkit full (K={K}), median seconds (share of the stage sum); "
                      "CQT includes the σ pass, clustering includes the note-embedding aggregation", "",
                  "| audio | " + " | ".join(STAGE_LABELS[s] for s in STAGES) + " | stage sum | transcribe() |",
                  "|---:|" + "---:|" * (len(STAGES) + 2)]
        for row in staged:
            st = row["stages"]
            cells = [f"{st[s]:.3f} ({100 * st[s] / st['total']:.0f} %)" if st[s] is not None and st["total"]
                     else "–" for s in STAGES]
            note = " (streamed: 2 network passes)" if row.get("streamed") else ""
            lines.append(f"| {_length(row['seconds'])} | " + " | ".join(cells)
                         + f" | {st['total']:.3f} | {row['time']:.3f}{note} |")
    growth = {k: v for k, v in results["memory_growth_mib"].items() if v is not None}
    if growth:
        lengths = sorted({r["seconds"] for r in rows})
        lines += ["", f"Peak RSS growth {_length(lengths[0])} → {_length(lengths[-1])}: "
                  + ", ".join(f"{labels[k]} {v:+.0f} MiB" for k, v in growth.items())]
    if results["checks"]:
        lines += ["", "Targets (reported, not asserted):", ""]
        for c in results["checks"]:
            lines.append(f"- {'ok  ' if c['ok'] else 'MISS'} {c['name']} at {_length(c['seconds'])}: "
                         f"{c['value']:.4g} (target {'<' if 'rss' in c['name'] else '≤'} {c['target']:g})")
    return "\n".join(lines)


def write_results(results: dict, path, *, overwrite: bool = False) -> Path:
    """Write ``results`` as JSON; an existing file is only replaced when ``overwrite`` is true."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise MitkitError(f"path={str(path)!r} must not exist (pass overwrite=True to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n")
    return path


def plot_bench(results: dict):
    """Plotly figure of a benchmark: RTF and peak RSS against length per system, and mitkit's stage
    breakdown (seconds of processing per second of audio) per length.

    Returns
    -------
    plotly.graph_objects.Figure

    Notebook: 04_speed_benchmarks
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from .plots import track_colour
    rows = results["rows"]
    fig = make_subplots(rows=1, cols=3, subplot_titles=("Real-time factor (lower is faster)", "Peak RSS (MiB)",
                                                        "mitkit full: stages (RTF share)"))
    for i, system in enumerate(s for s in SYSTEMS if any(r["system"] == s for r in rows)):
        mine = sorted((r for r in rows if r["system"] == system), key=lambda r: r["seconds"])
        x = [r["seconds"] for r in mine]
        style = dict(mode="lines+markers", line=dict(color=track_colour(i)), legendgroup=system)
        fig.add_trace(go.Scatter(x=x, y=[r["rtf"] for r in mine], name=SYSTEM_LABELS[system], **style), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=[r["peak_rss_mib"] for r in mine], name=SYSTEM_LABELS[system],
                                 showlegend=False, **style), row=1, col=2)
    fig.add_hline(y=results["targets"]["rtf"], line=dict(dash="dot", color="grey"), row=1, col=1)
    staged = sorted((r for r in rows if r.get("stages")), key=lambda r: r["seconds"])
    for j, stage in enumerate(STAGES):
        fig.add_trace(go.Bar(x=[_length(r["seconds"]) for r in staged],
                             y=[(r["stages"][stage] or 0.0) / r["seconds"] for r in staged],
                             name=STAGE_LABELS[stage], marker_color=track_colour(j + 3)), row=1, col=3)
    fig.update_layout(barmode="stack", height=380, margin=dict(t=40, b=40))
    for col in (1, 2):
        fig.update_xaxes(type="log", title_text="audio length (s)", row=1, col=col)
    fig.update_yaxes(title_text="s / s", row=1, col=3)
    return fig
