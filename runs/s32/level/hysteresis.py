"""Scratch study: onset-confirmed notes under a lower frame threshold (hysteresis). After create_notes, every
onset peak (onset posterior, level-scaled threshold times s) not inside or within 2 frames of a note of its pitch
walks forward over frames where Y_F >= frame_threshold * h (frames of existing notes at that pitch excluded) and
is kept when at least min_note_frames long. Shipped model; scored as `mitkit tune` scores."""
import sys, warnings
import numpy as np
import mitkit.note_creation as nc
from mitkit.onset_level import scale_to_onset_level
from mitkit.checkpoint import load_checkpoint, model_from_checkpoint
from mitkit.constants import MIDI_MIN
from mitkit.evaluation.benchmarks import load_benchmark
from mitkit.evaluation.metrics import recall_by_kind, transcription_metrics
from mitkit.notes import NOTE_DTYPE, merge_tracks, notes_to_seconds

warnings.simplefilter("ignore")
BENCHES = sys.argv[1].split(",")
GRID = [tuple(float(x) for x in g.split(":")) for g in sys.argv[2].split(",")]  # h:s pairs
ckpt = load_checkpoint(); model = model_from_checkpoint(ckpt); th = dict(ckpt["thresholds"])
from mitkit.training.tuning import mix_posteriorgrams
data = {b: (m := load_benchmark(f"data/{b}"), mix_posteriorgrams(model, m)) for b in BENCHES}
print("posteriorgrams done", flush=True)


def with_hysteresis(Y_F, Y_O, h, s):
    notes = nc.create_notes(Y_F, Y_O, **th)
    if h >= 1:
        return notes
    st = scale_to_onset_level({k: v for k, v in th.items()}, Y_O)
    on_t, fr_t, mn = st["onset_threshold"] * s, th["frame_threshold"], th["min_note_frames"]
    low = Y_F >= fr_t * h
    covered = np.zeros_like(low)
    for n in notes:
        p = n["pitch"] - MIDI_MIN
        covered[p, max(n["start"] - 2, 0):n["end"]] = True
    low &= ~covered
    rows, frames = nc._onset_peaks(Y_O, on_t)
    extra = []
    for p, t0 in sorted(zip(rows.tolist(), frames.tolist()), key=lambda x: -x[1]):
        if covered[p, t0] or not low[p, t0]:
            continue
        end = nc._walk(low[p], t0, 1)  # no gaps bridged: a short note ends where its frames fall
        if end - t0 >= mn:
            low[p, t0:end] = False
            extra.append((t0, end, p + MIDI_MIN, float(Y_F[p, t0:end].mean())))
    if not extra:
        return notes
    add = np.zeros(len(extra), dtype=NOTE_DTYPE)
    for i, (a, b, p, amp) in enumerate(extra):
        add[i] = (a, b, p, amp) if len(NOTE_DTYPE.names) == 4 else add[i]
        add[i]["start"], add[i]["end"], add[i]["pitch"], add[i]["amplitude"] = a, b, p, amp
    out = np.concatenate([notes, add])
    return out[np.lexsort((out["pitch"], out["start"]))]


for h, s in GRID:
    row = []
    for b, (mixes, posts) in data.items():
        f1, prec, kinds = [], [], {}
        for mix, p in zip(mixes, posts):
            est = notes_to_seconds(with_hysteresis(p.frames, p.onsets, h, s))
            m = transcription_metrics(merge_tracks(mix.parts), est)
            f1.append(m["note_f1"]); prec.append(m["note_precision"])
            for k, (a, n) in recall_by_kind(mix.parts, est).items():
                kinds.setdefault(k, [0, 0]); kinds[k][0] += a; kinds[k][1] += n
        rk = "/".join(f"{kinds[k][0] / kinds[k][1]:.3f}" if kinds.get(k, [0, 0])[1] else "-" for k in ("repeated", "short", "other"))
        row.append(f"{b[:22]:22s} F1 {np.mean(f1):.3f} P {np.mean(prec):.3f} rk {rk}")
    print(f"== h {h} s {s}\n  " + "\n  ".join(row), flush=True)
