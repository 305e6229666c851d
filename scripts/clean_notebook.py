"""Bring notebooks to the form they are committed in: outputs kept, everything volatile gone.

    .venv/bin/python scripts/clean_notebook.py notebooks/*.ipynb     # clean in place
    .venv/bin/python scripts/clean_notebook.py --check notebooks/*.ipynb
    .venv/bin/python scripts/clean_notebook.py < in.ipynb > out.ipynb  # as git's clean filter

`scripts/setup.sh` registers the last form as this clone's git filter for `notebooks/*.ipynb`
(`.gitattributes`), so opening a notebook in JupyterLab and saving it without edits leaves `git diff`
empty. What goes, and why:

- execution timings and similar metadata (nbstripout, outputs, counts and cell ids kept);
- widget state (`metadata.widgets`) and widget views: JupyterLab 4 cannot redraw a widget from saved state
  (it shows "Loading widget..."), and saving drops the state anyway; a widget appears when its cell runs;
- the kernel's Python version (`metadata.language_info.version`): every reader's differs;
- the PNG snapshot that JupyterLab's plotly renderer adds beside each interactive figure on opening;
- the difference between 1.0 and 1 in JSON: a browser writes whole floats as integers.
"""
from __future__ import annotations

import argparse
import sys

import nbformat
from nbstripout import strip_output

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"
VOLATILE_METADATA = ["metadata.widgets", "metadata.language_info.version"]


def _as_javascript_writes(value):
    """Whole floats as ints, recursively (what JSON.stringify does)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    if isinstance(value, dict):
        return {k: _as_javascript_writes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_javascript_writes(v) for v in value]
    return value


def clean(nb):
    """The committed form of a notebook node (a new node)."""
    nb = strip_output(nb, keep_output=True, keep_count=True, keep_id=True, extra_keys=VOLATILE_METADATA)
    for cell in nb.cells:
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                continue
            if PLOTLY in data:
                data.pop("image/png", None)
            outputs.append(out)
        if cell.cell_type == "code":
            cell.outputs = outputs
    return nbformat.from_dict(_as_javascript_writes(nb))


def _text(nb) -> str:
    return nbformat.writes(nb) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebook files (none: stdin to stdout, a git filter)")
    parser.add_argument("--check", action="store_true", help="list the notebooks that are not clean; exit 1 if any")
    args = parser.parse_args(argv)
    if not args.notebooks:
        sys.stdout.write(_text(clean(nbformat.read(sys.stdin, as_version=4))))
        return 0
    dirty = []
    for path in args.notebooks:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        cleaned = _text(clean(nbformat.reads(text, as_version=4)))
        if cleaned != text:
            dirty.append(path)
            if not args.check:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(cleaned)
    if args.check and dirty:
        print("not clean (run scripts/clean_notebook.py on them):", *dirty, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
