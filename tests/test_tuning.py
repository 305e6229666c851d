import shutil
from types import SimpleNamespace

import numpy as np
import pytest

from mitkit.checkpoint import bundled_checkpoint_path, load_checkpoint
from mitkit.cli import main
from mitkit.errors import MitkitError
from mitkit.note_creation import create_notes
from mitkit.notes import notes_to_seconds
from mitkit.training import tuning

# A smaller threshold grid than the shipped one keeps this test quick; it spans bad and good settings.
GRID = {"onset_grid": (0.2, 0.4, 0.7), "frame_grid": (0.3, 0.5), "min_note_grid": (6, 11), "reonset_grid": (None, 0.02, 0.1),
        "weak_frame_grid": (None, 0.2, 0.5), "strong_onset_grid": (1.0, 1.5)}


def test_tune_writes_thresholds_and_temperature(example_benchmark, tmp_path, capsys, monkeypatch):
    """The bundled example as a one-mix 'validation' benchmark, given twice (each folder weighs the same) and guarded
    (--keep-recall-on): `mitkit tune` writes the tuned values into the checkpoint, and they are the best of the
    grid and its refinements among those that lower no kind of note's recall there below the checkpoint's present
    thresholds (which compete too)."""
    import functools

    monkeypatch.setattr(tuning, "tune_thresholds", functools.partial(tuning.tune_thresholds, **GRID))
    bench = example_benchmark
    ckpt = shutil.copy(bundled_checkpoint_path(), tmp_path / "model.pt")
    assert main(["tune", str(ckpt), "--on", str(bench), str(bench), "--keep-recall-on", str(bench)]) == 0
    assert "tuned thresholds" in capsys.readouterr().out
    back = load_checkpoint(ckpt)
    thresholds = back["thresholds"]
    assert set(thresholds) - {"reonset_threshold", "claim_neighbours", "onset_reference", "weak_frame_ratio",
                              "strong_onset_ratio"} == {
        "onset_threshold", "frame_threshold", "min_note_frames"}
    assert back["affinity_temperature"] in (1.0, 0.5, 0.3, 0.2)
    assert 0.5 < back["metrics"]["val_note_f1"] <= 1 and 0.3 < back["metrics"]["val_separation_f1"] <= 1
    _check_the_tuned_values_are_the_best(back, bench)


def _check_the_tuned_values_are_the_best(back, bench):
    """Recompute every grid point here (with the metrics directly, not the tuner's own scorer): the stored
    thresholds must be the best (note F1, then frame F1) of the checkpoint's present thresholds and the grid
    points that find no kind of note less often than those, refined only under the same guard, the temperature the first best separation F1 at those thresholds, and the stored validation
    metrics their scores. A tuner that kept any other setting fails."""
    import itertools

    from mitkit.checkpoint import model_from_checkpoint
    from mitkit.clustering import cluster_notes
    from mitkit.embeddings import note_embeddings
    from mitkit.evaluation.benchmarks import load_benchmark
    from mitkit.evaluation.metrics import recall_by_kind, separation_metrics, transcription_metrics
    from mitkit.note_creation import create_notes
    from mitkit.notes import merge_tracks, notes_to_seconds
    from mitkit.onset_level import onset_level

    [mix] = load_benchmark(bench)  # the folder was given twice: the mean over both is this mix's score
    [post] = tuning.mix_posteriorgrams(model_from_checkpoint(load_checkpoint()), [mix], with_timbre=True)
    ref = merge_tracks(mix.parts)
    def score(th):
        m = transcription_metrics(ref, notes_to_seconds(create_notes(post.frames, post.onsets, **th)))
        return m["note_f1"], m["frame_f1"]

    def recalls(th):
        counts = recall_by_kind(mix.parts, notes_to_seconds(create_notes(post.frames, post.onsets, **th)))
        return {kind: found / total for kind, (found, total) in counts.items() if total}

    grid = {}
    for onset, frame, min_frames in itertools.product(GRID["onset_grid"], GRID["frame_grid"], GRID["min_note_grid"]):
        grid[(onset, frame, min_frames)] = score({"onset_threshold": onset, "frame_threshold": frame,
                                                  "min_note_frames": min_frames})
    baseline = load_checkpoint()["thresholds"]  # the copy's present thresholds: the guard keeps their recall
    floor = recalls(baseline)

    def allowed(candidate):  # no kind of note found less often than at the present thresholds
        return all(r >= floor[k] for k, r in recalls(candidate).items())

    candidates = [dict(baseline)] + [dict(zip(("onset_threshold", "frame_threshold", "min_note_frames"), point))
                                     for point in grid if allowed(dict(zip(("onset_threshold", "frame_threshold",
                                                                            "min_note_frames"), point)))]
    scores = [score(c) for c in candidates]
    want = candidates[scores.index(max(scores))]  # the first best, as the tuner scans
    want_score = score(want)
    def better(candidate):  # strictly better, and allowed
        return score(candidate) > want_score and allowed(candidate)

    base = dict(want)
    for reonset in GRID["reonset_grid"][1:]:  # then re-onsets at that point, kept only when strictly better
        candidate = {**base, "reonset_threshold": reonset}
        if better(candidate):
            want, want_score = candidate, score(candidate)
    candidate = {**want, "claim_neighbours": False}  # then the neighbour claims, off only when strictly better
    if better(candidate):
        want, want_score = candidate, score(candidate)
    reference = round(onset_level(post.onsets), 4)  # then thresholds that follow the audio's onset level
    fixed = dict(want)
    for step in tuning.LEVEL_STEPS:
        candidate = {**fixed, "onset_threshold": round(fixed["onset_threshold"] + step, 4), "onset_reference": reference}
        if 0 < candidate["onset_threshold"] <= 1 and better(candidate):
            want, want_score = candidate, score(candidate)
    fixed = dict(want)  # then notes a strong onset confirms on weaker frames
    for weak, strong in itertools.product(GRID["weak_frame_grid"][1:], GRID["strong_onset_grid"]):
        candidate = {**fixed, "weak_frame_ratio": weak, "strong_onset_ratio": strong}
        if better(candidate):
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


