"""Tests of the exercise solutions of notebooks 03–05 (notebooks/solutions/): hand-computed cases and
error paths. Fast: the only network runs use an untrained model on a second of audio."""
import numpy as np
import pytest
import torch

from mitkit import constants as C
from mitkit.errors import MitkitError
from mitkit.notes import Note, Track
from mitkit.synth.embeddings import make_synthetic_embeddings
from mitkit.transcription import Transcription
from solutions.embeddings_and_clustering import auto_k_vs_excerpt, part_track_confusion, temperature_study
from solutions.speed_benchmarks import fit_time_model, thread_scaling
from solutions.transcribe_your_own_audio import midi_roundtrip_error, track_summary, transcribe_excerpt

# ---- 03_embeddings_and_clustering -----------------------------------------------------------------

def test_part_track_confusion_hand_case():
    parts = [0, 0, 1, 1, 1, -1]
    tracks = [0, 1, 1, 1, 0, 1]
    np.testing.assert_array_equal(part_track_confusion(parts, tracks), [[1, 1], [1, 2], [0, 1]])
    wide = part_track_confusion(parts, tracks, n_parts=3, n_tracks=3)
    assert wide.shape == (4, 3) and wide.sum() == 6 and wide[3, 1] == 1  # unmatched row is the last


def test_part_track_confusion_empty_and_errors():
    assert part_track_confusion([], [], n_parts=2, n_tracks=2).tolist() == [[0, 0], [0, 0], [0, 0]]
    with pytest.raises(MitkitError, match="must be equal"):
        part_track_confusion([0, 1], [0])
    with pytest.raises(MitkitError, match="track_labels min=-1"):
        part_track_confusion([0, 1], [0, -1])
    with pytest.raises(MitkitError, match="n_parts=1"):
        part_track_confusion([0, 1], [0, 0], n_parts=1)


def _synthetic_mix(sizes=(20, 20, 20), kappa=80.0, seed=0):
    """Embeddings of well-separated clusters with matching note arrays: cluster k plays pitch 60 + 10 k."""
    E, y = make_synthetic_embeddings(list(sizes), kappa=kappa, random_state=seed)
    onsets = np.arange(len(y)) * 0.5
    notes = np.column_stack([onsets, onsets + 0.4, 60 + 10 * y, np.full(len(y), 90)])
    parts = [notes[y == k] for k in range(len(sizes))]
    return notes, E, parts


def test_temperature_study_separates_clean_clusters():
    notes, E, parts = _synthetic_mix()
    scores = temperature_study(notes, E, parts, temperatures=(0.2, 1.0))
    assert list(scores) == [0.2, 1.0]
    assert all(v == pytest.approx(1.0) for v in scores.values())


def test_temperature_study_errors():
    notes, E, parts = _synthetic_mix()
    with pytest.raises(MitkitError, match="len\\(notes\\)=60 must equal len\\(E\\)=59"):
        temperature_study(notes, E[:-1], parts)
    with pytest.raises(MitkitError, match="temperature=1000"):
        temperature_study(notes, E, parts, temperatures=(1000,))


def test_auto_k_vs_excerpt():
    notes, E, _ = _synthetic_mix()  # notes every 0.5 s: 60 notes in 30 s, clusters interleaved in time
    order = np.random.default_rng(0).permutation(len(E))  # mix the clusters over time
    out = auto_k_vs_excerpt(notes, E[order], seconds=(0.0, 2.0, 30.0))
    assert out[0.0] == (0, 0)
    assert out[2.0] == (4, 1)  # fewer than 6 notes: always one instrument
    assert out[30.0] == (60, 3)
    with pytest.raises(MitkitError, match="len\\(notes\\)"):
        auto_k_vs_excerpt(notes[:3], E)


# ---- 04_speed_benchmarks --------------------------------------------------------------------------

def test_fit_time_model_hand_case():
    rows = [{"system": "a", "seconds": 10.0, "time": 1.5}, {"system": "a", "seconds": 60.0, "time": 4.0},
            {"system": "b", "seconds": 10.0, "time": 9.0}]
    fit = fit_time_model(rows, "a")
    assert fit["fixed_s"] == pytest.approx(1.0)
    assert fit["per_second"] == pytest.approx(0.05)
    assert fit["predict"](600) == pytest.approx(31.0)
    with pytest.raises(MitkitError, match="system='b' must have rows at two or more lengths"):
        fit_time_model(rows, "b")


def test_thread_scaling_restores_threads(rng):
    from mitkit.model import MitNet
    torch.manual_seed(0)
    model = MitNet().eval()
    audio = (0.1 * rng.standard_normal(C.SAMPLE_RATE)).astype(np.float32)
    before = torch.get_num_threads()
    out = thread_scaling(audio, model, threads=(1,), instruments=1)
    assert list(out) == [1]
    assert out[1]["total"] > 0 and out[1]["timbre"] is None  # K = 1: no timbre branch
    assert torch.get_num_threads() == before
    with pytest.raises(MitkitError, match="repeats=0"):
        thread_scaling(audio, model, repeats=0)


# ---- 05_transcribe_your_own_audio -----------------------------------------------------------------

def _transcription():
    return Transcription(tracks=[Track(0, [Note(0.0, 0.5, 72, 90), Note(0.5, 1.25, 76, 80)], program=40),
                                 Track(1, [Note(0.1, 1.0, 48, 70)], program=70),
                                 Track(2, [], program=0)], duration=1.5)


def test_track_summary():
    rows = track_summary(_transcription())
    assert rows[0] == {"track": 1, "notes": 2, "lowest": "C5", "highest": "E5", "sounding_s": 1.25, "program": 40}
    assert rows[1]["lowest"] == rows[1]["highest"] == "C3"
    assert rows[2] == {"track": 3, "notes": 0, "lowest": None, "highest": None, "sounding_s": 0, "program": 0}


def test_midi_roundtrip_error(tmp_path):
    t = _transcription()
    t.tracks = t.tracks[:2]  # pretty_midi keeps empty instruments too, but keep the case simple
    err = midi_roundtrip_error(t, tmp_path / "t.mid")
    assert 0 <= err < 0.005  # MIDI ticks: 1/440 s at pretty_midi's defaults
    assert (tmp_path / "t.mid").exists()
    midi_roundtrip_error(t, tmp_path / "t.mid")  # replaces its own file


def test_transcribe_excerpt(random_checkpoint, rng):
    y = (0.1 * rng.standard_normal(3 * C.SAMPLE_RATE)).astype(np.float32)
    t = transcribe_excerpt(y, 0.5, 1.5, sr=C.SAMPLE_RATE, checkpoint=random_checkpoint)
    assert t.duration == pytest.approx(1.0)
    short = transcribe_excerpt(y, 2.5, 10.0, sr=C.SAMPLE_RATE, checkpoint=random_checkpoint)
    assert short.duration == pytest.approx(0.5)  # cut at the end of the audio
    with pytest.raises(MitkitError, match="start=2.0 and stop=1.0"):
        transcribe_excerpt(y, 2.0, 1.0, sr=C.SAMPLE_RATE)
    with pytest.raises(MitkitError, match="start=5.0 must be before the end"):
        transcribe_excerpt(y, 5.0, 6.0, sr=C.SAMPLE_RATE)
    with pytest.raises(MitkitError, match="must exist"):
        transcribe_excerpt("no-such-file.wav", 0.0, 1.0)
