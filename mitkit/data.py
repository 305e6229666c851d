"""Synthetic multi-instrument training data: splits, labels, the on-disk stem format and PyTorch datasets.

Pipeline (see ``CONTRACT.md``, "Synthetic data on disk")::

    plan_jobs(seed) ──▶ job (chorale | score | random) ──▶ parts (mitkit.scores)
        ──▶ instruments of distinct classes (mitkit.instruments) ──▶ one FluidSynth stem each (mitkit.render)
        ──▶ audio/<id>.<k>.flac + pieces/<id>.json (atomic) ──▶ manifest.json
    StemBank(root, split) ──▶ MixtureDataset: 1–4 stems of one piece, random gains, EQ/noise ──▶ model

Splits are by *piece group*, never by rendering: a chorale's group is its tune (see
:func:`mitkit.scores.melody_key`), a quartet movement's group is its opus, a random piece is its own
group. ``split_of(group)`` hashes the group, so the split of a piece never changes and test pieces are
never trained or tuned on.

Labels are at the model's frame rate (``FRAME_RATE``): frame t is centred on sample ``t * HOP_LENGTH``;
a note ``[onset_s, offset_s, pitch, velocity]`` is on in frames ``round(onset_s * FRAME_RATE)`` up to
(excluding) ``round(offset_s * FRAME_RATE)``, and its onset frame is the first of these.

Command line: ``python -m mitkit.data synth --out DIR --hours H --seed S --workers N [--shard i/N]
[--audio-format flac|ogg]`` and ``python -m mitkit.data chorale-bench --out DIR``.

Notebook: 02_training
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import glob
import hashlib
import json
import logging
import multiprocessing
import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from mitkit import instruments as inst
from mitkit import render, scores
from mitkit.constants import FRAME_RATE, HOP_LENGTH, MIDI_MIN, N_PITCHES, SAMPLE_RATE
from mitkit.errors import MitkitError

logger = logging.getLogger(__name__)

FORMAT, VERSION = "mitkit-stems", 1
BENCH_FORMAT, BENCH_VERSION = "mitkit-benchmark", 1
SPLITS = ("train", "validation", "test")
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)  # train, validation, test, by piece group
SOURCE_WEIGHTS = {"chorale": 0.4, "score": 0.25, "random": 0.35}  # of rendered pieces
ENSEMBLE_WEIGHTS = {"bach10": 0.2, "strings": 0.15, "winds": 0.15, "brass": 0.1, "keys_and_voices": 0.05,
                    None: 0.35}  # None: random instruments of distinct classes
SOUNDFONT_WEIGHTS = {"FluidR3_GM": 0.45, "TimGM6mb": 0.25, "csound_GM": 0.3}  # drawn per stem
STEM_RMS = 0.05  # loudness target of a stem's active part (linear RMS) before its random gain
STEM_GAIN_DB = (-6.0, 3.0)  # random per-stem gain range in dB
AUDIO_FORMATS = {"flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS")}


# ---- splits and labels ----------------------------------------------------------------------------

def split_of(key: str, fractions=SPLIT_FRACTIONS) -> str:
    """Deterministic split of a piece group: ``"train"``, ``"validation"`` or ``"test"``.

    The first 8 bytes of SHA-1(key) as a fraction in [0, 1) are compared with the cumulative fractions.
    """
    u = int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big") / 2.0 ** 64
    edges = np.cumsum(fractions)
    return SPLITS[min(int(np.searchsorted(edges, u, side="right")), len(SPLITS) - 1)]


def n_frames_for(n_samples: int) -> int:
    """Frames covering ``n_samples`` samples: frame t is centred on sample ``t * HOP_LENGTH``."""
    return int(n_samples) // HOP_LENGTH + 1


def note_rolls(notes, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame and onset piano rolls of a note list at the model frame rate.

    Parameters
    ----------
    notes : array_like, shape (N, 4)
        ``[onset_s, offset_s, midi_pitch, velocity]``. Pitches outside ``MIDI_MIN``..``MIDI_MAX`` are ignored.
    n_frames : int
        T, the number of frames.

    Returns
    -------
    frames, onsets : np.ndarray, float32, shape (84, T)
        ``frames[p, t] = 1`` while MIDI ``MIDI_MIN + p`` sounds (from ``round(onset_s * FRAME_RATE)`` to
        ``round(offset_s * FRAME_RATE)`` exclusive, at least one frame); ``onsets[p, t] = 1`` on the first.

    Examples
    --------
    >>> fr, on = note_rolls([[0.0, 0.05, 60, 80]], 10)
    >>> np.flatnonzero(fr[60 - 24]), np.flatnonzero(on[60 - 24])
    (array([0, 1, 2, 3]), array([0]))
    """
    if n_frames < 0:
        raise MitkitError(f"n_frames={n_frames} must be >= 0")
    frames = np.zeros((N_PITCHES, n_frames), np.float32)
    onsets = np.zeros((N_PITCHES, n_frames), np.float32)
    a = np.asarray(notes, np.float64).reshape(-1, 4) if np.size(notes) else np.zeros((0, 4))
    for on, off, pitch, _ in a:
        p = int(round(pitch)) - MIDI_MIN
        s = int(round(on * FRAME_RATE))
        if not 0 <= p < N_PITCHES or s >= n_frames or off < 0:
            continue
        e = max(int(round(off * FRAME_RATE)), s + 1)
        frames[p, max(s, 0):min(e, n_frames)] = 1.0
        if s >= 0:
            onsets[p, s] = 1.0
    return frames, onsets



