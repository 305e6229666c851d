"""Figures of the speed harness: parameter counts, time per pipeline stage, and ``mitkit bench`` results.

Notebook: 04_speed_benchmarks
"""
from __future__ import annotations

import plotly.graph_objects as go

from mitkit.evaluation.speed_report import SYSTEM_LABELS, SYSTEMS, format_length
from mitkit.evaluation.stage_timings import STAGE_LABELS, STAGES
from mitkit.plots import track_colour


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
    runs : dict of bar label → dict from :func:`mitkit.evaluation.stage_timings.stage_timings` (keys ``cqt``, ``amt``,
        ``timbre``, ``notes``, ``clustering``; None for a stage that did not run).

    Notebook: 04_speed_benchmarks
    """
    from mitkit.evaluation.stage_timings import STAGE_LABELS, STAGES
    fig = go.Figure()
    names = list(runs)
    for j, stage in enumerate(STAGES):
        fig.add_trace(go.Bar(y=names, x=[runs[n].get(stage) or 0.0 for n in names], name=STAGE_LABELS[stage],
                             orientation="h", marker_color=track_colour(j + 3)))
    fig.update_layout(barmode="stack", title=title, height=height, template="plotly_white",
                      xaxis_title="seconds", legend=dict(orientation="h", y=-0.25))
    return fig


def plot_bench(results: dict):
    """Plotly figure of a benchmark: RTF and peak RSS against length per system, and mitkit's stage
    breakdown (seconds of processing per second of audio) per length.

    Returns
    -------
    plotly.graph_objects.Figure

    Notebook: 04_speed_benchmarks
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from mitkit.plots import track_colour
    rows = results["rows"]
    fig = make_subplots(rows=1, cols=3, subplot_titles=("Real-time factor (lower is faster)", "Peak RSS (MiB)",
                                                        "mitkit full: stages (RTF share)"))
    for i, system in enumerate(s for s in SYSTEMS if any(r["system"] == s for r in rows)):
        mine = sorted((r for r in rows if r["system"] == system), key=lambda r: r["seconds"])
        x = [r["seconds"] for r in mine]
        style = dict(mode="lines+markers", line=dict(color=track_colour(i)), legendgroup=system)
        fig.add_trace(go.Scatter(x=x, y=[r["rtf"] for r in mine], name=SYSTEM_LABELS[system], **style), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=[r["peak_rss_mib"] for r in mine], name=SYSTEM_LABELS[system],
                                 showlegend=False, **style), row=1, col=2)
    fig.add_hline(y=results["targets"]["rtf"], line=dict(dash="dot", color="grey"), row=1, col=1)
    staged = sorted((r for r in rows if r.get("stages")), key=lambda r: r["seconds"])
    for j, stage in enumerate(STAGES):
        fig.add_trace(go.Bar(x=[format_length(r["seconds"]) for r in staged],
                             y=[(r["stages"][stage] or 0.0) / r["seconds"] for r in staged],
                             name=STAGE_LABELS[stage], marker_color=track_colour(j + 3)), row=1, col=3)
    fig.update_layout(barmode="stack", height=380, margin=dict(t=40, b=40))
    for col in (1, 2):
        fig.update_xaxes(type="log", title_text="audio length (s)", row=1, col=col)
    fig.update_yaxes(title_text="s / s", row=1, col=3)
    return fig
