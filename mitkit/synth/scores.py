"""Note sources for synthetic data: a random note generator and real multi-part scores from music21.

Every source returns *parts*: a list of :class:`Part`, each a name and a note list
``(N, 4)`` float64 ``[onset_s, offset_s, midi_pitch, velocity]`` (the ground-truth format of
ARCHITECTURE.md), monophonic or not.

Random generator (:func:`random_part`, :func:`random_ensemble`), in the spirit of arXiv 2509.12712:
a pitch pool weighted by octave around the middle of the instrument's range, truncated-normal note
lengths and gaps, a "nearest" step that moves to a close pitch most of the time, extra simultaneous
notes (polyphonic instruments) biased to consonant intervals of 4, 5, 7 and 12 semitones, and a
velocity random walk. Half of the pieces snap onsets to a shared beat grid, as real ensembles do.

Scores (:func:`chorale_names`, :func:`score_names`, :func:`load_score`, :func:`score_to_parts`):
Bach chorales (4 vocal parts, about 370) and other multi-part works of music21's corpus (Palestrina
masses, Monteverdi madrigals, Haydn/Mozart/Beethoven quartets, ...). Ties are merged, the tempo is drawn
per piece and drifts slowly, fermatas are held a little longer, notes are released slightly early
(articulation), and velocities follow a random walk with metrical accents.

Notebook: 02_training
"""
from __future__ import annotations

import hashlib
import logging
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from mitkit.errors import MitkitError

logger = logging.getLogger(__name__)

CONSONANT_INTERVALS = (3, 4, 5, 7, 8, 9, 12)  # semitones added for chord notes
CONSONANT_WEIGHTS = (1, 3, 3, 3, 1, 1, 2)  # 4, 5, 7, 12 favoured, as in the paper's generator
MIN_GAP_S = 0.02  # a repeated pitch is released at least this long before it sounds again
MIN_NOTE_S = 0.04  # shortest note rendered
#: How a score's notes end, drawn per piece (see :func:`score_to_parts`): detached notes always leave a
#: gap; written-length and slurred notes re-attack a repeated pitch with no gap, as real players often do.
ARTICULATION_WEIGHTS = {"detached": 0.4, "written": 0.4, "slurred": 0.2}
#: Per random part, the chance of: legato notes (held to the next onset), repeated pitches, a fast part.
FIGURE_PROBS = {"legato": 0.5, "repeats": 0.4, "fast": 0.25}
TIMING_JITTER_S = 0.02  # largest per-part onset offset in seconds (players are not perfectly together)


@dataclass
class Part:
    """One voice of a piece: a name and its notes ``(N, 4)`` ``[onset_s, offset_s, midi_pitch, velocity]``."""

    name: str
    notes: np.ndarray

    @property
    def span(self) -> tuple[int, int]:
        """(lowest, highest) MIDI pitch."""
        return int(self.notes[:, 2].min()), int(self.notes[:, 2].max())


def _truncnorm(rng, mean, sd, low, high, size=None):
    """Normal draws clipped by resampling into [low, high] (a few rounds, then clipping)."""
    x = rng.normal(mean, sd, size)
    for _ in range(8):
        bad = (x < low) | (x > high)
        if not np.any(bad):
            break
        x = np.where(bad, rng.normal(mean, sd, np.shape(x)), x)
    return np.clip(x, low, high)


def tidy_notes(notes, *, min_gap_s: float = MIN_GAP_S, min_note_s: float = MIN_NOTE_S) -> np.ndarray:
    """Sort notes and make them renderable: a note ends ``min_gap_s`` before the next onset of its pitch.

    FluidSynth has one voice per (channel, key): an overlapping repeat would be cut by the first note's
    note-off, so the label would lie. Notes shorter than ``min_note_s`` after trimming are dropped.
    Returns float64 ``(N, 4)`` sorted by (onset, pitch).
    """
    a = np.array(notes, dtype=np.float64).reshape(-1, 4)
    if not len(a):
        return a
    a = a[np.lexsort((a[:, 2], a[:, 0]))]
    for p in np.unique(a[:, 2]):
        idx = np.flatnonzero(a[:, 2] == p)
        for i, j in zip(idx[:-1], idx[1:]):
            a[i, 1] = min(a[i, 1], a[j, 0] - min_gap_s)
    keep = a[:, 1] - a[:, 0] >= min_note_s
    return a[keep]


