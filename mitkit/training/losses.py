"""Training losses: focal loss for the posteriorgrams, contrastive losses for the timbre embeddings.

Notebook: 02_training

Each loss is a plain function of tensors; none lives inside the model. ``compute_losses`` runs the model on
a training batch and gathers the losses of the branches being trained.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F_

from mitkit.constants import TRAINING_STAGES

FRAME_ALPHA = 0.2  # positive-class weight for frames
ONSET_ALPHA = 0.06  # onsets are sparser, so their positives get the smaller weight (arXiv 2509.12712)
FOCAL_GAMMA = 1.0
TEMPERATURE = 0.15  # InfoNCE softmax temperature
ACTIVE_THRESHOLD = 0.1  # a bin is "active" when any instrument's roll exceeds this
MAX_BINS = 512  # bins sampled per clip for the contrastive losses, so memory stays flat


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, *, alpha: float, gamma: float = FOCAL_GAMMA,
               positive_weight: torch.Tensor | None = None):
    """Binary focal loss, averaged over all elements.

    ``FL = −α·y·(1−p)^γ·log p − (1−α)·(1−y)·p^γ·log(1−p)`` with ``p = sigmoid(logits)``.

    Parameters
    ----------
    logits, targets : tensors of one shape, e.g. ``(B, 84, T)``; targets in [0, 1].
    alpha : weight of the positive class (0.2 frames, 0.06 onsets).
    gamma : focusing exponent; 0 gives α-weighted binary cross-entropy.
    positive_weight : optional tensor (broadcast to ``targets``) that scales the positive term per element,
        e.g. :func:`reattack_weights` to stress onsets that no silence announces.

    Notebook: 02_training
    """
    p = torch.sigmoid(logits)
    log_p, log_not_p = F_.logsigmoid(logits), F_.logsigmoid(-logits)
    pos = -alpha * targets * (1 - p) ** gamma * log_p
    if positive_weight is not None:
        pos = pos * positive_weight
    neg = -(1 - alpha) * (1 - targets) * p ** gamma * log_not_p
    return (pos + neg).mean()


def reattack_weights(frame_target: torch.Tensor, onset_target: torch.Tensor, weight: float) -> torch.Tensor:
    """Per-element weights for the onset loss: ``weight`` on re-attacks, 1 elsewhere.

    A re-attack is an onset of a pitch that was already sounding in the frame before (a repeated note
    played without a gap): nothing but the attack itself marks it, and with onsets that mostly follow
    silence the onset head learns to miss it. Targets are ``(B, 84, T)``.
    """
    sounding_before = torch.zeros_like(frame_target)
    sounding_before[..., 1:] = frame_target[..., :-1]
    reattack = (onset_target > 0.5) & (sounding_before > 0.5)
    return 1.0 + (weight - 1.0) * reattack.to(frame_target.dtype)


def onset_loss(logits: torch.Tensor, frame_target: torch.Tensor, onset_target: torch.Tensor, *, alpha: float,
               reattack_weight: float = 1.0, spread: int = 0) -> torch.Tensor:
    """The onset head's focal loss: positives weighted by ``alpha``, re-attacks by ``reattack_weight`` more
    (:func:`reattack_weights`), the target and its weights spread ``spread`` frames either side
    (:func:`spread_in_time`). Targets are ``(B, 84, T)``."""
    weight = (spread_in_time(reattack_weights(frame_target, onset_target, reattack_weight), spread)
              if reattack_weight != 1.0 else None)
    return focal_loss(logits, spread_in_time(onset_target, spread), alpha=alpha, positive_weight=weight)


def spread_in_time(rolls: torch.Tensor, frames: int) -> torch.Tensor:
    """``rolls`` ``(..., T)`` with each value also written ``frames`` frames either side (a running maximum).

    A one-frame onset target (11.6 ms) asks the onset head to say in which of two or three frames a slow
    attack (a bowed or blown note) begins; trained so, its posterior there peaked low and spread over those
    frames (model card, "Onset targets three frames wide"). Spread over ``2 * frames + 1`` frames, the target
    is one the head can reach; note creation still takes the posterior's peak as the onset.
    """
    if frames <= 0:
        return rolls
    shape = rolls.shape
    flat = rolls.reshape(-1, 1, shape[-1])
    return torch.nn.functional.max_pool1d(flat, 2 * frames + 1, stride=1, padding=frames).reshape(shape)


def sample_active_bins(V: torch.Tensor, rolls: torch.Tensor, *, max_bins: int = MAX_BINS,
                       threshold: float = ACTIVE_THRESHOLD, generator: torch.Generator | None = None):
    """Embeddings and instrument labels of up to ``max_bins`` active bins of one clip.

    Parameters
    ----------
    V : ``(D, P, T)`` embeddings of one clip.
    rolls : ``(I, P, T)`` per-instrument frame rolls of the same clip.

    Returns
    -------
    v : ``(M, D)`` embeddings; labels : ``(M,)`` instrument index of each bin. Bins where more than one
    instrument is active (unisons) are left out: they have no single right answer.
    """
    active = rolls > threshold  # (I, P, T)
    single = active.sum(0) == 1  # (P, T)
    idx = single.flatten().nonzero()[:, 0]
    if idx.numel() > max_bins:
        pick = torch.randperm(idx.numel(), generator=generator, device="cpu")[:max_bins].to(idx.device)
        idx = idx[pick]
    labels = active.flatten(1)[:, idx].float().argmax(0)  # (M,)
    v = V.flatten(1)[:, idx].T  # (M, D)
    return v, labels


def info_nce_loss(v: torch.Tensor, labels: torch.Tensor, *, temperature: float = TEMPERATURE):
    """Multi-positive InfoNCE over bins of one clip.

    For anchor i, every other bin of the same instrument is a positive and every bin of another
    instrument a negative: ``L_i = −mean_{p∈P(i)} log( exp(s_ip/τ) / Σ_{a≠i} exp(s_ia/τ) )``.
    Averaged over anchors that have at least one positive; zero when fewer than two instruments are
    present (there is nothing to tell apart).

    Parameters
    ----------
    v : ``(M, D)`` unit embeddings; labels : ``(M,)`` integer instrument labels.
    """
    if labels.numel() < 2 or labels.unique().numel() < 2:
        return v.sum() * 0.0
    sim = v @ v.T / temperature  # (M, M)
    eye = torch.eye(len(v), dtype=torch.bool, device=v.device)
    sim = sim.masked_fill(eye, float("-inf"))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    positive = (labels[:, None] == labels[None, :]) & ~eye
    n_pos = positive.sum(1)
    has_pos = n_pos > 0
    per_anchor = -(log_prob.masked_fill(~positive, 0.0).sum(1)[has_pos] / n_pos[has_pos])
    return per_anchor.mean()


def deep_clustering_loss(v: torch.Tensor, labels: torch.Tensor):
    """Affinity MSE of deep clustering (the ablation): ``‖VVᵀ − YYᵀ‖²_F / M²``, computed in O(M·D).

    ``Y`` is the one-hot label matrix. Zero for single-instrument clips, like :func:`info_nce_loss`.
    """
    if labels.numel() < 2 or labels.unique().numel() < 2:
        return v.sum() * 0.0
    Y = F_.one_hot(labels).float()
    m = len(v)
    loss = (v.T @ v).pow(2).sum() - 2 * (v.T @ Y).pow(2).sum() + (Y.T @ Y).pow(2).sum()
    return loss / m ** 2


def timbre_loss(V: torch.Tensor, rolls: torch.Tensor, *, kind: str = "infonce", max_bins: int = MAX_BINS,
                generator: torch.Generator | None = None):
    """Contrastive loss of a batch, averaged over clips.

    Parameters
    ----------
    V : ``(B, D, P, T)`` embeddings; rolls : ``(B, I, P, T)`` per-instrument frame rolls.
    kind : ``"infonce"`` (default) or ``"deep_clustering"`` (ablation).
    """
    fn = {"infonce": info_nce_loss, "deep_clustering": deep_clustering_loss}[kind]
    losses = [fn(*sample_active_bins(V[b], rolls[b], max_bins=max_bins, generator=generator))
              for b in range(V.shape[0])]
    return torch.stack(losses).mean()


def _rolls_to_targets(batch, T):
    frames = batch["frames"][..., :T]  # (B, I, 84, T)
    onsets = batch["onsets"][..., :T]
    return frames, frames.amax(1), onsets.amax(1)  # per instrument, and any instrument


def compute_losses(model, batch, cfg, *, generator=None, bf16: bool = False):
    """Losses of one batch as a dict of scalar tensors (``frame``, ``onset``, ``timbre``, ``total``), for the
    branches ``cfg`` (a :class:`~mitkit.training.trainer.TrainConfig`) trains.

    With ``bf16`` the branches' convolutions run under bfloat16 autocast; the weights (the optimizer's
    master copy), the CQT and log, and the losses stay float32 (``MitNet.forward`` returns float32)."""
    branches = TRAINING_STAGES[cfg.stage]
    want_amt, want_timbre = "amt" in branches, "timbre" in branches
    T = batch["frames"].shape[-1]
    window = None  # the frames the timbre branch runs on: None, the whole clip (always so in validation)
    if want_timbre and model.training and 0 < cfg.timbre_frames < T:
        start = int(torch.randint(0, T - cfg.timbre_frames + 1, (), generator=generator))
        window = slice(start, start + cfg.timbre_frames)
    out = model(batch["audio"], with_amt=want_amt, with_timbre=want_timbre, bf16=bf16, timbre_frames=window)
    per_instrument, frame_target, onset_target = _rolls_to_targets(batch, T)
    losses = {}
    if want_amt:
        losses["frame"] = focal_loss(out["frame_logit"][..., :T], frame_target, alpha=FRAME_ALPHA)
        losses["onset"] = onset_loss(out["onset_logit"][..., :T], frame_target, onset_target, alpha=cfg.onset_alpha,
                                     reattack_weight=cfg.reattack_weight, spread=cfg.onset_spread)
    if want_timbre:
        V, rolls = (out["V"][..., :T], per_instrument) if window is None else (out["V"], per_instrument[..., window])
        losses["timbre"] = timbre_loss(V, rolls, kind=cfg.timbre_loss, max_bins=cfg.max_bins, generator=generator)
    losses["total"] = sum(losses.values())
    return losses
