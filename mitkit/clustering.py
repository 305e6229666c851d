"""Instrument separation: group notes (or active bins) into K tracks by their timbre embeddings.

The timbre branch of the network gives every time–frequency bin a unit vector ``V[:, p, t]``
(D = 12) so that bins played by one instrument point the same way. This module turns those vectors
into one track id per note.

Notebook: 03_embeddings_and_clustering

Pipeline (note level, the paper's method)
-----------------------------------------
1. :func:`note_embeddings`: ``e_n = Σ_t Y_F[p_n, t] · V[:, p_n, t]`` over the note's frames, then
   L2-normalised: one unit vector per note.
2. :func:`affinity_matrix`: ``A_ij = exp(cos(e_i, e_j))`` (values in [1/e, e]); an optional
   ``temperature`` sharpens it (``exp(cos / temperature)``, default 1 = the paper).
3. :func:`cluster_notes`: spectral clustering of ``A`` into K clusters: the K leading eigenvectors of
   its normalised Laplacian, labelled by cluster-QR (:func:`~mitkit.embeddings.spectral_embedding`,
   :func:`~mitkit.embeddings.cluster_qr`; what scikit-learn's
   ``SpectralClustering(affinity='precomputed', assign_labels='cluster_qr')`` computes). K is given by the
   user or estimated by :func:`estimate_n_clusters`. Tracks are numbered by mean pitch, highest
   first, so track 0 is the top voice (soprano in a chorale).

mitkit's addition (``amplitudes=``, what :func:`mitkit.transcription` uses): only the confident notes
(:func:`core_notes`, mean frame posterior >= 0.6) are clustered and counted; weaker notes join the
nearest cluster afterwards. Weak notes (ghosts at a partial of a real note, fragments) have noisy
embeddings, and spectral clustering otherwise spends a cluster on them and merges two instruments.
For ensembles whose instruments each play one note at a time, :func:`count_voices` counts K from the
polyphony instead of the embeddings (``instruments="voices"``).

Then, where the checkpoint has a polyphony classifier, :func:`mitkit.voice_leading.follow_lines` redraws the
tracks note by note so that each plays a line: timbre, small steps and one note at a time weighed together
(mitkit's; two instruments of one family, like a quartet's violins, share a timbre cluster otherwise).

The frame-level alternative (the paper's comparison): :func:`cluster_frames` clusters every active
bin, then :func:`notes_from_frame_clusters` makes notes separately inside each cluster.

Estimating K (:func:`estimate_n_clusters`)
------------------------------------------
No published system estimates the number of instruments from these embeddings. mitkit counts the
eigenvalues of a sharpened affinity's normalised Laplacian that sit clearly below the flat "bulk",
vetoes a split when the structure looks like one elongated cluster, and lets the silhouette of the
spectral partitions pick among the remaining candidates (details in that function). Its accuracy on
synthetic von Mises–Fisher embeddings is printed by ``scripts/auto_k_study.py``.
"""
from __future__ import annotations

import logging
import numbers

import numpy as np

from mitkit.constants import MAX_INSTRUMENTS, MIDI_MIN
from mitkit.embeddings import (  # core_notes and its constants re-exported: clustering uses them
    CORE_AMPLITUDE,
    CORE_MIN_NOTES,
    EPS,
    affinity_matrix,
    check_embeddings,
    check_frame_grams,
    check_max_clusters,
    check_temperature,
    cluster_qr,
    core_notes,
    mean_directions,
    spectral_embedding,
)
from mitkit.errors import MitkitError
from mitkit.instrument_count import estimate_n_clusters
from mitkit.note_creation import DEFAULT_FRAME_THRESHOLD, create_notes
from mitkit.notes import NOTE_DTYPE, empty_notes
from mitkit.onset_level import scale_to_onset_level

logger = logging.getLogger(__name__)

__all__ = [
    "affinity_matrix",
    "cluster_notes",
    "core_notes",
    "CORE_AMPLITUDE",
    "CORE_MIN_NOTES",
    "estimate_n_clusters",
    "cluster_frames",
    "notes_from_frame_clusters",
    "order_labels_by_pitch",
]


def _check_n_clusters(n_clusters, max_clusters: int) -> int | str:
    """``n_clusters`` as an int in 1..max_clusters, or the string "auto"."""
    if isinstance(n_clusters, str):
        if n_clusters != "auto":
            raise MitkitError(f"instruments={n_clusters!r} must be an integer or 'auto'")
        return "auto"
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, numbers.Integral):
        raise MitkitError(f"instruments={n_clusters!r} must be an integer or 'auto'")
    if not 1 <= n_clusters <= max_clusters:
        raise MitkitError(f"instruments={n_clusters} must be between 1 and "
                          f"max_clusters={max_clusters}")
    return int(n_clusters)


