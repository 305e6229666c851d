"""Build the static HTML edition of the notebook series: one page per notebook plus an index, readable
without a kernel, to hand out or put on a course website.

    .venv/bin/python scripts/build_course.py [OUT_DIR]        # default: course-html/

The notebooks are converted as saved (run them first to refresh their outputs; README, "Notebooks").
Plotly figures are saved by JupyterLab as figure JSON, which nbconvert's HTML leaves out; here each one
becomes an interactive plotly figure in the page, with plotly.js written once into the output folder (the
pages work offline). Widgets are not saved in the notebooks (they appear when their cell runs), so the
pages show none. The API reference (``docs/api/*.md``, which the notebooks link to) becomes HTML pages in
``OUT_DIR/api/`` with the same heading anchors, and the notebooks' links point at them; links to the package's
source files (``../mitkit/...``) point at the repository's files next to the output folder's parent, as in
JupyterLab.
"""
from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLOTLY_MIME = "application/vnd.plotly.v1+json"
PLOTLY_JS = "plotly.min.js"
_API_STYLE = ("body{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em}"
              "pre{background:#f5f5f5;padding:.5em;overflow-x:auto}")
API_DIR = ROOT / "docs" / "api"
# a notebook's link into the API reference, e.g. ../docs/api/mitkit.notes.md#merge_tracks
_API_LINK = re.compile(r'href="\.\./docs/api/([\w.]+)\.md(#[^"]*)?"')


def notebooks() -> list[Path]:
    """The series, in order."""
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _figures_to_html(nb) -> int:
    """Give every plotly output an HTML form (a div and its Plotly.newPlot call); returns how many."""
    import plotly.io as pio

    n = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if PLOTLY_MIME in data:
                fig = pio.from_json(json.dumps(data[PLOTLY_MIME]), skip_invalid=True)
                data["text/html"] = pio.to_html(fig, include_plotlyjs=False, full_html=False,
                                                div_id=f"figure-{n}")
                del data[PLOTLY_MIME]  # nbconvert would otherwise prefer the JSON and show nothing
                n += 1
    return n


def _title(nb, path: Path) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def _anchor(text: str) -> str:
    """A heading's anchor as JupyterLab makes it: its text, spaces as hyphens."""
    return re.sub(r"<[^>]+>", "", text).strip().replace(" ", "-")


def _api_pages(out: Path) -> int:
    """Write ``out/api/<module>.html`` for each API reference page; returns how many."""
    import mistune

    class Renderer(mistune.HTMLRenderer):
        def heading(self, text, level, **attrs):
            return f'<h{level} id="{html.escape(_anchor(text))}">{text}</h{level}>\n'

    render = mistune.create_markdown(renderer=Renderer(escape=True), plugins=["table"])
    (out / "api").mkdir(parents=True, exist_ok=True)
    pages = sorted(API_DIR.glob("*.md"))
    for md in pages:
        body = render(md.read_text(encoding="utf-8"))
        body = re.sub(r'href="([\w.]+)\.md(#[^"]*)?"', r'href="\1.html\2"', body)  # between reference pages
        (out / "api" / f"{md.stem}.html").write_text(
            f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(md.stem)}</title>"
            f"<style>{_API_STYLE}</style></head>"
            f"<body>\n{body}</body></html>\n", encoding="utf-8")
    return len(pages)


def build(out: Path) -> list[Path]:
    """Write ``out/<notebook>.html`` for each notebook, ``out/index.html`` and ``out/plotly.min.js``."""
    import nbformat
    import plotly
    from nbconvert import HTMLExporter

    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(plotly.__file__).parent / "package_data" / PLOTLY_JS, out / PLOTLY_JS)
    exporter = HTMLExporter(template_name="lab")
    n_api = _api_pages(out)
    pages, entries = [], []
    for path in notebooks():
        nb = nbformat.read(path, as_version=4)
        n_fig = _figures_to_html(nb)
        title = _title(nb, path)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
        body = body.replace("</head>", f'<script src="{PLOTLY_JS}"></script>\n</head>', 1)
        body = _API_LINK.sub(r'href="api/\1.html\2"', body)
        page = out / f"{path.stem}.html"
        page.write_text(body, encoding="utf-8")
        pages.append(page)
        entries.append(f'<li><a href="{page.name}">{html.escape(title)}</a> ({n_fig} figures)</li>')
    index = ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>mitkit course</title></head><body>\n"
             "<h1>mitkit: the notebook series</h1>\n<ol>\n" + "\n".join(entries) + "\n</ol>\n"
             f'<p><a href="api/mitkit.html">API reference</a> ({n_api} pages)</p>\n</body></html>\n')
    (out / "index.html").write_text(index, encoding="utf-8")
    return pages


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default=str(ROOT / "course-html"), help="output folder")
    args = parser.parse_args(argv)
    pages = build(Path(args.out))
    print(f"{args.out}: index.html and {len(pages)} notebook pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
