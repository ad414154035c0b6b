#!/usr/bin/env bash
# Ingest benchmark: one run, one throwaway PostgreSQL, the same N generated events through
#  (a) psql COPY (FORMAT binary) of exactly those rows into a fresh events table — the baseline,
#  (b) one INSERT per event (the naive path; timed on a sample of min(N, 20000) events),
#  (c) end to end: the client library's streamers -> utracker-server -> committed and acked,
# then checks (c) in the table: count == N, no duplicates, and the server's peak RSS.
# (a) and (b) run again after (c), and the ratios use the mean of each baseline's two runs:
# this machine's speed drifts by up to 2x over minutes, and a baseline timed only before (c)
# moved the ratio as much as the code did.
# Last line: e2e/copy=<ratio> e2e/naive=<ratio> events=<N> lost=<n> duplicates=<n>
# Usage: tests/bench/ingest_bench.sh [--events N] [--writers W] [--server_flag --flag=value]
#        (default N = 2 000 000; --server_flag passes one more flag to utracker-server)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/deploy/local/lib.sh"

EVENTS=2000000
SERVER_FLAGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    --events=*) EVENTS="${1#*=}"; shift ;;
    --writers) SERVER_FLAGS+=("--writers=$2"); shift 2 ;;
    --server_flag) SERVER_FLAGS+=("$2"); shift 2 ;;
    --writers=*) SERVER_FLAGS+=("--writers=${1#*=}"); shift ;;
    *) ut_die "usage: $0 [--events N] [--writers W] [--server_flag --flag=value]" ;;
  esac
done

ut_bench_setup 56432 utracker-server ingest_loadgen
ADMIN="$(ut_pg_url "$WORK/pg" postgres)"
LOADGEN="$BUILD/tests/bench/ingest_loadgen"
SERVER="$BUILD/server/utracker-server"

