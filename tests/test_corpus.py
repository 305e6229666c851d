"""Whole corpora: folders searched recursively, outputs mirroring the tree, shards, resume, worker processes."""
import json

import numpy as np
import pytest
import soundfile as sf

from mitkit import constants as C
from mitkit.cli import main
from mitkit.corpus import find_inputs, plan_outputs, shard
from mitkit.errors import MitkitError
from mitkit.synth.tones import harmonic_tone


@pytest.fixture
def corpus(tmp_path):
    """A small tree: two pieces at the top, two in a sub-folder, and files that are not audio."""
    root = tmp_path / "corpus"
    for rel, midi in (("a.wav", 60), ("b.flac", 64), ("sub/c.wav", 67), ("sub/deeper/d.ogg", 72)):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, harmonic_tone(midi, seconds=1.5), C.SAMPLE_RATE)
    (root / "notes.txt").write_text("not audio")
    (root / ".hidden").mkdir()
    sf.write(root / ".hidden" / "e.wav", harmonic_tone(60, seconds=1.0), C.SAMPLE_RATE)
    return root


def test_folders_are_searched_and_mirrored(corpus, tmp_path):
    inputs = find_inputs([corpus], recursive=True)
    assert [str(i.name) for i in inputs] == ["a", "b", "sub/c", "sub/deeper/d"]
    plans = plan_outputs(inputs, tmp_path / "out", report=False, overwrite=False)
    assert plans[3]["json"] == tmp_path / "out" / "sub" / "deeper" / "d.json"
    with pytest.raises(MitkitError, match="is a folder: pass --recursive"):
        find_inputs([corpus])
    with pytest.raises(MitkitError, match="holds no audio files"):
        find_inputs([corpus / ".hidden" / ".."][:0] + [tmp_path / "out"], recursive=True)


def test_shards_are_disjoint_and_complete():
    items = list(range(11))
    parts = [shard(items, i, 3) for i in range(3)]
    assert sorted(sum(parts, [])) == items and sum(len(p) for p in parts) == len(items)
    assert not set(parts[0]) & set(parts[1])
    with pytest.raises(MitkitError, match="shard=3/3"):
        shard(items, 3, 3)


def test_recursive_run_with_jobs_shards_and_resume(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    # two machines' shards, the second with two worker processes
    assert main(["transcribe", str(corpus), "-r", "--out", str(out), "--instruments", "1", "--shard", "0/2"]) == 0
    assert main(["transcribe", str(corpus), "-r", "--out", str(out), "--instruments", "1", "--shard", "1/2",
                 "--jobs", "2"]) == 0
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.json"))
    assert written == ["a.json", "b.json", "sub/c.json", "sub/deeper/d.json"]
    pitches = {name: {n["pitch"] for tr in json.loads((out / name).read_text())["tracks"] for n in tr["notes"]}
               for name in written}
    assert 60 in pitches["a.json"] and 72 in pitches["sub/deeper/d.json"]  # each output is its own input's
    capsys.readouterr()
    # resume: everything exists, nothing is recomputed; without --skip-existing nothing is replaced
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.json")}
    assert main(["transcribe", str(corpus), "-r", "--out", str(out), "--skip-existing"]) == 0
    assert "0 transcribed, 4 skipped" in capsys.readouterr().out
    assert main(["transcribe", str(corpus), "-r", "--out", str(out)]) == 2
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.json")} == before
    # an input whose outputs are gone is redone on resume, and only that one
    (out / "sub" / "c.json").unlink()
    (out / "sub" / "c.mid").unlink()
    assert main(["transcribe", str(corpus), "-r", "--out", str(out), "--skip-existing", "--instruments", "1"]) == 0
    assert "1 transcribed, 3 skipped" in capsys.readouterr().out
    assert (out / "sub" / "c.json").exists()
    assert np.all([before[p] == p.stat().st_mtime_ns for p in before if p.name != "c.json"])


def test_auto_backend_is_decided_once_for_the_corpus(corpus, monkeypatch):
    from mitkit import backends, model
    from mitkit import corpus as corpus_module
    monkeypatch.setattr(model, "native_bf16", lambda: True)
    monkeypatch.setattr(backends, "torch_imported", lambda: False)
    files = [item.audio for item in find_inputs([corpus], recursive=True)]  # 4 files of 1.5 s
    pick = corpus_module._one_backend
    assert pick({"backend": "auto"}, files, workers=1)["backend"] == "onnx"  # 6 s: start-up dominates
    monkeypatch.setattr(backends, "TORCH_BREAK_EVEN_S", 5.0)
    assert pick({"backend": "auto"}, files, workers=1)["backend"] == "torch"  # 6 s in one process
    assert pick({"backend": "auto"}, files, workers=2)["backend"] == "onnx"  # 3 s per worker process
    assert pick({"backend": "torch"}, files, workers=1)["backend"] == "torch"  # a choice is kept
    assert pick({"backend": "auto"}, [corpus / "notes.txt"], workers=1)["backend"] == "torch"  # length unknown


def test_the_log_line_names_an_onset_threshold_that_followed_the_audio(tmp_path):
    """The bundled model's onset threshold follows each audio's onset level: the line says which applied, and
    says nothing when the user's threshold applied as given."""
    import mitkit
    from mitkit.corpus import transcribe_one

    audio = tmp_path / "x.wav"
    sf.write(audio, mitkit.load_audio(mitkit.example_path())[:6 * C.SAMPLE_RATE], C.SAMPLE_RATE)
    plan = {"json": tmp_path / "x.json"}
    line, err = transcribe_one(audio, plan, {"instruments": 1}, overwrite=False)
    applied = json.loads(plan["json"].read_text())["applied_thresholds"]["onset_threshold"]
    assert err is None and f"notes at onset threshold {applied:g} (this audio's onset level) -> " in line
    line, err = transcribe_one(audio, plan, {"instruments": 1, "onset_threshold": 0.5}, overwrite=True)
    assert err is None and "onset threshold" not in line
