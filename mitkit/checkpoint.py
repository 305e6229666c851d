"""Checkpoints: one file that carries weights, model config, thresholds, metrics and the mitkit version.

Files are written with ``torch.save`` and read with ``torch.load(..., weights_only=True)``, so loading
a checkpoint never runs code from it.
"""
from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import torch

from mitkit.errors import MitkitError
from mitkit.files import write_atomically
from mitkit.model import MitNet, ModelConfig
from mitkit.note_creation import DEFAULT_THRESHOLDS
from mitkit.version import __version__

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
    record = {"format": FORMAT, "format_version": FORMAT_VERSION, "mitkit_version": __version__, **payload}
    return write_atomically(path, lambda tmp: torch.save(record, tmp), overwrite=overwrite)


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


@functools.lru_cache(maxsize=4)
def _cached_model(path: str | None, device: str):
    ckpt = load_checkpoint(path)
    return model_from_checkpoint(ckpt, where=path or "bundled checkpoint").to(device), ckpt


def model_from_checkpoint(ckpt: dict, where: str = "checkpoint") -> MitNet:
    """Build an eval-mode :class:`MitNet` from a loaded checkpoint dict, with a clear error when the
    checkpoint was made for another model configuration."""
    try:
        model = MitNet(ModelConfig(**ckpt["model_config"]))
        model.load_state_dict(ckpt["model"])
    except (TypeError, RuntimeError, KeyError) as err:
        detail = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        raise MitkitError(f"checkpoint={where!r} must match this mitkit's model "
                          f"(model_config={ckpt.get('model_config')}): {detail[:600]}") from None
    return model.eval()


def thresholds_of(ckpt: dict) -> dict:
    """Note-creation settings a checkpoint transcribes with: DEFAULT_THRESHOLDS updated by its tuned ones."""
    return {**DEFAULT_THRESHOLDS, **(ckpt.get("thresholds") or {})}


def load_model(checkpoint=None, *, device: str = "cpu"):
    """The network and its checkpoint dict; ``checkpoint=None`` loads the bundled model (cached).

    The cached model is shared: copy it (``copy.deepcopy``) before changing its weights.

    Notebook: 02_training
    """
    try:
        torch.device(device)
    except (RuntimeError, TypeError):
        raise MitkitError(f"device={device!r} must be a torch device such as 'cpu' or 'cuda'") from None
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise MitkitError(f"device={device!r} must be available: this machine has no CUDA GPU (use 'cpu')")
    return _cached_model(None if checkpoint is None else str(checkpoint), device)
