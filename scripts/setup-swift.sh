#!/usr/bin/env bash
# Debian trixie's Swift toolchain (package swiftlang) in a chroot, for `swift build` and
# `swift test` on a Debian/Ubuntu machine that has no Swift of its own. Idempotent:
#
#   scripts/setup-swift.sh                 creates the chroot once (debootstrap from Debian's
#                                          packages, then apt-get install swiftlang ...) and
#                                          prints its path; later runs check a stamp and return
#   scripts/setup-swift.sh --print-root    prints the chroot's path only
#   scripts/setup-swift.sh run DIR CMD...  runs CMD inside the chroot, in DIR (a path of the
#                                          host, which is visible at the same path inside)
#
# The chroot lives outside the work tree, in $DOTP_SWIFT_CHROOT (default
# ${XDG_CACHE_HOME:-~/.cache}/digital-otp/swift-trixie), so that a clean clone reuses it.
# On a fresh machine it costs about 6 minutes and 3.5 GB of disk (debootstrap ≈ 3 min;
# swiftlang and libc6-dev ≈ 2.5 min); afterwards `setup-swift.sh` takes well under a second.
#
# `run` bind-mounts /proc, /dev, /tmp and the checkout's top folder (the parent of the
# repository, so ../shared and every path of the checkout stay the same inside) into the
# chroot, in a private mount namespace (`unshare --mount`): nothing stays mounted when the
# command ends, even if it is killed. It needs root (as the rest of the set-up does).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
suite=trixie
mirror="${DOTP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
chroot_dir="${DOTP_SWIFT_CHROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/digital-otp/swift-trixie}"
# What the chroot holds: swiftlang (swift, swiftc, the Foundation and XCTest of Linux),
# libc6-dev (crt files and headers for linking), and what `swift build` calls (git).
packages=(swiftlang libc6-dev git ca-certificates)
stamp="$chroot_dir/.digital-otp-ready"
stamp_text="suite=$suite packages=${packages[*]}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_host() {
  if [ ! -f /tmp/.dotp-apt-updated ]; then
    as_root apt-get update -qq && touch /tmp/.dotp-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ready() {
  # /usr/bin/swift is an absolute symlink into the chroot: test the link, not its target.
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ] &&
    { [ -L "$chroot_dir/usr/bin/swift" ] || [ -x "$chroot_dir/usr/bin/swift" ]; }
}

create() {
  command -v debootstrap >/dev/null 2>&1 || apt_host debootstrap
  command -v unshare >/dev/null 2>&1 || apt_host util-linux
  local started=$SECONDS
  if [ ! -x "$chroot_dir/usr/bin/apt-get" ] || [ ! -f "$chroot_dir/.digital-otp-base" ]; then
    echo "setup-swift: debootstrap --variant=minbase $suite into $chroot_dir (a few minutes, once)" >&2
    as_root rm -rf "$chroot_dir"
    as_root mkdir -p "$chroot_dir"
    as_root debootstrap --variant=minbase "$suite" "$chroot_dir" "$mirror" > "$chroot_dir.debootstrap.log" 2>&1 || {
      tail -n 30 "$chroot_dir.debootstrap.log" >&2
      echo "setup-swift: debootstrap failed (log: $chroot_dir.debootstrap.log)" >&2
      exit 1
    }
    as_root touch "$chroot_dir/.digital-otp-base"
  fi
  echo "setup-swift: apt-get install ${packages[*]} in the chroot (a few minutes, once)" >&2
  in_chroot / sh -c "DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${packages[*]} >/dev/null &&
    apt-get clean"
  in_chroot / swift --version >&2
  printf '%s' "$stamp_text" | as_root tee "$stamp" >/dev/null
  echo "setup-swift: ready in $((SECONDS - started)) s" >&2
}

# Runs a command in the chroot, in a private mount namespace with the host's /proc, /dev,
# /tmp and the checkout's parent folder bind-mounted at the same paths.
in_chroot() { # dir cmd...
  local dir="$1"; shift
  local share
  share="$(dirname "$here")"
  [ "$share" != / ] || share="$here"
  as_root unshare --mount --propagation private -- /bin/sh -euc '
    root="$1" share="$2" dir="$3"; shift 3
    for d in /proc /dev /tmp "$share"; do
      mkdir -p "$root$d"
      mount --rbind "$d" "$root$d"
    done
    [ -f /etc/resolv.conf ] && cp /etc/resolv.conf "$root/etc/resolv.conf"
    exec chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
      LANG=C.UTF-8 TERM=dumb /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$dir" "$@"
  ' sh "$chroot_dir" "$share" "$dir" "$@"
}

case "${1:-}" in
  --print-root)
    echo "$chroot_dir"
    ;;
  run)
    shift
    [ "$#" -ge 2 ] || { echo "usage: $0 run DIR CMD..." >&2; exit 2; }
    ready || create
    in_chroot "$@"
    ;;
  "")
    ready || create
    echo "$chroot_dir"
    ;;
  *)
    echo "usage: $0 [--print-root | run DIR CMD...]" >&2
    exit 2
    ;;
esac
