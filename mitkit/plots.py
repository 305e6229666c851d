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


MAX_HEATMAP_COLUMNS = 1500  # heatmaps keep at most this many time columns (figures stay small in notebooks)


def posteriorgram_heatmap(Y, **kwargs) -> go.Heatmap:
    """Heatmap trace of a posteriorgram ``(84, T)`` in seconds × MIDI pitch; long inputs are reduced by
    taking the maximum over groups of frames, so short notes stay visible."""
    Y = np.asarray(Y, dtype=np.float32)
    step = max(1, -(-Y.shape[1] // MAX_HEATMAP_COLUMNS))
    if step > 1:
        pad = (-Y.shape[1]) % step
        Y = np.pad(Y, ((0, 0), (0, pad))).reshape(Y.shape[0], -1, step).max(axis=2)
    t = np.arange(Y.shape[1]) * step / C.FRAME_RATE
    return go.Heatmap(z=np.round(Y, 3), x=t, y=np.arange(C.MIDI_MIN, C.MIDI_MIN + Y.shape[0]), zmin=0,
                      colorscale="Magma", **kwargs)


def plot_posteriorgram(Y, *, title: str = "Frame posteriorgram Y_F", height: int = 360, zmax: float = 1.0):
    """Heatmap of a posteriorgram ``(84, T)`` on MIDI pitch × seconds axes.

    Notebook: 02_training
    """
    fig = go.Figure(posteriorgram_heatmap(Y, zmax=zmax, colorbar=dict(title="p")))
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
        fig.add_trace(posteriorgram_heatmap(post.frames, zmax=1, showscale=False), row=1, col=1)
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


def _harmonic_lines(fig, midi, *, row=None, col=None, shifts=C.HARMONIC_SHIFTS, harmonics=C.HARMONICS):
    """Dotted vertical lines at the bins where the harmonics of ``midi`` fall (x axis in MIDI)."""
    for h, s in zip(harmonics, shifts):
        x = midi + s / C.BINS_PER_SEMITONE
        fig.add_vline(x=x, line=dict(color="#999", width=1, dash="dot"), row=row, col=col,
                      annotation_text=f"h={h:g}", annotation_font_size=9, annotation_position="top")


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
    from .frontend import log_cqt

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
    for h, s in zip(C.HARMONICS, C.HARMONIC_SHIFTS):
        fig.add_vline(x=s, line=dict(color="#999", width=1, dash="dot"), row=2, col=1,
                      annotation_text=f"h={h:g}", annotation_font_size=9, annotation_position="top")
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
        from .errors import MitkitError
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


def plot_loss_history(history, *, losses=("frame", "onset", "timbre", "total"), log_y: bool = True,
                      title: str = "Training and validation losses", height: int = 340):
    """Loss curves from :attr:`mitkit.train.Trainer.history` (one dict per validation).

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


def _roll_boxes(roll) -> np.ndarray:
    """Each run of active frames (> 0.5) of a roll ``(84, T)`` as a note ``[start_s, end_s, pitch, 1]``."""
    roll = np.asarray(roll) > 0.5
    padded = np.pad(roll, ((0, 0), (1, 1))).astype(np.int8)
    d = np.diff(padded, axis=1)
    boxes = [(s / C.FRAME_RATE, e / C.FRAME_RATE, C.MIDI_MIN + p, 1.0)
             for p in range(roll.shape[0])
             for s, e in zip(np.flatnonzero(d[p] == 1), np.flatnonzero(d[p] == -1))]
    return np.array(boxes, float).reshape(-1, 4)


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
        :class:`~mitkit.data.MixtureDataset` item's ``frames``); each run of active frames is one box.

    Notebook: 02_training
    """
    fig = plot_posteriorgram(Y, title=title, height=height, zmax=zmax)
    boxes = _roll_boxes(roll) if roll is not None else notes
    if boxes is not None and len(boxes):
        xs, ys = _note_rectangles(boxes)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="white", width=1),
                                 name="reference", hoverinfo="skip"))
    fig.update_layout(legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"))
    return fig


# ---- notebooks 03–05: embeddings and clustering, speed, your own audio ------------------------------------

UNMATCHED_COLOUR = "#b0b0b0"  # notes that match no reference note


def reference_labels(notes, parts, *, onset_tolerance: float = 0.05) -> np.ndarray:
    """The reference part each estimated note belongs to, for colouring notes by their true instrument.

    Note i matches reference note j when they have the same (rounded) MIDI pitch and
    ``|onset_i - onset_j| <= onset_tolerance``; among several matches the closest onset wins (then the
    lower part index). Matching is many-to-one (a doubled estimate matches twice); for scores use
    :func:`mitkit.evaluate.separation_metrics`, which matches one-to-one.

    Parameters
    ----------
    notes : array ``(N, 4)`` ``[onset_s, offset_s, pitch, velocity]``: estimated notes.
    parts : list of K arrays ``(M_k, 4)``: reference notes, one array per part (instrument).
    onset_tolerance : seconds (mir_eval's default 0.05).

    Returns
    -------
    np.ndarray, int64, shape ``(N,)``: part index in 0 … K-1, or -1 for an unmatched note.

    Examples
    --------
    >>> est = np.array([[0.02, 0.5, 60, 90], [0.5, 1.0, 64, 90], [0.9, 1.2, 50, 90]])
    >>> ref = [np.array([[0.5, 1.0, 64, 90]]), np.array([[0.0, 0.5, 60, 90], [0.96, 1.2, 50, 90]])]
    >>> reference_labels(est, ref).tolist()
    [1, 0, -1]

    Notebook: 03_embeddings_and_clustering
    """
    from .errors import MitkitError
    from .evaluate import as_note_array
    if isinstance(onset_tolerance, bool) or not (isinstance(onset_tolerance, (int, float, np.number))
                                                 and onset_tolerance >= 0):
        raise MitkitError(f"onset_tolerance={onset_tolerance!r} must be a number of seconds >= 0")
    est = as_note_array(notes, "notes")
    labels = np.full(len(est), -1, dtype=np.int64)
    best = np.full(len(est), np.inf)  # (N,) |onset difference| of the current match
    for k, part in enumerate(parts):
        ref = as_note_array(part, f"parts[{k}]")
        if not len(ref) or not len(est):
            continue
        same = np.round(est[:, 2])[:, None] == np.round(ref[:, 2])[None, :]  # (N, M_k)
        gap = np.where(same, np.abs(est[:, 0][:, None] - ref[:, 0][None, :]), np.inf).min(axis=1)  # (N,)
        better = (gap <= onset_tolerance + 1e-9) & (gap < best)
        labels[better], best[better] = k, gap[better]
    return labels


def project_embeddings(E, method: str = "umap", *, random_state: int = 0, n_neighbors: int = 15,
                       perplexity: float = 30.0, max_iter: int | None = None) -> np.ndarray:
    """A 2-D map of unit embeddings ``(N, D)`` with cosine geometry, for plotting.

    Parameters
    ----------
    E : array ``(N, D)``, N >= 3 (e.g. note embeddings from :func:`mitkit.clustering.note_embeddings`).
    method : ``"umap"`` (umap-learn; the first fit in a process compiles for 15–25 s) or ``"tsne"``
        (scikit-learn, PCA initialisation).
    random_state : seed; the map is reproducible on one machine.
    n_neighbors : UMAP's neighbourhood size (capped at N - 1).
    perplexity : t-SNE's effective number of neighbours (capped at (N - 1) / 3).
    max_iter : t-SNE iterations (None: scikit-learn's default 1000; at least 250).

    Returns
    -------
    np.ndarray, float64, shape ``(N, 2)``

    Notebook: 03_embeddings_and_clustering
    """
    import warnings

    from .errors import MitkitError
    E = np.asarray(E, dtype=np.float64)
    if E.ndim != 2 or E.shape[0] < 3:
        raise MitkitError(f"E.shape={E.shape} must be (N, D) with N >= 3 points to project")
    if method == "umap":
        import umap
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # umap/numba chatter (e.g. spectral init on tiny graphs)
            reducer = umap.UMAP(n_neighbors=int(min(n_neighbors, E.shape[0] - 1)), metric="cosine",
                                random_state=random_state, n_jobs=1, init="spectral")
            return np.asarray(reducer.fit_transform(E), dtype=np.float64)
    if method == "tsne":
        from sklearn.manifold import TSNE
        kwargs = {} if max_iter is None else {"max_iter": max(int(max_iter), 250)}
        tsne = TSNE(perplexity=float(min(perplexity, (E.shape[0] - 1) / 3)), metric="cosine", init="pca",
                    random_state=random_state, **kwargs)
        return np.asarray(tsne.fit_transform(E), dtype=np.float64)
    raise MitkitError(f"method={method!r} must be 'umap' or 'tsne'")


def _label_name(k: int, names) -> str:
    if k < 0:
        return "unmatched"
    return names[k] if names is not None and k < len(names) else f"part {k + 1}"


def plot_embedding_projection(projections, labels, *, names=None, hover=None,
                              title: str = "Note embeddings in 2-D", height: int = 460):
    """Scatter plots of 2-D maps of the note embeddings, one point per note, coloured by label.

    Parameters
    ----------
    projections : array ``(N, 2)``, or dict of panel title → array ``(N, 2)`` (e.g. UMAP and t-SNE
        of the same notes, side by side; from :func:`project_embeddings`).
    labels : int array ``(N,)``: part (from :func:`reference_labels`) or track of each note; -1 is
        drawn grey as "unmatched".
    names : legend name of each label 0, 1, … (default "part k").
    hover : optional list of N strings shown on hover (e.g. pitch and onset).

    Notebook: 03_embeddings_and_clustering
    """
    if not isinstance(projections, dict):
        projections = {"": projections}
    labels = np.asarray(labels)
    fig = make_subplots(rows=1, cols=len(projections), subplot_titles=list(projections),
                        horizontal_spacing=0.06)
    for c, Y in enumerate(projections.values()):
        Y = np.asarray(Y)
        for k in sorted(set(labels.tolist()), key=lambda v: (v < 0, v)):
            m = labels == k
            colour = UNMATCHED_COLOUR if k < 0 else track_colour(k)
            fig.add_trace(go.Scatter(x=Y[m, 0], y=Y[m, 1], mode="markers", name=_label_name(k, names),
                                     legendgroup=str(k), showlegend=c == 0,
                                     marker=dict(color=colour, size=7, opacity=0.85,
                                                 line=dict(width=0.5, color="white")),
                                     text=None if hover is None else [hover[i] for i in np.flatnonzero(m)],
                                     hoverinfo="text+name" if hover is not None else "name"),
                          row=1, col=c + 1)
        fig.update_xaxes(showticklabels=False, row=1, col=c + 1)
        fig.update_yaxes(showticklabels=False, row=1, col=c + 1)
    fig.update_layout(title=title, height=height, template="plotly_white")
    return fig


def plot_affinity(A, labels=None, *, names=None, title: str = "Affinity A = exp(cos)", height: int = 480):
    """Heatmap of a note affinity matrix ``(N, N)``, rows and columns grouped by label.

    With ``labels`` the notes are sorted by label (stable: time order inside a group) and thin lines
    separate the groups, so a good embedding shows bright blocks on the diagonal.

    Parameters
    ----------
    A : array ``(N, N)`` from :func:`mitkit.clustering.affinity_matrix`.
    labels : int array ``(N,)`` or None (then input order); -1 ("unmatched") sorts last.
    names : names of labels 0, 1, … for the axis annotations.

    Notebook: 03_embeddings_and_clustering
    """
    A = np.asarray(A)
    N = A.shape[0]
    order = np.arange(N)
    if labels is not None:
        labels = np.asarray(labels)
        order = np.lexsort((np.arange(N), np.where(labels < 0, labels.max() + 1, labels)))
    fig = go.Figure(go.Heatmap(z=A[np.ix_(order, order)], colorscale="Viridis", colorbar=dict(title="A_ij")))
    if labels is not None and N:
        sorted_labels = labels[order]
        edges = np.flatnonzero(np.diff(sorted_labels)) + 0.5
        for e in edges:
            fig.add_hline(y=e, line=dict(color="white", width=1))
            fig.add_vline(x=e, line=dict(color="white", width=1))
        bounds = np.concatenate([[-0.5], edges, [N - 0.5]])
        for a, b in zip(bounds[:-1], bounds[1:]):
            k = int(sorted_labels[int(np.ceil(a))])
            fig.add_annotation(x=(a + b) / 2, y=-0.02, yref="paper", text=_label_name(k, names),
                               showarrow=False, yanchor="top", font=dict(size=10))
    fig.update_xaxes(showticklabels=False, title_text="notes (grouped)" if labels is not None else "notes")
    fig.update_yaxes(showticklabels=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(title=title, height=height, width=height + 110, template="plotly_white",
                      margin=dict(b=60))
    return fig


def plot_eigengap(details: dict, K: int | None = None, *, title: str = "Estimating K: eigengap and silhouette",
                  height: int = 360):
    """What :func:`mitkit.clustering.estimate_n_clusters` saw: Laplacian eigenvalues and silhouettes.

    Left: the smallest eigenvalues λ_1 ≤ λ_2 ≤ … of the normalised Laplacian of the sharpened
    affinity, the bulk level and the ``AUTO_K_BULK_FRACTION · bulk`` line below which an eigenvalue
    proposes a cluster. Right: the silhouette of each proposed k (when K_bulk > 1).

    Parameters
    ----------
    details : the dict returned with ``estimate_n_clusters(E, return_details=True)``.
    K : the estimate, marked on both panels.

    Notebook: 03_embeddings_and_clustering
    """
    from .clustering import AUTO_K_BULK_FRACTION
    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38],
                        subplot_titles=("Laplacian eigenvalues (smallest first)", "silhouette of k clusters"))
    lam = np.asarray(details.get("eigenvalues", []))
    if lam.size:
        idx = np.arange(1, lam.size + 1)
        fig.add_trace(go.Scatter(x=idx, y=lam, mode="lines+markers", name="λ_i", line=dict(color="#1f77b4")),
                      row=1, col=1)
        bulk = details["bulk"]
        fig.add_hline(y=bulk, line=dict(color="grey", dash="dot"), row=1, col=1,
                      annotation_text="bulk", annotation_position="top left")
        fig.add_hline(y=AUTO_K_BULK_FRACTION * bulk, line=dict(color="#d62728", dash="dash"), row=1, col=1,
                      annotation_text=f"{AUTO_K_BULK_FRACTION:g} × bulk", annotation_position="bottom right")
        if K is not None:
            fig.add_vline(x=K + 0.5, line=dict(color="#2ca02c", width=2), row=1, col=1)
    sil = details.get("silhouettes") or {}
    if sil:
        ks = sorted(sil)
        fig.add_trace(go.Bar(x=ks, y=[sil[k] for k in ks], name="silhouette",
                             marker_color=["#2ca02c" if k == K else "#9ecae1" for k in ks]), row=1, col=2)
    fig.update_xaxes(title_text="i", dtick=1, row=1, col=1)
    fig.update_xaxes(title_text="k", dtick=1, row=1, col=2)
    fig.update_layout(title=title + ("" if K is None else f"  →  K = {K}"), height=height,
                      template="plotly_white", showlegend=False)
    return fig


