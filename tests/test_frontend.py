import numpy as np
import pytest
import torch
from conftest import tone

from mitkit import constants as C
from mitkit.errors import MitkitError
from mitkit.frontend import CQT, EnergyNorm, HarmonicStacking


def test_derived_constants():
    assert C.N_BINS == 288 and C.N_STACKED_BINS == 252 and C.MIDI_MAX == 107
    assert C.HARMONIC_SHIFTS == (-36, 0, 36, 57, 72, 84, 93, 101)
    assert C.FMIN == pytest.approx(32.08, abs=0.01)
    assert C.CQT_FREQUENCIES[C.pitch_to_bin(69)] == pytest.approx(440.0)


@pytest.mark.parametrize("midi", [24, 40, 57, 69, 81, 96, 107])
def test_sinusoid_lands_on_its_bin_with_half_amplitude(midi):
    X = CQT()(torch.from_numpy(tone(midi, 1.5, amplitude=1.0)))[0].abs()  # (288, T)
    centre = X[:, X.shape[1] // 2]
    assert int(centre.argmax()) == C.pitch_to_bin(midi)
    assert float(centre.max()) == pytest.approx(0.5, abs=0.01)


def test_cqt_shapes_and_frame_centres():
    cqt = CQT()
    x = torch.zeros(2, 10 * C.HOP_LENGTH + 7)
    assert cqt(x).shape == (2, 288, 11)
    # an impulse at sample 5·hop peaks at frame 5 in the top octave
    x = torch.zeros(20 * C.HOP_LENGTH)
    x[5 * C.HOP_LENGTH] = 1.0
    top = cqt(x)[0, -36:].abs().sum(0)
    assert int(top.argmax()) == 5


def test_cqt_rejects_bad_shapes():
    with pytest.raises(MitkitError, match="waveform shape"):
        CQT()(torch.zeros(1, 1, 100))


def test_energynorm_keeps_in_frame_ratios_and_removes_gain():
    harm = (1.0, 0.5, 0.25)
    soft, loud = tone(57, 1.0, amplitude=0.05, harmonics=harm), tone(57, 1.0, amplitude=0.8, harmonics=harm)
    cqt, norm = CQT(), EnergyNorm()
    a, b = norm.normalise(cqt(torch.from_numpy(soft))), norm.normalise(cqt(torch.from_numpy(loud)))
    mid = a.shape[-1] // 2
    bins = [C.pitch_to_bin(57), C.pitch_to_bin(69), C.pitch_to_bin(57) + 57]
    # one scale per clip: a gain change is a constant shift removed by −log σ, ratios unchanged
    assert torch.allclose(a[0, bins, mid], b[0, bins, mid], atol=1e-3)
    ratio = a[0, bins[0], mid] - a[0, bins[1], mid]  # log power ratio of harmonic 1 over 2
    assert float(ratio) == pytest.approx(np.log(4.0), abs=0.05)


def test_energynorm_affine_is_clamped():
    norm = EnergyNorm()
    with torch.no_grad():
        norm.k.fill_(10.0)
    X = torch.rand(1, 288, 20) + 0.1
    assert torch.allclose(norm(X), 3.0 * norm.normalise(X) + norm.b)


def test_harmonic_stacking_shifts():
    S = torch.arange(288, dtype=torch.float32)[None, :, None] + 1  # value = bin index + 1
    H = HarmonicStacking()(S)
    assert H.shape == (1, 8, 252, 1)
    for c, shift in enumerate(C.HARMONIC_SHIFTS):
        for f in (0, 100, 251):
            src = f + shift
            expected = src + 1 if 0 <= src < 288 else 0
            assert float(H[0, c, f, 0]) == expected


@pytest.mark.parametrize("midi", [30, 60, 84, 100])
def test_matches_nnaudio_cqt_bins(midi):
    """Same bins and frames as nnAudio's CQT2010v2 with our layout; only the per-bin scale differs
    (ours gives A/2 in every bin, nnAudio scales with the kernel length)."""
    import nnAudio.features as nnaudio  # the dev extra installs it: missing, this test fails
    ref = nnaudio.CQT2010v2(sr=C.SAMPLE_RATE, hop_length=C.HOP_LENGTH, fmin=C.FMIN, n_bins=C.N_BINS,
                            bins_per_octave=C.BINS_PER_OCTAVE, output_format="Magnitude", verbose=False)
    x = torch.from_numpy(tone(midi, 2.0, harmonics=(1.0, 0.5, 0.3)))
    a, b = ref(x)[0], CQT()(x)[0].abs()
    assert a.shape == b.shape
    mid = a.shape[1] // 2
    assert int(a[:, mid].argmax()) == int(b[:, mid].argmax()) == C.pitch_to_bin(midi)
    pa, pb = a[:, mid].numpy(), b[:, mid].numpy()
    assert np.corrcoef(np.log(pa + 1e-6), np.log(pb + 1e-6))[0, 1] > 0.9
