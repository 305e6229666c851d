"""Tests written to kill surviving mutants of `mutmut run` (README.md, "Mutation testing") in
mitkit.instrument_count (estimate_n_clusters and its helpers) and mitkit.clustering: each pins a behaviour
(a threshold of the eigenvalue rule, a detail reported, a dtype, a default, a log line, an error message)
the other unit tests left open. Hand-computed cases where they exist; all fast."""
import dataclasses
import logging
import warnings

import numpy as np
import pytest

from mitkit import clustering
from mitkit import instrument_count as ic
from mitkit.clustering import cluster_frames, cluster_notes, notes_from_frame_clusters, order_labels_by_pitch
from mitkit.constants import EMBEDDING_DIM, N_PITCHES
from mitkit.embeddings import affinity_matrix
from mitkit.errors import MitkitError
from mitkit.instrument_count import (
    AUTO_K_MAX_POINTS,
    InstrumentCount,
    _silhouette,
    count_voices,
    estimate_n_clusters,
    sounding_counts,
)
from mitkit.notes import NOTE_DTYPE
from mitkit.synth.embeddings import make_synthetic_embeddings, sample_vmf


def groups(*sizes, dim=EMBEDDING_DIM):
    """Unit embeddings: ``sizes[g]`` identical copies of the g-th basis vector (groups at cosine 0)."""
    return np.eye(dim)[np.repeat(np.arange(len(sizes)), sizes)]


# ---- _silhouette -------------------------------------------------------------------------------------------

def test_silhouette_by_hand():
    # points 0, 1, 4, 6, 10 on a line, clusters {0, 1}, {4, 6}, {10}:
    # s = (b - a) / max(a, b) = 4/5, 3/4, 1.5/3.5, 2/4 and 0 for the point alone in its cluster
    x = np.array([0.0, 1.0, 4.0, 6.0, 10.0])
    Dist = np.abs(x[:, None] - x[None])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecated NumPy call on the way
        assert _silhouette(Dist, np.array([7, 7, 3, 3, 9])) == pytest.approx(347 / 700, abs=1e-15)
        # every distance 0: b - a = 0 over a tiny positive number, not 0 / 0
        assert _silhouette(np.zeros((4, 4)), np.array([0, 0, 1, 1])) == 0.0


# ---- estimate_n_clusters ---------------------------------------------------------------------------------

def test_fewer_than_six_notes_count_one_without_a_spectrum():
    # k_max = N // 3: 5 notes allow no split (only n_points is reported), 6 notes in two groups of 3 do
    assert estimate_n_clusters(groups(3, 2), return_details=True) == (1, {"n_points": 5})
    assert estimate_n_clusters(groups(3, 3)) == 2
    assert estimate_n_clusters(groups(2, 2, 2)) == 2  # 6 notes: at most k_max = 2 groups ...
    assert estimate_n_clusters(groups(3, 3, 3)) == 3  # ... 9 notes: 3


def test_eigenvalues_and_silhouettes_of_orthogonal_groups_by_hand(caplog):
    """Three groups of 8 identical notes, the groups at cosine 0: the sharpened affinity is 1 inside a group
    and eps = exp(-1 / 0.2) between groups. With degree d = 7 + 16 eps the normalised Laplacian has the
    eigenvalues 0, 24 eps / d (twice) and 1 + 1 / d (21 times)."""
    eps = np.exp(-5.0)
    d = 7 + 16 * eps
    with caplog.at_level(logging.DEBUG, logger="mitkit.instrument_count"):
        K, details = estimate_n_clusters(groups(8, 8, 8), return_details=True)
    assert K == 3
    lam = details["eigenvalues"]
    assert lam.shape == (8 + 1 + 8,)  # k_max = min(8, 24 // 3) = 8: k_max + 1 eigenvalues and 8 for the bulk
    np.testing.assert_allclose(lam, [0, 24 * eps / d, 24 * eps / d] + [1 + 1 / d] * 14, atol=1e-12)
    assert details["bulk"] == pytest.approx(1 + 1 / d, abs=1e-12)
    assert details["k_bulk"] == 3 and details["n_points"] == 24
    # k = 2 merges two groups: their points have a = 8/15 (8 of their 15 neighbours are at distance 1), b = 1;
    # k = 3: a = 0, b = 1
    assert details["silhouettes"] == pytest.approx({2: (16 * 7 / 15 + 8) / 24, 3: 1.0}, abs=1e-12)
    assert caplog.messages == [f"estimate_n_clusters: N=24 bulk={1 + 1 / d:.3f} K_bulk=3 "
                               f"silhouettes={details['silhouettes']} -> K=3"]


