"""Benchmarks rendered from scores: Bach chorales as 2-4-part mixes with their reference notes
(``mitkit chorale-bench``), the test material of the README's table and the validation material for
tuning; string-quartet excerpts (``mitkit quartet-bench``), for fast music and two violins.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mitkit import constants as C
from mitkit.constants import SAMPLE_RATE, SPLITS
from mitkit.errors import MitkitError, warn
from mitkit.synth import instruments as inst
from mitkit.synth import render, rooms, scores
from mitkit.synth.splits import split_chorales
from mitkit.synth.storage import notes_to_json, stem_gain, write_audio, write_json_atomically

_PAIRS = ((0, 3), (0, 1), (1, 2), (2, 3), (0, 2), (1, 3))  # 2-part subsets, outer voices first


_TRIPLES = ((0, 1, 3), (0, 2, 3), (0, 1, 2), (1, 2, 3))


BENCH_REVERB_SEND = 40  # FluidSynth reverb send (CC 91) of every benchmark player


def _bench_room() -> render.Room:
    """The benchmarks' room: moderate reverb, no chorus."""
    return render.Room(reverb_roomsize=0.4, reverb_damping=0.3, reverb_width=50.0, reverb_level=0.6, chorus_nr=0)


def _bench_styles(ins_list, rng, *, simulated_room: bool = False) -> list:
    """Random players' styles (:func:`mitkit.synth.render.random_style`) with the same reverb send and no chorus;
    less of it where a simulated room adds its own reverberation (:func:`mitkit.synth.rooms.reverb_send_in_room`,
    as ``mitkit synth`` renders)."""
    styles = [render.random_style(i, rng) for i in ins_list]
    send = rooms.reverb_send_in_room(BENCH_REVERB_SEND) if simulated_room else BENCH_REVERB_SEND
    for s in styles:
        s.reverb_send, s.chorus_send = send, 0
    return styles


def _simulated_room(n_stems: int, seed_key, simulated_room: bool) -> rooms.Acoustics | None:
    """A random room of :mod:`mitkit.synth.rooms` for ``n_stems`` players, drawn from its own seeded stream (the
    benchmark's other draws stay what they are without one), or None without ``simulated_room``."""
    return rooms.random_acoustics(n_stems, np.random.default_rng(seed_key)) if simulated_room else None


def _render_in(room: render.Room, acoustics, parts, styles, soundfont: str) -> np.ndarray:
    """The parts' stems, each heard from its place in the simulated room when there is one."""
    stems = render.render_stems([(p.notes, s) for p, s in zip(parts, styles)], soundfont=soundfont, room=room)
    return stems if acoustics is None else rooms.apply_acoustics(stems, acoustics)


def _room_fields(acoustics) -> dict:
    """The index fields that say which simulated room a mix was heard in (none without one)."""
    return {} if acoustics is None else {"acoustics": rooms.acoustics_dict(acoustics)}


