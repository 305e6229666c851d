"""Plotly figures shared by notebooks, widgets and the HTML report.

Every function returns a ``plotly.graph_objects.Figure`` and takes plain arrays or mitkit objects, so it
works with or without a widget front end.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mitkit import constants as C
from mitkit.notes import rolls_to_notes

TRACK_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def track_colour(k: int) -> str:
    return TRACK_COLOURS[k % len(TRACK_COLOURS)]


def _note_rectangles(notes: np.ndarray):
    """x, y polyline coordinates drawing each note ``[onset, offset, pitch, ...]`` as a filled box."""
    xs, ys = [], []
    for on, off, pitch in np.asarray(notes, dtype=float).reshape(-1, 4)[:, :3]:
        xs += [on, off, off, on, on, None]
        ys += [pitch - 0.4, pitch - 0.4, pitch + 0.4, pitch + 0.4, pitch - 0.4, None]
    return xs, ys


_PITCH_CLASSES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")


def note_name(midi: float) -> str:
    """Scientific pitch name of a MIDI number: ``note_name(60) == "C4"``, ``note_name(70) == "B♭4"``."""
    m = int(round(midi))
    return f"{_PITCH_CLASSES[m % 12]}{m // 12 - 1}"


def add_piano_roll(fig, tracks, *, names=None, row=None, col=None, opacity=0.75):
    """Add each track of notes ``(N, 4)`` to ``fig`` as filled boxes, with a hover label per note (track,
    pitch name, times, velocity) on an invisible marker at the note's centre."""
    for k, notes in enumerate(tracks):
        notes = np.asarray(notes, dtype=float).reshape(-1, 4)
        xs, ys = _note_rectangles(notes)
        name = names[k] if names else f"Track {k + 1}"
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", mode="lines", line=dict(width=0.5, color=track_colour(k)),
                                 fillcolor=track_colour(k), opacity=opacity, name=name, legendgroup=name,
                                 hoverinfo="skip"), row=row, col=col)
        labels = [f"{name}<br>{note_name(p)} (MIDI {int(p)})<br>{on:.2f}–{off:.2f} s · velocity {int(v)}"
                  for on, off, p, v in notes]
        fig.add_trace(go.Scatter(x=(notes[:, 0] + notes[:, 1]) / 2, y=notes[:, 2], mode="markers",
                                 marker=dict(size=8, opacity=0, color=track_colour(k)), name=name,
                                 legendgroup=name, showlegend=False, text=labels,
                                 hovertemplate="%{text}<extra></extra>"), row=row, col=col)
    return fig


def plot_piano_roll(transcription_or_tracks, *, names=None, title: str = "Transcription", height: int = 420):
    """Piano roll coloured by track.

    Parameters
    ----------
    transcription_or_tracks : a :class:`mitkit.Transcription`, or a list of note arrays ``(N, 4)``
        ``[onset_s, offset_s, pitch, velocity]`` (one per track).
    """
    tracks = _as_track_arrays(transcription_or_tracks)
    fig = add_piano_roll(go.Figure(), tracks, names=names)
    fig.update_layout(title=title, xaxis_title="time (s)", yaxis_title="MIDI pitch", height=height,
                      template="plotly_white")
    return fig


MAX_HEATMAP_COLUMNS = 1500  # heatmaps keep at most this many time columns (figures stay small in notebooks)


