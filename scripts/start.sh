#!/usr/bin/env bash
# Install the runtime and start the cockpit on 127.0.0.1:8050.
# The demo database (data/cockpit.duckdb, or $COCKPIT_DB) is built on first start.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec python3 app.py
