"""Onset thresholds that follow the audio's onset level (mitkit.onset_level, create_notes(onset_reference=))."""
import numpy as np
import pytest

from mitkit.errors import MitkitError
from mitkit.note_creation import check_note_settings, create_notes
from mitkit.onset_level import ONSET_SCALE_RANGE, onset_level, scale_to_onset_level


def weak_onsets(level: float, n: int = 30) -> np.ndarray:
    """An onset posteriorgram whose n values at or above 0.3 all equal ``level``."""
    Y_O = np.zeros((84, 200), np.float32)
    Y_O[50:50 + n, 150] = level
    return Y_O


def test_level_is_the_90th_percentile_of_the_values_at_or_above_0_3():
    Y_O = np.zeros((84, 200), np.float32)
    Y_O[0, :100] = np.linspace(0.3, 1.0, 100)  # the 90th percentile: 0.93
    Y_O[1, :50] = 0.29  # below the floor: not counted
    assert onset_level(Y_O) == pytest.approx(0.93, abs=1e-6)


def test_too_few_onset_values_give_no_level():
    assert onset_level(weak_onsets(0.8, n=19)) is None
    assert onset_level(weak_onsets(0.8, n=20)) == pytest.approx(0.8)


@pytest.mark.parametrize("level, factor", [(0.39, 0.5), (0.6, 0.75), (0.8, 1.0), (1.0, 1.25)])
def test_thresholds_scale_by_the_level_over_the_reference(level, factor):
    settings = {"onset_threshold": 0.6, "reonset_threshold": 0.4, "frame_threshold": 0.3, "onset_reference": 0.8}
    got = scale_to_onset_level(settings, weak_onsets(level))
    assert got == {"onset_threshold": pytest.approx(0.6 * factor), "reonset_threshold": pytest.approx(0.4 * factor),
                   "frame_threshold": 0.3}  # the reference is used up; the frame threshold never moves
    assert settings["onset_reference"] == 0.8  # the caller's dict is left as it was


def test_the_factor_is_bounded_and_the_threshold_stays_a_probability():
    lo, hi = ONSET_SCALE_RANGE
    assert scale_to_onset_level({"onset_threshold": 0.6, "onset_reference": 0.9}, weak_onsets(0.31)) == \
        {"onset_threshold": pytest.approx(0.6 * lo)}
    assert scale_to_onset_level({"onset_threshold": 0.8, "onset_reference": 0.4}, weak_onsets(1.0)) == \
        {"onset_threshold": 1.0}  # 0.8 * 1.5 capped at 1
    assert 0.8 * hi > 1


def test_without_a_reference_or_a_level_nothing_changes():
    settings = {"onset_threshold": 0.6, "reonset_threshold": None}
    assert scale_to_onset_level(settings, weak_onsets(0.4)) == settings
    assert scale_to_onset_level({**settings, "onset_reference": 0.8}, np.zeros((84, 10))) == settings


def test_the_reference_is_checked_like_a_threshold():
    assert check_note_settings(onset_reference=0.78)["onset_reference"] == 0.78
    assert check_note_settings()["onset_reference"] is None
    for bad in (0, 1.5, "0.7", True):
        with pytest.raises(MitkitError, match="onset_reference"):
            check_note_settings(onset_reference=bad)


def repeated_note_posteriorgrams(onset: float):
    """A pitch re-attacked without a gap at frame 43 (onset peak ``onset``; the frames never dip), and 30 more
    onsets of that height elsewhere (the audio's onset level)."""
    Y_F = np.zeros((84, 200), np.float32)
    Y_O = weak_onsets(onset)
    Y_F[36, 10:80] = 0.9
    Y_O[36, 10] = Y_O[36, 43] = onset
    return Y_F, Y_O


def test_weak_onsets_split_a_repeated_note_only_when_the_threshold_follows_the_level():
    Y_F, Y_O = repeated_note_posteriorgrams(0.5)
    fixed = create_notes(Y_F, Y_O, onset_threshold=0.6)
    assert fixed[["start", "end"]].tolist() == [(10, 80)]  # the re-attack under 0.6: one note
    following = create_notes(Y_F, Y_O, onset_threshold=0.6, onset_reference=0.75)  # threshold 0.6 * 0.5 / 0.75
    assert following[["start", "end"]].tolist() == [(10, 43), (43, 80)]
    strong = create_notes(*repeated_note_posteriorgrams(0.65), onset_threshold=0.6, onset_reference=0.5)
    assert strong[["start", "end"]].tolist() == [(10, 80)]  # a high level raises the threshold (0.78) instead


def test_frame_clusters_use_the_whole_audios_level():
    """Each frame cluster's notes are made at the whole audio's threshold, not at its masked map's level."""
    import mitkit.clustering as clustering

    Y_F, Y_O = repeated_note_posteriorgrams(0.5)
    label_map = np.where(Y_F > 0, 0, -1)  # cluster 0 holds the repeated note only: its own map has no level
    notes, labels = clustering.notes_from_frame_clusters(Y_F, Y_O, label_map, 1, onset_threshold=0.6,
                                                         onset_reference=0.75)
    assert notes[["start", "end"]].tolist() == [(10, 43), (43, 80)]
