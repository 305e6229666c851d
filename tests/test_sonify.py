"""Tests of mitkit.sonify: hand-checked lengths and spectra, error paths, the FluidSynth voice."""
import numpy as np
import pytest

from mitkit import constants as C
from mitkit.errors import MitkitError
from mitkit.sonify import PEAK, RELEASE_S, sonify, sonify_tracks

SR = 8000


def test_length_is_last_offset_plus_tail():
    y = sonify(np.array([[0.0, 0.5, 69, 100], [0.25, 1.0, 60, 100]]), sr=SR)
    assert y.dtype == np.float32
    assert y.shape == (int(np.ceil((1.0 + RELEASE_S) * SR)),)


def test_duration_sets_length_and_cuts_notes():
    y = sonify(np.array([[0.0, 2.0, 69, 100]]), sr=SR, duration=0.5)
    assert y.shape == (4000,)
    assert np.abs(y).max() > 0.01


def test_silence_before_onset_and_after_release():
    y = sonify(np.array([[0.5, 1.0, 69, 127]]), sr=SR, duration=2.0)
    assert np.all(y[: int(0.5 * SR)] == 0)
    assert np.all(y[int((1.0 + RELEASE_S) * SR) + 1:] == 0)
    assert np.abs(y[int(0.6 * SR):int(0.9 * SR)]).max() > 0.05


def test_fundamental_is_the_strongest_partial():
    y = sonify(np.array([[0.0, 1.0, 69, 127]]), sr=SR)  # A4 = 440 Hz
    spectrum = np.abs(np.fft.rfft(y[:SR]))  # 1 s window: 1 Hz per bin
    assert abs(int(np.argmax(spectrum)) - 440) <= 1
    assert spectrum[880] > 0.1 * spectrum[440]  # a harmonic tone, not a pure sine


def test_amplitude_follows_velocity():
    loud = sonify(np.array([[0.0, 0.5, 60, 127]]), sr=SR)
    soft = sonify(np.array([[0.0, 0.5, 60, 32]]), sr=SR)
    np.testing.assert_allclose(soft, loud * 32 / 127, atol=1e-6)
    assert np.abs(loud).max() <= PEAK + 1e-6


def test_partials_above_nyquist_margin_are_dropped():
    y = sonify(np.array([[0.0, 0.5, C.MIDI_MAX, 100]]), sr=SR)  # 3951 Hz: only the fundamental is below 0.45 sr
    assert np.isfinite(y).all()
    y = sonify(np.array([[0.0, 0.5, 127, 100]]), sr=SR)  # 12.5 kHz: nothing audible at 8 kHz
    assert np.all(y == 0)


def test_accepts_a_track():
    from mitkit.notes import Note, Track
    track = Track(0, [Note(0.0, 0.5, 60, 90)])
    np.testing.assert_array_equal(sonify(track, sr=SR), sonify(track.to_array(), sr=SR))


def test_empty_notes_warn_and_return_silence():
    with pytest.warns(UserWarning, match="empty"):
        y = sonify(np.zeros((0, 4)), sr=SR, duration=1.0)
    assert y.shape == (SR,) and not y.any()
    with pytest.warns(UserWarning):
        assert sonify([], sr=SR).shape == (int(np.ceil(RELEASE_S * SR)),)