# ---- random notes -----------------------------------------------------------------------------

def _pitch_pool(low: int, high: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Pitches low..high with octave weights peaking near a random centre of the range."""
    pitches = np.arange(low, high + 1)
    centre = rng.uniform(low + 0.3 * (high - low), high - 0.3 * (high - low))
    octave = np.abs(pitches - centre) / 12.0
    w = np.exp(-0.5 * (octave / rng.uniform(0.6, 1.2)) ** 2)
    return pitches, w / w.sum()


def random_part(ins, duration_s: float, rng: np.random.Generator, *, grid_s: float | None = None,
                density: float = 1.0, name: str | None = None) -> Part:
    """Random notes for one instrument, inside its playable range.

    Parameters
    ----------
    ins : mitkit.synth.instruments.Instrument
        Range and polyphony come from it.
    duration_s : float
        Notes start before this time (seconds).
    rng : numpy.random.Generator
    grid_s : float or None
        If given, onsets and offsets snap to multiples of this beat subdivision (seconds).
    density : float
        Scales the gaps: 2 makes the part twice as sparse.
    name : str or None
        Part name, default the instrument's name.

    Returns
    -------
    Part
    """
    if duration_s <= 0:
        raise MitkitError(f"duration_s={duration_s} must be > 0")
    pitches, w = _pitch_pool(ins.low, ins.high, rng)
    mean_len = rng.uniform(0.15, 0.7)
    mean_gap = rng.uniform(-0.05, 0.25) * density
    p_nearest = rng.uniform(0.5, 0.85)
    p_chord = rng.uniform(0.2, 0.6) if ins.polyphonic else 0.0
    vel = rng.uniform(50, 110)
    t = float(rng.uniform(0.0, 0.5))
    pitch = int(rng.choice(pitches, p=w))
    # how the notes are played: a share held to the next onset (no gap, so a repeated pitch is re-attacked
    # while it sounds), repeated pitches, and fast passages with trills (sixteenths at 100–160 bpm)
    p_legato = rng.uniform(0.3, 1.0) if rng.random() < FIGURE_PROBS["legato"] else 0.0
    p_repeat = rng.uniform(0.1, 0.4) if rng.random() < FIGURE_PROBS["repeats"] else 0.0
    fast = rng.random() < FIGURE_PROBS["fast"]
    if fast:
        mean_len = 60.0 / rng.uniform(100, 160) / 4
    trill, trill_left = pitch, 0
    out = []
    while t < duration_s:
        legato = rng.random() < p_legato
        length = float(_truncnorm(rng, mean_len, mean_len * (0.2 if fast else 1.0), 0.06, 3.0))
        if grid_s:
            t = round(t / grid_s) * grid_s
            length = max(1, round(length / grid_s)) * grid_s * (1.0 if legato else rng.uniform(0.8, 0.97))
        vel = float(np.clip(vel + rng.normal(0, 6) + (rng.normal(0, 25) if rng.random() < 0.05 else 0), 25, 120))
        chord = [pitch]
        if rng.random() < p_chord:
            for _ in range(int(rng.integers(1, 4))):
                iv = int(rng.choice(CONSONANT_INTERVALS, p=np.divide(CONSONANT_WEIGHTS, sum(CONSONANT_WEIGHTS))))
                q = chord[int(rng.integers(len(chord)))] + iv * (1 if rng.random() < 0.6 else -1)
                if ins.low <= q <= ins.high and q not in chord:
                    chord.append(q)
        for q in chord:
            v = float(np.clip(vel + rng.normal(0, 4), 1, 127))
            out.append((t, t + length, q, round(v)))
        # next pitch: a trill's other note, the same pitch again, a near step from the pool, or a jump
        if trill_left > 0:
            pitch, trill, trill_left = trill, pitch, trill_left - 1
        elif fast and rng.random() < 0.1 and ins.low <= pitch + 2 <= ins.high:
            trill, trill_left = pitch + int(rng.integers(1, 3)), int(rng.integers(3, 12))
        elif rng.random() < p_repeat:
            pass
        elif rng.random() < p_nearest:
            near = np.abs(pitches - pitch)
            wn = w * ((near >= 1) & (near <= 5)) / np.maximum(near, 1)
            pitch = int(rng.choice(pitches, p=wn / wn.sum())) if wn.sum() > 0 else int(rng.choice(pitches, p=w))
        else:
            pitch = int(rng.choice(pitches, p=w))
        gap = float(_truncnorm(rng, mean_gap, 0.2, -0.5 * length if ins.polyphonic else 0.0, 2.0))
        if not ins.polyphonic or legato:
            gap = 0.0 if legato else max(gap, 0.0)
        if rng.random() < 0.07:  # a rest
            gap += float(rng.uniform(0.3, 1.5))
        t += max(length + gap, 0.05)
    return Part(name or ins.name, tidy_notes(out, min_gap_s=0.0 if p_legato else MIN_GAP_S))


def random_ensemble(instruments, duration_s: float, rng: np.random.Generator) -> list[Part]:
    """One random part per instrument; with probability 1/2 all parts share a beat grid."""
    grid = None
    if rng.random() < 0.5:
        grid = 60.0 / rng.uniform(70, 150) / int(rng.choice([1, 2, 4]))
    return [random_part(ins, duration_s, rng, grid_s=grid, density=rng.uniform(0.7, 1.5)) for ins in instruments]


# ---- music21 scores ---------------------------------------------------------------------------

#: Corpus folders searched for multi-part works besides the chorales, with a quarter-note tempo range.
#: (Palestrina and the trecento repertoire are notated in half notes and whole notes, hence fast quarters.)
SCORE_SOURCES: dict[str, tuple[float, float]] = {
    "palestrina": (110, 170), "monteverdi": (70, 130), "josquin": (100, 160), "beethoven": (70, 150),
    "mozart": (70, 150), "haydn": (70, 150), "schumann_robert": (60, 120), "corelli": (60, 120),
    "handel": (60, 120), "trecento": (90, 150), "ciconia": (90, 150),
}
#: How often each folder is drawn for a "score" job (Palestrina alone holds 85 % of the files).
SCORE_FOLDER_WEIGHTS: dict[str, float] = {
    "palestrina": 0.3, "monteverdi": 0.15, "trecento": 0.1, "josquin": 0.05, "beethoven": 0.15,
    "mozart": 0.1, "haydn": 0.08, "schumann_robert": 0.04, "corelli": 0.01, "handel": 0.01, "ciconia": 0.01,
}
CHORALE_TEMPO = (60.0, 100.0)  # quarter-note bpm for chorales
_SCORE_EXTENSIONS = (".mxl", ".xml", ".musicxml", ".krn", ".mei", ".abc")
VOCAL_PARTS = ("Soprano", "Alto", "Tenor", "Bass")


@lru_cache(maxsize=1)
def chorale_names() -> tuple[str, ...]:
    """Corpus names of music21's Bach chorales (Riemenschneider numbering), e.g. ``"bach/bwv269"``."""
    from music21.corpus import chorales

    return tuple(str(n) for n in chorales.Iterator(returnType="filename"))


@lru_cache(maxsize=1)
def score_names() -> tuple[str, ...]:
    """Corpus paths (relative to the corpus root) of candidate multi-part works that are not chorales.

    Candidates are files in :data:`SCORE_SOURCES` folders with a score extension; whether a file really
    holds two or more parts is only known after parsing (:func:`score_to_parts` then returns ``[]``).
    """
    from music21 import corpus

    out = []
    for p in corpus.getCorePaths():
        rel = str(p).replace("\\", "/").split("/corpus/", 1)[-1]
        if rel.split("/", 1)[0] in SCORE_SOURCES and rel.lower().endswith(_SCORE_EXTENSIONS):
            out.append(rel)
    return tuple(sorted(out))


def piece_name(corpus_name: str) -> str:
    """A short id-safe name: ``"bach/bwv253"`` -> ``"bwv253"``, ``"mozart/k458/movement2.mxl"`` ->
    ``"mozart-k458-movement2"``."""
    stem = corpus_name.rsplit(".", 1)[0] if corpus_name.lower().endswith(_SCORE_EXTENSIONS) else corpus_name
    parts = stem.split("/")
    if parts[0] == "bach" and len(parts) == 2:
        parts = parts[1:]
    safe = "-".join(parts)
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in safe)


