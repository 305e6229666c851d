"""The synthetic embeddings that the clustering and count tests (and notebook 03) stand on: the von Mises–Fisher
sampler against its exact distribution, and the generator's clusters, outliers, drift and seeds.

A wrong sampler would not fail the clustering tests (well separated clusters are clustered right anyway):
the mutation run of the eleventh session found it; these tests pin what the docstrings promise.
"""
import numpy as np
import pytest
from scipy import integrate, special

from mitkit.synth.embeddings import make_synthetic_embeddings, sample_vmf


def vmf_mean_cosine(kappa: float, d: int) -> float:
    """E[mu·x] under vMF(mu, kappa) on the sphere in R^d: I_{d/2}(kappa) / I_{d/2-1}(kappa)."""
    return float(special.ive(d / 2, kappa) / special.ive(d / 2 - 1, kappa))


def cosine_cdf(kappa: float, d: int):
    """The CDF of w = mu·x: density proportional to exp(kappa w) (1 - w^2)^((d-3)/2) on [-1, 1]."""
    grid = np.linspace(-1, 1, 20001)
    density = np.exp(kappa * (grid - 1)) * np.clip(1 - grid ** 2, 0, None) ** ((d - 3) / 2)
    cdf = integrate.cumulative_trapezoid(density, grid, initial=0)
    return lambda w: np.interp(w, grid, cdf / cdf[-1])


def unit_cluster_means(E, y, K: int) -> np.ndarray:
    """The mean direction (unit row) of each cluster 0 … K-1."""
    means = np.array([E[y == k].mean(axis=0) for k in range(K)])
    return means / np.linalg.norm(means, axis=1, keepdims=True)


@pytest.mark.parametrize("kappa,d", [(10, 12), (20, 12), (50, 12), (5, 3), (30, 6)])
def test_vmf_cosines_follow_the_exact_distribution(kappa, d):
    rng = np.random.default_rng(kappa + d)
    mu = rng.standard_normal(d)
    X = sample_vmf(3.0 * mu, kappa, 20000, rng)  # mu need not be unit: it is normalised
    assert X.shape == (20000, d) and X.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-12)
    w = X @ (mu / np.linalg.norm(mu))
    assert abs(w.mean() - vmf_mean_cosine(kappa, d)) < 0.005
    ws = np.sort(w)
    ks = np.max(np.abs(cosine_cdf(kappa, d)(ws) - np.arange(1, w.size + 1) / w.size))
    assert ks < 0.015, f"Kolmogorov–Smirnov distance {ks:.4f} to the exact vMF cosine distribution"


def test_vmf_documented_mean_cosines():
    """The docstring's figures for 12 dimensions (0.58, 0.76, 0.90 for kappa 10, 20, 50)."""
    rng = np.random.default_rng(0)
    for kappa, expected in ((10, 0.58), (20, 0.76), (50, 0.90)):
        mu = np.eye(12)[0]
        assert abs(sample_vmf(mu, kappa, 20000, rng)[:, 0].mean() - expected) < 0.01


def test_vmf_directions_around_the_mean_are_uniform():
    """The part orthogonal to mu points every way alike: mean 0, second moment (I - mu mu^T) / (d - 1)."""
    d, rng = 8, np.random.default_rng(1)
    mu = np.eye(d)[2]
    X = sample_vmf(mu, 15, 40000, rng)
    residual = X - np.outer(X @ mu, mu)
    u = residual / np.linalg.norm(residual, axis=1, keepdims=True)
    np.testing.assert_allclose(u @ mu, 0, atol=1e-12)
    assert np.linalg.norm(u.mean(axis=0)) < 0.02
    np.testing.assert_allclose(u.T @ u / len(u), (np.eye(d) - np.outer(mu, mu)) / (d - 1), atol=0.01)


def test_vmf_edge_cases_and_seeds():
    mu = np.ones(5)
    assert sample_vmf(mu, 10, 0, np.random.default_rng(0)).shape == (0, 5)
    one = sample_vmf(mu, 10, 1, np.random.default_rng(0))
    assert one.shape == (1, 5) and abs(np.linalg.norm(one) - 1) < 1e-12
    a = sample_vmf(mu, 10, 50, np.random.default_rng(7))
    b = sample_vmf(mu, 10, 50, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, sample_vmf(mu, 10, 50, np.random.default_rng(8)))
    # very concentrated: every draw next to mu
    assert (sample_vmf(mu, 1e4, 200, np.random.default_rng(0)) @ (mu / np.linalg.norm(mu))).min() > 0.99


def test_embeddings_sizes_labels_and_outliers():
    E, y = make_synthetic_embeddings([30, 5, 12], kappa=40, outliers=0.1, random_state=3)
    n_out = round(0.1 * 47)
    assert E.shape == (47 + n_out, 12) and y.dtype == np.int64
    np.testing.assert_array_equal(y, [0] * 30 + [1] * 5 + [2] * 12 + [-1] * n_out)
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, atol=1e-12)
    # outliers are uniform on the sphere: far from every cluster's mean on average
    means = unit_cluster_means(E, y, 3)
    assert (E[y == -1] @ means.T).max(axis=1).mean() < 0.6
    assert (E[y == 0] @ means[0]).mean() > 0.8


def test_embeddings_dimension_seed_and_generator():
    E, y = make_synthetic_embeddings([4, 6], kappa=20, dim=5, random_state=11)
    assert E.shape == (10, 5) and y.tolist() == [0] * 4 + [1] * 6
    E2, _ = make_synthetic_embeddings([4, 6], kappa=20, dim=5, random_state=np.random.default_rng(11))
    np.testing.assert_array_equal(E, E2)  # an int seed and a Generator from it give the same draw
    E3, _ = make_synthetic_embeddings([4, 6], kappa=20, dim=5, random_state=12)
    assert not np.allclose(E, E3)
    E0, y0 = make_synthetic_embeddings([], kappa=20)
    assert E0.shape == (0, 12) and y0.shape == (0,) and y0.dtype == np.int64


def test_embeddings_concentration_follows_kappa():
    for kappa in (10, 50):
        E, y = make_synthetic_embeddings([4000], kappa=kappa, random_state=0)
        mean = E.mean(axis=0)
        assert abs((E @ (mean / np.linalg.norm(mean))).mean() - vmf_mean_cosine(kappa, 12)) < 0.01


@pytest.mark.parametrize("max_mean_cos", [0.0, 0.3, 0.5])
def test_cluster_means_are_at_most_max_mean_cos_apart(max_mean_cos):
    for seed in range(5):
        E, y = make_synthetic_embeddings([800] * 4, kappa=200, max_mean_cos=max_mean_cos, random_state=seed)
        means = unit_cluster_means(E, y, 4)
        G = means @ means.T - 2 * np.eye(4)
        assert G.max() <= max_mean_cos + 0.02  # the estimated means of 800 tight draws


def test_drift_stretches_each_cluster_along_one_direction():
    def stretch(drift):
        E, y = make_synthetic_embeddings([3000, 3000], kappa=100, drift=drift, random_state=5)
        shares = []
        for k in (0, 1):
            X = E[y == k] - E[y == k].mean(axis=0)
            s = np.linalg.svd(X, compute_uv=False) ** 2
            shares.append(s[0] / s.sum())
        return np.array(shares), E

    flat, E_flat = stretch(0.0)
    long, E_long = stretch(0.5)
    assert (flat < 0.15).all()  # isotropic: 11 tangent directions share the spread
    assert (long > 0.35).all()  # one direction dominates
    np.testing.assert_allclose(np.linalg.norm(E_long, axis=1), 1.0, atol=1e-12)
