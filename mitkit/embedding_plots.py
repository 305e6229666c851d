"""Figures of the embedding space (notebook 03 and the HTML report): 2-D projections, the affinity matrix,
the eigengap used to count instruments, and how tracks line up with the true parts.

Notebook: 03_embeddings_and_clustering
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mitkit.plots import _as_track_arrays, _note_rectangles, track_colour

UNMATCHED_COLOUR = "#b0b0b0"  # notes that match no reference note


def reference_labels(notes, parts, *, onset_tolerance: float = 0.05) -> np.ndarray:
    """The reference part each estimated note belongs to, for colouring notes by their true instrument.

    Note i matches reference note j when they have the same (rounded) MIDI pitch and
    ``|onset_i - onset_j| <= onset_tolerance``; among several matches the closest onset wins (then the
    lower part index). Matching is many-to-one (a doubled estimate matches twice); for scores use
    :func:`mitkit.evaluation.metrics.separation_metrics`, which matches one-to-one.

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
    from mitkit.errors import MitkitError
    from mitkit.notes import as_note_array
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
    E : array ``(N, D)``, N >= 3 (e.g. note embeddings from :func:`mitkit.embeddings.note_embeddings`).
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

    from mitkit.errors import MitkitError
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
    A : array ``(N, N)`` from :func:`mitkit.embeddings.affinity_matrix`.
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
    """What :func:`mitkit.instrument_count.estimate_n_clusters` saw: Laplacian eigenvalues and silhouettes.

    Left: the smallest eigenvalues λ_1 ≤ λ_2 ≤ … of the normalised Laplacian of the sharpened
    affinity, the bulk level and the ``AUTO_K_BULK_FRACTION · bulk`` line below which an eigenvalue
    proposes a cluster. Right: the silhouette of each proposed k (when K_bulk > 1).

    Parameters
    ----------
    details : the dict returned with ``estimate_n_clusters(E, return_details=True)``.
    K : the estimate, marked on both panels.

    Notebook: 03_embeddings_and_clustering
    """
    from mitkit.instrument_count import AUTO_K_BULK_FRACTION
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