# ---- the recall guard (`--keep-recall-on`), on hand-made posteriorgrams --------------------------------------
def posteriorgram(notes, strong_onsets: int = 30):
    """Frame and onset posteriors of ``(pitch bin, first frame, last frame, onset peak)`` notes, and
    ``strong_onsets`` onset values of 0.9 where no frame sounds (they set the onset level, make no note)."""
    Y_F, Y_O = np.zeros((84, 200), np.float32), np.zeros((84, 200), np.float32)
    for pitch, start, end, peak in notes:
        Y_F[pitch, start:end] = 0.9
        Y_O[pitch, start] = peak
    Y_O[50:50 + strong_onsets, 150] = 0.9
    return SimpleNamespace(frames=Y_F, onsets=Y_O)


def mix_of(notes):
    """A benchmark mix whose one reference part holds ``notes`` as create_notes finds them when clean."""
    clean = posteriorgram([(pitch, start, end, 1.0) for pitch, start, end, _ in notes], strong_onsets=0)
    return SimpleNamespace(parts=[notes_to_seconds(create_notes(clean.frames, clean.onsets, onset_threshold=0.5))])


def test_within_noise_lowers_a_recall_by_one_standard_error():
    assert tuning.within_noise({"short": (1, 4), "other": (100, 100)}) == {"short": 0.0335, "other": 1.0}
    few, many = tuning.within_noise({"k": (8, 10)}), tuning.within_noise({"k": (800, 1000)})
    assert few["k"] < many["k"] < 0.8  # fewer notes, a wider margin


def test_recall_by_kind_of_pools_the_mixes():
    notes = [(36, 10, 40, 0.9), (36, 40, 70, 0.5)]  # a pitch re-attacked without a gap, weakly
    mix, post = mix_of(notes), posteriorgram(notes)
    assert tuning.recall_by_kind_of([mix, mix], [post, post], {"onset_threshold": 0.6}) == {
        "repeated": 0.0, "other": 1.0}
    assert tuning.recall_by_kind_of([mix], [post], {"onset_threshold": 0.6, "reonset_threshold": 0.3}) == {
        "repeated": 1.0, "other": 1.0}


def test_a_refinement_that_lowers_a_kind_of_notes_recall_is_refused():
    notes = [(36, 10, 40, 0.9), (36, 40, 70, 0.5)]
    mix, post = mix_of(notes), posteriorgram(notes)
    allowed = tuning.lowers_no_recall([mix], [post], {"onset_threshold": 0.6})  # finds the first note only
    assert allowed({"onset_threshold": 0.6, "reonset_threshold": 0.3})  # finds the re-attack too
    assert not allowed({"onset_threshold": 0.6, "frame_threshold": 0.95})  # finds neither
    guard = tuning.lowers_no_recall([mix], [post], {"onset_threshold": 0.6, "reonset_threshold": 0.3})
    assert not guard({"onset_threshold": 0.6})  # loses the re-attack
    assert tuning.lowers_no_recall([], [], {"onset_threshold": 0.6})({"frame_threshold": 0.95})


