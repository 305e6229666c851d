"""How many instruments? Counting K from the notes and their timbre ("auto") or from polyphony ("voices").

- :func:`count_instruments` (``instruments="auto"``): one-note-at-a-time lines count once each, a
  chord-playing instrument (recognised by a small classifier on note embeddings, stored in the checkpoint)
  counts once however many notes it plays; reports its evidence (:class:`InstrumentCount`).
- :func:`chord_tracks`: which tracks of a grouping hold a chord-playing instrument (exempt from one note at a time).
- What the count looks at (notes sounding at once, timbre groups checked against them) is in
  :mod:`mitkit.count_evidence`.
- :func:`count_voices` (``instruments="voices"``): the number of notes that sound at once for a large
  enough share of the time (right for parts that play one note at a time, wrong for a piano).
- :func:`estimate_n_clusters`: timbre groups from the eigengap of the note embeddings' affinity, checked by
  silhouette (mitkit 0.1's ``"auto"``; still what ``cluster_notes(E, "auto")`` and checkpoints without a
  polyphony classifier use).

Notebook: 03_embeddings_and_clustering
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np

from mitkit import constants as C
from mitkit.constants import MAX_INSTRUMENTS
from mitkit.count_evidence import at_once_for, count_evidence, grouping_overlaps, shares_at_least, sounding_counts
from mitkit.count_model import count_probabilities
from mitkit.embeddings import (
    check_embeddings,
    check_max_clusters,
    cluster_qr,
    core_notes,
    cosine_similarity,
    spectral_embedding,
)
from mitkit.errors import MitkitError
from mitkit.notes import validate_notes

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# estimating the number of instruments
# ---------------------------------------------------------------------------------------------
#: Temperature of the sharpened affinity used to *estimate* K (not to cluster).
AUTO_K_TEMPERATURE = 0.2


#: An eigenvalue counts as a cluster when below this fraction of the bulk level.
AUTO_K_BULK_FRACTION = 0.75


#: Silhouette tolerance: the largest K whose silhouette is within this of the best one wins.
#: 0 (the best silhouette wins) on real embeddings: on the 36 validation chorale mixes (2-4 parts) the
#: count was right on 58 % with 0 and 50 % with 0.06, which overestimated (+0.39 parts on average).
AUTO_K_SILHOUETTE_TOLERANCE = 0.0


#: One-cluster veto: λ_2 above this fraction of the bulk level (then the first eigengap is the largest).
AUTO_K_SHALLOW_FRACTION = 0.5


#: Eigenvalues past the largest K that define the bulk level (their median).
_AUTO_K_BULK_EIGENVALUES = 8


#: At most this many points enter the estimate (a seeded random subsample beyond).
AUTO_K_MAX_POINTS = 1000


def _silhouette(Dist: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (Rousseeuw 1987) from a precomputed distance matrix; -1 when fewer than 2 clusters.

    What ``sklearn.metrics.silhouette_score(Dist, labels, metric="precomputed")`` computes (a point alone
    in its cluster scores 0), in NumPy: importing scikit-learn took a second of every transcription.
    """
    groups, inverse = np.unique(labels, return_inverse=True)
    if groups.size < 2:
        return -1.0
    rows = np.arange(len(labels))
    members = np.eye(groups.size)[inverse]  # (N, k) one-hot
    size = members.sum(axis=0)
    mean_to = (Dist @ members) / size  # (N, k) mean distance to each cluster, self included
    own = size[inverse]
    a = mean_to[rows, inverse] * own / np.maximum(own - 1, 1)  # mean distance to the others of its cluster
    mean_to[rows, inverse] = np.inf
    b = mean_to.min(axis=1)  # ... and to the nearest other cluster
    s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), np.finfo(float).tiny), 0.0)
    return float(s.mean())


