"""Worker processes that never outlive their parent: the one pool used by `mitkit synth` and by
`mitkit transcribe --jobs`; and ``--shard i/N``, one machine's share of either."""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os


def end_with_parent(threads: int | None = None) -> None:
    """Worker initializer: ask Linux to end this worker when the parent process dies (killed or not),
    so no orphan keeps writing; with ``threads``, limit the threads of this worker's libraries: BLAS and
    PyTorch (``OMP_NUM_THREADS``, read when they load) and onnxruntime (``MITKIT_THREADS``, read by
    :class:`mitkit.onnx_backend.OnnxNetwork`). Nothing is imported here: a worker of the onnxruntime
    backend never pays for PyTorch."""
    import ctypes
    import signal
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # not Linux: workers end when their queue closes
        pass
    if threads:
        os.environ["OMP_NUM_THREADS"] = os.environ["MITKIT_THREADS"] = str(threads)


def worker_pool(workers: int, *, threads: int | None = None) -> cf.ProcessPoolExecutor:
    """A pool of fresh interpreters (spawned, not forked: a fork of a process that already ran FluidSynth
    or torch can deadlock in the child), each ended with its parent."""
    return cf.ProcessPoolExecutor(max_workers=workers, initializer=end_with_parent, initargs=(threads,),
                                  mp_context=multiprocessing.get_context("spawn"))


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/N"`` as ``(i, N)``: the argument type of every ``--shard`` (one machine's share of the work)."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--shard={text!r} must look like i/N, e.g. 0/4") from exc
    if not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"--shard={text!r} must satisfy 0 <= i < N")
    return i, n
