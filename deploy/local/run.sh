#!/usr/bin/env bash
# The README's run command: installs what is missing, builds Release, starts a private
# PostgreSQL cluster whose data persists between runs, applies migrations and runs
# utracker-server on 127.0.0.1:50051 in the foreground. Ctrl-C stops the server and then
# this PostgreSQL too (the data stays; the next run starts it again).
# With --demo it also runs the seed's alice/bob/carl example against the server (one new
# conversation a second) until Ctrl-C.
# Environment: UTRACKER_LISTEN (default 127.0.0.1:50051), UTRACKER_DATA_DIR.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DEMO=0
for arg in "$@"; do
  case "$arg" in
    --demo) DEMO=1 ;;
    *) ut_die "unknown argument $arg (usage: deploy/local/run.sh [--demo])" ;;
  esac
done

ut_install_deps
BUILD_DIR="$UT_ROOT/build/release"
ut_build Release "$BUILD_DIR"

# The data directory lives in the clone (.var/pg) unless PostgreSQL's user cannot reach it
# (a clone in root's home): then under /var/lib/micro-tracker.
DATA_DIR="${UTRACKER_DATA_DIR:-}"
if [ -z "$DATA_DIR" ]; then
  DATA_DIR="$UT_ROOT/.var/pg"
  mkdir -p "$UT_ROOT/.var"
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$UT_ROOT/.var"; then
    DATA_DIR="/var/lib/micro-tracker/pg"
  fi
fi
if [ -f "$DATA_DIR/data/postgresql.auto.conf" ]; then
  PORT="$(ut_pg_port "$DATA_DIR")"
  if [ -z "$PORT" ]; then
    PORT="$(ut_free_port 54329)"  # the port line is gone (ALTER SYSTEM RESET ALL)
  elif ! ut_as_pg "$UT_PG_BIN/pg_ctl" -D "$DATA_DIR/data" status >/dev/null 2>&1 &&
     (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    PORT="$(ut_free_port 54329)"  # our old port is taken by something else now
  fi
else
  PORT="$(ut_free_port 54329)"
fi
ut_pg_init "$DATA_DIR" "$PORT"
ut_pg_start "$DATA_DIR"
trap 'ut_log "stopping PostgreSQL"; ut_pg_stop "$DATA_DIR"' EXIT

ADMIN_URL="$(ut_pg_url "$DATA_DIR" postgres)"
if ! psql "$ADMIN_URL" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'utracker'" | grep -q 1; then
  psql "$ADMIN_URL" -qc "CREATE DATABASE utracker"
fi
DATABASE_URL="$(ut_pg_url "$DATA_DIR" utracker)"
LISTEN="${UTRACKER_LISTEN:-127.0.0.1:50051}"
NOW="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

cat >&2 <<MSG

  PostgreSQL (data: $DATA_DIR/data, stopped again when the server stops):
    psql '$DATABASE_URL'

  utracker-server on $LISTEN. Try it with grpcurl (see README.md for more):
    grpcurl -plaintext $LISTEN list
    grpcurl -plaintext -d '{"seq":1,"events":[{"event_id":"0190a1a0-0000-7000-8000-000000000001","message_id":"0190a1a0-0000-7000-8000-0000000000aa","service":"alice","kind":"EVENT_KIND_SENT","destination":"bob","occurred_at":"$NOW"}]}' $LISTEN utracker.v1.Tracker/LogEvents
    grpcurl -plaintext -d '{"message_id":"0190a1a0-0000-7000-8000-0000000000aa"}' $LISTEN utracker.v1.Flows/GetFlow
    grpcurl -plaintext -d '{}' $LISTEN utracker.v1.Alerts/WatchAlerts

  The CLI and the alice/bob/carl demo (or run this script with --demo):
    $BUILD_DIR/client/utracker --help
    $BUILD_DIR/client/examples/alice_bob_carl --server $LISTEN --messages 20
    $BUILD_DIR/client/utracker flow --server $LISTEN ID
    $BUILD_DIR/client/utracker alerts --server $LISTEN --follow
    $BUILD_DIR/client/examples/alice_bob_carl --server $LISTEN --messages 0 --stop bob   (bob breaks)

  Ctrl-C stops the server (in-flight batches are committed first) and PostgreSQL.

MSG
"$BUILD_DIR/server/utracker-server" --listen "$LISTEN" --database_url "$DATABASE_URL" --migrate &
SERVER_PID=$!
DEMO_PID=
trap 'kill -TERM $SERVER_PID $DEMO_PID 2>/dev/null || true' INT TERM
if [ "$DEMO" = 1 ]; then
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/${LISTEN%:*}/${LISTEN##*:}") 2>/dev/null && break
    sleep 0.1
  done
  "$BUILD_DIR/client/examples/alice_bob_carl" --server "$LISTEN" --messages 0 --interval 1s &
  DEMO_PID=$!
fi
wait $SERVER_PID || wait $SERVER_PID || true
[ -n "$DEMO_PID" ] && kill -TERM "$DEMO_PID" 2>/dev/null || true
