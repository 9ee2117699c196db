# Sourced by scripts/test.sh and scripts/serve.sh: a private PostgreSQL cluster (Debian's server
# binaries, not the system's service) on loopback, with a random password, owned by the
# unprivileged postgres user when we are root (initdb refuses root).
#
#   pg_bindir                       Debian's newest server bin directory (empty: not installed)
#   pg_start_cluster DIR PORT [SERVER_OPTIONS]
#                                   initdb DIR/data once (password in DIR/pwfile, 0600), then start
#                                   it on 127.0.0.1:PORT with its socket in DIR (extra "-c k=v" options)
#   pg_stop_cluster DIR             fast shutdown (nothing if it is not running)
#   pg_password DIR                 the cluster's password
#   pg_ensure_db DIR PORT NAME      create database NAME unless it exists

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

_pg_as() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_password() { cat "$1/pwfile"; }

pg_start_cluster() {
  local dir=$1 port=$2 extra=${3:-} bin password
  bin=$(pg_bindir)
  if [ -z "$bin" ]; then
    echo "找不到 PostgreSQL（需要 Debian 的 postgresql 软件包）" >&2
    return 1
  fi
  mkdir -p "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    (umask 077 && printf '%s\n' "$password" > "$dir/pwfile")
    if [ "$(id -u)" -eq 0 ]; then
      chown -R postgres: "$dir"
    fi
    if ! (cd "$dir" && _pg_as "$bin/initdb" -D "$dir/data" -U cockpit --pwfile="$dir/pwfile" \
            --auth=scram-sha-256 --encoding=UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1); then
      echo "PostgreSQL 实例未能初始化：" >&2
      cat "$dir/initdb.log" >&2 2>/dev/null || true
      return 1
    fi
  fi
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
  fi
  if ! (cd "$dir" && _pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
          -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' $extra" \
          start >/dev/null); then
    echo "PostgreSQL 实例未能启动：" >&2
    cat "$dir/initdb.log" "$dir/server.log" >&2 2>/dev/null || true
    return 1
  fi
}

pg_stop_cluster() {
  local dir=$1
  if [ -f "$dir/data/postmaster.pid" ]; then
    (cd "$dir" && _pg_as "$(pg_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1) || true
  fi
}

pg_ensure_db() {
  local dir=$1 port=$2 name=$3 bin
  bin=$(pg_bindir)
  if ! PGPASSWORD="$(pg_password "$dir")" "$bin/psql" -h 127.0.0.1 -p "$port" -U cockpit -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    PGPASSWORD="$(pg_password "$dir")" "$bin/createdb" -h 127.0.0.1 -p "$port" -U cockpit "$name"
  fi
}
