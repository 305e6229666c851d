"""How well does ``mitkit.instrument_count.estimate_n_clusters`` recover the number of instruments?

Synthetic note embeddings: K von Mises–Fisher clusters on the 12-d unit sphere (cluster means at
cosine <= 0.5), K = 1..6, concentration kappa from tight (100) to heavily overlapping (10),
balanced sizes or imbalanced ones (Dirichlet(1) proportions + 5 % floor, at least 5 notes).
Prints the fraction of data sets where the estimate equals K, for mitkit's rule and, side by side,
for the classic eigengap rule (largest gap among the first eigenvalues of the same Laplacian).
A second table repeats the imbalanced case with 5 % outlier notes (uniform on the sphere) and
with clusters elongated along a random direction (``drift``), as a timbre that changes with
register would.

Usage::

    python scripts/auto_k_study.py            # ≈ 4–6 min on 2 shared cores
    python scripts/auto_k_study.py --reps 4   # quicker, noisier
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from mitkit.instrument_count import estimate_n_clusters
from mitkit.synth.embeddings import make_synthetic_embeddings

KAPPAS = (100, 50, 30, 20, 15, 10)
KS = (1, 2, 3, 4, 5, 6)


def mean_cosine_to_centre(kappa: float, dim: int = 12, n: int = 4000) -> float:
    """Mean cosine between a vMF sample and its mean direction (a readable measure of spread)."""
    E, _ = make_synthetic_embeddings([n], kappa, dim=dim, random_state=123)
    centre = E.mean(axis=0)
    return float((E @ (centre / np.linalg.norm(centre))).mean())


def cluster_sizes(K: int, n_notes: int, balanced: bool, rng: np.random.Generator) -> list[int]:
    if balanced:
        w = np.ones(K) / K
    else:
        w = rng.dirichlet(np.ones(K)) + 0.05
        w /= w.sum()
    return [max(5, int(round(x * n_notes))) for x in w]


def eigengap_estimate(details: dict, max_clusters: int) -> int:
    """Classic rule on the same eigenvalues: argmax_k (λ_{k+1} - λ_k), k = 1..k_max."""
    lam = details.get("eigenvalues")
    if lam is None:
        return 1
    k_max = min(max_clusters, details["n_points"] // 3)
    return int(np.argmax(np.diff(lam[:k_max + 1]))) + 1


def run(reps: int, n_notes: int, seed: int, outliers: float = 0.0, drift: float = 0.0,
        balances=(True, False), kappas=KAPPAS):
    """Return {(balanced, kappa, K): (mitkit hits, eigengap hits)} lists of booleans."""
    rng = np.random.default_rng(seed)
    hits = {}
    for balanced in balances:
        for kappa in kappas:
            for K in KS:
                for _ in range(reps):
                    sizes = cluster_sizes(K, n_notes, balanced, rng)
                    E, _ = make_synthetic_embeddings(sizes, kappa, outliers=outliers, drift=drift,
                                                     random_state=rng.integers(2 ** 32))
                    k_hat, details = estimate_n_clusters(E, return_details=True)
                    h = hits.setdefault((balanced, kappa, K), ([], []))
                    h[0].append(k_hat == K)
                    h[1].append(eigengap_estimate(details, 8) == K)
    return hits


def print_table(title: str, hits: dict, balances, kappas, spreads: dict) -> None:
    print(f"\n{title}")
    print("accuracy of mitkit's rule (in brackets: classic eigengap on the same Laplacian)")
    header = (f"{'sizes':10s} {'kappa':>5s} {'cos':>5s} | "
              + " ".join(f"{'K=' + str(k):>11s}" for k in KS))
    print(header + f" | {'all':>11s}")
    print("-" * len(header) + "-" * 14)
    for balanced in balances:
        for kappa in kappas:
            row, all_m, all_g = [], [], []
            for K in KS:
                m, g = hits[(balanced, kappa, K)]
                all_m += m
                all_g += g
                row.append(f"{np.mean(m):.2f} ({np.mean(g):.2f})")
            name = "balanced" if balanced else "imbalanced"
            total = f"{np.mean(all_m):.2f} ({np.mean(all_g):.2f})"
            print(f"{name:10s} {kappa:5d} {spreads[kappa]:5.2f} | " + " ".join(row) + f" | {total}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=10, help="data sets per cell (default 10)")
    parser.add_argument("--n-notes", type=int, default=300, help="notes per data set (default 300)")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    spreads = {k: mean_cosine_to_centre(k) for k in KAPPAS}
    print(f"auto-K study: {args.n_notes} notes per data set, {args.reps} data sets per cell, "
          f"12-d vMF clusters, means at cosine <= 0.5")
    print("cos = mean cosine between a note embedding and its cluster's mean direction")
    hits = run(args.reps, args.n_notes, args.seed)
    print_table("Table 1: clean clusters", hits, (True, False), KAPPAS, spreads)
    robust_kappas = (50, 30, 20)
    reps2 = max(1, args.reps // 2)
    for name, kw in [("5 % outlier notes", {"outliers": 0.05}),
                     ("elongated clusters (drift 0.3)", {"drift": 0.3}),
                     ("strongly elongated clusters (drift 0.6)", {"drift": 0.6})]:
        h = run(reps2, args.n_notes, args.seed + 1, balances=(False,), kappas=robust_kappas, **kw)
        print_table(f"Table 2: imbalanced, {name}", h, (False,), robust_kappas, spreads)
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
