"""Sonification: turn note lists (a transcribed track, a reference part) back into audio to listen to.

Notebook: 03_embeddings_and_clustering

Two voices are available:

- ``program=None`` (default): additive synthesis in NumPy. Each note is a harmonic tone
  ``x(t) = a · env(t) · Σ_h h^(-1.5) · sin(2π h f0 t)`` (h = 1 … :data:`HARMONICS`, harmonics above
  0.45·sr dropped) with ``f0`` the note's equal-tempered frequency, ``a = PEAK · velocity / 127``
  and ``env`` a 10 ms linear attack, an exponential decay and a 30 ms release ramp after the
  offset. No dependency, deterministic, cheap: good for checking *which notes* a track holds.
- ``program=<General MIDI program>``: FluidSynth through :func:`mitkit.synth.render.render_stems` with a
  training soundfont (``"TimGM6mb"``, bundled with pretty_midi, or ``"FluidR3_GM"``): good for
  hearing a track with an instrument's sound. Needs pyfluidsynth and the FluidSynth library.

Notes are ``(N, 4)`` float arrays ``[onset_s, offset_s, midi_pitch, velocity]`` (the evaluation format,
``Track.to_array()``). Listen in Jupyter with :func:`audio_player` (Ogg Vorbis embedded in the notebook,
about a tenth of the size of ``IPython.display.Audio``'s WAV).

Examples
--------
>>> import numpy as np
>>> from mitkit.sonify import sonify
>>> y = sonify(np.array([[0.0, 0.5, 69, 100]]), sr=8000)
>>> y.shape, y.dtype
((4240,), dtype('float32'))
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from mitkit import constants as C
from mitkit.errors import MitkitError, warn
from mitkit.synth.render import SOUNDFONTS
from mitkit.synth.tones import partials

__all__ = ["sonify", "sonify_tracks", "audio_player", "against_mix", "HARMONICS", "PEAK", "RELEASE_S", "ATTACK_S"]

HARMONICS = 6  # partials per sine-synthesis note
PEAK = 0.25  # amplitude of one velocity-127 note's envelope (chords add up; stays well below 1 for SATB)
ATTACK_S = 0.01  # s, linear fade-in of each note
RELEASE_S = 0.03  # s, linear fade-out after each offset (also the default tail after the last note)
DECAY_PER_S = 1.5  # 1/s, exponential decay of the sine voice while a note is held
PLAYER_RATE = 22050  # Hz, sample rate of notebook audio players
MIX_LEVEL = 0.3  # against_mix: the recording's peak under the track's (about -10 dB)
PLAYER_COMPRESSION = 0.9  # libsndfile's Vorbis compression level (0 best … 1 smallest): ≈ 4 kB per second


def _check_notes(notes, name: str = "notes") -> np.ndarray:
    """``notes`` as float64 ``(N, 4)``; accepts a Track (``to_array``) too."""
    if hasattr(notes, "to_array"):
        notes = notes.to_array()
    from mitkit.notes import as_note_array
    arr = as_note_array(notes, name)
    if len(arr) and np.any(arr[:, 2] < 1):
        bad = int(np.flatnonzero(arr[:, 2] < 1)[0])
        raise MitkitError(f"{name}[{bad}] midi_pitch={arr[bad, 2]} must be >= 1")
    return arr


def _check_sr(sr) -> int:
    if isinstance(sr, bool) or not isinstance(sr, numbers.Integral) or not 1000 <= sr <= 192_000:
        raise MitkitError(f"sr={sr!r} must be an integer sample rate in 1000..192000 Hz")
    return int(sr)


def _n_samples(arr: np.ndarray, sr: int, duration, tail_s: float) -> int:
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, numbers.Real) or not duration >= 0:
            raise MitkitError(f"duration={duration!r} must be a number of seconds >= 0")
        return int(round(float(duration) * sr))
    end = float(arr[:, 1].max()) if len(arr) else 0.0
    return int(np.ceil((end + tail_s) * sr))


def _sine_voice(arr: np.ndarray, sr: int, n: int) -> np.ndarray:
    y = np.zeros(n, np.float64)
    attack, release = max(1, int(round(ATTACK_S * sr))), max(1, int(round(RELEASE_S * sr)))
    h = np.arange(1, HARMONICS + 1)  # (H,)
    for on, off, pitch, velocity in arr:
        a = int(round(on * sr))
        held = max(int(round(off * sr)) - a, 1)  # samples from onset to offset
        b = min(a + held + release, n)
        if b <= a:
            continue  # the note starts after the end of the output
        t = np.arange(b - a) / sr  # (S,) seconds since the onset
        f0 = C.midi_to_hz(pitch)
        keep = h * f0 < 0.45 * sr
        if not keep.any():
            continue
        tone = partials(f0, t, h ** -1.5, sr=sr, limit=0.45) / np.sum(h[keep] ** -1.5)  # (S,)
        s = np.arange(b - a)
        env = np.minimum(s / attack, 1.0) * np.exp(-DECAY_PER_S * t)
        env *= np.clip(1.0 - (s - held) / release, 0.0, 1.0)  # 1 while held, then a linear release
        y[a:b] += PEAK * velocity / 127.0 * env * tone
    return y.astype(np.float32)


def sonify(notes, sr: int = C.SAMPLE_RATE, *, program: int | None = None, soundfont: str = "TimGM6mb",
           duration: float | None = None, tail_s: float = RELEASE_S) -> np.ndarray:
    """Render one track of notes to a mono waveform.

    Parameters
    ----------
    notes : array_like, shape (N, 4), or a :class:`mitkit.Track`
        ``[onset_s, offset_s, midi_pitch, velocity]`` rows; seconds, MIDI numbers (integers for
        ``program``; fractional ones are fine for the sine voice), velocity in 0 … 127.
    sr : int, default 22050
        Sample rate of the output in Hz (1000 … 192000).
    program : int in 0 … 127 or None, default None
        None: sine synthesis (see the module docstring). An int: that General MIDI program,
        rendered with FluidSynth.
    soundfont : {"TimGM6mb", "FluidR3_GM"}, default "TimGM6mb"
        Soundfont of the FluidSynth voice (TimGM6mb ships with pretty_midi; FluidR3_GM is Debian's
        ``fluid-soundfont-gm``). Ignored for the sine voice.
    duration : float or None
        Length of the output in seconds (notes are cut there); None: up to the last offset plus
        ``tail_s``. Pass the mix's duration to line a track up with the mix.
    tail_s : float, default 0.03
        Seconds after the last offset when ``duration`` is None.

    Returns
    -------
    np.ndarray, float32, shape (n_samples,)
        Not normalised: a velocity-127 sine note peaks near :data:`PEAK`.

    Raises
    ------
    MitkitError
        On a bad note array, sample rate, program, soundfont or duration.

    Warns
    -----
    UserWarning
        When ``notes`` is empty: the result is silence (``duration`` long, else ``tail_s``).

    Examples
    --------
    >>> import numpy as np
    >>> chord = np.array([[0.0, 1.0, 60, 90], [0.0, 1.0, 64, 90], [0.0, 1.0, 67, 90]])
    >>> y = sonify(chord, sr=16000, duration=1.5)
    >>> y.shape, bool(abs(y).max() < 1)
    ((24000,), True)

    Notebook: 03_embeddings_and_clustering
    """
    sr = _check_sr(sr)
    arr = _check_notes(notes)
    if program is not None and (isinstance(program, bool) or not isinstance(program, numbers.Integral)
                                or not 0 <= program <= 127):
        raise MitkitError(f"program={program!r} must be a General MIDI program 0..127 or None (sine)")
    if program is not None and soundfont not in SOUNDFONTS:  # never the evaluation soundfonts
        raise MitkitError(f"soundfont={soundfont!r} must be one of {tuple(SOUNDFONTS)}")
    if not (isinstance(tail_s, numbers.Real) and tail_s >= 0):
        raise MitkitError(f"tail_s={tail_s!r} must be a number of seconds >= 0")
    n = _n_samples(arr, sr, duration, float(tail_s))
    if len(arr) == 0:
        warn("notes is empty: the sonification is silence")
        return np.zeros(n, np.float32)
    if program is None:
        return _sine_voice(arr, sr, n)
    from mitkit.synth.render import Room, StemStyle, render_stems
    if n == 0:
        return np.zeros(0, np.float32)
    fs_notes = arr.copy()
    fs_notes[:, 2] = np.round(fs_notes[:, 2])
    fs_notes[:, 3] = np.clip(np.round(fs_notes[:, 3]), 1, 127)  # FluidSynth needs velocity >= 1
    style = StemStyle(program=int(program), reverb_send=20)
    return render_stems([(fs_notes, style)], soundfont=soundfont, room=Room(chorus_nr=0), n_samples=n, sr=sr)[0]


def sonify_tracks(tracks, sr: int = C.SAMPLE_RATE, *, programs=None, soundfont: str = "TimGM6mb",
                  duration: float | None = None) -> np.ndarray:
    """Render several tracks to sample-aligned waveforms of one length (their sum is the mix).

    Parameters
    ----------
    tracks : list of note arrays (N_k, 4), or a :class:`mitkit.Transcription`
        With a Transcription, each track's ``program`` is used when ``programs="tracks"``.
    sr : int, default 22050
    programs : None, "tracks" or a list of K ints/None
        None: every track with the sine voice; a list: one :func:`sonify` ``program`` per track;
        ``"tracks"``: the General MIDI program stored in each :class:`mitkit.Track`.
    soundfont, duration :
        As in :func:`sonify`; ``duration`` defaults to the longest track (plus the release tail)
        or, for a Transcription, to its duration.

    Returns
    -------
    np.ndarray, float32, shape (K, n_samples)

    Examples
    --------
    >>> import numpy as np
    >>> ys = sonify_tracks([np.array([[0.0, 0.5, 72, 90]]), np.array([[0.25, 1.0, 48, 90]])], sr=8000)
    >>> ys.shape
    (2, 8240)

    Notebook: 03_embeddings_and_clustering
    """
    if hasattr(tracks, "tracks"):
        transcription = tracks
        if duration is None:
            duration = transcription.duration
        stored = [t.program for t in transcription.tracks]
        tracks = [t.to_array() for t in transcription.tracks]
    else:
        stored = None
        if isinstance(tracks, np.ndarray):
            raise MitkitError(f"tracks is an array of shape {tracks.shape}; it must be a list of note arrays "
                              "(wrap a single track as [notes])")
        tracks = list(tracks)
    arrays = [_check_notes(t, f"tracks[{k}]") for k, t in enumerate(tracks)]
    K = len(arrays)
    if isinstance(programs, str):
        if programs != "tracks" or stored is None:
            raise MitkitError(f"programs={programs!r} must be None, a list, or 'tracks' (with a Transcription)")
        programs = stored
    programs = [None] * K if programs is None else list(programs)
    if len(programs) != K:
        raise MitkitError(f"len(programs)={len(programs)} must equal the number of tracks={K}")
    sr = _check_sr(sr)
    if duration is None:
        ends = [float(a[:, 1].max()) for a in arrays if len(a)]
        duration = (max(ends) + RELEASE_S) if ends else 0.0
    out = np.zeros((K, int(round(duration * sr))), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # an empty track is silence here, by design
        for k, (a, p) in enumerate(zip(arrays, programs)):
            out[k] = sonify(a, sr, program=p, soundfont=soundfont, duration=duration)
    return out


def _to_peak_one(y: np.ndarray) -> np.ndarray:
    """``y`` scaled to peak 1 (silence stays silence)."""
    peak = float(np.abs(y).max()) if y.size else 0.0
    return y / peak if peak > 0 else y


def audio_player(y, sr: int = C.SAMPLE_RATE, *, seconds: float | None = None, rate: int = PLAYER_RATE):
    """An audio player for a notebook, with the sound embedded as Ogg Vorbis.

    ``IPython.display.Audio(y, rate=sr)`` embeds 16-bit WAV (≈ 59 kB per second at 22,050 Hz once in the
    notebook's base64), so a few players of whole pieces make a notebook of many megabytes; Vorbis at
    :data:`PLAYER_COMPRESSION` takes about a tenth of that and every browser plays it.

    Parameters
    ----------
    y : mono or stereo samples (any array :func:`mitkit.load_audio` accepts) at ``sr`` Hz.
    seconds : keep only the first ``seconds`` (None: everything).
    rate : sample rate of the player.

    Notebooks: 03_embeddings_and_clustering, 05_transcribe_your_own_audio

    >>> import numpy as np
    >>> player = audio_player(np.zeros(22050, np.float32), seconds=0.5)
    >>> player.mimetype, player.data[:4]
    ('audio/ogg', b'OggS')
    """
    import io

    import soundfile as sf
    from IPython.display import Audio

    from mitkit.audio import load_audio

    y = load_audio(y, sr=_check_sr(sr), target_sr=_check_sr(rate))
    if seconds is not None:
        if not isinstance(seconds, numbers.Real) or not seconds > 0:
            raise MitkitError(f"seconds must be a positive number of seconds or None, got {seconds!r}")
        y = y[:max(1, int(seconds * rate))]
    buffer = io.BytesIO()
    sf.write(buffer, _to_peak_one(y), rate, format="OGG", subtype="VORBIS",
             compression_level=PLAYER_COMPRESSION)
    player = Audio(data=buffer.getvalue())
    player.mimetype = "audio/ogg"  # Audio assumes WAV for raw bytes
    return player


def against_mix(track, mix, sr: int = C.SAMPLE_RATE, *, mix_level: float = MIX_LEVEL) -> np.ndarray:
    """A track's sound over the recording it came from, turned down: what a transcribed track took from the
    mix is heard against what was played (A/B listening: the mix, the track alone, then this).

    ``track`` (e.g. :func:`sonify` of a track's notes) and ``mix`` are mono arrays at ``sr``; each is scaled to
    peak 1, the mix then to ``mix_level``, and the sum back to peak 1. The result is as long as the longer.

    Notebooks: 03_embeddings_and_clustering, 05_transcribe_your_own_audio

    >>> y = against_mix(np.ones(4, np.float32), np.ones(6, np.float32), 8000, mix_level=0.5)
    >>> y.astype(float).round(3).tolist()
    [1.0, 1.0, 1.0, 1.0, 0.333, 0.333]
    """
    _check_sr(sr)
    if isinstance(mix_level, bool) or not isinstance(mix_level, numbers.Real) or not 0 <= mix_level <= 1:
        raise MitkitError(f"mix_level={mix_level!r} must be a number in [0, 1]")
    parts = []
    for name, y in (("track", track), ("mix", mix)):
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 1 or not np.isfinite(y).all():
            raise MitkitError(f"{name} must be a mono array of finite samples, got shape {y.shape}")
        parts.append(_to_peak_one(y))
    out = np.zeros(max(len(parts[0]), len(parts[1])))
    out[:len(parts[0])] += parts[0]
    out[:len(parts[1])] += mix_level * parts[1]
    return _to_peak_one(out).astype(np.float32)
