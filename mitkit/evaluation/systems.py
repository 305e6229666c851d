"""mitkit's own systems for evaluation, and the side-by-side comparison that ``mitkit evaluate`` runs.

Notebook: 03_embeddings_and_clustering

Every system follows :class:`mitkit.evaluation.benchmarks.System` (audio in, one note array per instrument out) and is
scored by :func:`mitkit.evaluation.benchmarks.evaluate_benchmark` with the protocol of
:mod:`mitkit.evaluation.metrics`. The systems that :func:`evaluate_systems` knows by name:

``mitkit``
    note-level clustering (:func:`mitkit.transcription`), with K = the true number of parts (oracle count,
    labelled ``mitkit``), with ``instruments="auto"`` (labelled ``mitkit (auto K)``) and with
    ``instruments="voices"`` (``mitkit (voices K)``); the last two report ``instrument_count_accuracy``.
``mitkit-frame``
    frame-level clustering (``clustering="frame"``), oracle K.
``pitch-order``
    mitkit's notes (``instruments=1``) split by :func:`mitkit.evaluation.baselines.pitch_order_tracks`, oracle K.
``random``
    mitkit's notes split by :func:`mitkit.evaluation.baselines.random_tracks` (seed 0), oracle K: the floor.
``basic-pitch``
    Spotify's basic-pitch 0.4.0 (ONNX), instrument-agnostic: transcription metrics only.

Every mitkit system uses the note-creation thresholds stored in the checkpoint (tuned on the validation
split, never on the evaluated set); basic-pitch uses its own defaults.

Shared network pass
    Note creation does not depend on K, so the note-level systems (``mitkit`` with any count,
    ``pitch-order``, ``random``) share one :func:`mitkit.transcription` call per mix (``instruments="auto"``,
    which runs both branches): :class:`SharedTranscriptions` keeps its notes and note embeddings, and a
    system with oracle K re-clusters the same embeddings with the same seed, which is exactly what
    ``mitkit.transcribe(instruments=K)`` computes. ``mitkit-frame`` needs the frame embeddings V and
    runs its own pass. So that real-time factors stay comparable, :func:`evaluate_systems` computes the
    shared pass for every mix first and adds its time to the runtime of each system that used it
    (``shared_runtime_s`` in the per-mix records): their RTF is "network + their own post-processing",
    like basic-pitch's.

Examples
--------
>>> from mitkit.evaluation.systems import evaluate_systems
>>> from mitkit.evaluation.benchmarks import format_markdown_table
>>> report = evaluate_systems("chorale-bench-v1", systems=("mitkit", "pitch-order"))  # doctest: +SKIP
>>> print(format_markdown_table(report["results"]))  # doctest: +SKIP
"""
from __future__ import annotations

import functools
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from mitkit.errors import MitkitError, warn

if TYPE_CHECKING:
    from mitkit.evaluation.benchmarks import BenchmarkMix

logger = logging.getLogger(__name__)

__all__ = [
    "SYSTEM_NAMES",
    "COUNT_MODES",
    "BENCHMARK_ENV",
    "SharedTranscriptions",
    "Mitkit",
    "parse_system_names",
    "make_systems",
    "checkpoint_thresholds",
    "default_benchmark",
    "evaluate_systems",
]

SYSTEM_NAMES = ("mitkit", "mitkit-frame", "pitch-order", "random", "basic-pitch")  # in table order
COUNT_MODES = ("oracle", "auto", "voices", "both", "all")  # count(s) the `mitkit` system is evaluated with
_COUNTS_OF_MODE = {"oracle": ("oracle",), "auto": ("auto",), "voices": ("voices",), "both": ("oracle", "auto"),
                   "all": ("oracle", "auto", "voices")}
BENCHMARK_ENV = "MITKIT_BENCHMARK"  # environment variable holding the default benchmark folder
REPORT_FORMAT = "mitkit-evaluation"
AUTO_LABEL = "mitkit (auto K)"  # table label of note-level mitkit with an estimated count
VOICES_LABEL = "mitkit (voices K)"  # ... with K counted as simultaneous voices


