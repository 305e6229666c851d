"""Transcribing many recordings: inputs found in folders, outputs planned up front, worker processes.

`mitkit transcribe` goes through here. A folder given with ``recursive`` is searched for audio files
(``constants.AUDIO_EXTENSIONS``) and its tree is mirrored under ``--out``; ``shard=(i, N)`` keeps every
N-th input from the i-th on, so N machines (or a cluster array job) split one corpus without talking to
each other; ``skip_existing`` resumes an interrupted run; ``jobs`` worker processes share the work.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from mitkit.constants import AUDIO_EXTENSIONS
from mitkit.errors import MitkitError
from mitkit.files import check_folder


@dataclass(frozen=True)
class Input:
    """One recording to transcribe and where its outputs go, relative to ``--out`` (without suffix)."""
    audio: Path
    name: Path


def find_inputs(paths, *, recursive: bool = False) -> list[Input]:
    """The recordings named by ``paths``: files as they are, folders (with ``recursive``) searched for
    audio files in sorted order, each output named by its path relative to the folder."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            if not recursive:
                raise MitkitError(f"audio={str(path)!r} is a folder: pass --recursive to transcribe the audio "
                                  f"files in it ({', '.join(AUDIO_EXTENSIONS)})")
            files = sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not files:
                raise MitkitError(f"audio={str(path)!r} holds no audio files ({', '.join(AUDIO_EXTENSIONS)})")
            found += [Input(f, f.relative_to(path).with_suffix("")) for f in files]
        else:
            found.append(Input(path, Path(path.stem)))
    return found


def shard(inputs: list, index: int, count: int) -> list:
    """Inputs ``index, index + count, …``: the shards of one list are disjoint and together complete."""
    if not 0 <= index < count:
        raise MitkitError(f"shard={index}/{count} must satisfy 0 <= i < N")
    return inputs[index::count]


def plan_outputs(inputs: list[Input], out, *, report: bool, overwrite: bool,
                 skip_existing: bool = False) -> list[dict | None]:
    """Every output path of a run, checked before any work: ``out`` is a writable folder, no two inputs
    write the same file, and no existing file is replaced without ``overwrite``. Returns one
    ``{"json": path, "midi": path[, "html": path]}`` per input, or None for an input whose outputs all
    exist when ``skip_existing``."""
    if not str(out).strip():
        raise MitkitError(f"--out={str(out)!r} must name a folder")
    out = check_folder(out)
    plans, owner = [], {}
    for item in inputs:
        if item.name in owner:
            raise MitkitError(f"inputs {str(owner[item.name])!r} and {str(item.audio)!r} would both write "
                              f"{str(out / item.name)}.*: rename one, or transcribe them into separate --out folders")
        owner[item.name] = item.audio
        base = out / item.name
        plan = {"midi": base.with_name(base.name + ".mid"), "json": base.with_name(base.name + ".json")}
        if report:
            plan["html"] = base.with_name(base.name + ".html")
        clash = [str(p) for p in plan.values() if p.exists()]
        if skip_existing and len(clash) == len(plan):
            plan = None  # done in an earlier run
        elif clash and not overwrite:
            raise MitkitError(f"output {clash[0]!r} must not exist already: pass --overwrite to replace it, "
                              "or --skip-existing to keep it")
        plans.append(plan)
    return plans


def transcribe_one(audio, plan: dict, settings: dict, overwrite: bool, progress: bool = False) -> tuple[str, str | None]:
    """Transcribe one input and write its outputs together: ``(line for the log, error or None)``."""
    from mitkit.export import write_outputs
    from mitkit.transcription import transcribe

    try:
        t = transcribe(audio, **settings, progress=progress)
        written = write_outputs(t, plan, overwrite=overwrite)  # all of this input's files, or none
    except (MitkitError, OSError) as err:  # one bad file does not stop a batch
        return f"{audio}: failed: {err}", str(err)
    notes = sum(len(track.notes) for track in t.tracks)
    counted = f" (counted: {t.count.reason}; runner-up {t.count.runner_up})" if t.count else ""
    applied = (t.applied_thresholds or {}).get("onset_threshold")
    level = f" at onset threshold {applied:g} (this audio's onset level)" \
        if applied is not None and applied != t.thresholds.get("onset_threshold") else ""
    return (f"{audio}: {t.instruments} tracks{counted}, {notes} notes{level} -> "
            f"{', '.join(str(w) for w in written)}"), None


def _one_backend(settings: dict, audio_files: list, workers: int) -> dict:
    """``settings`` with ``backend="auto"`` decided once for the whole corpus: each worker process pays a
    runtime's start-up once and then transcribes its share (:func:`mitkit.backends.resolve_backend`)."""
    if settings.get("backend", "auto") != "auto" or not audio_files:
        return settings
    import soundfile as sf

    from mitkit.backends import resolve_backend
    try:
        seconds = sum(sf.info(str(a)).duration for a in audio_files) / workers
    except (RuntimeError, OSError):  # a format soundfile cannot measure: taken as long
        seconds = None
    return {**settings, "backend": resolve_backend("auto", settings.get("checkpoint"), audio_seconds=seconds)}


def transcribe_corpus(inputs: list[Input], plans: list, settings: dict, *, overwrite: bool = False,
                      jobs: int = 1) -> dict:
    """Transcribe every planned input (``plans`` from :func:`plan_outputs`; None = skip) with ``jobs``
    worker processes, one shared progress bar, and a line per input. Returns the audio paths
    ``{"done": [...], "skipped": [...], "failed": [...]}``."""
    from tqdm.auto import tqdm

    summary = {"done": [], "skipped": [item.audio for item, plan in zip(inputs, plans) if plan is None],
               "failed": []}
    todo = [(item.audio, plan) for item, plan in zip(inputs, plans) if plan is not None]
    workers = min(jobs, len(todo)) if jobs > 1 and len(todo) > 1 else 1
    settings = _one_backend(settings, [audio for audio, _ in todo], workers)
    bar = tqdm(total=len(todo), disable=len(todo) < 2, desc="files", unit="file")

    def record(audio, line, error):
        (summary["failed"] if error else summary["done"]).append(audio)
        tqdm.write(line, file=sys.stderr if error else sys.stdout)
        bar.update()

    if workers == 1:
        for audio, plan in todo:
            record(audio, *transcribe_one(audio, plan, settings, overwrite, progress=len(todo) == 1))
    else:
        import concurrent.futures as cf

        from mitkit.processes import worker_pool
        threads = max(1, (os.cpu_count() or 1) // jobs)  # the cores are shared out, not oversubscribed
        with worker_pool(workers, threads=threads) as pool:
            futures = {pool.submit(transcribe_one, str(audio), plan, settings, overwrite): audio
                       for audio, plan in todo}
            for future in cf.as_completed(futures):
                record(futures[future], *future.result())
    bar.close()
    return summary
