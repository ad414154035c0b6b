#!/usr/bin/env bash
# Flow-query benchmark: loads N generated events (default 10 M spread over 24 h; flows of 4
# messages, 8 services) plus one flow of 1 000 messages into a throwaway PostgreSQL with
# binary COPY, starts utracker-server on it, waits for its rollup job to fold them (and
# prints how fast it folded), then times, nine times each (medians):
#   GetServiceGraph over a 24 h window, GetFlow of the 1 000-message flow, a ListMessages page
#   (50 messages of one service); then, with the server stopped, nine alert evaluations at
#   the end of the generated day (10 000 of the messages stuck): alert_scan_ms=<median>.
# Right after the queries, as a baseline in the same minutes: nine pairs of GetFlow and PostgreSQL alone
# reading the same rows (the server's two queries, binary, fetched by libpq, not decoded):
#   flow_vs_sql: ... flow_ms=<median> sql_ms=<median> flow/sql=<median of the pairs' ratios>
# Targets (flow-queries issue): graph <= 200 ms, flow <= 20 ms, page <= 50 ms at 10 M events.
# Last line: graph_ms=<median> flow_ms=<median> page_ms=<median> events=<N>
# Usage: tests/bench/query_bench.sh [--events N]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/deploy/local/lib.sh"

EVENTS=10000000
while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    --events=*) EVENTS="${1#*=}"; shift ;;
    *) ut_die "usage: $0 [--events N]" ;;
  esac
done

ut_bench_setup 57432 utracker-server ingest_loadgen
psql "$(ut_pg_url "$WORK/pg" postgres)" -qc "CREATE DATABASE qbench"
URL="$(ut_pg_url "$WORK/pg" qbench)"
SERVER="$BUILD/server/utracker-server"
"$SERVER" --database_url "$URL" --migrate_only 2>/dev/null

ut_log "generating $EVENTS events and a 1000-message flow"
"$BUILD/tests/bench/ingest_loadgen" copyall --events "$EVENTS" --span 24h \
  --out "$WORK/events.copy" --out_messages "$WORK/messages.copy" >/dev/null
ut_log "loading (binary COPY), then ANALYZE"
EV_COLS="event_id, occurred_at, message_id, parent_id, root_id, depth, service, instance, kind, name, destination, attributes, error"
MSG_COLS="id, parent_id, root_id, depth, origin_service, origin_declared, origin_sent, origin_at, first_seen_at, listed_at, content_type, content"
psql "$URL" -qc "\\copy events ($EV_COLS) FROM '$WORK/events.copy' WITH (FORMAT binary)"
psql "$URL" -qc "\\copy messages ($MSG_COLS) FROM '$WORK/messages.copy' WITH (FORMAT binary)"
psql "$URL" -qc "INSERT INTO services SELECT service, coalesce(instance, ''), min(occurred_at), max(occurred_at) FROM events GROUP BY 1, 2"
# 10 000 messages sent in the last half hour of the day that nobody handles: the alert scan
# has stuck messages to count.
psql "$URL" -qc "INSERT INTO events (event_id, occurred_at, message_id, root_id, depth, service, kind, destination) SELECT gen_random_uuid(), t, m, m, 0, 'orders', 'sent', 'payments' FROM (SELECT gen_random_uuid() AS m, timestamptz '2025-11-28 23:30:00+00' + i * interval '100 ms' AS t FROM generate_series(1, 10000) i) x"
# Loaded behind the server's back, so the events go to the rollup inbox here, as the
# migration does for events stored before it; the server's rollup job folds them.
psql "$URL" -qc "INSERT INTO rollup_inbox (message_id, service, kind, occurred_at, destination) SELECT message_id, service, kind, occurred_at, destination FROM events ORDER BY occurred_at"
psql "$URL" -qc "ANALYZE"

"$SERVER" --listen 127.0.0.1:0 --database_url "$URL" > "$WORK/server.out" 2> "$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 300); do grep -q "listening on" "$WORK/server.out" && break; sleep 0.1; done
ADDR="$(sed -n 's/.*listening on //p' "$WORK/server.out")"
ut_log "waiting for the rollup job to fold $EVENTS events"
FOLD_START=$(date +%s%3N)
until [ "$(psql "$URL" -Atc "SELECT count(*) FROM (SELECT 1 FROM rollup_inbox LIMIT 1) x")" = 0 ]; do
  sleep 1
done
FOLD_MS=$(( $(date +%s%3N) - FOLD_START ))
echo "rollup fold: $EVENTS events in $((FOLD_MS / 1000)) s ($((EVENTS * 1000 / (FOLD_MS + 1))) events/s)"
# As autovacuum would in a running system: hint bits and the visibility map set after the
# bulk load and the fold, so the timings do not depend on when autovacuum happens to run.
psql "$URL" -qc "VACUUM (ANALYZE)"
OUT="$("$BUILD/tests/bench/ingest_loadgen" query --server "$ADDR" --db "$URL")"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=
"$BUILD/tests/bench/ingest_loadgen" alertscan --db "$URL"
# UTRACKER_LOG_LEVEL=debug UT_BENCH_SERVER_LOG=FILE keeps the server's log (rollup pass timings).
if [ -n "${UT_BENCH_SERVER_LOG:-}" ]; then cp "$WORK/server.err" "$UT_BENCH_SERVER_LOG"; fi
echo "$OUT" | head -n -1
echo "$(echo "$OUT" | tail -1) events=$EVENTS"