class SharedTranscriptions:
    """One note-level :func:`mitkit.transcription` per audio file, shared by the systems of one evaluation.

    Each file is transcribed once with ``instruments="auto"``; the result is kept without its
    posteriorgrams (notes, labels and note embeddings only: a few kB per mix).

    Parameters
    ----------
    checkpoint : str, Path or None
        Checkpoint to load; ``None`` is the bundled model.
    device : str
        Torch device of the network.
    random_state : int
        Seed of the clustering, as in :func:`mitkit.transcription`.

    Attributes
    ----------
    seconds : dict of str to float
        Wall time of the :func:`mitkit.transcription` call of each file (keyed by ``str(path)``).
    """

    def __init__(self, checkpoint: str | Path | None = None, *, device: str = "cpu", random_state: int = 0) -> None:
        self.checkpoint = checkpoint
        self.device = device
        self.random_state = random_state
        self.seconds: dict[str, float] = {}
        self._results: dict[str, Any] = {}

    def _transcribe(self, audio: Any, sr: int | None) -> Any:
        from mitkit.transcription import transcribe

        t = transcribe(audio, sr=sr, instruments="auto", checkpoint=self.checkpoint, device=self.device,
                       random_state=self.random_state)
        t.posteriorgrams = None  # Y_F, Y_O (and V) are not needed again: ≈ 2 MB per 30 s mix saved
        return t

    def get(self, audio: Any, *, sr: int | None = None) -> Any:
        """The :class:`mitkit.Transcription` of ``audio`` with ``instruments="auto"``; paths are
        transcribed once, arrays every time."""
        if not isinstance(audio, (str, Path)):
            return self._transcribe(audio, sr)
        key = str(audio)
        if key not in self._results:
            t0 = time.perf_counter()
            self._results[key] = self._transcribe(audio, None)
            self.seconds[key] = time.perf_counter() - t0
        return self._results[key]


class Mitkit:
    """mitkit as a :class:`mitkit.evaluation.benchmarks.System`.

    Parameters
    ----------
    checkpoint : str, Path or None
        Checkpoint to load; ``None`` is the bundled model. Its tuned thresholds are used.
    name : str
        Label used in result tables.
    instruments : int or None
        ``None``: K = ``n_parts`` when the system is given it (oracle count), else ``"auto"``.
        An int: always that many tracks (``1``: every note in one track, e.g. as the transcriber of a
        :class:`mitkit.evaluation.baselines.SeparatedSystem`).
    clustering : {"note", "frame"}
        As in :func:`mitkit.transcription`.
    shared : SharedTranscriptions or None
        Cache of note-level transcriptions to share with other systems (note clustering only); a
        private one by default. Its checkpoint is the one used.
    device : str
        Torch device of the network.
    random_state : int
        Seed of the clustering.

    Notes
    -----
    With note clustering and an int K, the tracks are those of ``mitkit.transcribe(audio,
    instruments=K)``: the notes and note embeddings of the shared ``instruments="auto"`` transcription,
    re-clustered into K groups with the same seed. When fewer than K notes are found, each note is a
    track of its own. With an int K the system always returns K tracks (some possibly empty).

    Examples
    --------
    >>> from mitkit.evaluation.baselines import SeparatedSystem, pitch_order_tracks
    >>> shared = SharedTranscriptions()                                            # doctest: +SKIP
    >>> mitkit_k = Mitkit(shared=shared)                                           # doctest: +SKIP
    >>> pitch_order = SeparatedSystem(Mitkit(instruments=1, shared=shared), pitch_order_tracks)  # doctest: +SKIP
    """

    separates = True

    def __init__(self, checkpoint: str | Path | None = None, *, name: str = "mitkit", instruments: int | None = None,
                 clustering: str = "note", shared: SharedTranscriptions | None = None, device: str = "cpu",
                 random_state: int = 0) -> None:
        if clustering not in ("note", "frame"):
            raise MitkitError(f"clustering={clustering!r} must be 'note' or 'frame'")
        if instruments is not None and instruments != "voices" and (
                isinstance(instruments, bool) or not isinstance(instruments, int) or instruments < 1):
            raise MitkitError(f"instruments={instruments!r} must be a positive int, 'voices' or None (follow n_parts)")
        if shared is None:
            shared = SharedTranscriptions(checkpoint, device=device, random_state=random_state)
        elif checkpoint is not None and str(checkpoint) != str(shared.checkpoint):
            raise MitkitError(f"checkpoint={str(checkpoint)!r} must be the checkpoint of shared "
                              f"({str(shared.checkpoint)!r}) or None")
        self.name = name
        self.instruments = instruments
        self.clustering = clustering
        self.shared = shared
        self.checkpoint = shared.checkpoint
        self.device = shared.device
        self.random_state = shared.random_state

    def __call__(self, audio: Any, n_parts: int | None = None, *, sr: int | None = None) -> list[np.ndarray]:
        """Return one ``(N_k, 4)`` note array per track (``onset_s, offset_s, midi_pitch, velocity``)."""
        k = self.instruments if self.instruments is not None else (n_parts if n_parts is not None else "auto")
        if self.clustering == "frame":
            from mitkit.transcription import transcribe

            t = transcribe(audio, sr=sr, instruments=k, checkpoint=self.checkpoint, clustering="frame",
                           device=self.device, random_state=self.random_state)
            return _pad([track.to_array() for track in t.tracks], k)
        return self._note_level(self.shared.get(audio, sr=sr), k)

    def _note_level(self, t: Any, k: int | str) -> list[np.ndarray]:
        from mitkit.notes import notes_to_seconds

        if len(t.frame_notes) == 0:
            return _pad([], k)
        if isinstance(k, int) and len(t.frame_notes) <= k:  # too few notes to cluster: one note per track
            table = notes_to_seconds(t.frame_notes)
            return _pad([table[i:i + 1] for i in range(len(table))], k)
        regrouped = t if k == "auto" else t.regroup(k, random_state=self.random_state)
        return _pad([track.to_array() for track in regrouped.tracks], k)

    def __repr__(self) -> str:
        return (f"Mitkit(name={self.name!r}, checkpoint={self.checkpoint!r}, instruments={self.instruments!r}, "
                f"clustering={self.clustering!r})")


