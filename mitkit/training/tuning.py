"""Choosing note-creation thresholds on the validation split, and storing them in the checkpoint.

Notebook: 02_training

The network runs once per validation mix; only note creation is repeated over the grid, so tuning
costs seconds. Test pieces are never used here (they are for reporting only).
"""
from __future__ import annotations

import itertools
import logging
import warnings
from pathlib import Path

import numpy as np

from mitkit.audio import load_audio
from mitkit.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint, thresholds_of
from mitkit.errors import MitkitError
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.evaluation.metrics import NOTE_KINDS, note_f1, recall_by_kind, score_posteriorgrams
from mitkit.inference import predict
from mitkit.note_creation import create_notes
from mitkit.notes import merge_tracks, notes_to_seconds
from mitkit.onset_level import onset_level

log = logging.getLogger(__name__)

ONSET_GRID = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
FRAME_GRID = (0.2, 0.3, 0.4, 0.5)
MIN_NOTE_GRID = (4, 6, 8, 11)  # 4 frames ≈ 46 ms: sixteenths up to ≈ 300 bpm
# re-onsets (repeated notes without a gap), tried after the grid above at its best point; None = off
REONSET_GRID = (None, 0.03, 0.05, 0.08, 0.12, 0.2, 0.3, 0.4, 0.5)
# onset thresholds tried, around the best fixed one, once they follow each audio's onset level
LEVEL_STEPS = (-0.1, -0.05, 0.0, 0.05, 0.1)
# notes a strong onset confirms on weaker frames (create_notes' step 6), tried last: weak frame ratios (None = off)
# and how far above the onset threshold a confirming peak must be
WEAK_FRAME_GRID = (None, 0.2, 0.3, 0.5, 0.7)
STRONG_ONSET_GRID = (1.0, 1.1, 1.2, 1.3)


def mix_posteriorgrams(model, mixes, *, with_timbre: bool = False, device: str = "cpu") -> list:
    """The network's outputs for every mix, computed once and shared by the tuning steps."""
    model = model.to(device).eval()
    return [predict(model, load_audio(mix.audio), with_timbre=with_timbre) for mix in mixes]


def benchmark_weights(sizes) -> np.ndarray:
    """Per-mix weights that give each benchmark the same say, whatever its number of mixes: ``sizes`` are the
    benchmarks' numbers of mixes, in the order their mixes are listed; each benchmark's weights sum to one.

    A benchmark stands for a kind of music: pooled, 36 + 36 chorale mixes outvote 12 string-quartet mixes six to
    one, and the thresholds suit chorales (model card, "Every benchmark one say").

    >>> benchmark_weights([2, 1]).tolist()
    [0.5, 0.5, 1.0]
    """
    return np.concatenate([np.full(n, 1.0 / n) for n in sizes if n])


def mean_transcription_metrics(references, posteriorgrams, thresholds: dict | None = None, *, weights=None) -> dict:
    """Mean transcription metrics (:func:`mitkit.evaluation.metrics.transcription_metrics`) of the notes made from
    each posteriorgram at ``thresholds`` (default: ``create_notes``'), against ``references`` (one
    ``(N, 4)`` note array per mix, all parts pooled: ``merge_tracks(mix.parts)``); ``weights``: one per mix
    (:func:`benchmark_weights`), default equal."""
    scores = [score_posteriorgrams(ref, p.frames, p.onsets, thresholds)[0] for ref, p in zip(references, posteriorgrams)]
    return {k: float(np.average([s[k] for s in scores], weights=weights)) for k in scores[0]}