def _spectrum(monkeypatch, lam, U):
    """Make estimate_n_clusters see the normalised-Laplacian eigenvalues ``lam`` and embedding ``U``."""
    lam, U = np.asarray(lam, float), np.asarray(U, float)

    def fake(W, n):
        n = min(n, len(W))
        return lam[:n], U[:, :n]

    monkeypatch.setattr(ic, "spectral_embedding", fake)


def _indicators(*members, n=12):
    """(n, n) embedding whose first columns indicate the given index sets (the rest 0)."""
    U = np.zeros((n, n))
    for j, rows in enumerate(members):
        U[rows, j] = 1.0
    return U


THREE = (range(0, 4), range(4, 8), range(8, 12))
BULK = [0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2, 1.25]  # median 1.075


@pytest.mark.parametrize("lam, K, k_bulk, bulk", [
    # bulk = median of the 8 eigenvalues after the first k_max + 1 = 4; all 4 are below 0.75 * bulk = 0.806
    # (K_bulk clipped to k_max = 3; 0.72 and 0.76 are not below 0.75 / bulk), lam_2 deep: silhouettes decide
    ([0, 0.05, 0.72, 0.76] + BULK, 3, 3, 1.075),
    # lam_2 = 0.45 <= 0.5 * bulk: no veto, although the first gap is the largest
    ([0, 0.45, 0.55, 0.6] + [1.0] * 8, 3, 3, 1.0),
    # lam_2 exactly 0.5 * bulk: not above it, no veto
    ([0, 0.5, 0.55, 0.6] + [1.0] * 8, 3, 3, 1.0),
    ([0, 0.5, 0.55, 0.6] + [1.2] * 8, 3, 3, 1.2),  # 0.5 < 0.5 * 1.2
    # lam_2 = 0.6 > 0.5 * bulk and the first gap the largest: one elongated instrument
    ([0, 0.6, 0.65, 0.7] + [1.0] * 8, 1, 3, 1.0),
    ([0, 0.6, 0.8, 0.9] + [1.0] * 8, 1, 2, 1.0),  # the same with K_bulk = 2 (one gap after the first)
    # a single eigenvalue below 0.75 * bulk: no cluster structure
    ([0, 0.9, 0.95, 1.0] + [1.0] * 8, 1, 1, 1.0),
])
def test_eigenvalue_rule_on_a_given_spectrum(monkeypatch, lam, K, k_bulk, bulk):
    """12 notes in three orthogonal groups of 4, max_clusters=3 (k_max = 3, 12 eigenvalues); the spectral
    embedding indicates the groups, so cluster-QR on 2 columns merges groups 0 and 2 (silhouette: 8 points
    with a = 4/7, b = 1 and 4 with a = 0, b = 1: 13/21) and on 3 columns finds them (silhouette 1)."""
    _spectrum(monkeypatch, lam, _indicators(*THREE))
    got, details = estimate_n_clusters(groups(4, 4, 4), max_clusters=3, return_details=True)
    assert got == K
    assert details["bulk"] == pytest.approx(bulk, abs=1e-12) and details["k_bulk"] == k_bulk
    np.testing.assert_array_equal(details["eigenvalues"], lam)
    expected = {} if K == 1 else {2: 13 / 21, 3: 1.0}
    assert details["silhouettes"] == pytest.approx(expected, abs=1e-12)


def test_silhouette_removes_a_group_the_eigenvalues_proposed(monkeypatch):
    """Two groups of 6, but three small eigenvalues: the third column of the embedding splits group 1 in
    halves, whose points then have a = 0 and b = 0 (silhouette 0) against 1 for group 0: the silhouettes
    1 (k=2) and 1/2 (k=3) give K = 2."""
    _spectrum(monkeypatch, [0, 0.05, 0.1, 0.76] + BULK, _indicators(range(0, 6), range(6, 12), range(6, 9)))
    K, details = estimate_n_clusters(groups(6, 6), max_clusters=3, return_details=True)
    assert (K, details["k_bulk"]) == (2, 3)
    assert details["silhouettes"] == pytest.approx({2: 1.0, 3: 0.5}, abs=1e-12)


