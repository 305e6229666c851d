"""Writing transcriptions: multi-track MIDI (pretty_midi) and JSON, never overwriting by accident.

JSON layout (stable keys; more may be added)::

    {"audio": str | null, "duration": s, "instruments": K,
     "tracks": [{"id": 0, "program": 40, "notes": [{"onset": s, "offset": s, "pitch": int, "velocity": int}]}],
     "thresholds": {...}, "applied_thresholds": {...} | null, "clustering": "note", "count": {...} | null,
     "mitkit_version": "..."}

``applied_thresholds`` are the thresholds as they applied to this audio (the onset thresholds scaled to its onset
level, :mod:`mitkit.onset_level`).

``count`` is the evidence of ``instruments="auto"`` (:class:`mitkit.instrument_count.InstrumentCount`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pretty_midi

from mitkit.errors import MitkitError
from mitkit.files import check_writable, temporary_sibling
from mitkit.version import __version__


def write_outputs(t, paths: dict, *, overwrite: bool = False) -> list[Path]:
    """Write ``t`` in several formats at once: ``paths`` maps ``"json"``, ``"midi"``, ``"html"`` to files.

    Each file is written to a temporary file in its folder first; only when every one is complete are
    they renamed into place (``os.replace``, atomic on one file system). A failure (full disk, bad data)
    leaves every earlier file as it was and no half-written file behind.
    """
    writers = {"json": _write_json_to, "midi": _write_midi_to, "html": _write_report_to}
    unknown = set(paths) - set(writers)
    if unknown:
        raise MitkitError(f"paths keys {sorted(unknown)} must be among {sorted(writers)}")
    targets = {kind: check_writable(p, overwrite=overwrite) for kind, p in paths.items()}
    temps = {}
    try:
        for kind, target in targets.items():
            temps[kind] = temporary_sibling(target)
            writers[kind](t, temps[kind])
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise
    for kind, target in targets.items():
        os.replace(temps[kind], target)
    return list(targets.values())


def transcription_to_dict(t) -> dict:
    return {"audio": t.audio, "duration": round(t.duration, 6), "instruments": t.instruments,
            "tracks": [{"id": tr.id, "program": tr.program,
                        "notes": [{"onset": round(n.onset, 6), "offset": round(n.offset, 6), "pitch": n.pitch,
                                   "velocity": n.velocity} for n in tr.notes]} for tr in t.tracks],
            "thresholds": t.thresholds, "applied_thresholds": t.applied_thresholds, "clustering": t.clustering,
            "count": t.count.to_dict() if t.count is not None else None, "mitkit_version": __version__}


def write_json(t, path, *, overwrite: bool = False) -> Path:
    """The transcription as JSON (layout above); written atomically (:func:`write_outputs`)."""
    return write_outputs(t, {"json": path}, overwrite=overwrite)[0]


def _write_json_to(t, path: Path) -> None:
    path.write_text(json.dumps(transcription_to_dict(t), indent=1))


def to_pretty_midi(t) -> pretty_midi.PrettyMIDI:
    """One ``pretty_midi.Instrument`` per track, named ``Track k``."""
    pm = pretty_midi.PrettyMIDI()
    for tr in t.tracks:
        inst = pretty_midi.Instrument(program=tr.program, name=f"Track {tr.id + 1}")
        inst.notes = [pretty_midi.Note(velocity=n.velocity, pitch=n.pitch, start=n.onset, end=n.offset)
                      for n in tr.notes]
        pm.instruments.append(inst)
    return pm


def write_midi(t, path, *, overwrite: bool = False) -> Path:
    """A multi-track MIDI file (:func:`to_pretty_midi`); written atomically (:func:`write_outputs`)."""
    return write_outputs(t, {"midi": path}, overwrite=overwrite)[0]


def _write_midi_to(t, path: Path) -> None:
    to_pretty_midi(t).write(str(path))


def write_report(t, path, *, overwrite: bool = False) -> Path:
    """A self-contained HTML page (plotly inlined, works offline): posteriorgram and notes by track."""
    return write_outputs(t, {"html": path}, overwrite=overwrite)[0]


def _write_report_to(t, path: Path) -> None:
    import html

    from mitkit.plots import plot_transcription
    name = Path(t.audio).name if t.audio else "audio"  # the file's name: no machine path in a shared page
    counts = ", ".join(f"track {tr.id + 1}: {len(tr.notes)} notes" for tr in t.tracks) or "no notes"
    fig = plot_transcription(t, title=f"mitkit {__version__}: {name} ({t.duration:.1f} s; {counts})")
    page = fig.to_html(include_plotlyjs=True, full_html=True)
    page = page.replace("<head>", f"<head><title>{html.escape(name)} · mitkit transcription</title>", 1)
    if t.count is not None:  # above the figure, as text that wraps (a plotly title does not)
        page = page.replace("<body>", f'<body><p class="mitkit-count" style="font: 13px sans-serif; '
                                      f'margin: 12px 80px 0;">{html.escape(t.count.reason)}</p>', 1)
    path.write_text(page, encoding="utf-8")