fresh_db() {  # creates database $1 with the project's schema
  psql "$ADMIN" -qc "CREATE DATABASE $1"
  "$SERVER" --database_url "$(ut_pg_url "$WORK/pg" "$1")" --migrate_only 2>/dev/null
}
rate() { sed -n 's/.*events_per_s=\([0-9]*\).*/\1/p'; }
# CPU seconds a process and its children (alive or reaped) have used: utime, stime, cutime,
# cstime of PID plus those of its live children.
cpu_s() {
  local total=0 pid
  for pid in "$1" $(ps -o pid= --ppid "$1"); do
    total=$(( total + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat" 2>/dev/null || echo 0) ))
  done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
POSTMASTER() { head -1 "$WORK/pg/data/postmaster.pid"; }

ut_log "generating $EVENTS events"
"$LOADGEN" copyfile --events "$EVENTS" --out "$WORK/events.copy"

COPY_COLS="event_id, occurred_at, message_id, parent_id, root_id, depth, service, instance, kind, name, destination, attributes, error"
# (a) into fresh database $1: sets COPY_RATE and COPY_PG_US (PostgreSQL's CPU µs per event).
baseline_copy() {
  ut_log "(a) psql COPY binary ($1)"
  fresh_db "$1"
  # Each timed part starts after a checkpoint, so none pays for the previous part's writes.
  psql "$ADMIN" -qc "CHECKPOINT"
  local cpu0 cpu1 start end
  cpu0="$(cpu_s "$(POSTMASTER)")"
  start=$(date +%s.%N)
  psql "$(ut_pg_url "$WORK/pg" "$1")" -qc "\\copy events ($COPY_COLS) FROM '$WORK/events.copy' WITH (FORMAT binary)"
  end=$(date +%s.%N)
  cpu1="$(cpu_s "$(POSTMASTER)")"
  COPY_RATE=$(awk -v n="$EVENTS" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')
  COPY_PG_US=$(awk -v n="$EVENTS" -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')
  echo "mode=copy events=$EVENTS seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }') events_per_s=$COPY_RATE"
}
NAIVE_N=$(( EVENTS < 20000 ? EVENTS : 20000 ))
# (b) into fresh database $1: sets NAIVE_RATE.
baseline_naive() {
  ut_log "(b) one INSERT per event ($NAIVE_N events, $1)"
  fresh_db "$1"
  local line
  line="$("$LOADGEN" naive --events "$NAIVE_N" --db "$(ut_pg_url "$WORK/pg" "$1")")"
  echo "$line"
  NAIVE_RATE="$(echo "$line" | rate)"
}

baseline_copy bench_copy
COPY_RATE_BEFORE=$COPY_RATE COPY_PG_US_BEFORE=$COPY_PG_US
baseline_naive bench_naive
NAIVE_RATE_BEFORE=$NAIVE_RATE

ut_log "(c) client library -> utracker-server -> PostgreSQL"
fresh_db bench_e2e
E2E_URL="$(ut_pg_url "$WORK/pg" bench_e2e)"
"$SERVER" --listen 127.0.0.1:0 --database_url "$E2E_URL" "${SERVER_FLAGS[@]}" > "$WORK/server.out" 2> "$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 300); do grep -q "listening on" "$WORK/server.out" && break; sleep 0.1; done
ADDR="$(sed -n 's/.*listening on //p' "$WORK/server.out")"
psql "$ADMIN" -qc "CHECKPOINT"
PG_CPU0="$(cpu_s "$(POSTMASTER)")"
SERVER_CPU0="$(cpu_s "$SERVER_PID")"
E2E_LINE="$("$LOADGEN" stream --events "$EVENTS" --server "$ADDR")"
PG_CPU1="$(cpu_s "$(POSTMASTER)")"
SERVER_CPU1="$(cpu_s "$SERVER_PID")"
echo "$E2E_LINE"
E2E_RATE="$(echo "$E2E_LINE" | rate)"
E2E_N="$(echo "$E2E_LINE" | sed -n 's/.*mode=stream events=\([0-9]*\).*/\1/p')"
PEAK_RSS_KB="$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER_PID/status")"
# While ingest is busy the rollup job folds one pass per interval (ingest first); what it had
# not folded when (c) ended it folds now, outside (c)'s timing. Reported, with how long the
# catching up took, so the cost of the rollups is not hidden.
INBOX_SQL="SELECT (SELECT coalesce(sum(events), 0) FROM rollup_inbox_batches) + (SELECT count(*) FROM rollup_inbox)"
UNFOLDED="$(psql "$E2E_URL" -Atc "$INBOX_SQL")"
FOLD_START=$(date +%s.%N)
for _ in $(seq 1800); do [ "$(psql "$E2E_URL" -Atc "$INBOX_SQL")" = 0 ] && break; sleep 0.5; done
FOLD_END=$(date +%s.%N)
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=

baseline_copy bench_copy_after
baseline_naive bench_naive_after
# Each baseline's two runs bracket (c); the ratios use their mean.
echo "baselines before/after (c): copy $COPY_RATE_BEFORE/$COPY_RATE events/s, naive $NAIVE_RATE_BEFORE/$NAIVE_RATE events/s"
COPY_RATE=$(( (COPY_RATE_BEFORE + COPY_RATE) / 2 ))
NAIVE_RATE=$(( (NAIVE_RATE_BEFORE + NAIVE_RATE) / 2 ))
COPY_PG_US=$(awk -v a="$COPY_PG_US_BEFORE" -v b="$COPY_PG_US" 'BEGIN { printf "%.1f", (a + b) / 2 }')

STORED="$(psql "$E2E_URL" -Atc "SELECT count(*) FROM events")"
DISTINCT="$(psql "$E2E_URL" -Atc "SELECT count(DISTINCT event_id) FROM events")"
LOST=$(( E2E_N - DISTINCT ))
DUPLICATES=$(( STORED - DISTINCT ))
echo "server_peak_rss_mb=$(( PEAK_RSS_KB / 1024 )) stored=$STORED generated=$E2E_N"
E2E_SECONDS="$(echo "$E2E_LINE" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')"
awk -v left="$UNFOLDED" -v s="$FOLD_START" -v e="$FOLD_END" -v n="$E2E_N" -v t="$E2E_SECONDS" 'BEGIN {
  printf "rollups: %d events left to fold when (c) ended, folded in %.1f s more; stored and folded: %.0f events/s\n",
    left, e - s, n / (t + e - s) }'
# Where the 2 cores went during (c), in CPU microseconds per event.
CLIENT_CPU="$(echo "$E2E_LINE" | sed -n 's/.*cpu_s=\([0-9.]*\).*/\1/p')"
awk -v n="$E2E_N" -v c="$CLIENT_CPU" -v s0="$SERVER_CPU0" -v s1="$SERVER_CPU1" \
  -v p0="$PG_CPU0" -v p1="$PG_CPU1" -v q="$COPY_PG_US" 'BEGIN {
    printf "cpu_us_per_event: client=%.1f server=%.1f postgres=%.1f (baseline COPY: postgres=%.1f)\n",
      c * 1e6 / n, (s1 - s0) * 1e6 / n, (p1 - p0) * 1e6 / n, q }'
awk -v c="$E2E_RATE" -v a="$COPY_RATE" -v b="$NAIVE_RATE" -v n="$E2E_N" -v l="$LOST" -v d="$DUPLICATES" \
  'BEGIN { printf "e2e/copy=%.2f e2e/naive=%.1f events=%d lost=%d duplicates=%d\n", c / a, c / b, n, l, d }'
