#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, starts a throwaway PostgreSQL
# (as an unprivileged user), runs the whole ctest suite (unit, pg, e2e) against it, and
# removes the cluster. Database tests FAIL if the database is unreachable.
# Usage: deploy/local/test.sh [extra ctest args, e.g. -L unit]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ut_install_deps
BUILD_DIR="${UTRACKER_BUILD_DIR:-$UT_ROOT/build/release}"
ut_build Release "$BUILD_DIR"

PG_DIR="$(mktemp -d /tmp/utracker-test-pg.XXXXXX)"
cleanup() { ut_pg_stop "$PG_DIR"; ut_root rm -rf "$PG_DIR"; }
trap cleanup EXIT
ut_pg_init "$PG_DIR" "$(ut_free_port 55432)"
ut_pg_start "$PG_DIR"

# Tests create (and drop) their own databases through this admin URL.
export UTRACKER_TEST_DATABASE_URL
UTRACKER_TEST_DATABASE_URL="$(ut_pg_url "$PG_DIR" postgres)"
ut_log "test PostgreSQL on 127.0.0.1:$(ut_pg_port "$PG_DIR")"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 600 "$@"
