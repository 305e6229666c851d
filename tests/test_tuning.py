import shutil

from mitkit.checkpoint import bundled_checkpoint_path, load_checkpoint
from mitkit.cli import main


def test_tune_writes_thresholds_and_temperature(example_benchmark, tmp_path, capsys):
    """The bundled example as a one-mix 'validation' benchmark, given twice (folders are pooled):
    `mitkit tune` writes the tuned values into the checkpoint."""
    bench = example_benchmark
    ckpt = shutil.copy(bundled_checkpoint_path(), tmp_path / "model.pt")
    assert main(["tune", str(ckpt), "--on", str(bench), str(bench)]) == 0
    assert "tuned thresholds" in capsys.readouterr().out
    back = load_checkpoint(ckpt)
    thresholds = back["thresholds"]
    assert set(thresholds) == {"onset_threshold", "frame_threshold", "min_note_frames"}
    assert back["affinity_temperature"] in (1.0, 0.5, 0.3, 0.2)
    assert 0.5 < back["metrics"]["val_note_f1"] <= 1 and 0.3 < back["metrics"]["val_separation_f1"] <= 1


def test_tune_refuses_the_bundled_model(capsys):
    assert main(["tune", str(bundled_checkpoint_path()), "--on", "anywhere"]) == 2
    assert "must not be the bundled model" in capsys.readouterr().err
