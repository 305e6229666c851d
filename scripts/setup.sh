#!/usr/bin/env bash
# Sets up mitkit in a project virtual environment, .venv/ at the repository root, on a Debian or Ubuntu
# machine (run as root, or with sudo rights for apt-get):
#   - Debian packages: FluidSynth with the FluidR3, csound and OPL3 soundfonts, and python3-venv when venv/ensurepip is missing;
#   - into .venv/: the CPU build of torch, mitkit (editable) with its notebook and test extras pinned by
#     constraints.txt, and basic-pitch for the side-by-side benchmarks.
# The system Python is never modified (PEP 668: Debian 12+ and Ubuntu 23.04+ refuse pip installs into it).
# PYTHON=/path/to/python3.X chooses the interpreter; otherwise the first Python >= 3.10 on PATH is used.
# Safe and quick to run again: a working .venv whose installed set matches this commit is left as it is;
# a broken one, or one built from another Python version, is rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
say() { echo "setup: $*" >&2; }
BROWSER=0  # --browser: also Chromium, its WebDriver and selenium, for `pytest -m browser` (tests/test_browser.py)
for arg in "$@"; do
  case "$arg" in
    --browser) BROWSER=1 ;;
    *) say "unknown option $arg (the only option is --browser)"; exit 2 ;;
  esac
done
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
apt_install() { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }

# --- Debian packages the renderer needs --------------------------------------------------------------
# (csound-soundfont: a second, public-domain sample set for training data; opl3-soundfont: FM timbres held
#  out of training, to measure generalisation; see mitkit.synth.render.SOUNDFONTS)
if ! { [ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] && [ -f /usr/share/sounds/sf2/sf_GMbank.sf2 ] \
       && [ -f /usr/share/sounds/sf2/OPL-3_FM_128M.sf2 ] && ldconfig -p | grep -q libfluidsynth; }; then
  say "installing FluidSynth and the FluidR3, csound and OPL3 soundfonts (apt)"
  apt_install fluidsynth fluid-soundfont-gm csound-soundfont opl3-soundfont
fi

if [ "$BROWSER" = 1 ] && ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }; then
  say "installing Chromium and its WebDriver (apt) for the browser tests"
  apt_install chromium chromium-driver
fi

# --- the interpreter -----------------------------------------------------------------------------------
version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }
is_suitable() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; }
if [ -n "${PYTHON:-}" ]; then
  is_suitable "$PYTHON" || { say "PYTHON=$PYTHON must be a Python >= 3.10"; exit 1; }
  PY="$PYTHON"
else
  PY=""
  for candidate in python3 python3.13 python3.12 python3.11 python3.10; do
    if command -v "$candidate" >/dev/null && is_suitable "$candidate"; then PY="$(command -v "$candidate")"; break; fi
  done
  [ -n "$PY" ] || { say "no Python >= 3.10 found on PATH; install one or set PYTHON=/path/to/python3"; exit 1; }
fi
WANT="$(version_of "$PY")"

# --- the virtual environment ---------------------------------------------------------------------------
if [ -e "$VENV" ]; then
  HAVE="$(version_of "$VENV/bin/python" || true)"
  if [ -z "$HAVE" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    say "$VENV is broken (its Python or pip does not run): rebuilding it"; rm -rf "$VENV"
  elif [ "$HAVE" != "$WANT" ]; then
    say "$VENV was built with Python $HAVE, but $PY is Python $WANT: rebuilding it"; rm -rf "$VENV"
  fi
fi
if [ ! -e "$VENV" ]; then
  say "creating $VENV with $PY (Python $WANT)"
  if ! "$PY" -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    say "$PY cannot create a virtual environment (venv/ensurepip missing): installing python3-venv (apt)"
    apt_install python3-venv "python$WANT-venv" || apt_install python3-venv
    "$PY" -m venv "$VENV"
  fi
fi
VPY="$VENV/bin/python"

# --- packages --------------------------------------------------------------------------------------------
# The stamp records what was installed; a match means nothing changed since the last complete set-up.
STAMP="$VENV/.mitkit-setup"
WANTED="$(cat scripts/setup.sh pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
# The notebooks are ours: trust them, so that a fresh JupyterLab renders their saved widgets and figures
# instead of their text form (trust lives in this user's Jupyter database, not in the files; done on every
# run, so notebooks updated by a pull are trusted too).
trust_notebooks() { "$VENV/bin/jupyter" trust notebooks/*.ipynb >/dev/null 2>&1 || say "could not mark the notebooks trusted"; }
# In a git clone, git compares notebooks in their committed form (scripts/clean_notebook.py, named by
# .gitattributes): opening and saving one in JupyterLab without edits leaves `git diff` empty. The filter
# is set in this clone's .git/config only.
notebook_filter() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git config filter.mitkit-notebook.clean "'$PWD/$VENV/bin/python' scripts/clean_notebook.py"
  fi
}
browser_ready() { [ "$BROWSER" = 0 ] || "$VPY" -c "import selenium" 2>/dev/null; }
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANTED" ] && "$VPY" -c "import mitkit, torch" 2>/dev/null \
   && browser_ready; then
  trust_notebooks
  notebook_filter
  say "$VENV is up to date"
  exit 0
fi
PIP="$VPY -m pip install -q --disable-pip-version-check"
say "installing torch (CPU), mitkit and its extras into $VENV"
# torch first and pinned: 2.13.0 is the CPU build; an unpinned torch pulls a CUDA build of several GB.
$PIP torch==2.13.0
$PIP -c constraints.txt -e ".[dev]"
# basic-pitch is only a baseline for `mitkit evaluate` / `mitkit bench`: its ONNX model without TensorFlow
# (pip then notes that basic-pitch "requires tensorflow": expected, its ONNX backend does not need it).
$PIP -c constraints.txt --no-deps basic-pitch==0.4.0
$PIP -c constraints.txt librosa resampy onnxruntime "setuptools>=77.0.3,<82"
if [ "$BROWSER" = 1 ]; then $PIP -c constraints.txt -e ".[browser]"; fi
trust_notebooks
notebook_filter
echo "$WANTED" > "$STAMP"
say "done: run mitkit as $VENV/bin/mitkit, or 'source $VENV/bin/activate' first"
