"""Checkpoints: one file that carries weights, model config, thresholds, metrics and the mitkit version.

Files are written with ``torch.save`` and read with ``torch.load(..., weights_only=True)``, so loading
a checkpoint never runs code from it.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import torch

from . import __version__
from .errors import MitkitError

FORMAT = "mitkit-checkpoint"
FORMAT_VERSION = 1  # bump when the meaning of a stored field changes
BUNDLED = "mitkit_base.pt"  # file name of the shipped model inside mitkit/weights/


def bundled_checkpoint_path() -> Path:
    """Path of the checkpoint shipped inside the package."""
    return Path(str(resources.files("mitkit") / "weights" / BUNDLED))


def save_checkpoint(path, payload: dict, *, overwrite: bool = False) -> Path:
    """Write ``payload`` (a dict with at least ``model`` and ``model_config``) with format fields added.

    The file is written to a temporary name first and renamed, so a killed run never leaves half a
    checkpoint; an existing file is only replaced when ``overwrite`` is true.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise MitkitError(f"path={str(path)!r} must not exist (pass overwrite=True to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, "mitkit_version": __version__, **payload}, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path=None) -> dict:
    """Read and check a checkpoint; ``path=None`` reads the bundled one.

    Always ``weights_only=True`` (tensors, numbers, strings and containers only), also for a training
    run's ``last.pt``: a crafted file cannot run code here."""
    path = Path(path) if path is not None else bundled_checkpoint_path()
    if not path.exists():
        raise MitkitError(f"checkpoint={str(path)!r} must exist: no such file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for foreign, empty or damaged files
        raise MitkitError(f"checkpoint={str(path)!r} must be a mitkit checkpoint; torch.load failed: "
                          f"{_load_failure(err, path)}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise MitkitError(f"checkpoint={str(path)!r} must be a mitkit checkpoint (format={FORMAT!r})")
    if ckpt.get("format_version") != FORMAT_VERSION:
        raise MitkitError(f"checkpoint format_version={ckpt.get('format_version')} must be {FORMAT_VERSION}: "
                          f"it was written by mitkit {ckpt.get('mitkit_version')}, this is mitkit {__version__}")
    return ckpt


def _load_failure(err: Exception, path: Path) -> str:
    """What went wrong, in one line, without torch's advice to retry with ``weights_only=False``
    (that would run code from the file: never an option here)."""
    if path.stat().st_size == 0:
        return "the file is empty (0 bytes)"
    text = str(err)
    if "weights_only" in text or "Unsupported global" in text or "GLOBAL" in text:
        return "it holds Python objects other than tensors and plain data (refused: loading them could run code)"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return f"{type(err).__name__}: {first}" if first else type(err).__name__
