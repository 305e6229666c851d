"""From audio to instrument tracks: the thin orchestration over audio, network, notes and clustering.

Notebook: 05_transcribe_your_own_audio

>>> import mitkit
>>> result = mitkit.transcribe(mitkit.example_path(), instruments="auto")  # doctest: +SKIP
>>> result.to_midi("example.mid")  # doctest: +SKIP
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from mitkit import constants as C
from mitkit.audio import is_silent, load_audio
from mitkit.backends import check_backend, load_backend
from mitkit.chunks import CHUNK_FRAMES, Posteriorgrams
from mitkit.clustering import (
    cluster_frames,
    cluster_notes,
    notes_from_frame_clusters,
    order_labels_by_pitch,
)
from mitkit.embeddings import note_embeddings
from mitkit.errors import MitkitError, warn
from mitkit.instrument_count import (
    LINES_ONLY,
    InstrumentCount,
    check_instruments,
    chord_probability,
    chord_tracks,
    count_instruments,
    count_voices,
)
from mitkit.note_creation import check_note_settings, create_notes
from mitkit.notes import NOTE_DTYPE, Note, Track
from mitkit.onset_level import scale_to_onset_level
from mitkit.voice_leading import follow_lines

# General MIDI programs given to tracks in exported MIDI so they sound different; the model does not
# name instruments, so these are for listening only.
TRACK_PROGRAMS = (40, 71, 66, 70, 73, 56, 42, 0)
KEEP_EMBEDDINGS_SECONDS = 300.0  # by default V is kept for files up to this long (≈ 4 kB per frame)


@dataclass
class Transcription:
    """Tracks of notes, one per instrument, plus what produced them.

    Attributes
    ----------
    tracks : one :class:`Track` per instrument (track 0 is the highest voice on average).
    duration : seconds of audio.
    audio : the source's name (a path) or ``None`` for arrays.
    posteriorgrams : :class:`mitkit.inference.Posteriorgrams` (Y_F, Y_O, and V when kept).
    frame_notes : all notes in frames (``NOTE_DTYPE``: start, end, pitch, amplitude), what clustering saw;
        ``labels`` : ``(N,)`` track of each. The tracks hold the same notes in seconds, as :class:`Note` objects.
    embeddings : ``(N, 12)`` note embeddings, or None for one instrument.
    count : :class:`~mitkit.instrument_count.InstrumentCount`, the evidence behind ``instruments="auto"``
        (the chord probability and reading, voices, lines, the runner-up count and a sentence); None otherwise.
    thresholds : the note-creation settings used.
    applied_thresholds : those settings as they applied to this audio: with an ``onset_reference``, the onset
        thresholds scaled to the audio's onset level (:func:`mitkit.onset_level.scale_to_onset_level`);
        otherwise equal to ``thresholds``. None before the network has run (silent audio).

    Notebook: 05_transcribe_your_own_audio
    """
    tracks: list[Track]
    duration: float
    audio: str | None = None
    posteriorgrams: Posteriorgrams | None = None
    frame_notes: np.ndarray = field(default_factory=lambda: np.zeros(0, NOTE_DTYPE))
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    embeddings: np.ndarray | None = None
    thresholds: dict = field(default_factory=dict)
    applied_thresholds: dict | None = None
    clustering: str = "note"
    affinity_temperature: float = 1.0  # of the clustering affinity exp(cos / t), from the checkpoint
    count: InstrumentCount | None = None  # how instruments="auto" counted (None for a given K)
    polyphony_classifier: dict | None = None  # the checkpoint's, for counting again in regroup("auto")

    @property
    def instruments(self) -> int:
        return len(self.tracks)

    def to_dict(self) -> dict:
        from mitkit.export import transcription_to_dict
        return transcription_to_dict(self)

    def to_json(self, path, *, overwrite: bool = False) -> Path:
        from mitkit.export import write_json
        return write_json(self, path, overwrite=overwrite)

    def to_midi(self, path=None, *, overwrite: bool = False):
        """Write a multi-track MIDI file (one instrument per track); without ``path`` return the
        ``pretty_midi.PrettyMIDI`` object."""
        from mitkit.export import to_pretty_midi, write_midi
        return to_pretty_midi(self) if path is None else write_midi(self, path, overwrite=overwrite)

    def regroup(self, instruments, *, random_state: int = 0) -> "Transcription":
        """The same notes clustered into another number of tracks (1 … 8, ``"auto"`` or ``"voices"``), without
        running the network again. Needs the note embeddings (a result made with ``instruments != 1``).

        Notebook: 03_embeddings_and_clustering, 05_transcribe_your_own_audio
        """
        instruments = _count(check_instruments(instruments), self.frame_notes)
        if instruments != 1 and self.embeddings is None:
            raise MitkitError("regroup needs note embeddings: transcribe with instruments != 1 first")
        labels, count = group_notes(self.frame_notes, self.embeddings, instruments, self.affinity_temperature,
                                    random_state, self.polyphony_classifier)
        result = replace(self, tracks=[], count=count)
        return _assemble(self.frame_notes, labels, self.embeddings, result)

    def __repr__(self):
        n = sum(len(t.notes) for t in self.tracks)
        return f"Transcription({self.instruments} tracks, {n} notes, {self.duration:.1f} s, audio={self.audio!r})"


def transcribe(source, *, sr: int | None = None, instruments="auto", checkpoint=None, clustering: str = "note",
               onset_threshold: float | None = None, frame_threshold: float | None = None,
               min_note_frames: int | None = None, energy_tolerance: int | None = None,
               reonset_threshold: float | None = None, claim_neighbours: bool | None = None,
               onset_lookback: int | None = None, keep_embeddings: bool | None = None, device: str = "cpu",
               precision: str = "auto", backend: str = "auto", progress: bool = False,
               random_state: int = 0) -> Transcription:
    """Transcribe an ensemble recording into one track of notes per instrument.

    Parameters
    ----------
    source : path to an audio file, or a waveform array (then ``sr`` is required).
    instruments : number of tracks K (1 … 8); ``"auto"`` (default) counts each one-note-at-a-time line once
        and a chord-playing instrument once (:func:`~mitkit.instrument_count.count_instruments`);
        ``"voices"`` counts it as the number of notes sounding at once, for ensembles whose instruments
        each play one note at a time (choirs, wind and string parts); 1 skips the timbre branch
        (instrument-agnostic transcription, fastest).
    checkpoint : path of a checkpoint (``.pt``, or ``.onnx`` from ``mitkit export-onnx``); None uses the bundled model.
    clustering : ``"note"`` (one vector per note; default) or ``"frame"`` (every active bin clustered,
        then notes made per cluster; the paper's comparison).
    onset_threshold, frame_threshold, min_note_frames, energy_tolerance, reonset_threshold : note creation
        settings (probabilities in [0, 1]; frames of 11.6 ms; see :func:`mitkit.note_creation.create_notes`);
        None takes the checkpoint's tuned values. The bundled model's onset threshold follows each audio's
        onset level (``onset_reference``, :func:`mitkit.onset_level.scale_to_onset_level`); an onset or
        re-onset threshold given here applies as given.
    claim_neighbours : whether a note silences the semitones either side of it (basic-pitch's rule; the bundled
        model keeps it on); None takes the checkpoint's.
    onset_lookback : how many frames a note's start may move back, to the onset peak it grew from, where the
        frame posterior found it late (slow attacks; :func:`mitkit.note_refinement.start_at_onsets`); 0 keeps
        the frames' starts; None takes the checkpoint's (24 when it has none).
    keep_embeddings : keep V ``(12, 84, T)`` in the result; None keeps it for audio up to 5 minutes.
    precision : "auto" runs the network's branches in bfloat16 on CPUs with native bf16 (about 2x faster,
        posteriors within 0.005 of float32) and in float32 elsewhere; "fp32" or "bf16" force one.
    backend : "torch", "onnx" (onnxruntime, float32; what a light install without PyTorch runs) or "auto":
        the faster one for this audio: PyTorch where it is installed and computes bf16 natively, else
        onnxruntime; onnxruntime also for short audio while PyTorch is not imported yet (:mod:`mitkit.backends`).
    progress : show a progress bar over chunks of long audio.

    Returns
    -------
    Transcription

    Examples
    --------
    >>> import mitkit
    >>> t = mitkit.transcribe(mitkit.example_path(), instruments=4)  # doctest: +SKIP
    >>> [len(track.notes) for track in t.tracks]  # doctest: +SKIP

    Notebook: 05_transcribe_your_own_audio
    """
    instruments = check_instruments(instruments)
    if clustering not in ("note", "frame"):
        raise MitkitError(f"clustering={clustering!r} must be 'note' or 'frame'")
    name = str(source) if isinstance(source, (str, Path)) else None
    overrides = {"onset_threshold": onset_threshold, "frame_threshold": frame_threshold,
                 "min_note_frames": min_note_frames, "energy_tolerance": energy_tolerance,
                 "reonset_threshold": reonset_threshold, "claim_neighbours": claim_neighbours,
                 "onset_lookback": onset_lookback}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    check_note_settings(**overrides)  # a bad value is reported before any audio is read or network run
    check_backend(backend, precision)  # a bad choice is reported before any audio is read
    y = load_audio(source, sr=sr)
    duration = len(y) / C.SAMPLE_RATE
    net = load_backend(backend, checkpoint, device=device, precision=precision, audio_seconds=duration)
    thresholds = {**net.thresholds, **overrides}
    if overrides.keys() & {"onset_threshold", "reonset_threshold"}:
        thresholds.pop("onset_reference", None)  # a threshold the user gives applies as given
    empty = Transcription(tracks=[], duration=duration, audio=name, thresholds=thresholds, clustering=clustering,
                          affinity_temperature=net.affinity_temperature,
                          polyphony_classifier=net.polyphony_classifier)
    if is_silent(y):
        warn(f"audio {name or 'array'} is silent: no notes to transcribe")
        return empty

    if keep_embeddings is None:
        keep_embeddings = duration <= KEEP_EMBEDDINGS_SECONDS
    with_timbre = instruments != 1
    one_pass = with_timbre and (keep_embeddings or len(y) <= CHUNK_FRAMES * C.HOP_LENGTH)
    post = net.predict(y, with_timbre=one_pass, progress=progress)
    empty.posteriorgrams = post
    empty.applied_thresholds = scale_to_onset_level(thresholds, post.onsets)
    if clustering == "frame":
        if post.embeddings is None:
            post = net.predict(y, with_timbre=True, progress=progress)
            empty.posteriorgrams = post
        if instruments == "voices":
            instruments = _count(instruments, create_notes(post.frames, post.onsets, **thresholds))
        return _frame_level(post, instruments, thresholds, empty, random_state)

    notes = create_notes(post.frames, post.onsets, **thresholds)
    if len(notes) == 0:
        warn(f"no notes found in {name or 'audio array'} at the given thresholds")
        return empty
    instruments = _count(instruments, notes)
    if not with_timbre:
        labels, E = np.zeros(len(notes), int), None
    else:
        E = note_embeddings(notes, post.frames, post.embeddings) if one_pass \
            else net.stream_note_embeddings(y, notes, post, progress=progress)
        labels, empty.count = group_notes(notes, E, instruments, empty.affinity_temperature, random_state,
                                          empty.polyphony_classifier)
    if not keep_embeddings:
        post.embeddings = None
    return _assemble(notes, labels, E, empty)


def _count(instruments, notes):
    """``"voices"`` becomes the number of simultaneous notes (:func:`count_voices`); others pass through."""
    return min(count_voices(notes), max(len(notes), 1)) if instruments == "voices" else instruments


def group_notes(notes, E, instruments, temperature, random_state, classifier):
    """Track id of each note and the count's evidence (None unless counted): what :func:`transcribe` and
    :meth:`Transcription.regroup` do with the notes and their embeddings ``E``, for studies that cache both.

    ``instruments``: K (int) or ``"auto"`` (:func:`count_instruments` with the checkpoint's polyphony
    ``classifier``); one track skips the clustering. ``temperature``: the checkpoint's affinity temperature.
    With a classifier, the tracks are then redrawn note by note so that each plays a line
    (:func:`follow_lines`: timbre, small steps, one note at a time), but for the tracks read as chord-playing
    (:func:`chord_tracks`) where the notes' chord probability reaches ``LINES_ONLY`` (a piano beside melody
    instruments): they may play several notes at once."""
    count = None
    if instruments == "auto":
        count = count_instruments(notes, E, classifier, random_state=random_state)
        instruments = count.k
    if instruments == 1:
        return np.zeros(len(notes), int), count
    if instruments > len(notes):
        raise MitkitError(f"instruments={instruments} must be at most the number of notes found ({len(notes)})")
    labels = cluster_notes(E, instruments, random_state=random_state, pitches=notes["pitch"],
                           amplitudes=notes["amplitude"], temperature=temperature)
    if classifier is not None:
        chords = count.chord_probability if count is not None else chord_probability(E, notes["amplitude"], classifier)
        exempt = chord_tracks(E, labels, classifier) if chords >= LINES_ONLY else ()
        labels = order_labels_by_pitch(follow_lines(notes, E, labels, chord_tracks=exempt), notes["pitch"])
    return labels, count


def _frame_level(post, instruments, thresholds, result, random_state):
    k = 2 if instruments == "auto" else instruments  # frame-level clustering needs K; auto is note-level
    if instruments == "auto":
        warn("instruments='auto' is estimated with note-level clustering; frame-level uses K=2")
    label_map = cluster_frames(post.frames, post.embeddings, k, frame_threshold=thresholds["frame_threshold"],
                               random_state=random_state)
    notes, labels = notes_from_frame_clusters(post.frames, post.onsets, label_map, k, **thresholds)
    if len(notes) == 0:
        warn("no notes found at the given thresholds")
        return result
    return _assemble(notes, labels, None, result)


def _assemble(notes, labels, E, result: Transcription) -> Transcription:
    from mitkit.notes import notes_to_seconds
    order = np.lexsort((notes["pitch"], notes["start"]))
    notes, labels = notes[order], np.asarray(labels)[order]
    E = None if E is None else E[order]
    table = notes_to_seconds(notes)  # (N, 4) onset, offset, pitch, velocity
    n_tracks = int(labels.max()) + 1 if len(labels) else 0
    result.tracks = [Track(k, [Note(float(on), float(off), int(p), int(v)) for on, off, p, v in table[labels == k]],
                           program=TRACK_PROGRAMS[k % len(TRACK_PROGRAMS)]) for k in range(n_tracks)]
    result.frame_notes, result.labels, result.embeddings = notes, labels, E
    return result


def read_json(path):
    """A :class:`~mitkit.transcription.Transcription` (tracks only) from a file written by :func:`write_json`.

    Notebook: 05_transcribe_your_own_audio
    """
    from mitkit.notes import Note, Track
    from mitkit.transcription import Transcription
    try:
        d = json.loads(Path(path).read_text())
        tracks = [Track(tr["id"], [Note(n["onset"], n["offset"], n["pitch"], n["velocity"]) for n in tr["notes"]],
                        program=tr.get("program", 0)) for tr in d["tracks"]]
        count = InstrumentCount(**d["count"]) if d.get("count") else None
        return Transcription(tracks=tracks, duration=d["duration"], audio=d.get("audio"),
                             thresholds=d.get("thresholds", {}), applied_thresholds=d.get("applied_thresholds"),
                             clustering=d.get("clustering", "note"), count=count)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise MitkitError(f"path={str(path)!r} must be a mitkit transcription JSON file: {err}") from None
