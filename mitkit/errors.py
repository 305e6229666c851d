"""The one error type mitkit raises for bad input, and how it warns about input it can still use."""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

_PACKAGE = str(Path(__file__).resolve().parent)


class MitkitError(ValueError):
    """Bad input to a public mitkit function; the message names the parameter, its value and the rule."""


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside the mitkit package, so the warning names
    the user's line (their notebook cell or script), never a line of mitkit's own source, however deep
    inside mitkit it was raised."""
    level, frame = 2, sys._getframe(1)  # stacklevel 2 is the frame that called warn()
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
