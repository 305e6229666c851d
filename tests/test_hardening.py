"""Hostile but ordinary use: output locations, name collisions, partial writes, bad settings up front."""
import errno
import json
import shutil
import sys

import numpy as np
import pytest

import mitkit
from mitkit import export
from mitkit.cli import main
from mitkit.errors import MitkitError

TRANSCRIBE_MODULE = sys.modules["mitkit.transcribe"]  # `mitkit.transcribe` is the function


def _never_called(*args, **kwargs):
    raise AssertionError("the network (or audio loading) ran before the arguments were checked")


@pytest.fixture
def two_same_names(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(mitkit.example_path(), tmp_path / folder / "x.flac")
    return [str(tmp_path / "a" / "x.flac"), str(tmp_path / "b" / "x.flac")]


def test_inputs_with_the_same_name_are_refused_before_any_work(tmp_path, two_same_names, monkeypatch, capsys):
    monkeypatch.setattr(TRANSCRIBE_MODULE, "load_audio", _never_called)
    out = tmp_path / "out"
    for extra in ([], ["--overwrite"]):
        assert main(["transcribe", *two_same_names, "--out", str(out), *extra]) == 2
        err = capsys.readouterr().err
        assert "would both write" in err and "a/x.flac" in err and "b/x.flac" in err
    assert not any(out.iterdir())


def test_out_that_is_a_file_is_a_clear_error_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(TRANSCRIBE_MODULE, "load_audio", _never_called)
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("keep me")
    assert main(["transcribe", str(mitkit.example_path()), "--out", str(not_a_folder)]) == 2
    assert "must be a folder, but it is a file" in capsys.readouterr().err
    assert not_a_folder.read_text() == "keep me"


def test_unwritable_out_is_a_clear_error_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(TRANSCRIBE_MODULE, "load_audio", _never_called)

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(export.tempfile, "mkstemp", read_only)
    assert main(["transcribe", str(mitkit.example_path()), "--out", str(tmp_path / "ro")]) == 2
    assert "must be a writable folder: Permission denied" in capsys.readouterr().err


@pytest.mark.parametrize("flag, value, rule", [("--onset-threshold", "1.5", "must be a number in (0, 1]"),
                                               ("--frame-threshold", "0", "must be a number in (0, 1]"),
                                               ("--min-note-frames", "0", "must be an integer >= 1"),
                                               ("--onset-threshold", "abc", "must be a number in (0, 1]")])
def test_bad_settings_are_rejected_by_the_parser(tmp_path, monkeypatch, capsys, flag, value, rule):
    monkeypatch.setattr(TRANSCRIBE_MODULE, "load_audio", _never_called)
    with pytest.raises(SystemExit) as exc:
        main(["transcribe", str(mitkit.example_path()), "--out", str(tmp_path), flag, value])
    assert exc.value.code == 2 and rule in capsys.readouterr().err


def test_api_checks_settings_before_reading_audio(monkeypatch):
    monkeypatch.setattr(TRANSCRIBE_MODULE, "load_audio", _never_called)
    with pytest.raises(MitkitError, match=r"onset_threshold=2 must be a number in \(0, 1\]"):
        mitkit.transcribe(mitkit.example_path(), onset_threshold=2)
    with pytest.raises(MitkitError, match="min_note_frames=0.5 must be an integer >= 1"):
        mitkit.transcribe(mitkit.example_path(), min_note_frames=0.5)


@pytest.fixture(scope="module")
def small_transcription():
    from mitkit.transcribe import Note, Track, Transcription
    return Transcription(tracks=[Track(0, [Note(0.1, 0.5, 60, 90), Note(0.5, 0.9, 60, 80)], program=40)],
                         duration=1.0, audio="x.wav", thresholds={"onset_threshold": 0.4})


def test_a_failed_write_leaves_the_old_outputs_whole(tmp_path, small_transcription, monkeypatch):
    plan = {"json": tmp_path / "x.json", "midi": tmp_path / "x.mid", "html": tmp_path / "x.html"}
    for p in plan.values():
        p.write_text("old")

    def disk_full(t, path):
        path.write_text("half a rep")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "_write_report_to", disk_full)
    with pytest.raises(OSError, match="No space left"):
        export.write_outputs(small_transcription, plan, overwrite=True)
    assert all(p.read_text() == "old" for p in plan.values())  # all old: the json and midi too
    assert sorted(f.name for f in tmp_path.iterdir()) == ["x.html", "x.json", "x.mid"]  # no temp left


def test_outputs_are_all_new_after_a_successful_write(tmp_path, small_transcription):
    plan = {"json": tmp_path / "x.json", "midi": tmp_path / "x.mid"}
    for p in plan.values():
        p.write_text("old")
    with pytest.raises(MitkitError, match="must not exist already"):
        export.write_outputs(small_transcription, plan)
    assert all(p.read_text() == "old" for p in plan.values())
    export.write_outputs(small_transcription, plan, overwrite=True)
    assert json.loads(plan["json"].read_text())["tracks"][0]["notes"][1]["velocity"] == 80
    import pretty_midi
    notes = pretty_midi.PrettyMIDI(str(plan["midi"])).instruments[0].notes
    assert [n.pitch for n in notes] == [60, 60] and np.isclose(notes[1].start, 0.5, atol=0.01)


def _processes_mentioning(marker: str) -> list[int]:
    import os
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    pids.append(int(pid))
        except OSError:
            pass
    return pids


def test_synth_killed_and_resumed_equals_an_uninterrupted_run(tmp_path):
    """The dataset is a function of (seed, hours, shard): jobs in flight when a run is killed, or that
    overshoot the target, do not change what a finished run holds; workers end with their parent."""
    import os
    import signal
    import subprocess
    import time

    from mitkit import data
    hours, seed = 0.03, 13
    straight = data.synth(tmp_path / "straight", hours=hours, seed=seed, workers=2, progress=False)

    killed = tmp_path / "killed"
    code = f"from mitkit import data; data.synth({str(killed)!r}, hours={hours}, seed={seed}, workers=2, progress=False)"
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 120
    while time.time() < deadline and not list((killed / "pieces").glob("*.json")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(2)
    assert _processes_mentioning(str(killed)) == []  # no orphaned worker still rendering
    resumed = data.synth(killed, hours=hours, seed=seed, workers=2, progress=False)

    assert [p["id"] for p in resumed["pieces"]] == [p["id"] for p in straight["pieces"]]
    assert resumed["pieces"] == straight["pieces"]
    files = sorted(f.name for f in (tmp_path / "straight" / "audio").iterdir())
    assert files == sorted(f.name for f in (killed / "audio").iterdir())
    for name in files:
        assert (killed / "audio" / name).read_bytes() == (tmp_path / "straight" / "audio" / name).read_bytes()
    assert os.path.exists(killed / "manifest.json")
