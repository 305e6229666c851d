"""count_instruments (instruments="auto"): a chord-playing instrument counts once, each line once."""
import json

import numpy as np
import pytest

from mitkit.errors import MitkitError
from mitkit.instrument_count import (
    CHORDS_ONLY,
    CHORDS_PRESENT,
    InstrumentCount,
    count_instruments,
    polyphonic_probability,
    sounding_counts,
)
from mitkit.notes import NOTE_DTYPE

#: a classifier that reads the first embedding coordinate: positive = a chord-playing instrument
CLASSIFIER = {"coef": [8.0] + [0.0] * 11, "intercept": 0.0}


def line(n, low, step=20, length=18, offset=0):
    """A one-note-at-a-time part: n notes one after another."""
    return [(offset + i * step, offset + i * step + length, low + (i * 5) % 12, 0.9) for i in range(n)]


def chords(n, low, size=3, step=20, length=18, offset=0):
    """A chord-playing part: n chords of ``size`` notes struck together."""
    return [(offset + i * step, offset + i * step + length, low + 4 * j + (i * 2) % 5, 0.9)
            for i in range(n) for j in range(size)]


def scene(*parts, seed=0, chord_logit=4.0):
    """Notes of (rows, chord_playing) parts, and unit embeddings whose first coordinate carries the
    classifier's logit: about +-``chord_logit`` / 8 for chord-playing / other parts."""
    rng = np.random.default_rng(seed)
    rows, E = [], []
    for part, chord_playing in parts:
        rows += part
        e = rng.normal(size=(len(part), 12)) * 0.02
        e[:, 1] = 1.0
        e[:, 0] = (chord_logit if chord_playing else -chord_logit) / 8.0
        E.append(e / np.linalg.norm(e, axis=1, keepdims=True))
    return np.array(rows, NOTE_DTYPE), np.concatenate(E)


def test_a_chord_playing_instrument_counts_once():
    notes, E = scene((chords(30, 48, size=4), True))  # a piano playing four voices
    result = count_instruments(notes, E, CLASSIFIER)
    assert result.chord_probability >= CHORDS_ONLY
    assert (result.k, result.reading, result.voices, result.runner_up) == (1, "chords", 4, 2)
    assert "one chord-playing instrument plays everything" in result.reason


def test_lines_count_one_each_even_when_they_share_a_timbre():
    notes, E = scene((line(30, 76), False), (line(30, 67, offset=3), False), (line(30, 55), False),
                     (line(30, 40), False))  # a quartet: the two violins' lines count as two
    result = count_instruments(notes, E, CLASSIFIER)
    assert result.chord_probability < CHORDS_PRESENT
    assert (result.k, result.reading, result.lines) == (4, "lines", 4)


def test_lines_beside_a_chord_playing_instrument():
    # a melody over piano chords, the piano notes dominating the mean chord probability but not all of it
    notes, E = scene((line(55, 76, step=10, length=9), False), (chords(30, 48, size=3), True), chord_logit=5.0)
    result = count_instruments(notes, E, CLASSIFIER)
    assert CHORDS_PRESENT <= result.chord_probability < CHORDS_ONLY
    assert (result.k, result.reading, result.lines) == (2, "chords and lines", 1)
    assert result.runner_up in (1, result.voices)


def test_thresholds_decide_the_reading():
    notes, E = scene((line(40, 70), False), (chords(40, 48, size=2), True))
    p_chords = count_instruments(notes, E, CLASSIFIER).chord_probability
    readings = []
    for shift in (-10.0, 0.0, 10.0):  # the intercept moves every note's probability the same way
        result = count_instruments(notes, E, {**CLASSIFIER, "intercept": shift})
        readings.append(result.reading)
    assert readings == ["lines", readings[1], "chords"] and 0 < p_chords < 1


