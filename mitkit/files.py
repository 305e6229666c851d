"""Output files: the one overwrite guard, output-folder checks, and atomic writes.

Nothing the user had is replaced without ``overwrite``, and a file is either the complete new version
or the old one: every writer here goes through a temporary file in the same folder and ``os.replace``.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from mitkit.errors import MitkitError


def check_folder(folder) -> Path:
    """Create ``folder`` if needed and prove it takes files (a probe file is written and removed), so
    that a run fails before its work, not after it, when the output location is unusable.

    Raises
    ------
    MitkitError
        When ``folder`` is a file, cannot be created, or is not writable (read-only, no permission).
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise MitkitError(f"out={str(folder)!r} must be a folder, but it is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".mitkit-probe-")
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        raise MitkitError(f"out={str(folder)!r} must be a writable folder: {err.strerror or err}") from None
    return folder


def check_writable(path, *, overwrite: bool = False, name: str = "path") -> Path:
    """``path`` as a Path, with its folder created and writable; refuses to replace a file unless
    ``overwrite``. ``name`` is how the error names the path (e.g. ``"--out"``)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise MitkitError(f"{name}={str(path)!r} must not exist already "
                          "(use overwrite=True / --overwrite to replace it)")
    if path.is_dir():
        raise MitkitError(f"{name}={str(path)!r} must be a file path, not a directory")
    check_folder(path.parent)
    return path


def temporary_sibling(path: Path) -> Path:
    """A new, empty temporary file in ``path``'s folder (same file system, so ``os.replace`` is atomic)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return Path(tmp)


def write_atomically(path, write: Callable[[Path], None], *, overwrite: bool = False) -> Path:
    """Call ``write(tmp)`` on a temporary sibling of ``path``, then rename it into place.

    A failure (full disk, bad data, a killed process) leaves the old file as it was and no half-written
    file behind.
    """
    path = check_writable(path, overwrite=overwrite)
    tmp = temporary_sibling(path)
    try:
        write(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return path


def write_json(path, obj, *, overwrite: bool = False, indent: int | None = 1) -> Path:
    """``obj`` as JSON at ``path``, atomically (see :func:`write_atomically`)."""
    text = json.dumps(obj, indent=indent, separators=None if indent else (",", ":")) + "\n"
    return write_atomically(path, lambda tmp: tmp.write_text(text), overwrite=overwrite)
