"""Solutions to the exercises of notebook 04_speed_benchmarks, and the small helpers its studies call.

Read next to the notebook; nothing here is needed to transcribe audio.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from mitkit import constants as C
from mitkit.errors import MitkitError


def fit_time_model(rows, system: str = "mitkit-full") -> dict:
    """Least-squares fit of ``time = fixed + per_second · duration`` to one system's benchmark rows.

    Parameters
    ----------
    rows : ``run_bench(...)["rows"]`` (dicts with ``system``, ``seconds``, ``time``).
    system : which system's rows to fit.

    Returns
    -------
    dict with ``fixed_s`` (seconds per call), ``per_second`` (seconds per second of audio, the
    asymptotic real-time factor) and ``predict`` (a function of the duration in seconds).

    Examples
    --------
    >>> fit = fit_time_model([{"system": "s", "seconds": 10, "time": 1.5},
    ...                       {"system": "s", "seconds": 60, "time": 4.0}], "s")
    >>> round(fit["fixed_s"], 3), round(fit["per_second"], 3), round(fit["predict"](600), 1)
    (1.0, 0.05, 31.0)

    Notebook: 04_speed_benchmarks
    """
    mine = [r for r in rows if r["system"] == system]
    if len({r["seconds"] for r in mine}) < 2:
        raise MitkitError(f"system={system!r} must have rows at two or more lengths to fit a line "
                          f"(found {len(mine)} rows)")
    x = np.array([r["seconds"] for r in mine], dtype=float)
    y = np.array([r["time"] for r in mine], dtype=float)
    per_second, fixed = np.polyfit(x, y, 1)
    return {"fixed_s": float(fixed), "per_second": float(per_second),
            "predict": lambda seconds: float(fixed + per_second * seconds)}


def thread_scaling(audio, model, threads=(1, 2), *, instruments: int = 4, thresholds: dict | None = None,
                   repeats: int = 1) -> dict:
    """Stage timings (:func:`mitkit.evaluation.stage_timings.stage_timings`) with each number of torch threads.

    Each thread count gets one untimed warm-up call, then ``repeats`` timed calls (the one with the
    smallest total is kept). torch's thread count is restored afterwards.

    Returns
    -------
    dict of thread count → stage-timing dict (seconds per stage, ``total``, ...).

    Notebook: 04_speed_benchmarks
    """
    from mitkit.evaluation.stage_timings import stage_timings
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise MitkitError(f"repeats={repeats!r} must be an integer >= 1")
    before = torch.get_num_threads()
    out = {}
    try:
        for n in threads:
            torch.set_num_threads(int(n))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "fewer notes than instruments" on the short clip
                stage_timings(audio[:C.SAMPLE_RATE], model, instruments=instruments, thresholds=thresholds)
            runs = [stage_timings(audio, model, instruments=instruments, thresholds=thresholds)
                    for _ in range(repeats)]
            out[int(n)] = min(runs, key=lambda r: r["total"])
    finally:
        torch.set_num_threads(before)
    return out


def check_fit_time_model(yours) -> bool:
    """Exercise 1: your ``fit_time_model(rows, system)`` (a dict with ``fixed_s`` and ``per_second``) against
    the solution on made-up rows."""
    from solutions.checks import check_answer
    rows = [{"system": "a", "seconds": s, "time": 0.4 + 0.02 * s + e} for s, e in ((10, 0.01), (60, -0.02), (600, 0.1))]
    rows += [{"system": "b", "seconds": s, "time": 1.0 + 0.05 * s} for s in (5, 15)]
    return check_answer(yours, fit_time_model, [(rows, "a"), (rows, "b")], atol=1e-6,
                        labels=["system a (3 lengths)", "system b (2 lengths)"])
