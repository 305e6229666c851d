"""``mitkit demo``: the main job on the bundled example, with its ground truth beside the result."""
from __future__ import annotations

from pathlib import Path

from mitkit.assets import example_path, example_truth
from mitkit.evaluation.metrics import separation_metrics, transcription_metrics
from mitkit.export import write_report
from mitkit.notes import merge_tracks
from mitkit.transcription import transcribe

_HOW_COUNTED = {"voices": "counted as simultaneous voices"}


def run_demo(out: Path = Path("mitkit-demo"), *, instruments="auto", overwrite: bool = False):
    """Transcribe the bundled example, print what was found and how it scores, write MIDI/JSON/HTML."""
    truth = example_truth()
    t = transcribe(example_path(), instruments=instruments)
    paths = [t.to_midi(out / "example.mid", overwrite=overwrite), t.to_json(out / "example.json", overwrite=overwrite),
             write_report(t, out / "example.html", overwrite=overwrite)]
    parts = [p["notes"] for p in truth["parts"]]
    agnostic = transcription_metrics(merge_tracks(parts), merge_tracks([tr.to_array() for tr in t.tracks]))
    separation = separation_metrics(parts, [tr.to_array() for tr in t.tracks])
    print(f"example: {truth['description']} ({t.duration:.1f} s)")
    how = t.count.reason if t.count is not None else _HOW_COUNTED.get(instruments, "given")
    print(f"instruments: {t.instruments} found ({how}), {len(parts)} in the score")
    for tr in t.tracks:
        pitches = [n.pitch for n in tr.notes]
        span = f"MIDI {min(pitches)}-{max(pitches)}" if pitches else "empty"
        print(f"  track {tr.id + 1}: {len(tr.notes):4d} notes, {span}")
    print(f"frame F1 {agnostic['frame_f1']:.3f} | note F1 (onsets) {agnostic['note_f1']:.3f} | "
          f"separation F1 {separation['separation_f1']:.3f}")
    print("wrote " + ", ".join(str(p) for p in paths) + "  (open the .html in a browser)")
    return t
