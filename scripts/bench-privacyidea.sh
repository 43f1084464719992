#!/usr/bin/env bash
# Measures privacyIDEA's /validate/check on this machine, beside benches/service.rs (issue 16):
#
#   scripts/bench-privacyidea.sh [SECONDS]        # default 10
#
# Installs a pinned privacyIDEA and gunicorn from PyPI into a venv (once, in
# ${DIGITAL_OTP_PI_VENV:-~/.cache/digital-otp/privacyidea-venv}), writes a throwaway pi.cfg
# (SQLite database, encryption key and audit signing keys made by pi-manage, log level ERROR)
# in a temporary directory, creates the tables and an admin, and starts privacyIDEA with
# gunicorn on a free 127.0.0.1 port: one worker per core (nproc), gthread workers with 8
# threads each, because gunicorn's default sync workers close every connection and the
# clients use keep-alive. It then enrolls 64 HOTP tokens (serial-based checks, no user
# resolver) and runs scripts/bench_privacyidea.py (16 threads, SECONDS each). The server is
# stopped and the directory removed on exit, also when a step fails or on Ctrl-C.
# privacyIDEA leaves SQLite at its defaults (rollback journal, synchronous=FULL);
# DIGITAL_OTP_PI_WAL=1 switches the file to WAL first (persistent; synchronous stays FULL),
# nearer to the issuer service's WAL with synchronous=NORMAL.
set -euo pipefail
cd "$(dirname "$0")/.."

PRIVACYIDEA_VERSION=3.14  # the newest on PyPI that installs on Python 3.11 (2026-12-04)
GUNICORN_VERSION=27.0.1  # the newest on PyPI (2026-12-04)
venv="${DIGITAL_OTP_PI_VENV:-$HOME/.cache/digital-otp/privacyidea-venv}"
seconds="${1:-10}"

# The venv, made again only when the pinned versions are not the installed ones.
if ! "$venv/bin/python" -c "import importlib.metadata as m; assert m.version('privacyIDEA') == '$PRIVACYIDEA_VERSION' and m.version('gunicorn') == '$GUNICORN_VERSION'" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "privacyidea==$PRIVACYIDEA_VERSION" "gunicorn==$GUNICORN_VERSION"
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/dotp-privacyidea.XXXXXX")
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
random() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }
admin_password=$(random)
# A throwaway configuration: nothing in it outlives the run.
cat >"$dir/pi.cfg" <<EOF
SQLALCHEMY_DATABASE_URI = "sqlite:///$dir/pi.sqlite"
SECRET_KEY = "$(random)"
PI_PEPPER = "$(random)"
PI_ENCFILE = "$dir/enckey"
PI_AUDIT_KEY_PRIVATE = "$dir/private.pem"
PI_AUDIT_KEY_PUBLIC = "$dir/public.pem"
PI_LOGFILE = "$dir/privacyidea.log"
PI_LOGLEVEL = 40
PI_NODE = "bench"
PI_NODE_UUID = "$(python3 -c 'import uuid; print(uuid.uuid4())')"
EOF
export PRIVACYIDEA_CONFIGFILE="$dir/pi.cfg" PI_CONFIG_NAME=production
(
  cd "$dir"
  "$venv/bin/pi-manage" setup create_enckey
  "$venv/bin/pi-manage" setup create_audit_keys
  "$venv/bin/pi-manage" setup create_tables
  "$venv/bin/pi-manage" admin add admin -p "$admin_password"
) >"$dir/setup.log" 2>&1 || { cat "$dir/setup.log" >&2; exit 1; }
if [ "${DIGITAL_OTP_PI_WAL:-0}" = 1 ]; then
  python3 -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA journal_mode=WAL')" "$dir/pi.sqlite"
fi

workers=$(nproc)
echo "privacyIDEA $PRIVACYIDEA_VERSION, gunicorn $GUNICORN_VERSION: $workers workers (nproc) x 8 threads (gthread) on 127.0.0.1:$port"
"$venv/bin/gunicorn" --chdir "$dir" --bind "127.0.0.1:$port" --workers "$workers" \
  --worker-class gthread --threads 8 --keep-alive 30 --log-level warning \
  'privacyidea.app:create_app(config_name="production", silent=True)' >"$dir/gunicorn.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$dir/gunicorn.log" >&2; exit 1; }
  sleep 0.5
done

url="http://127.0.0.1:$port"
python3 scripts/bench_privacyidea.py enroll "$url" admin "$admin_password"
echo "uptime before: $(uptime)"
python3 scripts/bench_privacyidea.py run "$url" --db "$dir/pi.sqlite" --seconds "$seconds"
echo "uptime after: $(uptime)"
if grep -q -i -E "error|traceback|locked" "$dir/gunicorn.log" "$dir/privacyidea.log"; then
  echo "server logs (errors):" >&2
  grep -i -E -A3 "error|traceback|locked" "$dir/gunicorn.log" "$dir/privacyidea.log" | head -40 >&2
fi
