#!/usr/bin/env bash
# Install what the test suite needs (Python packages; Debian's Chromium, ChromeDriver, CJK
# fonts and PostgreSQL) and run the whole suite, browser tests included. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
fc-list 2>/dev/null | grep -q "Noto Sans CJK" || need_apt+=(fonts-noto-cjk)
# briefing export and its checks: Serif CJK (title/body), poppler (pdftoppm/pdffonts/pdftotext),
# LibreOffice Impress (soffice --convert-to pdf of the PPTX), pango for WeasyPrint; without
# recommends (LibreOffice's would pull in hundreds of MB the checks do not need)
need_lean=()
fc-list 2>/dev/null | grep -q "Noto Serif CJK" || need_lean+=(fonts-noto-cjk-extra)
command -v pdftoppm >/dev/null 2>&1 || need_lean+=(poppler-utils)
command -v soffice >/dev/null 2>&1 || need_lean+=(libreoffice-impress)
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || need_lean+=(libpango-1.0-0 libpangoft2-1.0-0)
# the operational store's tests (#12) run on SQLite and on PostgreSQL, production's database:
# Debian's server binaries, for a private cluster started below (not the system's service)
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
[ -n "$(pg_bindir)" ] || need_lean+=(postgresql)
if [ $((${#need_apt[@]} + ${#need_lean[@]})) -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "需要以 root 安装：${need_apt[*]} ${need_lean[*]}（或先手动 apt-get install）" >&2
    exit 1
  fi
  if [[ " ${need_lean[*]} " == *" postgresql "* ]]; then
    # the package would create and start a system cluster on port 5432: the tests need none
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/cockpit-tests.conf
  fi
  apt-get update -qq
  if [ ${#need_apt[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  fi
  if [ ${#need_lean[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_lean[@]}" >/dev/null
  fi
fi

python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
python3 -m ruff check .

# A private PostgreSQL cluster for this run: a fresh directory, loopback only, a free port, a
# random password; owned by the unprivileged postgres user when we are root (initdb refuses
# root); stopped and removed on exit. COCKPIT_TEST_PG_URL set beforehand uses that server instead.
pg_dir=""
pg_as=()
stop_pg() {
  if [ -n "$pg_dir" ]; then
    if [ -f "$pg_dir/data/postmaster.pid" ]; then
      "${pg_as[@]}" "$(pg_bindir)/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$pg_dir"
  fi
}
start_pg() {
  local bin port password
  bin=$(pg_bindir)
  if [ -z "$bin" ]; then
    echo "找不到 PostgreSQL（需要 Debian 的 postgresql 软件包）" >&2
    return 1
  fi
  pg_dir=$(mktemp -d /tmp/cockpit-pg.XXXXXX)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  (umask 077 && printf '%s\n' "$password" > "$pg_dir/pwfile")
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$pg_dir"
    pg_as=(runuser -u postgres --)
  fi
  if ! (cd "$pg_dir" && "${pg_as[@]}" "$bin/initdb" -D "$pg_dir/data" -U cockpit --pwfile="$pg_dir/pwfile" \
          --auth=scram-sha-256 --encoding=UTF8 --no-locale --no-sync >"$pg_dir/initdb.log" 2>&1) \
     || ! (cd "$pg_dir" && "${pg_as[@]}" "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
          -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$pg_dir' -c fsync=off" \
          start >/dev/null); then
    echo "PostgreSQL 测试实例未能启动：" >&2
    cat "$pg_dir/initdb.log" "$pg_dir/server.log" >&2 2>/dev/null || true
    return 1
  fi
  PGPASSWORD="$password" "$bin/createdb" -h 127.0.0.1 -p "$port" -U cockpit cockpit_test
  export COCKPIT_TEST_PG_URL="postgresql+psycopg://cockpit:$password@127.0.0.1:$port/cockpit_test"
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
