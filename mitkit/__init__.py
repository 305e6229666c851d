"""mitkit: lightweight multi-instrument music transcription.

Audio of an ensemble goes in; notes come out, grouped into one track per instrument.

>>> import mitkit
>>> result = mitkit.transcribe(mitkit.example_path(), instruments="auto")  # doctest: +SKIP
"""
__version__ = "0.1.0"

from .assets import example_path, example_truth  # noqa: E402
from .audio import load_audio  # noqa: E402
from .errors import MitkitError  # noqa: E402
# imported eagerly: a lazy attribute would be shadowed by the submodule of the same name
from .transcribe import Note, Track, Transcription, load_model, transcribe  # noqa: E402

__all__ = ["transcribe", "Transcription", "Track", "Note", "load_model", "load_audio", "example_path",
           "example_truth", "MitkitError"]
