#!/usr/bin/env bash
# Installs what theon needs to build and test: Debian packages and Python packages.
set -euo pipefail
export PIP_ROOT_USER_ACTION=ignore
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PKGS="cmake ninja-build g++ libopenblas-dev liblapacke-dev libdnnl-dev libsleef-dev libgtest-dev zlib1g-dev graphviz dataset-fashion-mnist"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
PY=${PYTHON:-python3}
$PY -m pip install -q --disable-pip-version-check "numpy>=2" scipy "nanobind>=2" "scikit-build-core>=0.10" \
    pytest hypothesis pytest-xdist ml_dtypes matplotlib
