"""Render note lists to audio with FluidSynth, one stem per instrument.

Every instrument of a piece is rendered *alone* (its own synthesizer, same room), so that the stems are
sample-aligned and their sum is the mixture: labels stay exact whatever mix gains are drawn later.
FluidSynth is driven directly through ``pyfluidsynth`` and its float output
(``fluid_synth_write_float``): no dither, no int16 rounding, so rendering is deterministic and linear.

What a real recording varies and where it is varied here:

- soundfont (:data:`SOUNDFONTS`, grouped into :data:`SOUNDFONT_FAMILIES`), program (see :mod:`mitkit.synth.instruments`);
- the room: reverb size/damping/width/level and chorus (:class:`Room`, shared by a piece's stems);
- per stem (:class:`StemStyle`): the soundfont, reverb and chorus sends (CC 91/93), a tuning offset of a
  few cents, vibrato through the modulation wheel (CC 1) on held notes, small pitch scoops into note
  onsets (pitch bend), all drawn by :func:`random_room` / :func:`random_style`; for training data also
  (:func:`add_expression`) pitch-bend vibrato at players' rates, per-note intonation and zone shifts;
- audio level (:mod:`mitkit.synth.augment`): EQ curves, compression, a lossy codec, noise, mix gains;
  applied on the fly by :class:`mitkit.training.mixtures.MixtureDataset`.

Velocities are taken from the note list as given (the caller varies them), so the label's velocity is
the one that was played.

Soundfont policy: only the allow-list :data:`SOUNDFONTS`; other soundfonts are reserved for blind
evaluation.

Notebook: 01_cqt_and_energynorm (rendering single notes), 02_training (the synthetic data set)
"""
from __future__ import annotations

import ctypes
import os
from dataclasses import asdict, dataclass, replace

import numpy as np

from mitkit.constants import SAMPLE_RATE
from mitkit.errors import MitkitError
from mitkit.notes import as_note_array

#: Sound sources, the allow-list (nothing else is ever loaded, and folders are never scanned); the value is
#: the file name searched for (see :func:`soundfont_path`). FluidR3_GM (Debian fluid-soundfont-gm, MIT),
#: TimGM6mb (shipped in pretty_midi, GPL-2), csound_GM (Debian csound-soundfont, public domain; about two
#: thirds of its samples are TimGM6mb's, the rest new: pianos, harp, choir, brass, saxes, winds, strings),
#: OPL3_FM (Debian opl3-soundfont, CC-BY-SA-4.0: FM-synthesised timbres, no recorded samples).
SOUNDFONTS: dict[str, str] = {"FluidR3_GM": "FluidR3_GM.sf2", "TimGM6mb": "TimGM6mb.sf2",
                                    "csound_GM": "sf_GMbank.sf2", "OPL3_FM": "OPL-3_FM_128M.sf2"}

#: Sample lineage of each sound source: fonts that share recordings are one family. Generalisation is
#: measured on a family held out of training (see ``mitkit chorale-bench --soundfont``); OPL3_FM is held
#: out of the training data today (:data:`mitkit.synth.datasets.SOUNDFONT_WEIGHTS`) for that purpose.
SOUNDFONT_FAMILIES: dict[str, str] = {"FluidR3_GM": "fluidr3", "TimGM6mb": "timgm", "csound_GM": "timgm",
                                      "OPL3_FM": "opl3"}

_SOUNDFONT_DIRS = ("/usr/share/sounds/sf2", "/usr/share/soundfonts", "/usr/local/share/soundfonts")

PITCH_BEND_RANGE_CENTS = 200.0  # GM default pitch-bend sensitivity: ±2 semitones over ±8192
_BEND_STEPS = 6  # pitch-bend messages per scoop
_CHANNELS = tuple(c for c in range(16) if c != 9)  # channel 10 (index 9) is GM percussion


