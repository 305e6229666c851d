import numpy as np
import torch

from mitkit import constants as C
from mitkit.inference import predict
from mitkit.model import MitNet, parameter_count


def test_parameter_counts_match_the_paper():
    counts = parameter_count(MitNet())
    assert 18_500 <= counts["amt"] <= 19_500  # ≈19.0K
    assert 25_500 <= counts["timbre"] <= 26_500  # ≈26.0K
    assert counts["trainable"] == counts["amt"] + counts["timbre"]
    assert counts["fixed"] > 0  # CQT kernels and BatchNorm statistics


def test_output_shapes_and_unit_embeddings():
    torch.manual_seed(0)
    out = MitNet().eval()(torch.randn(2, 100 * C.HOP_LENGTH))
    assert out["frame_logit"].shape == (2, 84, 101) and out["onset_logit"].shape == (2, 84, 101)
    assert out["V"].shape == (2, 12, 84, 101)
    assert torch.allclose(out["V"].norm(dim=1), torch.ones(2, 84, 101), atol=1e-4)


def test_chunked_inference_matches_whole_file(rng):
    torch.manual_seed(0)
    model = MitNet().eval()
    y = (rng.standard_normal(C.SAMPLE_RATE * 12) * np.repeat(rng.random(120), C.SAMPLE_RATE // 10)).astype(np.float32)
    whole = predict(model, y)
    chunked = predict(model, y, chunk_frames=300)
    assert whole.frames.shape == (84, len(y) // C.HOP_LENGTH + 1)
    assert whole.sigma == np.float32(chunked.sigma) or abs(whole.sigma - chunked.sigma) < 1e-5 * whole.sigma
    np.testing.assert_allclose(chunked.frames, whole.frames, atol=1e-5)
    np.testing.assert_allclose(chunked.onsets, whole.onsets, atol=1e-5)
    # the timbre branch normalises over each chunk, so embeddings agree closely but not exactly
    assert (chunked.embeddings * whole.embeddings).sum(0).mean() > 0.98


def test_bf16_branches_stay_close_to_fp32(rng):
    from mitkit.checkpoint import load_model
    model, _ = load_model()
    y = mitkit_example_excerpt()
    a, b = predict(model, y, precision="fp32"), predict(model, y, precision="bf16")
    assert np.abs(a.frames - b.frames).max() < 0.03 and np.abs(a.onsets - b.onsets).max() < 0.03
    assert (a.embeddings * b.embeddings).sum(0).mean() > 0.99


def mitkit_example_excerpt(seconds=5):
    import mitkit
    return mitkit.load_audio(mitkit.example_path())[: seconds * C.SAMPLE_RATE]


def test_harmonic_context_sub_grid_equals_the_dilated_convolution():
    """HarmonicContext runs its frequency-dilated convolution as an ordinary one over the interleaved
    sub-grids of bins (faster on CPU); outputs and weight gradients must equal nn.Conv2d's."""
    from mitkit.model import HarmonicContext, ModelConfig
    torch.manual_seed(0)
    m = HarmonicContext(16, ModelConfig())
    assert m.conv.dilation == (3, 1)
    h = torch.randn(2, 16, 252, 40, requires_grad=True)
    x = torch.randn(2, 8, 252, 40)
    reference, fast = m.conv(h) + x, m(h, x)
    torch.testing.assert_close(fast, reference, atol=1e-5, rtol=1e-5)
    g_ref = torch.autograd.grad(reference.square().sum(), (m.conv.weight, h))
    g_fast = torch.autograd.grad(m(h, x).square().sum(), (m.conv.weight, h))
    for a, b in zip(g_fast, g_ref):
        torch.testing.assert_close(a, b, atol=1e-2, rtol=1e-3)  # sums of ~20k products in fp32
    odd = torch.randn(1, 16, 250, 10)  # bins not a multiple of the dilation: the plain convolution
    torch.testing.assert_close(m.dilated(odd), m.conv(odd))


def test_checkpoints_from_before_the_cqt_onset_input_load_without_it():
    """A checkpoint's model_config without ``onset_reads_cqt`` (every checkpoint before it existed) builds the
    model it was saved from: onset features on the trunk only."""
    from mitkit.checkpoint import model_from_checkpoint
    model = MitNet()
    saved = model.config.to_dict()
    del saved["onset_reads_cqt"]
    loaded = model_from_checkpoint({"model": model.state_dict(), "model_config": saved})
    assert not loaded.config.onset_reads_cqt
    assert loaded.amt.onset_features[0].weight.shape[1] == model.config.amt_channels