def mean_note_f1(references, posteriorgrams, thresholds: dict | None = None, *, weights=None) -> float:
    """Mean onset-only note F1 of the notes made at ``thresholds`` (default: ``create_notes``') (see
    :func:`mitkit.evaluation.metrics.note_f1`); ``weights``: one per mix (:func:`benchmark_weights`), default
    equal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(np.average([note_f1(ref, notes_to_seconds(create_notes(p.frames, p.onsets, **(thresholds or {}))))
                                 for ref, p in zip(references, posteriorgrams)], weights=weights))


def _best_thresholds(references, posteriorgrams, candidates: list, weights=None) -> tuple[dict, dict]:
    """The candidate with the best mean note F1; among equals, the best frame F1, then the first. Frame
    metrics are computed for the equals only (they cost far more than note F1)."""
    return _best_allowed(references, posteriorgrams, candidates, lambda thresholds: True, weights)[0]


def _best_of_equals(references, posteriorgrams, equals: list, weights=None) -> tuple[dict, dict]:
    """Among candidates of equal note F1, the one with the best frame F1 (the first among equals), with its
    mean metrics."""
    best = None
    for th in equals:
        mean = mean_transcription_metrics(references, posteriorgrams, th, weights=weights)
        if best is None or mean["frame_f1"] > best[1]["frame_f1"]:
            best = (th, mean)
    return best


def _best_allowed(references, posteriorgrams, candidates: list, allowed, weights=None):
    """:func:`_best_thresholds` among the candidates ``allowed`` (a test, e.g. :func:`lowers_no_recall`) passes,
    and the best mean note F1 of all of them: ``((thresholds, metrics), unguarded F1)``, ``(None, F1)`` when
    none passes. Every candidate's note F1 is computed, the test only from the best down until it passes (it
    costs more)."""
    f1 = [mean_note_f1(references, posteriorgrams, th, weights=weights) for th in candidates]
    top, equals = None, []
    for i in sorted(range(len(candidates)), key=lambda i: -f1[i]):  # stable: grid order among equals
        if top is not None and f1[i] < top:
            break
        if allowed(candidates[i]):
            top = f1[i]
            equals.append(candidates[i])
    best = _best_of_equals(references, posteriorgrams, equals, weights) if equals else None
    return best, max(f1)


def found_by_kind_of(mixes, posteriorgrams, thresholds: dict) -> dict[str, tuple[int, int]]:
    """How many notes of each kind (:func:`mitkit.evaluation.metrics.recall_by_kind`: repeated, short, other)
    the notes made at ``thresholds`` find, and how many there are, pooled over ``mixes``: ``{kind: (found,
    total)}``; kinds the mixes lack are left out."""
    counts = {kind: [0, 0] for kind in NOTE_KINDS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for mix, p in zip(mixes, posteriorgrams):
            est = notes_to_seconds(create_notes(p.frames, p.onsets, **thresholds))
            for kind, (found, total) in recall_by_kind(mix.parts, est).items():
                counts[kind][0] += found
                counts[kind][1] += total
    return {kind: (found, total) for kind, (found, total) in counts.items() if total}


def recall_by_kind_of(mixes, posteriorgrams, thresholds: dict) -> dict[str, float]:
    """Recall of each kind of note (repeated, short, other), pooled over ``mixes``, of the notes made at
    ``thresholds`` (:func:`found_by_kind_of`); kinds the mixes lack are left out."""
    return {kind: found / total for kind, (found, total) in found_by_kind_of(mixes, posteriorgrams, thresholds).items()}


def lowers_no_recall(mixes, posteriorgrams, baseline: dict | None = None, *, floor: dict | None = None):
    """A test of candidate thresholds: True when, on ``mixes``, they find every kind of note at least as
    often as ``baseline`` does (:func:`recall_by_kind_of`), or as ``floor`` says (``{kind: recall}``, e.g. what
    another model finds there); always True without mixes."""
    if not mixes:
        return lambda thresholds: True
    floor = floor if floor is not None else recall_by_kind_of(mixes, posteriorgrams, baseline)

    def allowed(thresholds: dict) -> bool:
        recall = recall_by_kind_of(mixes, posteriorgrams, thresholds)
        lower = {kind: round(recall[kind], 4) for kind in floor if recall[kind] < floor[kind]}
        if lower:
            log.info("not tried: %s lowers the recall of %s (from %s)", thresholds, lower,
                     {kind: round(floor[kind], 4) for kind in lower})
        return not lower
    return allowed


def tune_thresholds(model, mixes, *, onset_grid=ONSET_GRID, frame_grid=FRAME_GRID, min_note_grid=MIN_NOTE_GRID,
                    reonset_grid=REONSET_GRID, weak_frame_grid=WEAK_FRAME_GRID, strong_onset_grid=STRONG_ONSET_GRID,
                    device: str = "cpu", posteriorgrams=None,
                    keep_recall=(), baseline: dict | None = None, recall_floor: dict | None = None,
                    weights=None) -> tuple[dict, dict]:
    """Grid-search the thresholds that maximise the mean onset-only note F1 over ``mixes`` (weighted by
    ``weights``, one per mix: :func:`benchmark_weights`; default equal).

    Parameters
    ----------
    model : MitNet in eval mode.
    mixes : list of :class:`mitkit.evaluation.benchmarks.BenchmarkMix` from the *validation* split.
    keep_recall : ``(mix, posteriorgram)`` pairs (e.g. notes played at their written length; they may be among
        ``mixes``) on which the chosen thresholds must lower the recall of no kind of note (repeated, short,
        other) below ``baseline``'s (:func:`lowers_no_recall`): a grid point or a refinement after the grid
        (re-onsets, neighbour claims, onset thresholds that follow the audio's onset level, notes a strong onset
        confirms on weaker frames) that would is
        not tried. Empty: every one is tried.
    baseline : the thresholds whose recall ``keep_recall`` keeps, e.g. those the checkpoint has now (they are
        a candidate too); None: the grid's best, and only the refinements are guarded.
    recall_floor : ``{kind: recall}`` that ``keep_recall`` keeps instead of ``baseline``'s, on the grid and the
        refinements (e.g. the recall of the model a new one would replace: :func:`recall_floor_of`);
        ``baseline`` is then a candidate like any other.

    Returns
    -------
    thresholds : dict with ``onset_threshold``, ``frame_threshold``, ``min_note_frames``, ``reonset_threshold``
        when a re-onset threshold beats "off" at the best of those, ``claim_neighbours: False`` when
        notes a semitone from a kept note score better kept, and ``onset_reference`` (the mixes' median
        onset level) when onset thresholds that follow each audio's onset level score better, and
        ``weak_frame_ratio`` with ``strong_onset_ratio`` when notes a strong onset confirms on weaker frames do.
    metrics : the (weighted) mean transcription metrics of the mixes at those thresholds (keys prefixed ``val_``),
        and ``val_grid_note_f1_unguarded``: the best note F1 of the grid (before the refinements) without the
        recall guard, what the guard costs when it is higher than the grid's guarded best.
    """
    if posteriorgrams is None:
        posteriorgrams = mix_posteriorgrams(model, mixes, device=device)
    references = [merge_tracks(mix.parts) for mix in mixes]
    grid = [{"onset_threshold": onset, "frame_threshold": frame, "min_note_frames": min_frames}
            for onset, frame, min_frames in itertools.product(onset_grid, frame_grid, min_note_grid)]
    guarded = ([mix for mix, _ in keep_recall], [p for _, p in keep_recall])
    candidates = ([dict(baseline)] if baseline is not None else []) + grid
    if recall_floor is not None:
        allowed = lowers_no_recall(*guarded, floor=recall_floor)
    elif baseline is not None:
        guard = lowers_no_recall(*guarded, baseline)

        def allowed(thresholds):  # the present thresholds compete whatever they find
            return thresholds is candidates[0] or guard(thresholds)
    else:
        allowed = lowers_no_recall([], [])
    best, unguarded = _best_allowed(references, posteriorgrams, candidates, allowed, weights)
    if best is None:
        raise MitkitError(f"no thresholds of the grid find every kind of note on the guarded benchmarks as often "
                          f"as recall_floor={ {k: round(v, 4) for k, v in recall_floor.items()} }")
    if baseline is None and recall_floor is None:
        allowed = lowers_no_recall(*guarded, best[0])
    # a second, one-dimensional search for re-onsets: the grid above stays affordable
    best = _best_thresholds(references, posteriorgrams, [best[0], *filter(allowed, (
        {**best[0], "reonset_threshold": r} for r in reonset_grid if r is not None))], weights)
    # and whether a kept note silences its neighbouring semitones (basic-pitch's rule) or not
    best = _best_thresholds(references, posteriorgrams,
                            [best[0], *filter(allowed, [{**best[0], "claim_neighbours": False}])], weights)
    # and whether the onset thresholds should follow each audio's onset level
    levels = [level for p in posteriorgrams if (level := onset_level(p.onsets)) is not None]
    if levels:
        reference = round(float(np.median(levels)), 4)
        onset = best[0]["onset_threshold"]
        best = _best_thresholds(references, posteriorgrams, [best[0], *filter(allowed, (
            {**best[0], "onset_threshold": round(onset + step, 4), "onset_reference": reference}
            for step in LEVEL_STEPS if 0 < onset + step <= 1))], weights)
    # and whether notes a strong onset confirms may sound on weaker frames
    best = _best_thresholds(references, posteriorgrams, [best[0], *filter(allowed, (
        {**best[0], "weak_frame_ratio": weak, "strong_onset_ratio": strong}
        for weak, strong in itertools.product(weak_frame_grid, strong_onset_grid) if weak is not None))], weights)
    log.info("tuned thresholds %s: note F1 %.3f", best[0], best[1]["note_f1"])
    return best[0], {**{f"val_{k}": v for k, v in best[1].items()}, "val_grid_note_f1_unguarded": unguarded}


TEMPERATURE_GRID = (1.0, 0.5, 0.3, 0.2)


def tune_affinity_temperature(model, mixes, *, grid=TEMPERATURE_GRID, thresholds: dict | None = None,
                              device: str = "cpu", posteriorgrams=None, weights=None) -> tuple[float, dict]:
    """Choose the temperature of the clustering affinity ``exp(cos / t)`` that maximises the mean
    separation F1 (true number of parts) over validation ``mixes`` (weighted by ``weights``, one per mix:
    :func:`benchmark_weights`; default equal); 1.0 is the paper's ``exp(cos)``.

    Returns the temperature and ``{"val_separation_f1": …}`` at that temperature.
    """
    from mitkit.clustering import cluster_notes
    from mitkit.embeddings import note_embeddings
    from mitkit.evaluation.metrics import separation_metrics

    if posteriorgrams is None:
        posteriorgrams = mix_posteriorgrams(model, mixes, with_timbre=True, device=device)
    cases = []
    weights = np.ones(len(mixes)) if weights is None else np.asarray(weights, float)
    for mix, post, w in zip(mixes, posteriorgrams, weights):
        notes = create_notes(post.frames, post.onsets, **(thresholds or {}))
        if len(notes) > mix.n_parts:
            cases.append((mix, notes, notes_to_seconds(notes), note_embeddings(notes, post.frames, post.embeddings), w))
    scores = {}
    for t in grid:
        f1 = []
        for mix, notes, table, E, _ in cases:
            labels = cluster_notes(E, mix.n_parts, temperature=t, pitches=notes["pitch"],
                                   amplitudes=notes["amplitude"])
            f1.append(separation_metrics(mix.parts, [table[labels == k] for k in range(mix.n_parts)])["separation_f1"])
        scores[t] = float(np.average(f1, weights=[case[-1] for case in cases]))
    best = max(scores, key=scores.get)
    log.info("affinity temperature %s: separation F1 %s", best, scores)
    return best, {"val_separation_f1": scores[best]}


def recall_floor_of(checkpoint, mixes, *, device: str = "cpu") -> dict[str, float]:
    """What another checkpoint (a path, or None / ``"bundled"``: the bundled one), with its own thresholds, finds of
    each kind of note in ``mixes``, less one standard error (:func:`within_noise`): the floor for tuning a model that
    would replace it."""
    ckpt = load_checkpoint(checkpoint)
    model = model_from_checkpoint(ckpt, str(checkpoint or "bundled checkpoint"))
    return within_noise(found_by_kind_of(mixes, mix_posteriorgrams(model, mixes, device=device), thresholds_of(ckpt)))


def within_noise(found: dict[str, tuple[int, int]]) -> dict[str, float]:
    """``{kind: (found, total)}`` as recalls less one binomial standard error, ``r - sqrt(r (1 - r) / total)``.

    Another model's recall is measured on a finite set of notes: with 122 short notes, two notes are 1.6 points,
    and a floor held to the last note made a model that finds more of every other kind give up a tenth of its
    precision to find them (model card, "Thirty-six hours of stems"). A drop within one standard error is noise.

    >>> within_noise({"short": (102, 122), "other": (2262, 2500)})
    {'short': 0.8025, 'other': 0.8989}
    """
    return {kind: round(f / n - float(np.sqrt(f / n * (1 - f / n) / n)), 4) for kind, (f, n) in found.items()}


WEIGHINGS = ("benchmarks", "mixes")


def tune_checkpoint(path, validation_benchmark, *, device: str = "cpu", limit: int | None = None,
                    keep_recall_on=(), recall_floor_from=None, weigh: str = "benchmarks") -> dict:
    """Tune note thresholds and the clustering affinity's temperature for the checkpoint at ``path`` on a
    validation benchmark folder (or a list of folders) and write them (with the validation metrics) into that
    checkpoint. Returns the thresholds.

    ``weigh``: ``"benchmarks"`` gives each folder the same say (:func:`benchmark_weights`), ``"mixes"`` each mix
    (the folders pooled, as before the twenty-ninth session). ``limit``: at most this many mixes of each folder.

    ``keep_recall_on``: validation benchmark folders (among those or besides them, e.g. notes played at their
    written length) on which the tuned thresholds may lower the recall of no kind of note below the checkpoint's
    present thresholds' (``tune_thresholds(keep_recall=..., baseline=...)``; where it has none, the grid's best
    is the floor of the refinements after it); folders only named here are not scored, only guarded.
    ``recall_floor_from``: a checkpoint path or ``"bundled"``; the floor is then what it finds there with its
    thresholds (:func:`recall_floor_of`), e.g. when a new model is to replace the bundled one."""
    if recall_floor_from is not None and not keep_recall_on:
        raise MitkitError("recall_floor_from needs keep_recall_on: the benchmarks where the floor holds")
    if weigh not in WEIGHINGS:
        raise MitkitError(f"weigh={weigh!r} must be one of {', '.join(WEIGHINGS)}")
    ckpt = load_checkpoint(path)
    folders = validation_benchmark if isinstance(validation_benchmark, (list, tuple)) else [validation_benchmark]
    benchmarks = [load_benchmark(folder)[:limit] for folder in folders]
    mixes = [mix for benchmark in benchmarks for mix in benchmark]
    weights = benchmark_weights([len(b) for b in benchmarks]) if weigh == "benchmarks" else None
    guard = [mix for folder in keep_recall_on for mix in load_benchmark(folder)]
    tuned = {Path(mix.audio).resolve() for mix in mixes}
    everything = mixes + [mix for mix in guard if Path(mix.audio).resolve() not in tuned]
    model = model_from_checkpoint(ckpt, str(path))
    # one network pass over every mix; the guarded mixes that are tuned on too reuse theirs
    posteriorgrams = mix_posteriorgrams(model, everything, with_timbre=True, device=device)
    by_audio = {Path(mix.audio).resolve(): post for mix, post in zip(everything, posteriorgrams)}
    keep_recall = [(mix, by_audio[Path(mix.audio).resolve()]) for mix in guard]
    posteriorgrams = posteriorgrams[:len(mixes)]
    floor = None if recall_floor_from is None else recall_floor_of(recall_floor_from, guard, device=device)
    if floor is not None:
        log.info("recall floor of %s: %s", recall_floor_from, floor)
    thresholds, metrics = tune_thresholds(model, mixes, posteriorgrams=posteriorgrams, keep_recall=keep_recall,
                                          baseline=ckpt.get("thresholds") or None, recall_floor=floor,
                                          weights=weights)
    temperature, separation = tune_affinity_temperature(model, mixes, thresholds=thresholds,
                                                        posteriorgrams=posteriorgrams, weights=weights)
    ckpt["thresholds"] = thresholds
    ckpt["affinity_temperature"] = temperature
    ckpt["metrics"] = {**ckpt.get("metrics", {}), **metrics, **separation}
    save_checkpoint(path, {k: v for k, v in ckpt.items() if k not in ("format", "format_version")}, overwrite=True)
    return thresholds
