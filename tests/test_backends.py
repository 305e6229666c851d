"""Backends: onnxruntime transcribes what PyTorch transcribes, chunked or not, and runs without PyTorch."""
import json
import subprocess
import sys

import numpy as np
import pytest

import mitkit
from mitkit import backends
from mitkit.cqt_kernels import cqt_power
from mitkit.embeddings import note_embeddings
from mitkit.errors import MitkitError
from mitkit.note_creation import create_notes
from mitkit.onnx_backend import load_onnx, predict, stream_note_embeddings


@pytest.fixture(scope="module")
def onnx_result():
    return mitkit.transcribe(mitkit.example_path(), backend="onnx")


def test_onnx_transcribes_the_example_like_torch_float32(onnx_result):
    ref = mitkit.transcribe(mitkit.example_path(), backend="torch", precision="fp32")
    for a, b in ((onnx_result.posteriorgrams.frames, ref.posteriorgrams.frames),
                 (onnx_result.posteriorgrams.onsets, ref.posteriorgrams.onsets)):
        assert np.abs(a - b).max() < 1e-3
    np.testing.assert_array_equal(onnx_result.frame_notes[["start", "end", "pitch"]],
                                  ref.frame_notes[["start", "end", "pitch"]])
    np.testing.assert_array_equal(onnx_result.labels, ref.labels)
    assert onnx_result.count.k == ref.count.k == 4 and onnx_result.thresholds == ref.thresholds


def test_onnx_chunks_and_streamed_embeddings_equal_one_pass(onnx_result):
    net = load_onnx()
    audio = mitkit.load_audio(mitkit.example_path())[:22050 * 12]
    whole = predict(net, audio)
    chunked = predict(net, audio, chunk_frames=300, keep_embeddings=False)
    assert chunked.embeddings is None and abs(chunked.sigma - whole.sigma) < 1e-6 * whole.sigma
    assert np.abs(chunked.frames - whole.frames).max() < 1e-4
    notes = create_notes(whole.frames, whole.onsets, **net.thresholds)
    # V depends on the chunk (the timbre branch normalises over it), so compare like with like
    streamed = stream_note_embeddings(net, audio, notes, whole, chunk_frames=300)
    kept = predict(net, audio, chunk_frames=300).embeddings
    np.testing.assert_allclose(streamed, note_embeddings(notes, whole.frames, kept), atol=1e-4)


def test_numpy_cqt_power_matches_the_network_front_end():
    import torch

    from mitkit.frontend import CQT
    audio = mitkit.load_audio(mitkit.example_path())[:22050 * 3 + 101]
    with torch.no_grad():
        want = CQT().power(torch.from_numpy(audio)[None])[0].double().numpy()
    got = cqt_power(audio)
    assert got.shape == want.shape and np.abs(got - want).max() < 1e-5 * want.max()


LIGHT = """
import importlib.abc, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("no torch in a light install")
sys.meta_path.insert(0, NoTorch())
from mitkit.cli import main
status = main(["transcribe", sys.argv[1], "--out", sys.argv[2]])
assert "torch" not in sys.modules
sys.exit(status)
"""


def test_transcription_runs_without_pytorch(tmp_path, onnx_track_sizes):
    """What a light install (no PyTorch) does: `mitkit transcribe` picks onnxruntime and writes the outputs."""
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-c", LIGHT, str(mitkit.example_path()), str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    saved = json.loads((out / "example.json").read_text())
    # the same tracks as onnxruntime gives in this (full) environment
    assert [len(t["notes"]) for t in saved["tracks"]] == onnx_track_sizes and saved["instruments"] == 4
    assert (out / "example.mid").is_file()


def test_backend_choice(monkeypatch):
    assert backends.resolve_backend("onnx") == "onnx" and backends.resolve_backend("torch") == "torch"
    assert backends.resolve_backend("auto", "model.onnx") == "onnx"
    from mitkit import model
    monkeypatch.setattr(model, "native_bf16", lambda: True)
    assert backends.resolve_backend("auto") == "torch"  # bf16 PyTorch is the faster one here
    monkeypatch.setattr(model, "native_bf16", lambda: False)
    assert backends.resolve_backend("auto") == "onnx"  # onnxruntime beats float32 PyTorch
    assert backends.resolve_backend("auto", device="cuda") == "torch"
    real = backends.installed
    monkeypatch.setattr(backends, "installed", lambda name: name != "torch" and real(name))
    assert backends.resolve_backend("auto") == "onnx"
    with pytest.raises(MitkitError, match="backend='torch' needs PyTorch"):
        backends.resolve_backend("torch")


def test_auto_backend_weighs_start_up_against_audio_length(monkeypatch):
    from mitkit import model
    monkeypatch.setattr(model, "native_bf16", lambda: True)
    monkeypatch.setattr(backends, "torch_imported", lambda: False)
    short, long_ = backends.TORCH_BREAK_EVEN_S / 3, backends.TORCH_BREAK_EVEN_S * 3
    assert backends.resolve_backend("auto", audio_seconds=short) == "onnx"  # importing PyTorch would cost more
    assert backends.resolve_backend("auto", audio_seconds=long_) == "torch"
    assert backends.resolve_backend("auto", audio_seconds=None) == "torch"  # unknown length: taken as long
    assert backends.resolve_backend("auto", audio_seconds=short, precision="bf16") == "torch"  # only PyTorch has it
    assert backends.resolve_backend("auto", audio_seconds=short, device="cuda") == "torch"
    monkeypatch.setattr(backends, "torch_imported", lambda: True)  # already paid for: the faster network wins
    assert backends.resolve_backend("auto", audio_seconds=short) == "torch"
    monkeypatch.setattr(model, "native_bf16", lambda: False)
    assert backends.resolve_backend("auto", audio_seconds=long_, precision="fp32") == "onnx"
    assert backends.resolve_backend("auto", "weights.pt", audio_seconds=long_) == "torch"  # only PyTorch reads it
    with pytest.raises(MitkitError, match="precision='fp16' must be one of"):
        backends.resolve_backend("auto", precision="fp16")


def test_short_file_in_a_fresh_process_does_not_import_torch():
    code = ("import sys, mitkit; t = mitkit.transcribe(mitkit.example_path(), instruments=1); "
            "print(sum(len(k.notes) for k in t.tracks), 'torch' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    n_notes, torch_loaded = run.stdout.split()
    assert int(n_notes) > 50 and torch_loaded == "False"


def test_backend_errors(tmp_path):
    with pytest.raises(MitkitError, match="backend='tf' must be one of"):
        mitkit.transcribe(mitkit.example_path(), backend="tf")
    with pytest.raises(MitkitError, match="must be an .onnx file for backend='onnx'"):
        mitkit.transcribe(mitkit.example_path(), backend="onnx", checkpoint="model.pt")
    with pytest.raises(MitkitError, match="is an ONNX file: use backend='onnx'"):
        mitkit.transcribe(mitkit.example_path(), backend="torch", checkpoint="model.onnx")
    with pytest.raises(MitkitError, match="precision='bf16' must be 'auto' or 'fp32' with backend='onnx'"):
        mitkit.transcribe(mitkit.example_path(), backend="onnx", precision="bf16")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(MitkitError, match="must be an ONNX model"):
        mitkit.transcribe(mitkit.example_path(), checkpoint=bad)