def build_chorale_benchmark(out, *, n_chorales: int = 8, seed: int = 0, max_seconds: float = 30.0,
                            soundfont: str = "FluidR3_GM", split: str = "test", articulation: str = "detached",
                            simulated_room: bool = False, progress: bool = True) -> dict:
    """Render the fixed chorale benchmark from test-split chorales into ``out`` (``index.json``).

    ``split="validation"`` builds the same kind of benchmark from validation chorales, for tuning
    thresholds (:mod:`mitkit.training.tuning`) without touching the test pieces.

    For each of ``n_chorales`` test chorales (a seeded choice among those BACH10's instruments can play),
    two renderings of a ≤ ``max_seconds`` excerpt: ``"bach10"`` (violin, clarinet, tenor sax, bassoon)
    and ``"other"`` (random instruments of classes BACH10 does not use). Each is mixed from 2, 3 and 4 of
    its parts (a rotating choice of voices), in a moderate room, without random gains. Per-part stems
    are saved too (``stems/``) for listening and separation plots.

    ``articulation`` (see :func:`mitkit.synth.scores.score_to_parts`): "detached" (the default, and the fixed
    test benchmark's) always leaves a gap between notes; "written" holds every note for its written
    length, so repeated notes are re-attacked with no gap, as notation software plays a score.

    ``simulated_room``: each chorale's players also stand in a random room of :mod:`mitkit.synth.rooms` (a
    practice room to a hall, 1–6 m from the microphone; the index keeps it as ``acoustics``), heard as a
    recording would hear them, for measuring what reverberation costs; the notes are the same.

    Returns the index dict (format in ARCHITECTURE.md).

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
        room = _bench_room()
        acoustics = _simulated_room(4, [seed, used, 31], simulated_room)
        for instrumentation in ("bach10", "other"):
            if instrumentation == "bach10":
                ins_list = bach10
            else:
                ins_list = inst.assign_instruments([p.span for p in parts], rng, exclude_classes=bach10_classes)
            styles = _bench_styles(ins_list, rng, simulated_room=simulated_room)
            stems = _render_in(room, acoustics, parts, styles, soundfont)
            stems, stem_files = _save_stems(root, f"{name}-{instrumentation}", stems)
            for n_parts in (2, 3, 4):
                sel = {2: _PAIRS[used % len(_PAIRS)], 3: _TRIPLES[used % len(_TRIPLES)], 4: (0, 1, 2, 3)}[n_parts]
                mixes.append(_write_mix(root, f"{name}-{instrumentation}-{n_parts}p", stems, sel, parts, ins_list,
                                        stem_files, instrumentation=instrumentation, chorale=ref,
                                        soundfont=soundfont, **_room_fields(acoustics)))
        used += 1
        bar.update(1)
    bar.close()
    if used == 0:
        raise MitkitError(f"max_seconds={max_seconds} must leave room for a 4-part excerpt that BACH10's "
                          f"instruments can play: none of the {split}-split chorales fits (try 30)")
    if used < n_chorales:
        warn(f"only {used} test chorales fit BACH10's ranges (asked n_chorales={n_chorales})")
    index = {"format": C.BENCHMARK_FORMAT, "version": C.BENCHMARK_VERSION, "sample_rate": SAMPLE_RATE, "seed": seed,
             "split": split, "articulation": articulation, "simulated_room": simulated_room, "mixes": mixes}
    write_json_atomically(root / "index.json", index)
    return index


def _save_stems(root: Path, name: str, stems: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Level each stem (:func:`mitkit.synth.storage.stem_gain`), write ``stems/<name>.<k>.flac``."""
    stems = np.stack([x * stem_gain(x, None) for x in stems])
    files = []
    for k, x in enumerate(stems):
        files.append(f"stems/{name}.{k}.flac")
        write_audio(root / files[-1], x, "flac")
    return stems, files


def _write_mix(root: Path, mid: str, stems: np.ndarray, sel, parts, ins_list, stem_files, **fields) -> dict:
    """Write the mix of the parts ``sel`` as ``mixes/<mid>.flac`` (scaled down only to keep its peak at
    0.9); returns its index entry (``fields`` added as they are)."""
    mix = stems[list(sel)].sum(0)
    peak = float(np.max(np.abs(mix)))
    gain = 0.9 / peak if peak > 0.9 else 1.0  # mix = gain * sum of the parts' stems
    mix = mix * gain
    write_audio(root / f"mixes/{mid}.flac", mix, "flac")
    return {"id": mid, "audio": f"mixes/{mid}.flac", "n_parts": len(sel), **fields, "gain": round(gain, 6),
            "duration": round(len(mix) / SAMPLE_RATE, 4),
            "parts": [{"name": parts[k].name, "program": ins_list[k].program, "class": ins_list[k].cls,
                       "stem": stem_files[k], "notes": notes_to_json(parts[k].notes)} for k in sel]}


#: music21's string quartets (folders whose files are quartet movements; Mozart's K. 545 is a sonata)
QUARTET_FOLDERS = ("beethoven", "haydn", "mozart")
_NOT_QUARTETS = ("mozart/k545",)


