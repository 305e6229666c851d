"""count_instruments (instruments="auto"): a chord-playing instrument counts once, each line once."""
import json

import numpy as np
import pytest

from mitkit.errors import MitkitError
from mitkit.instrument_count import (
    PRESENCE_FRACTION,
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


def scene(*parts, seed=0):
    """Notes of (rows, chord_playing) parts, and unit embeddings whose first coordinate says which."""
    rng = np.random.default_rng(seed)
    rows, E = [], []
    for timbre, (part, chord_playing) in enumerate(parts):
        rows += part
        direction = rng.normal(size=12) * 0.3
        direction[0] = 1.0 if chord_playing else -1.0
        e = direction + rng.normal(size=(len(part), 12)) * 0.05
        E.append(e / np.linalg.norm(e, axis=1, keepdims=True))
    return np.array(rows, NOTE_DTYPE), np.concatenate(E)


def test_a_chord_playing_instrument_counts_once():
    notes, E = scene((chords(30, 48, size=4), True))  # a piano playing four voices
    result = count_instruments(notes, E, CLASSIFIER)
    assert result.k == 1 and result.polyphonic_instrument and result.lines == 0 and result.voices == 4
    assert "a chord-playing instrument" in result.reason


def test_lines_count_one_each_even_when_they_share_a_timbre():
    notes, E = scene((line(30, 76), False), (line(30, 67, offset=3), False), (line(30, 55), False),
                     (line(30, 40), False))  # a quartet: the two violins' lines count as two
    result = count_instruments(notes, E, CLASSIFIER)
    assert result.k == 4 and not result.polyphonic_instrument and result.lines == 4


def test_melody_over_a_chord_playing_instrument():
    notes, E = scene((line(40, 76, step=15, length=14), False), (chords(30, 48), True))
    result = count_instruments(notes, E, CLASSIFIER)
    assert (result.k, result.lines, result.polyphonic_instrument) == (2, 1, True)


def test_presence_threshold_and_runner_up():
    # chord-playing notes sounding in a share of the time just above PRESENCE_FRACTION: counted, and the
    # runner-up is the count without them
    n = 40
    n_chords = int(np.ceil(PRESENCE_FRACTION * n)) + 1
    notes, E = scene((line(n, 70), False), (chords(n_chords, 48), True))
    result = count_instruments(notes, E, CLASSIFIER)
    assert result.polyphonic_share >= PRESENCE_FRACTION and result.k == 2 and result.runner_up == 1
    # a few misread notes (far below the threshold) add nothing
    notes, E = scene((line(n, 70), False), (chords(3, 48), True))
    result = count_instruments(notes, E, CLASSIFIER)
    assert result.polyphonic_share < PRESENCE_FRACTION and result.k == 1


def test_evidence_is_reported_and_serialisable():
    notes, E = scene((line(30, 72), False), (chords(30, 48), True))
    result = count_instruments(notes, E, CLASSIFIER)
    d = json.loads(json.dumps(result.to_dict()))
    assert d["k"] == result.k == 2
    assert set(d) == {"k", "runner_up", "polyphonic_instrument", "lines", "polyphonic_share", "line_shares",
                      "voices", "timbres", "reason"}
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
