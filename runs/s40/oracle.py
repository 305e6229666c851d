"""Scratch (issue 13, session 40): the count's ceiling if every note's chord-playing reading were right.
Each found note matching one reference part takes that part's flag (probability 0.98 / 0.02; chorale voices:
lines); unmatched notes keep the classifier's probability. Train evidence and validation read the same way,
the count refitted as scripts/fit_polyphony.py does."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, "scripts")
import fit_polyphony as fp  # noqa: E402

import mitkit.instrument_count as ic  # noqa: E402
from mitkit.notes import notes_to_seconds  # noqa: E402
from mitkit.synth.instruments import BY_NAME  # noqa: E402

ORACLE = []
ORIGINAL = ic.polyphonic_probability


def truth(mix, notes):
    flags = [BY_NAME[n].polyphonic if n in BY_NAME else False for n in mix.part_names]
    out = np.full(len(notes), np.nan)
    for i, row in enumerate(notes_to_seconds(notes)):
        onset, pitch = row[0], row[2]
        hits = {flags[k] for k, part in enumerate(mix.parts)
                if np.any((part[:, 2] == pitch) & (part[:, 0] - fp.ONSET_SLACK_S <= onset) & (onset < part[:, 1]))}
        if len(hits) == 1:
            out[i] = 0.98 if hits.pop() else 0.02
    return out


def oracle_probability(E, classifier):
    p = ORIGINAL(E, classifier)
    E = np.asarray(E, np.float64)
    for E0, t in ORACLE:
        if E0.shape == E.shape and np.allclose(E0, E, atol=1e-6):
            return np.where(np.isnan(t), p, t)
    raise KeyError


def data_of(f):
    data = fp.transcribe_all(fp.load_benchmark(f), None, Path("runs/s39/count-cache") / f"{Path(f).name}.npz")
    for mix, notes, E in data:
        ORACLE.append((np.asarray(E, np.float64), truth(mix, notes)))
    return data


def main():
    ic.polyphonic_probability = oracle_probability
    on = ["data/count-train", "data/count-train2", "data/count-train3", "data/chorale-train-a",
          "data/chorale-train-b", "data/chorale-train-c"]
    check = ["data/count-val", "data/chorale-val", "data/count-val-OPL3_FM", "data/count-val-csound_GM"]
    train = [d for f in on for d in data_of(f) if len(d[1])]
    evidence = fp.cross_fitted_evidence(train, 5)
    classifier = fp.as_dict(fp.fit_classifier(*fp.labelled_notes(train)))
    checks = {f: data_of(f) for f in check}
    for C in (0.01, 0.03, 0.1):
        classifier["count"] = fp.fit_count_model(train, evidence, C)
        print(f"C = {C}: {sum(fp.report_count(f, d, classifier) for f, d in checks.items())} of 279 right", flush=True)


if __name__ == "__main__":
    main()


def failures():
    """The mixes the oracle count still gets wrong (C = 0.1), with the evidence a reader checks first."""
    ic.polyphonic_probability = oracle_probability
    on = ["data/count-train", "data/count-train2", "data/count-train3", "data/chorale-train-a",
          "data/chorale-train-b", "data/chorale-train-c"]
    train = [d for f in on for d in data_of(f) if len(d[1])]
    classifier = fp.as_dict(fp.fit_classifier(*fp.labelled_notes(train)))
    classifier["count"] = fp.fit_count_model(train, fp.cross_fitted_evidence(train, 5), 0.1)
    for f in ["data/count-val", "data/chorale-val", "data/count-val-OPL3_FM", "data/count-val-csound_GM"]:
        for mix, notes, E in data_of(f):
            c = ic.count_instruments(notes, E, classifier)
            if c.k != len(mix.parts):
                print(f"{Path(f).name:20s} {mix.id:18s} K={len(mix.parts)} k={c.k} {'+'.join(mix.part_names):45s} "
                      f"chord={c.chord_probability:.2f} voices={c.voices} lines={c.lines} timbres={c.timbres} "
                      f"p={[(k, round(p, 2)) for k, p in c.probabilities[:2]]}")