def _pad(tracks: list[np.ndarray], k: int | str) -> list[np.ndarray]:
    """Append empty tracks up to K (nothing for a counted K: ``"auto"``, ``"voices"``)."""
    if not isinstance(k, int):
        return tracks
    return tracks + [np.zeros((0, 4)) for _ in range(k - len(tracks))]


def parse_system_names(systems: str | Sequence[str]) -> list[str]:
    """System names from ``"all"``, a comma-separated string or a sequence, checked, in table order."""
    names = systems.split(",") if isinstance(systems, str) else list(systems)
    names = [n.strip() for n in names if n.strip()]
    if names == ["all"]:
        return list(SYSTEM_NAMES)
    unknown = [n for n in names if n not in SYSTEM_NAMES]
    if unknown or not names:
        raise MitkitError(f"systems={','.join(names)!r} must be 'all' or names among {','.join(SYSTEM_NAMES)}")
    return [n for n in SYSTEM_NAMES if n in names]  # table order, duplicates dropped


def make_systems(systems: str | Sequence[str] = SYSTEM_NAMES, *, checkpoint: str | Path | None = None,
                 count: str = "all", device: str = "cpu",
                 shared: SharedTranscriptions | None = None) -> list[tuple[Any, bool]]:
    """The systems of an evaluation, each with the count it is evaluated with.

    Parameters
    ----------
    systems : str or sequence of str
        Names among :data:`SYSTEM_NAMES` (a comma-separated string is accepted), or ``"all"``.
    checkpoint : str, Path or None
        Checkpoint of the mitkit systems; ``None`` is the bundled model.
    count : {"oracle", "auto", "voices", "both", "all"}
        Count(s) of the ``mitkit`` system ("both": oracle and auto; "all": the three). The other systems always get the true count (the separation
        baselines need it; basic-pitch ignores it).
    device : str
        Torch device of the mitkit network.
    shared : SharedTranscriptions or None
        The cache the note-level systems share; a new one by default.

    Returns
    -------
    list of (System, bool)
        Each system with ``oracle_count`` for :func:`mitkit.evaluation.benchmarks.evaluate_benchmark`, in
        :data:`SYSTEM_NAMES` order.

    Raises
    ------
    MitkitError
        Unknown names or count; ``basic-pitch`` asked for but not installed.
    """
    from mitkit.evaluation.baselines import (
        BasicPitch,
        SeparatedSystem,
        basic_pitch_model_path,
        pitch_order_tracks,
        random_tracks,
    )

    names = parse_system_names(systems)
    if count not in COUNT_MODES:
        raise MitkitError(f"count={count!r} must be one of {', '.join(COUNT_MODES)}")
    if "basic-pitch" in names:
        basic_pitch_model_path()  # fail now, with the install hint, rather than after the other systems
    shared = shared if shared is not None else SharedTranscriptions(checkpoint, device=device)
    pooled = Mitkit(name="mitkit notes", instruments=1, shared=shared)
    out: list[tuple[Any, bool]] = []
    for name in names:
        if name == "mitkit":
            counts = _COUNTS_OF_MODE[count]
            if "oracle" in counts:
                out.append((Mitkit(name="mitkit", shared=shared), True))
            if "auto" in counts:
                out.append((Mitkit(name=AUTO_LABEL, shared=shared), False))
            if "voices" in counts:
                out.append((Mitkit(name=VOICES_LABEL, instruments="voices", shared=shared), False))
        elif name == "mitkit-frame":
            out.append((Mitkit(name="mitkit-frame", clustering="frame", shared=shared), True))
        elif name == "pitch-order":
            out.append((SeparatedSystem(pooled, pitch_order_tracks, name="pitch-order"), True))
        elif name == "random":
            out.append((SeparatedSystem(pooled, functools.partial(random_tracks, seed=0), name="random"), True))
        elif name == "basic-pitch":
            out.append((BasicPitch(), True))
    return out


