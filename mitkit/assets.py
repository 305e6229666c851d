"""The bundled example: a short ensemble excerpt rendered by mitkit's own pipeline, with its ground truth.

Made by ``python scripts/make_example.py`` from a test-split chorale (never trained or tuned on).
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np


def _asset(name: str) -> Path:
    return Path(str(resources.files("mitkit") / "assets" / name))


def example_path() -> Path:
    """Path of the bundled example audio (FLAC, 22,050 Hz mono)."""
    return _asset("example.flac")


def example_truth() -> dict:
    """Ground truth of the example: ``{"piece", "parts": [{"name", "program", "notes": (N, 4) array}]}``."""
    d = json.loads(_asset("example.json").read_text())
    for part in d["parts"]:
        part["notes"] = np.asarray(part["notes"], dtype=float).reshape(-1, 4)
    return d
