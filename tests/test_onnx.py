"""The network exported to ONNX (mitkit export-onnx) computes what the PyTorch network computes."""
import hashlib
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

import mitkit
from mitkit.checkpoint import bundled_checkpoint_path, load_checkpoint, load_model, thresholds_of
from mitkit.cli import main
from mitkit.errors import MitkitError
from mitkit.inference import clip_scale
from mitkit.onnx_export import OPSET, OUTPUTS, export_onnx, read_metadata

SHIPPED = Path(mitkit.__file__).parent / "weights" / "mitkit_base.onnx"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx") / "model.onnx"
    assert main(["export-onnx", str(out)]) == 0
    return out


def _torch_outputs(audio, sigma):
    model, _ = load_model()
    with torch.no_grad():
        out = model(torch.from_numpy(audio)[None], sigma=torch.tensor([sigma]), bf16=False)
    return [out[k][0].numpy() for k in OUTPUTS]


@pytest.mark.parametrize("seconds", [3.0, 11.3])  # any length: the graph has a dynamic number of samples
def test_onnx_matches_torch(exported, seconds):
    audio = mitkit.load_audio(mitkit.example_path())[:int(seconds * 22050)]
    model, _ = load_model()
    sigma = clip_scale(model, torch.from_numpy(audio))
    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    got = session.run(list(OUTPUTS), {"audio": audio[None], "sigma": np.array([sigma], np.float32)})
    want = _torch_outputs(audio, sigma)
    for name, g, w in zip(OUTPUTS, got, want):
        assert g[0].shape == w.shape, name
        if name == "V":
            assert np.abs(g[0] - w).max() < 1e-3
        else:  # posteriors within 1e-3
            assert np.abs(1 / (1 + np.exp(-g[0])) - 1 / (1 + np.exp(-w))).max() < 1e-3, name


def test_metadata_carries_what_transcription_needs(exported):
    meta = read_metadata(exported)
    ckpt = load_checkpoint()
    assert meta["opset"] == OPSET and meta["mitkit_version"] == mitkit.__version__
    assert meta["thresholds"] == thresholds_of(ckpt) and meta["model_config"] == ckpt["model_config"]
    assert meta["polyphony_classifier"] == ckpt["polyphony_classifier"]
    assert meta["checkpoint_sha256"] == hashlib.sha256(bundled_checkpoint_path().read_bytes()).hexdigest()


def test_shipped_onnx_is_the_bundled_checkpoint():
    """The ONNX file in the package was exported from the bundled checkpoint; after retraining, regenerate
    it with `mitkit export-onnx mitkit/weights/mitkit_base.onnx --overwrite`."""
    meta = read_metadata(SHIPPED)
    assert meta["checkpoint_sha256"] == hashlib.sha256(bundled_checkpoint_path().read_bytes()).hexdigest()
    assert meta["thresholds"] == thresholds_of(load_checkpoint())


def test_export_never_overwrites_by_accident(exported):
    with pytest.raises(MitkitError, match="must not exist already"):
        export_onnx(exported)
