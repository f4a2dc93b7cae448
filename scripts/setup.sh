#!/usr/bin/env bash
# Set up .venv with pinned requirements (and dev requirements with --dev), and copy Leaflet
# into static/ for Streamlit to serve. Safe to run repeatedly; fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! "$PYTHON" -c "import venv, ensurepip" >/dev/null 2>&1; then
  echo "Installing python3-venv (needed to create .venv)…"
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
want="requirements.txt"; [ "${1:-}" = "--dev" ] && want="requirements-dev.txt"
stamp=".venv/.installed-$(cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)-${want%.txt}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$want"
  touch "$stamp"
fi
.venv/bin/python -c "from pathlib import Path; from geo.load.assets import install_static; install_static(Path('static'))"
