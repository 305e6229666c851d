"""mitkit: lightweight multi-instrument music transcription.

Audio of an ensemble goes in; notes come out, grouped into one track per instrument (the method of
arXiv 2509.12712; ARCHITECTURE.md maps the package).

>>> import mitkit
>>> result = mitkit.transcribe(mitkit.example_path(), instruments="auto")  # doctest: +SKIP

The public names below are loaded on first use (PEP 562), so ``import mitkit`` and ``mitkit --help``
start without importing torch or plotly.
"""
from __future__ import annotations

import importlib

from mitkit.version import __version__

# public name -> module that defines it
_PUBLIC = {
    "transcribe": "mitkit.transcription",
    "Transcription": "mitkit.transcription",
    "read_json": "mitkit.transcription",
    "Note": "mitkit.notes",
    "Track": "mitkit.notes",
    "load_audio": "mitkit.audio",
    "load_model": "mitkit.checkpoint",
    "predict": "mitkit.inference",
    "create_notes": "mitkit.note_creation",
    "note_embeddings": "mitkit.embeddings",
    "cluster_notes": "mitkit.clustering",
    "example_path": "mitkit.assets",
    "example_truth": "mitkit.assets",
    "MitkitError": "mitkit.errors",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'mitkit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