def order_labels_by_pitch(labels, pitches=None) -> np.ndarray:
    """Renumber cluster labels deterministically.

    With ``pitches``: by mean pitch of each cluster, highest first (track 0 = top voice); ties
    broken by size (larger first), then by first appearance. Without: by first appearance.
    Labels < 0 (unassigned) are kept. The result uses 0..K'-1 with K' the number of distinct labels.

    Parameters
    ----------
    labels : array_like, shape (N,), int
    pitches : array_like, shape (N,), optional
        MIDI pitch (or any per-item height) of each item.

    Returns
    -------
    np.ndarray, shape (N,), int64
    """
    labels = np.asarray(labels, dtype=np.int64)
    out = labels.copy()
    valid = labels >= 0
    uniq, first = np.unique(labels[valid], return_index=True)
    if uniq.size == 0:
        return out
    if pitches is None:
        order = uniq[np.argsort(first)]
    else:
        pitches = np.asarray(pitches, dtype=np.float64)
        lv, pv = labels[valid], pitches[valid]
        mean = np.array([pv[lv == u].mean() for u in uniq])
        size = np.array([(lv == u).sum() for u in uniq])
        order = uniq[np.lexsort((first, -size, -mean))]
    remap = np.full(int(uniq.max()) + 1, -1, dtype=np.int64)
    remap[order] = np.arange(order.size)
    out[valid] = remap[labels[valid]]
    return out


# ---------------------------------------------------------------------------------------------
# clustering
# ---------------------------------------------------------------------------------------------
#: Above this many notes, spectral clustering runs on a seeded subsample and the other notes join the
#: cluster whose mean embedding is nearest: time and memory stay bounded (the affinity is N × N).
CLUSTER_MAX_POINTS = 2000


def _join_nearest(E: np.ndarray, idx: np.ndarray, sub: np.ndarray, K: int) -> np.ndarray:
    """Labels for all rows of ``E``: rows ``idx`` keep their labels ``sub``, every other row joins the
    cluster whose mean embedding points nearest to it (never a cluster that ``sub`` left empty)."""
    scores = E @ mean_directions(E[idx], sub, K).T  # compare directions
    scores[:, ~np.isin(np.arange(K), sub)] = -np.inf
    labels = np.argmax(scores, axis=1).astype(np.int64)
    labels[idx] = sub
    return labels


def _spectral_labels(E: np.ndarray, K: int, random_state, temperature: float) -> np.ndarray:
    """Spectral clustering of unit rows ``E`` into K >= 2 clusters (K < N)."""
    if len(E) > CLUSTER_MAX_POINTS:
        idx = np.random.default_rng(random_state).choice(len(E), CLUSTER_MAX_POINTS, replace=False)
        return _join_nearest(E, idx, _spectral_labels(E[idx], K, random_state, temperature), K)
    _, U = spectral_embedding(affinity_matrix(E, temperature=temperature), K)
    return cluster_qr(U)


def _cluster(E, n_clusters, *, max_clusters, random_state, pitches, what: str,
             temperature: float = 1.0, amplitudes=None) -> np.ndarray:
    max_clusters = check_max_clusters(max_clusters)
    temperature = check_temperature(temperature)
    K = _check_n_clusters(n_clusters, max_clusters)
    E = check_embeddings(E)
    N = E.shape[0]
    if pitches is not None:
        pitches = np.asarray(pitches)
        if pitches.shape != (N,):
            raise MitkitError(f"pitches.shape={pitches.shape} must be ({N},), one per row of E")
    core = np.arange(N)
    if amplitudes is not None:
        amplitudes = np.asarray(amplitudes, dtype=np.float64)
        if amplitudes.shape != (N,) or not np.isfinite(amplitudes).all():
            raise MitkitError(f"amplitudes.shape={amplitudes.shape} must be ({N},) finite values, one per row of E")
        core = core_notes(amplitudes)
    if N == 0:
        return np.zeros(0, dtype=np.int64)
    if K == "auto":
        K = estimate_n_clusters(E[core], max_clusters=min(max_clusters, N), random_state=random_state)
        logger.info("estimated %d instruments from %d of %d %s", K, core.size, N, what)
    elif K > N:
        raise MitkitError(f"instruments={K} must be at most the number of {what} found ({N})")
    if K == 1:
        return np.zeros(N, dtype=np.int64)
    if K >= core.size:
        core = np.arange(N)  # too few strong notes for K clusters: cluster them all
    if K == N:
        labels = np.arange(N, dtype=np.int64)
    else:
        labels = _spectral_labels(E[core], K, random_state, temperature)
        if core.size < N:
            labels = _join_nearest(E, core, labels, K)
    return order_labels_by_pitch(labels, pitches)