def estimate_n_clusters(E, max_clusters: int = MAX_INSTRUMENTS, *, precomputed: bool | None = None,
                        random_state=0, return_details: bool = False):
    """Estimate the number of instruments K from note embeddings (or their affinity).

    The rule (mitkit's own; measured in ``scripts/auto_k_study.py``):

    1. Sharpen the affinity: ``W_ij = exp((cos_ij - 1) / 0.2)`` with a zero diagonal (the
       paper's ``exp(cos)`` is too flat for counting; the zero diagonal keeps isolated outlier
       notes from looking like clusters of their own).
    2. Eigenvalues ``λ_1 = 0 <= λ_2 <= …`` of the normalised Laplacian
       ``L = I - D^{-1/2} W D^{-1/2}``. Well-separated clusters give K eigenvalues near 0; the
       others form a flat *bulk*. Bulk level ``b`` = median of ``λ_{k+2} … λ_{k+9}``, with
       ``k = k_max``. ``K_bulk`` = number of eigenvalues below ``0.75 · b`` (at least 1).
    3. K = 1 when ``K_bulk = 1`` (no cluster structure), or when ``λ_2 > 0.5 · b``: a single
       instrument whose embeddings are elongated (or sprinkled with outlier notes) gives a
       shallow ``λ_2`` followed by small steps, while separate instruments give a deep ``λ_2``.
       (Then the first gap ``λ_2 - λ_1`` is also the largest of the gaps up to ``K_bulk``: every
       later one is at most ``b - λ_2``, as the eigenvalues up to ``k_max + 1`` lie below the bulk's.)
       Otherwise, for k = 2..K_bulk the notes are split by spectral clustering (cluster-QR on the
       first k eigenvectors) and scored by the silhouette (cosine distance between embeddings).
       K is the largest k whose silhouette is within ``AUTO_K_SILHOUETTE_TOLERANCE`` (0: the best
       silhouette wins) of the best: the eigenvalues propose
       how many groups there could be, the silhouette removes groups that are elongations of one
       cluster (e.g. a timbre that drifts with register) rather than clusters.

    ``k_max = min(max_clusters, N // 3)``: at least 3 notes per instrument on average, so fewer
    than 6 notes always give K = 1. Above 1000 notes a seeded random subsample of 1000 is used.

    Parameters
    ----------
    E : array_like, shape (N, D) or (N, N)
        Note embeddings, or their affinity ``exp(cos)`` from :func:`affinity_matrix` (with
        ``temperature=1``).
    max_clusters : int >= 1, default MAX_INSTRUMENTS (8)
        Cap of the estimate.
    precomputed : bool, optional
        True: ``E`` is an affinity ``exp(cos)``; False: embeddings. Default: an affinity when
        ``E`` is square, symmetric, positive and has ``e`` on its diagonal.
    random_state : int, default 0
        Seed of the subsample.
    return_details : bool, default False
        Also return a dict with the eigenvalues, bulk level, K_bulk and silhouettes.

    Returns
    -------
    int
        Estimated K in 1..max_clusters (and the details dict when asked).

    Notes
    -----
    Accuracy on synthetic von Mises–Fisher clusters (12-d, 300 notes, cluster means at cosine
    <= 0.5) is tabulated by ``python scripts/auto_k_study.py``: exact on well-separated clusters
    (kappa >= 30, mean cosine to the centre >= 0.83), degrading as clusters overlap.

    Notebook: 03_embeddings_and_clustering
    """
    max_clusters = check_max_clusters(max_clusters)
    X = np.asarray(E)
    if precomputed is None:
        precomputed = bool(
            X.ndim == 2 and X.shape[0] == X.shape[1] and X.shape[0] > 0
            and np.issubdtype(X.dtype, np.floating) and np.isfinite(X).all()
            and np.allclose(X, X.T) and (X > 0).all() and np.allclose(np.diag(X), np.e))
    if precomputed:
        if X.ndim != 2 or X.shape[0] != X.shape[1]:
            raise MitkitError(f"E.shape={X.shape} must be square (N, N) for an affinity")
        X = X.astype(np.float64)
        if not np.isfinite(X).all() or (X <= 0).any():
            raise MitkitError("E (an affinity exp(cos)) must be finite and positive")
        C = np.clip(np.log(X), -1.0, 1.0)  # back to cosine similarity
        C = (C + C.T) / 2
    else:
        C = None
        X = check_embeddings(X)
    N = X.shape[0]
    details = {"n_points": N}
    k_max = min(max_clusters, N // 3)
    if k_max <= 1:
        return (1, details) if return_details else 1
    if N > AUTO_K_MAX_POINTS:
        idx = np.sort(np.random.default_rng(random_state).choice(N, AUTO_K_MAX_POINTS,
                                                                  replace=False))
        C = C[np.ix_(idx, idx)] if C is not None else None
        X = X[idx]
        N = idx.size
    if C is None:
        C = cosine_similarity(X)

    W = np.exp((C - 1.0) / AUTO_K_TEMPERATURE)  # (N, N) sharpened affinity (its diagonal is ignored)
    lam, U = spectral_embedding(W, k_max + 1 + _AUTO_K_BULK_EIGENVALUES)
    bulk = float(np.median(lam[k_max + 1:]))
    k_bulk = int(np.clip(np.sum(lam[:k_max + 1] < AUTO_K_BULK_FRACTION * bulk), 1, k_max))
    details.update(eigenvalues=lam, bulk=bulk, k_bulk=k_bulk, silhouettes={})
    if k_bulk == 1 or lam[1] > AUTO_K_SHALLOW_FRACTION * bulk:
        return (1, details) if return_details else 1
    Dist = np.clip(1.0 - C, 0.0, None)
    np.fill_diagonal(Dist, 0.0)
    sil = {k: _silhouette(Dist, cluster_qr(U[:, :k])) for k in range(2, k_bulk + 1)}
    best = max(sil.values())
    K = max(k for k, v in sil.items() if v >= best - AUTO_K_SILHOUETTE_TOLERANCE)
    details["silhouettes"] = sil
    logger.debug("estimate_n_clusters: N=%d bulk=%.3f K_bulk=%d silhouettes=%s -> K=%d",
                 N, bulk, k_bulk, sil, K)
    return (K, details) if return_details else K


#: count_voices: K is the largest p such that at least this fraction of the frames where a note sounds
#: hold >= p notes. On 132 validation chorale mixes (2-4 monophonic parts, bundled model,
#: scripts/validation_study.py) the count was right on 92 % of the mixes with 0.3 (0.35 and 0.4: 89 %,
#: 0.45: 83 %), against 77 % for estimate_n_clusters on the confident notes.
VOICE_FRACTION = 0.3


def count_voices(notes, *, min_fraction: float = VOICE_FRACTION, max_voices: int = MAX_INSTRUMENTS) -> int:
    """Number of instruments when each plays one note at a time (a choir, a wind quintet, a string
    quartet without double stops): the largest p such that at least ``min_fraction`` of the frames
    where something sounds hold p or more notes at once. Needs no embeddings; wrong for polyphonic
    instruments (a piano counts as several voices).

    Parameters
    ----------
    notes : NOTE_DTYPE array (frames).
    min_fraction : float in (0, 1], default VOICE_FRACTION (0.3)
        Robustness to stray notes (a ghost note adds a voice for a moment) and to rests.
    max_voices : int, default MAX_INSTRUMENTS (8)

    Returns
    -------
    int in 1..max_voices (1 when there are no notes).

    >>> from mitkit.notes import NOTE_DTYPE
    >>> notes = np.array([(0, 100, 60, 0.9), (0, 50, 55, 0.9), (50, 100, 52, 0.9), (90, 95, 72, 0.5)],
    ...                  dtype=NOTE_DTYPE)   # two voices, and a short stray note
    >>> count_voices(notes)
    2

    Notebook: 03_embeddings_and_clustering
    """
    notes = validate_notes(notes)
    max_voices = check_max_clusters(max_voices)
    if not 0 < min_fraction <= 1:
        raise MitkitError(f"min_fraction={min_fraction!r} must be in (0, 1]")
    if notes.size == 0:
        return 1
    sounding = sounding_counts(notes)
    return at_once_for(shares_at_least(sounding, np.sum(sounding > 0), max_voices), min_fraction)


#: A line counts as an instrument when it sounds in at least this share of the frames where anything sounds
#: (count_voices' rule and fraction).
PRESENCE_FRACTION = VOICE_FRACTION

#: A note is read as played by a chord-playing instrument when the polyphony classifier gives it at least
#: this probability (the notes left are counted as lines).
POLYPHONIC_PROBABILITY = 0.5

#: Mean chord-playing probability of the confident notes above which a chord-playing instrument is heard
#: (CHORDS_PRESENT) and above which it plays everything (CHORDS_ONLY). Chosen on the validation count
#: benchmark (mitkit count-bench --split validation --n-pieces 3 --seed 0, 81 mixes; classifier fitted on the
#: train split): 0.6 / 0.7 counted 75 % right (one-note-at-a-time mixes 96 %, with a chord-playing
#: instrument 50 %) against 68 % for "voices" (98 % / 31 %) and 46 % for mitkit 0.1's timbre-group count.
CHORDS_PRESENT = 0.6
CHORDS_ONLY = 0.7

#: Mean chord-playing probability under which every track plays a line, one note at a time
#: (mitkit.voice_leading.follow_lines): the notes are, on average, more likely from one-note-at-a-time
#: instruments. At or above it the tracks read as chord-playing (:func:`chord_tracks`) are exempt. Stricter than
#: CHORDS_PRESENT, because a chord-playing instrument read as lines loses chord notes to the melody's track.
#: Chosen with the step follow_lines replaced (a note moved off a track where it clashed): on
#: the validation count benchmark (K given) a chord-playing instrument with 1-3 melody instruments 0.6425 without the step, 0.6386 / 0.6365 / 0.6334 with it below 0.5 / 0.55 / 0.6; the
#: one-note-at-a-time mixes 0.7007 -> 0.7146 / 0.7177 / 0.7176; the validation chorales and quartets even
#: (mean 0.6813 / 0.6817 / 0.6822, 0.6762 without).
LINES_ONLY = 0.5


@dataclass
class InstrumentCount:
    """The count of ``instruments="auto"`` and the evidence behind it (:func:`count_instruments`).

    Attributes
    ----------
    k : the number of instruments.
    runner_up : the count of the nearest other reading (None when it gives the same K).
    chord_probability : mean probability, over the confident notes, that a chord-playing instrument
        (piano, guitar, harp, organ, …) played them (:func:`polyphonic_probability`).
    reading : "lines" (one-note-at-a-time parts only: K = voices), "chords and lines" (a chord-playing
        instrument counted once, plus the lines of the other notes) or "chords" (one chord-playing
        instrument plays everything: K = 1).
    voices : notes sounding at once over the whole piece (:func:`count_voices`).
    lines : one-note-at-a-time lines among the notes not read as chord-playing.
    line_shares : per p = 1, 2, …, the share of the sounding frames where p or more of those notes sound.
    timbres : timbre groups in the note embeddings (:func:`estimate_n_clusters`).
    probabilities : [K, probability] pairs of the learned count (:mod:`mitkit.count_model`), the most likely
        first; empty when the checkpoint has no count model and the reading alone decides.
    evidence : what the learned count weighs, by name (:data:`mitkit.count_model.COUNT_FEATURES`).
    reason : one sentence a user can read.
    """

    k: int
    runner_up: int | None = None
    chord_probability: float = 0.0
    reading: str = "lines"
    voices: int = 1
    lines: int = 0
    line_shares: list = field(default_factory=list)
    timbres: int = 1
    probabilities: list = field(default_factory=list)
    evidence: dict = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["chord_probability"] = round(float(self.chord_probability), 4)
        d["line_shares"] = [round(float(x), 4) for x in self.line_shares]
        d["probabilities"] = [[int(k), round(float(p), 4)] for k, p in self.probabilities]
        d["evidence"] = {name: round(float(x), 4) for name, x in self.evidence.items()}
        return d


def polyphonic_probability(E, classifier: dict) -> np.ndarray:
    """Probability that each note (unit embedding row of ``E``) comes from a chord-playing instrument:
    a logistic regression ``{"coef": [D floats], "intercept": float}`` fitted on synthetic mixes
    (``scripts/fit_polyphony.py``) and stored in the checkpoint whose embeddings it reads."""
    z = np.asarray(E, np.float64) @ np.asarray(classifier["coef"], np.float64) + float(classifier["intercept"])
    return 1.0 / (1.0 + np.exp(-z))


def chord_probability(E, amplitudes, classifier: dict) -> float:
    """Mean :func:`polyphonic_probability` of the confident notes (:func:`core_notes` of their amplitudes):
    the evidence that a chord-playing instrument plays (below ``CHORDS_PRESENT``: every part plays one note
    at a time, the "lines" reading of :func:`count_instruments`; below ``LINES_ONLY`` the tracks are kept to
    one note at a time)."""
    return float(polyphonic_probability(E, classifier)[core_notes(amplitudes)].mean())


def chord_tracks(E, labels, classifier: dict) -> list[int]:
    """Track ids read as chord-playing instruments: those whose notes' mean :func:`polyphonic_probability`
    reaches ``POLYPHONIC_PROBABILITY``, and always the track with the highest mean (where the notes' chord
    probability says a chord-playing instrument plays, one track holds it).

    >>> classifier = {"coef": [4.0, 0.0], "intercept": 0.0}   # the first dimension says "chords"
    >>> E = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
    >>> chord_tracks(E, np.array([0, 0, 1, 1]), classifier)
    [0]
    """
    labels = np.asarray(labels)
    p = polyphonic_probability(E, classifier)
    mean = np.array([p[labels == k].mean() if np.any(labels == k) else 0.0 for k in range(int(labels.max()) + 1)])
    return sorted(set(np.flatnonzero(mean >= POLYPHONIC_PROBABILITY).tolist()) | {int(mean.argmax())})


def count_instruments(notes, E, classifier: dict | None, *, max_instruments: int = MAX_INSTRUMENTS,
                      random_state=0) -> InstrumentCount:
    """How many instruments play (``instruments="auto"``): each one-note-at-a-time line counts once, and a
    chord-playing instrument counts once however many notes it plays at once.

    1. The timbre of each confident note says how likely a chord-playing instrument (piano, guitar, harp,
       organ, …) played it (:func:`polyphonic_probability`, learned on synthetic mixes); their mean is the
       chord probability.
    2. Below ``CHORDS_PRESENT`` every part is a line: K = the notes sounding at once (:func:`count_voices`).
       Above ``CHORDS_ONLY`` one chord-playing instrument plays everything: K = 1. In between, K = 1 for the
       chord-playing instrument + the lines among the other notes (at least 2).
    3. The runner-up is the count of the reading on the other side of the nearest threshold.
    4. Where the classifier holds a learned count (``classifier["count"]``, :mod:`mitkit.count_model`), it
       weighs all of that evidence (and the timbre groups, the affinity's spectrum, and how often the groups of
       a 2-, 3- or 4-group timbre split sound two notes at once: :mod:`mitkit.count_evidence`) and its most
       likely K wins, the runner-up being its second; past the largest K it was fitted on, a "lines" reading's
       count stands where the notes not read as chord-playing hold as many lines. The rules' reading stays in
       the evidence. On the validation count benchmark it counted 88 % right against 73 % for the rules alone,
       on the validation chorales 83 % against 83 % (model card, "The learned count").

    Parameters
    ----------
    notes : NOTE_DTYPE array (frames).
    E : (N, D) unit note embeddings, one row per note.
    classifier : the checkpoint's ``polyphony_classifier`` (:func:`polyphonic_probability`); None (a checkpoint
        without one) counts timbre groups instead (:func:`estimate_n_clusters`, mitkit 0.1's rule).
    max_instruments : cap of the count.
    random_state : seed of the timbre-group estimate reported beside the count.

    Returns
    -------
    InstrumentCount
    """
    notes = validate_notes(notes)
    max_instruments = check_max_clusters(max_instruments)
    E = check_embeddings(E)
    if len(E) != len(notes):
        raise MitkitError(f"E has {len(E)} rows and must have one per note ({len(notes)})")
    if len(notes) == 0:
        return InstrumentCount(k=1, reason="no notes")
    core = core_notes(notes["amplitude"])
    timbres, spectrum = estimate_n_clusters(E[core], max_clusters=max_instruments, random_state=random_state,
                                            return_details=True)
    if classifier is None:
        return InstrumentCount(k=timbres, timbres=timbres,
                               reason=f"{timbres} timbre groups (this checkpoint has no polyphony classifier)")
    p = polyphonic_probability(E, classifier)
    mean_chord = float(p[core].mean())  # chord_probability(), from the p computed here
    n_frames = int(notes["end"].max())
    sounding = sounding_counts(notes, n_frames)
    n_sounding = np.sum(sounding > 0)
    at_once = shares_at_least(sounding, n_sounding, max(max_instruments, 5))
    voices = min(at_once_for(at_once[:max_instruments], VOICE_FRACTION), len(notes))
    line_shares = shares_at_least(sounding_counts(notes[p < POLYPHONIC_PROBABILITY], n_frames), n_sounding,
                                  max(max_instruments, 5))
    lines = at_once_for(line_shares[:max_instruments], PRESENCE_FRACTION)
    counts = {"lines": voices, "chords and lines": int(np.clip(lines + 1, 2, max_instruments)), "chords": 1}
    reading = ("chords" if mean_chord >= CHORDS_ONLY else
               "chords and lines" if mean_chord >= CHORDS_PRESENT else "lines")
    nearest = "chords and lines"  # the reading across the nearest threshold
    if reading == "chords and lines":
        nearest = "chords" if CHORDS_ONLY - mean_chord < mean_chord - CHORDS_PRESENT else "lines"
    k, runner_up = counts[reading], counts[nearest]
    reason = {"lines": f"one-note-at-a-time parts (chord probability {mean_chord:.2f} < {CHORDS_PRESENT}): "
                       f"{voices} sound at once",
              "chords and lines": f"a chord-playing instrument (chord probability {mean_chord:.2f}) and "
                                  f"{k - 1} line{'s' * (k > 2)} besides it"
                                  + (f" (the reading's least; {lines} found)" if lines + 1 < k else
                                     f" (the cap; {lines} found)" if lines + 1 > k else ""),
              "chords": f"one chord-playing instrument plays everything (chord probability "
                        f"{mean_chord:.2f} >= {CHORDS_ONLY})"}[reading]
    probabilities = []
    overlaps = grouping_overlaps(notes, E, core, temperature=AUTO_K_TEMPERATURE, max_points=AUTO_K_MAX_POINTS,
                                 random_state=random_state)
    evidence = count_evidence(p >= POLYPHONIC_PROBABILITY, core, mean_chord, at_once, line_shares, timbres, spectrum,
                              n_sounding, voices, lines, overlaps)
    if classifier.get("count") is not None:
        probabilities = count_probabilities(evidence, classifier["count"])
        learned = [(min(c, max_instruments), q) for c, q in probabilities]
        k = learned[0][0]
        if reading == "lines" and min(lines, voices) > k == max(c for c, _ in probabilities):
            k = voices  # more lines, none of them chords, than the model has seen counted: each is an instrument
        runner_up = next((c for c, _ in learned if c != k), None)
        reason = (f"the learned count weighs the evidence ({learned[0][1]:.0%} for {learned[0][0]}"
                  + (f", {learned[1][1]:.0%} for {learned[1][0]}" if len(learned) > 1 else "")
                  + f"); {timbres} timbre group{'s' * (timbres > 1)}; the rules' reading: {reason}")
    return InstrumentCount(k=k, runner_up=None if runner_up == k else runner_up,
                           chord_probability=mean_chord, reading=reading, voices=voices, lines=lines,
                           line_shares=line_shares[:max_instruments], timbres=timbres, probabilities=probabilities,
                           evidence=evidence, reason=f"{k} instrument{'s' * (k > 1)}: {reason}")


COUNT_RULES = ("auto", "voices")  # instruments= values that count K: from the embeddings, or from polyphony


def check_instruments(instruments, name: str = "instruments"):
    """``instruments`` as an int 1..MAX_INSTRUMENTS or one of :data:`COUNT_RULES` (digit strings are read
    as ints), or a clear error naming ``name``; the one check of this argument (API and CLI)."""
    if instruments in COUNT_RULES:
        return instruments
    if isinstance(instruments, str) and instruments.isdigit():
        instruments = int(instruments)
    if not isinstance(instruments, (int, np.integer)) or isinstance(instruments, bool) \
            or not 1 <= instruments <= C.MAX_INSTRUMENTS:
        raise MitkitError(f"{name}={instruments!r} must be an integer 1..{C.MAX_INSTRUMENTS}, 'auto' or 'voices'")
    return int(instruments)
