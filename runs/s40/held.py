"""Scratch (issue 13, session 40): lines of short notes. A marimba, harp or harpsichord playing a line sounds
each note briefly, so its line is rarely "sounding" and the count of notes at once misses it (the oracle's
failures, runs/s40/oracle_failures.log: 1-3 melody instruments + marimba counted one short). Here each note
is held at least the mix's typical gap between successive onsets before notes are counted at once
(held_at_once_p, held_voices), the evidence of the learned count extended, and the count refitted
(runs/s39/count_with_sound.py's patching; HOLD_SCALE scales the gap)."""
import os
import sys

import numpy as np

sys.path.insert(0, "runs/s39")
import count_with_sound as cws  # noqa: E402

import mitkit.count_evidence as ce  # noqa: E402
import mitkit.count_model as cm  # noqa: E402
import mitkit.instrument_count as ic  # noqa: E402

HOLD_SCALE = float(os.environ.get("HOLD_SCALE", "1.0"))
HELD = (*(f"held_at_once_{p}" for p in range(2, 6)), "held_voices")


def held_notes(notes):
    """``notes`` each held at least the median gap between successive distinct onsets (times HOLD_SCALE)."""
    onsets = np.unique(notes["start"])
    gaps = np.diff(onsets)
    hold = int(round(HOLD_SCALE * np.median(gaps))) if gaps.size else 0
    held = notes.copy()
    held["end"] = np.maximum(held["end"], held["start"] + hold)
    return held


def held_evidence(notes):
    held = held_notes(notes)
    sounding = ce.sounding_counts(held)
    shares = ce.shares_at_least(sounding, np.sum(sounding > 0), 5)
    return {**{f"held_at_once_{p}": shares[p - 1] for p in range(2, 6)},
            "held_voices": ce.at_once_for(shares, ic.VOICE_FRACTION)}


def grouping_overlaps(notes, E, core, **kw):
    return {**ORIGINAL(notes, E, core, **kw), **held_evidence(notes)}


ORIGINAL = ic.grouping_overlaps

if __name__ == "__main__":
    cm.COUNT_FEATURES = cws.fp.COUNT_FEATURES = (*cm.COUNT_FEATURES, *HELD)
    ic.grouping_overlaps = grouping_overlaps
    cws.main()