def soundfont_path(name: str) -> str:
    """Path of a training soundfont.

    Looks in ``$MITKIT_SOUNDFONT_DIR``, the usual Debian folders, and (for TimGM6mb) inside the
    ``pretty_midi`` package, which ships it.

    Raises
    ------
    MitkitError
        If ``name`` is not a training soundfont or its file cannot be found.
    """
    if name not in SOUNDFONTS:
        raise MitkitError(f"soundfont={name!r} must be one of {sorted(SOUNDFONTS)}")
    fname = SOUNDFONTS[name]
    dirs = [os.environ.get("MITKIT_SOUNDFONT_DIR", ""), *_SOUNDFONT_DIRS]
    try:
        import pretty_midi

        dirs.append(os.path.dirname(pretty_midi.__file__))
    except ImportError:  # pragma: no cover - pretty_midi is a dependency
        pass
    for d in dirs:
        if d and os.path.isfile(os.path.join(d, fname)):
            return os.path.join(d, fname)
    raise MitkitError(f"soundfont={name!r} must be installed: {fname} not found in {[d for d in dirs if d]}")


@dataclass
class Room:
    """FluidSynth's global effects, shared by all stems of one piece (so the stems sum to the mix)."""

    reverb_roomsize: float = 0.2  # 0..1
    reverb_damping: float = 0.0  # 0..1, high-frequency damping
    reverb_width: float = 0.5  # 0..100, stereo width (we average to mono)
    reverb_level: float = 0.9  # 0..1, wet level
    chorus_nr: int = 3  # voices, 0..99
    chorus_level: float = 2.0  # 0..10
    chorus_speed: float = 0.3  # Hz, 0.29..5
    chorus_depth: float = 8.0  # ms
    chorus_type: int = 0  # 0 sine, 1 triangle


@dataclass
class StemStyle:
    """How one instrument is played; everything but the notes and the room."""

    program: int  # GM program, 0-based
    bank: int = 0  # soundfont bank
    reverb_send: int = 40  # CC 91, 0..127
    chorus_send: int = 0  # CC 93, 0..127
    volume: int = 100  # CC 7, 0..127
    tuning_cents: float = 0.0  # constant detune of the whole stem, via pitch bend
    vibrato: int = 0  # CC 1 value reached on held notes (0 = none; 127 ≈ soundfont's full depth)
    vibrato_delay_s: float = 0.25  # seconds after an onset before vibrato fades in
    scoop_cents: float = 0.0  # largest pitch-bend scoop into an onset (notes start flat by up to this)
    scoop_s: float = 0.06  # length of a scoop in seconds
    seed: int = 0  # per-note randomness (scoop sizes, intonation, vibrato phase)
    vibrato_hz: float = 0.0  # pitch-bend vibrato rate on held notes (0 = none; players: 4.5–7 Hz)
    vibrato_cents: float = 0.0  # pitch-bend vibrato depth, cents either side of the pitch
    intonation_cents: float = 0.0  # per-note intonation: each note is off by up to this many cents
    zone_shift: int = 0  # play key p + zone_shift tuned down by zone_shift semitones: another sample zone
    swell_depth: float = 0.0  # held notes swell (CC 11): they start and end up to this share of full level below it


def random_room(rng: np.random.Generator) -> Room:
    """Draw a :class:`Room`: dry to hall-like reverb, chorus off in about half of the rooms."""
    chorus = rng.random() < 0.5
    return Room(
        reverb_roomsize=float(rng.uniform(0.0, 0.9)),
        reverb_damping=float(rng.uniform(0.0, 1.0)),
        reverb_width=float(rng.uniform(0.0, 100.0)),
        reverb_level=float(rng.uniform(0.2, 1.0)),
        chorus_nr=int(rng.integers(2, 6)) if chorus else 0,
        chorus_level=float(rng.uniform(0.5, 3.0)) if chorus else 0.0,
        chorus_speed=float(rng.uniform(0.3, 1.0)),
        chorus_depth=float(rng.uniform(2.0, 10.0)),
        chorus_type=int(rng.integers(2)),
    )