def _uses_shared(system: Any, shared: SharedTranscriptions) -> bool:
    """Whether a system from :func:`make_systems` reads its notes from ``shared``."""
    inner = getattr(system, "transcriber", system)  # SeparatedSystem wraps a Mitkit
    return isinstance(inner, Mitkit) and inner.clustering == "note" and inner.shared is shared


def _charge_shared_runtime(result: dict[str, Any], seconds_by_id: dict[str, float]) -> None:
    """Add the shared pass to each mix's runtime and recompute the real-time factors, in place."""
    records = result["mixes"]
    for r in records:
        r["shared_runtime_s"] = seconds_by_id[r["id"]]
        r["runtime_s"] += r["shared_runtime_s"]

    def rtf(group: list[dict[str, Any]]) -> float | None:  # as in mitkit.evaluation.metrics: total runtime / total audio
        timed = [r for r in group if r["duration_s"]]
        return sum(r["runtime_s"] for r in timed) / sum(r["duration_s"] for r in timed) if timed else None

    for k, agg in result["by_n_parts"].items():
        agg["real_time_factor"] = rtf([r for r in records if r["n_parts"] == int(k)])
    result["overall"]["real_time_factor"] = rtf(records)


def checkpoint_thresholds(checkpoint: str | Path | None = None) -> tuple[dict[str, Any], bool]:
    """Note-creation thresholds that :func:`mitkit.transcription` uses with ``checkpoint``.

    Returns
    -------
    thresholds : dict
        ``mitkit.note_creation.DEFAULT_THRESHOLDS`` updated with the checkpoint's tuned values.
    tuned : bool
        Whether the checkpoint carries tuned thresholds.
    """
    from mitkit.checkpoint import load_model, thresholds_of

    _, ckpt = load_model(checkpoint)
    return thresholds_of(ckpt), bool(ckpt.get("thresholds"))


def default_benchmark() -> str | None:
    """The benchmark folder named by ``$MITKIT_BENCHMARK``, or ``None``."""
    return os.environ.get(BENCHMARK_ENV) or None


