"""Count benchmarks: mixes whose number of instruments is known, including the textures that break a
count by polyphony alone (``mitkit count-bench``).

Each mix takes the four voices of Bach chorales (chained to the asked length) and gives them to
instruments in one of these textures (:data:`TEXTURES`, the number of instruments in brackets):

- ``mono1`` … ``mono4`` [1 … 4]: that many voices, each on its own one-note-at-a-time instrument of a
  distinct class (the chorale benchmark's kind of mix);
- ``quartet`` [4]: a string quartet, two violins, viola and cello (two instruments of one class: they count
  as two, as they would on a score);
- ``poly`` [1]: one polyphonic instrument (piano, guitar, harp, organ, …) plays all four voices: a
  keyboard reduction, which must count as one instrument, not four voices;
- ``poly+1`` … ``poly+3`` [2 … 4]: 1–3 melody instruments take the soprano, then the bass, then the alto,
  and a polyphonic instrument plays the voices left.

Every texture is rendered at every length of ``lengths`` (10 s, 30 s and 2 min by default) from
chorales of one split, so the count can be tuned on validation and reported on test.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mitkit import constants as C
from mitkit.constants import SAMPLE_RATE, SPLITS
from mitkit.errors import MitkitError
from mitkit.synth import instruments as inst
from mitkit.synth import render, scores
from mitkit.synth.datasets import SOUNDFONT_WEIGHTS
from mitkit.synth.splits import split_chorales
from mitkit.synth.storage import notes_to_json, stem_gain, write_audio, write_json_atomically

#: texture name -> (melody instruments, whether a polyphonic instrument plays the voices left)
TEXTURES = {"mono1": (1, False), "mono2": (2, False), "mono3": (3, False), "mono4": (4, False),
            "quartet": (4, False), "poly": (0, True), "poly+1": (1, True), "poly+2": (2, True),
            "poly+3": (3, True)}
MELODY_ORDER = (0, 3, 1, 2)  # soprano, bass, alto, tenor: which voices melody instruments take first
QUARTET = ("violin", "violin", "viola", "cello")  # soprano, alto, tenor, bass
LENGTHS = (10.0, 30.0, 120.0)


def chained_voices(refs, rng: np.random.Generator, seconds: float) -> list[np.ndarray]:
    """The four voices (soprano … bass) of chorales from ``refs`` played one after another, with a 1-s
    pause between chorales, cut to ``seconds``: four ``(N, 4)`` note arrays in seconds.
    ``refs`` is an iterator; the chorales used are consumed from it."""
    voices, t = [[] for _ in range(4)], 0.0
    while seconds - t >= 4.0:
        parts = scores.score_to_parts(scores.load_score(next(refs)), rng, bpm_range=scores.CHORALE_TEMPO,
                                      vocal_only=True, max_seconds=seconds - t - 1.5)
        if len(parts) != 4:
            continue
        for v, part in zip(voices, parts):
            notes = part.notes.copy()
            notes[:, :2] += t
            v.append(notes)
        t = max(float(v[-1][:, 1].max()) for v in voices) + 1.0
    if not voices[0]:
        raise MitkitError(f"seconds={seconds} must be at least 4")
    return [np.concatenate(v) for v in voices]


def _span(notes) -> tuple[int, int]:
    return int(notes[:, 2].min()), int(notes[:, 2].max())


def texture_parts(texture: str, voices, rng: np.random.Generator):
    """(instrument, notes) per instrument of ``texture`` over the four ``voices``, or None when the voices do
    not fit the texture's instruments."""
    n_melody, poly = TEXTURES[texture]
    if texture == "quartet":
        chosen = [inst.BY_NAME[name] for name in QUARTET]
        if not all(i.fits(*_span(v)) for i, v in zip(chosen, voices)):
            return None
        return list(zip(chosen, voices))
    melody_idx = list(MELODY_ORDER[:n_melody])
    try:
        melody = inst.assign_instruments([_span(voices[k]) for k in melody_idx], rng,
                                         exclude_classes=inst.POLYPHONIC_CLASSES)
    except MitkitError:
        return None
    out = [(i, voices[k]) for i, k in zip(melody, melody_idx)]
    if poly:
        rest = scores.merge_voices(voices[k] for k in range(4) if k not in melody_idx)
        ins, shift = inst.polyphonic_instrument_for(rest, rng)
        if ins is None or ins.cls in {i.cls for i in melody}:
            return None
        rest = rest.copy()
        rest[:, 2] += shift
        out.append((ins, rest))
    return out