def cluster_notes(E, n_clusters, *, max_clusters: int = MAX_INSTRUMENTS, random_state=0,
                  pitches=None, temperature: float = 1.0, amplitudes=None) -> np.ndarray:
    """Assign each note to one of K instruments by spectral clustering of its embedding.

    Parameters
    ----------
    E : array_like, shape (N, D)
        Note embeddings (:func:`note_embeddings`).
    n_clusters : int in 1..max_clusters, or "auto"
        Number of instruments K; "auto" estimates it with :func:`estimate_n_clusters`.
    max_clusters : int, default MAX_INSTRUMENTS (8)
        Largest K accepted, and the cap of the automatic estimate.
    random_state : int or None, default 0
        Seed of the spectral embedding's eigen-solver start vector and of the estimator's
        subsampling: results are reproducible for a fixed seed.
    pitches : array_like, shape (N,), optional
        MIDI pitch of each note. When given, tracks are numbered by mean pitch, highest first
        (track 0 = top voice); otherwise by order of first appearance.
    temperature : float, default 1.0
        Temperature of the affinity (:func:`affinity_matrix`); 1.0 is the paper's ``exp(cos)``.
    amplitudes : array_like, shape (N,), optional
        Each note's mean frame posterior (``notes["amplitude"]``). When given, only the confident
        notes (:func:`core_notes`) are clustered and counted; the others join the cluster whose mean
        embedding is nearest. ``None`` clusters every note alike (the paper's method).

    Returns
    -------
    np.ndarray, shape (N,), int64
        Track id of each note in 0..K-1. Empty for N = 0; all zeros for K = 1. Spectral clustering
        may leave a cluster empty; then fewer than K ids are used (always 0..K'-1).

    Raises
    ------
    MitkitError
        When ``n_clusters`` is not in 1..max_clusters (or "auto"), or exceeds the number of notes:
        ``instruments=5 must be at most the number of notes found (3)``.

    Examples
    --------
    >>> import numpy as np
    >>> E = np.array([[1, 0], [0.99, 0.1], [0, 1], [0.1, 0.99]])
    >>> cluster_notes(E, 2, pitches=[60, 62, 40, 41]).tolist()
    [0, 0, 1, 1]

    Notebook: 03_embeddings_and_clustering
    """
    return _cluster(E, n_clusters, max_clusters=max_clusters, random_state=random_state,
                    pitches=pitches, what="notes", temperature=temperature, amplitudes=amplitudes)


# ---------------------------------------------------------------------------------------------
# frame-level alternative
# ---------------------------------------------------------------------------------------------
def cluster_frames(Y_F, V, n_clusters, *, frame_threshold: float = DEFAULT_FRAME_THRESHOLD,
                   max_bins: int = 3000, max_clusters: int = MAX_INSTRUMENTS,
                   random_state=0) -> np.ndarray:
    """Frame-level separation: cluster every active time–frequency bin by its embedding.

    Active bins are those with ``Y_F >= frame_threshold``. At most ``max_bins`` of them (a seeded
    random subsample) are clustered with the same spectral clustering as :func:`cluster_notes`;
    every other active bin goes to the cluster whose mean direction (normalised mean embedding of
    its subsampled bins) is nearest in cosine. Clusters are numbered by mean pitch, highest first.

    Parameters
    ----------
    Y_F : array_like, shape (P=84, T), float in [0, 1]
        Frame posteriorgram.
    V : array_like, shape (D, P=84, T), float
        Timbre embeddings.
    n_clusters : int in 1..max_clusters, or "auto"
        Number of instruments K.
    frame_threshold : float in (0, 1], default 0.3
        Frame posterior at which a bin counts as active.
    max_bins : int >= 2, default 3000
        Most bins drawn (a seeded subsample beyond); spectral clustering itself sees at most
        ``CLUSTER_MAX_POINTS`` (2000) of them, an affinity of 32 MB, and the rest join the nearest cluster.
    max_clusters : int, default MAX_INSTRUMENTS
    random_state : int, default 0
        Seed of the subsample and of the spectral clustering.

    Returns
    -------
    np.ndarray, shape (P=84, T), int64
        Cluster id (0..K-1) of every active bin, -1 for inactive bins.

    Raises
    ------
    MitkitError
        On bad shapes or parameters, or when K exceeds the number of active bins.

    Notebook: 03_embeddings_and_clustering
    """
    Y_F, V = check_frame_grams(Y_F, V)
    if (isinstance(frame_threshold, bool) or not isinstance(frame_threshold, numbers.Real)
            or not 0.0 < frame_threshold <= 1.0):
        raise MitkitError(f"frame_threshold={frame_threshold!r} must be a number in (0, 1]")
    if isinstance(max_bins, bool) or not isinstance(max_bins, numbers.Integral) or max_bins < 2:
        raise MitkitError(f"max_bins={max_bins!r} must be an integer >= 2")
    max_clusters = check_max_clusters(max_clusters)
    _check_n_clusters(n_clusters, max_clusters)

    label_map = np.full(Y_F.shape, -1, dtype=np.int64)
    ps, ts = np.nonzero(Y_F >= np.float32(frame_threshold))  # active bins
    n = ps.size
    if n == 0:
        return label_map
    X = V[:, ps, ts].T.astype(np.float64)  # (n, D)
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), EPS)
    rng = np.random.default_rng(random_state)
    sub = np.sort(rng.choice(n, size=max_bins, replace=False)) if n > max_bins else np.arange(n)
    lab_sub = _cluster(X[sub], n_clusters, max_clusters=max_clusters, random_state=random_state,
                       pitches=ps[sub] + MIDI_MIN, what="active bins")
    label_map[ps, ts] = _join_nearest(X, sub, lab_sub, int(lab_sub.max()) + 1) if sub.size < n else lab_sub
    return label_map


