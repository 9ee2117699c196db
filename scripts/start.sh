#!/usr/bin/env bash
# Install the runtime and start the cockpit on 127.0.0.1:8050.
# The demo database (data/cockpit.duckdb, or $COCKPIT_DB) is built on first start.
set -euo pipefail
cd "$(dirname "$0")/.."
# the briefing export needs Chromium (charts), Noto CJK fonts and pango (PDF) at run time
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
fc-list 2>/dev/null | grep "Noto Sans CJK" >/dev/null || need_apt+=(fonts-noto-cjk)
fc-list 2>/dev/null | grep "Noto Serif CJK" >/dev/null || need_apt+=(fonts-noto-cjk-extra)
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || need_apt+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "提示：简报导出需要 ${need_apt[*]}，请以 root 运行 apt-get install -y ${need_apt[*]}；其余页面不受影响" >&2
  fi
fi
python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
# the demo database (built on first start) and, on its first start, the demo accounts printed once;
# the production start (gunicorn, scripts/serve.sh) never runs this
python3 -m data.demo ensure
exec python3 app.py
