"""The check_… helpers beside the notebooks' exercises: the solution passes, a wrong answer fails case by
case, an unanswered one (still raising NotImplementedError) is reported as such."""
import numpy as np
import pytest

from solutions import (
    checks,
    cqt_and_energynorm,
    embeddings_and_clustering,
    speed_benchmarks,
    training,
    transcribe_your_own_audio,
)

HELPERS = [
    (cqt_and_energynorm.check_harmonic_shift_errors, cqt_and_energynorm.harmonic_shift_errors,
     lambda harmonics, bins_per_octave: {"shift": np.zeros(len(harmonics), int), "error_cents": np.zeros(len(harmonics))}),
    (training.check_focal_optimum, training.focal_optimum, lambda prior, alpha, gamma=1.0: prior),
    (embeddings_and_clustering.check_part_track_confusion, embeddings_and_clustering.part_track_confusion,
     lambda parts, tracks: embeddings_and_clustering.part_track_confusion(parts, tracks)[:-1]),  # no unmatched row
    (speed_benchmarks.check_fit_time_model, speed_benchmarks.fit_time_model,
     lambda rows, system: {"fixed_s": 0.0, "per_second": float(np.mean([r["time"] / r["seconds"] for r in rows
                                                                          if r["system"] == system]))}),
    (transcribe_your_own_audio.check_track_summary, transcribe_your_own_audio.track_summary,
     lambda t: [{**row, "sounding_s": row["sounding_s"] + 0.5}
                for row in transcribe_your_own_audio.track_summary(t)]),  # off by half a second
]


@pytest.mark.parametrize("check, solution, wrong", HELPERS, ids=lambda x: getattr(x, "__name__", ""))
def test_check_helpers_tell_right_from_wrong(check, solution, wrong, capsys):
    assert check(solution) is True
    assert "cases right" in capsys.readouterr().out
    assert check(wrong) is False
    out = capsys.readouterr().out
    assert "✗" in out and "expected" in out

    def unanswered(*args, **kwargs):
        raise NotImplementedError
    assert check(unanswered) is False
    assert "not answered yet" in capsys.readouterr().out


def test_check_answer_reports_each_case_and_errors(capsys):
    def broken(x):
        if x == 2:
            raise ValueError("no twos")
        return x * x
    assert not checks.check_answer(broken, lambda x: x * x, [(1,), (2,), (3,)], labels=["one", "two", "three"])
    out = capsys.readouterr().out.splitlines()
    assert out == ["✓ one -> 1", "✗ two: raised ValueError: no twos", "✓ three -> 9", "2 of 3 cases right"]
    assert checks._close({"a": [1.0, 2.0], "f": print}, {"a": np.array([1.0, 2.0005]), "f": print}, 1e-3)
    assert not checks._close({"a": 1}, {"a": 1, "b": 2}, 1e-3)  # a missing key is wrong
    assert not checks._close([1, 2], [1, 2, 3], 1e-3) and checks._close(None, None, 0)