def notes_from_frame_clusters(Y_F, Y_O, label_map, n_clusters: int | None = None,
                              **note_kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Make notes separately inside each frame cluster (the frame-level separation baseline).

    For cluster k, ``Y_F`` is kept where ``label_map == k`` and zeroed elsewhere; ``Y_O`` is kept
    where the bin itself, or one of the next two frames at the same pitch, belongs to k (an onset
    peak often sits a frame before the frame posterior rises above threshold). Then
    :func:`mitkit.note_creation.create_notes` runs on the masked pair.

    Parameters
    ----------
    Y_F, Y_O : array_like, shape (P=84, T), float in [0, 1]
        Frame and onset posteriorgrams.
    label_map : array_like, shape (P=84, T), int
        Cluster id per bin, -1 for none (:func:`cluster_frames`).
    n_clusters : int, optional
        Number of clusters K (default: ``label_map.max() + 1``); clusters 0..K-1 are processed.
    **note_kwargs
        Passed to :func:`mitkit.note_creation.create_notes` (thresholds, ``min_note_frames`` …).

    Returns
    -------
    notes : np.ndarray, shape (N,), dtype NOTE_DTYPE
        All notes, sorted by (start, pitch).
    labels : np.ndarray, shape (N,), int64
        Cluster id of each note.

    Notebook: 03_embeddings_and_clustering
    """
    Y_F = np.asarray(Y_F)
    label_map = np.asarray(label_map)
    if label_map.shape != Y_F.shape:
        raise MitkitError(f"label_map.shape={label_map.shape} must equal Y_F.shape={Y_F.shape}")
    if not np.issubdtype(label_map.dtype, np.integer):
        raise MitkitError(f"label_map.dtype={label_map.dtype} must be an integer type")
    if n_clusters is None:
        n_clusters = int(label_map.max()) + 1 if label_map.size else 0
    elif isinstance(n_clusters, bool) or not isinstance(n_clusters, numbers.Integral) \
            or n_clusters < 0:
        raise MitkitError(f"n_clusters={n_clusters!r} must be an integer >= 0")
    Y_O = np.asarray(Y_O)
    # onset label: the bin's own label, else that of the next one or two frames
    onset_labels = label_map.copy()
    for shift in (1, 2):
        if label_map.shape[1] > shift:
            ahead = np.full_like(label_map, -1)
            ahead[:, :-shift] = label_map[:, shift:]
            np.copyto(onset_labels, ahead, where=onset_labels < 0)
    note_kwargs = scale_to_onset_level(note_kwargs, Y_O)  # the whole audio's onset level, not each cluster's
    all_notes, all_labels = [], []
    for k in range(int(n_clusters)):
        Y_F_k = np.where(label_map == k, Y_F, 0).astype(np.float32)
        Y_O_k = np.where(onset_labels == k, Y_O, 0).astype(np.float32)
        notes_k = create_notes(Y_F_k, Y_O_k, **note_kwargs)
        all_notes.append(notes_k)
        all_labels.append(np.full(notes_k.size, k, dtype=np.int64))
    if not all_notes:
        return empty_notes(), np.zeros(0, dtype=np.int64)
    notes = np.concatenate(all_notes).astype(NOTE_DTYPE)
    labels = np.concatenate(all_labels)
    order = np.lexsort((labels, notes["pitch"], notes["start"]))
    return notes[order], labels[order]
