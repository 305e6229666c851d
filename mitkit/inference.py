"""Running the network over audio of any length, in overlapping chunks.

Notebook: 04_speed_benchmarks

A file is cut into chunks of ``chunk_frames`` frames, each computed with ``context_frames`` of audio on
either side (enough for the longest CQT kernel, the decimation filters and the network's receptive
field), and only the centre frames are kept. EnergyNorm's per-clip scale σ is measured once over the
whole file first, so the stitched posteriorgrams equal those of one whole-file pass; memory is bounded
by the chunk, not by the file.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from mitkit import constants as C
from mitkit.frontend import EnergyNorm
from mitkit.model import untimed

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


def _segment(audio: torch.Tensor, start: int, stop: int, context: int):
    """Samples feeding frames [start, stop) with context, and the frame offset of ``start`` inside them."""
    first = max(start - context, 0)
    last = (stop + context) * C.HOP_LENGTH
    return audio[first * C.HOP_LENGTH:last], start - first


@torch.no_grad()
def clip_scale(model, audio: torch.Tensor, *, chunk_frames: int = CHUNK_FRAMES,
               context_frames: int = CONTEXT_FRAMES) -> float:
    """σ of the whole file (std over time of the CQT frame energy), computed chunk by chunk."""
    n_frames = model.cqt.n_frames(audio.shape[-1])
    energy = np.empty(n_frames, dtype=np.float64)
    for start, stop in chunk_spans(n_frames, chunk_frames):
        seg, offset = _segment(audio, start, stop, context_frames)
        P = model.cqt.power(seg[None])[0]  # (288, T_seg)
        energy[start:stop] = P.sum(0)[offset:offset + stop - start].double().cpu().numpy()
    return float(energy.std())


def use_bf16(precision: str) -> bool:
    """Resolve ``precision`` ("auto", "bf16" or "fp32") for the network's branches on this machine."""
    from mitkit.errors import MitkitError
    from mitkit.model import native_bf16
    if precision not in ("auto", "bf16", "fp32"):
        raise MitkitError(f"precision={precision!r} must be 'auto', 'bf16' or 'fp32'")
    return precision == "bf16" or (precision == "auto" and native_bf16())


@torch.no_grad()
def run_chunks(model, audio: torch.Tensor, *, sigma: float, with_amt: bool = True, with_timbre: bool = True,
               bf16: bool = False, chunk_frames: int = CHUNK_FRAMES, context_frames: int = CONTEXT_FRAMES,
               progress: bool = False, timer=None):
    """Yield ``(start, stop, outputs)`` for consecutive chunks; ``outputs`` holds the centre frames of
    ``frame_logit``/``onset_logit`` ``(84, t)`` and ``V`` ``(12, 84, t)`` as tensors. ``timer``: see
    :meth:`mitkit.model.MitNet.forward`."""
    n_frames = model.cqt.n_frames(audio.shape[-1])
    spans = chunk_spans(n_frames, chunk_frames)
    for start, stop in tqdm(spans, disable=not progress or len(spans) == 1, desc="network", unit="chunk"):
        seg, offset = _segment(audio, start, stop, context_frames)
        out = model(seg[None], sigma=torch.tensor([sigma], device=audio.device), with_amt=with_amt,
                    with_timbre=with_timbre, bf16=bf16, timer=timer)
        yield start, stop, {k: v[0, ..., offset:offset + stop - start] for k, v in out.items()}


@torch.no_grad()
def predict(model, audio, *, with_timbre: bool = True, keep_embeddings: bool = True, precision: str = "auto",
            chunk_frames: int = CHUNK_FRAMES, context_frames: int = CONTEXT_FRAMES,
            progress: bool = False, timer=None) -> Posteriorgrams:
    """Posteriorgrams (and embeddings) for a mono 22,050 Hz waveform of any length.

    Parameters
    ----------
    model : MitNet, in eval mode.
    audio : float32 waveform ``(N,)``.
    with_timbre : run the timbre branch.
    keep_embeddings : keep V ``(12, 84, T)`` for the whole file (about 4 kB per frame).
    precision : "auto" (bfloat16 branches where the CPU has native bf16, else float32), "bf16" or "fp32".
    timer : optional ``timer(stage)`` context-manager factory that times "cqt", "amt" and "timbre"
        (see :meth:`mitkit.model.MitNet.forward`).

    Notebook: 02_training, 04_speed_benchmarks
    """
    bf16 = use_bf16(precision)
    timer = timer or untimed
    device = next(model.parameters()).device
    audio = torch.as_tensor(np.ascontiguousarray(audio), dtype=torch.float32, device=device)
    n_frames = model.cqt.n_frames(audio.shape[-1])
    with timer("cqt"):  # σ of the whole file, before the chunks
        if n_frames <= chunk_frames:
            sigma = float(EnergyNorm.clip_scale(model.cqt.power(audio[None])))
        else:
            sigma = clip_scale(model, audio, chunk_frames=chunk_frames, context_frames=context_frames)
    Y_F = np.empty((C.N_PITCHES, n_frames), dtype=np.float32)
    Y_O = np.empty_like(Y_F)
    V = np.empty((model.config.embedding_dim, C.N_PITCHES, n_frames), np.float32) \
        if with_timbre and keep_embeddings else None
    for start, stop, out in run_chunks(model, audio, sigma=sigma, with_timbre=V is not None, bf16=bf16,
                                       chunk_frames=chunk_frames, context_frames=context_frames, progress=progress,
                                       timer=timer):
        with timer("amt"):
            Y_F[:, start:stop] = torch.sigmoid(out["frame_logit"]).cpu().numpy()
            Y_O[:, start:stop] = torch.sigmoid(out["onset_logit"]).cpu().numpy()
        if V is not None:
            with timer("timbre"):
                V[:, :, start:stop] = out["V"].cpu().numpy()
    return Posteriorgrams(Y_F, Y_O, V, sigma)


@torch.no_grad()
def stream_note_embeddings(model, audio, notes, post: Posteriorgrams, *, precision: str = "auto",
                           chunk_frames: int = CHUNK_FRAMES, context_frames: int = CONTEXT_FRAMES,
                           progress: bool = False) -> np.ndarray:
    """Note embeddings ``(N, 12)`` without keeping V: a timbre-only pass over the chunks sums
    ``Y_F·V`` over each note's frames (Y_F and σ come from ``post``); then L2-normalised."""
    device = next(model.parameters()).device
    audio = torch.as_tensor(np.ascontiguousarray(audio), dtype=torch.float32, device=device)
    sums = np.zeros((len(notes), model.config.embedding_dim))
    rows = notes["pitch"] - C.MIDI_MIN
    for start, stop, out in run_chunks(model, audio, sigma=post.sigma, with_amt=False, bf16=use_bf16(precision),
                                       chunk_frames=chunk_frames, context_frames=context_frames, progress=progress):
        V = out["V"].cpu().numpy()  # (12, 84, t) for frames [start, stop)
        for i in np.flatnonzero((notes["start"] < stop) & (notes["end"] > start)):
            a, b = max(notes["start"][i], start), min(notes["end"][i], stop)
            sums[i] += V[:, rows[i], a - start:b - start] @ post.frames[rows[i], a:b]
    return sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
