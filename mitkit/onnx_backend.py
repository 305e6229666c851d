"""The onnxruntime backend: the network from an ONNX file (``mitkit export-onnx``), without PyTorch.

``transcribe(..., backend="onnx")`` runs here; so does every transcription of a light install (``pip install
mitkit`` without the ``torch`` extra). The ONNX file holds the whole network (CQT included) and, in its
metadata, the checkpoint's thresholds, clustering temperature and count classifier; the file's EnergyNorm
scale σ is measured with the NumPy CQT (:func:`mitkit.cqt_kernels.cqt_power`), chunk by chunk, as
:func:`mitkit.inference.clip_scale` does. Float32 throughout (posteriors within 1e-3 of PyTorch's float32).
"""
from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from mitkit import constants as C
from mitkit.chunks import CHUNK_FRAMES, CONTEXT_FRAMES, Posteriorgrams, add_note_embeddings, chunk_spans, segment
from mitkit.cqt_kernels import cqt_power
from mitkit.errors import MitkitError

SHIPPED = "mitkit_base.onnx"  # the bundled checkpoint exported, inside mitkit/weights/


def shipped_onnx_path() -> Path:
    from importlib import resources
    return Path(str(resources.files("mitkit") / "weights" / SHIPPED))


class OnnxNetwork:
    """An onnxruntime session over an exported network, with the settings from its metadata.

    Attributes: ``path``, ``thresholds`` (note creation), ``affinity_temperature``, ``polyphony_classifier``,
    ``embedding_dim``, ``metadata`` (all of it).
    """

    def __init__(self, path=None, *, threads: int = 0):
        try:
            import onnxruntime as ort
        except ImportError:
            raise MitkitError("backend='onnx' needs onnxruntime: pip install onnxruntime") from None
        self.path = Path(path) if path is not None else shipped_onnx_path()
        if not self.path.is_file():
            raise MitkitError(f"checkpoint={str(self.path)!r} must be an ONNX file made by `mitkit export-onnx`")
        options = ort.SessionOptions()
        # a worker of `mitkit transcribe --jobs N` gets its share of the cores (mitkit.processes)
        options.intra_op_num_threads = threads or int(os.environ.get("MITKIT_THREADS") or 0) or (os.cpu_count() or 1)
        options.enable_cpu_mem_arena = False  # the arena kept every chunk size it saw: 1.2 GB peak on 10 minutes
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types for unreadable models
            raise MitkitError(f"checkpoint={str(self.path)!r} must be an ONNX model: {err}") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if "thresholds" not in meta:
            raise MitkitError(f"checkpoint={str(self.path)!r} must be exported by `mitkit export-onnx` "
                              "(its metadata holds the thresholds)")
        self.metadata = {k: json.loads(v) for k, v in meta.items()}
        self.thresholds = dict(self.metadata["thresholds"])
        self.affinity_temperature = float(self.metadata.get("affinity_temperature", 1.0))
        self.polyphony_classifier = self.metadata.get("polyphony_classifier")
        self.embedding_dim = int(self.metadata["model_config"]["embedding_dim"])

    def run(self, audio: np.ndarray, sigma: float) -> dict:
        """Logits ``frame_logit``/``onset_logit`` ``(84, T)`` and ``V`` ``(12, 84, T)`` of one waveform."""
        names = ("frame_logit", "onset_logit", "V")
        out = self.session.run(names, {"audio": np.ascontiguousarray(audio, np.float32)[None],
                                       "sigma": np.array([sigma], np.float32)})
        return {k: v[0] for k, v in zip(names, out)}


@functools.lru_cache(maxsize=4)
def load_onnx(path=None) -> OnnxNetwork:
    """The (cached) network of an ONNX file; None: the shipped one."""
    return OnnxNetwork(path)


def clip_scale(audio: np.ndarray, *, chunk_frames: int = CHUNK_FRAMES, context_frames: int = CONTEXT_FRAMES) -> float:
    """σ of the whole file: the standard deviation over time of the CQT frame energy, chunk by chunk."""
    n_frames = len(audio) // C.HOP_LENGTH + 1
    energy = np.empty(n_frames)
    for start, stop in chunk_spans(n_frames, chunk_frames):
        seg, offset = segment(audio, start, stop, context_frames)
        energy[start:stop] = cqt_power(seg).sum(0)[offset:offset + stop - start]
    return float(energy.std())


def _chunks(net: OnnxNetwork, audio, sigma, chunk_frames, context_frames, progress):
    n_frames = len(audio) // C.HOP_LENGTH + 1
    spans = chunk_spans(n_frames, chunk_frames)
    for start, stop in tqdm(spans, disable=not progress or len(spans) == 1, desc="network", unit="chunk"):
        seg, offset = segment(audio, start, stop, context_frames)
        yield start, stop, {k: v[..., offset:offset + stop - start] for k, v in net.run(seg, sigma).items()}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(np.float32)


def predict(net: OnnxNetwork, audio, *, keep_embeddings: bool = True, chunk_frames: int = CHUNK_FRAMES,
            context_frames: int = CONTEXT_FRAMES, progress: bool = False) -> Posteriorgrams:
    """Posteriorgrams (and V, unless ``keep_embeddings=False``) of a mono 22,050 Hz waveform of any length,
    as :func:`mitkit.inference.predict` computes them."""
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    n_frames = len(audio) // C.HOP_LENGTH + 1
    sigma = clip_scale(audio, chunk_frames=chunk_frames, context_frames=context_frames)
    Y_F = np.empty((C.N_PITCHES, n_frames), np.float32)
    Y_O = np.empty_like(Y_F)
    V = np.empty((net.embedding_dim, C.N_PITCHES, n_frames), np.float32) if keep_embeddings else None
    for start, stop, out in _chunks(net, audio, sigma, chunk_frames, context_frames, progress):
        Y_F[:, start:stop] = _sigmoid(out["frame_logit"])
        Y_O[:, start:stop] = _sigmoid(out["onset_logit"])
        if V is not None:
            V[:, :, start:stop] = out["V"]
    return Posteriorgrams(Y_F, Y_O, V, sigma)


def stream_note_embeddings(net: OnnxNetwork, audio, notes, post: Posteriorgrams, *,
                           chunk_frames: int = CHUNK_FRAMES, context_frames: int = CONTEXT_FRAMES,
                           progress: bool = False) -> np.ndarray:
    """Note embeddings ``(N, 12)`` without keeping V (:func:`mitkit.inference.stream_note_embeddings`)."""
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    sums = np.zeros((len(notes), net.embedding_dim))
    for start, stop, out in _chunks(net, audio, post.sigma, chunk_frames, context_frames, progress):
        add_note_embeddings(sums, notes, post.frames, out["V"], start, stop)
    return sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
