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
    """Read and check a checkpoint; ``path=None`` (or ``"bundled"``, as the CLI spells it) reads the bundled one.

    Always ``weights_only=True`` (tensors, numbers, strings and containers only), also for a training
    run's ``last.pt``: a crafted file cannot run code here."""
    path = bundled_checkpoint_path() if path is None or path == "bundled" else Path(path)
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


# what `mitkit tune` and the count fit set for each branch: they stay with the weights they were set for
BRANCH_SETTINGS = {"amt": ("thresholds",), "timbre": ("affinity_temperature", "polyphony_classifier")}


def branch_state(state: dict, branch: str) -> dict:
    """The tensors of one branch (``"amt"`` or ``"timbre"``) and of its input normalisation."""
    return {k: v for k, v in state.items() if k.split(".")[0] in (branch, f"{branch}_norm")}


def kept_branch(fresh: str) -> str:
    """The branch a run keeps from its init checkpoint when ``fresh`` starts from scratch."""
    return "timbre" if fresh == "amt" else "amt"


def graft_branch(ckpt: dict, donor: dict, branch: str, where: str = "donor") -> dict:
    """``ckpt`` with ``donor``'s ``branch`` put in its place: that branch's weights and the settings
    tuned for it (:data:`BRANCH_SETTINGS`). The other branch, the model config and the training record
    stay ``ckpt``'s, e.g. a wider note-finding branch trained from scratch gets the bundled timbre branch.
    Both checkpoints are loaded dicts; neither is changed."""
    if branch not in BRANCH_SETTINGS:
        raise MitkitError(f"branch={branch!r} must be one of {sorted(BRANCH_SETTINGS)}")
    state = {**ckpt["model"], **branch_state(donor["model"], branch)}
    try:
        MitNet(ModelConfig(**ckpt["model_config"])).load_state_dict(state)
    except RuntimeError as err:
        detail = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        raise MitkitError(f"{where}'s {branch} branch must have the shapes of this checkpoint's "
                          f"(model_config={ckpt['model_config']} vs {donor['model_config']}): {detail[:400]}") from None
    settings = {k: donor[k] for k in BRANCH_SETTINGS[branch] if donor.get(k) is not None}
    kept = {k: v for k, v in ckpt.items() if k not in BRANCH_SETTINGS[branch]}
    return {**kept, **settings, "model": state, "grafted": {"branch": branch, "from": where}}


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
