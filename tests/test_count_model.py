"""The learned count of instruments="auto" (mitkit.count_model, and its fitting in scripts/fit_polyphony.py)."""
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from test_instrument_count import CLASSIFIER, chords, line, scene

from mitkit.count_model import COUNT_FEATURES, check_count_model, count_probabilities, evidence_weights
from mitkit.errors import MitkitError
from mitkit.evaluation.benchmarks import BenchmarkMix
from mitkit.instrument_count import count_instruments
from mitkit.notes import NOTE_DTYPE, notes_to_seconds

N = len(COUNT_FEATURES)


def model_reading(feature, weight=3.0, classes=(1, 2, 3, 4), intercept=None):
    """A count model whose logits are ``weight`` x (K - 1) x the standardised ``feature`` (mean 0, scale 1):
    the larger that evidence, the larger the count."""
    coef = np.zeros((len(classes), N))
    coef[:, COUNT_FEATURES.index(feature)] = weight * (np.array(classes) - 1)
    return {"features": list(COUNT_FEATURES), "classes": list(classes), "mean": [0.0] * N, "scale": [1.0] * N,
            "coef": coef.tolist(), "intercept": list(intercept if intercept is not None else [0.0] * len(classes))}


def test_probabilities_are_a_softmax_of_the_standardised_evidence():
    model = model_reading("voices", weight=1.0, classes=(1, 2, 3))
    model["mean"][COUNT_FEATURES.index("voices")] = 1.0
    model["scale"][COUNT_FEATURES.index("voices")] = 2.0
    evidence = {**dict.fromkeys(COUNT_FEATURES, 0.0), "voices": 5.0}  # standardised: (5 - 1) / 2 = 2
    logits = np.array([0.0, 2.0, 4.0])
    expected = np.exp(logits) / np.exp(logits).sum()
    result = count_probabilities(evidence, model)
    assert [k for k, _ in result] == [3, 2, 1]
    assert [p for _, p in result] == pytest.approx(expected[::-1])


def test_malformed_or_foreign_models_give_clear_errors():
    good = model_reading("voices")
    check_count_model(good)
    with pytest.raises(MitkitError, match="reads other evidence"):
        check_count_model({**good, "features": list(COUNT_FEATURES[::-1])})
    with pytest.raises(MitkitError, match="inconsistent shapes"):
        check_count_model({**good, "intercept": [0.0, 0.0]})
    with pytest.raises(MitkitError, match="malformed"):
        check_count_model({k: v for k, v in good.items() if k != "coef"})
    with pytest.raises(MitkitError, match="malformed"):
        count_instruments(*scene((line(30, 60), False), (line(30, 48), False)), {**CLASSIFIER, "count": {"x": 1}})


def test_the_learned_count_decides_reports_and_serialises():
    notes, E = scene((line(30, 76), False), (line(30, 60, offset=3), False), (line(30, 48), False))
    rules = count_instruments(notes, E, CLASSIFIER)
    assert rules.k == 3 and rules.probabilities == [] and set(rules.evidence) == set(COUNT_FEATURES)
    assert rules.evidence["voices"] == 3 and rules.evidence["at_once_3"] == pytest.approx(rules.line_shares[2])
    # a model that counts one fewer than the voices: its count wins, and the rules' reading stays as evidence
    toward_two = model_reading("voices", weight=1.0, intercept=[0.0, 3.0, 0.0, -3.0])
    result = count_instruments(notes, E, {**CLASSIFIER, "count": toward_two})
    assert (result.k, result.reading, result.voices) == (result.probabilities[0][0], "lines", 3)
    assert result.runner_up == result.probabilities[1][0] != result.k
    assert sum(p for _, p in result.probabilities) == pytest.approx(1.0)
    assert result.reason.startswith(f"{result.k} instrument") and "learned count" in result.reason
    assert "one-note-at-a-time parts" in result.reason  # the rules' reading, reported beside it
    d = json.loads(json.dumps(result.to_dict()))
    assert d["probabilities"][0][0] == result.k and set(d["evidence"]) == set(COUNT_FEATURES)


def test_more_lines_than_the_model_has_seen_count_as_lines_and_the_cap_holds():
    notes, E = scene(*[(line(20, 40 + 6 * i), False) for i in range(6)])  # six one-note-at-a-time parts
    most = model_reading("voices")  # says 4, the largest count it knows
    result = count_instruments(notes, E, {**CLASSIFIER, "count": most})
    assert result.probabilities[0][0] == 4 and result.voices == 6 and result.k == 6
    assert count_instruments(notes, E, {**CLASSIFIER, "count": most}, max_instruments=3).k == 3
    # but a chord-playing reading never takes the voices' count
    piano, E = scene((chords(30, 48, size=4), True), (chords(30, 60, size=3, offset=5), True))
    result = count_instruments(piano, E, {**CLASSIFIER, "count": most})
    assert result.reading == "chords" and result.k == result.probabilities[0][0] <= 4


