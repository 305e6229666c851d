"""Solutions to the exercises of notebook 02_training, and the small helpers its studies call.

Read next to the notebook; nothing here is needed to transcribe audio.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from tqdm.auto import tqdm

from mitkit.errors import MitkitError


def focal_optimum(prior: float, alpha: float, gamma: float = 1.0, *, n: int = 200_001) -> float:
    """Exercise 02.1: the probability p* that minimises the expected focal loss of a bin that is a note
    with probability ``prior`` (π): ``π·α(1−p)^γ(−log p) + (1−π)(1−α)p^γ(−log(1−p))``.

    For γ = 0 (α-weighted cross-entropy) the answer is ``p* = απ / (απ + (1−α)(1−π))``; this function
    finds it numerically on a grid of ``n`` points, for any γ.

    Notebook: 02_training
    """
    for name, v in (("prior", prior), ("alpha", alpha)):
        if not 0 < v < 1:
            raise MitkitError(f"{name}={v} must be in (0, 1)")
    if gamma < 0:
        raise MitkitError(f"gamma={gamma} must be >= 0")
    p = np.linspace(0, 1, n)[1:-1]
    loss = -prior * alpha * (1 - p) ** gamma * np.log(p) - (1 - prior) * (1 - alpha) * p ** gamma * np.log1p(-p)
    return float(p[np.argmin(loss)])


def reference_notes(item) -> np.ndarray:
    """All instruments' notes of a mixture item, pooled (:func:`mitkit.training.mixtures.mixture_notes`).

    Notebook: 02_training
    """
    from mitkit.training.mixtures import mixture_notes

    return mixture_notes(item)


def _score(ref, Y_F, Y_O, thresholds) -> tuple[dict, np.ndarray]:
    from mitkit.evaluation.metrics import score_posteriorgrams

    return score_posteriorgrams(ref, Y_F, Y_O, thresholds)


def ghost_notes(ref, est) -> int:
    """Estimated notes that overlap no reference note of the same pitch: notes where nothing sounds.

    ``ref`` and ``est`` are note arrays ``(N, 4)`` [onset_s, offset_s, pitch, …]. A note split in two, or
    one with a late onset, overlaps its reference note and is *not* a ghost (it still lowers note precision).

    Notebook: 02_training
    """
    ref, est = np.asarray(ref, float).reshape(-1, 4), np.asarray(est, float).reshape(-1, 4)
    count = 0
    for on, off, pitch in est[:, :3]:
        same = ref[np.round(ref[:, 2]) == round(pitch)]
        count += not np.any((same[:, 0] < off) & (same[:, 1] > on))
    return int(count)


def transcription_report(model, dataset, *, n_items: int = 4, thresholds: dict | None = None) -> dict:
    """Frame and note precision/recall/F1 (means over the first ``n_items`` mixtures of ``dataset``) and
    note counts summed over them: ``n_ref``, ``n_est`` and ``ghost_notes`` (:func:`ghost_notes`).
    A longer version of :func:`mitkit.training.trainer.mixture_scores`.

    Notebook: 02_training
    """
    from mitkit.inference import predict

    model.eval()
    rows, n_ref, n_est, ghosts = [], 0, 0, 0
    for i in range(min(n_items, len(dataset))):
        item = dataset[i]
        ref = reference_notes(item)
        post = predict(model, item["audio"], with_timbre=False)
        m, est = _score(ref, post.frames, post.onsets, thresholds)
        rows.append(m)
        n_ref, n_est, ghosts = n_ref + len(ref), n_est + len(est), ghosts + ghost_notes(ref, est)
    keys = ("frame_precision", "frame_recall", "frame_f1", "note_precision", "note_recall", "note_f1")
    out = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    return {**out, "n_ref": n_ref, "n_est": n_est, "ghost_notes": ghosts}


def finetune_amt(model, dataset, *, frame_alpha: float, onset_alpha: float | None = None, steps: int = 20,
                 batch_size: int = 4, lr: float = 1e-3, first_item: int = 0, progress: bool = True):
    """A copy of ``model`` whose AMT branch is trained for a few more steps with other focal-loss weights.

    The whole training step, written out: focal loss on Y_F (weight ``frame_alpha``) plus focal loss on
    Y_O (weight ``onset_alpha``, default :data:`mitkit.training.losses.ONSET_ALPHA`), AdamW, gradient clipping.
    BatchNorm statistics stay frozen (the layers are kept in eval mode), so that only the loss weight
    differs between runs started from the same model on the same batches.

    Parameters
    ----------
    model : a :class:`~mitkit.model.MitNet`; it is not modified.
    dataset : a :class:`~mitkit.training.mixtures.MixtureDataset`; items ``first_item …`` are used, in order.

    Returns
    -------
    (model_copy in eval mode, list of the total loss per step)

    Notebook: 02_training
    """
    from mitkit.training.losses import ONSET_ALPHA, focal_loss

    onset_alpha = ONSET_ALPHA if onset_alpha is None else onset_alpha
    if steps < 1 or batch_size < 1:
        raise MitkitError(f"steps={steps} and batch_size={batch_size} must be >= 1")
    net = copy.deepcopy(model)
    net.train()
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()  # frozen statistics
    params = [p for m in (net.amt, net.amt_norm) for p in m.parameters()]
    for p in net.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=lr)
    items = torch.utils.data.Subset(dataset, range(first_item, first_item + steps * batch_size))
    loader = torch.utils.data.DataLoader(items, batch_size=batch_size, num_workers=0)
    losses = []
    for batch in tqdm(loader, total=steps, disable=not progress, desc=f"α={frame_alpha:g}", leave=False):
        out = net(batch["audio"], with_timbre=False)
        T = batch["frames"].shape[-1]
        Y_F_target = batch["frames"].amax(1)  # (B, 84, T): any instrument sounds
        Y_O_target = batch["onsets"].amax(1)
        loss = (focal_loss(out["frame_logit"][..., :T], Y_F_target, alpha=frame_alpha)
                + focal_loss(out["onset_logit"][..., :T], Y_O_target, alpha=onset_alpha))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        losses.append(float(loss.detach()))
    return net.eval(), losses


def alpha_study(model, train_set, val_set, alphas, *, steps: int = 20, batch_size: int = 4, lr: float = 1e-3,
                n_items: int = 4, show_item: int = 0, thresholds: dict | None = None,
                progress: bool = True) -> dict:
    """The focal-loss weight experiment: from one model, fine-tune a copy per frame weight α on the same
    batches (:func:`finetune_amt`), then measure each on the same validation mixtures.

    Returns
    -------
    dict of α → {"Y_F": posteriorgram ``(84, T)`` of ``val_set[show_item]``, "report":
    :func:`transcription_report`, "losses": per-step training loss}.

    Notebook: 02_training
    """
    from mitkit.inference import predict

    audio = val_set[show_item]["audio"]
    results = {}
    for a in tqdm(list(alphas), disable=not progress, desc="α study"):
        net, losses = finetune_amt(model, train_set, frame_alpha=float(a), steps=steps, batch_size=batch_size,
                                   lr=lr, progress=progress)
        results[a] = {"Y_F": predict(net, audio, with_timbre=False).frames,
                      "report": transcription_report(net, val_set, n_items=n_items, thresholds=thresholds),
                      "losses": losses}
    return results


def threshold_sweep(model, dataset, thresholds=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7), *, n_items: int = 4,
                    onset_threshold: float = 0.5) -> dict:
    """Exercise 02.2: mean frame and note F1 over the first ``n_items`` mixtures for each frame threshold.

    The network runs once per mixture; only note creation is repeated per threshold.

    Returns
    -------
    dict of frame threshold → {"frame_f1", "note_f1"}.

    Notebook: 02_training
    """
    from mitkit.inference import predict

    model.eval()
    posts = []
    for i in range(min(n_items, len(dataset))):
        item = dataset[i]
        post = predict(model, item["audio"], with_timbre=False)
        posts.append((reference_notes(item), post.frames, post.onsets))
    out = {}
    for th in thresholds:
        rows = [_score(ref, Y_F, Y_O, {"frame_threshold": th, "onset_threshold": onset_threshold})[0]
                for ref, Y_F, Y_O in posts]
        out[th] = {k: float(np.mean([r[k] for r in rows])) for k in ("frame_f1", "note_f1")}
    return out


def gain_sensitivity(model, audio, gains=(0.1, 10.0)) -> dict:
    """Exercise 02.3: how far the frame posteriorgram Y_F moves when the input is scaled by each gain.

    EnergyNorm divides by the clip's own σ, so only the bins near the ``ε`` floor (faint partials, reverb
    tails, silence) look different to the network after scaling.

    Returns
    -------
    dict of gain → {"mean": mean |ΔY_F|, "max": max |ΔY_F|, "changed": share of bins whose side of 0.5
    changed}.

    Notebook: 02_training
    """
    from mitkit.inference import predict

    model.eval()
    x = np.asarray(audio, np.float32)
    ref = predict(model, x, with_timbre=False).frames
    out = {}
    for g in gains:
        Y = predict(model, x * float(g), with_timbre=False).frames
        d = np.abs(Y - ref)
        out[g] = {"mean": float(d.mean()), "max": float(d.max()), "changed": float(np.mean((Y > 0.5) != (ref > 0.5)))}
    return out


def check_focal_optimum(yours) -> bool:
    """Exercise 1: your ``focal_optimum(prior, alpha, gamma)`` (the p* that minimises the expected focal
    loss) against the solution, to 0.005, for γ = 0 and 1."""
    from solutions.checks import check_answer
    cases = [(prior, alpha, gamma) for gamma in (0.0, 1.0) for prior in (0.05, 0.1) for alpha in (0.2, 0.8)]
    return check_answer(yours, lambda *a: focal_optimum(*a, n=20_001), cases, atol=0.005,
                        labels=[f"π = {p}, α = {a}, γ = {g:g}" for p, a, g in cases])