def plot_separation(tracks, parts=None, *, assignment=None, part_names=None, pair_f1=None,
                    title: str = "Separated tracks", row_height: int = 150):
    """Per-instrument piano rolls: one row per estimated track, with its matched reference part.

    Each row draws the track's notes as filled boxes in the track's colour and, when ``parts`` and
    ``assignment`` are given, the notes of the reference part matched to it as black outlines: a filled
    box without an outline is a note this track should not hold, an empty outline a note it misses.

    Parameters
    ----------
    tracks : list of K arrays ``(N_k, 4)``, or a :class:`mitkit.Transcription`.
    parts : list of reference note arrays ``(M_j, 4)`` or None.
    assignment : ``[(part_index, track_index), ...]`` (``separation_metrics(...)["assignment"]``).
    part_names : names of the parts (row titles).
    pair_f1 : ``separation_metrics(...)["pair_f1"]``: adds the F1 of each matched pair to its title.

    Notebook: 03_embeddings_and_clustering
    """
    tracks = _as_track_arrays(tracks)
    K = max(len(tracks), 1)
    part_of = {t: p for p, t in (assignment or [])}
    titles = []
    for k in range(len(tracks)):
        p = part_of.get(k)
        if p is None or parts is None:
            titles.append(f"track {k + 1}: {len(tracks[k])} notes" + ("" if parts is None else " (no part)"))
            continue
        name = part_names[p] if part_names is not None else f"part {p + 1}"
        f1 = "" if pair_f1 is None else f", note F1 {pair_f1[p][k]:.2f}"
        titles.append(f"track {k + 1}: {len(tracks[k])} notes ↔ {name}{f1}")
    fig = make_subplots(rows=K, cols=1, shared_xaxes=True, vertical_spacing=min(0.08, 0.3 / K),
                        subplot_titles=titles or ["no notes"])
    for k, notes in enumerate(tracks):
        xs, ys = _note_rectangles(notes)
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", mode="lines", fillcolor=track_colour(k), opacity=0.8,
                                 line=dict(width=0.5, color=track_colour(k)), name=f"track {k + 1}",
                                 hoverinfo="name"), row=k + 1, col=1)
        p = part_of.get(k)
        if parts is not None and p is not None and len(parts[p]):
            xs, ys = _note_rectangles(parts[p])
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(width=1, color="black"),
                                     name="reference", legendgroup="reference", showlegend=k == 0,
                                     hoverinfo="skip"), row=k + 1, col=1)
        fig.update_yaxes(title_text="MIDI", row=k + 1, col=1)
    fig.update_xaxes(title_text="time (s)", row=K, col=1)
    fig.update_annotations(font_size=11)
    fig.update_layout(title=title, height=90 + row_height * K, template="plotly_white",
                      margin=dict(t=80, b=40))
    return fig


