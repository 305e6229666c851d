"""What the instrument count looks at: notes sounding at once, and how well K timbre groups explain them.

- :func:`sounding_counts`, :func:`shares_at_least`, :func:`at_once_for`: how many notes sound at once, the
  rule of ``instruments="voices"`` and of the lines that ``"auto"`` counts (:mod:`mitkit.instrument_count`).
- :func:`grouping_overlaps`: the notes split into K = 2, 3, 4 timbre groups, and how often a group sounds two
  notes at once. One-note-at-a-time instruments grouped right never do; too few groups put two lines in one
  group; a chord-playing instrument is the one group that does, at the right K (the issue's "a cluster that
  plays chords is a polyphonic instrument, not several").
- :func:`count_evidence`: all of it by name (:data:`mitkit.count_model.COUNT_FEATURES`), for the learned count.

Notebook: 03_embeddings_and_clustering
"""
from __future__ import annotations

import numpy as np

from mitkit.embeddings import cluster_qr, cosine_similarity, spectral_embedding

#: The counts whose timbre grouping :func:`grouping_overlaps` checks (the learned count's classes past 1).
GROUPINGS = (2, 3, 4)


def sounding_counts(notes, n_frames: int | None = None) -> np.ndarray:
    """Notes sounding in each frame 0 … ``n_frames`` - 1 (default: to the last note's end); frame notes."""
    n_frames = int(notes["end"].max()) if n_frames is None and notes.size else (n_frames or 0)
    sounding = np.zeros(n_frames + 1, np.int64)
    np.add.at(sounding, np.minimum(notes["start"], n_frames), 1)
    np.add.at(sounding, np.minimum(notes["end"], n_frames), -1)
    return np.cumsum(sounding)[:n_frames]


def shares_at_least(at_once: np.ndarray, n_sounding: int, max_p: int) -> list[float]:
    """For p = 1 … ``max_p``, the share of ``n_sounding`` frames in which ``at_once`` (notes sounding per
    frame) is p or more; non-increasing in p."""
    return [float(np.sum(at_once >= p)) / max(int(n_sounding), 1) for p in range(1, max_p + 1)]


def at_once_for(shares: list[float], min_fraction: float) -> int:
    """The largest p whose share (:func:`shares_at_least`) is at least ``min_fraction`` (0 when none is):
    the rule of ``count_voices``, and of the lines that ``count_instruments`` counts."""
    return int(sum(share >= min_fraction for share in shares))  # the shares never increase with p


def grouping_overlaps(notes, E, core, *, temperature: float, max_points: int, random_state=0) -> dict:
    """For each K of :data:`GROUPINGS`, the share of the sounding frames in which some group of a K-group
    timbre split sounds two notes or more (``groups_K_overlap``), and the same share leaving out the group
    that does so most often (``groups_K_overlap_but_one``: room for one chord-playing instrument).

    The split is spectral clustering (cluster-QR) of the confident notes ``core`` on the sharpened affinity
    ``exp((cos - 1) / temperature)`` (at most ``max_points`` of them, a seeded subsample, as the timbre-group
    estimate sees them); every note then joins the group whose mean embedding is nearest. Fewer than
    ``2 * max(GROUPINGS)`` confident notes give zeros (no split to check).

    >>> from mitkit.notes import NOTE_DTYPE
    >>> E = np.repeat(np.eye(4), 4, axis=0)   # four timbres, four notes each: each plays one line
    >>> notes = np.array([(10 * t, 10 * t + 10, 60 + v, 0.9) for v in range(4) for t in range(4)], NOTE_DTYPE)
    >>> out = grouping_overlaps(notes, E, np.arange(16), temperature=0.2, max_points=1000)
    >>> out["groups_2_overlap"], out["groups_4_overlap"]    # two groups hold two lines each; four hold one
    (1.0, 0.0)
    """
    out = {}
    for k in GROUPINGS:
        out[f"groups_{k}_overlap"] = out[f"groups_{k}_overlap_but_one"] = 0.0
    sample = np.asarray(core)
    if sample.size > max_points:
        sample = np.sort(np.random.default_rng(random_state).choice(sample, max_points, replace=False))
    if sample.size < 2 * GROUPINGS[-1]:
        return out
    X = E[sample]
    _, U = spectral_embedding(np.exp((cosine_similarity(X) - 1.0) / temperature), GROUPINGS[-1] + 2)
    n_frames = int(notes["end"].max())
    n_sounding = max(int(np.sum(sounding_counts(notes, n_frames) > 0)), 1)
    for k in GROUPINGS:
        labels = cluster_qr(U[:, :k])
        means = np.stack([X[labels == j].mean(axis=0) if np.any(labels == j) else np.zeros(E.shape[1])
                          for j in range(k)])
        group = (E @ means.T).argmax(axis=1)
        chords = np.array([sounding_counts(notes[group == j], n_frames) >= 2 for j in range(k)])  # (k, frames)
        busiest = int(chords.sum(axis=1).argmax())
        out[f"groups_{k}_overlap"] = float(chords.any(axis=0).sum()) / n_sounding
        out[f"groups_{k}_overlap_but_one"] = float(np.delete(chords, busiest, axis=0).any(axis=0).sum()) / n_sounding
    return out


def count_evidence(chord_notes, core, mean_chord, at_once, line_shares, timbres, spectrum, n_sounding, voices,
                   lines, overlaps) -> dict:
    """The evidence :mod:`mitkit.count_model` weighs (:data:`~mitkit.count_model.COUNT_FEATURES`), from what
    ``count_instruments`` computed: which notes read as chord-playing (``chord_notes``, a boolean mask), the
    confident notes ``core`` and their mean chord probability ``mean_chord``, shares of notes sounding at once
    (all, and the notes not read as chord-playing), the timbre estimate and its ``spectrum``
    (``estimate_n_clusters``' details), sounding frames, the rules' counts and :func:`grouping_overlaps`."""
    lam = spectrum.get("eigenvalues")
    bulk = max(float(spectrum.get("bulk") or 0.0), np.finfo(float).tiny)
    eigen = [float(lam[i]) / bulk if lam is not None and i < len(lam) else 1.0 for i in range(1, 6)]
    chord_notes = np.asarray(chord_notes, bool)
    return {"chord_probability": mean_chord, "chord_share": float(np.mean(chord_notes)),
            "chord_share_confident": float(np.mean(chord_notes[core])),
            **{f"at_once_{q}": at_once[q - 1] for q in range(2, 6)},
            **{f"lines_at_once_{q}": line_shares[q - 1] for q in range(1, 6)},
            "timbre_groups": timbres, **{f"eigen_{i + 2}": e for i, e in enumerate(eigen)},
            "log_notes": float(np.log(len(chord_notes))), "log_sounding_frames": float(np.log(n_sounding + 1)),
            "voices": voices, "lines": lines, **overlaps}
