"""Check a student's answer to an exercise against its solution, and say what is right or wrong.

Each solutions module has a ``check_…`` helper per checkable exercise; it calls :func:`check_answer` with
the solution and a few cases. Write your function in the notebook's "Your answers" cell and pass it in.
"""
from __future__ import annotations

import numbers

import numpy as np


def _close(yours, expected, atol: float) -> bool:
    if isinstance(expected, dict):
        return isinstance(yours, dict) and set(yours) >= set(expected) and all(
            _close(yours[k], v, atol) for k, v in expected.items() if not callable(v))
    if isinstance(expected, (list, tuple)) and expected and not isinstance(expected[0], numbers.Number):
        return isinstance(yours, (list, tuple)) and len(yours) == len(expected) and all(
            _close(a, b, atol) for a, b in zip(yours, expected))
    if isinstance(expected, str) or expected is None:
        return yours == expected
    try:
        a, b = np.asarray(yours, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, atol=atol, rtol=0, equal_nan=True))


def _show(value) -> str:
    if isinstance(value, np.ndarray):
        return np.array2string(np.round(value, 3), threshold=12) if value.dtype.kind == "f" else str(value.tolist())
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items() if not callable(v)) + "}"
    return repr(value)


def check_answer(yours, solution, cases, *, atol: float = 1e-3, name: str | None = None, labels=None) -> bool:
    """Call ``yours`` and ``solution`` on every case (a tuple of positional arguments, or a dict of keyword
    arguments) and print, per case, ✓ or ✗ with what was expected; True when every case is right.

    ``labels`` name the cases in the report (default: the arguments). A function that still raises
    ``NotImplementedError`` is reported as not answered yet.

    >>> check_answer(lambda x: 2 * x, lambda x: x + x, [(1,), (2.5,)])
    ✓ (1,) -> 2
    ✓ (2.5,) -> 5
    all 2 cases right
    True
    """
    name = name or getattr(yours, "__name__", "your function")
    right = 0
    for case, label in zip(cases, labels or [None] * len(cases)):
        args, kwargs = ((), case) if isinstance(case, dict) else (tuple(case), {})
        shown = label or (kwargs if kwargs else args)
        try:
            got = yours(*args, **kwargs)
        except NotImplementedError:
            print(f"{name} is not answered yet: replace `raise NotImplementedError` with your code and run the cell")
            return False
        except Exception as err:  # a student's bug: say which case and what it raised
            print(f"✗ {shown}: raised {type(err).__name__}: {err}")
            continue
        expected = solution(*args, **kwargs)
        if isinstance(expected, dict) and isinstance(got, dict):  # report the keys that are checked
            got = {k: got[k] for k in expected if k in got}
        if _close(got, expected, atol):
            right += 1
            print(f"✓ {shown} -> {_show(got)}")
        else:
            print(f"✗ {shown} -> {_show(got)}, expected {_show(expected)}")
    print(f"all {right} cases right" if right == len(cases) else f"{right} of {len(cases)} cases right")
    return right == len(cases)
