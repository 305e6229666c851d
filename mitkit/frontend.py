"""The fixed front end: constant-Q transform, EnergyNorm and harmonic stacking.

Notebook: 01_cqt_and_energynorm

The CQT is computed octave by octave: one bank of 36 complex kernels is built for the top octave and
reused for every lower octave on a signal decimated by two each time, with the hop halved to match.
Long kernels for low notes thus never touch the full-rate signal, which makes this CQT far cheaper than
a direct one (nnAudio's ``CQT1992v2``) while landing every sinusoid on the same bin.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F_

from mitkit import constants as C
from mitkit.cqt_kernels import DECIMATION_TAPS, decimation_filter, octave_kernels
from mitkit.errors import MitkitError


class CQT(nn.Module):
    """Fixed constant-Q transform, computed per octave with decimation.

    Parameters
    ----------
    sr : sample rate of the input in Hz (default 22,050).
    hop_length : samples between frames at ``sr``; must be divisible by ``2 ** (n_octaves - 1)``.
    fmin : centre frequency of bin 0 in Hz.
    n_octaves, bins_per_octave : layout of the 288 bins.

    Shapes
    ------
    input  : waveform ``(N,)`` or ``(B, N)`` float32 at ``sr``.
    output : complex64 ``(B, F=288, T)`` with ``T = N // hop_length + 1``; frame t is centred on
             sample ``t * hop_length``. A sinusoid of amplitude A at a bin's centre frequency gives
             magnitude ≈ A/2 in that bin.

    Notebook: 01_cqt_and_energynorm
    """

    def __init__(self, sr: int = C.SAMPLE_RATE, hop_length: int = C.HOP_LENGTH, fmin: float = C.FMIN,
                 n_octaves: int = C.N_OCTAVES, bins_per_octave: int = C.BINS_PER_OCTAVE):
        super().__init__()
        top_low = fmin * 2.0 ** (n_octaves - 1)
        if top_low * 2 >= sr / 2:
            raise MitkitError(f"fmin={fmin} must leave the top octave below sr/2={sr / 2}")
        if hop_length % 2 ** (n_octaves - 1):
            raise MitkitError(f"hop_length={hop_length} must be divisible by 2**(n_octaves-1)")
        self.sr, self.hop_length, self.n_octaves, self.bins_per_octave = sr, hop_length, n_octaves, bins_per_octave
        kernels, self.kernel_length = octave_kernels(sr, top_low, bins_per_octave, C.Q_FACTOR)
        real_imag = np.concatenate([kernels.real, kernels.imag])[:, None, :]  # (2·36, 1, N)
        self.register_buffer("kernels", torch.from_numpy(real_imag.astype(np.float32)), persistent=False)
        self.register_buffer("lowpass", torch.from_numpy(decimation_filter())[None, None], persistent=False)

    def n_frames(self, n_samples: int) -> int:
        return n_samples // self.hop_length + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.complex(re, im) for re, im in self._octaves(x)][::-1], dim=1)

    def power(self, x: torch.Tensor) -> torch.Tensor:
        """``|CQT(x)|²`` ``(B, 288, T)``, computed from the real and imaginary parts without complex tensors
        (the network uses this; it exports to ONNX, which has no complex type)."""
        return torch.cat([re ** 2 + im ** 2 for re, im in self._octaves(x)][::-1], dim=1)

    def _octaves(self, x: torch.Tensor):
        """Real and imaginary parts ``(B, 36, T)`` of each octave, top octave first."""
        if x.dim() == 1:
            x = x[None]
        if x.dim() != 2:
            raise MitkitError(f"waveform shape={tuple(x.shape)} must be (N,) or (B, N)")
        n_frames = self.n_frames(x.shape[-1])
        x = x[:, None, :]  # (B, 1, N)
        octaves = []
        hop = self.hop_length
        half = self.kernel_length // 2
        for octave in range(self.n_octaves):  # top octave first
            if octave:
                x = F_.conv1d(F_.pad(x, (DECIMATION_TAPS // 2, DECIMATION_TAPS // 2)), self.lowpass, stride=2)
                hop //= 2
            # centre every frame: pad half a kernel before, and enough after to reach n_frames
            needed = (n_frames - 1) * hop + self.kernel_length
            right = needed - half - x.shape[-1]  # if negative, it crops samples that no frame needs
            y = F_.conv1d(F_.pad(x, (half, right)), self.kernels, stride=hop)[..., :n_frames]  # (B, 72, T)
            octaves.append((y[:, :self.bins_per_octave], y[:, self.bins_per_octave:]))
        return octaves


class EnergyNorm(nn.Module):
    """Log power with one scale per clip, then a learnable affine map.

    ``P = |X|²``, ``E(t) = Σ_f P(f, t)``, ``σ = std_t E(t)``; ``out = log(P + 1.01e-8) − log σ``;
    ``y = k·out + b`` with ``k`` clamped to [0.005, 3]. Unlike 2-D or batch normalisation it keeps the
    ratios between harmonics inside a frame.

    Notebook: 01_cqt_and_energynorm

    Shapes: input complex or power ``(B, F, T)``; output float ``(B, F, T)``.
    ``sigma`` may be given (``(B,)`` or scalar) so that chunks of one long file share the file's scale.
    """

    EPS = 1.01e-8

    def __init__(self):
        super().__init__()
        self.k = nn.Parameter(torch.tensor(1.0))
        self.b = nn.Parameter(torch.tensor(0.0))

    @staticmethod
    def power(X: torch.Tensor) -> torch.Tensor:
        return X.real ** 2 + X.imag ** 2 if X.is_complex() else X

    @staticmethod
    def clip_scale(P: torch.Tensor) -> torch.Tensor:
        """σ of each clip ``(B,)``: the standard deviation over time of the frame energy."""
        return P.sum(dim=1).std(dim=-1, correction=0)

    def normalise(self, X: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        """The parameter-free part: ``log(P + eps) − log σ``."""
        P = self.power(X)
        if sigma is None:
            sigma = self.clip_scale(P)
        sigma = torch.as_tensor(sigma, dtype=P.dtype, device=P.device).reshape(-1, 1, 1)
        return torch.log(P + self.EPS) - torch.log(sigma + self.EPS)

    def forward(self, X: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        return self.k.clamp(0.005, 3.0) * self.normalise(X, sigma) + self.b


class HarmonicStacking(nn.Module):
    """Stack shifted copies of the spectrum so harmonics of one pitch line up across channels.

    Channel c holds the spectrum shifted down by ``HARMONIC_SHIFTS[c]`` bins (harmonics 0.5, 1, 2 … 7),
    cropped to the 252 bins of the output pitch range and zero-padded where a shift runs out.

    Shapes: input ``(B, F=288, T)``; output ``(B, 8, 252, T)``.

    Notebook: 01_cqt_and_energynorm
    """

    def __init__(self, shifts=C.HARMONIC_SHIFTS, n_out_bins: int = C.N_STACKED_BINS):
        super().__init__()
        self.shifts, self.n_out_bins = tuple(shifts), n_out_bins

    def forward(self, S: torch.Tensor) -> torch.Tensor:
        B, F, T = S.shape
        channels = []
        for s in self.shifts:
            lo, hi = s, s + self.n_out_bins  # source bins [lo, hi) → output bins [0, 252)
            src = S[:, max(lo, 0):min(hi, F)]
            channels.append(F_.pad(src, (0, 0, max(-lo, 0), max(hi - F, 0))))
        return torch.stack(channels, dim=1)


def log_cqt(audio: np.ndarray, sr: int = C.SAMPLE_RATE) -> np.ndarray:
    """Convenience for plots: ``log(|CQT|² + eps) − log σ`` of a mono waveform, ``(288, T)`` numpy.

    Notebook: 01_cqt_and_energynorm
    """
    with torch.no_grad():
        X = CQT(sr=sr)(torch.as_tensor(np.asarray(audio, dtype=np.float32)))
        return EnergyNorm().normalise(X)[0].numpy()

