"""Wiring: what a checkpoint's tuned settings and keyword overrides turn into inside mitkit.transcription.

The bundled model with four *distinct* note settings (no two equal, none equal to a default or to the
bundled values) and its own clustering temperature: a swapped or dropped setting anywhere between the
checkpoint, the keyword arguments, the CLI and ``create_notes`` / ``cluster_notes`` shows up here, on
purpose rather than as a small drop in an F1 score. Independent of the golden file.
"""
import json

import numpy as np
import pytest

import mitkit
import mitkit.transcription as T
from mitkit import constants as C
from mitkit.checkpoint import load_checkpoint, save_checkpoint
from mitkit.cli import main
from mitkit.note_creation import DEFAULT_THRESHOLDS, create_notes
from mitkit.onset_level import onset_level

TUNED = {"onset_threshold": 0.45, "frame_threshold": 0.25, "min_note_frames": 9, "energy_tolerance": 7}
TEMPERATURE = 0.7  # neither the bundled checkpoint's (0.5) nor the default


def test_settings_are_distinct():
    assert len(set(TUNED.values())) == 4
    for name, value in TUNED.items():
        assert value != DEFAULT_THRESHOLDS[name] and value != load_checkpoint()["thresholds"].get(name)
    assert TEMPERATURE != load_checkpoint().get("affinity_temperature")


@pytest.fixture(scope="module")
def tuned_checkpoint(tmp_path_factory):
    ckpt = load_checkpoint()
    payload = {k: v for k, v in ckpt.items() if k not in ("format", "format_version")}
    payload["thresholds"], payload["affinity_temperature"] = dict(TUNED), TEMPERATURE
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tuned.pt", payload)


@pytest.fixture(scope="module")
def excerpt():
    """6 s of the bundled example (4 parts)."""
    return mitkit.load_audio(mitkit.example_path())[2 * C.SAMPLE_RATE:8 * C.SAMPLE_RATE]


@pytest.fixture(scope="module")
def short(excerpt):
    return excerpt[:3 * C.SAMPLE_RATE]


class Spy:
    """Wraps a function, records each call's keyword arguments, and calls through."""

    def __init__(self, fn):
        self.fn, self.calls, self.args = fn, [], []

    def __call__(self, *args, **kwargs):
        self.calls.append(kwargs)
        self.args.append(args)
        return self.fn(*args, **kwargs)


@pytest.fixture
def spies(monkeypatch):
    out = {}
    for name in ("create_notes", "cluster_notes", "cluster_frames", "notes_from_frame_clusters", "count_instruments"):
        out[name] = Spy(getattr(T, name))
        monkeypatch.setattr(T, name, out[name])
    return out


def test_checkpoint_settings_reach_create_notes(tuned_checkpoint, excerpt, spies):
    t = mitkit.transcribe(excerpt, sr=C.SAMPLE_RATE, instruments=3, checkpoint=tuned_checkpoint)
    [kwargs] = spies["create_notes"].calls
    assert kwargs == TUNED
    assert t.thresholds == TUNED and t.affinity_temperature == TEMPERATURE
    # the result's notes are exactly create_notes at those settings (not only what the spy saw)
    post = t.posteriorgrams
    np.testing.assert_array_equal(t.frame_notes, create_notes(post.frames, post.onsets, **TUNED))
    [cluster] = spies["cluster_notes"].calls
    assert cluster["temperature"] == TEMPERATURE
    np.testing.assert_array_equal(cluster["pitches"], t.frame_notes["pitch"])
    np.testing.assert_array_equal(cluster["amplitudes"], t.frame_notes["amplitude"])


@pytest.mark.parametrize("override", [{"onset_threshold": 0.62}, {"frame_threshold": 0.41},
                                      {"min_note_frames": 5}, {"energy_tolerance": 3},
                                      {"onset_threshold": 0.35, "frame_threshold": 0.5}, {"reonset_threshold": 0.07},
                                      {"claim_neighbours": False}, {"onset_lookback": 0}, {"onset_lookback": 40}])
def test_keyword_overrides_win(tuned_checkpoint, short, spies, override):
    t = mitkit.transcribe(short, sr=C.SAMPLE_RATE, instruments=1, checkpoint=tuned_checkpoint, **override)
    [kwargs] = spies["create_notes"].calls
    assert kwargs == {**TUNED, **override} == t.thresholds


@pytest.mark.parametrize("override, keeps_reference", [({}, True), ({"frame_threshold": 0.41}, True),
                                                       ({"onset_threshold": 0.62}, False),
                                                       ({"reonset_threshold": 0.07}, False)])
def test_an_onset_threshold_given_applies_as_given(tuned_checkpoint, short, spies, tmp_path, override,
                                                   keeps_reference):
    """A checkpoint whose onset thresholds follow the audio's onset level (``onset_reference``) keeps that rule
    unless the caller sets an onset or re-onset threshold, which then applies as given."""
    ckpt = load_checkpoint(tuned_checkpoint)
    payload = {k: v for k, v in ckpt.items() if k not in ("format", "format_version")}
    payload["thresholds"] = {**TUNED, "onset_reference": 0.66}
    path = save_checkpoint(tmp_path / "level.pt", payload)
    t = mitkit.transcribe(short, sr=C.SAMPLE_RATE, instruments=1, checkpoint=path, **override)
    [kwargs] = spies["create_notes"].calls
    want = {**TUNED, **override, **({"onset_reference": 0.66} if keeps_reference else {})}
    assert kwargs == want == t.thresholds
    # what applied to this audio: the onset threshold times its onset level over the reference
    level = onset_level(t.posteriorgrams.onsets)
    factor = min(max(level / 0.66, 0.5), 1.5) if keeps_reference else 1.0
    assert t.applied_thresholds == {**{k: v for k, v in want.items() if k != "onset_reference"},
                                    "onset_threshold": pytest.approx(want["onset_threshold"] * factor, abs=1e-4)}


