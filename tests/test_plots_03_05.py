"""Tests of the plot helpers of notebooks 03–05 in mitkit/plots.py: the note-to-part matching by hand,
the projections' contract, and that every figure builds from small hand-made inputs."""
import numpy as np
import plotly.graph_objects as go
import pytest

from mitkit.embedding_plots import (
    plot_affinity,
    plot_eigengap,
    plot_embedding_projection,
    plot_separation,
    project_embeddings,
    reference_labels,
)
from mitkit.embeddings import affinity_matrix
from mitkit.errors import MitkitError
from mitkit.evaluation.speed_plots import plot_parameter_counts, plot_stage_timings
from mitkit.instrument_count import estimate_n_clusters
from mitkit.synth.embeddings import make_synthetic_embeddings


def test_reference_labels_hand_cases():
    est = np.array([[0.00, 0.5, 60, 90],   # part 1 (same pitch, same onset)
                    [0.54, 1.0, 64, 90],   # part 0 at 40 ms
                    [0.56, 1.0, 64, 90],   # 60 ms late: unmatched
                    [0.00, 0.5, 72, 90],   # an octave above part 1's note: unmatched
                    [2.00, 2.5, 55, 90]])  # unison in both parts: the closer onset (part 0) wins
    ref = [np.array([[0.5, 1.0, 64, 90], [1.99, 2.5, 55, 90]]),
           np.array([[0.0, 0.5, 60, 90], [1.97, 2.5, 55, 90]])]
    assert reference_labels(est, ref).tolist() == [1, 0, -1, -1, 0]
    assert reference_labels(est, ref, onset_tolerance=0.1).tolist() == [1, 0, 0, -1, 0]


def test_reference_labels_ties_go_to_the_lower_part_and_empty_inputs():
    est = np.array([[1.0, 2.0, 60, 90]])
    same = np.array([[1.0, 2.0, 60, 90]])
    assert reference_labels(est, [same, same]).tolist() == [0]
    assert reference_labels(np.zeros((0, 4)), [same]).tolist() == []
    assert reference_labels(est, [np.zeros((0, 4))]).tolist() == [-1]


def test_reference_labels_errors():
    with pytest.raises(MitkitError, match="onset_tolerance=-0.1"):
        reference_labels(np.zeros((0, 4)), [], onset_tolerance=-0.1)
    with pytest.raises(MitkitError, match="parts\\[0\\]"):
        reference_labels(np.array([[0.0, 1.0, 60, 90]]), [np.array([[1.0, 0.5, 60, 90]])])


def test_project_embeddings_tsne_and_errors():
    E, _ = make_synthetic_embeddings([10, 10], kappa=50, random_state=0)
    Y = project_embeddings(E, "tsne", max_iter=250)
    assert Y.shape == (20, 2) and np.isfinite(Y).all()
    np.testing.assert_allclose(project_embeddings(E, "tsne", max_iter=250), Y)  # seeded
    with pytest.raises(MitkitError, match="method='pca'"):
        project_embeddings(E, "pca")
    with pytest.raises(MitkitError, match="N >= 3"):
        project_embeddings(E[:2], "tsne")


def test_figures_build_from_small_inputs():
    E, y = make_synthetic_embeddings([8, 8, 8], kappa=60, random_state=1)
    labels = np.where(np.arange(24) == 5, -1, y)  # one "unmatched" note
    fig = plot_embedding_projection({"a": E[:, :2], "b": E[:, 2:4]}, labels, names=["x", "y", "z"])
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data[:4]] == ["x", "y", "z", "unmatched"] and len(fig.data) == 8

    fig = plot_affinity(affinity_matrix(E), labels, names=["x", "y", "z"])
    assert fig.data[0].z.shape == (24, 24)
    assert [a.text for a in fig.layout.annotations] == ["x", "y", "z", "unmatched"]

    K, details = estimate_n_clusters(E, return_details=True)
    fig = plot_eigengap(details, K)
    assert f"K = {K}" in fig.layout.title.text

    notes = np.array([[0.0, 0.5, 72, 90], [0.5, 1.0, 48, 90]])
    fig = plot_separation([notes[:1], notes[1:]], [notes[1:], notes[:1]], assignment=[(0, 1), (1, 0)],
                          part_names=["low", "high"], pair_f1=[[0.0, 1.0], [1.0, 0.0]])
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["track 1: 1 notes ↔ high, note F1 1.00", "track 2: 1 notes ↔ low, note F1 1.00"]
    assert len(plot_separation([]).data) == 0

    fig = plot_parameter_counts({"amt": 10, "timbre": 20, "trainable": 30, "fixed": 5})
    assert list(fig.data[0].y) == [10, 20, 30, 5]
    fig = plot_stage_timings({"5 s": {"cqt": 0.1, "amt": 0.2, "timbre": None, "notes": 0.01, "clustering": None}})
    assert [t.x[0] for t in fig.data] == [0.1, 0.2, 0.0, 0.01, 0.0]


def test_posteriorgram_heatmap_stores_whole_percents_and_keeps_short_peaks():
    from mitkit import constants as C
    from mitkit.plots import MAX_HEATMAP_COLUMNS, posteriorgram_heatmap
    Y = np.zeros((C.N_PITCHES, 3 * MAX_HEATMAP_COLUMNS), np.float32)
    Y[40, 7] = 0.876   # one frame: the column holding it keeps its maximum
    Y[0, :] = 1.2      # out of range is clipped to 100 %
    trace = posteriorgram_heatmap(Y, zmax=0.5)
    z = np.asarray(trace.z)
    assert z.dtype == np.uint8 and z.shape == (C.N_PITCHES, MAX_HEATMAP_COLUMNS)
    assert z[40, 7 // 3] == 88 and z[40].sum() == 88 and (z[0] == 100).all()
    assert trace.zmax == 50 and trace.y[0] == C.MIDI_MIN and trace.x[1] == pytest.approx(3 / C.FRAME_RATE, abs=1e-3)
    assert "MIDI %{y}" in trace.hovertemplate and "%{z} %" in trace.hovertemplate
