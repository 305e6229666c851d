"""General MIDI instruments grouped into timbre classes, with playable ranges.

This is the one place that lists which GM programs mitkit renders, which timbre class each belongs to
and which sounding MIDI pitches it may play. A synthetic mixture never holds two instruments of the same
class, so "instrument k" in a label always means a distinct timbre.

The authors of arXiv 2509.12712 grouped 34 GM programs into 10 classes. We use finer classes (one per
instrument family whose members sound alike: violin and viola are different classes, the four saxophones
are one), so that realistic ensembles such as a string quartet without second violin, or a BACH10
violin/clarinet/saxophone/bassoon quartet, are valid mixtures.

Ranges are *sounding* MIDI pitches (GM plays the key it receives), practical rather than extreme, and
always inside the model's output range ``MIDI_MIN``..``MIDI_MAX``.

Glossary
--------
program : GM program number, 0-based (0 = Acoustic Grand Piano, 40 = Violin).
class : timbre class name, e.g. ``"violin"``, ``"saxophone"``.
polyphonic : the instrument plays chords in the random generator (keyboards, guitars, harp, ...).
expressive : continuous-pitch instrument (strings, winds, brass, voice): gets vibrato and pitch scoops.

Notebook: 02_training
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mitkit.errors import MitkitError


@dataclass(frozen=True)
class Instrument:
    """One General MIDI program as mitkit uses it."""

    program: int  # GM program, 0-based
    name: str  # short snake_case name, e.g. "tenor_sax"
    cls: str  # timbre class; mixtures hold at most one instrument per class
    low: int  # lowest sounding MIDI pitch we let it play
    high: int  # highest sounding MIDI pitch we let it play
    polyphonic: bool = False  # chords in the random generator
    expressive: bool = False  # vibrato (CC 1) and small pitch scoops (pitch bend)

    def fits(self, low: int, high: int) -> bool:
        """True when the pitch span ``low``..``high`` (MIDI) lies inside this instrument's range."""
        return self.low <= low and high <= self.high


_P, _E = dict(polyphonic=True), dict(expressive=True)

#: Every instrument mitkit renders, grouped by class (36 programs in 26 classes; see CLASSES).
INSTRUMENTS: tuple[Instrument, ...] = (
    # keyboards
    Instrument(0, "acoustic_grand_piano", "piano", 24, 107, **_P),
    Instrument(1, "bright_acoustic_piano", "piano", 24, 107, **_P),
    Instrument(2, "electric_grand_piano", "piano", 28, 103, **_P),
    Instrument(4, "electric_piano_1", "electric_piano", 28, 103, **_P),
    Instrument(5, "electric_piano_2", "electric_piano", 28, 103, **_P),
    Instrument(6, "harpsichord", "harpsichord", 29, 89, **_P),
    # mallets
    Instrument(8, "celesta", "mallets", 60, 107, **_P),
    Instrument(11, "vibraphone", "mallets", 53, 89, **_P),
    Instrument(12, "marimba", "mallets", 45, 96, **_P),
    # organs
    Instrument(16, "drawbar_organ", "organ", 36, 96, **_P),
    Instrument(19, "church_organ", "organ", 24, 96, **_P),
    Instrument(21, "accordion", "accordion", 41, 89, **_P),
    # guitars and basses
    Instrument(24, "nylon_guitar", "acoustic_guitar", 40, 83, **_P),
    Instrument(25, "steel_guitar", "acoustic_guitar", 40, 83, **_P),
    Instrument(26, "jazz_guitar", "electric_guitar", 40, 86, **_P),
    Instrument(27, "clean_guitar", "electric_guitar", 40, 86, **_P),
    Instrument(32, "acoustic_bass", "bass", 28, 55),
    Instrument(33, "finger_bass", "bass", 28, 60),
    # bowed and plucked strings
    Instrument(40, "violin", "violin", 55, 100, **_E),
    Instrument(41, "viola", "viola", 48, 88, **_E),
    Instrument(42, "cello", "cello", 36, 76, **_E),
    Instrument(43, "contrabass", "contrabass", 28, 60, **_E),
    Instrument(45, "pizzicato_strings", "pizzicato", 36, 91, **_P),
    Instrument(46, "harp", "harp", 24, 103, **_P),
    Instrument(48, "string_ensemble", "string_ensemble", 36, 96, **_P, **_E),
    # voices
    Instrument(52, "choir_aahs", "choir", 43, 81, **_E),
    # brass
    Instrument(56, "trumpet", "trumpet", 54, 84, **_E),
    Instrument(57, "trombone", "trombone", 40, 72, **_E),
    Instrument(58, "tuba", "tuba", 28, 58, **_E),
    Instrument(60, "french_horn", "french_horn", 34, 77, **_E),
    # reeds and pipes
    Instrument(65, "alto_sax", "saxophone", 49, 81, **_E),
    Instrument(66, "tenor_sax", "saxophone", 44, 76, **_E),
    Instrument(68, "oboe", "oboe", 58, 91, **_E),
    Instrument(70, "bassoon", "bassoon", 34, 75, **_E),
    Instrument(71, "clarinet", "clarinet", 50, 94, **_E),
    Instrument(73, "flute", "flute", 60, 96, **_E),
)

