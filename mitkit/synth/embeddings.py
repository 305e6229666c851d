"""Synthetic note embeddings (von Mises–Fisher clusters on the unit sphere), for studying clustering and
the instrument count without audio.

Notebook: 03_embeddings_and_clustering
"""
from __future__ import annotations

import numpy as np

from mitkit.constants import EMBEDDING_DIM
from mitkit.embeddings import EPS


# ---------------------------------------------------------------------------------------------
# synthetic embeddings (tests, scripts/auto_k_study.py, notebook 03)
# ---------------------------------------------------------------------------------------------
def sample_vmf(mu, kappa: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` unit vectors from a von Mises–Fisher distribution (Wood's 1994 algorithm).

    Parameters
    ----------
    mu : array_like, shape (D,)
        Mean direction (normalised here), D >= 2.
    kappa : float > 0
        Concentration: the density is proportional to ``exp(kappa * mu·x)``. In 12 dimensions the
        mean cosine to ``mu`` is ≈ 0.58 for kappa = 10, 0.76 for 20, 0.90 for 50.
    n : int >= 0
    rng : np.random.Generator

    Returns
    -------
    np.ndarray, shape (n, D), float64, unit rows
    """
    mu = np.asarray(mu, dtype=np.float64)
    mu = mu / np.linalg.norm(mu)
    d = mu.size
    b = (d - 1) / (2 * kappa + np.sqrt(4 * kappa ** 2 + (d - 1) ** 2))
    x0 = (1 - b) / (1 + b)
    c = kappa * x0 + (d - 1) * np.log(1 - x0 ** 2)
    w = np.empty(n)
    filled = 0
    while filled < n:  # rejection sampling of the cosine w = mu·x
        m = 2 * (n - filled)
        z = rng.beta((d - 1) / 2, (d - 1) / 2, size=m)
        cand = (1 - (1 + b) * z) / (1 - (1 - b) * z)
        ok = kappa * cand + (d - 1) * np.log(1 - x0 * cand) - c >= np.log(rng.random(m))
        take = cand[ok][: n - filled]
        w[filled:filled + take.size] = take
        filled += take.size
    v = rng.standard_normal((n, d))  # a uniform direction orthogonal to mu
    v -= np.outer(v @ mu, mu)
    v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), EPS)
    return w[:, None] * mu[None] + np.sqrt(np.clip(1 - w ** 2, 0, None))[:, None] * v


def make_synthetic_embeddings(sizes, kappa: float, *, dim: int = EMBEDDING_DIM,
                              max_mean_cos: float = 0.5, outliers: float = 0.0,
                              drift: float = 0.0, random_state=0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic note embeddings: one von Mises–Fisher cluster per instrument.

    Cluster means are random unit vectors, redrawn until no two have a cosine above
    ``max_mean_cos``. ``drift`` elongates each cluster along a random direction (as a timbre that
    changes with register would); ``outliers`` adds that fraction of uniformly random unit vectors
    (label -1), like notes whose embedding is a mixture of two instruments.

    Parameters
    ----------
    sizes : sequence of int
        Number of notes per cluster (K = len(sizes)).
    kappa : float > 0
        vMF concentration of every cluster (see :func:`sample_vmf`).
    dim : int, default EMBEDDING_DIM (12)
    max_mean_cos : float, default 0.5
    outliers : float in [0, 1), default 0
    drift : float >= 0, default 0
        Each vector moves by ``drift · u · s`` with s ~ U(-1, 1) along its cluster's random unit
        direction u, then is renormalised.
    random_state : int or np.random.Generator, default 0

    Returns
    -------
    E : np.ndarray, shape (N, dim), unit rows
    y : np.ndarray, shape (N,), int
        True cluster of each row (0..K-1), -1 for outliers.

    Notebook: 03_embeddings_and_clustering
    """
    rng = np.random.default_rng(random_state)
    sizes = [int(s) for s in sizes]
    K = len(sizes)
    for _ in range(10_000):
        mus = rng.standard_normal((K, dim))
        mus /= np.linalg.norm(mus, axis=1, keepdims=True)
        G = mus @ mus.T - 2 * np.eye(K)
        if K < 2 or G.max() <= max_mean_cos:
            break
    parts, labels = [], []
    for k, n in enumerate(sizes):
        X = sample_vmf(mus[k], kappa, n, rng)
        if drift > 0:
            u = rng.standard_normal(dim)
            X = X + drift * rng.uniform(-1, 1, (n, 1)) * (u / np.linalg.norm(u))[None]
            X /= np.linalg.norm(X, axis=1, keepdims=True)
        parts.append(X)
        labels.append(np.full(n, k))
    n_out = int(round(outliers * sum(sizes)))
    if n_out:
        X = rng.standard_normal((n_out, dim))
        parts.append(X / np.linalg.norm(X, axis=1, keepdims=True))
        labels.append(np.full(n_out, -1))
    E = np.concatenate(parts) if parts else np.zeros((0, dim))
    y = np.concatenate(labels).astype(np.int64) if labels else np.zeros(0, np.int64)
    return E, y
