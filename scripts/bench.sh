#!/usr/bin/env bash
# Every performance figure of issue 18 in one run, with the machine, date and load beside
# them (BENCHMARKS.md quotes its output):
#
#   scripts/bench.sh            # ≈ 6 minutes on the 2-core reference VM
#   scripts/bench.sh --quick    # criterion and callgrind only (≈ 2 minutes)
#
# 1. criterion (`cargo bench --bench otp`): the engine against its floor (two SHA-1
#    compressions) and totp-rs, verification against generation, the PBKDF2 against its
#    floor (two SHA-256 compressions per iteration) and ring;
# 2. callgrind instruction counts of the same ratios (`benches/instructions.rs`, run twice
#    per workload with different counts so set-up cancels out): they do not drift with load.
#    Installs valgrind from Debian's packages if missing;
# 3. the issuer's durable verifications per second (`cargo bench --features issuer --bench
#    issuer`, SQLite `synchronous=FULL`, 1,000 devices, 1/2/16 threads);
# 4. the JVM call against javax.crypto, if scripts/bench-kotlin.sh is present.
# Not part of the test command. The 1,000,000-device figure is not measured yet (issue 18).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
target="${CARGO_TARGET_DIR:-target}"

echo "== digital-otp benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

cargo bench --quiet --bench otp -- --noplot >/dev/null 2>&1 || cargo bench --bench otp
if ! command -v valgrind >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq valgrind >/dev/null; else sudo apt-get install -y -qq valgrind >/dev/null; fi
fi
cargo bench --quiet --bench instructions --no-run 2>/dev/null
instructions=$(ls -t "$target"/release/deps/instructions-* | grep -v '\.d$' | head -1)
counts=$(mktemp)
trap 'rm -f "$counts"' EXIT
for w in sha1_floor sha1_digital_otp sha1_totp_rs pbkdf2_floor pbkdf2_digital_otp pbkdf2_ring; do
  for n in 1000 11000; do
    ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$instructions" "$w" "$n" 2>&1 \
      | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    echo "$w $n $ir" >>"$counts"
  done
done
python3 - "$target/criterion" "$counts" <<'PY'
import json, sys, os
crit, counts = sys.argv[1], sys.argv[2]
def ns(group, name):
    with open(os.path.join(crit, group, name, "new", "estimates.json")) as f:
        return json.load(f)["mean"]["point_estimate"]
ir = {}
for line in open(counts):
    w, n, c = line.split()
    ir.setdefault(w, {})[int(n)] = int(c)
per = {w: (v[11000] - v[1000]) / 10000 for w, v in ir.items()}
floor, ours, theirs = ns("sha1_code", "floor_2x_compress"), ns("sha1_code", "digital-otp"), ns("sha1_code", "totp-rs")
verify = ns("totp_verify", "SHA1_window_1_1")
kfloor, kours, kring = (ns("pbkdf2_sha256_10000", n) / 10000 for n in ("floor_2x_compress", "digital-otp", "ring"))
rows = [
    ("TOTP SHA-1 code: this crate / floor (2 compressions)", ours / floor, per["sha1_digital_otp"] / per["sha1_floor"],
     f"{ours:.1f} ns / {floor:.1f} ns; {per['sha1_digital_otp']:.0f} / {per['sha1_floor']:.0f} instructions"),
    ("TOTP SHA-1 code: totp-rs / this crate", theirs / ours, per["sha1_totp_rs"] / per["sha1_digital_otp"],
     f"{theirs:.1f} ns; {per['sha1_totp_rs']:.0f} instructions"),
    ("verification (±1 step) / generation", verify / ours, None, f"{verify:.1f} ns"),
    ("PBKDF2-HMAC-SHA256 iteration: this crate / floor", kours / kfloor, per["pbkdf2_digital_otp"] / per["pbkdf2_floor"],
     f"{kours:.1f} ns / {kfloor:.1f} ns; {per['pbkdf2_digital_otp']:.0f} / {per['pbkdf2_floor']:.0f} instructions"),
    ("PBKDF2 iteration: ring / this crate", kring / kours, per["pbkdf2_ring"] / per["pbkdf2_digital_otp"],
     f"{kring:.1f} ns; {per['pbkdf2_ring']:.0f} instructions"),
]
print(f"{'ratio':<55} {'time':>7} {'instr.':>7}  detail")
for name, t, i, detail in rows:
    print(f"{name:<55} {t:>6.2f}× {('%.2f×' % i) if i else '—':>7}  {detail}")
print("(instructions under valgrind, which reports no SHA extensions: the software compression)")
PY
echo "load after the engine: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$quick" = 1 ] && exit 0

echo "== the issuer, durable (SQLite synchronous=FULL, group commit), 1,000 devices"
cargo bench --quiet --features issuer --bench issuer 2>/dev/null | grep -E "thread\(s\): [0-9]+ verifications|round trips"
echo "load after the issuer: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -x scripts/bench-kotlin.sh ]; then
  echo "== the JVM call"
  scripts/bench-kotlin.sh
fi
