"""Tests of mitkit.evaluation.baselines: pitch-order and random separation, basic-pitch on a short synthetic clip."""
from __future__ import annotations

import functools
import importlib.util
import logging

import numpy as np
import pytest

from mitkit.constants import midi_to_hz
from mitkit.errors import MitkitError
from mitkit.evaluation.baselines import (
    BasicPitch,
    SeparatedSystem,
    basic_pitch_model_path,
    basic_pitch_transcribe,
    pitch_order_tracks,
    random_tracks,
)
from mitkit.evaluation.benchmarks import System
from mitkit.evaluation.metrics import separation_metrics, transcription_metrics
from mitkit.notes import merge_tracks

# basic-pitch 0.4.0 + onnxruntime are installed by scripts/setup.sh: without them these tests fail (no skip)
HAS_BASIC_PITCH = importlib.util.find_spec("basic_pitch") is not None and importlib.util.find_spec("onnxruntime")
needs_basic_pitch = pytest.mark.basic_pitch


# ---- pitch order -------------------------------------------------------------------------------

# A hand case, K = 3. Rows: onset, offset, pitch, velocity; the comment gives the sounding set
# 50 ms after the onset and the resulting track.
HAND = np.array(
    [
        [0.0, 1.0, 72, 90],  # {72, 67, 60}        -> rank 0, track 0
        [0.0, 2.0, 67, 90],  # {72, 67, 60}        -> rank 1, track 1
        [0.0, 1.0, 60, 90],  # {72, 67, 60}        -> rank 2, track 2
        [1.0, 2.0, 74, 90],  # {74, 67, 55}        -> rank 0, track 0 (72 and 60 ended at 1.0)
        [1.0, 2.0, 55, 90],  # {74, 67, 55}        -> rank 2, track 2
        [1.5, 2.0, 70, 90],  # {74, 70, 67, 55, 50} -> rank 1, track 1
        [1.5, 2.0, 50, 90],  # {74, 70, 67, 55, 50} -> rank 4, clamped to track 2
    ]
)


def test_pitch_order_hand_case():
    tracks = pitch_order_tracks(HAND, 3)
    assert [t[:, 2].tolist() for t in tracks] == [[72, 74], [67, 70], [60, 55, 50]]
    assert all(t.shape[1] == 4 for t in tracks)
    np.testing.assert_array_equal(merge_tracks(tracks), merge_tracks([HAND]))


def test_pitch_order_chord_tolerance_and_unison():
    # The upper note of a chord starts 20 ms after the lower one.
    chord = np.array([[0.0, 1.0, 60, 90], [0.02, 1.0, 64, 90]])
    assert [t[:, 2].tolist() for t in pitch_order_tracks(chord, 2)] == [[64], [60]]
    assert [t[:, 2].tolist() for t in pitch_order_tracks(chord, 2, chord_tolerance=0.0)] == [[60, 64], []]
    # Unison: both notes share the rank of their pitch.
    unison = np.array([[0.0, 1.0, 67, 90], [0.0, 1.0, 67, 60], [0.0, 1.0, 60, 90]])
    assert [len(t) for t in pitch_order_tracks(unison, 2)] == [2, 1]


def test_pitch_order_separates_non_crossing_voices(rng):
    # Three voices in disjoint registers with independent rhythms: pitch order is perfect.
    parts = []
    for j, low in enumerate((40, 55, 70)):
        # Legato voices that all span 0..10 s, so every voice sounds at every onset.
        bounds = np.sort(rng.choice(np.arange(1, 40) * 0.25, 11, replace=False))
        onsets, offsets = np.concatenate([[0.0], bounds]), np.concatenate([bounds, [10.0]])
        parts.append(np.column_stack([onsets, offsets, low + rng.integers(0, 12, 12), np.full(12, 80)]))
    tracks = pitch_order_tracks(merge_tracks(parts), 3)
    s = separation_metrics(parts, tracks)
    assert s["separation_f1"] == pytest.approx(1.0)
    assert s["assignment"] == [(0, 2), (1, 1), (2, 0)]


def test_random_tracks_deterministic_and_complete(rng):
    notes = np.column_stack([np.arange(20) * 0.5, np.arange(20) * 0.5 + 0.4, rng.integers(40, 80, 20), np.full(20, 90)])
    a = random_tracks(notes, 3, seed=1)
    b = random_tracks(notes, 3, seed=1)
    c = random_tracks(notes, 3, seed=2)
    assert len(a) == 3 and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    np.testing.assert_array_equal(merge_tracks(a), merge_tracks([notes]))


@pytest.mark.parametrize("split", [pitch_order_tracks, random_tracks])
def test_separators_empty_and_errors(split):
    with pytest.warns(UserWarning, match="notes is empty"):
        tracks = split(np.zeros((0, 4)), 2)
    assert [t.shape for t in tracks] == [(0, 4), (0, 4)]
    with pytest.raises(MitkitError, match="k=0 must be a positive int"):
        split(HAND, 0)
    with pytest.raises(MitkitError, match=r"shape=\(1, 3\) must be \(N, 4\)"):
        split([[0.0, 1.0, 60]], 2)
    with pytest.raises(MitkitError, match="chord_tolerance=-0.1 must be a non-negative"):
        pitch_order_tracks(HAND, 2, chord_tolerance=-0.1)