def load_score(corpus_name: str):
    """Parse a corpus work with music21 (cached pickles make chorales take ≈50 ms)."""
    from music21 import corpus

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return corpus.parse(corpus_name)


#: Written length played for notes marked staccato, staccatissimo or spiccato (music21 articulations); tenuto
#: holds the full length even in a detached performance.
SHORT_MARKS = {"Staccato": 0.5, "Staccatissimo": 0.35, "Spiccato": 0.4, "Tenuto": 1.0}
#: Velocity added to notes marked with an accent (and at a sforzando).
ACCENT_MARKS = {"Accent": 12.0, "StrongAccent": 20.0}
SFORZANDO = ("sf", "sfz", "fz", "sffz", "rfz", "rf", "fp", "sfp")
#: Velocity at which a part plays from a dynamic mark on (the random walk of velocities wanders around it).
DYNAMIC_VELOCITY = {"ppp": 30.0, "pp": 40.0, "p": 52.0, "mp": 64.0, "mf": 76.0, "f": 90.0, "ff": 104.0,
                    "fff": 116.0}
#: Columns of :func:`score_quarter_notes`' note arrays.
Q_ONSET, Q_LENGTH, Q_PITCH, Q_PLAYED, Q_ACCENT, Q_DYNAMIC, Q_SLURRED = range(7)


