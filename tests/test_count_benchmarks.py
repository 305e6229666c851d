"""mitkit count-bench: mixes with a known number of instruments, chord-playing ones included."""
import json

import numpy as np
import pytest

from mitkit.cli import main
from mitkit.errors import MitkitError
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.synth import count_benchmarks as cb
from mitkit.synth import scores
from mitkit.synth.instruments import BY_NAME


def test_merge_voices_plays_a_shared_pitch_once():
    upper = np.array([[0.0, 1.0, 60, 90], [1.0, 2.0, 62, 90]])
    lower = np.array([[0.5, 1.5, 60, 80], [1.0, 2.0, 55, 80]])  # 60 overlaps the upper voice's 60
    merged = scores.merge_voices([upper, lower])
    assert merged[:, 0].tolist() == [0.0, 1.0, 1.0] and sorted(merged[:, 2].tolist()) == [55, 60, 62]
    assert merged[merged[:, 2] == 60, 1].tolist() == [1.5]  # from the earlier onset to the later offset


@pytest.mark.parametrize("texture", list(cb.TEXTURES))
def test_textures_hold_what_they_say(texture):
    rng = np.random.default_rng(0)
    voices = [np.array([[0.0, 1.0, p, 90], [1.0, 2.0, p + 2, 90]], float) for p in (72, 64, 57, 48)]
    parts = cb.texture_parts(texture, voices, rng)
    n_melody, chords = cb.TEXTURES[texture]
    assert parts is not None and len(parts) == n_melody + chords
    kinds = [ins.polyphonic for ins, _ in parts]
    assert kinds.count(True) == chords
    if texture == "quartet":
        assert [ins.name for ins, _ in parts] == ["violin", "violin", "viola", "cello"]
    elif not chords:
        assert len({ins.cls for ins, _ in parts}) == len(parts)  # distinct classes
    notes = np.concatenate([n for _, n in parts])
    voices_used = 4 if chords or texture == "quartet" else n_melody
    assert len(notes) == 2 * voices_used and all(ins.fits(int(n[:, 2].min()), int(n[:, 2].max())) for ins, n in parts)


def test_cli_renders_a_benchmark_that_evaluate_reads(tmp_path):
    out = tmp_path / "count"
    assert main(["count-bench", "--out", str(out), "--n-pieces", "1", "--lengths", "8",
                 "--textures", "mono2", "poly", "--split", "validation", "--quiet"]) == 0
    index = json.loads((out / "index.json").read_text())
    assert [m["instrumentation"] for m in index["mixes"]] == ["mono2", "poly"]
    mixes = load_benchmark(out)
    assert [m.n_parts for m in mixes] == [2, 1]
    assert BY_NAME[mixes[1].part_names[0]].polyphonic and not any(BY_NAME[n].polyphonic for n in mixes[0].part_names)
    assert max(float(p[:, 1].max()) for p in mixes[0].parts) <= 8.0


def test_bad_arguments():
    with pytest.raises(MitkitError, match="textures=\\['trio'\\] must be among"):
        cb.build_count_benchmark("/nonexistent", textures=("trio",))
    with pytest.raises(MitkitError, match="split='dev' must be one of"):
        cb.build_count_benchmark("/nonexistent", split="dev")