def test_precomputed_affinity_is_detected_in_any_float_precision():
    E, _ = make_synthetic_embeddings([20, 20, 20], kappa=60, random_state=2)
    A = affinity_matrix(E)
    k, from_e = estimate_n_clusters(E, return_details=True)
    k32, from_a32 = estimate_n_clusters(A.astype(np.float32), return_details=True)
    assert k == k32 == 3
    np.testing.assert_allclose(from_a32["eigenvalues"], from_e["eigenvalues"], atol=1e-5)


def test_square_arrays_that_are_not_an_affinity_are_embeddings():
    # symmetric, e on the diagonal, but one pair 0 (not > 0): 12 embeddings in 12 dimensions, not an affinity
    X = np.full((12, 12), 0.5) + (np.e - 0.5) * np.eye(12)
    X[0, 1] = X[1, 0] = 0.0
    k, details = estimate_n_clusters(X, return_details=True)
    k_e, as_embeddings = estimate_n_clusters(X, precomputed=False, return_details=True)
    assert k == k_e and details["k_bulk"] == as_embeddings["k_bulk"]
    np.testing.assert_array_equal(details["eigenvalues"], as_embeddings["eigenvalues"])
    with pytest.raises(MitkitError, match=r"^E \(an affinity exp\(cos\)\) must be finite and positive$"):
        estimate_n_clusters(X, precomputed=True)
    with pytest.raises(MitkitError, match=r"E.dtype=object must be a real number type"):
        estimate_n_clusters(np.array([[np.e, 1.0], [1.0, np.e]], dtype=object))
    with pytest.raises(MitkitError, match=r"E.shape=\(0, 0\) must be \(N, D\)"):
        estimate_n_clusters(np.zeros((0, 0)))  # an empty square array is no affinity either


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_an_affinity_must_be_finite_and_positive(bad):
    A = affinity_matrix(groups(4, 4))
    A[2, 5] = A[5, 2] = bad
    with pytest.raises(MitkitError, match=r"^E \(an affinity exp\(cos\)\) must be finite and positive$"):
        estimate_n_clusters(A, precomputed=True)


def test_affinity_values_beyond_exp_of_plus_minus_one_read_as_cosine_plus_minus_one():
    rng = np.random.default_rng(0)
    mu = np.eye(EMBEDDING_DIM)
    E = np.vstack([sample_vmf(mu[0], 100, 15, rng), sample_vmf(-mu[0], 100, 15, rng), sample_vmf(mu[1], 100, 15, rng)])
    A = affinity_matrix(E)
    low, high = A < np.exp(-0.5), A > np.exp(0.9)  # opposite clusters; close pairs (and the diagonal)
    assert low.any() and (high & ~np.eye(len(E), dtype=bool)).any()
    edge, beyond = A.copy(), A.copy()
    edge[low], edge[high] = np.exp(-1.0), np.exp(1.0)
    beyond[low], beyond[high] = np.exp(-3.0), np.exp(2.0)
    k_edge, at_edge = estimate_n_clusters(edge, precomputed=True, return_details=True)
    k_beyond, past = estimate_n_clusters(beyond, precomputed=True, return_details=True)
    assert k_edge == k_beyond == 3
    np.testing.assert_allclose(past["eigenvalues"], at_edge["eigenvalues"], rtol=0, atol=1e-12)
    assert past["silhouettes"] == pytest.approx(at_edge["silhouettes"], abs=1e-12)


