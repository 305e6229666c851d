"""Solutions to the exercises of notebook 03_embeddings_and_clustering, and the small helpers its studies call.

Read next to the notebook; nothing here is needed to transcribe audio.
"""
from __future__ import annotations

import warnings

import numpy as np

from mitkit import constants as C
from mitkit.errors import MitkitError


def part_track_confusion(part_labels, track_labels, *, n_parts: int | None = None,
                         n_tracks: int | None = None) -> np.ndarray:
    """How the notes of each true instrument are spread over the estimated tracks.

    Parameters
    ----------
    part_labels : int array ``(N,)``: true part of each note (:func:`mitkit.embedding_plots.reference_labels`),
        -1 for a note that matches no reference note.
    track_labels : int array ``(N,)``: estimated track of each note (e.g. from
        :func:`mitkit.clustering.cluster_notes`).
    n_parts, n_tracks : sizes of the matrix (default: the largest label + 1).

    Returns
    -------
    np.ndarray, int64, shape ``(n_parts + 1, n_tracks)``: entry ``[p, k]`` counts the notes of part p in
    track k; the last row counts the unmatched notes.

    Examples
    --------
    >>> part_track_confusion([0, 0, 1, -1], [0, 1, 1, 1]).tolist()
    [[1, 1], [0, 1], [0, 1]]

    Notebook: 03_embeddings_and_clustering
    """
    parts = np.asarray(part_labels, dtype=np.int64)
    tracks = np.asarray(track_labels, dtype=np.int64)
    if parts.shape != tracks.shape or parts.ndim != 1:
        raise MitkitError(f"part_labels.shape={parts.shape} and track_labels.shape={tracks.shape} must be "
                          "equal (N,)")
    if tracks.size and tracks.min() < 0:
        raise MitkitError(f"track_labels min={tracks.min()} must be >= 0 (every note is in a track)")
    n_parts = (int(parts.max()) + 1 if parts.size else 0) if n_parts is None else int(n_parts)
    n_tracks = (int(tracks.max()) + 1 if tracks.size else 0) if n_tracks is None else int(n_tracks)
    if parts.size and (parts.max() >= n_parts or tracks.max() >= n_tracks):
        raise MitkitError(f"labels must be below n_parts={n_parts} and n_tracks={n_tracks}")
    out = np.zeros((n_parts + 1, n_tracks), dtype=np.int64)
    np.add.at(out, (np.where(parts < 0, n_parts, parts), tracks), 1)
    return out


def temperature_study(notes, E, parts, temperatures=(0.1, 0.2, 0.5, 1.0, 2.0), *,
                      n_clusters: int | None = None, random_state: int = 0) -> dict:
    """Separation F1 of note-level clustering at several affinity temperatures ``A = exp(cos / τ)``.

    Parameters
    ----------
    notes : ``(N, 4)`` estimated notes in seconds, rows in the order of ``E``.
    E : ``(N, D)`` note embeddings.
    parts : reference parts, list of ``(M_k, 4)`` arrays.
    temperatures : the values of τ to try (each in [0.01, 100]).
    n_clusters : K (default: the number of parts).

    Returns
    -------
    dict of τ → separation F1 (:func:`mitkit.evaluation.metrics.separation_metrics`).

    Notebook: 03_embeddings_and_clustering
    """
    from mitkit.clustering import cluster_notes
    from mitkit.evaluation.metrics import separation_metrics
    from mitkit.notes import as_note_array
    notes = as_note_array(notes)
    E = np.asarray(E)
    if len(notes) != len(E):
        raise MitkitError(f"len(notes)={len(notes)} must equal len(E)={len(E)}")
    K = len(parts) if n_clusters is None else n_clusters
    out = {}
    for tau in temperatures:
        labels = cluster_notes(E, K, pitches=notes[:, 2], temperature=tau, random_state=random_state)
        tracks = [notes[labels == k] for k in range(int(labels.max()) + 1)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            out[tau] = separation_metrics(parts, tracks)["separation_f1"]
    return out


def auto_k_vs_excerpt(notes, E, seconds=(5, 10, 20, 30), *, max_clusters: int = C.MAX_INSTRUMENTS) -> dict:
    """The automatic instrument count from the notes that start in the first ``s`` seconds.

    Parameters
    ----------
    notes : ``(N, 4)`` notes in seconds, rows in the order of ``E``.
    E : ``(N, D)`` note embeddings.
    seconds : excerpt lengths.

    Returns
    -------
    dict of s → (number of notes, estimated K) (:func:`mitkit.instrument_count.estimate_n_clusters`).

    Notebook: 03_embeddings_and_clustering
    """
    from mitkit.instrument_count import estimate_n_clusters
    from mitkit.notes import as_note_array
    notes = as_note_array(notes)
    E = np.asarray(E)
    if len(notes) != len(E):
        raise MitkitError(f"len(notes)={len(notes)} must equal len(E)={len(E)}")
    out = {}
    for s in seconds:
        keep = notes[:, 0] < s
        n = int(keep.sum())
        out[s] = (n, estimate_n_clusters(E[keep], max_clusters=max_clusters) if n else 0)
    return out


def check_part_track_confusion(yours) -> bool:
    """Exercise 3: your ``part_track_confusion(part_labels, track_labels)`` (an ``(n_parts + 1, n_tracks)``
    count matrix, unmatched notes in the last row) against the solution on three small cases."""
    from solutions.checks import check_answer
    cases = [([0, 0, 1, -1], [0, 1, 1, 1]), ([0, 1, 2, 2, 1], [2, 1, 0, 0, 1]), ([1, 1, 1, 0], [0, 0, 0, 0])]
    return check_answer(yours, part_track_confusion, cases, atol=0)
