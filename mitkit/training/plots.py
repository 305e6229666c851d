"""Figures for training: a mixture's per-instrument rolls, the loss history, and the focal loss.

Notebook: 02_training
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mitkit.constants import FRAME_RATE, MIDI_MIN, N_PITCHES, SAMPLE_RATE
from mitkit.errors import MitkitError


def plot_mixture_rolls(audio, frames, *, names=None, sr: int = SAMPLE_RATE, title: str = "Mixture",
                       height: int = 560):
    """Waveform of a mixture above the piano roll of each of its instruments (one colour each).

    Parameters
    ----------
    audio : np.ndarray, shape (n_samples,)
        The mixture.
    frames : np.ndarray, shape (K, 84, T)
        Frame rolls per instrument (e.g. ``item["frames"][:item["n_instruments"]]`` of
        :class:`MixtureDataset`).
    names : list of str or None
        Legend names, default ``"instrument 1"``...
    sr : int
        Sample rate of ``audio``.

    Returns
    -------
    plotly.graph_objects.Figure
        Listen alongside with ``IPython.display.Audio(audio, rate=sr)``.

    Notebook: 02_training
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    frames = np.asarray(frames)
    if frames.ndim != 3 or frames.shape[1] != N_PITCHES:
        raise MitkitError(f"frames.shape={frames.shape} must be (K, {N_PITCHES}, T)")
    K, _, T = frames.shape
    names = list(names) if names is not None else [f"instrument {k + 1}" for k in range(K)]
    colours = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.25, 0.75], vertical_spacing=0.03)
    x = np.asarray(audio, np.float32)
    step = max(1, len(x) // 4000)  # min/max envelope, at most ~8000 points
    n = len(x) // step
    if n:
        env = x[: n * step].reshape(n, step)
        t = (np.arange(n) * step + step / 2) / sr
        fig.add_trace(go.Scatter(x=np.repeat(t, 2), y=np.stack([env.min(1), env.max(1)], 1).ravel(),
                                 mode="lines", line=dict(width=1, color="#555"), name="mixture",
                                 showlegend=False), row=1, col=1)
    for k in range(K):
        # one horizontal bar per run of active frames: a few numbers per note rather than an 84 x T image
        on = np.pad(frames[k] > 0.5, ((0, 0), (1, 1)))
        edges = np.diff(on.astype(np.int8), axis=1)
        p_start, t_start = np.nonzero(edges == 1)
        _, t_end = np.nonzero(edges == -1)  # same row-major order: the i-th end closes the i-th start
        x_bars = np.stack([t_start, t_end, np.full(t_start.size, np.nan)], 1).ravel() / FRAME_RATE
        y_bars = np.repeat(p_start + MIDI_MIN, 3).astype(float)
        y_bars[2::3] = np.nan
        c = colours[k % len(colours)]
        fig.add_trace(go.Scatter(x=x_bars, y=y_bars, mode="lines", line=dict(width=5, color=c), opacity=0.75,
                                 name=names[k], hovertemplate=names[k] + " MIDI %{y} @ %{x:.2f}s<extra></extra>"),
                      row=2, col=1)
    fig.update_yaxes(title_text="amplitude", row=1, col=1)
    fig.update_yaxes(title_text="MIDI pitch", row=2, col=1)
    fig.update_xaxes(title_text="time (s)", row=2, col=1)
    fig.update_layout(title=title, height=height, margin=dict(l=60, r=20, t=40, b=40))
    return fig


def plot_loss_history(history, *, losses=("frame", "onset", "timbre", "total"), log_y: bool = True,
                      title: str = "Training and validation losses", height: int = 340):
    """Loss curves from :attr:`mitkit.training.trainer.Trainer.history` (one dict per validation).

    One panel per loss present in the history (``train_<name>`` and ``val_<name>`` keys); the training
    value is the mean over the steps since the previous validation.

    Notebook: 02_training
    """
    history = list(history)
    names = [n for n in losses if history and f"train_{n}" in history[0]]
    fig = make_subplots(rows=1, cols=max(len(names), 1), subplot_titles=names)
    steps = [row["step"] for row in history]
    for i, name in enumerate(names):
        for split, colour in (("train", "#1f77b4"), ("val", "#d62728")):
            fig.add_trace(go.Scatter(x=steps, y=[row.get(f"{split}_{name}") for row in history],
                                     mode="lines+markers", name=split, legendgroup=split, showlegend=i == 0,
                                     line=dict(color=colour)), row=1, col=i + 1)
        fig.update_xaxes(title_text="step", row=1, col=i + 1)
        if log_y:
            fig.update_yaxes(type="log", row=1, col=i + 1)
    fig.update_layout(title=title, height=height, template="plotly_white")
    return fig


def plot_focal_loss(alpha: float = 0.2, *, gamma: float = 1.0, prior: float = 0.05, height: int = 360):
    """The focal loss of one bin against the predicted probability p, and what it makes the model predict.

    Left: ``−α(1−p)^γ log p`` (a positive, y = 1) and ``−(1−α)p^γ log(1−p)`` (a negative, y = 0).
    Right: the expected loss of a bin that is positive with probability ``prior`` (a bin the model cannot
    tell apart, e.g. one octave above a loud note): its minimum p* is what a trained model outputs there.
    A larger α moves p* up, towards the frame threshold: ghost notes.

    Notebook: 02_training
    """
    p = np.linspace(1e-3, 1 - 1e-3, 999)
    pos = -alpha * (1 - p) ** gamma * np.log(p)
    neg = -(1 - alpha) * p ** gamma * np.log(1 - p)
    expected = prior * pos + (1 - prior) * neg
    p_star = float(p[np.argmin(expected)])
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        f"loss of one bin (α={alpha:g}, γ={gamma:g})", f"expected loss, positive rate π={prior:g}: p*={p_star:.3f}"))
    fig.add_trace(go.Scatter(x=p, y=pos, name="y = 1 (note)", line=dict(color="#2ca02c")), row=1, col=1)
    fig.add_trace(go.Scatter(x=p, y=neg, name="y = 0 (no note)", line=dict(color="#d62728")), row=1, col=1)
    fig.add_trace(go.Scatter(x=p, y=expected, name="π·pos + (1−π)·neg", line=dict(color="#1f77b4")),
                  row=1, col=2)
    fig.add_vline(x=p_star, line=dict(color="#1f77b4", dash="dot"), row=1, col=2)
    fig.update_xaxes(title_text="predicted p", range=[0, 1])
    fig.update_yaxes(title_text="loss", type="log", row=1, col=1)
    fig.update_yaxes(title_text="expected loss", row=1, col=2)
    fig.update_layout(height=height, template="plotly_white")
    return fig
