"""Solutions to the exercises of notebook 05_transcribe_your_own_audio, and the small helpers its studies call.

Read next to the notebook; nothing here is needed to transcribe audio.
"""
from __future__ import annotations

import numpy as np

from mitkit import constants as C
from mitkit.errors import MitkitError


def track_summary(transcription) -> list[dict]:
    """One row per track: ``track`` (1-based), ``notes``, ``lowest`` and ``highest`` (note names),
    ``sounding_s`` (summed note durations) and ``program`` (General MIDI).

    Examples
    --------
    >>> from mitkit.transcription import Note, Track, Transcription
    >>> t = Transcription(tracks=[Track(0, [Note(0.0, 0.5, 60, 90), Note(0.5, 1.5, 72, 90)], program=40)],
    ...                   duration=2.0)
    >>> track_summary(t)
    [{'track': 1, 'notes': 2, 'lowest': 'C4', 'highest': 'C5', 'sounding_s': 1.5, 'program': 40}]

    Notebook: 05_transcribe_your_own_audio
    """
    import pretty_midi
    rows = []
    for tr in transcription.tracks:
        pitches = [n.pitch for n in tr.notes]
        rows.append({"track": tr.id + 1, "notes": len(tr.notes),
                     "lowest": pretty_midi.note_number_to_name(min(pitches)) if pitches else None,
                     "highest": pretty_midi.note_number_to_name(max(pitches)) if pitches else None,
                     "sounding_s": round(sum(n.offset - n.onset for n in tr.notes), 3), "program": tr.program})
    return rows


def midi_roundtrip_error(transcription, path) -> float:
    """Write ``transcription`` to a MIDI file at ``path`` (replacing it), read it back with pretty_midi
    and return the largest onset or offset difference in seconds between written and read notes.

    Pitches and note counts must survive exactly (a :class:`MitkitError` says so otherwise); times are
    quantised to MIDI ticks (pretty_midi's default 220 ticks per beat at 120 bpm: ≈ 2.3 ms).

    Notebook: 05_transcribe_your_own_audio
    """
    import pretty_midi
    path = transcription.to_midi(path, overwrite=True)
    back = pretty_midi.PrettyMIDI(str(path))
    if len(back.instruments) != len(transcription.tracks):
        raise MitkitError(f"MIDI tracks={len(back.instruments)} must equal the transcription's "
                          f"{len(transcription.tracks)}")
    worst = 0.0
    for tr, inst in zip(transcription.tracks, back.instruments):
        a = sorted((n.onset, n.offset, n.pitch) for n in tr.notes)
        b = sorted((n.start, n.end, n.pitch) for n in inst.notes)
        if len(a) != len(b) or [x[2] for x in a] != [x[2] for x in b]:
            raise MitkitError(f"track {tr.id + 1}: notes must survive the MIDI round trip")
        if a:
            worst = max(worst, float(np.max(np.abs(np.array(a)[:, :2] - np.array(b)[:, :2]))))
    return worst


def transcribe_excerpt(source, start: float, stop: float, **kwargs):
    """Transcribe seconds ``start`` … ``stop`` of a file (or array with ``sr=``) with
    :func:`mitkit.transcription`; note times are relative to ``start``.

    Notebook: 05_transcribe_your_own_audio
    """
    from mitkit.audio import load_audio
    from mitkit.transcription import transcribe
    sr = kwargs.pop("sr", None)
    y = load_audio(source, sr=sr)
    if not 0 <= start < stop:
        raise MitkitError(f"start={start} and stop={stop} must satisfy 0 <= start < stop (seconds)")
    a, b = int(round(start * C.SAMPLE_RATE)), min(int(round(stop * C.SAMPLE_RATE)), len(y))
    if a >= len(y):
        raise MitkitError(f"start={start} must be before the end of the audio ({len(y) / C.SAMPLE_RATE:.2f} s)")
    return transcribe(y[a:b], sr=C.SAMPLE_RATE, **kwargs)


def check_track_summary(yours) -> bool:
    """Exercise 1: your ``track_summary(transcription)`` (one dict per track with ``track``, ``notes``,
    ``lowest``, ``highest`` and ``sounding_s``) against the solution on a small hand-made transcription."""
    from mitkit.transcription import Note, Track, Transcription
    from solutions.checks import check_answer
    t = Transcription(tracks=[Track(0, [Note(0.0, 0.5, 60, 90), Note(0.5, 1.5, 72, 90)], program=40),
                              Track(1, [Note(0.2, 2.2, 43, 70)], program=70), Track(2, [], program=0)],
                      duration=2.5)
    wanted = lambda tr: [{k: row[k] for k in ("track", "notes", "lowest", "highest", "sounding_s")}  # noqa: E731
                         for row in track_summary(tr)]
    return check_answer(yours, wanted, [(t,)], atol=1e-6, labels=["3 tracks: two notes, one note, none"])