def evaluate_systems(benchmark: str | Path | Sequence[BenchmarkMix] | None = None, *,
                     systems: str | Sequence[str] = SYSTEM_NAMES, checkpoint: str | Path | None = None,
                     count: str = "all", limit: int | None = None, device: str = "cpu",
                     progress: bool = True) -> dict[str, Any]:
    """Evaluate a mitkit checkpoint and the baselines side by side on one benchmark.

    Parameters
    ----------
    benchmark : str, Path, list of BenchmarkMix or None
        A benchmark folder (:func:`mitkit.evaluation.benchmarks.load_benchmark`: ``index.json`` as written by
        ``mitkit chorale-bench``, or audio + MIDI pairs) or mixes already loaded; ``None`` reads the
        folder from ``$MITKIT_BENCHMARK``.
    systems : str or sequence of str
        Names among :data:`SYSTEM_NAMES`, or ``"all"``.
    checkpoint : str, Path or None
        Checkpoint of the mitkit systems; ``None`` is the bundled model.
    count : {"oracle", "auto", "voices", "both", "all"}
        Count(s) of the ``mitkit`` system (see :func:`make_systems`).
    limit : int or None
        Evaluate only the first ``limit`` mixes.
    device : str
        Torch device of the mitkit network.
    progress : bool
        Show progress bars.

    Returns
    -------
    dict
        ``format`` (``"mitkit-evaluation"``), ``version`` (1), ``mitkit_version``, ``benchmark``,
        ``checkpoint`` (``None`` for the bundled model), ``thresholds`` and ``thresholds_tuned`` (from
        the checkpoint), ``count``, ``limit``, ``systems`` (the labels, in order) and ``results``: one
        :func:`mitkit.evaluation.benchmarks.evaluate_benchmark` dict per system, ready for
        :func:`mitkit.evaluation.benchmarks.format_markdown_table`. JSON-serialisable.

    Warns
    -----
    UserWarning
        When the checkpoint carries no tuned thresholds (mitkit's defaults are used then).
    """
    from tqdm.auto import tqdm

    from mitkit.evaluation.benchmarks import evaluate_benchmark, load_benchmark
    from mitkit.version import __version__

    if benchmark is None:
        benchmark = default_benchmark()
        if benchmark is None:
            raise MitkitError(f"benchmark=None must be a folder: pass one or set ${BENCHMARK_ENV} (build the "
                              "chorale benchmark with `mitkit chorale-bench --out DIR`)")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise MitkitError(f"limit={limit!r} must be a positive int or None")
    root = str(benchmark) if isinstance(benchmark, (str, Path)) else None
    mixes = load_benchmark(benchmark) if root is not None else list(benchmark)
    mixes = mixes[:limit]
    if not mixes:
        raise MitkitError("benchmark must hold at least one mix")

    shared = SharedTranscriptions(checkpoint, device=device)
    runs = make_systems(systems, checkpoint=checkpoint, count=count, device=device, shared=shared)
    uses_shared = [_uses_shared(system, shared) for system, _ in runs]
    thresholds, tuned = None, None
    if any(isinstance(getattr(s, "transcriber", s), Mitkit) for s, _ in runs):
        thresholds, tuned = checkpoint_thresholds(checkpoint)
        if not tuned:
            warn(f"checkpoint={checkpoint!r} carries no tuned thresholds: mitkit's defaults {thresholds} "
                          "are used")

    if any(uses_shared):
        for mix in tqdm(mixes, desc="mitkit (shared pass)", disable=not progress):
            shared.get(mix.audio)
        seconds_by_id = {mix.id: shared.seconds[str(mix.audio)] for mix in mixes}
    results = []
    for (system, oracle_count), charge in zip(runs, uses_shared):
        logger.info("evaluating %s (oracle_count=%s) on %d mixes", system.name, oracle_count, len(mixes))
        result = evaluate_benchmark(mixes, system, oracle_count=oracle_count, progress=progress)
        result["benchmark"] = root
        if charge:
            _charge_shared_runtime(result, seconds_by_id)
        results.append(result)
    return {
        "format": REPORT_FORMAT,
        "version": 1,
        "mitkit_version": __version__,
        "benchmark": root,
        "checkpoint": None if checkpoint is None else str(checkpoint),
        "thresholds": thresholds,
        "thresholds_tuned": tuned,
        "count": count,
        "limit": limit,
        "systems": [system.name for system, _ in runs],
        "results": results,
    }
