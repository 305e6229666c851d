"""Running the network over audio of any length, in overlapping chunks.

Notebook: 04_speed_benchmarks

A file is cut into chunks of ``chunk_frames`` frames, each computed with ``context_frames`` of audio on
either side (enough for the longest CQT kernel, the decimation filters and the network's receptive
field), and only the centre frames are kept. EnergyNorm's per-clip scale σ is measured once over the
whole file first, so the stitched posteriorgrams equal those of one whole-file pass; memory is bounded
by the chunk, not by the file.
"""
from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from mitkit import constants as C
from mitkit.chunks import CHUNK_FRAMES, CONTEXT_FRAMES, Posteriorgrams, add_note_embeddings, chunk_spans, segment
from mitkit.frontend import EnergyNorm
from mitkit.model import untimed

__all__ = ["CHUNK_FRAMES", "CONTEXT_FRAMES", "Posteriorgrams", "chunk_spans", "clip_scale", "predict",
           "run_chunks", "stream_note_embeddings", "use_bf16"]

@torch.no_grad()
def clip_scale(model, audio: torch.Tensor, *, chunk_frames: int = CHUNK_FRAMES,
               context_frames: int = CONTEXT_FRAMES) -> float:
    """σ of the whole file (std over time of the CQT frame energy), computed chunk by chunk."""
    n_frames = model.cqt.n_frames(audio.shape[-1])
    energy = np.empty(n_frames, dtype=np.float64)
    for start, stop in chunk_spans(n_frames, chunk_frames):
        seg, offset = segment(audio, start, stop, context_frames)
        P = model.cqt.power(seg[None])[0]  # (288, T_seg)
        energy[start:stop] = P.sum(0)[offset:offset + stop - start].double().cpu().numpy()
    return float(energy.std())


def use_bf16(precision: str) -> bool:
    """Resolve ``precision`` ("auto", "bf16" or "fp32") for the network's branches on this machine."""
    from mitkit.errors import MitkitError
    from mitkit.model import native_bf16
    if precision not in C.PRECISIONS:
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
        seg, offset = segment(audio, start, stop, context_frames)
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
    for start, stop, out in run_chunks(model, audio, sigma=post.sigma, with_amt=False, bf16=use_bf16(precision),
                                       chunk_frames=chunk_frames, context_frames=context_frames, progress=progress):
        add_note_embeddings(sums, notes, post.frames, out["V"].cpu().numpy(), start, stop)
    return sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
