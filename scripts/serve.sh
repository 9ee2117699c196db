#!/usr/bin/env bash
# The production mode from one command (settings: deploy/cockpit.conf, overridden by the file
# named in $COCKPIT_SERVE_CONF):
#
#   bash scripts/serve.sh [start]   install what is missing, start everything, wait until healthy
#   bash scripts/serve.sh stop      stop everything this script started
#   bash scripts/serve.sh status    what runs, and what each node serves (exit 3 if a part is stopped)
#   bash scripts/serve.sh env [N]   the environment of node N (default 1), for the CLIs:
#                                   eval "$(bash scripts/serve.sh env 1)"; python -m data.intake load F --yes
#
# Started in this order, each on loopback: Redis (queue, results, login-throttle counters), a private
# PostgreSQL unless OPSTORE_URL names one (the operational store), the database built, upgraded
# and settled once on node 1, the static files for nginx, the app nodes (gunicorn + a replication
# follower each), the Celery workers (exports; and the 数据管理 intake worker under nice) and beat,
# nginx last. Every process runs in its own session;
# its pid and start time are kept in RUN_DIR/pids, and only a process matching both is ever
# signalled. start is idempotent: what already runs is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
source scripts/lib/pg.sh
source scripts/lib/apt.sh

die() { echo "错误：$*" >&2; exit 1; }
say() { echo "· $*"; }

# ---------------------------------------------------------------- settings

abs_path() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$REPO/$1" ;; esac; }