def plot_parameter_counts(counts: dict, *, title: str = "Parameters of the network", height: int = 320):
    """Bar chart of :func:`mitkit.model.parameter_count`: trainable parameters of each branch, and the
    fixed elements (CQT kernels, BatchNorm statistics) that are stored but never trained.

    Notebook: 04_speed_benchmarks
    """
    keys = [k for k in ("amt", "timbre", "trainable", "fixed") if counts.get(k) is not None]
    labels = {"amt": "AMT branch", "timbre": "timbre branch", "trainable": "all trainable",
              "fixed": "fixed (buffers)"}
    fig = go.Figure(go.Bar(x=[labels[k] for k in keys], y=[counts[k] for k in keys],
                           text=[f"{counts[k]:,}" for k in keys], textposition="outside",
                           marker_color=[track_colour(i) for i in range(len(keys))]))
    fig.update_yaxes(title_text="elements", type="log")
    fig.update_layout(title=title, height=height, template="plotly_white")
    return fig


def plot_stage_timings(runs: dict, *, title: str = "Where the time goes (mitkit full)", height: int = 340):
    """Stacked horizontal bars of seconds per pipeline stage, one bar per run.

    Parameters
    ----------
    runs : dict of bar label → dict from :func:`mitkit.bench.stage_timings` (keys ``cqt``, ``amt``,
        ``timbre``, ``notes``, ``clustering``; None for a stage that did not run).

    Notebook: 04_speed_benchmarks
    """
    from .bench import STAGE_LABELS, STAGES
    fig = go.Figure()
    names = list(runs)
    for j, stage in enumerate(STAGES):
        fig.add_trace(go.Bar(y=names, x=[runs[n].get(stage) or 0.0 for n in names], name=STAGE_LABELS[stage],
                             orientation="h", marker_color=track_colour(j + 3)))
    fig.update_layout(barmode="stack", title=title, height=height, template="plotly_white",
                      xaxis_title="seconds", legend=dict(orientation="h", y=-0.25))
    return fig
