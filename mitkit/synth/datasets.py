"""Synthetic multi-instrument training data: splits, labels, the on-disk stem format and PyTorch datasets.

Pipeline (format: ARCHITECTURE.md, "Stem dataset")::

    plan_jobs(seed) ──▶ job (chorale | score | random) ──▶ parts (mitkit.synth.scores)
        ──▶ one instrument per part (mitkit.synth.instruments; distinct classes but a quartet's two violins)
        ──▶ one FluidSynth stem each (mitkit.synth.render)
        ──▶ for most pieces, each stem through its place in a simulated room (mitkit.synth.rooms)
        ──▶ audio/<id>.<k>.flac + pieces/<id>.json (atomic) ──▶ manifest.json
    StemBank(root, split) ──▶ MixtureDataset: 1–4 stems of one piece, random gains, EQ/noise ──▶ model

Splits are by *piece group*, never by rendering: a chorale's group is its tune (see
:func:`mitkit.synth.scores.melody_key`), a quartet movement's group is its opus, a random piece is its own
group. ``split_of(group)`` hashes the group, so the split of a piece never changes and test pieces are
never trained or tuned on.

Labels are at the model's frame rate (``FRAME_RATE``): frame t is centred on sample ``t * HOP_LENGTH``;
a note ``[onset_s, offset_s, pitch, velocity]`` is on in frames ``round(onset_s * FRAME_RATE)`` up to
(excluding) ``round(offset_s * FRAME_RATE)``, and its onset frame is the first of these.

Command line: ``python -m mitkit.synth.datasets synth --out DIR --hours H --seed S --workers N [--shard i/N]
[--audio-format flac|ogg]`` and ``python -m mitkit.synth.datasets chorale-bench --out DIR``.

Notebook: 02_training
"""
from __future__ import annotations

import concurrent.futures as cf
import glob
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mitkit.constants import AUDIO_FORMATS, SAMPLE_RATE
from mitkit.errors import MitkitError
from mitkit.processes import worker_pool
from mitkit.synth import instruments as inst
from mitkit.synth import render, rooms, scores
from mitkit.synth.splits import chorale_group, score_group, split_of
from mitkit.synth.storage import notes_to_json, stem_gain, write_audio, write_json_atomically

logger = logging.getLogger(__name__)

FORMAT, VERSION = "mitkit-stems", 1
SOURCE_WEIGHTS = {"chorale": 0.4, "score": 0.25, "random": 0.35}  # of rendered pieces
ENSEMBLE_WEIGHTS = {"bach10": 0.2, "strings": 0.1, "string_quartet": 0.1, "winds": 0.15, "brass": 0.1,
                    "keys_and_voices": 0.05, None: 0.3}  # None: random instruments of distinct classes
SOUNDFONT_WEIGHTS = {"FluidR3_GM": 0.45, "TimGM6mb": 0.25, "csound_GM": 0.3}  # drawn per stem
# pieces heard through a simulated room (mitkit.synth.rooms), the rest dry + FluidSynth's reverb. 0.6 until the
# eighth session: a fine-tune on synth-v3 then learned the rooms at the cost of dry audio (model card, ablation)
SIMULATED_ROOM_PROB = 0.3
#: Score pieces of three or more parts played as melody and accompaniment: the top one or two parts on
#: melody instruments, the others merged into one chord-playing instrument (a violin sonata, flute and
#: guitar, a song with piano), which real music is full of and the parts-per-player scores never give.
ACCOMPANIED_PROB = 0.15


@dataclass(frozen=True)
class Recipe:
    """What a dataset's pieces are: the weights of its sources, score folders and ensembles.

    ``"general"`` is the bundled model's data (every source, the module's weights above). ``"chamber"`` is
    the texture the general mix has least of: the quartet movements of Beethoven, Mozart and Haydn played by
    a string quartet or string ensemble, at their own speed, with their repeated-note accompaniments (a
    supplement to train on beside a general dataset: ``mitkit train --data GENERAL CHAMBER``). ``"rooms"`` is the
    general music with every piece heard through a simulated room (``room_prob`` 1; the general recipe's is
    :data:`SIMULATED_ROOM_PROB`): a supplement for a network that should hear reverberant recordings better.
    """

    sources: dict
    score_folders: dict
    other_folders: float  # weight of a score folder that score_folders does not name
    ensembles: dict
    accompanied_prob: float
    room_prob: float = SIMULATED_ROOM_PROB  # share of the pieces heard through a simulated room