load_config() {
  # shellcheck source=../deploy/cockpit.conf
  source deploy/cockpit.conf
  if [ -n "${COCKPIT_SERVE_CONF:-}" ]; then
    [ -f "$COCKPIT_SERVE_CONF" ] || die "找不到设置文件 COCKPIT_SERVE_CONF=$COCKPIT_SERVE_CONF"
    # shellcheck disable=SC1090
    source "$COCKPIT_SERVE_CONF"
  fi
  RUN_DIR=$(abs_path "$RUN_DIR")
  LOG_DIR=$RUN_DIR/logs
  PID_DIR=$RUN_DIR/pids
  STATIC_DIR=$RUN_DIR/static
  [[ "$NODES" =~ ^[1-9][0-9]*$ ]] || die "NODES 应为正整数：$NODES"
  [[ "$CELERY_WORKERS" =~ ^[1-9][0-9]*$ ]] || die "CELERY_WORKERS 应为正整数：$CELERY_WORKERS"
  INTAKE_WORKERS=${INTAKE_WORKERS:-1}
  INTAKE_NICE=${INTAKE_NICE:-10}
  EXPORT_NICE=${EXPORT_NICE:-5}
  [[ "$EXPORT_NICE" =~ ^[0-9]+$ ]] && [ "$EXPORT_NICE" -le 19 ] || die "EXPORT_NICE 应为 0–19：$EXPORT_NICE"
  [[ "$INTAKE_WORKERS" =~ ^[1-9][0-9]*$ ]] || die "INTAKE_WORKERS 应为正整数：$INTAKE_WORKERS"
  [[ "$INTAKE_NICE" =~ ^[0-9]+$ ]] && [ "$INTAKE_NICE" -le 19 ] || die "INTAKE_NICE 应为 0–19：$INTAKE_NICE"
  read -r -a NODE_PORT <<< "$NODE_PORTS"
  [ ${#NODE_PORT[@]} -ge "$NODES" ] || die "NODE_PORTS 只列出 ${#NODE_PORT[@]} 个端口，少于 NODES=$NODES"
  local dirs i
  read -r -a dirs <<< "${NODE_DATA_DIRS:-}"
  NODE_DIR=()
  for ((i = 1; i <= NODES; i++)); do
    NODE_DIR[i]=$(abs_path "${dirs[i - 1]:-$RUN_DIR/node$i}")
  done
  SHARED_DIR=$(abs_path "${SHARED_DIR:-$RUN_DIR/shared}")
  SECRET_KEY_FILE=$(abs_path "${SECRET_KEY_FILE:-$RUN_DIR/cockpit.secret}")
  REDIS_DIR=$RUN_DIR/redis
  if [ -n "${PG_DIR:-}" ]; then
    PG_DIR=$(abs_path "$PG_DIR")
  elif [ "$(id -u)" -eq 0 ]; then
    # as root the cluster runs as the postgres user, which may not reach RUN_DIR (under /root, say)
    PG_DIR=/var/lib/postgresql/cockpit-$(printf '%s' "$RUN_DIR" | sha256sum | cut -c1-12)
  else
    PG_DIR=$RUN_DIR/pg
  fi
  # the largest request the app accepts (an upload callback carries the file as base64): the app
  # itself answers anything over its limits, in Chinese
  CLIENT_MAX_BODY_MB=$(( MAX_REQUEST_MB > UPLOAD_MAX_MB * 4 / 3 + 2 ? MAX_REQUEST_MB : UPLOAD_MAX_MB * 4 / 3 + 2 ))
}

redis_password() { cat "$REDIS_DIR/password"; }
redis_url() { printf 'redis://:%s@127.0.0.1:%s/%s\n' "$(redis_password)" "$REDIS_PORT" "$1"; }

opstore_url() {
  if [ -n "$OPSTORE_URL" ]; then
    printf '%s\n' "$OPSTORE_URL"
  else
    printf 'postgresql+psycopg://cockpit:%s@127.0.0.1:%s/cockpit\n' "$(pg_password "$PG_DIR")" "$PG_PORT"
  fi
}

# the environment of node $1's processes (its gunicorn, follower and Celery workers)
node_env() {
  local i=$1
  printf '%s\n' \
    "COCKPIT_ENV=production" \
    "COCKPIT_DB=${NODE_DIR[i]}/cockpit.duckdb" \
    "COCKPIT_JOBS_DIR=${NODE_DIR[i]}/jobs" \
    "COCKPIT_CACHE_DIR=${NODE_DIR[i]}/cache" \
    "COCKPIT_SHARED_DIR=$SHARED_DIR" \
    "COCKPIT_SECRET_KEY_FILE=$SECRET_KEY_FILE" \
    "COCKPIT_OPSTORE_URL=$(opstore_url)" \
    "COCKPIT_REDIS_URL=$(redis_url 0)" \
    "COCKPIT_RATELIMIT_STORAGE=$(redis_url 1)" \
    "COCKPIT_MAX_REQUEST_MB=$MAX_REQUEST_MB" \
    "COCKPIT_UPLOAD_MAX_MB=$UPLOAD_MAX_MB" \
    "COCKPIT_JOBS_MAX=$JOBS_MAX" \
    "COCKPIT_INTAKE_NICE=$INTAKE_NICE" \
    "COCKPIT_WARM=$WARM" \
    "COCKPIT_AUDIT_PRUNE_AFTER_DAYS=$AUDIT_PRUNE_AFTER_DAYS"
}

node_of_worker() { echo $(( ($1 - 1) % NODES + 1 )); }

# ---------------------------------------------------------------- processes

start_time_of() {  # the kernel's start time of pid $1 (empty if it is gone or a zombie)
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  read -r -a fields <<< "$stat"
  [ "${fields[0]}" != "Z" ] && printf '%s\n' "${fields[19]}"
  return 0
}

pid_of() {  # the recorded pid of $1 if that very process still runs
  local file=$PID_DIR/$1.pid pid started
  [ -f "$file" ] || return 1
  read -r pid started < "$file" || true
  [ -n "${pid:-}" ] && [ -n "${started:-}" ] && [ "$(start_time_of "$pid")" = "$started" ] || return 1
  printf '%s\n' "$pid"
}

is_running() { pid_of "$1" >/dev/null; }

# launch NAME LOG ENV_FILE CMD...: run CMD in its own session (its pid is its process group), output to LOG
launch() {
  local name=$1 log=$2 env_file=$3 pid
  shift 3
  local vars=()
  if [ -n "$env_file" ]; then
    mapfile -t vars < "$env_file"
  fi
  # fd 9 is serve.sh's lock: a daemon must not hold it
  (cd "$REPO" && exec env "${vars[@]}" setsid "$@" >>"$log" 2>&1 </dev/null 9>&-) &
  pid=$!
  printf '%s %s\n' "$pid" "$(start_time_of "$pid")" > "$PID_DIR/.$name.pid.tmp"
  mv "$PID_DIR/.$name.pid.tmp" "$PID_DIR/$name.pid"
}

# stop NAME [SIGNAL] [SECONDS]: signal the process group, wait, then kill what is left of it
stop_proc() {
  local name=$1 signal=${2:-TERM} wait_s=${3:-30} pid i
  if ! pid=$(pid_of "$name"); then
    rm -f "$PID_DIR/$name.pid"
    return 0
  fi
  kill "-$signal" -- "-$pid" 2>/dev/null || kill "-$signal" "$pid" 2>/dev/null || true
  for ((i = 0; i < wait_s * 10; i++)); do
    [ -n "$(start_time_of "$pid")" ] || break
    sleep 0.1
  done
  if [ -n "$(start_time_of "$pid")" ]; then
    echo "  $name 未在 ${wait_s} 秒内退出，强制结束" >&2
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  # what the leader left in its group (pool processes, Chromium of an export)
  if kill -0 -- "-$pid" 2>/dev/null; then
    sleep 1
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PID_DIR/$name.pid"
}

wait_http() {  # wait_http SECONDS URL...: until every URL answers 200
  python3 - "$@" <<'PY'
import sys, time, urllib.request
limit, urls = float(sys.argv[1]), list(sys.argv[2:])
end = time.time() + limit
while urls and time.time() < end:
    for url in list(urls):
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    urls.remove(url)
        except Exception:
            pass
    if urls:
        time.sleep(0.5)
if urls:
    print("未就绪：" + " ".join(urls), file=sys.stderr)
    sys.exit(1)
PY
}

wait_log() {  # wait_log SECONDS LOG OFFSET TEXT: until TEXT appears in LOG after byte OFFSET
  local limit=$1 log=$2 offset=$3 text=$4 i
  for ((i = 0; i < limit * 5; i++)); do
    if tail -c "+$((offset + 1))" "$log" 2>/dev/null | grep -qF -- "$text"; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

log_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# ---------------------------------------------------------------- installing

BROTLI_MODULE=/usr/lib/nginx/modules/ngx_http_brotli_static_module.so

install_missing() {
  local need=()
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  command -v nginx >/dev/null 2>&1 || need+=(nginx)
  [ -n "$OPSTORE_URL" ] || [ -n "$(pg_bindir)" ] || need+=(postgresql)
  # exports on the Celery workers: Chromium (charts), Noto CJK fonts and pango (PDF), as scripts/start.sh
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  fc-list 2>/dev/null | grep "Noto Sans CJK" >/dev/null || need+=(fonts-noto-cjk)
  fc-list 2>/dev/null | grep "Noto Serif CJK" >/dev/null || need+=(fonts-noto-cjk-extra)
  ldconfig -p 2>/dev/null | grep libpangoft2-1.0 >/dev/null || need+=(libpango-1.0-0 libpangoft2-1.0-0)
  local want_brotli=0
  if [ ! -f "$BROTLI_MODULE" ] && [ "$(id -u)" -eq 0 ]; then
    want_brotli=1
  fi
  if [ ${#need[@]} -gt 0 ] || [ "$want_brotli" -eq 1 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      [ ${#need[@]} -eq 0 ] || die "需要以 root 安装：${need[*]}（apt-get install -y --no-install-recommends ${need[*]}）"
    else
      apt-get update -qq
      # Debian 12 ships nginx's brotli module; without it nginx serves the gzip copies only
      if [ "$want_brotli" -eq 1 ] && apt_has libnginx-mod-http-brotli-static; then
        need+=(libnginx-mod-http-brotli-static)
      fi
      if [ ${#need[@]} -gt 0 ]; then
        say "安装 ${need[*]}"
        apt_install_quietly "${need[@]}"
      fi
    fi
  fi
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements.txt
}

# ---------------------------------------------------------------- the parts

prepare_dirs() {
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$PID_DIR" "$RUN_DIR/env" "$RUN_DIR/celery" "$REDIS_DIR" "$SHARED_DIR" \
    "$SHARED_DIR/staging" "$RUN_DIR/nginx/tmp"
  # the hand-over directory holds the versions and the staged uploads and changes of 数据管理
  chmod 0700 "$LOG_DIR" "$PID_DIR" "$RUN_DIR/env" "$RUN_DIR/celery" "$REDIS_DIR" "$SHARED_DIR" "$SHARED_DIR/staging"
  local i
  for ((i = 1; i <= NODES; i++)); do
    mkdir -p "${NODE_DIR[i]}"
    chmod 0700 "${NODE_DIR[i]}"
  done
  if [ ! -f "$SECRET_KEY_FILE" ]; then
    (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$SECRET_KEY_FILE.tmp" \
      && mv "$SECRET_KEY_FILE.tmp" "$SECRET_KEY_FILE")
    say "已生成所有节点共用的 SECRET_KEY：$SECRET_KEY_FILE（0600）"
  fi
  if [ ! -f "$REDIS_DIR/password" ]; then
    (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(24))' > "$REDIS_DIR/password")
  fi
}

write_env_files() {  # RUN_DIR/env/nodeN.env (0600: it holds the passwords)
  local i
  for ((i = 1; i <= NODES; i++)); do
    (umask 077 && node_env "$i" > "$RUN_DIR/env/node$i.env")
  done
}

start_redis() {
  if is_running redis; then
    return 0
  fi
  python3 deploy/render.py deploy/redis.conf.j2 "$REDIS_DIR/redis.conf" --mode 600 \
    bind=127.0.0.1 port="$REDIS_PORT" password="$(redis_password)" data_dir="$REDIS_DIR" \
    log_file="$LOG_DIR/redis.log" maxmemory="$REDIS_MAXMEMORY"
  say "启动 Redis（127.0.0.1:$REDIS_PORT）"
  launch redis "$LOG_DIR/redis.log" "" redis-server "$REDIS_DIR/redis.conf"
  local i
  for ((i = 0; i < 100; i++)); do
    if REDISCLI_AUTH="$(redis_password)" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
      return 0
    fi
    sleep 0.1
  done
  die "Redis 未能启动，见 $LOG_DIR/redis.log"
}

start_postgres() {
  [ -z "$OPSTORE_URL" ] || return 0
  if [ -f "$PG_DIR/data/postmaster.pid" ] && PGPASSWORD="$(pg_password "$PG_DIR" 2>/dev/null)" \
      "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; then
    return 0
  fi
  say "启动私有 PostgreSQL（127.0.0.1:$PG_PORT，数据在 $PG_DIR）"
  pg_start_cluster "$PG_DIR" "$PG_PORT" 9>&- || die "PostgreSQL 未能启动"
  pg_ensure_db "$PG_DIR" "$PG_PORT" cockpit
}

any_node_running() {
  local i
  for ((i = 1; i <= NODES; i++)); do
    if is_running "node$i"; then
      return 0
    fi
  done
  return 1
}

replication_available() { [ -f data/replicate.py ]; }

# the database: upgraded or settled after an interrupted publish once, on node 1, before any node
# serves; the other nodes copy it from the hand-over directory. Demo data only on request (a trial:
# DEMO_ARGS set, node 1 without a database); demo accounts never (python -m cockpit.users makes accounts)
prepare_database() {
  if any_node_running; then
    return 0
  fi
  local vars=() db1=${NODE_DIR[1]}/cockpit.duckdb
  mapfile -t vars < "$RUN_DIR/env/node1.env"
  if [ ! -e "$db1" ] && [ ! -L "$db1" ] && [ -n "$DEMO_ARGS" ]; then
    say "生成演示数据库：python -m data.demo $DEMO_ARGS"
    # shellcheck disable=SC2086
    env "${vars[@]}" python3 -m data.demo $DEMO_ARGS >> "$LOG_DIR/prepare.log" 2>&1 \
      || die "演示数据库未能生成，见 $LOG_DIR/prepare.log"
  fi
  say "准备数据库（节点 1：升级或收尾未完成的发布；不生成演示数据和演示账号）"
  env "${vars[@]}" python3 -m data.prepare >> "$LOG_DIR/prepare.log" 2> >(tee -a "$LOG_DIR/prepare.log" >&2) \
    || die "数据库未能准备好，见 $LOG_DIR/prepare.log"
  local i
  for ((i = 2; i <= NODES; i++)); do
    mapfile -t vars < "$RUN_DIR/env/node$i.env"
    say "节点 $i：从版本交接目录复制当前版本"
    env "${vars[@]}" python3 -m data.replicate sync >> "$LOG_DIR/node$i-follow.log" 2>&1 \
      || die "节点 $i 未能复制数据库，见 $LOG_DIR/node$i-follow.log"
  done
}

build_static() {
  if is_running nginx && [ -L "$STATIC_DIR" ]; then
    return 0
  fi
  local vars=() flags=()
  mapfile -t vars < "$RUN_DIR/env/node1.env"
  if [ -f "$BROTLI_MODULE" ]; then
    flags+=(--brotli)
  fi
  say "生成 nginx 的静态文件（$STATIC_DIR）"
  env "${vars[@]}" python3 -m web.static_build "$STATIC_DIR" "${flags[@]}" >> "$LOG_DIR/static.log" 2>&1 \
    || die "静态文件未能生成，见 $LOG_DIR/static.log"
  tail -n 1 "$LOG_DIR/static.log" | sed 's/^/  /'
}

start_nodes() {
  local i urls=()
  for ((i = 1; i <= NODES; i++)); do
    if ! is_running "node$i"; then
      say "启动节点 $i（127.0.0.1:${NODE_PORT[i - 1]}，数据目录 ${NODE_DIR[i]}）"
      env_file=$RUN_DIR/env/node$i.gunicorn.env
      (umask 077 && { cat "$RUN_DIR/env/node$i.env"
        printf '%s\n' "COCKPIT_BIND=127.0.0.1:${NODE_PORT[i - 1]}" "COCKPIT_WORKERS=$GUNICORN_WORKERS" \
          "COCKPIT_THREADS=$GUNICORN_THREADS" "COCKPIT_BEHIND_PROXY=1" "COCKPIT_DB_PREPARED=1" \
          "COCKPIT_PAGE_CACHE=$([ "${PAGE_CACHE_SIZE:-64}" -gt 0 ] && echo 1 || echo 0)" \
          "COCKPIT_PAGE_CACHE_SIZE=${PAGE_CACHE_SIZE:-64}"; } > "$env_file")
      launch "node$i" "$LOG_DIR/node$i.log" "$env_file" python3 -m gunicorn app:server -c gunicorn.conf.py
    fi
    if replication_available && ! is_running "node$i-follow"; then
      launch "node$i-follow" "$LOG_DIR/node$i-follow.log" "$RUN_DIR/env/node$i.env" \
        python3 -m data.replicate follow
    fi
    urls+=("http://127.0.0.1:${NODE_PORT[i - 1]}/healthz")
  done
  wait_http 180 "${urls[@]}" || die "节点未能就绪，见 $LOG_DIR/node*.log"
}

start_celery() {
  local i node offset
  for ((i = 1; i <= CELERY_WORKERS; i++)); do
    is_running "celery-w$i" && continue
    node=$(node_of_worker "$i")
    say "启动 Celery worker $i（导出，nice $EXPORT_NICE，读取节点 $node 的数据）"
    offset=$(log_size "$LOG_DIR/celery-w$i.log")
    # exports (their Chromium included) give way to the nodes' page requests, less so than publishes
    launch "celery-w$i" "$LOG_DIR/celery-w$i.log" "$RUN_DIR/env/node$node.env" \
      nice -n "$EXPORT_NICE" python3 -m celery -A web.celery_app:celery_app worker --hostname "cockpit-w$i@%h" --queues celery \
      --concurrency "$CELERY_CONCURRENCY" --loglevel INFO
    wait_log 120 "$LOG_DIR/celery-w$i.log" "$offset" " ready." || die "Celery worker $i 未能就绪，见 $LOG_DIR/celery-w$i.log"
  done
  # 数据管理's checks and publishes (web/jobs.py INTAKE_QUEUE): one at a time per worker, at a low CPU
  # priority so that the results rebuild of a publish does not starve the nodes serving requests
  for ((i = 1; i <= INTAKE_WORKERS; i++)); do
    is_running "celery-i$i" && continue
    node=$(node_of_worker "$i")
    say "启动数据管理 worker $i（校验与发布，nice $INTAKE_NICE，节点 $node 的数据）"
    offset=$(log_size "$LOG_DIR/celery-i$i.log")
    launch "celery-i$i" "$LOG_DIR/celery-i$i.log" "$RUN_DIR/env/node$node.env" \
      nice -n "$INTAKE_NICE" python3 -m celery -A web.celery_app:celery_app worker --hostname "cockpit-i$i@%h" \
      --queues cockpit-intake --concurrency 1 --loglevel INFO
    wait_log 120 "$LOG_DIR/celery-i$i.log" "$offset" " ready." || die "数据管理 worker $i 未能就绪，见 $LOG_DIR/celery-i$i.log"
  done
  if ! is_running celery-beat; then
    say "启动 Celery beat（审计日志夜间校验与清理）"
    offset=$(log_size "$LOG_DIR/celery-beat.log")
    launch celery-beat "$LOG_DIR/celery-beat.log" "$RUN_DIR/env/node1.env" \
      python3 -m celery -A web.celery_app:celery_app beat --schedule "$RUN_DIR/celery/beat-schedule" --loglevel INFO
    wait_log 60 "$LOG_DIR/celery-beat.log" "$offset" "beat: Starting" || die "Celery beat 未能启动，见 $LOG_DIR/celery-beat.log"
  fi
}

start_nginx() {
  if is_running nginx; then
    return 0
  fi
  local user=${NGINX_USER:-} module=""
  if [ -z "$user" ] && [ "$(id -u)" -eq 0 ]; then
    user=root  # the same user as everything else here (set NGINX_USER to another that can read RUN_DIR)
  fi
  [ -f "$BROTLI_MODULE" ] && module=$BROTLI_MODULE
  mkdir -p "$RUN_DIR/nginx/tmp"
  python3 deploy/render.py deploy/nginx.conf.j2 "$RUN_DIR/nginx/nginx.conf" \
    run_dir="$RUN_DIR" log_dir="$LOG_DIR" static_dir="$STATIC_DIR" listen_address="$LISTEN_ADDRESS" \
    port="$NGINX_PORT" workers="$NGINX_WORKERS" nginx_user="$user" brotli_module="$module" \
    trusted_proxies="${TRUSTED_PROXIES:-}" node_host=127.0.0.1 node_ports="${NODE_PORT[*]:0:$NODES}" \
    client_max_body_mb="$CLIENT_MAX_BODY_MB"
  nginx -t -q -e "$LOG_DIR/nginx-error.log" -p "$RUN_DIR/nginx" -c "$RUN_DIR/nginx/nginx.conf" \
    || die "nginx 配置无效：$RUN_DIR/nginx/nginx.conf"
  say "启动 nginx（$LISTEN_ADDRESS:$NGINX_PORT$([ -n "$module" ] && echo '，gzip 与 brotli 预压缩' || echo '，gzip 预压缩（无 brotli 模块）')）"
  launch nginx "$LOG_DIR/nginx-error.log" "" nginx -e "$LOG_DIR/nginx-error.log" -p "$RUN_DIR/nginx" \
    -c "$RUN_DIR/nginx/nginx.conf"
  wait_http 30 "http://127.0.0.1:$NGINX_PORT/healthz" || die "nginx 未能就绪，见 $LOG_DIR/nginx-error.log"
}

# ---------------------------------------------------------------- commands

cmd_start() {
  install_missing
  prepare_dirs
  if [ "$NODES" -gt 1 ] && ! replication_available; then
    die "多个节点需要数据版本的复制（data/replicate.py）；此版本请设置 NODES=1"
  fi
  start_redis
  start_postgres
  write_env_files
  prepare_database
  build_static
  start_nodes
  start_celery
  start_nginx
  local host=$LISTEN_ADDRESS
  [ "$host" = "0.0.0.0" ] && host=$(hostname -I 2>/dev/null | awk '{print $1}')
  echo
  echo "领导驾驶舱（生产模式）已启动：http://$host:$NGINX_PORT/"
  echo "  登录：http://$host:$NGINX_PORT/login    健康检查：http://$host:$NGINX_PORT/healthz"
  local i
  for ((i = 1; i <= NODES; i++)); do
    echo "  节点 $i：http://127.0.0.1:${NODE_PORT[i - 1]}/healthz（数据目录 ${NODE_DIR[i]}）"
  done
  echo "  日志：$LOG_DIR    停止：bash scripts/serve.sh stop"
}

cmd_stop() {
  local i name
  say "停止 nginx"
  stop_proc nginx QUIT 30
  stop_proc celery-beat TERM 15
  for name in "$PID_DIR"/celery-[wi]*.pid; do
    [ -e "$name" ] || continue
    name=$(basename "$name" .pid)
    say "停止 $name"
    stop_proc "$name" TERM 60  # a publish under way finishes (or is settled at the next start)
  done
  for name in "$PID_DIR"/node*.pid; do
    [ -e "$name" ] || continue
    name=$(basename "$name" .pid)
    say "停止 $name"
    stop_proc "$name" TERM 30
  done
  if [ -z "$OPSTORE_URL" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    say "停止 PostgreSQL"
    pg_stop_cluster "$PG_DIR"
  fi
  say "停止 Redis"
  stop_proc redis TERM 30
  local left=()
  for name in "$PID_DIR"/*.pid; do
    [ -e "$name" ] || continue
    is_running "$(basename "$name" .pid)" && left+=("$(basename "$name" .pid)")
  done
  if [ -f "$PG_DIR/data/postmaster.pid" ] && [ -z "$OPSTORE_URL" ]; then
    left+=(postgresql)
  fi
  [ ${#left[@]} -eq 0 ] || die "仍在运行：${left[*]}"
  echo "已全部停止"
}

health_line() {  # what a node's /healthz says, in one line
  python3 - "$1" <<'PY'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        b = json.load(r)
    print(f"版本 v{b.get('version')}，数据截至 {b.get('as_of')}，pid {b.get('pid')}")
except Exception as exc:
    print(f"健康检查失败：{type(exc).__name__}")
PY
}

cmd_status() {
  local names=(redis) name pid state detail code=0 i
  for ((i = 1; i <= NODES; i++)); do
    names+=("node$i")
    replication_available && names+=("node$i-follow")
  done
  for ((i = 1; i <= CELERY_WORKERS; i++)); do
    names+=("celery-w$i")
  done
  for ((i = 1; i <= INTAKE_WORKERS; i++)); do
    names+=("celery-i$i")
  done
  names+=(celery-beat nginx)
  printf '%-14s %-8s %-4s %s\n' 部件 pid 状态 说明
  for name in "${names[@]}"; do
    detail=""
    if pid=$(pid_of "$name"); then
      state=运行
      if [[ "$name" =~ ^node([0-9]+)$ ]]; then
        detail=$(health_line "http://127.0.0.1:${NODE_PORT[BASH_REMATCH[1] - 1]}/healthz")
      fi
    else
      pid=-
      state=停止
      code=3
    fi
    printf '%-14s %-8s %-4s %s\n' "$name" "$pid" "$state" "$detail"
  done
  if [ -z "$OPSTORE_URL" ]; then
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then
      printf '%-14s %-8s %-4s %s\n' postgresql "$(head -n 1 "$PG_DIR/data/postmaster.pid")" 运行 "$PG_DIR"
    else
      printf '%-14s %-8s %-4s\n' postgresql - 停止
      code=3
    fi
  fi
  return "$code"
}

cmd_env() {
  local n=${1:-1} line
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le "$NODES" ] || die "节点编号应为 1–$NODES"
  [ -f "$REDIS_DIR/password" ] || die "生产模式尚未启动过（bash scripts/serve.sh start）"
  while IFS= read -r line; do
    printf 'export %s=%q\n' "${line%%=*}" "${line#*=}"
  done < <(node_env "$n")
}

load_config
command=${1:-start}
case $command in
  start | stop)
    mkdir -p "$RUN_DIR"
    exec 9>"$RUN_DIR/serve.lock"
    flock -w 600 9 || die "另一个 serve.sh 正在运行"
    "cmd_$command"
    ;;
  status) cmd_status ;;
  env) cmd_env "${2:-1}" ;;
  *) die "用法：bash scripts/serve.sh [start|stop|status|env N]" ;;
esac
