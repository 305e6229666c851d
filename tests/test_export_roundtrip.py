"""Export fidelity on a real transcription (the bundled example, 4 tracks, 130 notes).

MIDI: every note's pitch, velocity and program come back exactly and its times within one tick.
JSON: the dict read back equals the dict written, field for field.
"""
import json

import numpy as np
import pretty_midi
import pytest

from mitkit.export import transcription_to_dict
from mitkit.transcription import TRACK_PROGRAMS, read_json


def _sorted_notes(notes):
    return sorted(notes, key=lambda n: (round(n[0], 3), n[2], round(n[1], 3)))


@pytest.fixture(scope="module")
def midi_back(example_k4, tmp_path_factory):
    path = example_k4.to_midi(tmp_path_factory.mktemp("midi") / "example.mid")
    return pretty_midi.PrettyMIDI(str(path))


def test_midi_round_trip_is_exact(example_k4, midi_back):
    t, pm = example_k4, midi_back
    tick = pm.tick_to_time(1)  # seconds per tick at the file's tempo and resolution
    assert 0 < tick < 0.005
    assert len(pm.instruments) == t.instruments == 4
    assert [inst.program for inst in pm.instruments] == [tr.program for tr in t.tracks] == list(TRACK_PROGRAMS[:4])
    assert [inst.name for inst in pm.instruments] == [f"Track {tr.id + 1}" for tr in t.tracks]
    assert not any(inst.is_drum for inst in pm.instruments)
    for tr, inst in zip(t.tracks, pm.instruments):
        want = _sorted_notes([(n.onset, n.offset, n.pitch, n.velocity) for n in tr.notes])
        got = _sorted_notes([(n.start, n.end, n.pitch, n.velocity) for n in inst.notes])
        assert len(got) == len(want) == len(tr.notes)
        for (a_on, a_off, a_p, a_v), (b_on, b_off, b_p, b_v) in zip(want, got):
            assert (b_p, b_v) == (a_p, a_v)
            assert abs(b_on - a_on) <= tick and abs(b_off - a_off) <= tick, ((a_on, a_off), (b_on, b_off))
    assert sum(len(i.notes) for i in pm.instruments) == len(t.frame_notes)
    assert pm.get_end_time() == pytest.approx(max(n.offset for tr in t.tracks for n in tr.notes), abs=tick)


def test_midi_object_without_a_path_is_the_same(example_k4, midi_back):
    pm = example_k4.to_midi()
    assert isinstance(pm, pretty_midi.PrettyMIDI)
    for made, read in zip(pm.instruments, midi_back.instruments):
        assert [(n.pitch, n.velocity) for n in sorted(made.notes, key=lambda n: (n.start, n.pitch))] == \
               [(n.pitch, n.velocity) for n in sorted(read.notes, key=lambda n: (n.start, n.pitch))]


def test_json_round_trip_is_equal(example_k4, tmp_path):
    t = example_k4
    path = t.to_json(tmp_path / "example.json")
    written = json.loads(path.read_text())
    assert written == transcription_to_dict(t)  # what is on disk is the documented dict, nothing lost to JSON
    back = read_json(path)
    assert transcription_to_dict(back) == written  # and reading it gives it back, field for field
    assert back.instruments == t.instruments and back.audio == t.audio and back.clustering == t.clustering
    assert back.thresholds == t.thresholds and back.applied_thresholds == t.applied_thresholds
    assert [tr.program for tr in back.tracks] == [tr.program for tr in t.tracks]
    for a, b in zip(t.tracks, back.tracks):
        assert [(n.pitch, n.velocity) for n in a.notes] == [(n.pitch, n.velocity) for n in b.notes]
        np.testing.assert_allclose(b.to_array()[:, :2], a.to_array()[:, :2], rtol=0, atol=5e-7)
    # a second round trip is the identity
    again = read_json(back.to_json(tmp_path / "again.json"))
    assert transcription_to_dict(again) == written
    assert set(written) == {"audio", "duration", "instruments", "tracks", "thresholds", "applied_thresholds",
                            "clustering", "count", "mitkit_version"}
    assert all(isinstance(n["pitch"], int) and isinstance(n["velocity"], int)
               for tr in written["tracks"] for n in tr["notes"])


def test_json_keeps_the_count(example_default, tmp_path):
    """An "auto" transcription's JSON carries the count's evidence, and reading it gives it back."""
    written = json.loads(example_default.to_json(tmp_path / "auto.json").read_text())
    assert written["count"]["k"] == written["instruments"] == 4 and written["count"]["reading"] == "lines"
    back = read_json(tmp_path / "auto.json")
    assert back.count.to_dict() == written["count"] and transcription_to_dict(back) == written


def test_midi_refuses_to_replace_a_file_unless_told(example_k4, tmp_path):
    from mitkit.errors import MitkitError
    path = tmp_path / "taken.mid"
    path.write_bytes(b"not mine to lose")
    with pytest.raises(MitkitError, match="must not exist"):
        example_k4.to_midi(path)
    assert path.read_bytes() == b"not mine to lose"
    example_k4.to_midi(path, overwrite=True)
    assert len(pretty_midi.PrettyMIDI(str(path)).instruments) == 4


def test_json_round_trip_keeps_frame_level_clustering(example_k4, tmp_path):
    from dataclasses import replace
    frame = replace(example_k4, clustering="frame")
    back = read_json(frame.to_json(tmp_path / "frame.json"))
    assert back.clustering == "frame" and transcription_to_dict(back) == transcription_to_dict(frame)


def test_json_without_the_optional_fields_reads_with_their_defaults(tmp_path):
    """Files from before a field existed: no program, thresholds, clustering, audio or count."""
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"duration": 2.5, "tracks": [
        {"id": 0, "notes": [{"onset": 0.5, "offset": 1.0, "pitch": 60, "velocity": 80}]}]}))
    t = read_json(path)
    assert t.tracks[0].program == 0 and t.thresholds == {} and t.clustering == "note"
    assert t.audio is None and t.count is None and t.duration == 2.5
    assert [(n.onset, n.offset, n.pitch, n.velocity) for n in t.tracks[0].notes] == [(0.5, 1.0, 60, 80)]


@pytest.mark.parametrize("text", ["not json", json.dumps({"duration": 1.0}), json.dumps({"tracks": [{"id": 0}]}),
                                  json.dumps({"tracks": []}), json.dumps({"duration": 1.0, "tracks": [], "count": [3]})])
def test_a_file_that_is_not_a_transcription_is_named(tmp_path, text):
    from mitkit.errors import MitkitError
    path = tmp_path / "odd.json"
    path.write_text(text)
    with pytest.raises(MitkitError, match=r"path='.*odd\.json' must be a mitkit transcription JSON file: "):
        read_json(path)
