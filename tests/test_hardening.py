"""Hostile but ordinary use: output locations, name collisions, partial writes, bad settings up front."""
import errno
import json
import shutil
import sys
import warnings

import numpy as np
import pytest

import mitkit
import mitkit.transcription as TRANSCRIBE_MODULE  # `mitkit.transcribe` is the function
from mitkit import constants as C
from mitkit import export, files
from mitkit.cli import main
from mitkit.errors import MitkitError
from mitkit.synth import datasets


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

    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
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


@pytest.mark.parametrize("value, rule", [("-3", "-3 must be an integer >= 0"), ("half", "'half' must be an integer >= 0")])
def test_bad_timbre_window_is_rejected_by_the_parser(tmp_path, capsys, value, rule):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--run", str(tmp_path / "run"), "--timbre-frames", value])
    assert exc.value.code == 2 and rule in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_api_checks_settings_before_reading_audio(monkeypatch):
    monkeypatch.setattr(TRANSCRIBE_MODULE, "load_audio", _never_called)
    with pytest.raises(MitkitError, match=r"onset_threshold=2 must be a number in \(0, 1\]"):
        mitkit.transcribe(mitkit.example_path(), onset_threshold=2)
    with pytest.raises(MitkitError, match="min_note_frames=0.5 must be an integer >= 1"):
        mitkit.transcribe(mitkit.example_path(), min_note_frames=0.5)


@pytest.fixture(scope="module")
def small_transcription():
    from mitkit.notes import Note, Track
    from mitkit.transcription import Transcription
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

    hours, seed = 0.03, 13
    straight = datasets.synth(tmp_path / "straight", hours=hours, seed=seed, workers=2, progress=False)

    killed = tmp_path / "killed"
    code = f"from mitkit.synth import datasets; datasets.synth({str(killed)!r}, hours={hours}, seed={seed}, workers=2, progress=False)"
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 120
    while time.time() < deadline and not list((killed / "pieces").glob("*.json")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(2)
    assert _processes_mentioning(str(killed)) == []  # no orphaned worker still rendering
    resumed = datasets.synth(killed, hours=hours, seed=seed, workers=2, progress=False)

    assert [p["id"] for p in resumed["pieces"]] == [p["id"] for p in straight["pieces"]]
    assert resumed["pieces"] == straight["pieces"]
    files = sorted(f.name for f in (tmp_path / "straight" / "audio").iterdir())
    assert files == sorted(f.name for f in (killed / "audio").iterdir())
    for name in files:
        assert (killed / "audio" / name).read_bytes() == (tmp_path / "straight" / "audio" / name).read_bytes()
    assert os.path.exists(killed / "manifest.json")


# ---- inputs ------------------------------------------------------------------------------------------

def test_a_fifo_is_refused_at_once(tmp_path):
    import os
    import threading
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(_raises(mitkit.load_audio, fifo)), daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert outcome and "must be a regular file" in outcome[0]


def _raises(fn, *args, **kwargs) -> str:
    try:
        fn(*args, **kwargs)
    except MitkitError as err:
        return str(err)
    return "no error"


def test_integer_pcm_is_scaled_and_loud_floats_are_normalised():
    t = np.arange(22050) / 22050
    x = 0.5 * np.sin(2 * np.pi * 440 * t)
    ref = mitkit.load_audio(x.astype(np.float32), sr=22050)
    np.testing.assert_allclose(mitkit.load_audio((x * 32768).astype(np.int16), sr=22050), ref, atol=1e-4)
    np.testing.assert_allclose(mitkit.load_audio((x * 2 ** 31).astype(np.int32), sr=22050), ref, atol=1e-6)
    np.testing.assert_allclose(mitkit.load_audio((x * 128 + 128).astype(np.uint8), sr=22050), ref, atol=1e-2)
    with pytest.warns(UserWarning, match="peaks at 56, beyond full scale"):
        loud = mitkit.load_audio((x / 0.5 * 56).astype(np.float32), sr=22050)
    assert np.isclose(np.abs(loud).max(), 1.0, atol=1e-3)


@pytest.mark.parametrize("source, sr, rule", [
    (np.zeros(100), True, "sr=True must be an integer sample rate"),
    (np.zeros(100), 1, "sr=1 must be an integer sample rate in 1000..768000 Hz"),
    (np.float32(0.5), 22050, r"audio shape=\(\) must be \(N,\) or \(N, channels\)"),
    ([[0.1, 0.2], [0.3]], 22050, "must be a numeric array"),
    (np.zeros(100, complex), 22050, "must be real"),
    (np.zeros((0, 2)), 22050, "length=0 must be positive"),
    (np.array(["a", "b"]), 22050, "must be numeric"),
])
def test_bad_arrays_get_clear_errors(source, sr, rule):
    with pytest.raises(MitkitError, match=rule):
        mitkit.load_audio(source, sr=sr)


def test_half_precision_tensors_are_read():
    import torch
    y = torch.sin(torch.linspace(0, 100, 22050)).to(torch.bfloat16) * 0.5
    assert mitkit.load_audio(y, sr=22050).dtype == np.float32


def test_a_truncated_wav_says_so(tmp_path):
    import soundfile as sf
    path = tmp_path / "cut.wav"
    sf.write(path, np.zeros(44100, np.float32) + 0.1, 22050, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.warns(UserWarning, match=r"is truncated: its header declares 2.00 s, the file holds 1.00 s"):
        mitkit.load_audio(path)


def test_unknown_device_is_a_clear_error():
    with pytest.raises(MitkitError, match="device='gpu0' must be a torch device"):
        mitkit.transcribe(mitkit.example_path(), device="gpu0")


# ---- checkpoints -----------------------------------------------------------------------------------

@pytest.mark.parametrize("content, rule", [(b"", "the file is empty"),
                                            (bytes(range(256)) * 8, "torch.load failed: ")])
def test_damaged_checkpoints_get_clear_errors(tmp_path, content, rule):
    from mitkit.checkpoint import load_checkpoint
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(MitkitError, match=rule) as exc:
        load_checkpoint(path)
    assert "weights_only=False" not in str(exc.value)


def test_a_malicious_checkpoint_is_refused_by_every_loading_path(tmp_path):
    import torch

    from mitkit.checkpoint import FORMAT, FORMAT_VERSION, load_checkpoint
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            import os
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, "model": Exploit()}, path)
    for load in (lambda: load_checkpoint(path), lambda: mitkit.transcribe(mitkit.example_path(), checkpoint=path),
                 lambda: main(["transcribe", str(mitkit.example_path()), "--out", str(tmp_path / "o"),
                               "--checkpoint", str(path)])):
        try:
            result = load()
        except MitkitError as err:
            assert "refused: loading them could run code" in str(err)
        else:
            assert result == 2  # the CLI reports the error and exits 2
    assert not marker.exists()


