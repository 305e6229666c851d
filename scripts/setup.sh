#!/usr/bin/env bash
# Installs everything mitkit needs on a Debian machine with Python >= 3.10 (run as root, or with sudo
# rights for apt-get): FluidSynth and the FluidR3 soundfont, the CPU build of torch, mitkit with its
# notebook and test extras (pinned by constraints.txt), and basic-pitch for the side-by-side benchmarks.
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! { [ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] && ldconfig -p | grep -q libfluidsynth; }; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends fluidsynth fluid-soundfont-gm >/dev/null
fi

PIP="python3 -m pip install -q --disable-pip-version-check"
# torch first and pinned: 2.13.0 is the CPU build on this machine's disk; an unpinned torch pulls CUDA.
$PIP torch==2.13.0
$PIP -c constraints.txt -e ".[dev]"
# basic-pitch is only a baseline for `mitkit evaluate` / `mitkit bench`: its ONNX model without TensorFlow.
$PIP -c constraints.txt --no-deps basic-pitch==0.4.0
$PIP -c constraints.txt librosa resampy onnxruntime "setuptools>=77.0.3,<82"
