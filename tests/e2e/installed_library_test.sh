#!/usr/bin/env bash
# e2e: install the project into a temporary prefix, build a service author's program against
# the installed library with pkg-config only, and run two processes of it against the built
# server on a fresh database: one packs and logs, the other unpacks, logs and makes children.
# Usage: installed_library_test.sh BUILD_DIR SOURCE_DIR SERVER_BIN  (UTRACKER_TEST_DATABASE_URL set)
set -euo pipefail
BUILD_DIR="$1" SOURCE_DIR="$2" SERVER_BIN="$3"
: "${UTRACKER_TEST_DATABASE_URL:?UTRACKER_TEST_DATABASE_URL is not set: run deploy/local/test.sh}"
fail() { echo "FAIL: $*" >&2; exit 1; }

WORK="$(mktemp -d /tmp/utracker-install-test.XXXXXX)"
DB="utracker_install_$$_$RANDOM"
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null || true
  psql "$UTRACKER_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cmake --install "$BUILD_DIR" --prefix "$WORK/prefix" >/dev/null
export PKG_CONFIG_PATH="$WORK/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
# UTRACKER_TEST_CXXFLAGS: what the build adds to every compile (the sanitizers, when on), which
# a program linking the instrumented static libraries needs too.
c++ -std=c++17 -O1 ${UTRACKER_TEST_CXXFLAGS:-} -o "$WORK/service_author" \
  "$SOURCE_DIR/tests/e2e/service_author/service_author.cc" \
  $(pkg-config --cflags --libs utracker) || fail "a program does not build against the installed library"

psql "$UTRACKER_TEST_DATABASE_URL" -qc "CREATE DATABASE $DB" >/dev/null
URL="${UTRACKER_TEST_DATABASE_URL%/*}/$DB"
"$SERVER_BIN" --listen 127.0.0.1:0 --database_url "$URL" --migrate > "$WORK/server.out" &
SERVER_PID=$!
for _ in $(seq 300); do grep -q "listening on" "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
ADDR="$(sed -n 's/.*listening on //p' "$WORK/server.out")"
[ -n "$ADDR" ] || fail "server did not start"

ROOT="$("$WORK/service_author" "$ADDR" pack alice "$WORK/message.bin")" || fail "pack/log failed"
read -r GOT CHILD GRANDCHILD DEPTH < <("$WORK/service_author" "$ADDR" handle bob "$WORK/message.bin") ||
  fail "unpack/log in another process failed"
[ "$GOT" = "$ROOT" ] || fail "the id did not survive: packed $ROOT, unpacked $GOT"
[ "$DEPTH" = 2 ] || fail "grandchild depth is $DEPTH, want 2"
"$WORK/service_author" "$ADDR" garbage >/dev/null || fail "garbage was not rejected cleanly"

q() { psql "$URL" -Atc "$1"; }
[ "$(q "SELECT count(*) FROM events WHERE root_id = '$ROOT'")" = 6 ] || fail "want 6 events in the flow, got $(q "SELECT count(*) FROM events WHERE root_id = '$ROOT'")"
[ "$(q "SELECT string_agg(service || ':' || kind, ',' ORDER BY occurred_at) FROM events WHERE message_id = '$ROOT'")" = \
  "alice:sent,bob:received,bob:note,bob:processed" ] || fail "root events: $(q "SELECT string_agg(service || ':' || kind, ',' ORDER BY occurred_at) FROM events WHERE message_id = '$ROOT'")"
[ "$(q "SELECT parent_id FROM messages WHERE id = '$CHILD'")" = "$ROOT" ] || fail "child lineage"
[ "$(q "SELECT root_id || ' ' || depth FROM messages WHERE id = '$GRANDCHILD'")" = "$ROOT 2" ] || fail "grandchild lineage"
[ "$(q "SELECT convert_from(content, 'UTF8') FROM messages WHERE id = '$ROOT'")" = '{"command":"list","password":"[REDACTED]"}' ] ||
  fail "stored payload: $(q "SELECT convert_from(content, 'UTF8') FROM messages WHERE id = '$ROOT'")"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server did not exit 0 on SIGTERM"; SERVER_PID=
echo "PASS: installed library used by two processes; ids, lineage and redaction as expected"
