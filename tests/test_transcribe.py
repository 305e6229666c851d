import json
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf
import torch

import mitkit
from mitkit import constants as C
from mitkit.checkpoint import load_checkpoint, save_checkpoint
from mitkit.cli import main
from mitkit.errors import MitkitError
from mitkit.evaluation.metrics import separation_metrics, transcription_metrics
from mitkit.model import MitNet, ModelConfig
from mitkit.notes import merge_tracks
from mitkit.transcription import read_json


@pytest.fixture(scope="module")
def example_result(example_k4):
    return example_k4  # mitkit.transcribe(example, instruments=4), made once per session (conftest.py)


def test_bundled_model_on_bundled_example(example_result):
    """Regression bar for the shipped model on its shipped example (a test-split chorale): near the values
    frozen in tests/golden/example.json (see also tests/test_end_to_end.py and tests/test_golden.py)."""
    golden = json.loads((Path(__file__).with_name("golden") / "example.json").read_text())["runs"]["k4"]
    truth = mitkit.example_truth()
    parts = [p["notes"] for p in truth["parts"]]
    est = [tr.to_array() for tr in example_result.tracks]
    assert example_result.instruments == 4
    assert transcription_metrics(merge_tracks(parts), merge_tracks(est))["note_f1"] >= golden["metrics"]["note_f1"] - 0.01
    assert separation_metrics(parts, est)["separation_f1"] >= golden["metrics"]["separation_f1"] - 0.02
    ckpt = load_checkpoint()
    assert set(ckpt["thresholds"]) >= {"onset_threshold", "frame_threshold"}
    assert example_result.thresholds["onset_threshold"] == ckpt["thresholds"]["onset_threshold"]


def test_result_keeps_what_notebooks_need(example_result):
    t = example_result
    post = t.posteriorgrams
    assert post.frames.shape == post.onsets.shape == (84, post.n_frames)
    assert post.embeddings.shape == (12, 84, post.n_frames)
    assert t.embeddings.shape == (len(t.frame_notes), 12) and len(t.labels) == len(t.frame_notes)
    for tr in t.tracks:
        for n in tr.notes:
            assert 0 <= n.onset < n.offset <= t.duration + 0.1 and C.MIDI_MIN <= n.pitch <= C.MIDI_MAX
            assert 1 <= n.velocity <= 127


def test_midi_and_json_round_trip(example_result, tmp_path):
    t = example_result
    t.to_json(tmp_path / "x.json")
    back = read_json(tmp_path / "x.json")
    assert [len(tr.notes) for tr in back.tracks] == [len(tr.notes) for tr in t.tracks]
    np.testing.assert_allclose(back.tracks[0].to_array(), t.tracks[0].to_array(), atol=1e-5)
    d = json.loads((tmp_path / "x.json").read_text())
    assert {"audio", "duration", "instruments", "tracks"} <= set(d) and d["instruments"] == 4
    assert set(d["tracks"][0]["notes"][0]) == {"onset", "offset", "pitch", "velocity"}
    t.to_midi(tmp_path / "x.mid")
    pm = pretty_midi.PrettyMIDI(str(tmp_path / "x.mid"))
    assert len(pm.instruments) == 4
    assert [len(i.notes) for i in pm.instruments] == [len(tr.notes) for tr in t.tracks]
    assert abs(pm.instruments[0].notes[0].start - t.tracks[0].notes[0].onset) < 1e-3
    with pytest.raises(MitkitError, match="must not exist"):
        t.to_json(tmp_path / "x.json")
    t.to_json(tmp_path / "x.json", overwrite=True)


def test_one_instrument_and_long_audio_paths_agree(example_result):
    """instruments=1 skips the timbre branch and finds the same notes; streamed embeddings (V not kept)
    are compared with kept ones in tests/test_end_to_end.py."""
    y = mitkit.load_audio(mitkit.example_path())
    whole = mitkit.transcribe(y, sr=C.SAMPLE_RATE, instruments=1)
    assert whole.instruments == 1 and whole.embeddings is None and whole.posteriorgrams.embeddings is None
    np.testing.assert_array_equal(whole.frame_notes, example_result.frame_notes)
    assert whole.labels.tolist() == [0] * len(whole.frame_notes)