def _part_marks(part) -> tuple[list, list, list]:
    """A part's dynamic levels and sforzandi as (quarter offset, value), and its slurs as (first, last)
    quarter offsets of the notes they join."""
    flat = part.flatten()
    levels, sforzandi = [], []
    for d in flat.getElementsByClass("Dynamic"):
        value = str(d.value)
        if value in DYNAMIC_VELOCITY:
            levels.append((float(d.getOffsetBySite(flat)), DYNAMIC_VELOCITY[value]))
        elif value in SFORZANDO:
            sforzandi.append(float(d.getOffsetBySite(flat)))
    slurs = []
    for slur in part.spannerBundle.getByClass("Slur"):
        notes = slur.getSpannedElements()
        if len(notes) >= 2:
            try:
                slurs.append((float(notes[0].getOffsetInHierarchy(part)), float(notes[-1].getOffsetInHierarchy(part))))
            except Exception:  # an element outside this part's hierarchy (music21 raises SitesException)
                continue
    return sorted(levels), sforzandi, slurs


def score_quarter_notes(score, *, max_parts: int | None = None, vocal_only: bool = False):
    """Notes of each part in quarter-note units, with the marks that change how they are played.

    Returns
    -------
    list of (name, notes, fermata_ends)
        ``notes`` float64 ``(N, 7)``, columns :data:`Q_ONSET` … :data:`Q_SLURRED`: onset and written
        length in quarters, MIDI pitch (ties merged, chords expanded, grace notes dropped), the share of
        the written length played (:data:`SHORT_MARKS`; NaN without a mark), velocity added by an accent
        or a sforzando (:data:`ACCENT_MARKS`), the velocity of the dynamic mark in force
        (:data:`DYNAMIC_VELOCITY`; NaN before the first), and 1 for a note that a slur joins to the next.
        ``fermata_ends`` the quarter offsets at which a fermata note ends. Parts without notes are skipped.
    """
    from music21 import expressions, stream

    if isinstance(score, stream.Opus) or not hasattr(score, "parts"):
        return []
    out = []
    for k, part in enumerate(score.parts):
        name = part.partName or part.id or f"part{k}"
        if vocal_only and str(name) not in VOCAL_PARTS:
            continue
        levels, sforzandi, slurs = _part_marks(part)
        level_at, level_value = [o for o, _ in levels], [v for _, v in levels]
        rows, ferm = [], []
        for n in part.stripTies().flatten().notes:
            q = float(n.duration.quarterLength)
            if q <= 0 or n.duration.isGrace:
                continue
            off = float(n.offset)
            kinds = [type(a).__name__ for a in n.articulations]
            played = next((SHORT_MARKS[a] for a in kinds if a in SHORT_MARKS), np.nan)
            accents = [ACCENT_MARKS[a] for a in kinds if a in ACCENT_MARKS]
            if any(abs(off - o) < 1e-6 for o in sforzandi):
                accents.append(ACCENT_MARKS["StrongAccent"])
            accent = max(accents, default=0.0)
            i = int(np.searchsorted(level_at, off + 1e-6)) - 1
            dynamic = level_value[i] if i >= 0 else np.nan
            slurred = float(any(first - 1e-6 <= off < last - 1e-6 for first, last in slurs))
            for p in getattr(n, "pitches", ()):
                rows.append((off, q, float(p.midi), played, accent, dynamic, slurred))
            if any(isinstance(e, expressions.Fermata) for e in n.expressions):
                ferm.append(off + q)
        if rows:
            out.append((str(name), np.array(rows, np.float64), ferm))
    return out[:max_parts] if max_parts else out


