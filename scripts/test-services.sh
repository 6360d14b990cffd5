#!/usr/bin/env bash
# Start throw-away PostgreSQL and Redis servers on loopback for the tests that cover them.
#   scripts/test-services.sh start   → writes .cache/services.env (TEST_POSTGRES_URL, TEST_REDIS_URL)
#   scripts/test-services.sh stop
# Installs Debian's postgresql and redis-server when they are missing (needs root and apt), and
# Debian's chromium (with a colour emoji font, for readable screenshots) for the browser tests:
# they drive /usr/bin/chromium, nothing is downloaded at test time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${KABINET_SERVICES_DIR:-/tmp/kabinet-test-services-$(printf %s "$root" | md5sum | cut -c1-8)}  # one per checkout
envfile="$root/.cache/services.env"
mkdir -p "$root/.cache"

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [[ -x "$d/initdb" ]] && { echo "$d"; return; }; done
  return 1
}

install_missing() {
  local need=()
  pg_bin >/dev/null || need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  [[ -x /usr/bin/chromium ]] || need+=(chromium)
  ((${#need[@]})) || return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "test-services: missing ${need[*]}; install them (apt-get install ${need[*]}) and run again" >&2
    exit 1
  fi
  # screenshots without squares for emoji: installed along, but nobody has to have it
  dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || need+=(fonts-noto-color-emoji)
  echo "test-services: installing ${need[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts a default cluster/server on install: ours run on their own ports.
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

as_pg() {  # initdb and postgres refuse to run as root
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  stop >/dev/null 2>&1 || true
  install_missing
  mkdir -p "$state"
  local bin pgport rport
  bin=$(pg_bin)
  pgport=$(free_port); rport=$(free_port)
  mkdir -p "$state/pg"
  [[ $(id -u) -eq 0 ]] && chown -R postgres "$state/pg" && chmod 755 "$state"
  as_pg "$bin/initdb" -D "$state/pg/data" -U kabinet --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_pg "$bin/pg_ctl" -D "$state/pg/data" -l "$state/pg/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $pgport -k $state/pg -c fsync=off -c max_connections=200" start >/dev/null
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$pgport" -U kabinet kabinet_test
  redis-server --bind 127.0.0.1 --port "$rport" --daemonize yes --save '' --appendonly no \
    --dir "$state" --pidfile "$state/redis.pid" --logfile "$state/redis.log"
  for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
  cat > "$envfile" <<ENV
export TEST_POSTGRES_URL=postgresql+asyncpg://kabinet@127.0.0.1:$pgport/kabinet_test
export TEST_REDIS_URL=redis://127.0.0.1:$rport/0
ENV
  echo "test-services: PostgreSQL on 127.0.0.1:$pgport, Redis on 127.0.0.1:$rport"
}

stop() {
  local bin
  if [[ -d "$state/pg/data" ]] && bin=$(pg_bin); then
    as_pg "$bin/pg_ctl" -D "$state/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [[ -f "$state/redis.pid" ]]; then
    local pid; pid=$(cat "$state/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  for _ in 1 2 3; do rm -rf "$state" 2>/dev/null && break; sleep 0.5; done
  rm -f "$envfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