def test_evidence_is_reported_and_serialisable():
    notes, E = scene((line(30, 72), False), (chords(30, 48), True))
    result = count_instruments(notes, E, CLASSIFIER)
    d = json.loads(json.dumps(result.to_dict()))
    assert d["k"] == result.k
    assert set(d) == {"k", "runner_up", "chord_probability", "reading", "voices", "lines", "line_shares",
                      "timbres", "probabilities", "evidence", "reason"}
    assert d["line_shares"][0] == pytest.approx(1.0)  # the melody sounds all the time


def test_edge_cases_and_errors():
    assert count_instruments(np.zeros(0, NOTE_DTYPE), np.zeros((0, 12)), CLASSIFIER) == InstrumentCount(
        k=1, reason="no notes")
    notes, E = scene(*[(line(20, 40 + 6 * i), False) for i in range(8)])
    assert count_instruments(notes, E, CLASSIFIER, max_instruments=3).k == 3
    with pytest.raises(MitkitError, match="E has 3 rows and must have one per note"):
        count_instruments(notes, E[:3], CLASSIFIER)


def test_polyphonic_probability_is_a_logistic_regression():
    E = np.eye(12)[:2]
    p = polyphonic_probability(E, {"coef": [2.0, -1.0] + [0.0] * 10, "intercept": 0.5})
    assert p == pytest.approx(1 / (1 + np.exp(-np.array([2.5, -0.5]))))


def test_sounding_counts():
    notes = np.array([(0, 10, 60, 0.9), (5, 10, 64, 0.9), (20, 25, 60, 0.9)], NOTE_DTYPE)
    assert sounding_counts(notes).tolist() == [1] * 5 + [2] * 5 + [0] * 10 + [1] * 5
    assert sounding_counts(notes, 12).tolist() == [1] * 5 + [2] * 5 + [0] * 2


# ---- the mutation run's survivors (README, "Mutation testing"), killed ------------------------------------
def _classifier(intercept):
    """Every note gets the same chord probability sigmoid(intercept)."""
    return {"coef": [0.0] * 12, "intercept": intercept}


def _logit(p):
    return float(np.log(p / (1 - p)))


def test_every_reading_reports_its_exact_evidence():
    from mitkit.embeddings import core_notes
    from mitkit.instrument_count import estimate_n_clusters
    notes, E = scene((line(40, 76), False), (line(40, 60, offset=5), False), (line(40, 45, offset=9), False))
    timbres = estimate_n_clusters(E[core_notes(notes["amplitude"])])
    lines = count_instruments(notes, E, _classifier(_logit(0.3)))
    assert (lines.k, lines.reading, lines.voices, lines.lines, lines.runner_up) == (3, "lines", 3, 3, 4)
    assert lines.reason == "3 instruments: one-note-at-a-time parts (chord probability 0.30 < 0.6): 3 sound at once"
    assert lines.timbres == timbres and len(lines.line_shares) == 8
    n_sounding = int(np.sum(sounding_counts(notes) > 0))
    assert lines.line_shares[0] == pytest.approx(n_sounding / n_sounding)
    assert lines.line_shares[1] == pytest.approx(np.sum(sounding_counts(notes) >= 2) / n_sounding)
    both = count_instruments(notes, E, _classifier(_logit(0.62)))  # nearer CHORDS_PRESENT: runner-up "lines"
    assert both.reading == "chords and lines" and both.runner_up == both.voices == 3
    # every note reads as chord-playing (0.62 >= 0.5): no line left, the reading's least is said as such
    assert both.reason == ("2 instruments: a chord-playing instrument (chord probability 0.62) and 1 line besides it "
                           "(the reading's least; 0 found)")
    near_only = count_instruments(notes, E, _classifier(_logit(0.68)))  # nearer CHORDS_ONLY: runner-up "chords"
    assert near_only.reading == "chords and lines" and near_only.runner_up == 1
    chords = count_instruments(notes, E, _classifier(_logit(0.8)))
    assert (chords.k, chords.reading, chords.runner_up) == (1, "chords", 2)
    assert chords.reason == ("1 instrument: one chord-playing instrument plays everything (chord probability 0.80 "
                             ">= 0.7)")
    assert chords.timbres == timbres


