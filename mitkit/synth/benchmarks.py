"""Chorale benchmarks: Bach chorales rendered part by part as 1-4-part mixes with their reference notes
(``mitkit chorale-bench``), the test material of the README's table and the validation material for
tuning.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mitkit import constants as C
from mitkit.constants import SAMPLE_RATE, SPLITS
from mitkit.errors import MitkitError, warn
from mitkit.synth import instruments as inst
from mitkit.synth import render, scores
from mitkit.synth.splits import split_chorales
from mitkit.synth.storage import notes_to_json, stem_gain, write_audio, write_json_atomically

_PAIRS = ((0, 3), (0, 1), (1, 2), (2, 3), (0, 2), (1, 3))  # 2-part subsets, outer voices first


_TRIPLES = ((0, 1, 3), (0, 2, 3), (0, 1, 2), (1, 2, 3))


def build_chorale_benchmark(out, *, n_chorales: int = 8, seed: int = 0, max_seconds: float = 30.0,
                            soundfont: str = "FluidR3_GM", split: str = "test", articulation: str = "detached",
                            progress: bool = True) -> dict:
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
            stems = np.stack([x * stem_gain(x, None) for x in stems])
            stem_files = []
            for k, x in enumerate(stems):
                f = f"stems/{name}-{instrumentation}.{k}.flac"
                write_audio(root / f, x, "flac")
                stem_files.append(f)
            for n_parts in (2, 3, 4):
                sel = {2: _PAIRS[used % len(_PAIRS)], 3: _TRIPLES[used % len(_TRIPLES)], 4: (0, 1, 2, 3)}[n_parts]
                mix = stems[list(sel)].sum(0)
                peak = float(np.max(np.abs(mix)))
                gain = 0.9 / peak if peak > 0.9 else 1.0  # mix = gain * sum of the parts' stems
                mix = mix * gain
                mid = f"{name}-{instrumentation}-{n_parts}p"
                write_audio(root / f"mixes/{mid}.flac", mix, "flac")
                mixes.append({"id": mid, "audio": f"mixes/{mid}.flac", "n_parts": n_parts,
                              "instrumentation": instrumentation, "chorale": ref, "soundfont": soundfont,
                              "gain": round(gain, 6),
                              "duration": round(len(mix) / SAMPLE_RATE, 4),
                              "parts": [{"name": parts[k].name, "program": ins_list[k].program,
                                         "class": ins_list[k].cls, "stem": stem_files[k],
                                         "notes": notes_to_json(parts[k].notes)} for k in sel]})
        used += 1
        bar.update(1)
    bar.close()
    if used == 0:
        raise MitkitError(f"max_seconds={max_seconds} must leave room for a 4-part excerpt that BACH10's "
                          f"instruments can play: none of the {split}-split chorales fits (try 30)")
    if used < n_chorales:
        warn(f"only {used} test chorales fit BACH10's ranges (asked n_chorales={n_chorales})")
    index = {"format": C.BENCHMARK_FORMAT, "version": C.BENCHMARK_VERSION, "sample_rate": SAMPLE_RATE, "seed": seed,
             "split": split, "articulation": articulation, "mixes": mixes}
    write_json_atomically(root / "index.json", index)
    return index