def test_more_notes_than_the_limit_count_on_the_default_seeds_subsample(caplog):
    E, _ = make_synthetic_embeddings([400, 380, 320], kappa=60, random_state=5)
    N = len(E)
    assert N > AUTO_K_MAX_POINTS
    with caplog.at_level(logging.DEBUG, logger="mitkit.instrument_count"):
        K, details = estimate_n_clusters(E, return_details=True)  # random_state=0
    assert details["n_points"] == N and caplog.messages[0].startswith(
        f"estimate_n_clusters: N={AUTO_K_MAX_POINTS} bulk=")
    # the documented subsample: AUTO_K_MAX_POINTS distinct notes drawn with the seed, in their order
    idx = np.sort(np.random.default_rng(0).choice(N, AUTO_K_MAX_POINTS, replace=False))
    K_sub, on_sub = estimate_n_clusters(E[idx], return_details=True)
    assert K == K_sub == 3 and on_sub["n_points"] == AUTO_K_MAX_POINTS
    np.testing.assert_allclose(details["eigenvalues"], on_sub["eigenvalues"], rtol=0, atol=1e-12)
    assert details["silhouettes"] == pytest.approx(on_sub["silhouettes"], abs=1e-12)
    # an affinity is subsampled alike (rows and columns)
    K_a, from_a = estimate_n_clusters(affinity_matrix(E), return_details=True)
    assert K_a == 3 and from_a["n_points"] == N
    np.testing.assert_allclose(from_a["eigenvalues"], details["eigenvalues"], rtol=0, atol=1e-9)


# ---- count_voices, sounding_counts, InstrumentCount.to_dict -------------------------------------------------

def test_count_voices_shares_are_of_the_frames_where_anything_sounds():
    # a second voice in the first 25 (then 30) of 100 sounding frames: 25 % < 30 % -> 1 voice, 30 % -> 2
    quarter = np.array([(0, 100, 60, 0.9), (0, 25, 64, 0.9)], NOTE_DTYPE)
    assert count_voices(quarter) == 1
    assert count_voices(np.array([(0, 100, 60, 0.9), (0, 30, 64, 0.9)], NOTE_DTYPE)) == 2


def test_sounding_counts_are_integers():
    notes = np.array([(2, 5, 60, 0.9), (3, 4, 62, 0.9)], NOTE_DTYPE)
    counts = sounding_counts(notes)
    assert counts.dtype == np.int64 and counts.tolist() == [0, 0, 1, 2, 1]


def test_to_dict_rounds_to_four_decimals():
    d = InstrumentCount(k=2, chord_probability=np.float64(0.123456789),
                        line_shares=[1 / 3, np.float64(2 / 3), 0.5]).to_dict()
    assert d["chord_probability"] == 0.1235 and type(d["chord_probability"]) is float
    assert d["line_shares"] == [0.3333, 0.6667, 0.5] and all(type(x) is float for x in d["line_shares"])


# ---- order_labels_by_pitch, _join_nearest --------------------------------------------------------------------

def test_order_labels_by_pitch_returns_int64_whatever_the_label_type():
    out = order_labels_by_pitch(np.array([4, 4, 1], dtype=np.int32), pitches=[50, 52, 70])
    assert out.dtype == np.int64 and out.tolist() == [1, 1, 0]
    out = order_labels_by_pitch([2.0, 0.0, 2.0, -1.0])  # float labels holding integers
    assert out.dtype == np.int64 and out.tolist() == [0, 1, 0, -1]


def test_join_nearest_with_only_the_last_cluster_present():
    # every kept row is in cluster 1 (cluster 0 empty): rows near it join cluster 1, as int64 labels
    E = np.array([[1.0, 0.0], [0.9, 0.1], [0.8, 0.6], [0.6, -0.8]])
    labels = clustering._join_nearest(E, np.array([0, 1]), np.array([1, 1]), 2)
    assert labels.dtype == np.int64 and labels.tolist() == [1, 1, 1, 1]


# ---- _cluster (cluster_notes, cluster_frames) --------------------------------------------------------------

def test_trivial_clusterings_are_int64():
    assert cluster_notes(np.zeros((0, EMBEDDING_DIM)), 2).dtype == np.int64
    one = cluster_notes(groups(3, 3), 1)
    assert one.dtype == np.int64 and one.tolist() == [0] * 6