def test_a_mismatched_checkpoint_message_is_complete(tmp_path):
    import torch

    from mitkit.checkpoint import load_checkpoint, save_checkpoint
    ckpt = load_checkpoint(None)
    state = {k: v for k, v in ckpt["model"].items() if "timbre" not in k}
    save_checkpoint(tmp_path / "half.pt", {**ckpt, "model": state})
    with pytest.raises(MitkitError, match="Missing key") as exc:
        mitkit.transcribe(mitkit.example_path(), checkpoint=tmp_path / "half.pt")
    assert "timbre." in str(exc.value)
    del torch


# ---- batches -----------------------------------------------------------------------------------------

def test_one_bad_file_does_not_stop_a_batch_and_skip_existing_resumes(tmp_path, capsys):
    good = tmp_path / "good.flac"
    shutil.copy(mitkit.example_path(), good)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    out = tmp_path / "out"
    assert main(["transcribe", str(bad), str(good), "--out", str(out), "-k", "4"]) == 2
    captured = capsys.readouterr()
    assert "bad.wav: failed" in captured.err and "1 transcribed, 0 skipped (outputs exist), 1 failed" in captured.out
    assert (out / "good.json").exists() and not (out / "bad.json").exists()
    stamp = (out / "good.json").stat().st_mtime_ns
    bad.unlink()
    shutil.copy(mitkit.example_path(), bad)
    assert main(["transcribe", str(bad), str(good), "--out", str(out), "-k", "4", "--skip-existing"]) == 0
    assert "1 transcribed, 1 skipped" in capsys.readouterr().out
    assert (out / "good.json").stat().st_mtime_ns == stamp and (out / "bad.json").exists()


def test_empty_out_is_refused(capsys):
    assert main(["transcribe", str(mitkit.example_path()), "--out", ""]) == 2
    assert "--out='' must name a folder" in capsys.readouterr().err


def _warnings_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return caught


@pytest.mark.parametrize("what, call", [
    ("silence", lambda: mitkit.transcribe(np.zeros(C.SAMPLE_RATE, np.float32), sr=C.SAMPLE_RATE)),
    ("loud floats via transcribe", lambda: mitkit.transcribe(np.full(C.SAMPLE_RATE, 3.0, np.float32) * np.sin(
        np.arange(C.SAMPLE_RATE) / 10), sr=C.SAMPLE_RATE, instruments=1)),
    ("loud floats via load_audio", lambda: mitkit.load_audio(np.full(100, 5.0, np.float32), sr=C.SAMPLE_RATE)),
    ("no frames", lambda: mitkit.create_notes(np.zeros((C.N_PITCHES, 0)), np.zeros((C.N_PITCHES, 0)))),
])
def test_warnings_name_the_callers_line_not_mitkits(what, call):
    caught = _warnings_of(call)
    assert caught, f"{what}: expected a warning"
    for w in caught:
        if "mitkit" in str(w.message) or issubclass(w.category, UserWarning):
            assert w.filename == __file__, f"{what}: {w.message!r} points at {w.filename}:{w.lineno}"
