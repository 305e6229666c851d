"""Simulated rooms: one shoebox room per piece and a place in it for each instrument, so that every stem
reaches the microphone through its own room response (direct sound, early reflections, a reverberant tail).

FluidSynth's own reverb is one algorithm for every room and every instrument; a recording made in a real
room differs per instrument: a player far from the microphone sounds duller and more reverberant than
one close to it. :func:`room_responses` builds one response per instrument:

- early part: image sources up to :data:`MAX_ORDER` reflections (``pyroomacoustics.ShoeBox``, wall
  absorption from Sabine's formula for the drawn RT60);
- late part: noise decaying by 60 dB in RT60 seconds, low-passed (air and walls absorb high frequencies),
  faded in over the early part where the image sources thin out. Image sources up to the full order would
  give the tail too, at ≈ 100 times the cost (seconds per piece).

Each response is trimmed so that its direct sound is at sample 0 and scaled so that the direct sound is 1:
convolving a stem with it delays nothing, so the note labels stay where they were (a labelled onset and
its first sound agree to a sample), and stems still sum to the mix because convolution is linear.

Notebook: 02_training (the synthetic data set)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from mitkit.constants import SAMPLE_RATE
from mitkit.errors import MitkitError

MAX_ORDER = 10  # image-source reflections computed exactly; the rest is the statistical tail
SPEED_OF_SOUND = 343.0  # m/s
_MIX_S = (0.04, 0.08)  # the tail fades in over this span after the direct sound (seconds)
#: A stem in a simulated room keeps this share of its FluidSynth reverb send: the room brings its own
#: reverberation, and FluidSynth's would double it.
FLUIDSYNTH_REVERB_DIVISOR = 4


def reverb_send_in_room(send: int) -> int:
    """The FluidSynth reverb send (CC 91) of a stem that a simulated room will reverberate.

    >>> reverb_send_in_room(40)
    10
    """
    return int(send) // FLUIDSYNTH_REVERB_DIVISOR


@dataclass
class Acoustics:
    """One room and where everyone stands in it (metres; x, y on the floor, z up)."""

    size: tuple[float, float, float]  # room dimensions
    rt60: float  # seconds for the reverberant sound to fall by 60 dB
    mic: tuple[float, float, float]
    sources: list[tuple[float, float, float]] = field(default_factory=list)  # one per stem
    tail_cutoff_hz: float = 5000.0  # low-pass corner of the late reverberation
    seed: int = 0  # the tail's noise


def random_acoustics(n_sources: int, rng: np.random.Generator) -> Acoustics:
    """Draw a room from a practice room to a hall, a microphone in front, the players spread on a stage.

    Instruments stand 1–6 m from the microphone; at least 0.5 m from every wall.
    """
    if n_sources < 1:
        raise MitkitError(f"n_sources={n_sources} must be >= 1")
    size = (float(rng.uniform(4.0, 20.0)), float(rng.uniform(3.5, 14.0)), float(rng.uniform(2.7, 9.0)))
    rt60 = float(rng.uniform(0.2, 1.0 + 0.08 * size[0]))  # larger rooms may ring longer
    rt60 = max(rt60, (1 + 1e-6) * shortest_rt60(size))  # walls absorb at most everything
    mic = (float(rng.uniform(0.6, 0.5 * size[0])), float(rng.uniform(0.5, size[1] - 0.5)),
           float(rng.uniform(1.2, min(3.5, size[2] - 0.5))))
    sources = []
    for _ in range(n_sources):
        d = float(rng.uniform(1.0, 6.0))
        angle = float(rng.uniform(-np.pi / 3, np.pi / 3))  # in front of the microphone, towards +x
        x = float(np.clip(mic[0] + d * np.cos(angle), 0.5, size[0] - 0.5))
        y = float(np.clip(mic[1] + d * np.sin(angle), 0.5, size[1] - 0.5))
        sources.append((x, y, float(rng.uniform(0.8, min(1.8, size[2] - 0.5)))))
    return Acoustics(size=size, rt60=rt60, mic=mic, sources=sources,
                     tail_cutoff_hz=float(rng.uniform(2500.0, 8000.0)), seed=int(rng.integers(2**31)))


def shortest_rt60(size) -> float:
    """The shortest RT60 (seconds) a shoebox of ``size`` can have, by Sabine's formula with walls that absorb
    everything: 24 ln(10) V / (c S)."""
    x, y, z = (float(v) for v in size)
    return 24 * np.log(10) * x * y * z / (SPEED_OF_SOUND * 2 * (x * y + x * z + y * z))


def _check(acoustics: Acoustics) -> None:
    size = np.asarray(acoustics.size, float)
    inside = [np.all((np.asarray(p, float) > 0) & (np.asarray(p, float) < size))
              for p in [acoustics.mic, *acoustics.sources]]
    if size.shape != (3,) or np.any(size <= 0) or not all(inside):
        raise MitkitError(f"acoustics: the microphone and every source must be inside the room {acoustics.size}")
    if not acoustics.rt60 >= shortest_rt60(acoustics.size):
        raise MitkitError(f"acoustics.rt60={acoustics.rt60} must be at least {shortest_rt60(acoustics.size):.3f} s, "
                          f"the shortest a room of {acoustics.size} m can have")


def room_responses(acoustics: Acoustics, sr: int = SAMPLE_RATE) -> list[np.ndarray]:
    """One float32 room response per source of ``acoustics``: direct sound at sample 0, equal to 1.

    Length: until the tail has fallen by 60 dB (``rt60`` seconds), at least the early part.
    """
    import pyroomacoustics as pra

    _check(acoustics)
    absorption, _ = pra.inverse_sabine(acoustics.rt60, list(acoustics.size))
    room = pra.ShoeBox(list(acoustics.size), fs=sr, materials=pra.Material(float(min(absorption, 1.0))),
                       max_order=MAX_ORDER)
    for p in acoustics.sources:
        room.add_source(list(p))
    room.add_microphone(list(acoustics.mic))
    room.compute_rir()
    half = pra.constants.get("frac_delay_length") // 2  # the fractional-delay filter centres each image
    rng = np.random.default_rng(acoustics.seed)
    out = []
    for p, h in zip(acoustics.sources, room.rir[0]):
        h = np.asarray(h, np.float64)
        expected = int(round(np.linalg.norm(np.subtract(p, acoustics.mic)) / pra.constants.get("c") * sr)) + half
        lo = max(expected - 3, 0)
        direct = lo + int(np.argmax(np.abs(h[lo:expected + 4])))
        early = h[direct:] / h[direct]
        out.append(_with_tail(early, acoustics, rng, sr).astype(np.float32))
    return out


def _with_tail(early: np.ndarray, acoustics: Acoustics, rng: np.random.Generator, sr: int) -> np.ndarray:
    """The early response continued by decaying noise whose level matches it where they cross-fade."""
    from scipy.signal import butter, sosfilt

    a, b = (int(t * sr) for t in _MIX_S)
    n = max(int(acoustics.rt60 * sr), b + 1)
    if len(early) < b:  # an anechoic-like room: the image sources already ended
        early = np.pad(early, (0, b - len(early)))
    decay = np.exp(-6.91 * np.arange(n) / (acoustics.rt60 * sr))  # −60 dB at rt60
    noise = sosfilt(butter(2, min(acoustics.tail_cutoff_hz, 0.45 * sr), fs=sr, output="sos"),
                    rng.standard_normal(n))
    tail = noise * decay
    # level: the early part's energy over the fade span, normalised by the decay there
    level = np.sqrt(np.mean(early[a:b] ** 2) / max(np.mean(tail[a:b] ** 2), 1e-20))
    fade = np.zeros(n)
    fade[a:b] = 0.5 - 0.5 * np.cos(np.pi * np.arange(b - a) / (b - a))
    fade[b:] = 1.0
    h = level * tail * fade
    m = min(len(early), n)
    h[:m] += early[:m] * (1.0 - fade[:m])
    return h


def apply_acoustics(stems: np.ndarray, acoustics: Acoustics, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Convolve each stem (``(K, n)``) with its source's room response; same shape, float32.

    The reverberation after the stem's last sample is cut (stems are rendered with a release tail).
    """
    from scipy.signal import fftconvolve

    stems = np.asarray(stems, np.float32)
    if stems.ndim != 2 or len(stems) != len(acoustics.sources):
        raise MitkitError(f"stems.shape={stems.shape} must be (one per source = {len(acoustics.sources)}, "
                          "n_samples)")
    out = np.empty_like(stems)
    for k, h in enumerate(room_responses(acoustics, sr)):
        out[k] = fftconvolve(stems[k], h)[: stems.shape[1]]
    return out


def acoustics_dict(acoustics: Acoustics) -> dict:
    """The acoustics as a plain dict (for the manifest)."""
    return asdict(acoustics)
