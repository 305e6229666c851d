"""Test tones made from harmonics: the one tone synthesiser of the project (notebooks, tests, the speed
harness).

Notebook: 01_cqt_and_energynorm, 04_speed_benchmarks
"""
from __future__ import annotations

import numpy as np

from mitkit import constants as C
from mitkit.errors import MitkitError

SYNTH_SECONDS = 12.0  # length of the synthetic source clip before looping


# MIDI range of each synthetic voice: bass, tenor, alto, soprano
SYNTH_VOICES = ((36, 52), (48, 64), (55, 72), (62, 81))


def partials(f0: float, t: np.ndarray, amplitudes, *, sr: int = C.SAMPLE_RATE, limit: float = 0.5) -> np.ndarray:
    """``Σ_h a_h sin(2π h f0 t)`` (h = 1, 2, …) over the partials below ``limit · sr``: the one harmonic
    oscillator bank of the project. ``t``: seconds ``(S,)``; returns float64 ``(S,)``.

    >>> partials(440.0, np.array([0.0, 1 / 1760]), [1.0, 0.5]).round(6).tolist()   # sin(π/2) + 0.5 sin(π)
    [0.0, 1.0]
    """
    a = np.asarray(amplitudes, dtype=np.float64)
    h = np.arange(1, a.size + 1)
    keep = (a != 0) & (h * f0 < limit * sr)
    return np.sin(2 * np.pi * f0 * np.outer(t, h[keep])) @ a[keep]


def synth_signal(seconds: float = SYNTH_SECONDS, *, seed: int = 0, sr: int = C.SAMPLE_RATE) -> np.ndarray:
    """A polyphonic test signal: four voices of harmonic tones, each with its own spectrum.

    Each voice walks through its MIDI range in steps of up to 4 semitones with notes of 0.25–1 s
    (10 % rests); a note is 8 harmonics with voice-specific amplitudes, a 10 ms attack, an
    exponential decay and a 20 ms release. Deterministic given ``seed``.

    Parameters
    ----------
    seconds : length in seconds (> 0).
    seed : seed of ``np.random.default_rng``.
    sr : sample rate in Hz.

    Returns
    -------
    y : float32 ``(round(seconds * sr),)``, peak amplitude 0.5.
    """
    if not seconds > 0:
        raise MitkitError(f"seconds={seconds} must be positive")
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    y = np.zeros(n)
    k = np.arange(1, 9)  # harmonic numbers
    for lo, hi in SYNTH_VOICES:
        spectrum = rng.uniform(0.2, 1.0, k.size) / k ** rng.uniform(0.5, 2.0)  # this voice's timbre
        decay = rng.uniform(0.5, 3.0)  # 1/s
        pitch, t = int(rng.integers(lo, hi + 1)), 0.0
        while t < seconds:
            duration = float(rng.choice([0.25, 0.5, 0.5, 1.0]))
            pitch = int(np.clip(pitch + rng.integers(-4, 5), lo, hi))
            a, b = int(t * sr), min(int((t + duration) * sr), n)
            t += duration
            if rng.random() < 0.1 or b <= a:
                continue  # a rest
            tt = np.arange(b - a) / sr  # (S,) seconds since the onset
            tone = partials(C.midi_to_hz(pitch), tt, spectrum, sr=sr, limit=0.45)  # (S,)
            envelope = np.minimum(tt / 0.01, 1.0) * np.exp(-decay * tt) * np.minimum((tt[::-1] + 1 / sr) / 0.02, 1.0)
            y[a:b] += envelope * tone
    return (0.5 * y / max(np.abs(y).max(), 1e-12)).astype(np.float32)


#: Partial amplitudes of :func:`harmonic_tone` (a sawtooth-like 1/h roll-off over 7 partials).
TONE_AMPLITUDES = tuple(1.0 / h for h in range(1, 8))


def harmonic_tone(midi: float, *, seconds: float = 1.0, amplitudes=TONE_AMPLITUDES, peak: float = 0.5,
                  sr: int = C.SAMPLE_RATE) -> np.ndarray:
    """A steady harmonic tone ``x(t) = Σ_h a_h sin(2π h f0 t)`` with 10 ms fades, peak-normalised.

    Parameters
    ----------
    midi : pitch as a (possibly fractional) MIDI number; ``f0 = midi_to_hz(midi)``.
    seconds : duration.
    amplitudes : ``a_1, a_2, …`` of the partials (``a_1`` is the fundamental; 0 removes a partial).
        Partials at or above ``sr / 2`` are left out.
    peak : largest absolute sample value.

    Returns
    -------
    np.ndarray, float32, shape ``(round(seconds * sr),)``

    Notebook: 01_cqt_and_energynorm
    """
    if seconds <= 0:
        raise MitkitError(f"seconds={seconds} must be > 0")
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    x = partials(C.midi_to_hz(midi), t, amplitudes, sr=sr)
    fade = min(int(0.01 * sr), n // 2)
    if fade:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
        x[:fade] *= ramp
        x[n - fade:] *= ramp[::-1]
    top = np.max(np.abs(x))
    return (x * (peak / top if top > 0 else 0.0)).astype(np.float32)
