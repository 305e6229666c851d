"""Benchmark folders and the loop that scores a system on one.

A benchmark folder holds mixes (audio) with reference notes per part, either as an ``index.json``
(written by :mod:`mitkit.synth.benchmarks`) or as audio/MIDI pairs. :func:`evaluate_benchmark` runs a
:class:`System` on every mix and aggregates the metrics of :mod:`mitkit.evaluation.metrics`;
:func:`format_markdown_table` prints the result the README shows.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, Sequence, runtime_checkable

import numpy as np

from mitkit import constants as C
from mitkit.errors import MitkitError, warn
from mitkit.evaluation.metrics import (
    AGGREGATE_KEYS,
    FRAME_HOP,
    NOTE_KINDS,
    ONSET_TOLERANCE,
    PITCH_TOLERANCE,
    _check_positive,
    instrument_count_accuracy,
    recall_by_kind,
    separation_metrics,
    transcription_metrics,
)
from mitkit.notes import _as_track_list, as_note_array, merge_tracks

logger = logging.getLogger(__name__)




MIDI_EXTENSIONS = (".mid", ".midi")




@runtime_checkable
class System(Protocol):
    """What :func:`evaluate_benchmark` runs: audio in, one note array per estimated instrument out.

    mitkit itself, basic-pitch (:class:`mitkit.evaluation.baselines.BasicPitch`) and the separation baselines
    (:class:`mitkit.evaluation.baselines.SeparatedSystem`) all follow it.

    Attributes
    ----------
    name : str
        Label used in result tables.
    separates : bool
        ``False`` for an instrument-agnostic system (one track with every note): separation metrics
        are then not computed for it.

    Notes
    -----
    Call signature: ``system(audio, n_parts=None, *, sr=None) -> list[np.ndarray]``

    audio : str, Path or np.ndarray
        Path of an audio file, or a mono waveform (S,) at ``sr`` Hz.
    n_parts : int or None
        Number of instruments when known (oracle count), ``None`` to let the system estimate it.
    sr : int or None
        Sample rate of an array ``audio``; ignored for paths.

    Returns a list of ``K_est`` note arrays ``(N_k, 4)``: ``onset_s, offset_s, midi_pitch, velocity``.
    """

    name: str
    separates: bool

    def __call__(self, audio: Any, n_parts: int | None = None, *, sr: int | None = None) -> list[np.ndarray]:
        ...


@dataclass
class CallableSystem:
    """Wrap a plain function as a :class:`System`.

    Parameters
    ----------
    name : str
        Label used in result tables.
    fn : callable ``(audio, n_parts, sr) -> list of note arrays``
        Called with keyword ``sr``.
    separates : bool
        Whether the tracks are instruments (``True``) or one pooled track (``False``).

    Examples
    --------
    Wrap mitkit's own transcriber (``instruments`` as in :func:`mitkit.transcription`):

    >>> def run(audio, n_parts=None, *, sr=None):  # doctest: +SKIP
    ...     t = mitkit.transcribe(audio, sr=sr, instruments=n_parts or "auto")
    ...     return [track.notes for track in t.tracks]
    >>> system = CallableSystem("mitkit", run)  # doctest: +SKIP
    """

    name: str
    fn: Callable[..., list[np.ndarray]]
    separates: bool = True

    def __call__(self, audio: Any, n_parts: int | None = None, *, sr: int | None = None) -> list[np.ndarray]:
        return self.fn(audio, n_parts, sr=sr)


@dataclass
class BenchmarkMix:
    """One mix of a benchmark: its audio file and its reference parts.

    Attributes
    ----------
    id : str
    audio : Path
        Audio file of the mix.
    parts : list of np.ndarray (N_k, 4)
        Reference notes, one array per part (instrument).
    part_names : list of str
    instrumentation : str
        ``"bach10"``, ``"other"`` or ``"midi"`` (audio + MIDI folders).
    """

    id: str
    audio: Path
    parts: list[np.ndarray]
    part_names: list[str] = field(default_factory=list)
    instrumentation: str = ""

    @property
    def n_parts(self) -> int:
        return len(self.parts)


def load_benchmark(root: str | Path) -> list[BenchmarkMix]:
    """Read the mixes of a benchmark folder.

    Parameters
    ----------
    root : str or Path
        Either a folder with ``index.json`` (``"format": "mitkit-benchmark"``, see ARCHITECTURE.md),
        or a folder of audio files (``.wav``, ``.flac``, ``.ogg``, ``.mp3``), each with a MIDI file of
        the same name (``.mid`` or ``.midi``) holding the ground truth: every non-drum instrument with
        notes is one part. Audio files without a MIDI file are skipped with a warning.

    Returns
    -------
    list of BenchmarkMix
        In index order, or sorted by file name.
    """
    root = Path(root)
    if not root.is_dir():
        raise MitkitError(f"root={str(root)!r} must be an existing folder")
    index = root / "index.json"
    if index.is_file():
        return _load_index(root, index)
    return _load_audio_midi_pairs(root)


def _load_index(root: Path, index: Path) -> list[BenchmarkMix]:
    with open(index, encoding="utf-8") as f:
        data = json.load(f)
    if data.get("format") != C.BENCHMARK_FORMAT:
        raise MitkitError(f"{index} format={data.get('format')!r} must be {C.BENCHMARK_FORMAT!r}")
    if data.get("version") != 1:
        raise MitkitError(f"{index} version={data.get('version')!r} must be 1")
    mixes = []
    for m, mix in enumerate(data.get("mixes", [])):
        mix_id = str(mix.get("id", m))
        parts = [as_note_array(p.get("notes", []), f"mix {mix_id} part {k}") for k, p in enumerate(mix["parts"])]
        n_parts = mix.get("n_parts", len(parts))
        if n_parts != len(parts):
            raise MitkitError(f"mix {mix_id}: n_parts={n_parts} must equal the number of parts={len(parts)}")
        mixes.append(
            BenchmarkMix(
                id=mix_id,
                audio=root / mix["audio"],
                parts=parts,
                part_names=[str(p.get("name", k)) for k, p in enumerate(mix["parts"])],
                instrumentation=str(mix.get("instrumentation", "")),
            )
        )
    return mixes


def _load_audio_midi_pairs(root: Path) -> list[BenchmarkMix]:
    import pretty_midi  # pinned dependency; imported here to keep `import mitkit.evaluation.metrics` light

    mixes, skipped = [], []
    for audio in sorted(p for p in root.iterdir() if p.suffix.lower() in C.AUDIO_EXTENSIONS):
        midi = next((m for ext in MIDI_EXTENSIONS if (m := audio.with_suffix(ext)).is_file()), None)
        if midi is None:
            skipped.append(audio.name)
            continue
        pm = pretty_midi.PrettyMIDI(str(midi))
        parts, names = [], []
        for k, inst in enumerate(pm.instruments):
            if inst.is_drum or not inst.notes:
                continue
            rows = [[n.start, n.end, n.pitch, n.velocity] for n in inst.notes if n.end > n.start]
            notes = as_note_array(rows, f"{midi.name} instrument {k}")
            parts.append(notes[np.lexsort((notes[:, 2], notes[:, 0]))])
            names.append(inst.name or pretty_midi.program_to_instrument_name(inst.program))
        mixes.append(BenchmarkMix(id=audio.stem, audio=audio, parts=parts, part_names=names, instrumentation="midi"))
    if skipped:
        warn(f"{len(skipped)} audio file(s) in {root} have no MIDI file and are skipped: {skipped}")
    if not mixes:
        raise MitkitError(
            f"root={str(root)!r} must hold index.json or audio files ({', '.join(C.AUDIO_EXTENSIONS)}) "
            f"with MIDI files of the same name ({', '.join(MIDI_EXTENSIONS)})"
        )
    return mixes


def _audio_duration(path: Path) -> float | None:
    try:
        import soundfile

        return float(soundfile.info(str(path)).duration)
    except Exception:  # noqa: BLE001 - an unreadable header only costs the real-time factor
        logger.warning("could not read the duration of %s", path)
        return None


def _aggregate(records: list[dict[str, Any]], count_accuracy: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"n_mixes": len(records)}
    for key in AGGREGATE_KEYS:
        values = [r[key] for r in records if r.get(key) is not None]
        out[key] = float(np.mean(values)) if values else None
    durations = [r["duration_s"] for r in records if r["duration_s"]]
    runtime = sum(r["runtime_s"] for r in records if r["duration_s"])
    out["real_time_factor"] = runtime / sum(durations) if durations else None
    for kind in NOTE_KINDS:  # pooled over mixes: repeated notes are too few per mix for a mean of ratios
        hits = sum(r["recall_by_kind"][kind][0] for r in records if r.get("recall_by_kind"))
        total = sum(r["recall_by_kind"][kind][1] for r in records if r.get("recall_by_kind"))
        out[f"recall_{kind}"] = hits / total if total else None
    out["instrument_count_accuracy"] = (
        instrument_count_accuracy([r["n_parts"] for r in records], [r["n_tracks"] for r in records])
        if count_accuracy and records
        else None
    )
    return out


def evaluate_benchmark(
    benchmark: str | Path | Iterable[BenchmarkMix], system: System, *, oracle_count: bool = True,
    limit: int | None = None, onset_tolerance: float = ONSET_TOLERANCE, pitch_tolerance: float = PITCH_TOLERANCE,
    frame_hop: float = FRAME_HOP, progress: bool = True,
) -> dict[str, Any]:
    """Run a system on every mix of a benchmark and aggregate the metrics per number of parts.

    Parameters
    ----------
    benchmark : str, Path or iterable of BenchmarkMix
        A benchmark folder (see :func:`load_benchmark`) or mixes already loaded.
    system : System
        Called as ``system(mix.audio, n_parts)`` with the audio path.
    oracle_count : bool
        ``True``: give the system the true number of parts. ``False``: pass ``n_parts=None`` and
        report :func:`instrument_count_accuracy` of the number of returned tracks.
    limit : int or None
        Evaluate only the first ``limit`` mixes (quick checks).
    onset_tolerance, pitch_tolerance, frame_hop : float
        As in :func:`transcription_metrics` (seconds, cents, seconds).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    dict
        ``system`` (name), ``benchmark`` (folder or ``None``), ``settings`` (the keywords above),
        ``mixes`` (one record per mix: ``id, n_parts, n_tracks, instrumentation, duration_s,
        runtime_s``, the :data:`TRANSCRIPTION_KEYS` on all parts pooled, ``separation_f1``,
        ``part_f1``, ``assignment``, ``pair_f1``; the separation entries are ``None`` for a system
        with ``separates=False``), ``by_n_parts`` (int ``K`` -> aggregate) and ``overall``
        (aggregate). An aggregate holds ``n_mixes``, the mean of every :data:`AGGREGATE_KEYS` over its
        mixes (``None`` when not computed), ``real_time_factor`` (total runtime / total audio
        duration), ``instrument_count_accuracy`` (``None`` when ``oracle_count``) and
        ``recall_repeated``, ``recall_short``, ``recall_other``: onset-only recall of each kind of
        reference note (:func:`note_kinds`), pooled over the group's mixes (each record holds its
        ``recall_by_kind`` counts).
        The dict is JSON-serialisable (``json.dump`` turns the ``by_n_parts`` keys into strings).
    """
    from tqdm.auto import tqdm

    _check_positive(onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance, frame_hop=frame_hop)
    if not callable(system) or not isinstance(getattr(system, "name", None), str):
        raise MitkitError(f"system={system!r} must be callable with a str attribute `name` (see System)")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise MitkitError(f"limit={limit!r} must be a positive int or None")
    root = None
    if isinstance(benchmark, (str, Path)):
        root = str(benchmark)
        mixes = load_benchmark(benchmark)
    else:
        mixes = list(benchmark)
    if limit is not None:
        mixes = mixes[:limit]
    if not mixes:
        raise MitkitError("benchmark must hold at least one mix")
    separates = bool(getattr(system, "separates", True))
    tol = dict(onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance)

    records = []
    for mix in tqdm(mixes, desc=f"evaluate {system.name}", disable=not progress):
        t0 = time.perf_counter()
        tracks = system(mix.audio, mix.n_parts if oracle_count else None)
        runtime = time.perf_counter() - t0
        tracks = _as_track_list(tracks, f"{system.name} tracks of mix {mix.id}")
        record: dict[str, Any] = {
            "id": mix.id,
            "n_parts": mix.n_parts,
            "n_tracks": len(tracks),
            "instrumentation": mix.instrumentation,
            "duration_s": _audio_duration(mix.audio),
            "runtime_s": runtime,
        }
        record.update(transcription_metrics(merge_tracks(mix.parts), merge_tracks(tracks), frame_hop=frame_hop, **tol))
        record["recall_by_kind"] = recall_by_kind(mix.parts, merge_tracks(tracks), **tol)
        if separates:
            sep = separation_metrics(mix.parts, tracks, **tol)
            record.update({k: sep[k] for k in ("separation_f1", "part_f1", "assignment", "pair_f1")})
        else:
            record.update(separation_f1=None, part_f1=None, assignment=None, pair_f1=None)
        records.append(record)

    count_acc = not oracle_count
    groups = sorted({r["n_parts"] for r in records})
    return {
        "system": system.name,
        "benchmark": root,
        "settings": {"oracle_count": oracle_count, "frame_hop": frame_hop, **tol},
        "mixes": records,
        "by_n_parts": {k: _aggregate([r for r in records if r["n_parts"] == k], count_acc) for k in groups},
        "overall": _aggregate(records, count_acc),
    }


_TABLE_COLUMNS = (
    ("frame_f1", "frame F1"),
    ("note_f1", "note F1"),
    ("note_precision", "note precision"),  # a change that finds more notes must not buy them with false ones
    ("note_offset_f1", "note F1 (offsets)"),
    ("separation_f1", "separation F1"),
    ("recall_repeated", "recall repeated"),
    ("recall_short", "recall short"),
    ("recall_other", "recall other"),
    ("instrument_count_accuracy", "count acc."),
    ("real_time_factor", "RTF"),
)


def format_markdown_table(results: dict[str, Any] | Sequence[dict[str, Any]], *, digits: int = 3) -> str:
    """Markdown table of one or several :func:`evaluate_benchmark` results, side by side.

    One row per system and number of parts, then one ``all`` row per system. Metrics that were not
    computed print as ``–``; a column that is empty for every row is left out.

    Parameters
    ----------
    results : dict or sequence of dict
        Return values of :func:`evaluate_benchmark` (also after a JSON round trip).
    digits : int
        Decimals of every number.

    Returns
    -------
    str
        The table, one line per row, ending without a newline.
    """
    if isinstance(results, dict):
        results = [results]
    rows = []
    for res in results:
        try:
            by_k = sorted(((int(k), v) for k, v in res["by_n_parts"].items()), key=lambda kv: kv[0])
            overall = res["overall"]
            name = str(res["system"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise MitkitError("results must be the dict (or a list of dicts) returned by evaluate_benchmark") from None
        rows += [(name, str(k), agg) for k, agg in by_k] + [(name, "all", overall)]
    columns = [(key, title) for key, title in _TABLE_COLUMNS if any(agg.get(key) is not None for *_, agg in rows)]

    def fmt(value: Any) -> str:
        return "–" if value is None else f"{value:.{digits}f}"

    header = ["system", "parts", "mixes"] + [title for _, title in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|"]
    for name, k, agg in rows:
        cells = [name, k, str(agg.get("n_mixes", ""))] + [fmt(agg.get(key)) for key, _ in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