def rolls_to_notes(frames: np.ndarray, onsets: np.ndarray) -> np.ndarray:
    """Notes ``(N, 4)`` [onset_s, offset_s, pitch, velocity=100] read back from one instrument's rolls
    ``(84, T)``: a note starts at each onset and lasts while the frame roll stays on, up to the next
    onset of the same pitch. The inverse of :func:`note_rolls` up to frame rounding.

    Notebook: 02_training
    """
    notes = []
    starts = onsets > 0.5
    starts[:, 0] |= frames[:, 0] > 0.5  # a note already sounding when the clip begins starts at 0 s
    for p, t in zip(*np.nonzero(starts)):
        end = t + 1
        while end < frames.shape[1] and frames[p, end] > 0.5 and onsets[p, end] <= 0.5:
            end += 1
        notes.append((t / FRAME_RATE, end / FRAME_RATE, MIDI_MIN + p, 100.0))
    notes.sort()
    return np.array(notes, float).reshape(-1, 4)

# ---- jobs: what to render ------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One piece to render; everything about it follows from (seed, index)."""

    index: int  # position in the plan
    id: str  # piece id, unique within a seed
    source: str  # "chorale" | "score" | "random"
    ref: str  # music21 corpus name, or "" for random pieces
    seed: int  # the plan's seed


def plan_jobs(seed: int):
    """Endless deterministic sequence of :class:`Job` for ``seed``.

    Sources are drawn with :data:`SOURCE_WEIGHTS`; chorales and scores cycle through seeded permutations
    of the corpus lists, so every chorale is rendered once before any is rendered twice.
    """
    rng = np.random.default_rng([seed, 7919])
    chorales = list(scores.chorale_names())
    order_c = rng.permutation(len(chorales))
    folders: dict[str, list[str]] = {}
    for ref in scores.score_names():
        folders.setdefault(ref.split("/", 1)[0], []).append(ref)
    folders = {f: [refs[i] for i in rng.permutation(len(refs))] for f, refs in sorted(folders.items())}
    f_names = list(folders)
    f_probs = np.array([scores.SCORE_FOLDER_WEIGHTS.get(f, 0.01) for f in f_names], float)
    names, probs = zip(*SOURCE_WEIGHTS.items())
    probs = np.array(probs) / np.sum(probs)
    count = {"chorale": 0, "random": 0, **{f: 0 for f in f_names}}
    k = 0
    while True:
        r = np.random.default_rng([seed, k, 1])
        src = str(names[int(r.choice(len(names), p=probs))])
        if src == "score" and not f_names:
            src = "random"
        ref = ""
        if src == "chorale":
            ref = chorales[order_c[count["chorale"] % len(chorales)]]
            count["chorale"] += 1
        elif src == "score":
            f = f_names[int(r.choice(len(f_names), p=f_probs / f_probs.sum()))]
            ref = folders[f][count[f] % len(folders[f])]
            count[f] += 1
        name = scores.piece_name(ref) if ref else "notes"
        yield Job(k, f"{src}-{name}-s{seed}-{k:06d}", src, ref, seed)
        k += 1


CHORALE_GROUPS_FILE = "chorale_groups.json"  # in mitkit/assets: written by scripts/make_chorale_groups.py


@lru_cache(maxsize=1)
def _stored_chorale_groups() -> dict:
    """The split group of every corpus chorale, computed once (parsing all 371 takes ≈ 55 s)."""
    from .assets import _asset
    path = _asset(CHORALE_GROUPS_FILE)
    return json.loads(path.read_text())["groups"] if path.exists() else {}


def parse_chorale_group(ref: str) -> str:
    """Split group of a chorale from its score: ``"tune-<hash of its soprano's first intervals>"``."""
    qparts = scores.score_quarter_notes(scores.load_score(ref), vocal_only=True)
    return "tune-" + scores.melody_key([q for _, q, _ in qparts])


@lru_cache(maxsize=None)
def chorale_group(ref: str) -> str:
    """Split group of a chorale (:func:`parse_chorale_group`), from the stored table when it lists ``ref``."""
    return _stored_chorale_groups().get(ref) or parse_chorale_group(ref)


def score_group(ref: str) -> str:
    """Split group of a corpus work: its path without a trailing ``movementN`` (a quartet is one group)."""
    stem = ref.rsplit(".", 1)[0]
    parts = stem.split("/")
    if len(parts) > 2 and parts[-1].lower().startswith("movement"):
        parts = parts[:-1]
    return "score-" + "/".join(parts)


def _perform_parts(job: Job, rng) -> tuple[list, str]:
    """Parts (list of scores.Part) and split group of a job; [] when the source has no usable parts."""
    if job.source == "chorale":
        score = scores.load_score(job.ref)
        transpose = int(rng.integers(-2, 3)) if rng.random() < 0.3 else 0
        parts = scores.score_to_parts(score, rng, bpm_range=scores.CHORALE_TEMPO, vocal_only=True,
                                      transpose=transpose)
        return parts, chorale_group(job.ref)
    if job.source == "score":
        score = scores.load_score(job.ref)
        folder = job.ref.split("/", 1)[0]
        bpm = scores.SCORE_SOURCES.get(folder, (70.0, 140.0))
        parts = scores.score_to_parts(score, rng, bpm_range=bpm, max_parts=4,
                                      max_seconds=float(rng.uniform(20, 45)))
        return parts, score_group(job.ref)
    return [], job.id  # random parts are drawn after their instruments