RECIPES = {
    "general": Recipe(SOURCE_WEIGHTS, scores.SCORE_FOLDER_WEIGHTS, 0.01, ENSEMBLE_WEIGHTS, ACCOMPANIED_PROB),
    "chamber": Recipe({"score": 1.0}, {"beethoven": 0.4, "mozart": 0.3, "haydn": 0.3}, 0.0,
                      {"string_quartet": 0.7, "strings": 0.3}, 0.0),
    "rooms": Recipe(SOURCE_WEIGHTS, scores.SCORE_FOLDER_WEIGHTS, 0.01, ENSEMBLE_WEIGHTS, ACCOMPANIED_PROB, room_prob=1.0),
}


def recipe_named(name: str) -> Recipe:
    """The :data:`RECIPES` entry ``name``; a clear error for another name."""
    if name not in RECIPES:
        raise MitkitError(f"recipe={name!r} must be one of {sorted(RECIPES)}")
    return RECIPES[name]


# ---- splits and labels ----------------------------------------------------------------------------


# ---- jobs: what to render ------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One piece to render; everything about it follows from (seed, index)."""

    index: int  # position in the plan
    id: str  # piece id, unique within a seed
    source: str  # "chorale" | "score" | "random"
    ref: str  # music21 corpus name, or "" for random pieces
    seed: int  # the plan's seed
    recipe: str = "general"  # a key of RECIPES


def plan_jobs(seed: int, recipe: str = "general"):
    """Endless deterministic sequence of :class:`Job` for ``seed``.

    Sources are drawn with the recipe's weights (:data:`RECIPES`; ``"general"``: :data:`SOURCE_WEIGHTS`);
    chorales and scores cycle through seeded permutations of the corpus lists, so every chorale is rendered
    once before any is rendered twice.
    """
    plan = recipe_named(recipe)
    rng = np.random.default_rng([seed, 7919])
    chorales = list(scores.chorale_names())
    order_c = rng.permutation(len(chorales))
    folders: dict[str, list[str]] = {}
    for ref in scores.score_names():
        folders.setdefault(ref.split("/", 1)[0], []).append(ref)
    folders = {f: [refs[i] for i in rng.permutation(len(refs))] for f, refs in sorted(folders.items())}
    f_names = list(folders)
    f_probs = np.array([plan.score_folders.get(f, plan.other_folders) for f in f_names], float)
    names, probs = zip(*plan.sources.items())
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
        tag = "" if recipe == "general" else f"-{recipe}"  # general ids as they were before recipes
        yield Job(k, f"{src}-{name}{tag}-s{seed}-{k:06d}", src, ref, seed, recipe)
        k += 1


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


def accompanied_parts(parts, rng) -> tuple[list, list]:
    """``parts`` (3 or more) as melody and accompaniment: the top one or two (by mean pitch) on melody
    instruments of distinct classes, the others merged into one part (:func:`scores.merge_voices`) for a
    chord-playing instrument (:func:`inst.polyphonic_instrument_for`, an octave up where it needs one);
    ``([], [])`` when no instruments fit."""
    n_melody = 1 if len(parts) == 3 or rng.random() < 0.6 else 2
    order = sorted(range(len(parts)), key=lambda k: -float(np.mean(parts[k].notes[:, 2])))
    melody = [parts[k] for k in order[:n_melody]]
    notes = scores.merge_voices(parts[k].notes for k in order[n_melody:])
    keys, shift = inst.polyphonic_instrument_for(notes, rng)
    if keys is None:
        return [], []
    try:
        ins_list = inst.assign_instruments([p.span for p in melody], rng, exclude_classes=inst.POLYPHONIC_CLASSES)
    except MitkitError:
        return [], []
    notes[:, 2] += shift
    notes[:, 3] = np.clip(np.round(notes[:, 3] * 0.85), 1, 127)  # accompaniment a little under the melody
    return melody + [scores.Part("accompaniment", notes)], ins_list + [keys]


