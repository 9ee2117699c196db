#!/usr/bin/env bash
# Install what the test suite needs (Python packages; Debian's Chromium, ChromeDriver, CJK
# fonts, PostgreSQL, Redis and nginx) and run the whole suite, browser tests included. Extra args
# go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg.sh

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
fc-list 2>/dev/null | grep "Noto Sans CJK" >/dev/null || need_apt+=(fonts-noto-cjk)
# briefing export and its checks: Serif CJK (title/body), poppler (pdftoppm/pdffonts/pdftotext),
# LibreOffice Impress (soffice --convert-to pdf of the PPTX), pango for WeasyPrint; without
# recommends (LibreOffice's would pull in hundreds of MB the checks do not need)
need_lean=()
fc-list 2>/dev/null | grep "Noto Serif CJK" >/dev/null || need_lean+=(fonts-noto-cjk-extra)
command -v pdftoppm >/dev/null 2>&1 || need_lean+=(poppler-utils)
command -v soffice >/dev/null 2>&1 || need_lean+=(libreoffice-impress)
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || need_lean+=(libpango-1.0-0 libpangoft2-1.0-0)
# the operational store's tests (#12) run on SQLite and on PostgreSQL, production's database:
# Debian's server binaries, for a private cluster started below (not the system's service)
[ -n "$(pg_bindir)" ] || need_lean+=(postgresql)
# the production mode's test (tests/deploy/) starts private Redis and nginx instances through
# scripts/serve.sh; the packages must not start their system services (see scripts/lib/apt.sh)
command -v redis-server >/dev/null 2>&1 || need_lean+=(redis-server)
command -v nginx >/dev/null 2>&1 || need_lean+=(nginx)
if [ $((${#need_apt[@]} + ${#need_lean[@]})) -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "需要以 root 安装：${need_apt[*]} ${need_lean[*]}（或先手动 apt-get install）" >&2
    exit 1
  fi
  apt-get update -qq
  if [ ${#need_apt[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  fi
  if [ ${#need_lean[@]} -gt 0 ]; then
    # postgresql, redis-server and nginx would create and start system instances (ports 5432,
    # 6379, 80): the tests start private ones, so the install starts none (scripts/lib/apt.sh)
    source scripts/lib/apt.sh
    apt_install_quietly "${need_lean[@]}"
  fi
fi
# nginx's brotli module, where Debian has it (serve.sh then writes .br copies too; else gzip only)
if [ ! -f /usr/lib/nginx/modules/ngx_http_brotli_static_module.so ] && [ "$(id -u)" -eq 0 ]; then
  source scripts/lib/apt.sh
  if apt_has libnginx-mod-http-brotli-static; then
    apt_install_quietly libnginx-mod-http-brotli-static
  fi
fi

python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
python3 -m ruff check .
# types of the domain core and the data layer (#14 §8; files and settings in pyproject.toml)
python3 -m mypy

# A private PostgreSQL cluster for this run: a fresh directory, loopback only, a free port, a
# random password (scripts/lib/pg.sh); stopped and removed on exit. COCKPIT_TEST_PG_URL set
# beforehand uses that server instead.
pg_dir=""
stop_pg() {
  if [ -n "$pg_dir" ]; then
    pg_stop_cluster "$pg_dir"
    rm -rf "$pg_dir"
  fi
}
start_pg() {
  local port
  if [ -z "$(pg_bindir)" ]; then
    echo "找不到 PostgreSQL（需要 Debian 的 postgresql 软件包）" >&2
    return 1
  fi
  pg_dir=$(mktemp -d /tmp/cockpit-pg.XXXXXX)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  pg_start_cluster "$pg_dir" "$port" "-c fsync=off" || return 1
  pg_ensure_db "$pg_dir" "$port" cockpit_test
  export COCKPIT_TEST_PG_URL="postgresql+psycopg://cockpit:$(pg_password "$pg_dir")@127.0.0.1:$port/cockpit_test"
}
trap stop_pg EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ -z "${COCKPIT_TEST_PG_URL:-}" ]; then
  start_pg
fi

status=0
python3 -m pytest "$@" || status=$?
exit "$status"