def build_count_benchmark(out, *, n_pieces: int = 4, seed: int = 0, split: str = "validation",
                          lengths=LENGTHS, textures=tuple(TEXTURES), soundfont: str = "FluidR3_GM",
                          progress: bool = True) -> dict:
    """Render ``n_pieces`` × ``lengths`` × ``textures`` mixes into ``out`` (``index.json``, ``mixes/``).

    ``soundfont`` is one of :data:`mitkit.synth.render.SOUNDFONTS`, or "mixed": one of the training data's
    (:data:`mitkit.synth.datasets.SOUNDFONT_WEIGHTS`) drawn per part.
    Every mix records its parts (one per instrument, with its notes), so ``mitkit evaluate --count auto``
    reports how often the count is right, and separation F1 with the counted K beside the true K.
    Returns the index dict (the chorale benchmark's format, ARCHITECTURE.md; ``instrumentation`` names the
    texture).
    """
    from tqdm.auto import tqdm

    if split not in SPLITS:
        raise MitkitError(f"split={split!r} must be one of {SPLITS}")
    unknown = sorted(set(textures) - set(TEXTURES))
    if unknown:
        raise MitkitError(f"textures={unknown} must be among {list(TEXTURES)}")
    root = Path(out)
    (root / "mixes").mkdir(parents=True, exist_ok=True)
    refs_all = split_chorales(split)
    refs = iter(np.random.default_rng([seed, 77]).permutation(refs_all).tolist() * 50)
    mixes = []
    bar = tqdm(total=n_pieces * len(lengths) * len(textures), desc="count bench", disable=not progress)
    for piece in range(n_pieces):
        for seconds in lengths:
            rng = np.random.default_rng([seed, piece, int(seconds)])
            voices = chained_voices(refs, rng, seconds)
            room = render.random_room(rng)
            for texture in textures:
                bar.update(1)
                parts = texture_parts(texture, voices, rng)
                if parts is None:
                    continue
                styles = [render.random_style(i, rng) for i, _ in parts]
                fonts = ([str(rng.choice(list(SOUNDFONT_WEIGHTS))) for _ in parts] if soundfont == "mixed"
                         else [soundfont] * len(parts))
                stems = render.render_stems([(n, s) for (_, n), s in zip(parts, styles)], soundfont=fonts, room=room)
                mix = sum(x * stem_gain(x, rng) for x in stems)
                peak = float(np.max(np.abs(mix)))
                mix = mix * (0.9 / peak if peak > 0.9 else 1.0)
                mid = f"{piece:02d}-{int(seconds)}s-{texture}"
                write_audio(root / f"mixes/{mid}.flac", mix, "flac")
                mixes.append({"id": mid, "audio": f"mixes/{mid}.flac", "n_parts": len(parts), "instrumentation": texture,
                              "soundfont": fonts, "duration": round(len(mix) / SAMPLE_RATE, 4),
                              "parts": [{"name": i.name, "program": i.program, "class": i.cls,
                                         "notes": notes_to_json(n)} for i, n in parts]})
    bar.close()
    index = {"format": C.BENCHMARK_FORMAT, "version": C.BENCHMARK_VERSION, "sample_rate": SAMPLE_RATE,
             "seed": seed, "split": split, "kind": "count", "mixes": mixes}
    write_json_atomically(root / "index.json", index)
    return index