def _random_instruments(k: int, rng) -> list:
    classes = list(rng.permutation(inst.CLASSES)[:k])
    out = []
    for c in classes:
        pool = [i for i in inst.INSTRUMENTS if i.cls == c]
        out.append(pool[int(rng.integers(len(pool)))])
    return out


def _stem_scale(x: np.ndarray, rng) -> float:
    """Gain that brings the loud half of a stem to ``STEM_RMS`` times a random gain, peak-limited to 0.99."""
    win = 2048
    n = len(x) // win
    if n == 0 or not np.any(x):
        return 1.0
    e = np.sort(np.mean(x[: n * win].reshape(n, win) ** 2, axis=1))[n // 2:]
    rms = float(np.sqrt(np.mean(e)))
    if rms <= 1e-9:
        return 1.0
    g = STEM_RMS * 10 ** (rng.uniform(*STEM_GAIN_DB) / 20) / rms if rng is not None else STEM_RMS / rms
    return float(min(g, 0.99 / float(np.max(np.abs(x)))))


def _atomic_write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    os.replace(tmp, path)


def _write_audio(path: Path, x: np.ndarray, audio_format: str) -> None:
    import soundfile as sf

    fmt, subtype = AUDIO_FORMATS[audio_format]
    tmp = path.with_name(".tmp-" + path.name)
    x = np.clip(x, -1.0, 1.0)
    # written in blocks: libsndfile's Vorbis encoder crashed on single writes of long stems (≈ 2 M samples)
    with sf.SoundFile(str(tmp), "w", SAMPLE_RATE, 1, format=fmt, subtype=subtype) as f:
        for i in range(0, len(x), 1 << 15):
            f.write(x[i:i + (1 << 15)])
    os.replace(tmp, path)


def _notes_json(notes: np.ndarray) -> list:
    return [[round(float(a), 5), round(float(b), 5), int(p), int(v)] for a, b, p, v in notes]


def render_job(job: Job, root, *, audio_format: str = "flac") -> dict | None:
    """Render one job into ``root`` (audio files and ``pieces/<id>.json``); returns its manifest entry.

    Returns None (and writes ``skipped/<id>.json``) when the source yields no playable parts.
    """
    root = Path(root)
    rng = np.random.default_rng([job.seed, job.index, 2])
    parts, group = _perform_parts(job, rng)
    if job.source == "random":
        ins_list = _random_instruments(int(rng.integers(2, 5)), rng)
        parts = scores.random_ensemble(ins_list, float(rng.uniform(15, 35)), rng)
        keep = [k for k, p in enumerate(parts) if len(p.notes)]
        parts, ins_list = [parts[k] for k in keep], [ins_list[k] for k in keep]
    else:
        ins_list = []
        if parts:
            ens = scores.weighted_choice(rng, ENSEMBLE_WEIGHTS)
            try:
                ins_list = inst.assign_instruments([p.span for p in parts], rng, ensemble=ens)
            except MitkitError:
                parts = parts[:3] if len(parts) > 2 else []  # drop the lowest part, try once more
                try:
                    ins_list = inst.assign_instruments([p.span for p in parts], rng) if parts else []
                except MitkitError:
                    ins_list = []
    if len(parts) < 1 or not ins_list:
        _atomic_write_json(root / "skipped" / f"{job.id}.json", {"id": job.id, "reason": "no playable parts"})
        return None
    room = render.random_room(rng)
    styles, notes_list, soundfonts = [], [], []
    for part, ins in zip(parts, ins_list):
        notes = part.notes.copy()
        notes[:, 3] = np.clip(np.round(notes[:, 3] + rng.integers(-15, 16)), 1, 127)
        styles.append(render.add_expression(render.random_style(ins, rng), ins, rng))
        notes_list.append(notes)
        soundfonts.append(scores.weighted_choice(rng, SOUNDFONT_WEIGHTS))  # per stem: more timbres per ensemble
    stems = render.render_stems(list(zip(notes_list, styles)), soundfont=soundfonts, room=room)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    entry_stems = []
    for k, (x, notes, style, ins, part, soundfont) in enumerate(zip(stems, notes_list, styles, ins_list, parts,
                                                                    soundfonts)):
        gain = _stem_scale(x, rng)
        fname = f"audio/{job.id}.{k}.{audio_format}"
        _write_audio(root / fname, x * gain, audio_format)
        entry_stems.append({"file": fname, "program": ins.program, "class": ins.cls, "instrument": ins.name,
                            "soundfont": soundfont, "part": part.name, "gain": round(gain, 6),
                            "style": render.style_dict(style), "notes": _notes_json(notes)})
    entry = {"id": job.id, "split": split_of(group), "source": job.source, "group": group, "ref": job.ref,
             "duration": round(stems.shape[1] / SAMPLE_RATE, 4), "n_samples": int(stems.shape[1]),
             "room": render.room_dict(room), "stems": entry_stems}
    _atomic_write_json(root / "pieces" / f"{job.id}.json", entry)
    return entry


def stem_seconds(entry: dict) -> float:
    """Seconds of stem audio in a manifest entry (duration times number of stems)."""
    return float(entry["duration"]) * len(entry["stems"])


# ---- manifest --------------------------------------------------------------------------------------

def load_manifest(root) -> dict:
    """Read a dataset folder's manifest, merged with any ``pieces/*.json`` newer than it.

    Shards rendered on different machines can be copied into one folder: their pieces merge here.

    Raises
    ------
    MitkitError
        If the folder holds neither ``manifest.json`` nor ``pieces/``.
    """
    root = Path(root)
    man_path = root / "manifest.json"
    if man_path.exists():
        with open(man_path) as f:
            man = json.load(f)
        if man.get("format") != FORMAT:
            raise MitkitError(f"manifest format={man.get('format')!r} must be {FORMAT!r}")
    elif (root / "pieces").is_dir():
        man = {"format": FORMAT, "version": VERSION, "sample_rate": SAMPLE_RATE, "pieces": []}
    else:
        raise MitkitError(f"root={str(root)!r} must hold manifest.json or pieces/ (run `mitkit synth`)")
    pieces = {p["id"]: p for p in man["pieces"]}
    for path in sorted(glob.glob(str(root / "pieces" / "*.json"))):
        pid = os.path.basename(path)[:-5]
        if pid not in pieces:
            with open(path) as f:
                pieces[pid] = json.load(f)
    man["pieces"] = [pieces[k] for k in sorted(pieces)]
    return man


def write_manifest(root) -> dict:
    """Gather ``pieces/*.json`` into ``manifest.json`` (atomically) and return it."""
    man = load_manifest(root)
    man.update(format=FORMAT, version=VERSION, sample_rate=SAMPLE_RATE)
    _atomic_write_json(Path(root) / "manifest.json", man)
    return man


# ---- the synth command ---------------------------------------------------------------------------

def _done_entry(root: Path, job_id: str):
    p = root / "pieces" / f"{job_id}.json"
    if p.exists():
        with open(p) as f:
            return json.load(f)
    return "skipped" if (root / "skipped" / f"{job_id}.json").exists() else None


def _render_job_safe(job: Job, root: str, audio_format: str):
    try:
        return job, render_job(job, root, audio_format=audio_format), None
    except Exception as exc:  # one bad corpus file must not stop hours of rendering
        logger.warning("job %s failed: %r", job.id, exc)
        _atomic_write_json(Path(root) / "skipped" / f"{job.id}.json", {"id": job.id, "reason": repr(exc)})
        return job, None, exc


def synth(out, *, hours: float, seed: int = 0, workers: int = 1, shard: tuple[int, int] = (0, 1),
          audio_format: str = "flac", progress: bool = True) -> dict:
    """Render a synthetic stem dataset of about ``hours`` hours of stem audio into ``out``.

    Jobs come from :func:`plan_jobs`; shard ``i/N`` renders jobs ``k`` with ``k % N == i`` until it holds
    ``hours / N`` hours. Finished pieces are skipped, so an interrupted run resumes where it stopped, and
    each piece's manifest entry is written atomically after its audio.

    Returns
    -------
    dict
        The merged manifest (also written to ``out/manifest.json``).

    Notebook: 02_training
    """
    from tqdm.auto import tqdm

    if hours <= 0:
        raise MitkitError(f"hours={hours} must be > 0")
    if workers < 1:
        raise MitkitError(f"workers={workers} must be >= 1")
    i_shard, n_shard = shard
    if not 0 <= i_shard < n_shard:
        raise MitkitError(f"shard={i_shard}/{n_shard} must satisfy 0 <= i < N")
    if audio_format not in AUDIO_FORMATS:
        raise MitkitError(f"audio_format={audio_format!r} must be one of {sorted(AUDIO_FORMATS)}")
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    target = hours * 3600.0 / n_shard
    jobs = (j for j in plan_jobs(seed) if j.index % n_shard == i_shard)
    done = 0.0
    bar = tqdm(total=round(target), unit="s", desc=f"synth {i_shard}/{n_shard}", disable=not progress)
    n_fail = 0
    t_start = time.time()

    def source():  # this shard's jobs in plan order; pieces already on disk come back as ("done", entry)
        for j in jobs:
            prev = _done_entry(root, j.id)
            if isinstance(prev, dict):
                yield ("done", prev)
            elif prev is None:
                yield j

    source = source()

    def account(entry):
        nonlocal done
        if entry is not None:
            done += stem_seconds(entry)
            bar.update(round(stem_seconds(entry)))

    if workers == 1:
        for item in source:
            if done >= target:
                break
            if isinstance(item, tuple):
                account(item[1])
                continue
            _, entry, exc = _render_job_safe(item, str(root), audio_format)
            n_fail += exc is not None
            account(entry)
    else:
        # fresh interpreters, not forks: a fork of a process that already ran FluidSynth can deadlock in
        # the child's sfload (a lock held by another thread at fork time)
        with cf.ProcessPoolExecutor(max_workers=workers, initializer=_end_with_parent,
                                    mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = set()
            while True:
                while len(futures) < 2 * workers and done < target:
                    item = next(source, None)
                    if item is None:
                        break
                    if isinstance(item, tuple):
                        account(item[1])
                        continue
                    futures.add(pool.submit(_render_job_safe, item, str(root), audio_format))
                if not futures:
                    break
                finished, futures = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    _, entry, exc = fut.result()
                    n_fail += exc is not None
                    account(entry)
    bar.close()
    _drop_surplus(root, seed, shard, target)
    man = write_manifest(root)
    logger.info("synth: %.2f h of stem audio in %s (%.0f s wall, %d failed jobs)", done / 3600, root,
                time.time() - t_start, n_fail)
    return man


def _job_index(piece_id: str, seed: int) -> int | None:
    """Plan index of a piece id made by :func:`plan_jobs` with ``seed`` (``...-s<seed>-<index>``)."""
    head, _, index = piece_id.rpartition("-")
    return int(index) if head.endswith(f"-s{seed}") and index.isdigit() else None


def _drop_surplus(root: Path, seed: int, shard: tuple[int, int], target: float) -> None:
    """Delete this shard's pieces beyond the shortest prefix of the plan that holds ``target`` seconds.

    Parallel workers finish jobs out of order and jobs in flight when the target is met overshoot it,
    so without this an interrupted and resumed run would keep other pieces than an uninterrupted one.
    Trimming to the plan prefix makes the dataset a function of (seed, hours, shard) alone."""
    i_shard, n_shard = shard
    mine = {}
    for path in (root / "pieces").glob("*.json"):
        k = _job_index(path.stem, seed)
        if k is not None and k % n_shard == i_shard:
            mine[k] = path
    skipped = {k for p in (root / "skipped").glob("*.json")
               if (k := _job_index(p.stem, seed)) is not None and k % n_shard == i_shard}
    total, last, expected = 0.0, None, i_shard
    for k in sorted(mine.keys() | skipped):
        if total >= target or k != expected:
            break  # the target is met, or the prefix has a hole (an unfinished run): keep the rest
        if k in mine:
            with open(mine[k]) as f:
                total += stem_seconds(json.load(f))
        last, expected = k, k + n_shard
    if total < target or last is None:
        return
    for k, path in mine.items():
        if k > last:
            with open(path) as f:
                entry = json.load(f)
            for stem in entry["stems"]:
                (root / stem["file"]).unlink(missing_ok=True)
            path.unlink()


def _end_with_parent() -> None:
    """Worker initializer: ask Linux to end this worker when the parent process dies (killed or not),
    so no orphaned renderer keeps writing into the dataset folder."""
    import ctypes
    import signal
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # not Linux: workers end when their queue closes
        pass


# ---- in-memory stems and mixtures ------------------------------------------------------------------

class StemBank:
    """Every stem of one split, in memory (float32), with its piano rolls.

    Parameters
    ----------
    root : str or Path
        Dataset folder (see :func:`load_manifest`).
    split : str
        ``"train"``, ``"validation"`` or ``"test"``.
    sources : iterable of str or None
        Keep only these sources (``"chorale"``, ``"score"``, ``"random"``).
    max_pieces : int or None
        Load at most this many pieces (in manifest order), for quick experiments.
    progress : bool
        Show a tqdm bar while decoding.

    Attributes
    ----------
    pieces : list of dict
        Per piece: ``id``, ``audio`` float32 ``(K, n_samples)``, ``frames`` and ``onsets`` uint8
        ``(K, 84, T)``, ``classes`` and ``instruments`` (K names each), ``programs``, ``notes`` (K arrays
        ``(N, 4)``).

    Notebook: 02_training
    """

    def __init__(self, root, split: str, *, sources=None, max_pieces: int | None = None, progress: bool = True):
        import soundfile as sf
        from tqdm.auto import tqdm

        if split not in SPLITS:
            raise MitkitError(f"split={split!r} must be one of {SPLITS}")
        self.root = Path(root)
        man = load_manifest(self.root)
        entries = [p for p in man["pieces"] if p["split"] == split and (sources is None or p["source"] in sources)]
        entries = entries[:max_pieces] if max_pieces is not None else entries
        if not entries:
            warnings.warn(f"StemBank: no pieces of split={split!r} in {self.root}", stacklevel=2)
        self.split = split
        self.pieces = []
        for e in tqdm(entries, desc=f"load {split}", disable=not progress):
            audio = [sf.read(str(self.root / s["file"]), dtype="float32")[0] for s in e["stems"]]
            n = min(len(a) for a in audio)
            audio = np.stack([a[:n] for a in audio])  # (K, n_samples)
            T = n_frames_for(n)
            notes = [np.asarray(s["notes"], np.float64).reshape(-1, 4) for s in e["stems"]]
            rolls = [note_rolls(x, T) for x in notes]
            self.pieces.append({
                "id": e["id"], "audio": audio,
                "frames": np.stack([r[0] for r in rolls]).astype(np.uint8),  # (K, 84, T)
                "onsets": np.stack([r[1] for r in rolls]).astype(np.uint8),
                "classes": [s["class"] for s in e["stems"]], "programs": [s["program"] for s in e["stems"]],
                "instruments": [s.get("instrument", s["class"]) for s in e["stems"]],
                "notes": notes,
            })

    def __len__(self) -> int:
        return len(self.pieces)

    @property
    def seconds(self) -> float:
        """Seconds of stem audio held."""
        return sum(p["audio"].size for p in self.pieces) / SAMPLE_RATE


class MixtureDataset:
    """Mixtures of 1–``max_instruments`` stems of one piece, drawn on the fly (a ``torch`` map-style dataset).

    Item ``i`` is a deterministic function of ``(seed, i)``. Change ``seed`` per epoch for fresh mixes.

    Parameters
    ----------
    bank : StemBank
    clip_frames : int
        T, frames per example (900 ≈ 10.45 s); audio has ``T * HOP_LENGTH`` samples.
    max_instruments : int
        Largest number of stems mixed; the label tensors always have this many slices.
    seed : int
    length : int
        Number of items per epoch.
    gain_range : (float, float)
        Uniform per-stem mix gain.
    augment : bool
        Per-stem EQ (probability ``stem_eq_prob``) and mixture EQ/noise (:func:`mitkit.render.augment_mixture`).
    stem_eq_prob : float

    Returns (per item)
    ------------------
    dict with ``audio`` float32 ``(T * HOP_LENGTH,)``, ``frames`` and ``onsets`` float32
    ``(max_instruments, 84, T)`` (zeros for absent instruments), ``n_instruments`` int, ``piece`` str
    (piece id), ``stems`` int64 ``(max_instruments,)`` (stem index in the piece per slot, -1 when absent)
    and ``start_frame`` int (first frame of the clip in the piece).

    Examples
    --------
    >>> bank = StemBank("/work/data/synth-v1", "validation", max_pieces=4)  # doctest: +SKIP
    >>> ds = MixtureDataset(bank, augment=False)  # doctest: +SKIP
    >>> item = ds[0]  # doctest: +SKIP
    >>> plot_mixture_rolls(item["audio"], item["frames"][:item["n_instruments"]],
    ...                    names=ds.instrument_names(item))  # doctest: +SKIP

    Notebook: 02_training
    """

    def __init__(self, bank: StemBank, *, clip_frames: int = 900, max_instruments: int = 4, seed: int = 0,
                 length: int = 10000, gain_range=(0.8, 1.2), augment: bool = True, stem_eq_prob: float = 0.3):
        if clip_frames < 1:
            raise MitkitError(f"clip_frames={clip_frames} must be >= 1")
        if max_instruments < 1:
            raise MitkitError(f"max_instruments={max_instruments} must be >= 1")
        if not len(bank):
            raise MitkitError("bank must hold at least one piece")
        self.bank, self.clip_frames, self.max_instruments = bank, int(clip_frames), int(max_instruments)
        self.seed, self.length, self.gain_range = int(seed), int(length), tuple(gain_range)
        self.augment, self.stem_eq_prob = bool(augment), float(stem_eq_prob)
        w = np.array([p["audio"].shape[1] for p in bank.pieces], float)
        self._p = w / w.sum()  # pieces drawn in proportion to their length

    def __len__(self) -> int:
        return self.length

    def instrument_names(self, item: dict) -> list[str]:
        """Instrument names of an item's slots (``n_instruments`` of them), e.g. for a plot legend."""
        piece = next(p for p in self.bank.pieces if p["id"] == item["piece"])
        return [piece["instruments"][int(k)] for k in item["stems"][:item["n_instruments"]]]

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < self.length:
            raise IndexError(i)
        rng = np.random.default_rng([self.seed, int(i)])
        piece = self.bank.pieces[int(rng.choice(len(self._p), p=self._p))]
        K = piece["audio"].shape[0]
        # distinct classes (pieces are rendered that way; guard anyway)
        by_class = {}
        for k in rng.permutation(K):
            by_class.setdefault(piece["classes"][k], int(k))
        avail = list(by_class.values())
        n = int(rng.integers(1, min(self.max_instruments, len(avail)) + 1))
        chosen = avail[:n]
        T, L = self.clip_frames, self.clip_frames * HOP_LENGTH
        T_piece = piece["frames"].shape[2]
        start = 0
        for _ in range(4):  # avoid clips where the chosen stems are silent
            start = int(rng.integers(0, max(T_piece - T, 0) + 1))
            if piece["frames"][chosen, :, start:start + T].any():
                break
        audio = np.zeros(L, np.float32)
        frames = np.zeros((self.max_instruments, N_PITCHES, T), np.float32)
        onsets = np.zeros_like(frames)
        s0 = start * HOP_LENGTH
        for slot, k in enumerate(chosen):
            x = piece["audio"][k, s0:s0 + L]
            if self.augment and rng.random() < self.stem_eq_prob:
                x = render.apply_eq(x, render.random_eq(len(x), rng, max_db=6.0))
            audio[:len(x)] += float(rng.uniform(*self.gain_range)) * x
            fr = piece["frames"][k, :, start:start + T]
            frames[slot, :, :fr.shape[1]] = fr
            onsets[slot, :, :fr.shape[1]] = piece["onsets"][k, :, start:start + T]
        if self.augment:
            audio = render.augment_mixture(audio, rng)
        stems = np.full(self.max_instruments, -1, np.int64)
        stems[:n] = chosen
        return {"audio": audio.astype(np.float32), "frames": frames, "onsets": onsets, "n_instruments": n,
                "piece": piece["id"], "stems": stems, "start_frame": start}


def plot_mixture_rolls(audio, frames, *, names=None, sr: int = SAMPLE_RATE, title: str = "Mixture",
                       height: int = 560):
    """Waveform of a mixture above the piano roll of each of its instruments (one colour each).

    Parameters
    ----------
    audio : np.ndarray, shape (n_samples,)
        The mixture.
    frames : np.ndarray, shape (K, 84, T)
        Frame rolls per instrument (e.g. ``item["frames"][:item["n_instruments"]]`` of
        :class:`MixtureDataset`).
    names : list of str or None
        Legend names, default ``"instrument 1"``...
    sr : int
        Sample rate of ``audio``.

    Returns
    -------
    plotly.graph_objects.Figure
        Listen alongside with ``IPython.display.Audio(audio, rate=sr)``.

    Notebook: 02_training
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    frames = np.asarray(frames)
    if frames.ndim != 3 or frames.shape[1] != N_PITCHES:
        raise MitkitError(f"frames.shape={frames.shape} must be (K, {N_PITCHES}, T)")
    K, _, T = frames.shape
    names = list(names) if names is not None else [f"instrument {k + 1}" for k in range(K)]
    colours = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.25, 0.75], vertical_spacing=0.03)
    x = np.asarray(audio, np.float32)
    step = max(1, len(x) // 4000)  # min/max envelope, at most ~8000 points
    n = len(x) // step
    if n:
        env = x[: n * step].reshape(n, step)
        t = (np.arange(n) * step + step / 2) / sr
        fig.add_trace(go.Scatter(x=np.repeat(t, 2), y=np.stack([env.min(1), env.max(1)], 1).ravel(),
                                 mode="lines", line=dict(width=1, color="#555"), name="mixture",
                                 showlegend=False), row=1, col=1)
    for k in range(K):
        # one horizontal bar per run of active frames: a few numbers per note rather than an 84 x T image
        on = np.pad(frames[k] > 0.5, ((0, 0), (1, 1)))
        edges = np.diff(on.astype(np.int8), axis=1)
        p_start, t_start = np.nonzero(edges == 1)
        _, t_end = np.nonzero(edges == -1)  # same row-major order: the i-th end closes the i-th start
        x_bars = np.stack([t_start, t_end, np.full(t_start.size, np.nan)], 1).ravel() / FRAME_RATE
        y_bars = np.repeat(p_start + MIDI_MIN, 3).astype(float)
        y_bars[2::3] = np.nan
        c = colours[k % len(colours)]
        fig.add_trace(go.Scatter(x=x_bars, y=y_bars, mode="lines", line=dict(width=5, color=c), opacity=0.75,
                                 name=names[k], hovertemplate=names[k] + " MIDI %{y} @ %{x:.2f}s<extra></extra>"),
                      row=2, col=1)
    fig.update_yaxes(title_text="amplitude", row=1, col=1)
    fig.update_yaxes(title_text="MIDI pitch", row=2, col=1)
    fig.update_xaxes(title_text="time (s)", row=2, col=1)
    fig.update_layout(title=title, height=height, margin=dict(l=60, r=20, t=40, b=40))
    return fig


# ---- chorale benchmark ---------------------------------------------------------------------------

def split_chorales(split: str = "test") -> list[str]:
    """Corpus names of the chorales whose tune falls in ``split`` (sorted)."""
    return sorted(r for r in scores.chorale_names() if split_of(chorale_group(r)) == split)


def test_chorales() -> list[str]:
    """Corpus names of the chorales whose tune falls in the test split (sorted)."""
    return split_chorales("test")


_PAIRS = ((0, 3), (0, 1), (1, 2), (2, 3), (0, 2), (1, 3))  # 2-part subsets, outer voices first
_TRIPLES = ((0, 1, 3), (0, 2, 3), (0, 1, 2), (1, 2, 3))


def build_chorale_benchmark(out, *, n_chorales: int = 8, seed: int = 0, max_seconds: float = 30.0,
                            soundfont: str = "FluidR3_GM", split: str = "test", articulation: str = "detached",
                            progress: bool = True) -> dict:
    """Render the fixed chorale benchmark from test-split chorales into ``out`` (``index.json``).

    ``split="validation"`` builds the same kind of benchmark from validation chorales, for tuning
    thresholds (:mod:`mitkit.tuning`) without touching the test pieces.

    For each of ``n_chorales`` test chorales (a seeded choice among those BACH10's instruments can play),
    two renderings of a ≤ ``max_seconds`` excerpt: ``"bach10"`` (violin, clarinet, tenor sax, bassoon)
    and ``"other"`` (random instruments of classes BACH10 does not use). Each is mixed from 2, 3 and 4 of
    its parts (a rotating choice of voices), in a moderate room, without random gains. Per-part stems
    are saved too (``stems/``) for listening and separation plots.

    ``articulation`` (see :func:`mitkit.scores.score_to_parts`): "detached" (the default, and the fixed
    test benchmark's) always leaves a gap between notes; "written" holds every note for its written
    length, so repeated notes are re-attacked with no gap, as notation software plays a score.

    Returns the index dict (format in ``CONTRACT.md``).

    Notebook: 03_embeddings_and_clustering
    """
    from tqdm.auto import tqdm

    root = Path(out)
    (root / "mixes").mkdir(parents=True, exist_ok=True)
    (root / "stems").mkdir(parents=True, exist_ok=True)
    rng0 = np.random.default_rng([seed, 4242])
    if split not in SPLITS:
        raise MitkitError(f"split={split!r} must be one of {SPLITS}")
    cands = split_chorales(split)
    order = rng0.permutation(len(cands))
    bach10 = [inst.BY_NAME[n] for n in inst.ENSEMBLES["bach10"]]
    bach10_classes = {i.cls for i in bach10}
    mixes, used, done = [], 0, set()
    bar = tqdm(total=n_chorales, desc="chorale bench", disable=not progress)
    for ci in order:
        if used >= n_chorales:
            break
        ref = cands[ci]
        if ref in done:  # music21 lists some chorales twice (Riemenschneider numbers repeat a BWV)
            continue
        done.add(ref)
        rng = np.random.default_rng([seed, used, 17])
        # the excerpt plus its lead-in (≤ 0.5 s) and release tail (1.5 s) stays within max_seconds
        parts = scores.score_to_parts(scores.load_score(ref), rng, bpm_range=scores.CHORALE_TEMPO,
                                      vocal_only=True, max_seconds=max(max_seconds - 2.0, 1.0),
                                      articulation=articulation, timing_jitter_s=0.0)
        if len(parts) != 4 or not all(i.fits(*p.span) for i, p in zip(bach10, parts)):
            continue
        name = scores.piece_name(ref)
        room = render.Room(reverb_roomsize=0.4, reverb_damping=0.3, reverb_width=50.0, reverb_level=0.6,
                           chorus_nr=0)
        for instrumentation in ("bach10", "other"):
            if instrumentation == "bach10":
                ins_list = bach10
            else:
                ins_list = inst.assign_instruments([p.span for p in parts], rng, exclude_classes=bach10_classes)
            styles = [render.random_style(i, rng) for i in ins_list]
            for s in styles:
                s.reverb_send, s.chorus_send = 40, 0
            stems = render.render_stems([(p.notes, s) for p, s in zip(parts, styles)], soundfont=soundfont,
                                        room=room)
            stems = np.stack([x * _stem_scale(x, None) for x in stems])
            stem_files = []
            for k, x in enumerate(stems):
                f = f"stems/{name}-{instrumentation}.{k}.flac"
                _write_audio(root / f, x, "flac")
                stem_files.append(f)
            for n_parts in (2, 3, 4):
                sel = {2: _PAIRS[used % len(_PAIRS)], 3: _TRIPLES[used % len(_TRIPLES)], 4: (0, 1, 2, 3)}[n_parts]
                mix = stems[list(sel)].sum(0)
                peak = float(np.max(np.abs(mix)))
                gain = 0.9 / peak if peak > 0.9 else 1.0  # mix = gain * sum of the parts' stems
                mix = mix * gain
                mid = f"{name}-{instrumentation}-{n_parts}p"
                _write_audio(root / f"mixes/{mid}.flac", mix, "flac")
                mixes.append({"id": mid, "audio": f"mixes/{mid}.flac", "n_parts": n_parts,
                              "instrumentation": instrumentation, "chorale": ref, "soundfont": soundfont,
                              "gain": round(gain, 6),
                              "duration": round(len(mix) / SAMPLE_RATE, 4),
                              "parts": [{"name": parts[k].name, "program": ins_list[k].program,
                                         "class": ins_list[k].cls, "stem": stem_files[k],
                                         "notes": _notes_json(parts[k].notes)} for k in sel]})
        used += 1
        bar.update(1)
    bar.close()
    if used == 0:
        raise MitkitError(f"max_seconds={max_seconds} must leave room for a 4-part excerpt that BACH10's "
                          f"instruments can play: none of the {split}-split chorales fits (try 30)")
    if used < n_chorales:
        warnings.warn(f"only {used} test chorales fit BACH10's ranges (asked n_chorales={n_chorales})",
                      stacklevel=2)
    index = {"format": BENCH_FORMAT, "version": BENCH_VERSION, "sample_rate": SAMPLE_RATE, "seed": seed,
             "split": split, "articulation": articulation, "mixes": mixes}
    _atomic_write_json(root / "index.json", index)
    return index


# ---- command line --------------------------------------------------------------------------------

def _parse_shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--shard={text!r} must look like i/N, e.g. 0/4") from exc
    if not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"--shard={text!r} must satisfy 0 <= i < N")
    return i, n


def add_synth_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``mitkit synth`` (for :mod:`mitkit.cli`)."""
    p.add_argument("--out", required=True, help="dataset folder (created; an existing one is resumed)")
    p.add_argument("--hours", type=float, required=True, help="hours of stem audio to hold (over all shards)")
    p.add_argument("--seed", type=int, default=0, help="plan seed: same seed, same pieces")
    p.add_argument("--workers", type=int, default=1, help="rendering processes on this machine")
    p.add_argument("--shard", type=_parse_shard, default=(0, 1), help="i/N: this machine renders shard i of N")
    p.add_argument("--audio-format", choices=sorted(AUDIO_FORMATS), default="flac")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``mitkit chorale-bench`` (for :mod:`mitkit.cli`)."""
    p.add_argument("--out", required=True, help="benchmark folder")
    p.add_argument("--n-chorales", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-seconds", type=float, default=30.0)
    p.add_argument("--split", choices=SPLITS, default="test",
                   help="take chorales from this split (validation: for tuning thresholds)")
    p.add_argument("--articulation", choices=sorted(scores.ARTICULATION_WEIGHTS), default="detached",
                   help="how notes end: detached (a gap before every note; the test benchmark's) or "
                        "written (held for the written length: repeated notes re-attacked without a gap)")
    p.add_argument("--quiet", action="store_true")


def synth_main(args) -> int:
    """Run ``mitkit synth`` from parsed arguments; prints a one-line summary."""
    t0 = time.time()
    man = synth(args.out, hours=args.hours, seed=args.seed, workers=args.workers, shard=args.shard,
                audio_format=args.audio_format, progress=not args.quiet)
    secs = sum(stem_seconds(p) for p in man["pieces"])
    dt = time.time() - t0
    print(f"{args.out}: {len(man['pieces'])} pieces, {secs / 3600:.2f} h of stem audio "
          f"({dt:.0f} s wall this run)")
    return 0


def bench_main(args) -> int:
    """Run ``mitkit chorale-bench`` from parsed arguments."""
    index = build_chorale_benchmark(args.out, n_chorales=args.n_chorales, seed=args.seed,
                                    max_seconds=args.max_seconds, split=args.split,
                                    articulation=args.articulation, progress=not args.quiet)
    print(f"{args.out}: {len(index['mixes'])} mixes")
    return 0


def main(argv=None) -> int:
    """``python -m mitkit.data {synth,chorale-bench} ...``"""
    parser = argparse.ArgumentParser(prog="mitkit", description="mitkit synthetic data")
    sub = parser.add_subparsers(dest="command", required=True)
    add_synth_arguments(sub.add_parser("synth", help="render a synthetic stem dataset"))
    add_bench_arguments(sub.add_parser("chorale-bench", help="render the chorale benchmark"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return synth_main(args) if args.command == "synth" else bench_main(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
