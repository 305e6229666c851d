"""Plotly figures shared by notebooks, widgets and the HTML report.

Every function returns a ``plotly.graph_objects.Figure`` and takes plain arrays or mitkit objects, so it
works with or without a widget front end.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import constants as C

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


def add_piano_roll(fig, tracks, *, names=None, row=None, col=None, opacity=0.75):
    """Add one filled-box trace per track of notes ``(N, 4)`` to ``fig``."""
    for k, notes in enumerate(tracks):
        xs, ys = _note_rectangles(notes)
        name = names[k] if names else f"Track {k + 1}"
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", mode="lines", line=dict(width=0.5, color=track_colour(k)),
                                 fillcolor=track_colour(k), opacity=opacity, name=name, hoverinfo="name"),
                      row=row, col=col)
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


def plot_posteriorgram(Y, *, title: str = "Frame posteriorgram Y_F", height: int = 360, zmax: float = 1.0):
    """Heatmap of a posteriorgram ``(84, T)`` on MIDI pitch × seconds axes."""
    Y = np.asarray(Y)
    t = np.arange(Y.shape[1]) / C.FRAME_RATE
    fig = go.Figure(go.Heatmap(z=Y, x=t, y=np.arange(C.MIDI_MIN, C.MIDI_MIN + Y.shape[0]), zmin=0, zmax=zmax,
                               colorscale="Magma", colorbar=dict(title="p")))
    fig.update_layout(title=title, xaxis_title="time (s)", yaxis_title="MIDI pitch", height=height,
                      template="plotly_white")
    return fig


def plot_transcription(transcription, *, title: str | None = None, height: int = 720):
    """Two stacked panels sharing the time axis: the frame posteriorgram, and the notes coloured by track."""
    post = transcription.posteriorgrams
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=("frame posteriorgram Y_F", f"{transcription.instruments} tracks"))
    if post is not None:
        t = np.arange(post.n_frames) / C.FRAME_RATE
        fig.add_trace(go.Heatmap(z=post.frames, x=t, y=np.arange(C.MIDI_MIN, C.MIDI_MAX + 1), zmin=0, zmax=1,
                                 colorscale="Magma", showscale=False), row=1, col=1)
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
