"""Which runtime runs the network: PyTorch (``"torch"``) or onnxruntime (``"onnx"``).

:func:`load_backend` returns an object with the checkpoint's settings (``thresholds``,
``affinity_temperature``, ``polyphony_classifier``) and two methods, ``predict`` (posteriorgrams) and
``stream_note_embeddings``, so :func:`mitkit.transcribe` is the same for both. ``"auto"`` takes the faster
one: PyTorch where it is installed and its CPU computes bfloat16 natively (or on a GPU), and onnxruntime
otherwise (on the project machine a 30-s excerpt took 0.67 s in PyTorch bf16, 1.1 s in onnxruntime and 1.4 s
in PyTorch float32, network only) — except for short audio in a process that has not imported PyTorch yet,
where importing it would cost more than bf16 saves (:data:`TORCH_BREAK_EVEN_S`). A light install (no
PyTorch) always runs onnxruntime.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from mitkit.constants import PRECISIONS
from mitkit.errors import MitkitError

BACKENDS = ("auto", "torch", "onnx")
# seconds of audio from which PyTorch bf16 beats onnxruntime in a process that still has to import PyTorch:
# whole K=4 processes on the project machine (`python scripts/bench_process.py --only "full (K=4)" --loop N`)
# took 3.60 / 4.25 / 6.13 s (PyTorch) against 2.17 / 3.39 / 6.52 s (onnxruntime) for 30 / 60 / 120 s of audio
TORCH_BREAK_EVEN_S = 100.0


def installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # a broken or blocked install counts as none
        return False


def torch_imported() -> bool:
    """Whether this process has imported PyTorch already (its start-up cost is paid)."""
    return "torch" in sys.modules


def _fastest(checkpoint, is_onnx_file: bool, device: str, precision: str, audio_seconds: float | None) -> str:
    """What ``backend="auto"`` means here (see the module's docstring)."""
    if is_onnx_file or not installed("torch"):
        return "onnx"
    if checkpoint is not None or str(device) != "cpu" or precision == "bf16" or not installed("onnxruntime"):
        return "torch"  # a .pt checkpoint, a GPU or bf16 asked for: only PyTorch runs them
    if not torch_imported() and audio_seconds is not None and audio_seconds < TORCH_BREAK_EVEN_S:
        return "onnx"  # importing PyTorch would cost more than its bf16 speed saves
    from mitkit.model import native_bf16
    return "torch" if precision == "auto" and native_bf16() else "onnx"  # onnxruntime beats float32 PyTorch


def check_backend(backend: str = "auto", precision: str = "auto") -> None:
    """Raise a clear error for a ``backend`` or ``precision`` that is not one of the choices."""
    if backend not in BACKENDS:
        raise MitkitError(f"backend={backend!r} must be one of {BACKENDS}")
    if precision not in PRECISIONS:
        raise MitkitError(f"precision={precision!r} must be one of {PRECISIONS}")


def resolve_backend(backend: str = "auto", checkpoint=None, device: str = "cpu", precision: str = "auto",
                    audio_seconds: float | None = None) -> str:
    """``backend`` ("auto", "torch" or "onnx") made concrete for this machine, checkpoint and ``precision``
    ("auto", "bf16" or "fp32"), and for ``audio_seconds`` of audio to transcribe in this process (None:
    unknown, taken as long)."""
    check_backend(backend, precision)
    is_onnx_file = checkpoint is not None and str(checkpoint).endswith(".onnx")
    if backend == "auto":
        backend = _fastest(checkpoint, is_onnx_file, device, precision, audio_seconds)
    if backend == "torch" and not installed("torch"):
        raise MitkitError("backend='torch' needs PyTorch, which this install lacks: pip install 'mitkit[torch]', "
                          "or use backend='onnx'")
    if backend == "onnx" and not installed("onnxruntime"):
        raise MitkitError("backend='onnx' needs onnxruntime: pip install onnxruntime")
    if backend == "torch" and is_onnx_file:
        raise MitkitError(f"checkpoint={str(checkpoint)!r} is an ONNX file: use backend='onnx'")
    if backend == "onnx" and checkpoint is not None and not is_onnx_file:
        raise MitkitError(f"checkpoint={str(checkpoint)!r} must be an .onnx file for backend='onnx': export it "
                          "with `mitkit export-onnx OUT.onnx --checkpoint CHECKPOINT`")
    return backend


class TorchBackend:
    """The PyTorch network of a checkpoint (``.pt``)."""

    name = "torch"

    def __init__(self, checkpoint=None, *, device: str = "cpu", precision: str = "auto"):
        from mitkit.checkpoint import load_model, thresholds_of
        from mitkit.inference import use_bf16
        use_bf16(precision)  # a bad value is reported when the backend is made, not at the first chunk
        self.model, ckpt = load_model(checkpoint, device=device)
        self.precision = precision
        self.thresholds = thresholds_of(ckpt)
        self.affinity_temperature = float(ckpt.get("affinity_temperature", 1.0))
        self.polyphony_classifier = ckpt.get("polyphony_classifier")

    def predict(self, audio, *, with_timbre: bool = True, progress: bool = False):
        from mitkit.inference import predict
        return predict(self.model, audio, with_timbre=with_timbre, precision=self.precision, progress=progress)

    def stream_note_embeddings(self, audio, notes, post, *, progress: bool = False):
        from mitkit.inference import stream_note_embeddings
        return stream_note_embeddings(self.model, audio, notes, post, precision=self.precision, progress=progress)


class OnnxBackend:
    """The network of an ONNX file (``mitkit export-onnx``; None: the shipped one), float32."""

    name = "onnx"

    def __init__(self, checkpoint=None, *, precision: str = "auto"):
        from mitkit.onnx_backend import load_onnx
        if precision not in ("auto", "fp32"):
            raise MitkitError(f"precision={precision!r} must be 'auto' or 'fp32' with backend='onnx' "
                              "(it runs float32)")
        self.net = load_onnx(None if checkpoint is None else str(Path(checkpoint)))
        self.thresholds = dict(self.net.thresholds)
        self.affinity_temperature = self.net.affinity_temperature
        self.polyphony_classifier = self.net.polyphony_classifier

    def predict(self, audio, *, with_timbre: bool = True, progress: bool = False):
        from mitkit.onnx_backend import predict
        return predict(self.net, audio, keep_embeddings=with_timbre, progress=progress)

    def stream_note_embeddings(self, audio, notes, post, *, progress: bool = False):
        from mitkit.onnx_backend import stream_note_embeddings
        return stream_note_embeddings(self.net, audio, notes, post, progress=progress)


def load_backend(backend: str = "auto", checkpoint=None, *, device: str = "cpu", precision: str = "auto",
                 audio_seconds: float | None = None):
    """A :class:`TorchBackend` or :class:`OnnxBackend` for ``checkpoint`` (see :func:`resolve_backend`)."""
    if resolve_backend(backend, checkpoint, device, precision, audio_seconds) == "torch":
        return TorchBackend(checkpoint, device=device, precision=precision)
    return OnnxBackend(checkpoint, precision=precision)
