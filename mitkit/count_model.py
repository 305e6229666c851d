"""The learned part of ``instruments="auto"``: a multinomial logistic regression that weighs the count's evidence.

The evidence (:data:`COUNT_FEATURES`, computed by :func:`mitkit.count_evidence.count_evidence` for
:func:`mitkit.instrument_count.count_instruments`) is what each counting rule looks at: the notes' chord
probability, how many notes sound at once (all notes, and the notes not read as chord-playing), the timbre
affinity's spectrum, the rules' own counts, and how often the groups of a 2-, 3- or 4-group timbre split sound
two notes at once. No single rule is
right everywhere (counting voices fails on a piano, counting timbre groups on a quartet of one family), so a
small model fitted on synthetic count benchmarks (``scripts/fit_polyphony.py``) weighs them; it is stored
with the polyphony classifier in the checkpoint (``polyphony_classifier["count"]``), as plain numbers.

Notebook: 03_embeddings_and_clustering
"""
from __future__ import annotations

import numpy as np

from mitkit.errors import MitkitError

#: Names of the evidence the model reads, in its coefficient order.
COUNT_FEATURES = (
    "chord_probability",        # mean chord-playing probability of the confident notes
    "chord_share",              # share of all notes read as chord-playing (probability >= 0.5)
    "chord_share_confident",    # the same over the confident notes
    "at_once_2", "at_once_3", "at_once_4", "at_once_5",  # share of sounding frames with >= p notes
    "lines_at_once_1", "lines_at_once_2", "lines_at_once_3", "lines_at_once_4", "lines_at_once_5",  # notes not chord-playing
    "timbre_groups",            # estimate_n_clusters on the confident notes
    "eigen_2", "eigen_3", "eigen_4", "eigen_5", "eigen_6",  # Laplacian eigenvalues 2..6 over the bulk level
    "log_notes", "log_sounding_frames",
    "voices", "lines",          # the "lines" and "chords and lines" readings' counts
    *(f"groups_{k}_overlap{tail}" for k in (2, 3, 4) for tail in ("", "_but_one")),  # K timbre groups vs. notes at once
)


def check_count_model(model: dict) -> dict:
    """``model`` if it is a well-formed count model (named features, standardisation, one row of weights
    per class), or a clear error."""
    try:
        features = list(model["features"])
        classes = [int(k) for k in model["classes"]]
        shapes = (np.shape(model["mean"]), np.shape(model["scale"]), np.shape(model["coef"]), np.shape(model["intercept"]))
    except (KeyError, TypeError) as e:
        raise MitkitError(f"the checkpoint's count model is malformed ({e!r})") from None
    if features != list(COUNT_FEATURES):
        raise MitkitError("the checkpoint's count model reads other evidence than this mitkit computes: "
                          "refit it with scripts/fit_polyphony.py")
    n, k = len(features), len(classes)
    if shapes != ((n,), (n,), (k, n), (k,)) or sorted(classes) != classes or classes[0] < 1:
        raise MitkitError(f"the checkpoint's count model has inconsistent shapes {shapes} for {n} features "
                          f"and classes {classes}")
    return model


def count_probabilities(evidence: dict, model: dict) -> list[tuple[int, float]]:
    """(K, probability) for each count the model knows, the most likely first.

    >>> n = len(COUNT_FEATURES)   # a model whose K = 2 grows with the chord probability (the first feature)
    >>> model = {"features": list(COUNT_FEATURES), "classes": [1, 2], "mean": [0.0] * n, "scale": [1.0] * n,
    ...          "coef": [[0.0] * n, [1.0] + [0.0] * (n - 1)], "intercept": [0.0, 0.0]}
    >>> [(k, round(p, 3)) for k, p in count_probabilities({**dict.fromkeys(COUNT_FEATURES, 0.0),
    ...                                                     "chord_probability": 2.0}, model)]
    [(2, 0.881), (1, 0.119)]
    """
    model = check_count_model(model)
    x = np.array([float(evidence[name]) for name in COUNT_FEATURES])
    z = (x - np.asarray(model["mean"], float)) / np.asarray(model["scale"], float)
    logits = np.asarray(model["coef"], float) @ z + np.asarray(model["intercept"], float)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    order = np.argsort(-p, kind="stable")
    return [(int(model["classes"][i]), float(p[i])) for i in order]


def evidence_weights(evidence: dict, model: dict, k: int) -> list[tuple[str, float]]:
    """Why the model leans towards ``k``: each piece of evidence's share of K = ``k``'s logit minus the mean
    logit of all counts (positive: it argues for ``k``), the strongest first.

    >>> n = len(COUNT_FEATURES)   # a model whose K = 2 grows with the chord probability (the first feature)
    >>> model = {"features": list(COUNT_FEATURES), "classes": [1, 2], "mean": [0.0] * n, "scale": [1.0] * n,
    ...          "coef": [[0.0] * n, [1.0] + [0.0] * (n - 1)], "intercept": [0.0, 0.0]}
    >>> evidence_weights({**dict.fromkeys(COUNT_FEATURES, 0.0), "chord_probability": 2.0}, model, 2)[0]
    ('chord_probability', 1.0)
    """
    model = check_count_model(model)
    if k not in model["classes"]:
        raise MitkitError(f"k={k!r} must be one of the counts the model knows: {model['classes']}")
    x = np.array([float(evidence[name]) for name in COUNT_FEATURES])
    z = (x - np.asarray(model["mean"], float)) / np.asarray(model["scale"], float)
    coef = np.asarray(model["coef"], float)
    share = (coef[model["classes"].index(k)] - coef.mean(axis=0)) * z
    order = np.argsort(-np.abs(share), kind="stable")
    return [(COUNT_FEATURES[i], float(share[i])) for i in order]
