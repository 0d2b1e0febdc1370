#!/usr/bin/env bash
# Throwaway database servers for the tests: PostgreSQL and a Spark Connect server, on 127.0.0.1 only.
#
#   eval "$(bash .ci/services.sh start)"     # start + load both (idempotent); prints the exports
#   bash .ci/services.sh start postgres      # or only one of them: postgres | spark | all
#   eval "$(bash .ci/services.sh env)"       # the exports of whatever is running
#   bash .ci/services.sh status
#   bash .ci/services.sh stop                # stop everything and remove its files (always safe)
#   bash .ci/services.sh dir                 # the state dir (logs, data) of this checkout's servers
#
# stdout carries only `export NAME=value` lines; progress and timings go to stderr. See .ci/SERVERS.md.
# Settings (environment): PYTHON (python with duckdb; psycopg and pyspark are pip-installed into it
# when it is a virtualenv and they are missing, unless NL2SQL_SERVICES_PIP=0), SHARED_DIR (default: <repo>/../shared),
# NL2SQL_SERVICES_DIR (state dir; default: one per repo under $TMPDIR), NL2SQL_PG_PORT,
# NL2SQL_SPARK_PORT (default 15002 when free), NL2SQL_PG_OS_USER (when root; default nl2sqlci),
# NL2SQL_SPARK_MEMORY (driver memory, default 1g), NL2SQL_SPARK_CATALOG (in-memory | hive).
set -euo pipefail
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac  # runuser, useradd

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
if [ -z "${SHARED_DIR:-}" ]; then
  SHARED_DIR=$ROOT/../shared
  if [ ! -d "$SHARED_DIR" ]; then  # a git worktree: shared/ sits beside the main checkout
    common=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
    [ -n "$common" ] && [ -d "$(dirname "$common")/../shared" ] && SHARED_DIR=$(dirname "$common")/../shared
  fi
