#!/usr/bin/env bash
# Runs CMD... against a throwaway PostgreSQL cluster, then stops and removes the cluster
# (also when CMD fails or the script is interrupted):
#
#   scripts/with-postgres.sh cargo test --features postgres,test-support --test postgres_store
#
# The cluster listens on 127.0.0.1 only, on port $DIGITAL_OTP_PG_PORT (default: a free one),
# with its data and socket in ${TMPDIR:-/tmp}/dotp-pg-PORT; CMD sees
# DIGITAL_OTP_TEST_POSTGRES=postgres://dotp@127.0.0.1:PORT/postgres (superuser `dotp`,
# trust authentication: loopback and throwaway only). A cluster left on that port by a run
# that was killed is stopped and removed first, so the script can simply be run again.
#
# PostgreSQL comes from Debian (scripts/setup.sh installs it): initdb and pg_ctl from PATH,
# or the newest /usr/lib/postgresql/*/bin. initdb refuses to run as root, so as root the
# server runs as the `postgres` user (created by Debian's package; an unprivileged
# `dotp-pg` system user is created if there is none).
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

# A free port unless one is given, so that runs side by side do not meet.
port="${DIGITAL_OTP_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
dir="${TMPDIR:-/tmp}/dotp-pg-$port"
data="$dir/data"

bin=""
if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
  bin="$(dirname "$(command -v pg_ctl)")"
else
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ] && bin="$candidate"
  done
fi
if [ -z "$bin" ]; then
  echo "$0: PostgreSQL's initdb and pg_ctl not found; run scripts/setup.sh" >&2
  exit 1
fi

# The user the server runs as, and how to run a command as that user.
as_server=()
if [ "$(id -u)" -eq 0 ]; then
  server_user=postgres
  if ! id -u "$server_user" >/dev/null 2>&1; then
    server_user=dotp-pg
    id -u "$server_user" >/dev/null 2>&1 ||
      useradd --system --no-create-home --shell /usr/sbin/nologin "$server_user"
  fi
  as_server=(runuser -u "$server_user" --)
fi

# Runs a PostgreSQL tool as the server's user, from a directory that user can enter.
pg() {
  (cd / && "${as_server[@]}" "$bin/$1" "${@:2}")
}

stop_cluster() {
  if [ -f "$data/postmaster.pid" ]; then
    pg pg_ctl -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

# A cluster left by an interrupted run.
stop_cluster
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$dir"
chmod 700 "$dir"
if [ "${#as_server[@]}" -gt 0 ]; then
  chown "$server_user" "$dir"
fi
pg initdb -D "$data" -U dotp --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2
  exit 1
}
# TLS for the tests of verified connections: a CA of this run and a server certificate
# for localhost signed by it (openssl, Debian's); CMD sees the CA as
# DIGITAL_OTP_TEST_POSTGRES_CA. Plain connections on loopback stay allowed.
tls="$dir/tls"
mkdir -p "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=digital-otp test CA" \
  -keyout "$tls/ca.key" -out "$tls/ca.crt" >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout "$tls/server.key" -out "$tls/server.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' >"$tls/ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
  -extfile "$tls/ext" -out "$tls/server.crt" >/dev/null 2>&1
chmod 600 "$tls/server.key"
if [ "${#as_server[@]}" -gt 0 ]; then
  chown -R "$server_user" "$tls"
fi
chmod 644 "$tls/ca.crt"
# fsync off: a throwaway cluster need not survive a crash (DIGITAL_OTP_PG_FSYNC=on for
# benchmarks, where commits must reach the disk as in production).
pg pg_ctl -D "$data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=${DIGITAL_OTP_PG_FSYNC:-off} -c max_connections=200 -c ssl=on -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key" \
  start >/dev/null || {
  cat "$dir/server.log" >&2
  exit 1
}

export DIGITAL_OTP_TEST_POSTGRES="postgres://dotp@127.0.0.1:$port/postgres"
export DIGITAL_OTP_TEST_POSTGRES_CA="$tls/ca.crt"
status=0
"$@" || status=$?
exit "$status"
