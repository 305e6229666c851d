"""The static HTML edition of the notebooks (scripts/build_course.py) builds, holds every figure, and
carries no machine paths."""
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_course_builds_with_every_figure(tmp_path):
    out = tmp_path / "course"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_course.py"), str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) == 5
    index = (out / "index.html").read_text()
    assert (out / "plotly.min.js").stat().st_size > 1_000_000  # offline: the library is in the folder
    for nb_path in notebooks:
        page = out / f"{nb_path.stem}.html"
        assert f'href="{page.name}"' in index
        text = page.read_text()
        nb = json.loads(nb_path.read_text())
        n_figures = sum("application/vnd.plotly.v1+json" in o.get("data", {})
                        for c in nb["cells"] for o in c.get("outputs", []))
        assert n_figures > 0 and text.count("Plotly.newPlot(") == n_figures, nb_path.name
        assert '<script src="plotly.min.js"></script>' in text
        title = re.search(r"<title>(.*?)</title>", text).group(1)
        assert title and title != nb_path.stem  # the notebook's own heading
        assert not re.search(r"(/work/|/home/|/tmp/|/root/)", text.replace(str(tmp_path), "")), nb_path.name
        # links into the API reference land on an HTML page of the edition, at the function's heading
        links = re.findall(r'href="api/([\w.]+\.html)(?:#([^"]*))?"', text)
        assert links and "docs/api/" not in text, nb_path.name
        for page_name, anchor in links:
            target = (out / "api" / page_name).read_text()
            assert not anchor or f'id="{anchor}"' in target, (nb_path.name, page_name, anchor)
    assert 'href="api/mitkit.html"' in index