def quartet_movements(split: str) -> list[str]:
    """Corpus names of the string-quartet movements in ``split``."""
    from mitkit.synth.splits import score_group, split_of
    return [ref for ref in scores.score_names() if ref.split("/", 1)[0] in QUARTET_FOLDERS
            and not ref.startswith(_NOT_QUARTETS) and split_of(score_group(ref)) == split]


def build_quartet_benchmark(out, *, n_excerpts: int = 8, seed: int = 0, max_seconds: float = 30.0,
                            soundfont: str = "FluidR3_GM", split: str = "validation", articulation: str = "written",
                            simulated_room: bool = False, progress: bool = True) -> dict:
    """Render string-quartet excerpts (two violins, viola, cello) into ``out`` (``index.json``): fast
    passages, repeated notes and two instruments of one class, which chorales do not have.

    ``n_excerpts`` excerpts of ≤ ``max_seconds``, cycling through the ``split``'s quartet movements (two
    or more per movement when there are fewer movements), each mixed from its four parts, played as
    ``articulation`` says (default "written": every note held for its written length), in a moderate room,
    one tempo map. Excerpts with a part out of its instrument's range, or nearly silent, are passed over.
    Same format as :func:`build_chorale_benchmark` (``instrumentation`` "string_quartet"; ``simulated_room`` as
    there, one room per excerpt).
    """
    from tqdm.auto import tqdm

    if split not in SPLITS:
        raise MitkitError(f"split={split!r} must be one of {SPLITS}")
    refs = quartet_movements(split)
    if not refs:
        raise MitkitError(f"split={split!r} must hold string-quartet movements (music21 has none there)")
    root = Path(out)
    (root / "mixes").mkdir(parents=True, exist_ok=True)
    (root / "stems").mkdir(parents=True, exist_ok=True)
    room = _bench_room()
    mixes, attempt = [], 0
    bar = tqdm(total=n_excerpts, desc="quartet bench", disable=not progress)
    while len(mixes) < n_excerpts and attempt < 4 * n_excerpts:
        ref = refs[attempt % len(refs)]
        rng = np.random.default_rng([seed, attempt, 23])
        attempt += 1
        parts = scores.score_to_parts(scores.load_score(ref), rng, bpm_range=scores.SCORE_SOURCES[ref.split("/")[0]],
                                      max_parts=4, max_seconds=max(max_seconds - 2.0, 1.0),
                                      articulation=articulation, timing_jitter_s=0.0)
        if len(parts) < 4:  # a part silent (fewer than 4 notes) in this excerpt: another excerpt
            continue
        try:
            ins_list = inst.assign_instruments([p.span for p in parts], rng, ensemble="string_quartet")
        except MitkitError:
            continue
        if [i.name for i in ins_list] != list(inst.ENSEMBLES["string_quartet"]):
            continue  # a part out of its string instrument's range: another excerpt
        styles = _bench_styles(ins_list, rng, simulated_room=simulated_room)
        name = f"{scores.piece_name(ref)}-{attempt - 1}"
        acoustics = _simulated_room(4, [seed, attempt - 1, 31], simulated_room)
        stems = _render_in(room, acoustics, parts, styles, soundfont)
        stems, stem_files = _save_stems(root, name, stems)
        mixes.append(_write_mix(root, name, stems, range(4), parts, ins_list, stem_files,
                                instrumentation="string_quartet", movement=ref, soundfont=soundfont,
                                **_room_fields(acoustics)))
        bar.update(1)
    bar.close()
    if not mixes:
        raise MitkitError(f"none of the {split}-split quartet movements gave an excerpt (max_seconds={max_seconds})")
    index = {"format": C.BENCHMARK_FORMAT, "version": C.BENCHMARK_VERSION, "sample_rate": SAMPLE_RATE, "seed": seed,
             "split": split, "articulation": articulation, "simulated_room": simulated_room, "mixes": mixes}
    write_json_atomically(root / "index.json", index)
    return index
