#!/usr/bin/env bash
# Set up and run the Neighbourhood Renewal Atlas on its embedded demo data: http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec .venv/bin/streamlit run app.py --server.port "${PORT:-8501}" "$@"