def load_fit_script():
    spec = importlib.util.spec_from_file_location("fit_polyphony", Path(__file__).parents[1] / "scripts" / "fit_polyphony.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic_mix(piece, parts, seed):
    """A fake count-benchmark mix whose 'found' notes are exactly its reference notes: (rows, chord_playing)
    parts named after a piano or a violin, embeddings from :func:`scene`."""
    notes, E = scene(*parts, seed=seed, chord_logit=2.0)
    refs = [notes_to_seconds(np.array(rows, NOTE_DTYPE)) for rows, _ in parts]
    names = ["acoustic_grand_piano" if chord_playing else "violin" for _, chord_playing in parts]
    kind = "poly" if any(c for _, c in parts) else f"mono{len(parts)}"
    mix = BenchmarkMix(id=f"{piece:02d}-10s-{kind}", audio=Path("none.wav"), parts=refs, part_names=names,
                       instrumentation=kind)
    return mix, notes, E


def textures(rng):
    """Mixes of known K: chords alone (1), lines (2-3), chords with lines (2-3)."""
    off = int(rng.integers(0, 4))
    return [[(chords(24, 48, size=3, offset=off), True)],
            [(line(40, 72, step=10, length=9), False), (line(40, 55, offset=off), False)],
            [(line(40, 76), False), (line(40, 64, offset=off), False), (line(40, 50), False)],
            [(line(50, 76, step=10, length=9), False), (chords(25, 48, size=3, offset=off), True)],
            [(line(50, 79, step=10, length=9), False), (line(40, 67, offset=off), False),
             (chords(25, 45, size=3), True)]]


def test_the_fitted_count_learns_counts_of_structured_synthetic_mixes():
    fit = load_fit_script()
    rng = np.random.default_rng(0)
    train = [synthetic_mix(piece, parts, seed=100 * piece + i)
             for piece in range(6) for i, parts in enumerate(textures(rng))]
    model = fit.fit_count_model(train, fit.cross_fitted_evidence(train, folds=3), C=1.0)
    assert check_count_model(model)["classes"] == [1, 2, 3] and model["mixes"] == len(train)
    classifier = fit.as_dict(fit.fit_classifier(*fit.labelled_notes(train)))
    classifier["count"] = model
    held_out = [synthetic_mix(50 + piece, parts, seed=7 + 10 * piece + i)
                for piece in range(3) for i, parts in enumerate(textures(rng))]
    right = [count_instruments(notes, E, classifier).k == len(mix.parts) for mix, notes, E in held_out]
    rules = {key: value for key, value in classifier.items() if key != "count"}
    rules_right = [count_instruments(notes, E, rules).k == len(mix.parts) for mix, notes, E in held_out]
    assert np.mean(right) >= 0.9 > np.mean(rules_right)  # the rules miscount chords beside lines here


def test_evidence_weights_say_what_argues_for_a_count():
    model = model_reading("voices", weight=1.0, classes=(1, 2, 3))
    evidence = {**dict.fromkeys(COUNT_FEATURES, 0.0), "voices": 2.0, "lines": 5.0}
    weights = evidence_weights(evidence, model, 3)
    assert weights[0] == ("voices", pytest.approx((2 - 1) * 2.0))  # coef 2 against the mean coef 1, times 2
    assert dict(weights)["lines"] == 0.0 and len(weights) == N
    assert evidence_weights(evidence, model, 1)[0] == ("voices", pytest.approx(-2.0))
    with pytest.raises(MitkitError, match="must be one of the counts the model knows"):
        evidence_weights(evidence, model, 5)


def test_only_mixes_that_name_their_instruments_train_the_classifier():
    fit = load_fit_script()
    mix, notes, E = synthetic_mix(0, [(line(40, 72), False), (chords(24, 48, size=3), True)], seed=1)
    X, y = fit.labelled_notes([(mix, notes, E)])
    assert len(y) == len(notes) and set(y.tolist()) == {0, 1}
    voices = BenchmarkMix(id=mix.id, audio=mix.audio, parts=mix.parts, part_names=["Soprano", "Bass"],
                          instrumentation="bach10")  # a chorale benchmark names voices
    assert not fit.names_instruments(voices) and len(fit.labelled_notes([(voices, notes, E)])[1]) == 0


def test_the_strength_that_counts_most_validation_mixes_right_is_kept():
    fit = load_fit_script()
    assert fit.best_strength({0.01: 90, 0.03: 95, 0.1: 95, 0.3: 80}) == 0.03  # a tie: the smaller C
    assert fit.best_strength({1.0: 3}) == 1.0


def test_the_transcription_cache_keeps_benchmarks_of_the_same_mixes_apart(tmp_path, monkeypatch):
    """Two benchmarks of the same music on other sound sources name their mixes alike: the cache that
    scripts/count_study.py and scripts/fit_polyphony.py share must not hand one benchmark's notes to the other."""
    import mitkit
    transcribe_all = load_fit_script().transcribe_all  # count_study's, which fit_polyphony.py imports

    def fake_transcribe(audio, **_):
        pitch = 60 if "fluid" in str(audio) else 67
        return SimpleNamespace(frame_notes=np.array([(0, 10, pitch, 0.5)], NOTE_DTYPE), embeddings=np.ones((1, 12)))

    monkeypatch.setattr(mitkit, "transcribe", fake_transcribe)
    mixes = [BenchmarkMix(id="00-10s-mono1", audio=tmp_path / name / "mixes" / "00-10s-mono1.flac", parts=[],
                          part_names=[], instrumentation="mono1") for name in ("fluid", "opl3")]
    cache = tmp_path / "cache.npz"
    for _ in range(2):  # filled, then read back
        pitches = [int(notes["pitch"][0]) for _, notes, _ in transcribe_all(mixes, None, cache)]
        assert pitches == [60, 67]
