"""The docstring examples of the package run as tests (what ``pytest --doctest-modules mitkit`` collects).

CI runs ``pytest tests notebooks``, which does not reach ``mitkit/``; this module runs every module's
doctests itself, with the flags of ``[tool.pytest.ini_options] doctest_optionflags``, so an example that
no longer matches its code fails CI. Examples marked ``# doctest: +SKIP`` (slow, or needing files) are
not run; a module whose examples are all skipped is not listed.
"""
import doctest
import importlib
import pkgutil

import pytest

import mitkit

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _runnable(test: doctest.DocTest) -> bool:
    return any(not ex.options.get(doctest.SKIP, False) for ex in test.examples)


def _modules_with_examples():
    names = ["mitkit"] + [m.name for m in pkgutil.walk_packages(mitkit.__path__, "mitkit.")]
    finder = doctest.DocTestFinder()
    found = {}
    for name in names:
        module = importlib.import_module(name)
        tests = [t for t in finder.find(module, name) if _runnable(t)]
        if tests:
            found[name] = tests
    return found


MODULES = _modules_with_examples()


def test_the_package_has_doctests():
    """Guards the parametrisation below against finding nothing (it would pass vacuously)."""
    assert {"mitkit.note_creation", "mitkit.clustering", "mitkit.evaluation.metrics", "mitkit.evaluation.baselines"} <= set(MODULES)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_docstring_examples(name, capsys):
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in MODULES[name]:
        runner.run(test)
    report = capsys.readouterr().out
    result = runner.summarize(verbose=False)
    capsys.readouterr()
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}:\n{report}"
    assert result.attempted > 0
