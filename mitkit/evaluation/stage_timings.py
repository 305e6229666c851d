"""Time per pipeline stage (CQT, AMT branch, timbre branch, note creation, clustering) on one clip.

The speed harness (:mod:`mitkit.evaluation.speed`) and notebook 04 use it; the model used is the bundled
checkpoint (or another one), with thresholds calibrated so synthetic test audio yields notes.

Notebook: 04_speed_benchmarks
"""
from __future__ import annotations

import contextlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mitkit import constants as C
from mitkit.errors import MitkitError, warn
from mitkit.synth.tones import SYNTH_SECONDS, synth_signal

DEFAULT_INSTRUMENTS = 4  # K given to the full system
STAGES = ("cqt", "amt", "timbre", "notes", "clustering")  # in pipeline order


STAGE_LABELS = {"cqt": "CQT", "amt": "AMT branch", "timbre": "timbre branch", "notes": "note creation",
                "clustering": "clustering"}


def source_clip(audio=None, *, seed: int = 0) -> tuple[np.ndarray, str]:
    """The clip that is looped to every benchmark length, and a description of it.

    ``audio`` (a path) is loaded as is; otherwise the bundled example when it exists, else
    :func:`synth_signal` with ``seed``. Returns a mono float32 waveform at 22,050 Hz.
    """
    from mitkit.audio import load_audio
    if audio is not None:
        return load_audio(audio), f"{Path(audio).name} (looped)"
    from mitkit.assets import example_path
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


@dataclass
class BenchModel:
    """The mitkit network under test.

    Attributes
    ----------
    model : eval-mode :class:`mitkit.model.MitNet`.
    checkpoint : path that ``mitkit.transcribe(checkpoint=...)`` loads the same model from
        (None: the bundled model).
    thresholds : note-creation settings (keywords of :func:`mitkit.note_creation.create_notes`).
    description : one line for the report.
    trained : False for a checkpoint of untrained weights (marked so in the file).
    """
    model: object
    checkpoint: str | None
    thresholds: dict
    description: str
    trained: bool


def load_bench_model(checkpoint=None) -> BenchModel:
    """The model to benchmark: ``checkpoint``, else the bundled model.

    A checkpoint marked ``"trained": False`` (the tests' random weights) is timed as it is; its notes are
    meaningless, so note creation and clustering are timed on whatever notes it makes (see
    :func:`calibrate_thresholds`). The report says so.
    """
    from mitkit.checkpoint import bundled_checkpoint_path, load_model, thresholds_of
    model, ckpt = load_model(checkpoint)  # the very object (cached) that transcribe() uses
    name = f"the bundled {bundled_checkpoint_path().name}" if checkpoint is None else str(checkpoint)  # no machine path
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
    from mitkit.checkpoint import thresholds_of
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
    from mitkit.checkpoint import bundled_checkpoint_path, save_checkpoint
    from mitkit.inference import predict
    from mitkit.model import parameter_count
    bm = load_bench_model(checkpoint)
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
                  random_state: int = 0, return_outputs: bool = False, precision: str = "auto",
                  chunk_frames: int | None = None, context_frames: int | None = None) -> dict:
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
    thresholds : keywords of :func:`mitkit.note_creation.create_notes` (None: its defaults).
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
    >>> from mitkit.evaluation.stage_timings import bench_audio, load_bench_model, stage_timings
    >>> bm = load_bench_model()                                        # doctest: +SKIP
    >>> y, _ = bench_audio(10.0)                                       # doctest: +SKIP
    >>> stage_timings(y, bm.model, instruments=4, thresholds=bm.thresholds)  # doctest: +SKIP

    Notebook: 04_speed_benchmarks
    """
    from mitkit.inference import CHUNK_FRAMES, CONTEXT_FRAMES, chunk_spans, predict, use_bf16
    from mitkit.note_creation import create_notes

    if isinstance(instruments, bool) or not isinstance(instruments, (int, np.integer)) \
            or not 1 <= instruments <= C.MAX_INSTRUMENTS:
        raise MitkitError(f"instruments={instruments!r} must be an integer 1..{C.MAX_INSTRUMENTS}")
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise MitkitError(f"audio shape={y.shape} must be (N,) with N > 0")
    with_timbre = instruments > 1
    if with_timbre:
        from mitkit.clustering import cluster_notes
        from mitkit.embeddings import note_embeddings
    clock = _StageClock()
    chunking = {"chunk_frames": chunk_frames or CHUNK_FRAMES, "context_frames": context_frames or CONTEXT_FRAMES}
    # the network's stages are timed inside predict itself: the timed pass is the real one
    post = predict(model, y, with_timbre=with_timbre, precision=precision, timer=clock, **chunking)
    Y_F, Y_O, V = post.frames, post.onsets, post.embeddings
    n_frames, bf16 = Y_F.shape[1], use_bf16(precision)
    spans = chunk_spans(n_frames, chunking["chunk_frames"])
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
            warn(f"{len(notes)} notes found, fewer than instruments={instruments}: clustering not timed")
    out = {stage: clock.seconds.get(stage) for stage in STAGES}
    out["note_embeddings"] = clock.seconds.get("note_embeddings")
    out["total"] = sum(v for v in (out[s] for s in STAGES) if v is not None)
    out.update(duration=len(y) / C.SAMPLE_RATE, n_frames=n_frames, n_chunks=len(spans), n_notes=len(notes),
               precision="bf16" if bf16 else "fp32")
    if return_outputs:
        out["outputs"] = {"Y_F": Y_F, "Y_O": Y_O, "V": V, "notes": notes, "labels": labels}
    return out