@pytest.mark.parametrize("kwargs, match", [
    ({"sr": 44.1}, "sr="),
    ({"sr": 10}, "sr="),
    ({"program": 128}, "program=128"),
    ({"program": True}, "program=True"),
    ({"program": 0, "soundfont": "Other"}, "soundfont='Other'"),
    ({"duration": -1.0}, "duration=-1.0"),
    ({"tail_s": -0.1}, "tail_s=-0.1"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(MitkitError, match=match):
        sonify(np.array([[0.0, 0.5, 60, 90]]), **kwargs)


@pytest.mark.parametrize("notes, match", [
    (np.array([[0.5, 0.2, 60, 90]]), "offset"),
    (np.array([[0.0, 0.5, 60]]), "shape"),
    (np.array([[0.0, 0.5, 0.5, 90]]), "midi_pitch"),
])
def test_bad_notes(notes, match):
    with pytest.raises(MitkitError, match=match):
        sonify(notes, sr=SR)


def test_fluidsynth_voice():
    import fluidsynth  # noqa: F401  (installed by scripts/setup.sh: missing, this test fails)
    notes = np.array([[0.0, 0.4, 69, 100], [0.4, 0.8, 72, 0.4]])  # a velocity below 1 is raised to 1
    y = sonify(notes, sr=16000, program=40, duration=1.0)
    assert y.shape == (16000,) and y.dtype == np.float32
    assert np.abs(y[:6400]).max() > 1e-3
    again = sonify(notes, sr=16000, program=40, duration=1.0)
    np.testing.assert_array_equal(y, again)  # deterministic


def test_sonify_tracks_aligns_lengths():
    a = np.array([[0.0, 0.5, 72, 90]])
    b = np.array([[0.25, 1.0, 48, 90]])
    ys = sonify_tracks([a, b, np.zeros((0, 4))], sr=SR)
    assert ys.shape == (3, int(round((1.0 + RELEASE_S) * SR)))
    np.testing.assert_array_equal(ys[0], sonify(a, SR, duration=1.0 + RELEASE_S))
    assert not ys[2].any()


def test_sonify_tracks_from_a_transcription():
    from mitkit.notes import Note, Track
    from mitkit.transcription import Transcription
    t = Transcription(tracks=[Track(0, [Note(0.0, 0.5, 72, 90)], program=40),
                              Track(1, [Note(0.0, 0.5, 48, 90)], program=70)], duration=0.75)
    ys = sonify_tracks(t, sr=SR)
    assert ys.shape == (2, 6000)
    with pytest.raises(MitkitError, match="len\\(programs\\)=1"):
        sonify_tracks(t, sr=SR, programs=[None])
    with pytest.raises(MitkitError, match="programs='x'"):
        sonify_tracks(t, sr=SR, programs="x")
    with pytest.raises(MitkitError, match="list of note arrays"):
        sonify_tracks(np.zeros((2, 4)), sr=SR)


def test_audio_player_embeds_vorbis_that_decodes_to_the_sound():
    import io

    import soundfile as sf

    from mitkit.sonify import audio_player
    sr = 16000
    t = np.arange(4 * sr) / sr
    y = (0.3 * np.sin(2 * np.pi * 440 * t) * (t < 3)).astype(np.float32)  # 3 s of A4, then 1 s of silence
    player = audio_player(y, sr, rate=22050)
    assert player.mimetype == "audio/ogg" and 'type="audio/ogg"' in player._repr_html_()
    decoded, rate = sf.read(io.BytesIO(player.data), dtype="float32")
    assert rate == 22050 and abs(len(decoded) - 4 * 22050) < 64
    spectrum = np.abs(np.fft.rfft(decoded[:2 * 22050]))
    assert np.fft.rfftfreq(2 * 22050, 1 / 22050)[spectrum.argmax()] == pytest.approx(440, abs=1)
    assert np.abs(decoded).max() == pytest.approx(1.0, abs=0.1)   # scaled to full scale, like Audio's default
    assert np.abs(decoded[int(3.2 * 22050):]).max() < 0.02         # the silence stays silent
    assert len(player.data) < 4 * 8000                               # far below WAV's 44 kB per second
    short = audio_player(y, sr, seconds=1.5, rate=8000)
    assert abs(len(sf.read(io.BytesIO(short.data))[0]) - 12000) < 64
    with pytest.raises(MitkitError, match="seconds"):
        audio_player(y, sr, seconds=0)
    with pytest.raises(MitkitError, match="sr=5"):
        audio_player(y, 5)


def test_against_mix_puts_the_track_over_the_turned_down_mix():
    from mitkit.sonify import against_mix
    track = np.zeros(100, np.float32)
    track[10] = 0.5
    mix = np.full(150, 0.2, np.float32)
    y = against_mix(track, mix, 8000, mix_level=0.25)
    assert y.shape == (150,) and y.dtype == np.float32
    assert y[10] == pytest.approx(1.0) and y[0] == pytest.approx(0.25 / 1.25) and y[120] == pytest.approx(0.2)
    assert np.array_equal(against_mix(track, np.zeros(50), 8000), track / 0.5)  # silence adds nothing
    with pytest.raises(MitkitError, match="mix_level=2"):
        against_mix(track, mix, 8000, mix_level=2)
    with pytest.raises(MitkitError, match="mix must be a mono array"):
        against_mix(track, np.zeros((2, 5)), 8000)