def _random_instruments(k: int, rng) -> list:
    classes = list(rng.permutation(inst.CLASSES)[:k])
    out = []
    for c in classes:
        pool = [i for i in inst.INSTRUMENTS if i.cls == c]
        out.append(pool[int(rng.integers(len(pool)))])
    return out


def _second_players_sound_their_own(ins_list, soundfonts, rng) -> None:
    """Where an ensemble has two players of one instrument (a quartet's violins) on one sound source, the
    second gets another: two instruments, two sounds to tell apart."""
    for k, ins in enumerate(ins_list):
        first = next((j for j in range(k) if ins_list[j].name == ins.name), None)
        if first is not None and soundfonts[k] == soundfonts[first]:
            others = [f for f in SOUNDFONT_WEIGHTS if f != soundfonts[first]]
            soundfonts[k] = others[int(rng.integers(len(others)))]


def render_job(job: Job, root, *, audio_format: str = "flac") -> dict | None:
    """Render one job into ``root`` (audio files and ``pieces/<id>.json``); returns its manifest entry.

    Returns None (and writes ``skipped/<id>.json``) when the source yields no playable parts.
    """
    root = Path(root)
    rng = np.random.default_rng([job.seed, job.index, 2])
    parts, group = _perform_parts(job, rng)
    ens = None  # who plays the piece: a key of mitkit.synth.instruments.ENSEMBLES, "accompanied", or None
    if job.source == "random":
        ins_list = _random_instruments(int(rng.integers(2, 5)), rng)
        parts = scores.random_ensemble(ins_list, float(rng.uniform(15, 35)), rng)
        keep = [k for k, p in enumerate(parts) if len(p.notes)]
        parts, ins_list = [parts[k] for k in keep], [ins_list[k] for k in keep]
    else:
        ins_list = []
        # drawn from a stream of its own, so that pieces not accompanied stay what they were
        plan = recipe_named(job.recipe)
        if len(parts) >= 3 and np.random.default_rng([job.seed, job.index, 4]).random() < plan.accompanied_prob:
            parts, ins_list = accompanied_parts(parts, rng)
            ens = "accompanied" if ins_list else None
        elif parts:
            ens = scores.weighted_choice(rng, plan.ensembles)
            try:
                ins_list = inst.assign_instruments([p.span for p in parts], rng, ensemble=ens)
            except MitkitError:
                ens = None
                parts = parts[:3] if len(parts) > 2 else []  # drop the lowest part, try once more
                try:
                    ins_list = inst.assign_instruments([p.span for p in parts], rng) if parts else []
                except MitkitError:
                    ins_list = []
    if len(parts) < 1 or not ins_list:
        write_json_atomically(root / "skipped" / f"{job.id}.json", {"id": job.id, "reason": "no playable parts"})
        return None
    room = render.random_room(rng)
    styles, notes_list, soundfonts = [], [], []
    for part, ins in zip(parts, ins_list):
        notes = part.notes.copy()
        notes[:, 3] = np.clip(np.round(notes[:, 3] + rng.integers(-15, 16)), 1, 127)
        styles.append(render.add_expression(render.random_style(ins, rng), ins, rng))
        notes_list.append(notes)
        soundfonts.append(scores.weighted_choice(rng, SOUNDFONT_WEIGHTS))  # per stem: more timbres per ensemble
    _second_players_sound_their_own(ins_list, soundfonts, rng)
    # drawn from a stream of its own, so that the draws above stay what they were before rooms existed
    room_rng = np.random.default_rng([job.seed, job.index, 3])
    acoustics = None
    if room_rng.random() < recipe_named(job.recipe).room_prob:
        acoustics = rooms.random_acoustics(len(parts), room_rng)
        for style in styles:
            style.reverb_send = rooms.reverb_send_in_room(style.reverb_send)
    stems = render.render_stems(list(zip(notes_list, styles)), soundfont=soundfonts, room=room)
    if acoustics is not None:
        stems = rooms.apply_acoustics(stems, acoustics)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    entry_stems = []
    for k, (x, notes, style, ins, part, soundfont) in enumerate(zip(stems, notes_list, styles, ins_list, parts,
                                                                    soundfonts)):
        gain = stem_gain(x, rng)
        fname = f"audio/{job.id}.{k}.{audio_format}"
        write_audio(root / fname, x * gain, audio_format)
        entry_stems.append({"file": fname, "program": ins.program, "class": ins.cls, "instrument": ins.name,
                            "soundfont": soundfont, "part": part.name, "gain": round(gain, 6),
                            "style": render.style_dict(style), "notes": notes_to_json(notes)})
    entry = {"id": job.id, "split": split_of(group), "source": job.source, "group": group, "ref": job.ref,
             "ensemble": ens,
             "duration": round(stems.shape[1] / SAMPLE_RATE, 4), "n_samples": int(stems.shape[1]),
             "room": render.room_dict(room),
             "acoustics": None if acoustics is None else rooms.acoustics_dict(acoustics), "stems": entry_stems}
    write_json_atomically(root / "pieces" / f"{job.id}.json", entry)
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