def test_lines_beside_chords_count_each_and_respect_the_cap():
    # two lines read as one-note-at-a-time, chords read as chord-playing: 1 + 2 = 3 (2 with a cap of 2)
    notes, E = scene((line(20, 76, step=30, length=28), False), (line(20, 64, step=30, length=28, offset=4), False),
                     (chords(30, 40, size=3), True), chord_logit=5.0)
    result = count_instruments(notes, E, CLASSIFIER)
    assert result.reading == "chords and lines" and (result.k, result.lines) == (3, 2)
    assert result.reason.endswith("and 2 lines besides it")
    capped = count_instruments(notes, E, CLASSIFIER, max_instruments=2)
    assert capped.k == 2 and capped.timbres <= 2 and len(capped.line_shares) == 2
    assert capped.reason.endswith("and 1 line besides it (the cap; 2 found)")


def test_a_line_counts_from_exactly_the_presence_fraction():
    # one chord-playing part sounding in every frame, one line sounding in exactly 30 % of them
    rows = [(0, 100, 40, 0.9), (0, 100, 44, 0.9), (0, 100, 47, 0.9), (0, 30, 76, 0.9)]
    notes = np.array(rows, NOTE_DTYPE)
    E = np.zeros((4, 12))
    E[:3, 0], E[3, 0], E[:, 1] = 0.6, -0.6, 1.0
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    result = count_instruments(notes, E, CLASSIFIER)
    assert result.line_shares[0] == pytest.approx(0.3) and result.lines == 1


def test_runner_up_is_none_when_the_other_reading_counts_the_same():
    notes, E = scene((line(40, 76), False), (line(40, 60, offset=5), False))
    # p = 0.55: below CHORDS_PRESENT, so the reading is "lines" (2 voices); every note is above
    # POLYPHONIC_PROBABILITY, so "chords and lines" would count 1 + 0 lines → at least 2: the same
    result = count_instruments(notes, E, _classifier(_logit(0.55)))
    assert result.k == 2 and result.runner_up is None


def test_sounding_counts_of_no_notes_is_empty():
    assert sounding_counts(np.zeros(0, NOTE_DTYPE)).tolist() == []


def test_timbre_groups_are_reported_and_capped():
    from mitkit.synth.embeddings import make_synthetic_embeddings
    E, labels = make_synthetic_embeddings([40, 40, 40], kappa=200.0, random_state=3)
    order = np.argsort(labels, kind="stable")
    notes = np.array(line(40, 76) + line(40, 60, offset=5) + line(40, 45, offset=9), NOTE_DTYPE)
    E = E[order]
    assert count_instruments(notes, E, _classifier(_logit(0.3))).timbres == 3
    assert count_instruments(notes, E, _classifier(_logit(0.3)), max_instruments=2).timbres == 2


def test_one_short_note():
    notes = np.array([(10, 11, 60, 0.9)], NOTE_DTYPE)
    E = np.eye(12)[[1]]
    result = count_instruments(notes, E, _classifier(_logit(0.3)))
    assert result.k == 1 and result.line_shares[0] == 1.0



def test_silhouette_equals_scikit_learns():
    from sklearn.metrics import silhouette_score

    from mitkit.instrument_count import _silhouette
    rng = np.random.default_rng(0)
    for trial in range(30):
        X = rng.normal(size=(int(rng.integers(5, 60)), 3))
        labels = rng.integers(0, int(rng.integers(2, 6)), size=len(X))
        if trial % 5 == 0:
            labels[0] = labels.max() + 1  # a cluster of one point scores 0
        if np.unique(labels).size < 2 or np.unique(labels).size >= len(X):
            continue
        Dist = np.linalg.norm(X[:, None] - X[None], axis=2)
        assert _silhouette(Dist, labels) == pytest.approx(silhouette_score(Dist, labels, metric="precomputed"), abs=1e-12)
    assert _silhouette(np.zeros((4, 4)), np.zeros(4, int)) == -1.0
