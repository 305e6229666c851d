"""The time base, pinned by literals and checked end to end.

Everything in mitkit counts frames of 256 samples at 22,050 Hz (86.1328125 frames per second). A wrong
frame rate shifts every time by a fraction that grows with the time itself: 1 s later is barely
visible, 25 s later is not. So the end-to-end check places tones at 1.0 s and at 25.0 s (the second one
in the second 20 s inference chunk) and wants both onsets back within 20 ms.
"""
import numpy as np
import pytest
from conftest import tone

import mitkit
from mitkit import constants as C
from mitkit.notes import NOTE_DTYPE, n_frames_for, note_rolls, notes_to_seconds, seconds_to_notes

TONES = ((1.0, 60), (25.0, 67))  # (onset s, MIDI pitch)
TONE_SECONDS = 0.6
TOTAL_SECONDS = 26.5


def test_constants_are_these_literals():
    assert C.SAMPLE_RATE == 22050
    assert C.HOP_LENGTH == 256
    assert C.FRAME_RATE == 86.1328125  # 22050 / 256, exact in binary floating point
    assert C.FRAME_SECONDS == 256 / 22050
    assert C.MIDI_MIN == 24 and C.N_PITCHES == 84


def test_frame_counts_and_times():
    model, _ = mitkit.load_model()
    for n in (0, 1, 255, 256, 257, 22050, 26 * 22050 + 7):
        assert model.cqt.n_frames(n) == n_frames_for(n) == n // 256 + 1
    y = np.zeros(3 * 22050 + 100, np.float32)
    y[::97] = 0.1
    post = mitkit.inference.predict(model, y, with_timbre=False)
    assert post.n_frames == (3 * 22050 + 100) // 256 + 1
    np.testing.assert_allclose(post.times[[0, 1, 86, 258]], [0.0, 256 / 22050, 86 * 256 / 22050, 258 * 256 / 22050],
                               rtol=0, atol=1e-12)


def test_conversions_between_frames_and_seconds():
    notes = np.array([(86, 172, 60, 1.0), (2153, 2200, 67, 0.5)], dtype=NOTE_DTYPE)
    table = notes_to_seconds(notes)
    np.testing.assert_allclose(table[:, :2], [[86 * 256 / 22050, 172 * 256 / 22050],
                                              [2153 * 256 / 22050, 2200 * 256 / 22050]], rtol=0, atol=1e-12)
    back = seconds_to_notes([[1.0, 2.0, 60, 127], [25.0, 25.5, 67, 64]])
    assert back[["start", "end"]].tolist() == [(86, 172), (2153, 2196)]  # round(t * 86.1328125)
    frames, onsets = note_rolls(np.array([[25.0, 25.5, 67, 90]]), 2300)
    assert np.flatnonzero(onsets[67 - 24]).tolist() == [2153]
    assert np.flatnonzero(frames[67 - 24]).tolist() == list(range(2153, 2196))


@pytest.fixture(scope="module")
def two_tones():
    """Silence with a harmonic tone at 1.0 s and another at 25.0 s (5 ms fade-in: no click)."""
    y = np.zeros(int(TOTAL_SECONDS * C.SAMPLE_RATE), np.float32)
    fade = np.minimum(1.0, np.arange(int(TONE_SECONDS * C.SAMPLE_RATE)) / (0.005 * C.SAMPLE_RATE))
    for onset, midi in TONES:
        x = tone(midi, TONE_SECONDS, amplitude=0.4, harmonics=(1.0, 0.5, 0.3, 0.2)) * fade
        a = int(round(onset * C.SAMPLE_RATE))
        y[a:a + len(x)] = x
    return y


def test_tones_come_back_at_their_times(two_tones):
    t = mitkit.transcribe(two_tones, sr=C.SAMPLE_RATE, instruments=1)
    assert t.duration == pytest.approx(TOTAL_SECONDS, abs=1e-4)
    notes = sorted((n for tr in t.tracks for n in tr.notes), key=lambda n: n.onset)
    for onset, midi in TONES:
        near = [n for n in notes if n.pitch == midi and abs(n.onset - onset) < 0.1]
        assert len(near) == 1, (onset, midi, notes)
        assert abs(near[0].onset - onset) <= 0.020, (onset, near[0])
        assert abs(near[0].offset - (onset + TONE_SECONDS)) <= 0.1, (onset, near[0])
    # nothing else of note: at most a stray partial, never a note far from both tones
    assert all(min(abs(n.onset - onset) for onset, _ in TONES) < 0.7 for n in notes), notes
