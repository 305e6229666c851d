"""The network as an ONNX model (``mitkit export-onnx``), for runtimes other than PyTorch.

The exported graph is the whole network, CQT included: ``audio`` ``(B, N)`` float32 at 22,050 Hz and
``sigma`` ``(B,)`` (the file's EnergyNorm scale, :func:`mitkit.inference.clip_scale`) in; ``frame_logit``,
``onset_logit`` ``(B, 84, T)`` and ``V`` ``(B, 12, 84, T)`` out, for any length N (``torch.export`` with a
dynamic length; the CQT is computed from real and imaginary parts, :meth:`mitkit.frontend.CQT.power`, as ONNX
has no complex type). Float32 throughout. The file's metadata (``metadata_props``) carries what
transcription needs besides the weights, as JSON: ``mitkit_version``, ``opset``, ``checkpoint_sha256``,
``model_config``, ``thresholds``, ``affinity_temperature``, ``polyphony_classifier``.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import nn

from mitkit.checkpoint import bundled_checkpoint_path, load_checkpoint, model_from_checkpoint, thresholds_of
from mitkit.errors import MitkitError
from mitkit.files import check_writable
from mitkit.version import __version__

OPSET = 18
OUTPUTS = ("frame_logit", "onset_logit", "V")


class ExportedNet(nn.Module):
    """``MitNet`` as one function of (audio, sigma), both branches, float32."""

    def __init__(self, model):
        super().__init__()
        self.model = model.eval()

    def forward(self, audio, sigma):
        out = self.model(audio, sigma=sigma, bf16=False)
        return tuple(out[k] for k in OUTPUTS)


def export_onnx(out, *, checkpoint=None, overwrite: bool = False, opset: int = OPSET) -> Path:
    """Write the network of ``checkpoint`` (None: the bundled model) to ``out`` as ONNX; returns the path.

    Needs the ``onnx`` and ``onnxscript`` packages (``pip install mitkit[onnx]``; the full set-up has them).
    """
    import importlib.util
    for package in ("onnx", "onnxscript"):
        if importlib.util.find_spec(package) is None:
            raise MitkitError(f"export-onnx needs the {package!r} package: pip install 'mitkit[onnx]'")
    out = Path(out)
    check_writable(out, overwrite=overwrite, name="out")
    ckpt = load_checkpoint(checkpoint)
    net = ExportedNet(model_from_checkpoint(ckpt)).eval()
    example = (torch.zeros(1, 22050), torch.ones(1))
    length = torch.export.Dim("samples", min=4096, max=22050 * 3600)
    tmp = out.with_name(out.name + ".tmp")
    with torch.no_grad():
        program = torch.onnx.export(net, example, dynamo=True, opset_version=opset, verbose=False,
                                    input_names=["audio", "sigma"], output_names=list(OUTPUTS),
                                    dynamic_shapes={"audio": {1: length}, "sigma": None})
    source = Path(checkpoint) if checkpoint is not None else bundled_checkpoint_path()
    meta = {"mitkit_version": __version__, "opset": opset,
            "checkpoint_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
            "model_config": ckpt["model_config"], "thresholds": thresholds_of(ckpt),
            "affinity_temperature": float(ckpt.get("affinity_temperature", 1.0)),
            "polyphony_classifier": ckpt.get("polyphony_classifier")}
    program.model.metadata_props.update({k: json.dumps(v) for k, v in meta.items()})
    program.save(str(tmp))
    tmp.replace(out)
    return out


def read_metadata(path) -> dict:
    """The JSON metadata of an ONNX file written by :func:`export_onnx`."""
    import onnx
    model = onnx.load(str(path), load_external_data=False)
    return {p.key: json.loads(p.value) for p in model.metadata_props}
