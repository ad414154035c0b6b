# Shared by deploy/local/run.sh and deploy/local/test.sh. Sourced, not run.
# Installs what is missing (Debian 12 packages), builds, and manages private PostgreSQL
# clusters run as an unprivileged user (PostgreSQL refuses to run as root).

UT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
UT_PG_BIN=/usr/lib/postgresql/15/bin
UT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libpqxx-dev libpq-dev libgtest-dev libgmock-dev libbenchmark-dev libspdlog-dev libcpp-httplib-dev
  postgresql-15 postgresql-client-15 graphviz
)

ut_log() { printf '\033[1m[utracker]\033[0m %s\n' "$*" >&2; }
ut_die() { ut_log "error: $*"; exit 1; }

# Runs a command as root (directly when we are root, else through sudo).
ut_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ut_install_deps() {
  local missing=()
  for p in "${UT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    ut_log "all packages present"
    return
  fi
  ut_log "installing: ${missing[*]}"
  ut_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  ut_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# ut_build BUILD_TYPE BUILD_DIR
ut_build() {
  local type="$1" dir="$2"
  ut_log "building ($type) in $dir"
  cmake -S "$UT_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
}

# The unprivileged user PostgreSQL runs as: ourselves, or `postgres` when we are root.
ut_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

ut_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Prints a TCP port on 127.0.0.1 that no socket holds, starting the search at $1.
ut_free_port() {
  local p="$1"
  # Not only ports that accept connections: also any port a socket holds, such as an outgoing
  # connection's local port in TIME_WAIT (ports here lie in Linux's ephemeral range), which
  # PostgreSQL cannot bind.
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null ||
    grep -qi ":$(printf '%04X' "$p") " /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
    p=$((p + 1))
  done
  echo "$p"
}

# ut_pg_init DIR PORT: creates a cluster in DIR/data (if missing) listening on 127.0.0.1:PORT
# only, no unix socket, password auth for the superuser `utracker` (password in DIR/password).
ut_pg_init() {
  local dir="$1" port="$2" user
  user="$(ut_pg_user)"
  ut_root mkdir -p "$dir"
  ut_root chown "$user" "$dir"
  ut_root chmod 700 "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    ut_log "creating PostgreSQL cluster in $dir/data"
    ut_as_pg sh -c "umask 077; head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' > '$dir/password'"
    ut_as_pg "$UT_PG_BIN/initdb" -D "$dir/data" -U utracker --pwfile="$dir/password" \
      --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  # Only our three settings are replaced: anything a user set with ALTER SYSTEM (which keeps
  # this file) stays.
  # (grep finding no other line is fine; failing to read the file is not.)
  ut_as_pg sh -c "umask 077; f='$dir/data/postgresql.auto.conf'; touch \"\$f\" &&
    { grep -Ev '^(listen_addresses|port|unix_socket_directories) = ' \"\$f\" > \"\$f.new\" ||
      [ \$? -eq 1 ]; } && cat >> \"\$f.new\" && mv \"\$f.new\" \"\$f\"" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
CONF
}

# ut_pg_start DIR: starts the cluster (if not running) and waits until it accepts connections.
ut_pg_start() {
  local dir="$1"
  if ut_as_pg "$UT_PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    ut_log "PostgreSQL already running in $dir/data"
    return
  fi
  ut_as_pg "$UT_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null ||
    { tail -20 "$dir/postgres.log" >&2; ut_die "PostgreSQL did not start (log: $dir/postgres.log)"; }
}

ut_pg_stop() {
  local dir="$1"
  ut_as_pg "$UT_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# ALTER SYSTEM writes the port quoted ('5432'); we write it bare.
ut_pg_port() { ut_as_pg sed -n "s/^port = '\\{0,1\\}\\([0-9]\\{1,\\}\\)'\\{0,1\\}$/\\1/p" "$1/data/postgresql.auto.conf"; }

# ut_pg_url DIR [DATABASE]
ut_pg_url() {
  local dir="$1" db="${2:-postgres}" pw
  pw="$(ut_as_pg cat "$dir/password")"
  echo "postgresql://utracker:${pw}@127.0.0.1:$(ut_pg_port "$dir")/${db}"
}

# For the benchmarks: builds the named targets (Release) and starts a throwaway cluster.
# Sets BUILD, WORK (a temporary directory, removed on exit) and SERVER_PID (killed on exit if
# the caller set it). Usage: ut_bench_setup PORT_BASE TARGET...
ut_bench_setup() {
  local port_base="$1"
  shift
  ut_install_deps
  BUILD="$UT_ROOT/build/release"
  cmake -S "$UT_ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" --target "$@" >/dev/null
  WORK="$(mktemp -d /tmp/utracker-bench.XXXXXX)"
  chmod 755 "$WORK"  # PostgreSQL's user must reach $WORK/pg
  SERVER_PID=
  trap 'if [ -n "$SERVER_PID" ]; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi; ut_pg_stop "$WORK/pg"; ut_root rm -rf "$WORK"' EXIT
  ut_pg_init "$WORK/pg" "$(ut_free_port "$port_base")"
  ut_pg_start "$WORK/pg"
}