def test_tuning_keeps_to_the_refinements_the_guard_allows():
    """The same posteriorgram (a note with an onset bump of 0.66 inside it) under two references: in the tuned
    mix the bump is spurious, so a higher onset threshold (following the level) wins there; in the guarded mix
    it is a re-attack, which that threshold loses, so with the guard it is refused."""
    post = posteriorgram([(36, 10, 40, 0.9), (36, 40, 70, 0.66)])
    tuned = mix_of([(36, 10, 70, 1.0)])
    guarded = mix_of([(36, 10, 40, 1.0), (36, 40, 70, 1.0)])
    grid = {"onset_grid": (0.6,), "frame_grid": (0.3,), "min_note_grid": (4,), "reonset_grid": (None,)}
    free, _ = tuning.tune_thresholds(None, [tuned], posteriorgrams=[post], **grid)
    assert free == {"onset_threshold": 0.7, "frame_threshold": 0.3, "min_note_frames": 4, "onset_reference": 0.9}
    kept, metrics = tuning.tune_thresholds(None, [tuned], posteriorgrams=[post], **grid, keep_recall=[(guarded, post)])
    assert kept == {"onset_threshold": 0.6, "frame_threshold": 0.3, "min_note_frames": 4}
    assert metrics["val_note_f1"] == pytest.approx(2 / 3)  # the spurious split stays: 1 of 2 notes right


def test_tuning_turns_on_onset_confirmed_notes_only_when_they_find_more():
    """A short note held only weakly (0.3 under a frame threshold of 0.5) after a strong onset: the tuner keeps the
    first step-6 setting that finds it; where its frames are too weak for every setting of the grid (0.05), step 6
    stays off."""
    grid = {"onset_grid": (0.5,), "frame_grid": (0.5,), "min_note_grid": (4,), "reonset_grid": (None,)}
    for weak_value, turned_on in ((0.3, True), (0.05, False)):
        post = posteriorgram([(36, 10, 40, 0.9)])
        post.frames[40, 60:70], post.onsets[40, 60] = weak_value, 0.9
        mix = mix_of([(36, 10, 40, 1.0), (40, 60, 70, 1.0)])
        tuned, metrics = tuning.tune_thresholds(None, [mix], posteriorgrams=[post], **grid)
        assert ("weak_frame_ratio" in tuned) is turned_on, tuned
        if turned_on:
            assert (tuned["weak_frame_ratio"], tuned["strong_onset_ratio"]) == (0.2, 1.0)  # the first that finds it
            assert metrics["val_note_f1"] == 1.0
        else:
            assert metrics["val_note_f1"] == pytest.approx(2 / 3)


def test_with_a_baseline_the_guard_holds_on_the_grid_too():
    """Given the thresholds a checkpoint has now, no grid point may find a kind of note less often than they do on
    the guarded mix, and they compete themselves: the re-attack that onset 0.7 loses keeps 0.6."""
    post = posteriorgram([(36, 10, 40, 0.9), (36, 40, 70, 0.66)])
    tuned = mix_of([(36, 10, 70, 1.0)])
    guarded = mix_of([(36, 10, 40, 1.0), (36, 40, 70, 1.0)])
    grid = {"onset_grid": (0.6, 0.7), "frame_grid": (0.3,), "min_note_grid": (4,), "reonset_grid": (None,)}
    present = {"onset_threshold": 0.6, "frame_threshold": 0.3, "min_note_frames": 4}
    free, _ = tuning.tune_thresholds(None, [tuned], posteriorgrams=[post], **grid, keep_recall=[(guarded, post)])
    assert free["onset_threshold"] == 0.7  # without a baseline the grid's best is its own floor
    kept, _ = tuning.tune_thresholds(None, [tuned], posteriorgrams=[post], **grid, keep_recall=[(guarded, post)],
                                     baseline=present)
    assert kept == present
    unguarded, _ = tuning.tune_thresholds(None, [tuned], posteriorgrams=[post], **grid, baseline=present)
    assert unguarded["onset_threshold"] == 0.7  # a baseline alone guards nothing


