"""Onset level: how strongly the network marks onsets in a piece of audio, and onset thresholds that follow it.

The network's onset peaks are lower throughout for some sounds than for others (bowed strings: the 90th
percentile of onset posteriors of at least 0.3 is 0.65 on the validation string quartets against 0.78 on the
validation chorales, bundled model), so one fixed onset threshold loses their notes. A checkpoint tuned with an
``onset_reference`` (``mitkit tune``: the median level of its validation audio) scales its onset thresholds by
each audio's level over that reference (:func:`scale_to_onset_level`, called by
:func:`mitkit.note_creation.create_notes`).

Notebook: 02_training
"""
from __future__ import annotations

import numpy as np

#: A file's onset level (:func:`onset_level`): this quantile of its onset posterior's values of at least
#: ONSET_LEVEL_FLOOR, when at least ONSET_LEVEL_MIN_VALUES reach the floor (else the file has no level).
ONSET_LEVEL_QUANTILE = 0.9
ONSET_LEVEL_FLOOR = 0.3
ONSET_LEVEL_MIN_VALUES = 20

#: An onset threshold scaled to a file's onset level moves by at most these factors.
ONSET_SCALE_RANGE = (0.5, 1.5)


def onset_level(Y_O) -> float | None:
    """How strongly the network marks onsets in this audio: the 90th percentile of the onset posterior's
    values of at least 0.3 (None when fewer than 20 reach 0.3: too little to measure).

    >>> Y_O = np.zeros((84, 100)); Y_O[:, ::10] = 0.65
    >>> onset_level(Y_O), onset_level(np.zeros((84, 100)))
    (0.65, None)

    Notebook: 05_transcribe_your_own_audio
    """
    Y_O = np.asarray(Y_O)
    values = Y_O[Y_O >= ONSET_LEVEL_FLOOR]
    if values.size < ONSET_LEVEL_MIN_VALUES:
        return None
    return float(np.quantile(values, ONSET_LEVEL_QUANTILE))


def scale_to_onset_level(settings: dict, Y_O) -> dict:
    """``settings`` (:func:`mitkit.note_creation.create_notes`' keyword arguments) for this audio: with an
    ``onset_reference`` (the onset level of the validation audio the thresholds were tuned on), the onset and
    re-onset thresholds are multiplied by this audio's :func:`onset_level` over that reference (by 0.5 … 1.5
    at most, and to 1 at most), and the reference is removed, so the result applies as it stands. Without one,
    or when the audio has no level, the thresholds stay as they are.

    >>> Y_O = np.zeros((84, 100)); Y_O[:, ::10] = 0.65           # weak onsets: level 0.65
    >>> scale_to_onset_level({"onset_threshold": 0.6, "onset_reference": 0.78}, Y_O)
    {'onset_threshold': 0.5}
    """
    settings = dict(settings)
    reference = settings.pop("onset_reference", None)
    level = None if reference is None else onset_level(Y_O)
    if level is None:
        return settings
    factor = float(np.clip(level / reference, *ONSET_SCALE_RANGE))
    for name in ("onset_threshold", "reonset_threshold"):
        if settings.get(name) is not None:
            settings[name] = round(min(settings[name] * factor, 1.0), 4)
    return settings