def test_auto_count_is_capped_logged_and_seeded(monkeypatch, caplog):
    E, _ = make_synthetic_embeddings([12, 12, 12, 12], kappa=100, random_state=1)
    amplitudes = np.r_[np.full(40, 0.9), np.full(8, 0.2)]
    seeds = []

    def spy(E, max_clusters, random_state):
        seeds.append(random_state)
        return ic.estimate_n_clusters(E, max_clusters=max_clusters, random_state=random_state)

    monkeypatch.setattr(clustering, "estimate_n_clusters", spy)
    with caplog.at_level(logging.INFO, logger="mitkit.clustering"):
        assert set(cluster_notes(E, "auto", amplitudes=amplitudes, random_state=3).tolist()) == {0, 1, 2, 3}
        assert set(cluster_notes(E, "auto", max_clusters=2).tolist()) == {0, 1}  # the cap holds for "auto"
    assert caplog.messages == ["estimated 4 instruments from 40 of 48 notes",
                               "estimated 2 instruments from 48 of 48 notes"]
    assert seeds == [3, 0]


def test_exactly_k_confident_notes_cluster_all_notes():
    """24 confident notes (CORE_MIN_NOTES) and K = 24: too few to leave the weak notes out, so all 30 are
    clustered and the six weak notes of a 24th timbre get a track of their own (two confident notes share one)."""
    D = 24
    E = np.vstack([np.eye(D)[[0, 0]], np.eye(D)[1:23], np.tile(np.eye(D)[23], (6, 1))])
    E += 0.01 * np.random.default_rng(0).standard_normal(E.shape)  # exact copies make LAPACK's eigh fail
    amplitudes = np.r_[np.full(24, 0.9), np.full(6, 0.3)]
    labels = cluster_notes(E, 24, max_clusters=24, amplitudes=amplitudes)
    assert labels[0] == labels[1] and len(set(labels[24:].tolist())) == 1
    assert len(set(labels.tolist())) == 24 and labels[24] not in labels[:24]


def _frame_scene(n_active, T, rng):
    Y_F = np.zeros((N_PITCHES, T), np.float32)
    Y_F.reshape(-1)[:n_active] = 0.9
    V = (rng.standard_normal((EMBEDDING_DIM, N_PITCHES, T)) * rng.uniform(0.1, 10, (1, N_PITCHES, T)))
    return Y_F, V.astype(np.float32)