def test_silence_and_bad_k():
    with pytest.warns(UserWarning, match="silent"):
        t = mitkit.transcribe(np.zeros(C.SAMPLE_RATE), sr=C.SAMPLE_RATE, instruments=2)
    assert t.tracks == [] and t.instruments == 0
    for bad in (0, 9, -1, "two", 2.5, True):
        with pytest.raises(MitkitError, match="instruments="):
            mitkit.transcribe(np.ones(100), sr=C.SAMPLE_RATE, instruments=bad)
    short = np.sin(2 * np.pi * 440 * np.arange(C.SAMPLE_RATE // 2) / C.SAMPLE_RATE).astype(np.float32) * 0.5
    with pytest.raises(MitkitError, match="at most the number of notes"):
        mitkit.transcribe(short, sr=C.SAMPLE_RATE, instruments=8)


def test_checkpoint_errors(tmp_path):
    other = MitNet(ModelConfig(timbre_channels=8))
    # weights of one configuration under another's config, and a config field this version lacks
    wrong = save_checkpoint(tmp_path / "wrong.pt", {"model": other.state_dict(), "model_config": ModelConfig().to_dict()})
    future = save_checkpoint(tmp_path / "future.pt", {"model": other.state_dict(),
                                                      "model_config": {**other.config.to_dict(), "attention": True}})
    for path in (wrong, future):
        with pytest.raises(MitkitError, match="must match this mitkit's model"):
            mitkit.transcribe(np.ones(1000), sr=C.SAMPLE_RATE, checkpoint=path)
    torch.save({"format": "mitkit-checkpoint", "format_version": 99, "mitkit_version": "9.9"}, tmp_path / "new.pt")
    with pytest.raises(MitkitError, match="format_version=99"):
        load_checkpoint(tmp_path / "new.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(MitkitError, match="must be a mitkit checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(MitkitError, match="must exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_cli_transcribe(tmp_path, capsys):
    audio = tmp_path / "mix.wav"
    y, sr = sf.read(mitkit.example_path())
    sf.write(audio, np.stack([y[: sr * 8]] * 2, axis=1), sr, subtype="PCM_16")  # stereo WAV
    out = tmp_path / "out"
    assert main(["transcribe", str(audio), "--instruments", "3", "--out", str(out), "--report"]) == 0
    assert {p.name for p in out.iterdir()} == {"mix.mid", "mix.json", "mix.html"}
    assert json.loads((out / "mix.json").read_text())["instruments"] == 3
    assert "plotly" in (out / "mix.html").read_text()[:20000].lower()
    assert main(["transcribe", str(audio), "--out", str(out)]) == 2  # refuses to overwrite
    assert "--overwrite" in capsys.readouterr().err
    assert main(["transcribe", str(audio), "--out", str(out), "--overwrite", "-k", "1"]) == 0
    assert main(["transcribe", str(tmp_path / "nope.wav"), "--out", str(out)]) == 2
    assert "must exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["transcribe", str(audio), "--out", str(out), "--instruments", "12"])


def test_cli_demo(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "-k", "4"]) == 0
    printed = capsys.readouterr().out
    assert "note F1" in printed and (tmp_path / "example.html").exists()


def test_regroup_reuses_embeddings(example_result):
    again = example_result.regroup(4)
    assert [tr.to_array().tolist() for tr in again.tracks] == [tr.to_array().tolist() for tr in example_result.tracks]
    two = example_result.regroup(2)
    assert two.instruments == 2 and sum(len(t.notes) for t in two.tracks) == len(example_result.frame_notes)
    means = [np.mean([n.pitch for n in tr.notes]) for tr in two.tracks]
    assert means[0] > means[1]  # track 0 is the higher voice
    with pytest.raises(MitkitError, match="instruments=9"):
        example_result.regroup(9)


def test_regroup_needs_embeddings_except_for_one_track(example_result):
    from dataclasses import replace
    bare = replace(example_result, embeddings=None)
    with pytest.raises(MitkitError, match="^regroup needs note embeddings: transcribe with instruments != 1 first$"):
        bare.regroup(2)
    one = bare.regroup(1)
    assert one.instruments == 1 and len(one.tracks[0].notes) == len(example_result.frame_notes)
    assert one.labels.dtype.kind == "i" and not one.labels.any()


def test_regroup_of_a_transcription_without_notes_has_no_tracks(example_result):
    """As transcribe returns no tracks when it finds no notes, regrouping no notes gives no tracks."""
    from dataclasses import replace
    empty = replace(example_result, frame_notes=example_result.frame_notes[:0], embeddings=None, tracks=[])
    assert empty.regroup(1).tracks == [] and empty.regroup("voices").tracks == []


def test_regroup_keeps_the_embeddings_for_the_next_regroup(example_result):
    two = example_result.regroup(2)
    assert two.embeddings is not None
    np.testing.assert_array_equal(two.embeddings, example_result.embeddings)
    assert [tr.to_array().tolist() for tr in two.regroup(4).tracks] == \
        [tr.to_array().tolist() for tr in example_result.tracks]


def test_regroup_into_as_many_tracks_as_notes(example_result):
    from dataclasses import replace
    few = replace(example_result, frame_notes=example_result.frame_notes[:3], embeddings=example_result.embeddings[:3])
    assert few.regroup(3).instruments == 3
    with pytest.raises(MitkitError, match=r"instruments=4 must be at most the number of notes found \(3\)"):
        few.regroup(4)


def test_voices_counts_the_example_chorale(example_result):
    """The example is a 4-part chorale, one note at a time per part: 'voices' finds 4 tracks."""
    voices = example_result.regroup("voices")
    assert voices.instruments == 4
    assert sum(len(t.notes) for t in voices.tracks) == len(example_result.frame_notes)
    with pytest.raises(MitkitError, match="'auto' or 'voices'"):
        example_result.regroup("choir")
