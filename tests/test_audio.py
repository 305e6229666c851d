import numpy as np
import pytest
import soundfile as sf
from conftest import tone

from mitkit import constants as C
from mitkit.audio import is_silent, load_audio
from mitkit.errors import MitkitError


def test_array_needs_sr_and_is_resampled_and_downmixed():
    y = np.stack([tone(69, 1.0, sr=44100), tone(69, 1.0, sr=44100)])  # (2, N)
    with pytest.raises(MitkitError, match="sr=None"):
        load_audio(y)
    out = load_audio(y, sr=44100)
    assert out.dtype == np.float32 and len(out) == C.SAMPLE_RATE
    spectrum = np.abs(np.fft.rfft(out))
    assert np.argmax(spectrum) == pytest.approx(440, abs=1)


@pytest.mark.parametrize("subtype,sr,channels", [("PCM_U8", 22050, 1), ("PCM_24", 96000, 2), ("FLOAT", 8000, 3)])
def test_files_of_many_kinds(tmp_path, subtype, sr, channels):
    y = np.tile(tone(60, 0.5, sr=sr)[:, None], (1, channels))
    path = tmp_path / "x.wav"
    sf.write(path, y, sr, subtype=subtype)
    out = load_audio(path)
    assert len(out) == pytest.approx(0.5 * C.SAMPLE_RATE, abs=2)
    assert 0.3 < np.abs(out).max() < 0.6


def test_bad_inputs(tmp_path):
    with pytest.raises(MitkitError, match="must exist"):
        load_audio(tmp_path / "missing.wav")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(MitkitError, match="readable audio"):
        load_audio(bad)
    with pytest.raises(MitkitError, match="length=0"):
        load_audio(np.zeros(0), sr=22050)
    with pytest.raises(MitkitError, match="NaN or inf"):
        load_audio(np.array([0.0, np.nan, 1.0]), sr=22050)
    with pytest.raises(MitkitError, match="sr=-5"):
        load_audio(np.zeros(10), sr=-5)
    assert is_silent(np.zeros(100)) and not is_silent(tone(60, 0.1))


def test_resampling_never_rings_past_full_scale():
    # one full-scale sample at 1 kHz rings to about 1.06 when resampled to 22,050 Hz (found by hypothesis)
    import mitkit
    for x in (np.array([0], np.uint8), np.array([-1.0, 1.0, -1.0], np.float32)):
        y = mitkit.load_audio(x, sr=1000)
        assert np.abs(y).max() <= 1.0 and np.abs(y).max() > 0.9