def test_a_recall_floor_guards_every_candidate_the_baseline_too():
    """With a floor (what the model to replace finds), no threshold may find a kind of note less often than it,
    not even the checkpoint's present ones; a floor no grid point meets is an error that names it."""
    post = posteriorgram([(36, 10, 40, 0.9), (36, 40, 70, 0.66)])
    tuned = mix_of([(36, 10, 70, 1.0)])
    guarded = mix_of([(36, 10, 40, 1.0), (36, 40, 70, 1.0)])
    grid = {"onset_grid": (0.6, 0.7), "frame_grid": (0.3,), "min_note_grid": (4,), "reonset_grid": (None,)}
    both = {"repeated": 1.0, "other": 1.0}
    present = {"onset_threshold": 0.7, "frame_threshold": 0.3, "min_note_frames": 4}  # loses the re-attack
    kept, _ = tuning.tune_thresholds(None, [tuned], posteriorgrams=[post], **grid, keep_recall=[(guarded, post)],
                                     baseline=present, recall_floor=both)
    assert kept == {"onset_threshold": 0.6, "frame_threshold": 0.3, "min_note_frames": 4}
    loose, _ = tuning.tune_thresholds(None, [tuned], posteriorgrams=[post], **grid, keep_recall=[(guarded, post)],
                                      baseline=present, recall_floor={"repeated": 0.0, "other": 1.0})
    assert loose["onset_threshold"] == 0.7  # a floor the re-attack need not meet: the better F1 wins
    with pytest.raises(MitkitError, match="no thresholds of the grid find every kind of note .* recall_floor="):
        tuning.tune_thresholds(None, [tuned], posteriorgrams=[post], **{**grid, "onset_grid": (0.7,)},
                               keep_recall=[(guarded, post)], recall_floor=both)


def test_the_recall_floor_of_a_checkpoint_is_what_it_finds_less_its_noise(example_benchmark, tmp_path, capsys):
    from mitkit.checkpoint import model_from_checkpoint, thresholds_of
    from mitkit.evaluation.benchmarks import load_benchmark
    mixes = load_benchmark(example_benchmark)
    bundled = load_checkpoint()
    posts = tuning.mix_posteriorgrams(model_from_checkpoint(bundled), mixes)
    floor = tuning.recall_floor_of(None, mixes)
    found = tuning.found_by_kind_of(mixes, posts, thresholds_of(bundled))
    for kind, (f, n) in found.items():  # one binomial standard error below what it finds
        assert floor[kind] == pytest.approx(f / n - np.sqrt(f / n * (1 - f / n) / n), abs=1e-4), kind
    assert floor["other"] > 0.5
    strict = tuning.recall_by_kind_of(mixes, posts, {**thresholds_of(bundled), "onset_threshold": 0.95})
    assert strict["other"] < floor["other"]  # the floor depends on the checkpoint's thresholds
    ckpt = shutil.copy(bundled_checkpoint_path(), tmp_path / "model.pt")
    assert main(["tune", str(ckpt), "--on", str(example_benchmark), "--recall-floor-from", "bundled"]) == 2
    assert "--keep-recall-on" in capsys.readouterr().err


