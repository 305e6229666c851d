"""Scratch (issue 13, separation): is there a linear map of the 12-d note embeddings under which the parts of a
mix lie further apart? If so it folds into the timbre head (normalize(W·head) = normalize(W·normalize(head))).
Fitted on the found notes of the train-split count and chorale mixes (each labelled with the reference part that
sounds its pitch at its onset), judged by separation F1 at the true K on the validation caches (K given, no
classifier, so no voice leading: the timbre clustering alone).

    python runs/s36/metric.py
"""
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy.linalg
import torch

sys.path.insert(0, "scripts")
warnings.simplefilter("ignore")
from count_study import transcribe_all  # noqa: E402
from mitkit.clustering import cluster_notes  # noqa: E402
from mitkit.evaluation.benchmarks import load_benchmark  # noqa: E402
from mitkit.evaluation.metrics import separation_metrics  # noqa: E402
from mitkit.notes import notes_to_seconds  # noqa: E402

CACHE = Path("runs/s34/count-cache")
TRAIN = ["count-train", "count-train2", "count-train3", "chorale-train-a", "chorale-train-b", "chorale-train-c"]
CHECK = ["count-val", "count-val-OPL3_FM", "count-val-csound_GM", "chorale-val"]
SLACK = 0.05


def data_of(name):
    return transcribe_all(load_benchmark(f"data/{name}"), None, CACHE / f"{name}.npz")


def part_labels(mix, notes):
    """Index of the one reference part sounding each found note's pitch at its onset, -1 if none or several."""
    table = notes_to_seconds(notes)
    out = np.full(len(notes), -1)
    for i, row in enumerate(table):
        hits = [k for k, p in enumerate(mix.parts)
                if np.any((p[:, 2] == row[2]) & (p[:, 0] - SLACK <= row[0]) & (row[0] < p[:, 1]))]
        if len(hits) == 1:
            out[i] = hits[0]
    return out


def training_sets():
    sets = []
    for name in TRAIN:
        for mix, notes, E in data_of(name):
            if len(mix.parts) < 2 or len(notes) < 10:
                continue
            y = part_labels(mix, notes)
            keep = y >= 0
            if len(set(y[keep])) >= 2:
                sets.append((E[keep].astype(np.float32), y[keep]))
    return sets


def lda_map(sets, shrink):
    """Within-mix LDA: between-part scatter over within-part scatter, both pooled over mixes."""
    D = sets[0][0].shape[1]
    Sw, Sb = np.zeros((D, D)), np.zeros((D, D))
    for E, y in sets:
        mu = E.mean(0)
        for k in np.unique(y):
            Ek = E[y == k]
            mk = Ek.mean(0)
            Sw += (Ek - mk).T @ (Ek - mk)
            Sb += len(Ek) * np.outer(mk - mu, mk - mu)
    Sw = (1 - shrink) * Sw + shrink * np.trace(Sw) / D * np.eye(D)
    vals, vecs = scipy.linalg.eigh(Sb, Sw)  # the generalised eigenproblem Sb v = λ Sw v
    return vecs * np.sqrt(np.maximum(vals, 1e-6))[None, :]  # directions weighted by their ratio


def contrastive_map(sets, steps=1500, tau=0.2, seed=0):
    """A 12x12 map trained with supervised InfoNCE inside each mix (same part = positive)."""
    g = torch.Generator().manual_seed(seed)
    W = torch.nn.Parameter(torch.eye(12))
    opt = torch.optim.Adam([W], lr=1e-2)
    tensors = [(torch.from_numpy(E), torch.from_numpy(y)) for E, y in sets]
    for step in range(steps):
        loss = 0.0
        for j in torch.randint(len(tensors), (16,), generator=g).tolist():
            E, y = tensors[j]
            if len(E) > 256:
                idx = torch.randperm(len(E), generator=g)[:256]
                E, y = E[idx], y[idx]
            Z = torch.nn.functional.normalize(E @ W.T, dim=1)
            S = Z @ Z.T / tau
            S.fill_diagonal_(-1e9)
            pos = (y[:, None] == y[None, :]) & ~torch.eye(len(y), dtype=torch.bool)
            logp = S - torch.logsumexp(S, 1, keepdim=True)
            has = pos.any(1)
            loss = loss + -(logp.masked_fill(~pos, 0).sum(1)[has] / pos.sum(1)[has]).mean()
        opt.zero_grad()
        (loss / 16).backward()
        opt.step()
        if step % 500 == 0:
            print(f"  step {step} loss {float(loss) / 16:.4f}", flush=True)
    return W.detach().numpy().T  # E @ map


def separation(name, transform, temps):
    scores = {t: [] for t in temps}
    for mix, notes, E in data_of(name):
        K = len(mix.parts)
        if K < 2 or len(notes) <= K:
            continue
        Z = E @ transform
        Z /= np.linalg.norm(Z, axis=1, keepdims=True) + 1e-12
        est = notes_to_seconds(notes)
        for t in temps:
            labels = cluster_notes(Z, K, pitches=notes["pitch"], amplitudes=notes["amplitude"], temperature=t)
            scores[t].append(separation_metrics(mix.parts, [est[labels == j] for j in range(K)])["separation_f1"])
    return {t: float(np.mean(v)) for t, v in scores.items()}


if __name__ == "__main__":
    sets = training_sets()
    print(f"{len(sets)} training mixes, {sum(len(y) for _, y in sets)} labelled notes", flush=True)
    maps = {"identity": np.eye(12)}
    for shrink in (0.1, 0.5):
        maps[f"lda shrink {shrink}"] = lda_map(sets, shrink)
    maps["contrastive"] = contrastive_map(sets)
    np.savez("runs/s36/metric_maps.npz", **{k.replace(" ", "_"): v for k, v in maps.items()})
    temps = (0.1, 0.2, 0.5)
    for label, M in maps.items():
        row = [f"{label:18}"]
        for name in CHECK:
            s = separation(name, M, temps)
            row.append(f"{name[10:] or name}: " + "/".join(f"{s[t]:.3f}" for t in temps))
        print("  ".join(row), flush=True)