BY_PROGRAM: dict[int, Instrument] = {ins.program: ins for ins in INSTRUMENTS}
BY_NAME: dict[str, Instrument] = {ins.name: ins for ins in INSTRUMENTS}
CLASSES: tuple[str, ...] = tuple(dict.fromkeys(ins.cls for ins in INSTRUMENTS))  # in listing order
#: Instruments that play chords (keyboards, guitars, harp, mallets, organs, …), and their classes.
POLYPHONIC: tuple[Instrument, ...] = tuple(i for i in INSTRUMENTS if i.polyphonic)
POLYPHONIC_CLASSES: tuple[str, ...] = tuple(sorted({i.cls for i in POLYPHONIC}))

#: Named ensembles, highest part first (soprano, alto, tenor, bass). An ensemble may name an instrument twice,
#: as a string quartet names the violin: two players are two instruments (two tracks, two stems, two labels
#: to separate), even of one class; the renderer gives the second its own sound (another sound source), as
#: two players' instruments differ.
ENSEMBLES: dict[str, tuple[str, ...]] = {
    "bach10": ("violin", "clarinet", "tenor_sax", "bassoon"),  # BACH10's instrumentation
    "strings": ("violin", "viola", "cello", "contrabass"),
    "string_quartet": ("violin", "violin", "viola", "cello"),
    "winds": ("flute", "oboe", "clarinet", "bassoon"),
    "brass": ("trumpet", "french_horn", "trombone", "tuba"),
    "keys_and_voices": ("flute", "choir_aahs", "electric_piano_1", "acoustic_bass"),
}



def instrument(key: int | str) -> Instrument:
    """Look up an instrument by GM program (int) or name (str).

    Raises
    ------
    MitkitError
        If the program or name is not in :data:`INSTRUMENTS`.
    """
    table = BY_PROGRAM if isinstance(key, int) else BY_NAME
    if key not in table:
        raise MitkitError(f"instrument={key!r} must be one of the programs/names in mitkit.synth.instruments.INSTRUMENTS")
    return table[key]


def candidates(low: int, high: int, *, exclude_classes=()) -> list[Instrument]:
    """Instruments whose range holds the pitch span ``low``..``high`` and whose class is not excluded."""
    excluded = set(exclude_classes)
    return [i for i in INSTRUMENTS if i.fits(low, high) and i.cls not in excluded]


def assign_instruments(spans, rng, *, ensemble: str | None = None, exclude_classes=()) -> list[Instrument]:
    """Choose one instrument per part, all of different classes, each able to play its part.

    Parameters
    ----------
    spans : sequence of (low, high)
        Sounding MIDI range of each part, in the order the parts will be returned.
    rng : numpy.random.Generator
    ensemble : str or None
        A key of :data:`ENSEMBLES`. Parts are matched to its instruments from the highest mean pitch
        down; a part the named instrument cannot play falls back to a random instrument.
    exclude_classes : iterable of str
        Classes never chosen (e.g. BACH10's classes when building the "other" benchmark).

    Returns
    -------
    list of Instrument, one per span.

    Raises
    ------
    MitkitError
        If ``ensemble`` is unknown, or no distinct-class assignment can play every part.

    Classes are distinct except where the ensemble names an instrument twice (a string quartet's violins).
    """
    if ensemble is not None and ensemble not in ENSEMBLES:
        raise MitkitError(f"ensemble={ensemble!r} must be one of {sorted(ENSEMBLES)}")
    spans = [(int(lo), int(hi)) for lo, hi in spans]
    chosen: list[Instrument | None] = [None] * len(spans)
    used = set(exclude_classes)
    if ensemble is not None:
        names = ENSEMBLES[ensemble]
        doubled = {BY_NAME[n].cls for n in names if names.count(n) > 1} - used  # two players of one class
        order = sorted(range(len(spans)), key=lambda k: -(spans[k][0] + spans[k][1]))  # high parts first
        for rank, k in enumerate(order[: len(names)]):
            ins = BY_NAME[names[rank]]
            if ins.fits(*spans[k]) and (ins.cls not in used or ins.cls in doubled):
                chosen[k] = ins
                used.add(ins.cls)
    # Fill the rest, most constrained part first, with random instruments of unused classes.
    todo = sorted((k for k in range(len(spans)) if chosen[k] is None), key=lambda k: spans[k][0] - spans[k][1])
    for k in todo:
        pool = candidates(*spans[k], exclude_classes=used)
        if not pool:
            raise MitkitError(f"spans={spans} cannot be played by instruments of distinct classes "
                              f"(part {k} spans MIDI {spans[k][0]}..{spans[k][1]})")
        ins = pool[int(rng.integers(len(pool)))]
        chosen[k] = ins
        used.add(ins.cls)
    return chosen  # type: ignore[return-value]


def polyphonic_instrument_for(notes, rng) -> tuple[Instrument | None, int]:
    """A random chord-playing instrument (:data:`POLYPHONIC`) that can play ``notes`` ``(N, >=3)``, and the
    transposition (0 or +12 semitones) it needs; ``(None, 0)`` when none can."""
    lo, hi = int(np.min(notes[:, 2])), int(np.max(notes[:, 2]))
    for shift in (0, 12):
        pool = [i for i in POLYPHONIC if i.fits(lo + shift, hi + shift)]
        if pool:
            return pool[int(rng.integers(len(pool)))], shift
    return None, 0
