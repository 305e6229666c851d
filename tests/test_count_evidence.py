"""What the count looks at (mitkit.count_evidence): timbre groups checked against the notes sounding at once."""
import numpy as np
import pytest
from test_instrument_count import CLASSIFIER, chords, line

from mitkit.count_evidence import GROUPINGS, grouping_overlaps
from mitkit.count_model import COUNT_FEATURES
from mitkit.instrument_count import count_instruments
from mitkit.notes import NOTE_DTYPE


def timbres(*parts, seed=0, spread=0.05):
    """Notes of ``parts`` (lists of note rows) and unit embeddings: each part its own timbre direction."""
    rng = np.random.default_rng(seed)
    rows, E = [], []
    for k, part in enumerate(parts):
        rows += part
        e = rng.normal(size=(len(part), 12)) * spread
        e[:, k + 1] += 1.0
        E.append(e / np.linalg.norm(e, axis=1, keepdims=True))
    return np.array(rows, NOTE_DTYPE), np.concatenate(E)


def overlaps(notes, E, core=None, **kw):
    core = np.arange(len(notes)) if core is None else core
    return grouping_overlaps(notes, E, core, temperature=0.2, max_points=kw.pop("max_points", 1000), **kw)


def test_lines_grouped_right_never_sound_two_notes_at_once():
    notes, E = timbres(line(20, 72), line(20, 60, offset=5), line(20, 45, offset=9))
    out = overlaps(notes, E)
    assert out["groups_3_overlap"] == 0.0 and out["groups_4_overlap"] == 0.0  # a fourth group splits a line
    assert out["groups_2_overlap"] > 0.5  # two lines share a group: it sounds two notes most of the time
    assert out["groups_2_overlap_but_one"] == 0.0  # ... and it is the only such group


def test_a_chord_playing_group_is_the_one_left_out():
    notes, E = timbres(line(20, 76, step=10, length=9), chords(10, 48, size=3))
    out = overlaps(notes, E)
    assert out["groups_2_overlap"] > 0.5 and out["groups_2_overlap_but_one"] == 0.0
    three_lines = overlaps(*timbres(line(20, 76), line(20, 60, offset=5), line(20, 45, offset=9)))
    assert three_lines["groups_2_overlap_but_one"] == 0.0 < three_lines["groups_2_overlap"]


def test_notes_outside_the_core_join_the_nearest_group():
    notes, E = timbres(line(20, 72), line(20, 60, offset=5), line(20, 45, offset=9))
    alone = overlaps(notes, E)
    ghost = np.array([(3, 15, 80, 0.3)], NOTE_DTYPE)  # a weak note of the first line's timbre, over its first note
    more = overlaps(np.concatenate([notes, ghost]), np.concatenate([E, E[:1]]), core=np.arange(len(notes)))
    assert alone["groups_3_overlap"] == 0.0 < more["groups_3_overlap"]


def test_too_few_confident_notes_give_no_evidence_and_subsampling_is_seeded():
    notes, E = timbres(line(3, 72), line(3, 60))
    assert set(overlaps(notes, E).values()) == {0.0} and len(overlaps(notes, E)) == 2 * len(GROUPINGS)
    notes, E = timbres(line(40, 72), line(40, 60, offset=5), line(40, 45, offset=9), seed=3)
    a, b = overlaps(notes, E, max_points=30, random_state=1), overlaps(notes, E, max_points=30, random_state=1)
    assert a == b and all(0.0 <= v <= 1.0 for v in a.values())


def test_count_instruments_reports_the_grouping_evidence():
    notes, E = timbres(line(20, 72), line(20, 60, offset=5), line(20, 45, offset=9))
    evidence = count_instruments(notes, E, CLASSIFIER).evidence
    assert set(evidence) == set(COUNT_FEATURES)
    assert evidence["groups_3_overlap"] == pytest.approx(overlaps(notes, E)["groups_3_overlap"])
