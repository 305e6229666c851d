"""scripts/bench_train.py: which configurations it measures on CPUs with and without native bf16."""
import argparse
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_train.py"


@pytest.fixture(scope="module")
def bench_train():
    spec = importlib.util.spec_from_file_location("bench_train", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _args(**kw):
    return argparse.Namespace(**{"levers": False, "timbre_window": True, "joint_only": True, "all_precisions": False,
                                 **kw})


def test_without_native_bf16_the_bf16_rows_are_measured_in_fp32_once_each(bench_train):
    rows = bench_train.rows_for(_args(), native_bf16=False)
    assert rows == [("joint", "fp32", "plain", False), ("joint", "fp32", "compiled", False),
                    ("joint", "fp32", "plain", True), ("joint", "fp32", "compiled", True),
                    ("joint", "fp32", "compiled, timbre 1/2", True), ("joint", "fp32", "compiled, timbre 1/3", True)]


def test_with_native_bf16_or_when_asked_every_precision_is_measured(bench_train):
    native = bench_train.rows_for(_args(), native_bf16=True)
    assert native == bench_train.rows_for(_args(all_precisions=True), native_bf16=False)
    assert native[0] == ("joint", "fp32", "plain", False)  # the reference first
    assert ("joint", "bf16", "compiled, timbre 1/2", True) in native and len(native) == 7


def test_all_stages_unless_joint_only(bench_train):
    stages = {r[0] for r in bench_train.rows_for(_args(joint_only=False), native_bf16=False)}
    assert stages == {"joint", "amt", "timbre"}