fi
if [ -z "${PYTHON:-}" ]; then
  if [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then PYTHON=$VIRTUAL_ENV/bin/python
  else PYTHON=$(command -v python3 || command -v python); fi
fi
TMPBASE=${TMPDIR:-/tmp}
STATE=${NL2SQL_SERVICES_DIR:-$TMPBASE/nl2sql-services-$(id -u)-$(printf %s "$ROOT" | cksum | cut -d' ' -f1)}
PG_DIR=$STATE/postgres
SPARK_DIR=$STATE/spark
SECRET_DIR=/tmp/nl2sql-secret   # fixed paths that the attack cases name
OUT_DIR=/tmp/nl2sql-out
PG_SUPER_PW=nl2sql-super PG_RO_PW=nl2sql-ro PG_RW_PW=nl2sql-rw

say() { printf '[services] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
is_root() { [ "$(id -u)" = 0 ]; }

free_port() {  # free_port [preferred]
  "$PYTHON" - "${1:-0}" <<'PY'
import socket, sys
want = int(sys.argv[1])
for port in ([want] if want else []) + [0]:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(s.getsockname()[1])
    break
s.close()
PY
}

apt_install() {
  is_root && command -v apt-get >/dev/null || die "missing: $*; install them (apt-get install $*)"
  say "apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || apt-get update >&2
  apt-get install -y -qq --no-install-recommends "$@" >&2
}

py_has() { "$PYTHON" -c "import $1" 2>/dev/null; }
py_need() {  # py_need MODULE PIP_SPEC...
  local mod=$1; shift
  py_has "$mod" && return 0
  if [ "${NL2SQL_SERVICES_PIP:-1}" != 0 ] && "$PYTHON" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then
    say "pip install $* (into $("$PYTHON" -c 'import sys; print(sys.prefix)'))"
    "$PYTHON" -m pip install -q "$@" >&2
  else
    die "$PYTHON has no module $mod: pip install $*"
  fi
}

tail_log() {  # tail_log FILE...
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    say "---- last lines of $f"
    tail -n 40 "$f" >&2
  done
}

# ----------------------------------------------------------------------------------------------- state

prepare_state() {
  if [ -L "$STATE" ]; then die "$STATE is a symlink"; fi
  if [ -e "$STATE" ] && [ "$(stat -c %u "$STATE")" != "$(id -u)" ]; then die "$STATE belongs to another user"; fi
  mkdir -p "$STATE"
  chmod 755 "$STATE"  # the PostgreSQL OS user must reach its data dir inside
}

lock() {  # lock SECONDS: one start/stop at a time per state dir (servers never inherit fd 9)
  mkdir -p "$(dirname "$STATE")"
  exec 9>"$STATE.lock"
  flock -w "$1" 9 && return 0
  [ "$cmd" = stop ] && { say "warning: $STATE.lock still held after $1 s; stopping anyway"; return 0; }
  die "another start holds $STATE.lock"
}

write_env() {  # the exports of whatever is running
  if [ -f "$PG_DIR/ready" ] && pg_running; then cat "$PG_DIR/env"; fi
  if [ -f "$SPARK_DIR/ready" ] && spark_running; then cat "$SPARK_DIR/env"; fi
  return 0
}

# ------------------------------------------------------------------------------------------ PostgreSQL

pg_bindir() {
  local p d
  for p in pg_ctl initdb; do command -v "$p" >/dev/null || { p=; break; }; done
  if [ -n "$p" ]; then
    d=$(dirname "$(readlink -f "$(command -v initdb)")")
    [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && { echo "$d"; return 0; }
  fi
  # Debian/Ubuntu packages keep the server binaries off PATH
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  return 1
}

pg_install() {
  if is_root; then  # the package must not create and start its own cluster on 5432
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/00-no-main-cluster.conf
  fi
  apt_install postgresql postgresql-contrib
}

pg_user() {  # the OS user that runs the server (PostgreSQL refuses root)
  if is_root; then echo "${NL2SQL_PG_OS_USER:-nl2sqlci}"; else id -un; fi
}

as_pg() {
  if is_root; then runuser -u "$(pg_user)" -- "$@"; else "$@"; fi
}

pg_running() {
  [ -f "$PG_DIR/bindir" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 1
  as_pg "$(cat "$PG_DIR/bindir")/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1
}

pg_start() {
  if pg_running && [ -f "$PG_DIR/ready" ]; then say "postgres: already running"; return 0; fi
  [ -e "$PG_DIR" ] && { say "postgres: cleaning up a previous, unfinished start"; pg_stop; }
  local t0 bindir user port pwfile
  bindir=$(pg_bindir) || { pg_install; bindir=$(pg_bindir) || die "PostgreSQL binaries not found after install"; }
  py_need duckdb duckdb
  py_need psycopg "psycopg[binary]"
  t0=$(now)
  user=$(pg_user)
  if is_root && ! id -u "$user" >/dev/null 2>&1; then
    say "postgres: creating OS user $user"
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
  fi
  mkdir -p "$PG_DIR/sock"
  echo "$bindir" > "$PG_DIR/bindir"
  if is_root && ! runuser -u "$user" -- test -x "$PG_DIR"; then
    rm -rf "$PG_DIR"; die "OS user $user cannot reach $PG_DIR: set NL2SQL_SERVICES_DIR to a world-traversable place"
  fi
  pwfile=$PG_DIR/pwfile
  printf '%s\n' "$PG_SUPER_PW" > "$pwfile"
  is_root && chown -R "$user:" "$PG_DIR"
  chmod 700 "$PG_DIR/sock"

  say "postgres: initdb ($("$bindir/postgres" --version), OS user $user)"
  if ! as_pg "$bindir/initdb" -D "$PG_DIR/data" -U postgres --pwfile="$pwfile" -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 -N > "$PG_DIR/initdb.log" 2>&1; then
    tail_log "$PG_DIR/initdb.log"; pg_stop; die "initdb failed"
  fi
  rm -f "$pwfile"
  cat > "$PG_DIR/data/pg_hba.conf" <<'EOF'
# throwaway test server: the socket is private to its OS user; TCP only from 127.0.0.1, with a password
local all all                trust
host  all all 127.0.0.1/32   scram-sha-256
EOF
  local try
  for try in 1 2 3; do
    port=$(free_port "${NL2SQL_PG_PORT:-0}")
    cat > "$PG_DIR/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_DIR/sock'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    # PGHOST/PGPORT/PGUSER in the server's environment: libpq inside the server (dblink) reaches this
    # server as postgres by default, as on a stock install where the OS user is postgres
    if as_pg env PGHOST="$PG_DIR/sock" PGPORT="$port" PGUSER=postgres "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" \
        -w -t 60 start >/dev/null 2>&1 9>&-; then
      break
    fi
    grep -q "could not bind\|already in use" "$PG_DIR/postgres.log" 2>/dev/null && [ "$try" -lt 3 ] && continue
    tail_log "$PG_DIR/postgres.log"; pg_stop; die "PostgreSQL did not start"
  done
  local base="postgresql://postgres:$PG_SUPER_PW@127.0.0.1:$port"
  say "postgres: up on 127.0.0.1:$port after $(since "$t0") s"
  echo "$(since "$t0")" > "$PG_DIR/start_seconds"

  local t1 dumps
  t1=$(now)
  dumps=$SHARED_DIR/benchmarks/sql-eval/dumps
  [ -d "$dumps" ] || say "postgres: $dumps not found (set SHARED_DIR): sql-eval databases are skipped"
  if ! "$PYTHON" "$HERE/load_postgres.py" --base "$base" --shop-dir "$ROOT/sample_data/shop" --dumps-dir "$dumps" \
      --psql "$bindir/psql" --ro-password "$PG_RO_PW" --rw-password "$PG_RW_PW" > "$PG_DIR/load.json"; then
    tail_log "$PG_DIR/postgres.log"; pg_stop; die "loading PostgreSQL failed"
  fi
  echo "$(since "$t1")" > "$PG_DIR/load_seconds"
  attack_fixtures
  cat > "$PG_DIR/env" <<EOF
export NL2SQL_TEST_PG_URL='$base/shop'
export NL2SQL_TEST_PG_RO_URL='postgresql://nl2sql_ro:$PG_RO_PW@127.0.0.1:$port/shop'
export NL2SQL_TEST_PG_RW_URL='postgresql://nl2sql_rw:$PG_RW_PW@127.0.0.1:$port/shop'
export NL2SQL_TEST_PG_BASE='$base'
export NL2SQL_TEST_PG_LOG='$PG_DIR/postgres.log'
EOF
  touch "$PG_DIR/ready"
  say "postgres: loaded in $(since "$t1") s (total $(since "$t0") s): $(cat "$PG_DIR/load.json")"
}

pg_stop() {
  if [ -f "$PG_DIR/bindir" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    as_pg "$(cat "$PG_DIR/bindir")/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 || {
      # last resort: the postmaster's pid is the first line of postmaster.pid
      local pid; pid=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null || true)
      [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    }
    say "postgres: stopped"
  fi
  rm -rf "$PG_DIR"
}

# Files the PostgreSQL and Spark attack cases read or write at fixed paths: a canary to (not) leak and
# a writable folder to (not) write into. Removed by stop.
attack_fixtures() {
  if [ ! -e "$SECRET_DIR" ]; then
    mkdir -p "$SECRET_DIR"
    printf 'name,secret\nci,SECRET-CANARY-42\n' > "$SECRET_DIR/secret.csv"
    touch "$SECRET_DIR/.made-by-nl2sql-services"
    chmod 755 "$SECRET_DIR"; chmod 644 "$SECRET_DIR/secret.csv"
  fi
  if [ ! -e "$OUT_DIR" ]; then
    mkdir -p "$OUT_DIR"
    touch "$OUT_DIR/.made-by-nl2sql-services"
  fi
  # the servers' OS users must be able to write there, or a write attack fails for the wrong reason
  if [ -O "$OUT_DIR" ] && [ ! -L "$OUT_DIR" ]; then chmod 1777 "$OUT_DIR"; fi
  if [ -O "$SECRET_DIR" ] && [ ! -L "$SECRET_DIR" ]; then chmod a+rx "$SECRET_DIR"; fi
  return 0
}

attack_fixtures_remove() {
  local d
  for d in "$SECRET_DIR" "$OUT_DIR"; do
    [ -f "$d/.made-by-nl2sql-services" ] && rm -rf "$d"
  done
  return 0
}

# ------------------------------------------------------------------------------------- Spark Connect

spark_home() { "$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))' 2>/dev/null; }

spark_pid() { cat "$SPARK_DIR"/spark-*.pid 2>/dev/null | head -n 1 || true; }

spark_running() {
  local pid; pid=$(spark_pid)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

java_ok() {
  command -v java >/dev/null || return 1
  local v; v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  [ -n "$v" ] && [ "$v" -ge 17 ]
}

spark_start() {
  if spark_running && [ -f "$SPARK_DIR/ready" ]; then say "spark: already running"; return 0; fi
  [ -e "$SPARK_DIR" ] && { say "spark: cleaning up a previous, unfinished start"; spark_stop; }
  local t0 home port mem
  java_ok || apt_install openjdk-17-jre-headless
  java_ok || die "Spark needs Java 17 or later"
  py_need pyspark "pyspark[connect]==4.3.0"
  py_need grpc "pyspark[connect]==4.3.0"
  t0=$(now)
  home=$(spark_home) || die "pyspark not importable with $PYTHON"
  [ -x "$home/sbin/start-connect-server.sh" ] && ls "$home"/jars/spark-connect_*.jar >/dev/null 2>&1 ||
    die "$home has no Spark Connect server (need the full pyspark package, not pyspark-client)"
  port=$(free_port "${NL2SQL_SPARK_PORT:-15002}")
  mem=${NL2SQL_SPARK_MEMORY:-1g}
  mkdir -p "$SPARK_DIR"/{conf,logs,local,tmp,warehouse,derby,ivy}
  cat > "$SPARK_DIR/conf/log4j2.properties" <<'EOF'
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss.SSS} %p %c{1}: %m%n%ex
logger.connect.name = org.apache.spark.sql.connect.service.SparkConnectServer
logger.connect.level = info
EOF
  say "spark: starting Spark Connect $(basename "$home"/jars/spark-connect_*.jar .jar | sed 's/^spark-connect_[0-9.]*-//') on 127.0.0.1:$port"
  # AWS_SECRET_ACCESS_KEY: a canary that a reflect() attack case would leak (never a real key)
  env -u SPARK_REMOTE -u SPARK_CONNECT_MODE_ENABLED \
    SPARK_HOME="$home" SPARK_CONF_DIR="$SPARK_DIR/conf" SPARK_LOG_DIR="$SPARK_DIR/logs" SPARK_PID_DIR="$SPARK_DIR" \
    SPARK_IDENT_STRING=nl2sql SPARK_LOCAL_IP=127.0.0.1 \
    PYSPARK_PYTHON="$PYTHON" AWS_SECRET_ACCESS_KEY=SPARK-CANARY-47 \
    "$home/sbin/start-connect-server.sh" \
      --master 'local[2]' --driver-memory "$mem" \
      --conf spark.ui.enabled=false \
      --conf spark.connect.grpc.binding.address=127.0.0.1 \
      --conf spark.connect.grpc.binding.port="$port" \
      --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 \
      --conf spark.sql.catalogImplementation="${NL2SQL_SPARK_CATALOG:-in-memory}" \
      --conf spark.sql.warehouse.dir="$SPARK_DIR/warehouse" \
      --conf spark.local.dir="$SPARK_DIR/local" \
      --conf spark.jars.ivy="$SPARK_DIR/ivy" \
      --conf spark.sql.shuffle.partitions=4 \
      --conf "spark.driver.extraJavaOptions=-XX:-UsePerfData -Djava.io.tmpdir=$SPARK_DIR/tmp -Dderby.system.home=$SPARK_DIR/derby" \
      --conf "spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName=$SPARK_DIR/metastore_db;create=true" \
      >/dev/null 2>"$SPARK_DIR/logs/start.err" 9>&- || { tail_log "$SPARK_DIR"/logs/*; spark_stop; die "start-connect-server.sh failed"; }
  local spid; spid=$(spark_pid)
  if ! "$PYTHON" "$HERE/load_spark.py" --url "sc://127.0.0.1:$port" --shop-dir "$ROOT/sample_data/shop" \
      --timeout 240 ${spid:+--pid "$spid"} > "$SPARK_DIR/load.json"; then
    tail_log "$SPARK_DIR"/logs/*; spark_stop; die "Spark Connect did not start or load"
  fi
  local rss; rss=$(awk '/VmRSS/ { printf "%d MiB", $2 / 1024 }' "/proc/$(spark_pid)/status" 2>/dev/null || echo "?")
  cat > "$SPARK_DIR/env" <<EOF
export NL2SQL_TEST_SPARK_URL='sc://127.0.0.1:$port'
export NL2SQL_TEST_SPARK_WAREHOUSE='$SPARK_DIR/warehouse'
EOF
  attack_fixtures
  touch "$SPARK_DIR/ready"
  say "spark: up and loaded in $(since "$t0") s, server RSS $rss: $(cat "$SPARK_DIR/load.json")"
}

spark_stop() {
  local pid; pid=$(spark_pid)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    say "spark: stopped"
  fi
  rm -rf "$SPARK_DIR"
}

# ---------------------------------------------------------------------------------------------- main

rm_state_if_idle() {
  if [ ! -e "$PG_DIR" ] && [ ! -e "$SPARK_DIR" ]; then
    attack_fixtures_remove
    rm -rf "$STATE"; rm -f "$STATE.lock"
  fi
}

which_services() {
  case "${1:-all}" in
    all|"") echo "postgres spark" ;;
    postgres|pg) echo postgres ;;
    spark) echo spark ;;
    *) die "unknown service '$1' (postgres, spark or all)" ;;
  esac
}

cmd=${1:-}
svc=$(which_services "${2:-all}")
case "$cmd" in
  start)
    lock 900; prepare_state
    trap rm_state_if_idle EXIT  # a failed first start leaves nothing behind
    for s in $svc; do
      case $s in postgres) pg_start ;; spark) spark_start ;; esac
    done
    write_env
    ;;
  stop)
    lock 120
    for s in $svc; do
      case $s in postgres) pg_stop ;; spark) spark_stop ;; esac
    done
    rm_state_if_idle
    ;;
  env)
    write_env
    ;;
  dir)
    echo "$STATE"
    ;;
  status)
    if pg_running && [ -f "$PG_DIR/ready" ]; then say "postgres: running ($(grep PG_URL= "$PG_DIR/env" | cut -d"'" -f2))"
    else say "postgres: not running"; fi
    if spark_running && [ -f "$SPARK_DIR/ready" ]; then say "spark: running ($(grep SPARK_URL= "$SPARK_DIR/env" | cut -d"'" -f2))"
    else say "spark: not running"; fi
    say "state: $STATE"
    ;;
  *)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