def posteriorgram_heatmap(Y, *, zmax: float = 1.0, **kwargs) -> go.Heatmap:
    """Heatmap trace of a posteriorgram ``(84, T)`` in seconds × MIDI pitch, in percent.

    Long inputs are reduced by taking the maximum over groups of frames, so short notes stay visible, and
    the posteriors are stored as whole percents (one byte each: a 30-s figure weighs a quarter of its
    float32 form, which keeps notebooks and reports small).
    """
    Y = np.asarray(Y, dtype=np.float32)
    step = max(1, -(-Y.shape[1] // MAX_HEATMAP_COLUMNS))
    if step > 1:
        pad = (-Y.shape[1]) % step
        Y = np.pad(Y, ((0, 0), (0, pad))).reshape(Y.shape[0], -1, step).max(axis=2)
    t = np.round(np.arange(Y.shape[1]) * step / C.FRAME_RATE, 3)
    kwargs.setdefault("hovertemplate", "%{x:.2f} s · MIDI %{y}<br>posterior %{z} %<extra></extra>")
    percent = np.rint(np.clip(Y, 0.0, 1.0) * 100).astype(np.uint8)
    return go.Heatmap(z=percent, x=t, y=np.arange(C.MIDI_MIN, C.MIDI_MIN + Y.shape[0]), zmin=0, zmax=100 * zmax,
                      colorscale="Magma", **kwargs)


def plot_posteriorgram(Y, *, title: str = "Frame posteriorgram Y_F", height: int = 360, zmax: float = 1.0):
    """Heatmap of a posteriorgram ``(84, T)`` on MIDI pitch × seconds axes.

    Notebook: 02_training
    """
    fig = go.Figure(posteriorgram_heatmap(Y, zmax=zmax, colorbar=dict(title="p (%)")))
    fig.update_layout(title=title, xaxis_title="time (s)", yaxis_title="MIDI pitch", height=height,
                      template="plotly_white")
    return fig


def plot_transcription(transcription, *, title: str | None = None, height: int = 720):
    """Two stacked panels sharing the time axis: the frame posteriorgram, and the notes coloured by track.

    Notebook: 05_transcribe_your_own_audio
    """
    post = transcription.posteriorgrams
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=("frame posteriorgram Y_F", f"{transcription.instruments} tracks"))
    if post is not None:
        fig.add_trace(posteriorgram_heatmap(post.frames, showscale=False), row=1, col=1)
    add_piano_roll(fig, _as_track_arrays(transcription), row=2, col=1)
    fig.update_layout(title=title or f"mitkit: {transcription.audio or 'audio'}", height=height,
                      template="plotly_white")
    fig.update_yaxes(title_text="MIDI pitch")
    fig.update_xaxes(title_text="time (s)", row=2, col=1)
    return fig


def _as_track_arrays(obj):
    if hasattr(obj, "tracks"):
        return [tr.to_array() for tr in obj.tracks]
    return [np.asarray(a, dtype=float).reshape(-1, 4) for a in obj]


# ---- notebooks 01 and 02: front end, losses, training ------------------------------------------------

def _bin_midi(n_bins: int) -> np.ndarray:
    """MIDI pitch (fractional) of the centre of CQT (or stacked) bins ``0 … n_bins-1``: bin 1 is C1."""
    return C.MIDI_MIN + (np.arange(n_bins) - 1) / C.BINS_PER_SEMITONE


def _harmonic_lines(fig, midi, *, row=None, col=None, shifts=C.HARMONIC_SHIFTS, harmonics=C.HARMONICS,
                    bins: bool = False, position: str = "top"):
    """Dotted vertical lines where the harmonics of ``midi`` fall: x in MIDI, or with ``bins`` in CQT bins
    above ``midi`` (then ``midi`` is the origin, usually 0)."""
    for h, s in zip(harmonics, shifts):
        x = midi + (s if bins else s / C.BINS_PER_SEMITONE)
        fig.add_vline(x=x, line=dict(color="#999", width=1, dash="dot"), row=row, col=col,
                      annotation_text=f"h={h:g}", annotation_font_size=9, annotation_position=position)


def plot_log_cqt(L, *, title: str = "log CQT  log P − log σ", height: int = 380, zmin: float | None = None):
    """Heatmap of a log-power CQT ``(F=288, T)`` (e.g. :func:`mitkit.frontend.log_cqt`), MIDI pitch × seconds.

    Three bins per semitone: bin ``3·(m − 24) + 1`` is centred on MIDI pitch m.

    Notebook: 01_cqt_and_energynorm
    """
    L = np.asarray(L)
    t = np.arange(L.shape[1]) / C.FRAME_RATE
    zmin = float(np.percentile(L, 5)) if zmin is None else zmin
    fig = go.Figure(go.Heatmap(z=L, x=t, y=_bin_midi(L.shape[0]), zmin=zmin, colorscale="Viridis",
                               colorbar=dict(title="log P")))
    fig.update_layout(title=title, xaxis_title="time (s)", yaxis_title="MIDI pitch (3 bins per semitone)",
                      height=height, template="plotly_white")
    return fig


def plot_cqt_frames(frames: dict, *, midi: float | None = None, title: str = "One CQT frame",
                    height: int = 340, y_title: str = "log P − log σ"):
    """Lines of one or more spectra over bins (CQT ``(288,)`` or stacked ``(252,)``) against MIDI pitch.

    Parameters
    ----------
    frames : dict of name → array ``(n_bins,)``.
    midi : when given, dotted lines mark the bins of its harmonics 0.5, 1, 2 … 7.

    Notebook: 01_cqt_and_energynorm
    """
    fig = go.Figure()
    for k, (name, y) in enumerate(frames.items()):
        y = np.asarray(y)
        fig.add_trace(go.Scatter(x=_bin_midi(len(y)), y=y, mode="lines", name=str(name),
                                 line=dict(width=1.5, color=track_colour(k))))
    if midi is not None:
        _harmonic_lines(fig, midi)
    fig.update_layout(title=title, xaxis_title="MIDI pitch of the bin", yaxis_title=y_title, height=height,
                      template="plotly_white")
    return fig


def plot_harmonic_alignment(tones: dict, *, frame_s: float = 0.5, sr: int = C.SAMPLE_RATE,
                            n_fft: int = 4096, height: int = 620):
    """Why a log-frequency axis: the same harmonic tones on a linear (STFT) and a log (CQT) axis.

    Top: magnitude spectrum (dB) of one frame against Hz, where the partials of a higher note spread
    apart. Bottom: the log-power CQT of the same frame against *bins above the note's own bin*, where
    the partials of every note land on the same offsets ``HARMONIC_SHIFTS`` (dotted lines).

    Parameters
    ----------
    tones : dict of MIDI pitch → mono waveform at ``sr``.
    frame_s : time of the analysed frame in seconds.

    Notebook: 01_cqt_and_energynorm
    """
    from mitkit.frontend import log_cqt

    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.14,
                        subplot_titles=("linear frequency (STFT): partials at h·f0, spacing grows with f0",
                                        "log frequency (CQT): partials at fixed bin offsets"))
    t_frame = int(round(frame_s * C.FRAME_RATE))
    window = np.hanning(n_fft)
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    keep = freqs <= 4000
    for k, (midi, x) in enumerate(tones.items()):
        x = np.asarray(x, np.float32)
        c = int(frame_s * sr)
        seg = np.zeros(n_fft, np.float32)
        part = x[max(c - n_fft // 2, 0):c + n_fft // 2]
        seg[:len(part)] = part
        mag_db = 20 * np.log10(np.abs(np.fft.rfft(seg * window)) + 1e-6)
        name = f"MIDI {midi} ({C.midi_to_hz(midi):.0f} Hz)"
        fig.add_trace(go.Scatter(x=freqs[keep], y=mag_db[keep], mode="lines", name=name, legendgroup=name,
                                 line=dict(width=1, color=track_colour(k))), row=1, col=1)
        L = log_cqt(x, sr=sr)[:, t_frame]
        offset = np.arange(len(L)) - C.pitch_to_bin(midi)
        fig.add_trace(go.Scatter(x=offset, y=L, mode="lines", name=name, legendgroup=name, showlegend=False,
                                 line=dict(width=1.5, color=track_colour(k))), row=2, col=1)
    # labels at the bottom: at the top they would sit on the panel's title
    _harmonic_lines(fig, 0.0, bins=True, row=2, col=1, position="bottom right")
    fig.update_xaxes(title_text="frequency (Hz)", row=1, col=1)
    fig.update_yaxes(title_text="dB", row=1, col=1)
    fig.update_xaxes(title_text="bins above the note's bin (36 per octave)", range=[-48, 110], row=2, col=1)
    fig.update_yaxes(title_text="log P − log σ", row=2, col=1)
    fig.update_layout(height=height, template="plotly_white", margin=dict(t=60))
    return fig


def plot_harmonic_stack(S, *, midi: float | None = None, title: str = "Harmonic stacking: 8 channels",
                        height: int = 520, zmin: float | None = None):
    """The 8 channels of a harmonically stacked spectrogram ``(8, 252, T)`` as a 2 × 4 grid of heatmaps.

    Channel c shows the spectrum shifted down by ``HARMONIC_SHIFTS[c]`` bins, so at the row of a note's
    pitch channel c holds the energy of its harmonic ``HARMONICS[c]``. A dashed line marks ``midi``.

    Notebook: 01_cqt_and_energynorm
    """
    S = np.asarray(S)
    if S.ndim != 3 or S.shape[0] != len(C.HARMONICS):
        from mitkit.errors import MitkitError
        raise MitkitError(f"S.shape={S.shape} must be ({len(C.HARMONICS)}, F, T)")
    zmin = float(np.percentile(S, 5)) if zmin is None else zmin
    zmax = float(S.max())
    titles = [f"h = {h:g}  (shift {s:+d})" for h, s in zip(C.HARMONICS, C.HARMONIC_SHIFTS)]
    fig = make_subplots(rows=2, cols=4, shared_xaxes=True, shared_yaxes=True, subplot_titles=titles,
                        horizontal_spacing=0.02, vertical_spacing=0.1)
    t = np.arange(S.shape[2]) / C.FRAME_RATE
    y = _bin_midi(S.shape[1])
    for c in range(S.shape[0]):
        r, k = divmod(c, 4)
        fig.add_trace(go.Heatmap(z=S[c], x=t, y=y, zmin=zmin, zmax=zmax, colorscale="Viridis",
                                 showscale=c == 0, colorbar=dict(title="log P")), row=r + 1, col=k + 1)
        if midi is not None:
            fig.add_hline(y=midi, line=dict(color="white", width=1, dash="dash"), row=r + 1, col=k + 1)
    fig.update_yaxes(title_text="MIDI pitch", col=1)
    fig.update_xaxes(title_text="time (s)", row=2)
    fig.update_layout(title=title, height=height, template="plotly_white")
    return fig


def plot_profile_panels(panels: dict, x, *, cols: int | None = None, x_title: str = "harmonic h",
                        y_title: str = "", title: str = "", height: int = 380, shared_y: bool = False):
    """Small multiples of line profiles, e.g. the values of one frame at a note's harmonics.

    Parameters
    ----------
    panels : dict of panel title → dict of line name → array ``(len(x),)``. A line name of the form
        ``"group · variant"`` gets one colour per group and one dash style per variant, so that, e.g.,
        ``"violin · loud"`` and ``"violin · soft"`` share a colour.
    x : x values shared by all lines.

    Notebook: 01_cqt_and_energynorm
    """
    cols = cols or len(panels)
    rows = -(-len(panels) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(panels), shared_yaxes=shared_y,
                        horizontal_spacing=0.07, vertical_spacing=0.18)
    groups, variants = {}, {}
    dashes = ("solid", "dash", "dot", "dashdot")
    for i, lines in enumerate(panels.values()):
        r, c = divmod(i, cols)
        for name, y in lines.items():
            group, _, variant = str(name).partition(" · ")
            g = groups.setdefault(group, len(groups))
            v = variants.setdefault(variant, len(variants))
            fig.add_trace(go.Scatter(x=list(x), y=np.asarray(y), mode="lines+markers", name=str(name),
                                     legendgroup=str(name), showlegend=i == 0,
                                     line=dict(color=track_colour(g), dash=dashes[v % len(dashes)])),
                          row=r + 1, col=c + 1)
        fig.update_xaxes(title_text=x_title, row=r + 1, col=c + 1)
    fig.update_yaxes(title_text=y_title, col=1)
    fig.update_layout(title=title, height=height * rows, template="plotly_white")
    return fig


def plot_posteriorgram_with_notes(Y, notes=None, *, roll=None,
                                  title: str = "Frame posteriorgram Y_F and reference notes",
                                  height: int = 380, zmax: float = 1.0):
    """:func:`plot_posteriorgram` with the reference drawn as white outlines: activation outside a box is
    a false positive (a "ghost"), an empty box a miss.

    Parameters
    ----------
    Y : posteriorgram ``(84, T)``.
    notes : reference notes ``(N, 4)`` [onset_s, offset_s, pitch, …], or
    roll : a reference frame roll ``(84, T)`` (e.g. the union over instruments of a
        :class:`~mitkit.training.mixtures.MixtureDataset` item's ``frames``); each run of active frames is one box.

    Notebook: 02_training
    """
    fig = plot_posteriorgram(Y, title=title, height=height, zmax=zmax)
    boxes = rolls_to_notes(roll) if roll is not None else notes
    if boxes is not None and len(boxes):
        xs, ys = _note_rectangles(boxes)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="white", width=1),
                                 name="reference", hoverinfo="skip"))
    fig.update_layout(legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"))
    return fig


# ---- notebooks 03–05: embeddings and clustering, speed, your own audio ------------------------------------


