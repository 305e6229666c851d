"""Tests of the exercise solutions and study helpers of notebooks 01 and 02, and of their plot helpers."""
import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from mitkit import constants as C
from mitkit import plots
from mitkit.errors import MitkitError
from mitkit.frontend import HarmonicStacking, log_cqt
from mitkit.model import MitNet
from mitkit.notes import rolls_to_notes
from mitkit.synth import tones
from mitkit.training import plots as training_plots
from solutions import cqt_and_energynorm, training

# ---- 01_cqt_and_energynorm ---------------------------------------------------------------------------


def test_harmonic_tone_length_peak_and_fades():
    x = tones.harmonic_tone(69, seconds=0.5, peak=0.25)
    assert x.dtype == np.float32 and x.shape == (round(0.5 * C.SAMPLE_RATE),)
    assert np.isclose(np.abs(x).max(), 0.25, atol=1e-6)
    assert abs(x[0]) < 1e-6 and abs(x[-1]) < 1e-3  # raised-cosine fades


def test_harmonic_tone_rejects_bad_duration():
    with pytest.raises(MitkitError, match="seconds=0 must be > 0"):
        tones.harmonic_tone(60, seconds=0)


@pytest.mark.parametrize("midi", [45, 81])
def test_partials_land_on_harmonic_shifts(midi):
    L = log_cqt(tones.harmonic_tone(midi, seconds=0.6))
    peaks = cqt_and_energynorm.harmonic_peaks(L[:, L.shape[1] // 2], midi)
    assert peaks == {h: s for h, s in zip(C.HARMONICS, C.HARMONIC_SHIFTS) if h >= 1}


def test_energynorm_gain_change_is_tiny_above_eps_and_large_in_silence():
    x = tones.harmonic_tone(69, seconds=0.5)
    out = cqt_and_energynorm.energynorm_gain_change(x, gains=(0.1, 10.0))
    for g in (0.1, 10.0):
        assert out[g]["above_eps"] < 0.05  # log(P g²) − log(σ g²) = log P − log σ where P ≫ ε
        assert out[g]["all"] > 4.0  # silent bins sit at log ε − log σ, which moves by log g²
        assert 0 < out[g]["fraction_above_eps"] < 1


def test_stacked_pitch_finds_the_pitch_even_without_the_fundamental():
    assert np.nanmedian(cqt_and_energynorm.stacked_pitch(tones.harmonic_tone(62, seconds=0.6))) == 62
    no_f0 = tones.harmonic_tone(57, seconds=0.6, amplitudes=(0, 0.5, 0.33, 0.25, 0.2, 0.17, 0.14))
    assert np.nanmedian(cqt_and_energynorm.stacked_pitch(no_f0)) == 57


def test_stacked_pitch_silence_is_nan():
    x = np.concatenate([np.zeros(C.SAMPLE_RATE // 2, np.float32), tones.harmonic_tone(60, seconds=0.5)])
    p = cqt_and_energynorm.stacked_pitch(x)
    assert np.isnan(p[2]) and np.nanmedian(p) == 60


def test_harmonic_shift_errors_hand_computed():
    e = cqt_and_energynorm.harmonic_shift_errors((1, 2, 3, 5))
    assert e["shift"].tolist() == [0, 36, 57, 84]
    assert np.allclose(e["error_cents"][:2], 0)
    assert np.isclose(e["error_cents"][2], (57 - 36 * np.log2(3)) * 1200 / 36)  # -1.955 cents
    assert e["shift"].tolist()[:3] == list(C.HARMONIC_SHIFTS[1:4])


def test_harmonic_shift_errors_rejects_bad_input():
    with pytest.raises(MitkitError, match="bins_per_octave=0"):
        cqt_and_energynorm.harmonic_shift_errors(bins_per_octave=0)
    with pytest.raises(MitkitError, match="must all be > 0"):
        cqt_and_energynorm.harmonic_shift_errors((0, 1))


# ---- 02_training ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("prior, alpha", [(0.1, 0.8), (0.05, 0.2), (0.3, 0.5)])
def test_focal_optimum_matches_closed_form_for_gamma_zero(prior, alpha):
    expected = alpha * prior / (alpha * prior + (1 - alpha) * (1 - prior))
    assert training.focal_optimum(prior, alpha, gamma=0.0) == pytest.approx(expected, abs=1e-4)


def test_focal_optimum_grows_with_alpha():
    p = [training.focal_optimum(0.1, a) for a in (0.06, 0.2, 0.5, 0.8)]
    assert p == sorted(p) and p[0] < 0.1 < p[-1]


def test_focal_optimum_rejects_bad_alpha():
    with pytest.raises(MitkitError, match="alpha=1.5 must be in"):
        training.focal_optimum(0.1, 1.5)


def test_ghost_notes_hand_computed():
    ref = np.array([[0.0, 1.0, 60, 100], [0.5, 1.5, 64, 100]])
    est = np.array([[0.1, 0.4, 60, 80],   # inside a reference note
                    [0.6, 0.9, 60, 80],   # a split of the same note: not a ghost
                    [0.2, 0.4, 64, 80],   # right pitch, wrong time: ghost
                    [0.5, 1.0, 72, 80]])  # an octave above: ghost
    assert training.ghost_notes(ref, est) == 2
    assert training.ghost_notes(ref, np.zeros((0, 4))) == 0


def _fake_dataset(n=3, clip_frames=64, seed=0):
    """MixtureDataset-like items: a tone at MIDI 60 in instrument slot 0."""
    rng = np.random.default_rng(seed)
    items = []
    for _ in range(n):
        audio = tones.harmonic_tone(60, seconds=clip_frames * C.HOP_LENGTH / C.SAMPLE_RATE) \
            + 0.001 * rng.standard_normal(clip_frames * C.HOP_LENGTH).astype(np.float32)
        frames = np.zeros((2, C.N_PITCHES, clip_frames), np.float32)
        onsets = np.zeros_like(frames)
        frames[0, 60 - C.MIDI_MIN, 2:60] = 1
        onsets[0, 60 - C.MIDI_MIN, 2] = 1
        items.append({"audio": audio, "frames": frames, "onsets": onsets, "n_instruments": 1})
    return items


def test_reference_notes_starts_cut_notes_at_zero():
    item = _fake_dataset(1)[0]
    item["onsets"][:] = 0
    item["frames"][0, 60 - C.MIDI_MIN, :10] = 1  # sounding from the first frame, onset cut off
    notes = training.reference_notes(item)
    assert len(notes) == 1 and notes[0, 0] == 0.0 and notes[0, 2] == 60


def test_finetune_amt_leaves_the_model_untouched_and_changes_only_the_amt_branch():
    torch.manual_seed(0)
    model = MitNet().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    net, losses = training.finetune_amt(model, _fake_dataset(4), frame_alpha=0.8, steps=2, batch_size=2, lr=1e-3,
                                  progress=False)
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    after = net.state_dict()
    assert not torch.equal(after["amt.frame_head.weight"], before["amt.frame_head.weight"])
    assert torch.equal(after["timbre.head.weight"], before["timbre.head.weight"])
    bn = "amt.conv_in.1.running_mean"
    assert torch.equal(after[bn], before[bn])  # frozen BatchNorm statistics
    assert not net.training


def test_transcription_report_threshold_sweep_and_gain_sensitivity_on_an_untrained_model():
    torch.manual_seed(0)
    model = MitNet().eval()
    data = _fake_dataset(2)
    rep = training.transcription_report(model, data, n_items=2)
    assert rep["n_ref"] == 2 and 0 <= rep["frame_f1"] <= 1 and rep["ghost_notes"] <= rep["n_est"]
    sweep = training.threshold_sweep(model, data, thresholds=(0.3, 0.7), n_items=1)
    assert set(sweep) == {0.3, 0.7} and set(sweep[0.3]) == {"frame_f1", "note_f1"}
    g = training.gain_sensitivity(model, data[0]["audio"], gains=(0.5,))
    assert set(g[0.5]) == {"mean", "max", "changed"} and g[0.5]["mean"] <= g[0.5]["max"]


def test_alpha_study_returns_one_result_per_alpha():
    torch.manual_seed(0)
    model = MitNet().eval()
    data = _fake_dataset(4)
    out = training.alpha_study(model, data, data, (0.1, 0.9), steps=1, batch_size=2, n_items=1, progress=False)
    assert list(out) == [0.1, 0.9]
    assert out[0.1]["Y_F"].shape[0] == C.N_PITCHES and len(out[0.9]["losses"]) == 1


# ---- plots ------------------------------------------------------------------------------------------------


def test_plot_helpers_return_figures():
    L = log_cqt(tones.harmonic_tone(69, seconds=0.3))
    S = HarmonicStacking()(torch.from_numpy(L)[None])[0].numpy()
    history = [{"step": 10, "train_frame": 0.1, "val_frame": 0.2}, {"step": 20, "train_frame": 0.05, "val_frame": 0.1}]
    Y = np.random.default_rng(0).random((C.N_PITCHES, 40)).astype(np.float32)
    roll = np.zeros_like(Y)
    roll[36, 5:20] = 1
    figs = [plots.plot_log_cqt(L), plots.plot_cqt_frames({"a": L[:, 5]}, midi=69),
            plots.plot_harmonic_alignment({69: tones.harmonic_tone(69, seconds=0.6)}),
            plots.plot_harmonic_stack(S, midi=69),
            plots.plot_profile_panels({"p": {"violin · loud": [1, 2], "violin · soft": [1, 3]}}, [1, 2]),
            training_plots.plot_loss_history(history), training_plots.plot_focal_loss(0.5),
            plots.plot_posteriorgram_with_notes(Y, roll=roll)]
    assert all(isinstance(f, go.Figure) for f in figs)
    assert len(training_plots.plot_loss_history(history).data) == 2  # train and val of the one loss present


def test_rolls_without_onsets_give_one_note_per_run():
    roll = np.zeros((C.N_PITCHES, 20))
    roll[0, 2:5] = 1
    roll[0, 8:9] = 1
    roll[10, 0:20] = 1
    boxes = rolls_to_notes(roll)
    assert len(boxes) == 3
    assert np.allclose(boxes[:, :3], [[0.0, 20 / C.FRAME_RATE, C.MIDI_MIN + 10],  # sorted by onset
                                      [2 / C.FRAME_RATE, 5 / C.FRAME_RATE, C.MIDI_MIN],
                                      [8 / C.FRAME_RATE, 9 / C.FRAME_RATE, C.MIDI_MIN]])


def test_plot_harmonic_stack_rejects_wrong_shape():
    with pytest.raises(MitkitError, match="S.shape"):
        plots.plot_harmonic_stack(np.zeros((3, 10, 5)))
