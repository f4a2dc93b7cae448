#!/usr/bin/env bash
# Set up and run the whole test suite, browser tests included (installs Debian's chromium if missing).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --dev
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "Installing Debian's chromium for the browser tests…"
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
exec .venv/bin/python -m pytest -q "$@"
