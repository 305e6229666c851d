"""The constant-Q transform's fixed filters, and its power computed in NumPy (no PyTorch).

:class:`mitkit.frontend.CQT` builds its kernels here; :func:`cqt_power` repeats its computation with NumPy
for runtimes without PyTorch (the onnxruntime backend measures each file's EnergyNorm scale with it).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mitkit import constants as C

# Half-band low-pass used before every decimation by 2: windowed sinc, cut-off at a quarter of the
# sample rate, long enough that the top bin of the next octave (0.35·sr) stays within 0.1 dB.
DECIMATION_TAPS = 129


def decimation_filter(n_taps: int = DECIMATION_TAPS) -> np.ndarray:
    n = np.arange(n_taps) - (n_taps - 1) / 2
    h = 0.5 * np.sinc(0.5 * n) * np.blackman(n_taps)  # cut-off 0.25·sr, unity DC gain after scaling
    return (h / h.sum()).astype(np.float32)


def octave_kernels(sr: float, f_low: float, bins_per_octave: int, q: float) -> tuple[np.ndarray, int]:
    """Complex kernels (bins_per_octave, N) for one octave starting at ``f_low`` Hz, Hann-windowed,
    each normalised to unit L1 norm of the window so a sinusoid of amplitude A gives magnitude A/2."""
    freqs = f_low * 2.0 ** (np.arange(bins_per_octave) / bins_per_octave)
    lengths = np.ceil(q * sr / freqs).astype(int)
    n_max = int(lengths.max()) | 1  # odd, so every kernel is centred on one sample
    kernels = np.zeros((bins_per_octave, n_max), dtype=np.complex64)
    centre = n_max // 2
    for k, (f, n) in enumerate(zip(freqs, lengths)):
        t = np.arange(n) - (n - 1) / 2
        window = np.hanning(n)
        start = centre - n // 2
        kernels[k, start:start + n] = window / window.sum() * np.exp(2j * np.pi * f * t / sr)
    return kernels, n_max


def cqt_power(audio, *, sr: int = C.SAMPLE_RATE, hop_length: int = C.HOP_LENGTH, fmin: float = C.FMIN,
              n_octaves: int = C.N_OCTAVES, bins_per_octave: int = C.BINS_PER_OCTAVE) -> np.ndarray:
    """``|CQT|²`` ``(288, T)`` of a mono waveform, as :meth:`mitkit.frontend.CQT.power` computes it (float64
    here): per octave, top first, the same kernels on a signal decimated by two each time."""
    kernels, n_kernel = octave_kernels(sr, fmin * 2.0 ** (n_octaves - 1), bins_per_octave, C.Q_FACTOR)
    lowpass = decimation_filter().astype(np.float64)
    x = np.asarray(audio, dtype=np.float64)
    n_frames = len(x) // hop_length + 1
    hop, half, octaves = hop_length, n_kernel // 2, []
    for octave in range(n_octaves):
        if octave:
            padded = np.pad(x, DECIMATION_TAPS // 2)
            x = np.convolve(padded, lowpass[::-1], mode="valid")[::2]  # conv1d is a correlation
            hop //= 2
        needed = (n_frames - 1) * hop + n_kernel
        padded = np.pad(x, (half, max(needed - half - len(x), 0)))[:needed]
        frames = sliding_window_view(padded, n_kernel)[::hop][:n_frames]  # (T, n_kernel)
        octaves.append(np.abs(frames @ kernels.T.astype(np.complex128)) ** 2)  # (T, 36)
    return np.concatenate(octaves[::-1], axis=1).T