def folder_recipe(root) -> str | None:
    """The recipe a dataset folder was rendered with (its ``recipe.json``; ``"general"`` for pieces
    rendered before recipes existed; None for a folder without pieces)."""
    root = Path(root)
    if (root / "recipe.json").exists():
        with open(root / "recipe.json") as f:
            return json.load(f)["recipe"]
    return "general" if any((root / "pieces").glob("*.json")) else None


def _claim_recipe(root: Path, recipe: str) -> None:
    """Record a new folder's recipe; refuse to resume a folder with another (two plans in one folder
    would each trim the other's pieces as surplus)."""
    have = folder_recipe(root)
    if have is None:
        write_json_atomically(root / "recipe.json", {"recipe": recipe})
    elif have != recipe:
        raise MitkitError(f"out={str(root)!r} holds pieces of recipe {have!r}, not recipe={recipe!r}: render "
                          "each recipe into a folder of its own (`mitkit train --data` takes several)")


def write_manifest(root) -> dict:
    """Gather ``pieces/*.json`` into ``manifest.json`` (atomically) and return it."""
    man = load_manifest(root)
    man.update(format=FORMAT, version=VERSION, sample_rate=SAMPLE_RATE, recipe=folder_recipe(root) or "general")
    write_json_atomically(Path(root) / "manifest.json", man)
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
        write_json_atomically(Path(root) / "skipped" / f"{job.id}.json", {"id": job.id, "reason": repr(exc)})
        return job, None, exc


def synth(out, *, hours: float, seed: int = 0, workers: int = 1, shard: tuple[int, int] = (0, 1),
          audio_format: str = "flac", recipe: str = "general", progress: bool = True) -> dict:
    """Render a synthetic stem dataset of about ``hours`` hours of stem audio into ``out``.

    ``recipe`` names what the pieces are (:data:`RECIPES`): ``"general"``, the bundled model's data, or
    ``"chamber"``, string quartets' own music as a supplement; a folder holds one recipe.

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
    recipe_named(recipe)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    _claim_recipe(root, recipe)
    target = hours * 3600.0 / n_shard
    jobs = (j for j in plan_jobs(seed, recipe) if j.index % n_shard == i_shard)
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
        with worker_pool(workers) as pool:
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


# ---- in-memory stems and mixtures ------------------------------------------------------------------


# ---- chorale benchmark ---------------------------------------------------------------------------


# ---- command line --------------------------------------------------------------------------------