def test_frame_level_path_gets_the_same_settings(tuned_checkpoint, short, spies):
    t = mitkit.transcribe(short, sr=C.SAMPLE_RATE, instruments=2, clustering="frame",
                          checkpoint=tuned_checkpoint, onset_threshold=0.55)
    want = {**TUNED, "onset_threshold": 0.55}
    assert t.thresholds == want
    [frames] = spies["cluster_frames"].calls
    assert frames["frame_threshold"] == want["frame_threshold"]
    [notes] = spies["notes_from_frame_clusters"].calls
    assert notes == want
    assert spies["create_notes"].calls == []  # frame level makes notes per cluster only


def test_voices_counts_notes_made_with_the_same_settings(tuned_checkpoint, excerpt, spies):
    t = mitkit.transcribe(excerpt, sr=C.SAMPLE_RATE, instruments="voices", checkpoint=tuned_checkpoint,
                          frame_threshold=0.35)
    assert spies["create_notes"].calls == [{**TUNED, "frame_threshold": 0.35}]
    assert t.instruments == 4


def test_bundled_checkpoint_settings_are_used_by_default(excerpt, spies):
    ckpt = load_checkpoint()
    t = mitkit.transcribe(excerpt, sr=C.SAMPLE_RATE, instruments=2)
    want = {**DEFAULT_THRESHOLDS, **ckpt["thresholds"]}
    assert spies["create_notes"].calls == [want] and t.thresholds == want
    assert spies["cluster_notes"].calls[0]["temperature"] == ckpt["affinity_temperature"]


def test_cli_options_reach_the_transcription(tuned_checkpoint, short, tmp_path):
    import soundfile as sf
    audio = tmp_path / "x.wav"
    sf.write(audio, short, C.SAMPLE_RATE)
    out = tmp_path / "out"
    assert main(["transcribe", str(audio), "--out", str(out), "-k", "1", "--checkpoint", str(tuned_checkpoint),
                 "--onset-threshold", "0.6", "--frame-threshold", "0.2", "--min-note-frames", "6",
                 "--onset-lookback", "0"]) == 0
    d = json.loads((out / "x.json").read_text())
    assert d["thresholds"] == {**TUNED, "onset_threshold": 0.6, "frame_threshold": 0.2, "min_note_frames": 6,
                               "onset_lookback": 0}
    assert main(["transcribe", str(audio), "--out", str(out), "-k", "1", "--checkpoint", str(tuned_checkpoint),
                 "--overwrite"]) == 0
    assert json.loads((out / "x.json").read_text())["thresholds"] == TUNED


def test_regroup_uses_the_checkpoint_temperature(tuned_checkpoint, excerpt, spies):
    t = mitkit.transcribe(excerpt, sr=C.SAMPLE_RATE, instruments=2, checkpoint=tuned_checkpoint)
    again = t.regroup(3)
    assert [c["temperature"] for c in spies["cluster_notes"].calls] == [TEMPERATURE, TEMPERATURE]
    assert again.instruments == 3 and again.thresholds == TUNED


def test_seed_and_polyphony_classifier_reach_the_count_and_the_clustering(excerpt, spies):
    classifier = load_checkpoint()["polyphony_classifier"]
    t = mitkit.transcribe(excerpt, sr=C.SAMPLE_RATE, random_state=7)  # instruments="auto"
    [count_args], [count_kwargs] = spies["count_instruments"].args, spies["count_instruments"].calls
    assert count_args[2] == classifier and count_kwargs == {"random_state": 7}
    assert t.count is not None and t.count.k == t.instruments > 1
    assert spies["cluster_notes"].calls[0]["random_state"] == 7
    again = t.regroup("auto", random_state=5)
    assert spies["count_instruments"].args[1][2] == classifier
    assert spies["count_instruments"].calls[1] == {"random_state": 5}
    assert spies["cluster_notes"].calls[1]["random_state"] == 5
    assert again.count is not None and again.count.k == again.instruments
    assert t.regroup(3).count is None  # a given K is not counted


def test_frame_level_gets_the_seed(short, spies):
    mitkit.transcribe(short, sr=C.SAMPLE_RATE, instruments=2, clustering="frame", random_state=11)
    [frames] = spies["cluster_frames"].calls
    assert frames["random_state"] == 11


def test_frame_level_without_notes_warns_and_has_no_tracks(short):
    with pytest.warns(UserWarning, match="^no notes found at the given thresholds$"):
        t = mitkit.transcribe(short, sr=C.SAMPLE_RATE, instruments=2, clustering="frame", frame_threshold=1.0)
    assert t.tracks == [] and t.clustering == "frame" and t.instruments == 0