def test_separated_system_wraps_a_transcriber():
    class Fixed:
        name = "fixed"
        separates = False

        def __call__(self, audio, n_parts=None, *, sr=None):
            return [HAND[:3], HAND[3:]]

    system = SeparatedSystem(Fixed(), pitch_order_tracks)
    assert isinstance(system, System) and system.separates
    assert system.name == "fixed + pitch_order_tracks"
    assert [len(t) for t in system("x.wav", 3)] == [2, 2, 3]
    assert SeparatedSystem(Fixed(), functools.partial(random_tracks, seed=0)).name == "fixed + random_tracks"
    with pytest.raises(MitkitError, match="n_parts=None: fixed \\+ pitch_order_tracks needs the number"):
        system("x.wav", None)


# ---- basic-pitch ---------------------------------------------------------------------------------

CLIP_NOTES = np.array(
    [
        [0.10, 0.90, 69, 100],
        [1.00, 1.80, 64, 100],
        [1.00, 1.80, 72, 100],
        [2.00, 2.80, 76, 100],
    ]
)


def _render(notes, sr):
    """Harmonic tones (5 partials, 1/h amplitudes, 10 ms attack, exponential decay)."""
    y = np.zeros(int((notes[:, 1].max() + 0.2) * sr))
    for onset, offset, pitch, _ in notes:
        t = np.arange(int((offset - onset) * sr)) / sr
        env = np.minimum(1.0, t / 0.01) * np.exp(-1.5 * t)
        tone = sum(0.2 / h * np.sin(2 * np.pi * h * midi_to_hz(pitch) * t) for h in range(1, 6)) * env
        start = int(onset * sr)
        y[start : start + len(tone)] += tone
    return y.astype(np.float32)


@needs_basic_pitch
def test_basic_pitch_finds_every_note_of_a_short_clip(tmp_path):
    """Also the slow test of this file: ≈1 s warm; a fresh install compiles numba code first (≈15 s)."""
    import soundfile

    assert basic_pitch_model_path().name == "nmp.onnx"
    sr = 16000  # not 22,050 Hz: exercises resampling
    y = _render(CLIP_NOTES, sr)
    notes = basic_pitch_transcribe(y, sr=sr)
    assert notes.ndim == 2 and notes.shape[1] == 4 and len(notes) >= len(CLIP_NOTES)
    assert np.all(notes[:, 1] > notes[:, 0]) and np.all(notes[:, 0] >= 0)
    assert np.all((notes[:, 3] >= 1) & (notes[:, 3] <= 127))
    assert np.all(np.diff(notes[:, 0]) >= 0)
    # Every note is found at the right onset; basic-pitch may add harmonics as extra notes.
    m = transcription_metrics(CLIP_NOTES, notes)
    assert m["note_recall"] == 1.0 and m["frame_recall"] > 0.9

    # Files give the same notes through the System interface (librosa resamples both the same way).
    soundfile.write(str(tmp_path / "clip.wav"), y, sr, subtype="FLOAT")
    system = BasicPitch()
    assert isinstance(system, System) and not system.separates
    [from_file] = system(tmp_path / "clip.wav", 4)
    np.testing.assert_allclose(from_file, notes)


@needs_basic_pitch
def test_basic_pitch_silence_warns_and_import_is_quiet():
    root_handlers = list(logging.getLogger().handlers)
    with pytest.warns(UserWarning, match="basic-pitch found no notes"):
        notes = basic_pitch_transcribe(np.zeros(22050, dtype=np.float32), sr=22050)
    assert notes.shape == (0, 4)
    assert logging.getLogger().handlers == root_handlers  # the import did not run logging.basicConfig


def test_basic_pitch_missing_gives_install_hint(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "basic_pitch", None)  # makes `import basic_pitch` fail
    with pytest.raises(MitkitError, match="pip install --no-deps basic-pitch==0.4.0"):
        basic_pitch_transcribe(np.zeros(100), sr=22050)


@needs_basic_pitch
def test_basic_pitch_input_errors():
    with pytest.raises(MitkitError, match="sr=None must be the sample rate"):
        basic_pitch_transcribe(np.zeros(100))
    with pytest.raises(MitkitError, match="must be an existing audio file"):
        basic_pitch_transcribe("no/such/file.wav")
    with pytest.raises(MitkitError, match=r"audio shape=\(1, 2, 3\) must be"):
        basic_pitch_transcribe(np.zeros((1, 2, 3)), sr=22050)
    with pytest.raises(MitkitError, match="onset_threshold=1.5 must be in"):
        basic_pitch_transcribe(np.zeros(100), sr=22050, onset_threshold=1.5)