def test_a_missing_guard_folder_is_named_before_any_work(example_benchmark, tmp_path, capsys):
    ckpt = shutil.copy(bundled_checkpoint_path(), tmp_path / "model.pt")
    assert main(["tune", str(ckpt), "--on", str(example_benchmark), "--keep-recall-on", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_each_benchmark_has_the_same_say_when_weighed_by_benchmark():
    """Three mixes of one kind (an onset bump inside a held note is spurious: onset 0.7 suits them) and one of
    another (two such bumps are re-attacks: 0.6 suits it). Pooled, the three outvote the one; weighed by
    benchmark, each kind has half the say and 0.6 loses less there than 0.7 loses on the other."""
    held = posteriorgram([(36, 10, 40, 0.9), (36, 40, 70, 0.66)])
    spurious = mix_of([(36, 10, 70, 1.0)])
    repeated_post = posteriorgram([(36, 10, 40, 0.9), (36, 40, 70, 0.66), (36, 70, 100, 0.66)])
    repeated = mix_of([(36, 10, 40, 1.0), (36, 40, 70, 1.0), (36, 70, 100, 1.0)])
    mixes, posts = [spurious] * 3 + [repeated], [held] * 3 + [repeated_post]
    grid = {"onset_grid": (0.6, 0.7), "frame_grid": (0.3,), "min_note_grid": (4,), "reonset_grid": (None,)}
    pooled, metrics = tuning.tune_thresholds(None, mixes, posteriorgrams=posts, **grid)
    assert pooled["onset_threshold"] == 0.7
    assert metrics["val_note_f1"] == pytest.approx((1 + 1 + 1 + 0.5) / 4)
    weights = tuning.benchmark_weights([3, 1])
    fair, metrics = tuning.tune_thresholds(None, mixes, posteriorgrams=posts, **grid, weights=weights)
    assert fair["onset_threshold"] == 0.6
    assert metrics["val_note_f1"] == pytest.approx(0.5 * 2 / 3 + 0.5 * 1)
    assert tuning.mean_note_f1([merge(m) for m in mixes], posts, {"onset_threshold": 0.7}, weights=weights) == \
        pytest.approx(0.5 * 1 + 0.5 * 0.5)


def merge(mix):
    from mitkit.notes import merge_tracks
    return merge_tracks(mix.parts)


def test_tune_says_what_a_recall_guard_cost(tmp_path, capsys):
    """After tuning, the CLI prints the validation scores and, when the recall guard ruled out better
    thresholds of the grid, how much note F1 it cost; a guard that cost nothing goes unmentioned."""
    from mitkit.checkpoint import save_checkpoint
    from mitkit.cli import _print_tuning
    ckpt = {k: v for k, v in load_checkpoint().items() if k not in ("format", "format_version")}
    metrics = {"val_note_f1": 0.441, "val_note_precision": 0.299, "val_separation_f1": 0.512}
    for unguarded, warned in ((0.784, True), (0.441, False)):
        save_checkpoint(tmp_path / "x.pt", {**ckpt, "metrics": {**metrics, "val_grid_note_f1_unguarded": unguarded}},
                        overwrite=True)
        _print_tuning(tmp_path / "x.pt", {"onset_threshold": 0.1})
        out = capsys.readouterr().out
        assert "tuned thresholds: {'onset_threshold': 0.1}" in out
        assert "note F1 0.441, note precision 0.299, separation F1 0.512" in out
        assert ("reaches 0.784 without it, against 0.441 with it" in out) is warned


def test_tuning_reports_the_grid_best_a_recall_floor_ruled_out():
    """The metrics say what the grid's best scores without the guard: more than the guarded choice where the
    floor refuses it, the same where nothing guards."""
    post = posteriorgram([(36, 10, 40, 0.9), (36, 40, 70, 0.66)])
    tuned = mix_of([(36, 10, 70, 1.0)])
    guarded = mix_of([(36, 10, 40, 1.0), (36, 40, 70, 1.0)])
    grid = {"onset_grid": (0.6, 0.7), "frame_grid": (0.3,), "min_note_grid": (4,), "reonset_grid": (None,),
            "weak_frame_grid": (None,)}
    kept, metrics = tuning.tune_thresholds(None, [tuned], posteriorgrams=[post], **grid, keep_recall=[(guarded, post)],
                                           recall_floor={"repeated": 1.0, "other": 1.0})
    assert kept["onset_threshold"] == 0.6  # 0.7 would lose the re-attack the floor asks for
    assert metrics["val_note_f1"] == pytest.approx(2 / 3) and metrics["val_grid_note_f1_unguarded"] == 1.0
    free, metrics = tuning.tune_thresholds(None, [tuned], posteriorgrams=[post], **grid)
    assert free["onset_threshold"] == 0.7 and metrics["val_grid_note_f1_unguarded"] == metrics["val_note_f1"] == 1.0


def test_tune_weighs_benchmarks_unless_told_to_pool_mixes(monkeypatch, tmp_path):
    """`mitkit tune` gives each --on folder the same say by default and pools the mixes with --weigh mixes; an
    unknown weighing is an error that names it."""
    seen, tune_checkpoint = {}, tuning.tune_checkpoint
    monkeypatch.setattr(tuning, "tune_checkpoint", lambda *a, **kw: seen.update(kw) or {})
    shutil.copy(bundled_checkpoint_path(), tmp_path / "x.pt")  # what the CLI reports the tuning from
    assert main(["tune", str(tmp_path / "x.pt"), "--on", "a"]) == 0
    assert seen["weigh"] == "benchmarks"
    assert main(["tune", str(tmp_path / "x.pt"), "--on", "a", "--weigh", "mixes"]) == 0
    assert seen["weigh"] == "mixes"
    with pytest.raises(MitkitError, match="weigh='votes'"):
        tune_checkpoint(tmp_path / "x.pt", ["a"], weigh="votes")
