#!/usr/bin/env bash
# Throwaway PostgreSQL + Redis for the test suite (used by CI, handy locally).
#
#   eval "$(bash .ci/services.sh start)"   # starts both, prints `export ...` lines
#   bash bin/test
#   bash .ci/services.sh stop              # stops both, deletes their data
#
# Must run as root (PostgreSQL runs as the `postgres` OS user via runuser).
# Progress goes to stderr; only the export lines go to stdout.
# Overridable: PG_BIN, PG_PORT (54329), REDIS_PORT (63799).
set -euo pipefail
cd /  # runuser (as postgres) must be able to enter the working directory

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT="${PG_PORT:-54329}"
REDIS_PORT="${REDIS_PORT:-63799}"

log() { echo "$*" >&2; }

stop_services() {
    local dir="${1:-}"
    if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
        log "== stopping Redis"
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    fi
    if [ -n "$dir" ] && [ -d "$dir" ]; then
        if [ -f "$dir/data/postmaster.pid" ]; then
            log "== stopping PostgreSQL"
            runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
        fi
        rm -rf -- "$dir"
    fi
}

start_services() {
    if [ "$(id -u)" -ne 0 ]; then
        log "services.sh: must run as root"; exit 1
    fi
    if [ ! -x "$PG_BIN/initdb" ]; then
        log "services.sh: PostgreSQL binaries not found in $PG_BIN (set PG_BIN)"; exit 1
    fi
    if ! command -v redis-server >/dev/null 2>&1; then
        log "services.sh: redis-server not found"; exit 1
    fi
    if ! id postgres >/dev/null 2>&1; then
        log "== creating OS user postgres"
        useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi

    local dir
    dir="$(mktemp -d -t portal-services.XXXXXX)"
    # If anything below fails, tear down what was started before exiting.
    trap 'stop_services "$dir"' ERR

    log "== starting PostgreSQL on 127.0.0.1:$PG_PORT"
    mkdir -p "$dir/sock"
    chown -R postgres: "$dir"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres \
        --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; false; }
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -w -l "$dir/pg.log" \
        -o "-k $dir/sock -c listen_addresses=127.0.0.1 -p $PG_PORT -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null \
        || { cat "$dir/pg.log" >&2; false; }
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres portal

    log "== starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$dir" --logfile "$dir/redis.log" --daemonize yes >/dev/null
    local i
    for i in $(seq 1 50); do
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null \
        || { cat "$dir/redis.log" >&2; false; }

    trap - ERR
    cat <<EXPORTS
export CI_SERVICES_DIR='$dir'
export DATABASE_URL='postgres://postgres@127.0.0.1:$PG_PORT/portal'
export REDIS_URL='redis://127.0.0.1:$REDIS_PORT/0'
export CELERY_BROKER_URL='redis://127.0.0.1:$REDIS_PORT/0'
EXPORTS
}

case "${1:-}" in
    start) start_services ;;
    stop)  stop_services "${2:-${CI_SERVICES_DIR:-}}" ;;
    *)     echo "usage: $0 start | stop [DIR]" >&2; exit 2 ;;
esac
