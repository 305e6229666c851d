"""Solutions to the exercises of notebook 01_cqt_and_energynorm, and the small helpers its studies call.

Read next to the notebook; nothing here is needed to transcribe audio.
"""
from __future__ import annotations

import numpy as np
import torch

from mitkit import constants as C
from mitkit.errors import MitkitError


def harmonic_peaks(L_frame, midi: int, *, search: int = 2) -> dict:
    """Where the partials of a note really are in one CQT frame.

    For each harmonic h ≥ 1 of :data:`~mitkit.constants.HARMONICS`, the bin of the largest value within
    ``±search`` bins of the expected bin ``pitch_to_bin(midi) + round(36·log2 h)``, returned as an offset
    from the note's own bin.

    Parameters
    ----------
    L_frame : ``(288,)`` one frame of a (log-)power CQT.
    midi : the note's MIDI pitch.

    Returns
    -------
    dict of harmonic → offset in bins (int).

    Notebook: 01_cqt_and_energynorm
    """
    L_frame = np.asarray(L_frame)
    b0 = C.pitch_to_bin(midi)
    out = {}
    for h, s in zip(C.HARMONICS, C.HARMONIC_SHIFTS):
        if h < 1:
            continue
        lo, hi = max(b0 + s - search, 0), min(b0 + s + search + 1, len(L_frame))
        if lo >= hi:
            continue
        out[h] = int(lo + np.argmax(L_frame[lo:hi]) - b0)
    return out


def energynorm_gain_change(audio, gains=(0.01, 0.1, 10.0), *, margin: float = 100.0) -> dict:
    """Exercise 01.1: how much does the EnergyNorm output ``log P − log σ`` move when the audio is scaled?

    Scaling the waveform by g scales P by g² and σ by g², so ``log P − log σ`` is unchanged, *except*
    where ``P`` is so small that the ``ε = 1.01e-8`` inside the log dominates (silence, faint bins).

    Parameters
    ----------
    audio : mono waveform at 22,050 Hz.
    gains : factors to try.
    margin : a bin counts as "above ε" for a gain g when both ``P`` and ``g²P`` are at least ``margin·ε``.

    Returns
    -------
    dict of gain → {"all": max |Δ| over all bins, "above_eps": max |Δ| over the bins above ε,
    "fraction_above_eps": the share of bins above ε}.

    Notebook: 01_cqt_and_energynorm
    """
    from mitkit.frontend import CQT, EnergyNorm

    cqt, norm = CQT(), EnergyNorm()
    x = torch.as_tensor(np.asarray(audio, np.float32))
    with torch.no_grad():
        X = cqt(x)
        ref = norm.normalise(X)[0].numpy()
        P = EnergyNorm.power(X)[0].numpy()
        out = {}
        for g in gains:
            d = np.abs(norm.normalise(cqt(x * float(g)))[0].numpy() - ref)
            above = np.minimum(P, P * float(g) ** 2) >= margin * EnergyNorm.EPS
            out[g] = {"all": float(d.max()), "above_eps": float(d[above].max()) if above.any() else 0.0,
                      "fraction_above_eps": float(above.mean())}
    return out


def stacked_pitch(audio, *, sr: int = C.SAMPLE_RATE, silence_db: float = 40.0) -> np.ndarray:
    """Exercise 01.2: a harmonic-sum pitch estimate from the stacked spectrum, one per frame.

    Sum the EnergyNorm log power of the stacked channels h = 1 … 7 (all harmonics of a candidate pitch
    at once) and take the best stacked bin: ``MIDI_MIN + (bin − 1) / 3``. The h = 0.5 channel is left
    out: it belongs to the octave *below*. Only candidates whose 7th harmonic is still inside the CQT
    are considered (MIDI ≤ 86): above that the stack is zero-padded, and a padded 0 would beat every
    real (negative) log value. Frames more than ``silence_db`` dB below the loudest frame give NaN.

    Returns
    -------
    np.ndarray, float, shape ``(T,)``: MIDI pitch per frame (fractional, in thirds of a semitone).

    Notebook: 01_cqt_and_energynorm
    """
    from mitkit.frontend import CQT, EnergyNorm, HarmonicStacking

    with torch.no_grad():
        X = CQT(sr=sr)(torch.as_tensor(np.asarray(audio, np.float32)))
        S = HarmonicStacking()(EnergyNorm().normalise(X))[0].numpy()  # (8, 252, T)
        E = EnergyNorm.power(X)[0].sum(0).numpy()  # (T,)
    n_valid = C.N_BINS - max(C.HARMONIC_SHIFTS)  # stacked bins whose every harmonic lies inside the CQT
    score = S[[i for i, h in enumerate(C.HARMONICS) if h >= 1], :n_valid].sum(0)  # (n_valid, T)
    midi = C.MIDI_MIN + (np.argmax(score, axis=0) - 1) / C.BINS_PER_SEMITONE
    quiet = E < E.max() * 10 ** (-silence_db / 10)
    return np.where(quiet, np.nan, midi)


def harmonic_shift_errors(harmonics=(0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), *,
                          bins_per_octave: int = C.BINS_PER_OCTAVE) -> dict:
    """Exercise 01.3: the shift of each harmonic in bins, exact and rounded, and the rounding error in cents.

    Returns
    -------
    dict with arrays ``harmonic``, ``exact`` (``bpo·log2 h``), ``shift`` (rounded), ``error_cents``
    (``(shift − exact)·1200 / bpo``; positive: the stacked bin is sharp of the true partial).

    Notebook: 01_cqt_and_energynorm
    """
    if bins_per_octave < 1:
        raise MitkitError(f"bins_per_octave={bins_per_octave} must be >= 1")
    h = np.asarray(harmonics, float)
    if np.any(h <= 0):
        raise MitkitError(f"harmonics={tuple(harmonics)} must all be > 0")
    exact = bins_per_octave * np.log2(h)
    shift = np.round(exact).astype(int)
    return {"harmonic": h, "exact": exact, "shift": shift, "error_cents": (shift - exact) * 1200 / bins_per_octave}


def check_harmonic_shift_errors(yours) -> bool:
    """Exercise 3: your ``harmonic_shift_errors(harmonics, bins_per_octave=...)`` (a dict with at least
    ``shift`` and ``error_cents``) against the solution at 12, 36 and 60 bins per octave."""
    from solutions.checks import check_answer
    harmonics = (0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    wanted = lambda *a, **k: {key: harmonic_shift_errors(*a, **k)[key] for key in ("shift", "error_cents")}  # noqa: E731
    return check_answer(yours, wanted, [{"harmonics": harmonics, "bins_per_octave": b} for b in (12, 36, 60)],
                        atol=0.05, labels=[f"{b} bins per octave" for b in (12, 36, 60)])
