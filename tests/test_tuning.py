import shutil

import pytest

from mitkit.checkpoint import bundled_checkpoint_path, load_checkpoint
from mitkit.cli import main
from mitkit.training import tuning

# A smaller threshold grid than the shipped one keeps this test quick; it spans bad and good settings.
GRID = {"onset_grid": (0.2, 0.4, 0.7), "frame_grid": (0.3, 0.5), "min_note_grid": (6, 11), "reonset_grid": (None, 0.02, 0.1)}


def test_tune_writes_thresholds_and_temperature(example_benchmark, tmp_path, capsys, monkeypatch):
    """The bundled example as a one-mix 'validation' benchmark, given twice (folders are pooled):
    `mitkit tune` writes the tuned values into the checkpoint, and they are the best of the grid."""
    import functools

    monkeypatch.setattr(tuning, "tune_thresholds", functools.partial(tuning.tune_thresholds, **GRID))
    bench = example_benchmark
    ckpt = shutil.copy(bundled_checkpoint_path(), tmp_path / "model.pt")
    assert main(["tune", str(ckpt), "--on", str(bench), str(bench)]) == 0
    assert "tuned thresholds" in capsys.readouterr().out
    back = load_checkpoint(ckpt)
    thresholds = back["thresholds"]
    assert set(thresholds) - {"reonset_threshold", "claim_neighbours", "onset_reference"} == {
        "onset_threshold", "frame_threshold", "min_note_frames"}
    assert back["affinity_temperature"] in (1.0, 0.5, 0.3, 0.2)
    assert 0.5 < back["metrics"]["val_note_f1"] <= 1 and 0.3 < back["metrics"]["val_separation_f1"] <= 1
    _check_the_tuned_values_are_the_best(back, bench)


def _check_the_tuned_values_are_the_best(back, bench):
    """Recompute every grid point here (with the metrics directly, not the tuner's own scorer): the stored
    thresholds must be the grid's best (note F1, then frame F1), the temperature the first best separation
    F1 at those thresholds, and the stored validation metrics their scores. A tuner that kept any other
    setting fails."""
    import itertools

    from mitkit.checkpoint import model_from_checkpoint
    from mitkit.clustering import cluster_notes
    from mitkit.embeddings import note_embeddings
    from mitkit.evaluation.benchmarks import load_benchmark
    from mitkit.evaluation.metrics import separation_metrics, transcription_metrics
    from mitkit.note_creation import create_notes
    from mitkit.notes import merge_tracks, notes_to_seconds
    from mitkit.onset_level import onset_level

    [mix] = load_benchmark(bench)  # the folder was given twice: the mean over both is this mix's score
    [post] = tuning.mix_posteriorgrams(model_from_checkpoint(load_checkpoint()), [mix], with_timbre=True)
    ref = merge_tracks(mix.parts)
    def score(th):
        m = transcription_metrics(ref, notes_to_seconds(create_notes(post.frames, post.onsets, **th)))
        return m["note_f1"], m["frame_f1"]

    grid = {}
    for onset, frame, min_frames in itertools.product(GRID["onset_grid"], GRID["frame_grid"], GRID["min_note_grid"]):
        grid[(onset, frame, min_frames)] = score({"onset_threshold": onset, "frame_threshold": frame,
                                                  "min_note_frames": min_frames})
    best = max(grid, key=grid.get)  # the first best, as the tuner scans
    want = dict(zip(("onset_threshold", "frame_threshold", "min_note_frames"), best))
    want_score = grid[best]
    for reonset in GRID["reonset_grid"][1:]:  # then re-onsets at that point, kept only when strictly better
        candidate = {**dict(zip(("onset_threshold", "frame_threshold", "min_note_frames"), best)),
                     "reonset_threshold": reonset}
        if score(candidate) > want_score:
            want, want_score = candidate, score(candidate)
    candidate = {**want, "claim_neighbours": False}  # then the neighbour claims, off only when strictly better
    if score(candidate) > want_score:
        want, want_score = candidate, score(candidate)
    reference = round(onset_level(post.onsets), 4)  # then thresholds that follow the audio's onset level
    fixed = dict(want)
    for step in tuning.LEVEL_STEPS:
        candidate = {**fixed, "onset_threshold": round(fixed["onset_threshold"] + step, 4), "onset_reference": reference}
        if 0 < candidate["onset_threshold"] <= 1 and score(candidate) > want_score:
            want, want_score = candidate, score(candidate)
    assert back["thresholds"] == want, (back["thresholds"], want)
    assert back["metrics"]["val_note_f1"] == pytest.approx(want_score[0], abs=1e-12)
    assert back["metrics"]["val_frame_f1"] == pytest.approx(want_score[1], abs=1e-12)
    assert min(v[0] for v in grid.values()) < want_score[0]  # the choice mattered on this mix

    notes = create_notes(post.frames, post.onsets, **back["thresholds"])
    table, E = notes_to_seconds(notes), note_embeddings(notes, post.frames, post.embeddings)
    separation = {}
    for t in tuning.TEMPERATURE_GRID:
        labels = cluster_notes(E, mix.n_parts, temperature=t, pitches=notes["pitch"], amplitudes=notes["amplitude"])
        separation[t] = separation_metrics(mix.parts, [table[labels == k] for k in range(mix.n_parts)])["separation_f1"]
    best = max(separation.values())
    assert back["affinity_temperature"] == next(t for t in tuning.TEMPERATURE_GRID if separation[t] == best), separation
    assert back["metrics"]["val_separation_f1"] == pytest.approx(best, abs=1e-12)


def test_tune_refuses_the_bundled_model(capsys):
    assert main(["tune", str(bundled_checkpoint_path()), "--on", "anywhere"]) == 2
    assert "must not be the bundled model" in capsys.readouterr().err