def random_style(ins, rng: np.random.Generator) -> StemStyle:
    """Draw a :class:`StemStyle` for ``ins`` (a :class:`mitkit.synth.instruments.Instrument`)."""
    expressive = bool(ins.expressive)
    mono = expressive and not ins.polyphonic
    return StemStyle(
        program=int(ins.program),
        reverb_send=int(rng.integers(0, 110)),
        chorus_send=int(rng.integers(0, 60)) if rng.random() < 0.4 else 0,
        volume=int(rng.integers(90, 128)),
        tuning_cents=float(np.clip(rng.normal(0.0, 6.0), -15.0, 15.0)),
        vibrato=int(rng.integers(10, 70)) if expressive and rng.random() < 0.8 else 0,
        vibrato_delay_s=float(rng.uniform(0.1, 0.4)),
        scoop_cents=float(rng.uniform(0.0, 40.0)) if mono and rng.random() < 0.6 else 0.0,
        scoop_s=float(rng.uniform(0.03, 0.1)),
        seed=int(rng.integers(2**31)),
    )


def add_expression(style: StemStyle, ins, rng: np.random.Generator) -> StemStyle:
    """Draw how a player shapes the notes of ``style`` (a :class:`StemStyle` from :func:`random_style`):
    for one-note-at-a-time expressive instruments, pitch-bend vibrato at 4.5–7 Hz and 5–20 cents (in
    place of the modulation wheel, whose soundfont rate, 8.2 Hz on FluidR3, is faster than players) and
    per-note intonation of up to ±8 cents, and for half of them swells on held notes (:func:`_swell`); for
    every instrument, with probability 0.4, a zone shift of
    ±2…7 semitones (another sample of the same instrument sounds at the right pitch: more timbres per
    soundfont). Returns a new style; the training renderer uses it, the fixed benchmarks do not."""
    style = replace(style)  # a copy
    if ins.expressive and not ins.polyphonic:
        style.vibrato = 0
        if rng.random() < 0.8:
            style.vibrato_hz = float(rng.uniform(4.5, 7.0))
            style.vibrato_cents = float(rng.uniform(5.0, 20.0))
        style.intonation_cents = float(rng.uniform(0.0, 8.0))
    if rng.random() < 0.4:
        style.zone_shift = int(rng.choice([-1, 1]) * rng.integers(2, 8))
    if ins.expressive and not ins.polyphonic and rng.random() < 0.5:  # drawn last: the draws above stay as they were
        style.swell_depth = float(rng.uniform(0.2, 0.6))
    return style


# ---- event lists ---------------------------------------------------------------------------------

# Event kinds, in the order they are applied when they fall on the same sample.
_OFF, _CC, _BEND, _ON = 0, 1, 2, 3


def _bend_value(cents: float) -> int:
    return int(round(np.clip(cents / PITCH_BEND_RANGE_CENTS * 8192, -8192, 8191)))


def playable_notes(notes, name: str = "notes") -> np.ndarray:
    """A note list in seconds checked by :func:`mitkit.notes.as_note_array`, plus what MIDI playback
    needs: integer pitches and velocities 1..127. Returns it as a float64 ``(N, 4)`` array."""
    a = as_note_array(notes, name)
    if len(a) and np.any(a[:, 2] != np.round(a[:, 2])):
        raise MitkitError(f"{name} must have integer MIDI pitches to be played")
    if len(a) and a[:, 3].min() < 1:
        raise MitkitError(f"{name} must have velocities in 1..127 to be played (0 is a note-off)")
    return a