def quarter_to_seconds(quarters, bpm: float, rng: np.random.Generator, *, drift: float = 0.03,
                       fermatas=(), fermata_hold=(1.3, 2.0)):
    """Build a monotone map from quarter offsets to seconds with a slowly drifting tempo and fermata holds.

    Each quarter-note beat k lasts ``60 / bpm * exp(w_k)`` seconds, with ``w`` a random walk of step
    ``drift`` pulled back to 0; a beat that ends on a fermata is lengthened by a factor from
    ``fermata_hold``. Returns a function ``f(q) -> seconds`` (vectorised, linear inside each beat).
    """
    q_end = float(np.max(quarters)) if np.size(quarters) else 0.0
    n_beats = int(np.ceil(q_end)) + 2
    w = np.zeros(n_beats)
    for k in range(1, n_beats):
        w[k] = 0.9 * w[k - 1] + rng.normal(0, drift)
    beat = 60.0 / bpm * np.exp(w)
    for f in fermatas:
        k = int(np.ceil(f - 1e-6)) - 1  # the beat that ends at (or holds) the fermata
        if 0 <= k < n_beats:
            beat[k] *= rng.uniform(*fermata_hold)
    knots = np.concatenate([[0.0], np.cumsum(beat)])

    def f(q):
        return np.interp(q, np.arange(n_beats + 1), knots)

    return f