def test_cluster_frames_clusters_a_seeded_subsample_of_unit_vectors(monkeypatch):
    Y_F, V = _frame_scene(3001, 36, np.random.default_rng(0))
    seen = []
    real = clustering._cluster

    def spy(E, n_clusters, **kw):
        seen.append((np.array(E), kw["random_state"]))
        return real(E, n_clusters, **kw)

    monkeypatch.setattr(clustering, "_cluster", spy)
    ps, ts = np.nonzero(Y_F >= 0.3)
    X = V[:, ps, ts].T.astype(np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    for kw, seed, size in (({}, 0, 3000), ({"random_state": 7, "max_bins": 500}, 7, 500)):
        label_map = cluster_frames(Y_F, V, 1, **kw)  # defaults: max_bins=3000, random_state=0
        assert (label_map[Y_F >= 0.3] == 0).all() and (label_map[Y_F < 0.3] == -1).all()
        E, random_state = seen.pop()
        sub = np.sort(np.random.default_rng(seed).choice(3001, size, replace=False))
        assert random_state == seed
        np.testing.assert_allclose(E, X[sub], rtol=1e-12)  # unit rows, bins in their order


def test_cluster_frames_sends_left_out_bins_to_the_existing_clusters():
    # three bins 120 degrees apart, two drawn: the third points away from their mean, yet with one
    # instrument it is in track 0 (no empty extra cluster to fall into)
    Y_F = np.zeros((N_PITCHES, 3), np.float32)
    Y_F[40] = 0.9
    V = np.zeros((EMBEDDING_DIM, N_PITCHES, 3), np.float32)
    angles = np.deg2rad([0, 120, 240])
    V[0, 40], V[1, 40] = np.cos(angles), np.sin(angles)
    label_map = cluster_frames(Y_F, V, 1, max_bins=2)
    assert label_map[40].tolist() == [0, 0, 0] and (label_map[:40] == -1).all()


def test_cluster_frames_uses_the_papers_affinity(spectral_calls):
    rng = np.random.default_rng(3)
    Y_F = np.zeros((N_PITCHES, 10), np.float32)
    Y_F[[20, 50], 2:8] = 0.9
    V = 0.05 * rng.standard_normal((EMBEDDING_DIM, N_PITCHES, 10)).astype(np.float32)
    V[0, 50] += 1.0
    V[1, 20] += 1.0
    label_map = cluster_frames(Y_F, V, 2, random_state=4)
    assert spectral_calls == [(2, 4, 1.0)]  # temperature 1: exp(cos)
    assert (label_map[50, 2:8] == 0).all() and (label_map[20, 2:8] == 1).all()  # higher pitch first


# ---- notes_from_frame_clusters -------------------------------------------------------------------------------

def test_notes_from_frame_clusters_errors_and_no_frames():
    Y = np.zeros((N_PITCHES, 4), np.float32)
    with pytest.raises(MitkitError, match=r"^label_map.dtype=float64 must be an integer type$"):
        notes_from_frame_clusters(Y, Y, np.zeros((N_PITCHES, 4)))
    Y0 = np.zeros((N_PITCHES, 0), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no cluster to make notes in: create_notes never runs (nor warns)
        notes, labels = notes_from_frame_clusters(Y0, Y0, np.zeros((N_PITCHES, 0), np.int64))
    assert notes.size == 0 and labels.shape == (0,)


def test_an_onset_peak_outside_every_cluster_in_the_last_frames_belongs_to_none():
    """Cluster 1 holds a soft note (0.4) without an onset peak: its inferred onset, rescaled to cluster 1's
    own largest posterior (0.4), stays below 0.5. A stray onset peak (0.9) in the last frame, at a bin in no
    cluster and with no later frame to take a label from, must not join cluster 1 and lift that scale."""
    T = 30
    Y_F = np.zeros((N_PITCHES, T), np.float32)
    Y_O = np.zeros_like(Y_F)
    labels = np.full(Y_F.shape, -1)
    Y_F[50, 5:25], Y_O[50, 5], labels[50, 5:25] = 0.9, 0.9, 0
    Y_F[40, 5:20], labels[40, 5:20] = 0.4, 1
    quiet = notes_from_frame_clusters(Y_F, Y_O, labels, 2, second_pass=False)
    for t in (T - 1, T - 2):
        stray = Y_O.copy()
        stray[60, t] = 0.9
        notes, lab = notes_from_frame_clusters(Y_F, stray, labels, 2, second_pass=False)
        assert notes.tolist() == quiet[0].tolist() == [(5, 25, 74, pytest.approx(0.9))] and lab.tolist() == [0]


def test_join_nearest_never_opens_an_empty_cluster():
    """A row pointing away from every kept cluster still joins one of them, not a cluster left empty (whose
    zero centroid would score 0 against its negative scores): it would become a track of its own."""
    E = np.array([[1.0, 0.0], [-1.0, 0.0]])
    assert clustering._join_nearest(E, np.array([0]), np.array([0]), 2).tolist() == [0, 0]


def test_exactly_repeated_embeddings_count_and_cluster():
    """30 notes in 24 dimensions with exactly repeated rows, where LAPACK's subset eigensolver fails: the
    count and the clustering fall back to the full eigendecomposition instead of raising from deep inside."""
    E = np.eye(24)[[0, 0] + list(range(1, 23)) + [23] * 6]
    assert ic.estimate_n_clusters(E) in range(1, 9)
    assert cluster_notes(E, 8).shape == (30,)


# ---- count_instruments (instruments="auto") ------------------------------------------------------------------

def _chord4():
    """A four-note chord struck once (4 voices; fewer than 6 notes: 1 timbre group), all notes confident (the
    mean of 4 equal probabilities is exact, that of 3 need not be)."""
    notes = np.array([(0, 10, 48, 0.9), (0, 10, 52, 0.9), (0, 10, 55, 0.9), (0, 10, 60, 0.9)], NOTE_DTYPE)
    return notes, np.eye(EMBEDDING_DIM)[[1, 2, 3, 4]]


def _intercept_for(target, E):
    """An intercept with which a coef-0 classifier gives the notes of ``E`` a mean chord probability of
    exactly ``target`` (searched ulp by ulp from the logit, so it holds whatever libm's exp rounds to)."""
    z0 = float(np.log(target / (1 - target)))
    for direction in (np.inf, -np.inf):
        z = z0
        for _ in range(200):
            if float(ic.polyphonic_probability(E, {"coef": [0.0] * 12, "intercept": z}).mean()) == target:
                return z
            z = float(np.nextafter(z, direction))
    raise AssertionError(f"no intercept gives a mean probability of exactly {target}")


def test_without_a_classifier_the_count_is_the_timbre_groups():
    # a checkpoint without a polyphony classifier: three orthogonal groups of 8 notes count 3, nothing else
    notes = np.array([(4 * i, 4 * i + 3, 40 + i, 0.9) for i in range(24)], NOTE_DTYPE)
    assert ic.count_instruments(notes, groups(8, 8, 8), None) == InstrumentCount(
        k=3, timbres=3, reason="3 timbre groups (this checkpoint has no polyphony classifier)")


def test_the_timbre_estimate_gets_the_confident_notes_the_cap_and_the_seed(monkeypatch):
    # the estimate subsamples only above AUTO_K_MAX_POINTS notes, where the seed (default 0) decides it
    calls = []
    estimate = ic.estimate_n_clusters

    def spy(E, max_clusters=None, random_state="not passed", return_details=False):
        calls.append((len(E), max_clusters, random_state))
        return estimate(E, max_clusters=max_clusters, random_state=random_state, return_details=return_details)

    monkeypatch.setattr(ic, "estimate_n_clusters", spy)
    notes = np.array([(4 * i, 4 * i + 3, 40 + i, 0.9 if i < 24 else 0.1) for i in range(30)], NOTE_DTYPE)
    E = groups(10, 10, 10)
    ic.count_instruments(notes, E, None)
    ic.count_instruments(notes, E, {"coef": [0.0] * 12, "intercept": 0.0}, max_instruments=5, random_state=7)
    assert calls == [(24, 8, 0), (24, 5, 7)]


def without_evidence(count):
    """The count without its evidence dict (tested on its own in tests/test_instrument_count.py)."""
    return dataclasses.replace(count, evidence={})


def test_a_probability_of_exactly_one_half_reads_as_chord_playing():
    # sigmoid(0) = 0.5 exactly = POLYPHONIC_PROBABILITY: every note is chord-playing, none is left for lines
    notes, E = _chord4()
    assert without_evidence(ic.count_instruments(notes, E, {"coef": [0.0] * 12, "intercept": 0.0})) == InstrumentCount(
        k=4, runner_up=2, chord_probability=0.5, reading="lines", voices=4, lines=0, line_shares=[0.0] * 8,
        timbres=1, reason="4 instruments: one-note-at-a-time parts (chord probability 0.50 < 0.6): 4 sound at once")


def test_a_chord_probability_of_exactly_chords_only_reads_chords():
    notes, E = _chord4()
    result = ic.count_instruments(notes, E, {"coef": [0.0] * 12, "intercept": _intercept_for(ic.CHORDS_ONLY, E)})
    assert without_evidence(result) == InstrumentCount(
        k=1, runner_up=2, chord_probability=ic.CHORDS_ONLY, reading="chords", voices=4, lines=0,
        line_shares=[0.0] * 8, timbres=1,
        reason="1 instrument: one chord-playing instrument plays everything (chord probability 0.70 >= 0.7)")


def test_a_chord_probability_of_exactly_chords_present_reads_chords_and_lines():
    # at CHORDS_PRESENT itself: the chord-playing instrument and (at least) one more; "lines" is the nearer
    # other reading, with its 4 voices
    notes, E = _chord4()
    result = ic.count_instruments(notes, E, {"coef": [0.0] * 12,
                                             "intercept": _intercept_for(ic.CHORDS_PRESENT, E)})
    assert without_evidence(result) == InstrumentCount(
        k=2, runner_up=4, chord_probability=ic.CHORDS_PRESENT, reading="chords and lines", voices=4, lines=0,
        line_shares=[0.0] * 8, timbres=1,
        reason="2 instruments: a chord-playing instrument (chord probability 0.60) and 1 line besides it "
               "(the reading's least; 0 found)")