def stem_events(notes, style: StemStyle, channel: int = 0, *, sr: int = SAMPLE_RATE) -> list[tuple]:
    """MIDI-like events for one stem: ``(sample, kind, channel, a, b)`` tuples, unsorted.

    Notes are ``(N, 4)`` ``[onset_s, offset_s, midi_pitch, velocity]``; velocities are sent as given.
    Pitch bend carries ``tuning_cents`` plus, on monophonic expressive parts, a scoop from up to
    ``scoop_cents`` below the pitch that glides back to it over ``scoop_s``.
    """
    notes = playable_notes(notes)
    rng = np.random.default_rng(style.seed)
    ev: list[tuple] = [(0, _BEND, channel, _bend_value(style.tuning_cents), 0)]
    order = np.argsort(notes[:, 0], kind="stable")
    keys = notes[:, 2].astype(int) + style.zone_shift
    if len(keys) and (keys.min() < 0 or keys.max() > 127):
        raise MitkitError(f"zone_shift={style.zone_shift} must keep every key in 0..127")
    swell_rng = np.random.default_rng([style.seed, 11])  # a stream of its own: the draws below stay as they were
    for i in order:
        on, off, pitch, vel = notes[i]
        s_on, s_off = int(round(on * sr)), int(round(off * sr))
        ev.append((s_on, _ON, channel, int(keys[i]), int(round(vel))))
        ev.append((s_off, _OFF, channel, int(keys[i]), 0))
        if style.swell_depth > 0:
            ev += _swell(on, off, style.swell_depth, swell_rng, channel, sr)
        if style.vibrato_hz > 0 or style.intonation_cents > 0:  # the player's own pitch curve
            ev += _bend_curve(on, off, style, rng, channel, sr)
            continue
        if style.vibrato:
            ev.append((s_on, _CC, channel, 1, 0))
            t_v = on + style.vibrato_delay_s
            if t_v + 0.1 < off:
                ev.append((int(round(t_v * sr)), _CC, channel, 1, style.vibrato // 2))
                ev.append((int(round(min(t_v + 0.15, off) * sr)), _CC, channel, 1, style.vibrato))
        if style.scoop_cents > 0:
            depth = style.scoop_cents * rng.random()
            dur = min(style.scoop_s, 0.5 * (off - on))
            for k in range(_BEND_STEPS + 1):  # k = 0 sits on the onset, k = _BEND_STEPS back in tune
                frac = k / _BEND_STEPS
                cents = style.tuning_cents - depth * (1 - frac) ** 2
                ev.append((int(round((on + frac * dur) * sr)), _BEND, channel, _bend_value(cents), 0))
    return ev


_BEND_RATE_HZ = 100  # pitch-bend messages per second on a note with a pitch curve
SWELL_MIN_S = 0.6  # notes at least this long swell; shorter ones play at full expression
_SWELL_RATE_HZ = 25  # CC 11 messages per second during a swell


def _swell(on: float, off: float, depth: float, rng, channel: int, sr: int) -> list[tuple]:
    """CC 11 (expression) events of one note: a held note (at least :data:`SWELL_MIN_S`) starts at
    ``1 - depth`` of full expression, rises linearly to full at a random 30–70 % of its length and falls
    back to between ``1 - depth`` and ``1 - 0.3·depth`` at its end (a player's messa di voce); a shorter note
    plays at full expression. The onset stays where the label puts it: only the level moves."""
    s_on = int(round(on * sr))
    if off - on < SWELL_MIN_S:
        return [(s_on, _CC, channel, 11, 127)]
    length = off - on
    peak = rng.uniform(0.3, 0.7) * length
    start, end = 1.0 - depth, 1.0 - depth * rng.uniform(0.3, 1.0)
    t = np.arange(0.0, length, 1.0 / _SWELL_RATE_HZ)
    level = np.where(t < peak, start + (1.0 - start) * t / peak, 1.0 - (1.0 - end) * (t - peak) / (length - peak))
    return [(int(round((on + tk) * sr)), _CC, channel, 11, int(round(127 * v))) for tk, v in zip(t, level)]


def _bend_curve(on: float, off: float, style: StemStyle, rng, channel: int, sr: int) -> list[tuple]:
    """Pitch-bend events of one note of a one-note-at-a-time part: intonation, scoop and vibrato.

    cents(t) = tuning + intonation + scoop(t) + vibrato(t), t seconds after the onset; the scoop starts
    up to ``scoop_cents`` flat and glides back over ``scoop_s``; vibrato fades in over 0.3 s after a
    jittered delay, at a rate jittered by ±5 % per note and a random phase."""
    intonation = style.intonation_cents * rng.uniform(-1.0, 1.0)
    scoop = style.scoop_cents * rng.random() if style.scoop_cents > 0 else 0.0
    scoop_s = max(min(style.scoop_s, 0.5 * (off - on)), 1e-3)
    rate = style.vibrato_hz * rng.uniform(0.95, 1.05)
    delay = style.vibrato_delay_s * rng.uniform(0.7, 1.3)
    phase = rng.uniform(0.0, 2 * np.pi)
    t = np.arange(0.0, off - on, 1.0 / _BEND_RATE_HZ)
    cents = style.tuning_cents + intonation - scoop * np.clip(1 - t / scoop_s, 0.0, 1.0) ** 2
    if rate > 0:
        fade = np.clip((t - delay) / 0.3, 0.0, 1.0)
        cents = cents + style.vibrato_cents * fade * np.sin(2 * np.pi * rate * (t - delay) + phase)
    return [(int(round((on + tk) * sr)), _BEND, channel, _bend_value(c), 0) for tk, c in zip(t, cents)]


# ---- FluidSynth ------------------------------------------------------------------------------------

_write_float = _set_gen = None
GEN_COARSETUNE = 51  # SoundFont 2 generator: pitch offset in semitones


def _fluidsynth():
    """Import pyfluidsynth lazily (it loads a shared library) and bind ``fluid_synth_write_float`` and
    ``fluid_synth_set_gen``, which pyfluidsynth does not wrap."""
    global _write_float, _set_gen
    try:
        import fluidsynth
    except (ImportError, OSError) as exc:  # pragma: no cover - environment problem
        raise MitkitError(f"pyfluidsynth must be installed with libfluidsynth: {exc}") from exc
    if _write_float is None:
        c = ctypes
        _write_float = fluidsynth.cfunc(
            "fluid_synth_write_float", c.c_int, ("synth", c.c_void_p, 1), ("len", c.c_int, 1),
            ("lout", c.c_void_p, 1), ("loff", c.c_int, 1), ("lincr", c.c_int, 1),
            ("rout", c.c_void_p, 1), ("roff", c.c_int, 1), ("rincr", c.c_int, 1))
        _set_gen = fluidsynth.cfunc("fluid_synth_set_gen", c.c_int, ("synth", c.c_void_p, 1),
                                    ("chan", c.c_int, 1), ("param", c.c_int, 1), ("value", c.c_float, 1))
    return fluidsynth


def _new_synth(soundfont: str, room: Room, sr: int):
    fluidsynth = _fluidsynth()
    synth = fluidsynth.Synth(gain=0.2, samplerate=float(sr))
    synth.setting("synth.reverb.active", 1)
    synth.setting("synth.chorus.active", 1 if room.chorus_nr > 0 and room.chorus_level > 0 else 0)
    sfid = synth.sfload(soundfont_path(soundfont))
    if sfid < 0:
        raise MitkitError(f"soundfont={soundfont!r} could not be loaded by FluidSynth")
    synth.set_reverb(room.reverb_roomsize, room.reverb_damping, room.reverb_width, room.reverb_level)
    if room.chorus_nr > 0:
        synth.set_chorus(room.chorus_nr, room.chorus_level, room.chorus_speed, room.chorus_depth,
                         room.chorus_type)
    return synth, sfid


def _setup_channel(synth, sfid: int, channel: int, style: StemStyle) -> None:
    synth.program_select(channel, sfid, style.bank, style.program)
    synth.cc(channel, 7, int(style.volume))
    synth.cc(channel, 91, int(style.reverb_send))
    synth.cc(channel, 93, int(style.chorus_send))
    synth.cc(channel, 1, 0)
    if style.zone_shift:  # keys are played zone_shift higher (stem_events): tune them back down
        _set_gen(synth.synth, channel, GEN_COARSETUNE, float(-style.zone_shift))


def _run(synth, events: list[tuple], n_samples: int) -> np.ndarray:
    """Apply sorted events while rendering ``n_samples`` stereo float samples; returns mono (n_samples,)."""
    left = np.zeros(n_samples, np.float32)
    right = np.zeros(n_samples, np.float32)
    pos = 0
    for sample, kind, ch, a, b in sorted(events, key=lambda e: (e[0], e[1])):
        sample = min(max(sample, 0), n_samples)
        if sample > pos:
            _write_float(synth.synth, sample - pos, left.ctypes.data, pos, 1, right.ctypes.data, pos, 1)
            pos = sample
        if kind == _ON:
            synth.noteon(ch, a, b)
        elif kind == _OFF:
            synth.noteoff(ch, a)
        elif kind == _CC:
            synth.cc(ch, a, b)
        else:
            synth.pitch_bend(ch, a)
    if n_samples > pos:
        _write_float(synth.synth, n_samples - pos, left.ctypes.data, pos, 1, right.ctypes.data, pos, 1)
    return 0.5 * (left + right)


def piece_length(parts, *, tail_s: float = 1.5, sr: int = SAMPLE_RATE) -> int:
    """Samples needed for every note of ``parts`` (list of ``(notes, style)``) plus a release tail."""
    if tail_s < 0:
        raise MitkitError(f"tail_s={tail_s} must be >= 0")
    end = max((float(playable_notes(n)[:, 1].max()) for n, _ in parts if len(n)), default=0.0)
    return int(np.ceil((end + tail_s) * sr))


def render_stems(parts, *, soundfont: str = "FluidR3_GM", room: Room | None = None, tail_s: float = 1.5,
                 n_samples: int | None = None, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Render each part alone, in the same room, to sample-aligned mono stems.

    Parameters
    ----------
    parts : list of (notes, StemStyle)
        ``notes`` is ``(N, 4)`` ``[onset_s, offset_s, midi_pitch, velocity]``.
    soundfont : str or list of str
        A key of :data:`SOUNDFONTS`, or one per part.
    room : Room or None
        Global reverb/chorus; default ``Room()``.
    tail_s : float
        Seconds rendered after the last note-off, so releases and reverb ring out.
    n_samples : int or None
        Length of every stem; default :func:`piece_length`.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    stems : np.ndarray, float32, shape (K, n_samples)
        ``stems.sum(0)`` equals :func:`render_mix` of the same parts up to float rounding.

    Examples
    --------
    >>> import numpy as np
    >>> from mitkit.synth.render import StemStyle, render_stems
    >>> notes = np.array([[0.1, 0.6, 69, 90]])
    >>> render_stems([(notes, StemStyle(program=40))]).shape
    (1, 46305)

    Notebook: 01_cqt_and_energynorm
    """
    room = room or Room()
    if not parts:
        raise MitkitError("parts must hold at least one (notes, style) pair")
    soundfonts = [soundfont] * len(parts) if isinstance(soundfont, str) else list(soundfont)
    if len(soundfonts) != len(parts):
        raise MitkitError(f"soundfont must be one name or one per part: got {len(soundfonts)} for "
                          f"{len(parts)} parts")
    n = piece_length(parts, tail_s=tail_s, sr=sr) if n_samples is None else int(n_samples)
    out = np.zeros((len(parts), n), np.float32)
    for k, ((notes, style), font) in enumerate(zip(parts, soundfonts)):
        synth, sfid = _new_synth(font, room, sr)
        try:
            _setup_channel(synth, sfid, 0, style)
            out[k] = _run(synth, stem_events(notes, style, 0, sr=sr), n)
        finally:
            synth.delete()
    return out


def render_mix(parts, *, soundfont: str = "FluidR3_GM", room: Room | None = None, tail_s: float = 1.5,
               n_samples: int | None = None, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Render all parts together in one synthesizer (one MIDI channel each): the reference mixture.

    Same parameters as :func:`render_stems`; returns float32 ``(n_samples,)``. At most 15 parts.
    """
    room = room or Room()
    if not 1 <= len(parts) <= len(_CHANNELS):
        raise MitkitError(f"len(parts)={len(parts)} must be in 1..{len(_CHANNELS)}")
    n = piece_length(parts, tail_s=tail_s, sr=sr) if n_samples is None else int(n_samples)
    synth, sfid = _new_synth(soundfont, room, sr)
    try:
        events = []
        for (notes, style), ch in zip(parts, _CHANNELS):
            _setup_channel(synth, sfid, ch, style)
            events += stem_events(notes, style, ch, sr=sr)
        return _run(synth, events, n)
    finally:
        synth.delete()


def style_dict(style: StemStyle) -> dict:
    """The style as a plain dict (for the manifest)."""
    return asdict(style)


def room_dict(room: Room) -> dict:
    """The room as a plain dict (for the manifest)."""
    return asdict(room)
