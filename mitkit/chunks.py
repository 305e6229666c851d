"""Audio of any length in overlapping chunks, and what the network's outputs become: posteriorgrams.

Shared by both backends (:mod:`mitkit.inference`, PyTorch; :mod:`mitkit.onnx_backend`, onnxruntime); no
PyTorch here. A file is cut into chunks of ``chunk_frames`` frames, each computed with ``context_frames`` of
audio on either side, and only the centre frames are kept (see :mod:`mitkit.inference`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mitkit import constants as C

CHUNK_FRAMES = 1723  # ≈ 20 s of frames per chunk: bounds the activations (≈ 0.5 GB at 30 s in the timbre branch)
CONTEXT_FRAMES = 172  # ≈ 2 s each side: half the longest CQT kernel (0.8 s) plus the decimation filters


@dataclass
class Posteriorgrams:
    """Network outputs for one piece of audio.

    Attributes
    ----------
    frames : Y_F, float32 ``(84, T)``, probability that pitch p sounds in frame t.
    onsets : Y_O, float32 ``(84, T)``, probability that a note of pitch p starts in frame t.
    embeddings : V, float32 ``(12, 84, T)`` unit timbre vectors, or None when not computed/kept.
    sigma : the clip's EnergyNorm scale.
    """
    frames: np.ndarray
    onsets: np.ndarray
    embeddings: np.ndarray | None
    sigma: float

    @property
    def n_frames(self) -> int:
        return self.frames.shape[1]

    @property
    def times(self) -> np.ndarray:
        """Frame centres in seconds ``(T,)``."""
        return np.arange(self.n_frames) / C.FRAME_RATE


def chunk_spans(n_frames: int, chunk_frames: int = CHUNK_FRAMES):
    """Frame ranges ``[(start, stop), ...]`` that tile ``range(n_frames)``."""
    return [(a, min(a + chunk_frames, n_frames)) for a in range(0, n_frames, chunk_frames)]


def segment(audio, start: int, stop: int, context: int):
    """Samples feeding frames [start, stop) with context, and the frame offset of ``start`` inside them."""
    first = max(start - context, 0)
    last = (stop + context) * C.HOP_LENGTH
    return audio[first * C.HOP_LENGTH:last], start - first


def add_note_embeddings(sums: np.ndarray, notes, frames: np.ndarray, V: np.ndarray, start: int, stop: int) -> None:
    """Add ``Σ_t Y_F[p, t] · V[:, p, t]`` over the frames of [start, stop) that each note covers to ``sums``
    ``(N, D)`` (V ``(D, 84, stop - start)`` holds those frames): note embeddings built chunk by chunk."""
    rows = notes["pitch"] - C.MIDI_MIN
    for i in np.flatnonzero((notes["start"] < stop) & (notes["end"] > start)):
        a, b = max(notes["start"][i], start), min(notes["end"][i], stop)
        sums[i] += V[:, rows[i], a - start:b - start] @ frames[rows[i], a:b]

