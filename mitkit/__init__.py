"""mitkit: lightweight multi-instrument music transcription.

Audio of an ensemble goes in; notes come out, grouped into one track per instrument.

>>> import mitkit
>>> result = mitkit.transcribe(mitkit.example_path(), instruments="auto")  # doctest: +SKIP
"""
__version__ = "0.1.0"

_LAZY = {
    "transcribe": "transcribe", "Transcription": "transcribe", "Track": "transcribe", "Note": "transcribe",
    "load_model": "transcribe", "example_path": "assets",
    "load_audio": "audio", "MitkitError": "errors",
}


def __getattr__(name):  # keep `import mitkit` light: torch loads on first use
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'mitkit' has no attribute {name!r}")


__all__ = list(_LAZY)
