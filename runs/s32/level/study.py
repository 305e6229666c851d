"""Scratch study: onset thresholds that follow the audio's onset level more steeply (factor ** gamma), bundled
model, create_notes on the posteriorgrams (as `mitkit tune` scores). Prints per benchmark: mean note F1, mean note
precision, pooled recall of repeated / short / other, and the spread of the level factor."""
import sys, warnings
import numpy as np
import mitkit.note_creation as nc
import mitkit.onset_level as ol
from mitkit.checkpoint import load_checkpoint, model_from_checkpoint
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.evaluation.metrics import note_f1, recall_by_kind, transcription_metrics
from mitkit.notes import merge_tracks, notes_to_seconds
from mitkit.training.tuning import mix_posteriorgrams

warnings.simplefilter("ignore")
BENCHES = sys.argv[1].split(",")
GAMMAS = [float(g) for g in sys.argv[2].split(",")]
ONSETS = [float(o) for o in sys.argv[3].split(",")] if len(sys.argv) > 3 else [None]
ckpt = load_checkpoint()
model = model_from_checkpoint(ckpt)
th = dict(ckpt["thresholds"])
data = {}
for b in BENCHES:
    mixes = load_benchmark(f"data/{b}")
    data[b] = (mixes, mix_posteriorgrams(model, mixes))
    levels = [ol.onset_level(p.onsets) for p in data[b][1]]
    f = [l / th["onset_reference"] for l in levels if l is not None]
    print(f"{b}: {len(mixes)} mixes, level factor median {np.median(f):.3f} range {min(f):.3f}-{max(f):.3f}", flush=True)

real = ol.scale_to_onset_level


def steeper(gamma):
    def scale(settings, Y_O):
        settings = dict(settings)
        reference = settings.pop("onset_reference", None)
        level = None if reference is None else ol.onset_level(Y_O)
        if level is None:
            return settings
        factor = float(np.clip((level / reference) ** gamma, *ol.ONSET_SCALE_RANGE))
        for name in ("onset_threshold", "reonset_threshold"):
            if settings.get(name) is not None:
                settings[name] = round(min(settings[name] * factor, 1.0), 4)
        return settings
    return scale


for onset in ONSETS:
    for gamma in GAMMAS:
        nc.scale_to_onset_level = steeper(gamma)
        t = dict(th) if onset is None else {**th, "onset_threshold": onset}
        row = []
        for b, (mixes, posts) in data.items():
            f1, prec, kinds = [], [], {}
            for mix, p in zip(mixes, posts):
                est = notes_to_seconds(nc.create_notes(p.frames, p.onsets, **t))
                m = transcription_metrics(merge_tracks(mix.parts), est)
                f1.append(m["note_f1"]); prec.append(m["note_precision"])
                for k, (a, n) in recall_by_kind(mix.parts, est).items():
                    kinds.setdefault(k, [0, 0]); kinds[k][0] += a; kinds[k][1] += n
            rk = "/".join(f"{kinds[k][0] / kinds[k][1]:.3f}" if kinds.get(k, [0, 0])[1] else "-" for k in ("repeated", "short", "other"))
            row.append(f"{b[:22]:22s} F1 {np.mean(f1):.3f} P {np.mean(prec):.3f} rk {rk}")
        print(f"== onset {t['onset_threshold']} gamma {gamma}\n  " + "\n  ".join(row), flush=True)
nc.scale_to_onset_level = real