def score_to_parts(score, rng: np.random.Generator, *, bpm_range=(60.0, 100.0), max_parts: int = 4,
                   vocal_only: bool = False, max_seconds: float | None = None,
                   transpose: int = 0, min_notes: int = 4, articulation: str | None = None,
                   timing_jitter_s: float = TIMING_JITTER_S) -> list[Part]:
    """Turn a parsed music21 score into timed, performed :class:`Part` note lists.

    Parameters
    ----------
    score : music21.stream.Score
    rng : numpy.random.Generator
        Draws tempo, drift, fermata holds, articulation, velocities and the excerpt start.
    bpm_range : (float, float)
        Quarter-note tempo range.
    max_parts : int
        Keep at most this many parts (the top ``max_parts`` in score order).
    vocal_only : bool
        Keep only parts named Soprano/Alto/Tenor/Bass (chorales).
    max_seconds : float or None
        Cut a random excerpt of this length (notes that start inside it), shifted to start near 0.
    transpose : int
        Semitones added to every pitch.
    min_notes : int
        Parts with fewer notes (in the excerpt) are dropped.
    articulation : {"detached", "written", "slurred"} or None
        How notes end. "detached": released early (legato 0.8–0.97 of the written length, minus up to
        40 ms), always a gap before the next note; "written": held for the written length, so a repeated
        pitch is re-attacked with no gap (as notation software plays a score); "slurred": held up to 8 %
        past the written length into the next note (a repeated pitch still re-attacks at its onset).
        None draws one per piece with :data:`ARTICULATION_WEIGHTS`.
    timing_jitter_s : float
        Largest per-part offset and per-note onset jitter in seconds (players are not perfectly together);
        a note that ends where the next begins keeps ending there. 0 puts every part on one tempo map.

    Returns
    -------
    list of Part (empty when fewer than two parts are left).
    """
    qparts = score_quarter_notes(score, max_parts=max_parts, vocal_only=vocal_only)
    if len(qparts) < 2:
        return []
    all_q = np.concatenate([q[:, 0] + q[:, 1] for _, q, _ in qparts])
    fermatas = sorted({round(f, 3) for _, _, fs in qparts for f in fs})
    to_s = quarter_to_seconds(all_q, float(rng.uniform(*bpm_range)), rng, fermatas=fermatas)
    articulation = articulation or weighted_choice(rng, ARTICULATION_WEIGHTS)
    if articulation not in ARTICULATION_WEIGHTS:
        raise MitkitError(f"articulation={articulation!r} must be one of {sorted(ARTICULATION_WEIGHTS)}")
    legato = {"detached": lambda: rng.uniform(0.8, 0.97), "written": lambda: 1.0,
              "slurred": lambda: rng.uniform(1.0, 1.08)}[articulation]()
    early_release = 0.04 if articulation == "detached" else 0.0
    min_gap_s = MIN_GAP_S if articulation == "detached" else 0.0
    t0, t1 = 0.0, np.inf
    if max_seconds is not None:
        total = float(to_s(all_q.max()))
        if total > max_seconds:
            t0 = float(rng.uniform(0, total - max_seconds))
            t1 = t0 + max_seconds
    lead_in = float(rng.uniform(0.05, 0.5))
    parts = []
    for name, q, _ in qparts:
        shift = part_timing_offsets(q, rng, max_offset_s=timing_jitter_s)
        on = to_s(q[:, Q_ONSET]) + shift
        end = to_s(q[:, Q_ONSET] + q[:, Q_LENGTH]) + _shift_of_next(q, shift)
        dur = end - on
        release = rng.uniform(0.0, early_release, len(on))
        # the score's marks: staccato plays part of the written length, tenuto all of it, a slur joins a
        # note to the next; unmarked notes follow the piece's articulation
        unmarked = np.isnan(q[:, Q_PLAYED])
        slurred = unmarked & (q[:, Q_SLURRED] > 0)
        share = np.where(unmarked, np.where(slurred, max(legato, 1.0), legato), q[:, Q_PLAYED])
        release = np.where(unmarked & ~slurred, release, 0.0)  # only the piece's own articulation releases early
        off = on + np.maximum(dur * share - release, MIN_NOTE_S)
        # velocity: a slow random walk per part (around the dynamic mark in force, where the score has one)
        # plus accents on beats and marked accents
        drift = np.cumsum(rng.normal(0, 2.5, len(on)))
        level = np.where(np.isnan(q[:, Q_DYNAMIC]), rng.uniform(60, 100), q[:, Q_DYNAMIC])
        marked = ~np.isnan(q[:, Q_DYNAMIC])  # a marked pp or fff may go further than the walk alone
        walk = np.clip(drift + level, np.where(marked, 25, 35), np.where(marked, 120, 115))
        accent = np.where(np.isclose(q[:, Q_ONSET] % 1.0, 0.0), rng.uniform(0, 8), 0.0) + q[:, Q_ACCENT]
        vel = np.clip(np.round(walk + accent + rng.normal(0, 3, len(on))), 1, 127)
        notes = np.stack([on, off, q[:, Q_PITCH] + transpose, vel], axis=1)
        keep = (notes[:, 0] >= t0) & (notes[:, 0] < t1)
        notes = notes[keep]
        if not len(notes):
            continue
        notes[:, 1] = np.minimum(notes[:, 1], t1)
        notes[:, :2] -= t0 - lead_in
        notes = tidy_notes(np.maximum(notes, 0.0), min_gap_s=min_gap_s)
        if len(notes) >= min_notes:
            parts.append(Part(name, notes))
    return parts if len(parts) >= 2 else []


