"""What a student sees: the notebooks opened in JupyterLab and the HTML report, in headless Chromium.

Needs Chromium, its WebDriver and selenium: `bash scripts/setup.sh --browser` installs them (Debian
packages `chromium` and `chromium-driver`, selenium from PyPI). Run with `pytest -m browser` (README,
"Two commands"; CI runs it after the main suite). JupyterLab works on a copy of the notebooks, so nothing
here changes the repository.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PLOTLY_MIME, WIDGET_MIME = "application/vnd.plotly.v1+json", "application/vnd.jupyter.widget-view+json"
# what a widget looks like when JupyterLab could not render it: its Python repr
WIDGET_REPRS = ("interactive(children=", "IntSlider(", "Dropdown(", "HBox(children=", "VBox(children=")
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in front


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, timeout: float, what: str, every: float = 0.5):
    from selenium.common.exceptions import StaleElementReferenceException
    end = time.time() + timeout
    while time.time() < end:
        try:
            value = check()
        except StaleElementReferenceException:  # the page replaced the element while it was read: not ready yet
            value = None
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server (fast mode, no token) on a copy of the notebooks; yields (url, folder)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns("mitkit-output"))
    shutil.copytree(ROOT / "docs", root / "docs")  # the API reference the notebooks link to
    settings = root / "settings"
    for name, value in {"notebook-extension/tracker": {"windowingMode": "none"},  # render every cell
                        "apputils-extension/notification": {"fetchNews": "false"}}.items():
        f = settings / "@jupyterlab" / f"{name}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    port = _free_port()
    env = {**os.environ, "MITKIT_FAST": "1", "JUPYTERLAB_SETTINGS_DIR": str(settings)}
    proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
                             f"--port={port}", "--ServerApp.token=", "--ServerApp.password=",
                             f"--ServerApp.root_dir={root}", f"--LabApp.workspaces_dir={root / 'workspaces'}"],
                            env=env, cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return urllib.request.urlopen(f"{url}/api/status", timeout=2).status == 200
        except OSError:
            return False
    try:
        _wait(up, 60, "JupyterLab to start")
        yield url, root
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


def _open(browser, lab, name: str) -> dict:
    """Open notebooks/<name> in JupyterLab; wait until every cell is rendered; returns the saved notebook."""
    from selenium.webdriver.common.by import By
    url, root = lab
    nb = json.loads((root / "notebooks" / name).read_text())
    browser.get(f"{url}/lab/tree/notebooks/{name}?reset")  # ?reset: this notebook alone, no restored layout
    _wait(lambda: len(browser.find_elements(By.CSS_SELECTOR, f"{PANEL} .jp-Notebook-cell")) == len(nb["cells"]),
          120, f"the {len(nb['cells'])} cells of {name}")
    _wait(lambda: "Idle" in browser.find_element(By.CSS_SELECTOR, ".jp-StatusBar-Widget, #jp-main-statusbar").text,
          120, "the kernel")
    return nb


def _outputs(nb, mime):
    return [o for c in nb["cells"] for o in c.get("outputs", []) if mime in o.get("data", {})]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_with_every_figure(browser, lab, path):
    from selenium.webdriver.common.by import By
    nb = _open(browser, lab, path.name)
    n_figures = len(_outputs(nb, PLOTLY_MIME))
    assert n_figures > 0
    traces = _wait(lambda: (lambda t: t if len(t) == n_figures else None)(browser.execute_script(
        f"return Array.from(document.querySelectorAll('{PANEL} .js-plotly-plot')).map(e => (e.data || []).length)")),
        60, f"{n_figures} plotly figures")
    assert all(t > 0 for t in traces), traces  # every figure has data
    outputs = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, f"{PANEL} .jp-OutputArea-output"))
    # no widget left as text or as a placeholder (widgets are not saved: they appear when their cell runs)
    assert not [r for r in (*WIDGET_REPRS, "Loading widget") if r in outputs]
    assert not _outputs(nb, WIDGET_MIME)


def test_open_and_save_changes_nothing_for_git(browser, lab):
    """JupyterLab rewrites a notebook it saves (a PNG beside each figure, 1.0 as 1, ...); the git filter
    (scripts/clean_notebook.py) turns the saved file back into the committed one."""
    import importlib.util

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    spec = importlib.util.spec_from_file_location("clean_notebook", ROOT / "scripts" / "clean_notebook.py")
    cleaner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cleaner)
    url, root = lab
    for path in NOTEBOOKS:
        copy = root / "notebooks" / path.name
        _open(browser, lab, path.name)
        stamp = copy.stat().st_mtime_ns
        # focus the notebook on its first cell's prompt (a click mid-page may land in a figure, which keeps the keys)
        browser.find_element(By.CSS_SELECTOR, f"{PANEL} .jp-Cell .jp-InputPrompt").click()
        ActionChains(browser).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
        _wait(lambda: copy.stat().st_mtime_ns != stamp, 30, f"{path.name} to be saved")
        # the server writes a large notebook in place: the new mtime may come before the last byte
        saved = _wait(lambda: _read_notebook(copy), 30, f"{path.name} to be written completely")
        cleaned = cleaner._text(cleaner.clean(saved))
        assert cleaned == path.read_text(), f"saving {path.name} unedited changed it for git"


def _read_notebook(path):
    """The notebook at ``path``, or None while it is still being written (empty or cut short)."""
    import nbformat
    try:
        return nbformat.read(path, as_version=4)
    except (nbformat.reader.NotJSONError, ValueError):
        return None


def _run_all(browser):
    from selenium.webdriver.common.by import By
    browser.find_element(By.XPATH, "//div[contains(@class,'lm-MenuBar-itemLabel') and text()='Run']").click()
    browser.find_element(By.XPATH, "//div[contains(@class,'lm-Menu-itemLabel') and text()='Run All Cells']").click()

    def finished():
        prompts = [e.text for e in browser.find_elements(By.CSS_SELECTOR, f"{PANEL} .jp-InputPrompt")]
        return prompts and not any("*" in p for p in prompts) and all(p.strip() != "[ ]:" for p in prompts)
    time.sleep(2)
    _wait(finished, 600, "every cell to run", every=2)
    errors = browser.find_elements(By.CSS_SELECTOR, f"{PANEL} [data-mime-type='application/vnd.jupyter.stderr'] .ansi-red-fg")
    assert not errors, errors[0].text


def test_a_widget_in_03_redraws_the_separation(browser, lab):
    """The separation explorer: "Draw" shows the separated tracks with their scores in the title; switching
    the clustering to frame level and drawing again gives other scores."""
    from selenium.webdriver.common.by import By
    _open(browser, lab, "03_embeddings_and_clustering.ipynb")
    _run_all(browser)
    frame = browser.find_element(By.XPATH, "//button[contains(@class,'widget-toggle-button') and normalize-space()='frame']")
    cell = frame.find_element(By.XPATH, "./ancestor::div[contains(@class,'jp-Notebook-cell')]")
    draw = cell.find_element(By.XPATH, ".//button[normalize-space()='Draw']")
    title = lambda: " ".join(e.text for e in cell.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .gtitle"))  # noqa: E731
    draw.click()
    before = _wait(title, 120, "the separation figure")
    frame.click()
    draw.click()
    _wait(lambda: (lambda t: t if t and t != before else None)(title()), 120, "the figure to redraw")


def test_the_transcribe_button_in_05_shows_a_transcription(browser, lab):
    from selenium.webdriver.common.by import By
    _open(browser, lab, "05_transcribe_your_own_audio.ipynb")
    _run_all(browser)
    button = browser.find_element(By.XPATH, "//button[contains(@class,'jupyter-button') and normalize-space()='Transcribe']")
    box = button.find_element(By.XPATH, "./ancestor::div[contains(@class,'jp-OutputArea-output')]")
    n_before = len(box.find_elements(By.CSS_SELECTOR, ".js-plotly-plot"))
    button.click()
    _wait(lambda: len(box.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")) > n_before, 180, "a transcription figure")


def test_a_link_to_a_function_opens_its_reference_at_the_function(browser, lab):
    from selenium.webdriver.common.by import By
    _open(browser, lab, "05_transcribe_your_own_audio.ipynb")
    link = _wait(lambda: next((a for a in browser.find_elements(By.CSS_SELECTOR, f"{PANEL} .jp-RenderedMarkdown a")
                               if a.text == "plot_transcription"), None), 30, "the link to plot_transcription")
    link.click()
    top = _wait(lambda: browser.execute_script("""
        const h = [...document.querySelectorAll('.jp-MarkdownViewer h2')]
            .find(e => e.textContent.replace('¶', '').trim() === 'plot_transcription');
        if (!h) return null;
        const r = h.getBoundingClientRect();
        return r.height > 0 ? [r.top, window.innerHeight] : null;"""), 30, "the reference page of mitkit.plots")
    assert 0 <= top[0] < top[1] / 3, top  # scrolled to the function's heading, not left at the top of the page


def test_report_hover_names_the_note(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "mitkit.cli", "transcribe", str(ROOT / "mitkit" / "assets" / "example.flac"),
                           "--out", str(out), "--report"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = next(out.glob("*.html"))
    browser.get(report.as_uri())
    points = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .scatterlayer .point"), 60,
                   "the piano roll's notes")
    ActionChains(browser).move_to_element(points[len(points) // 2]).perform()
    label = _wait(lambda: " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, ".hoverlayer .hovertext")),
                  20, "a hover label")
    assert "Track" in label or "track" in label
    assert any(name in label for name in ("C", "D", "E", "F", "G", "A", "B")) and " s" in label
    count = browser.find_element(By.CSS_SELECTOR, "p.mitkit-count")  # how "auto" counted, wrapped above the figure
    figure = browser.find_element(By.CSS_SELECTOR, ".js-plotly-plot")
    assert "instrument" in count.text and count.rect["y"] + count.rect["height"] <= figure.rect["y"] + 1
