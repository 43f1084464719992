#!/usr/bin/env bash
# Runs a command beside a throwaway issuer service: builds `dotp`, makes a data directory
# with one institution (DIGITAL_OTP_SERVICE_INSTITUTION, default demo-bank) and a channel
# and a staff API key for it, starts `dotp issuer serve` on a free loopback port, runs the
# command with these exported, and stops the service and removes the directory after:
#
#   DIGITAL_OTP_SERVICE_URL          http://127.0.0.1:PORT
#   DIGITAL_OTP_SERVICE_INSTITUTION  the institution's id
#   DIGITAL_OTP_CHANNEL_KEY          a channel key (enrollment, unlock, verification)
#   DIGITAL_OTP_STAFF_KEY            a staff key (customers, registration codes, the desk)
#
#   scripts/with-issuer-service.sh mvn -f android-demo/pom.xml test
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: scripts/with-issuer-service.sh COMMAND [ARGS...]" >&2; exit 2; }

# The Rust suite's features, so that after `cargo test` nothing is rebuilt.
cargo build --quiet --features cli,issuer,engine,file-store,keyring,test-support --bin dotp
dotp="$PWD/target/debug/dotp"
institution="${DIGITAL_OTP_SERVICE_INSTITUTION:-demo-bank}"
data=$(mktemp -d "${TMPDIR:-/tmp}/dotp-service.XXXXXX")
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT

run() { "$dotp" --data-dir "$data" --actor setup "$@"; }
run issuer add-institution "$institution" "Demo Bank" >/dev/null
channel=$(run issuer add-api-key --institution "$institution" --role channel | sed -n 1p)
staff=$(run issuer add-api-key --institution "$institution" --role staff | sed -n 1p)

"$dotp" --data-dir "$data" issuer serve --listen 127.0.0.1:0 >"$data/serve.out" 2>"$data/serve.err" &
server=$!
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on //p' "$data/serve.out")
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$data/serve.err" >&2; echo "with-issuer-service: the service did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "with-issuer-service: the service did not report its address" >&2; exit 1; }

export DIGITAL_OTP_SERVICE_URL="$url" DIGITAL_OTP_SERVICE_INSTITUTION="$institution"
export DIGITAL_OTP_CHANNEL_KEY="$channel" DIGITAL_OTP_STAFF_KEY="$staff"
status=0
"$@" || status=$?
exit "$status"