def merge_voices(voices) -> np.ndarray:
    """Several voices as one instrument's notes: a pitch two voices sound at once is played once (the
    earlier onset, until the later offset)."""
    notes = np.concatenate(list(voices))
    notes = notes[np.lexsort((notes[:, 0], notes[:, 2]))]  # by pitch, then onset
    kept = []
    for n in notes:
        if kept and kept[-1][2] == n[2] and n[0] < kept[-1][1]:
            kept[-1][1] = max(kept[-1][1], n[1])
        else:
            kept.append(n.copy())
    merged = np.array(kept)
    return merged[np.argsort(merged[:, 0], kind="stable")]


def part_timing_offsets(q: np.ndarray, rng: np.random.Generator, *, max_offset_s: float) -> np.ndarray:
    """Seconds added to each note's onset of one part: a constant offset of the part (how early or late
    this player sits, up to ``max_offset_s``) plus a per-note jitter of up to half of it."""
    if max_offset_s <= 0:
        return np.zeros(len(q))
    part = rng.uniform(-max_offset_s, max_offset_s)
    return np.clip(part + rng.uniform(-0.5, 0.5, len(q)) * max_offset_s, -max_offset_s, max_offset_s)


def _shift_of_next(q: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """For each note of ``q`` (quarter offsets, durations), the timing shift of the note that starts
    where it ends (so legato lines stay joined), or its own shift when none does."""
    ends = q[:, 0] + q[:, 1]
    order = np.argsort(q[:, 0], kind="stable")
    starts = q[order, 0]
    j = np.clip(np.searchsorted(starts, ends - 1e-6), 0, len(starts) - 1)
    joined = np.abs(starts[j] - ends) < 1e-6
    return np.where(joined, shift[order][j], shift)


def weighted_choice(rng: np.random.Generator, table: dict):
    """A key of ``table`` drawn with probability proportional to its value (one ``rng.choice`` draw)."""
    keys = list(table)
    p = np.array([table[k] for k in keys], float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def melody_key(parts, n_notes: int = 12) -> str:
    """A hash of the top part's first melodic intervals (transposition-invariant).

    ``parts`` is a list of :class:`Part` or of arrays whose column 2 is the MIDI pitch and column 0 the
    onset. Chorales that harmonise the same tune share this key, so a split by it keeps every setting of
    a tune on one side of the train/test boundary.
    """
    arrays = [np.asarray(p.notes if isinstance(p, Part) else p) for p in parts]
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        return "empty"
    top = max(arrays, key=lambda a: float(np.mean(a[:, 2])))
    pitches = top[np.argsort(top[:, 0], kind="stable"), 2].astype(int)
    pitches = pitches[np.r_[True, np.diff(pitches) != 0]][: n_notes + 1]  # drop repeated notes
    return hashlib.sha1(np.diff(pitches).astype(np.int64).tobytes()).hexdigest()[:12]
