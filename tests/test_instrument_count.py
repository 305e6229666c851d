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
                      "timbres", "reason"}
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
