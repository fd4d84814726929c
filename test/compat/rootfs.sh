#!/usr/bin/env bash
# Builds (once) a Debian bookworm rootfs with debootstrap for the compatibility tests, cached in
# $TSVISOR_DEBIAN_ROOTFS (default /var/cache/tsvisor-test/debian-rootfs). Prints the rootfs path.
# The mirror is the one apt already uses on this host (/etc/apt/sources.list{,.d/*.sources}).
# A finished build is marked by .tsvisor-complete; a half-built one is removed and rebuilt.
# Concurrent callers wait for one build (a lock next to the rootfs); the build is time-bounded
# ($TSVISOR_DEBIAN_TIMEOUT seconds, default 1200) so CI fails instead of hanging on a dead mirror.
set -euo pipefail
ROOT="${TSVISOR_DEBIAN_ROOTFS:-/var/cache/tsvisor-test/debian-rootfs}"
SUITE="${TSVISOR_DEBIAN_SUITE:-bookworm}"
INCLUDE="bash,coreutils,findutils,grep,sed,gawk,tar,gzip,xz-utils,perl,sqlite3,python3,make,gcc,libc6-dev,git,ca-certificates"

if [[ -f "$ROOT/.tsvisor-complete" ]]; then echo "$ROOT"; exit 0; fi

mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock 9
if [[ -f "$ROOT/.tsvisor-complete" ]]; then echo "$ROOT"; exit 0; fi

if ! command -v debootstrap >/dev/null; then
  timeout 600 apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq debootstrap >&2
fi

mirror=""
if [[ -f /etc/apt/sources.list ]]; then
  mirror=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list || true)
fi
if [[ -z "$mirror" ]]; then
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    mirror=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ && $2 !~ /security/ {print $2; exit}' "$f" || true)
    [[ -n "$mirror" ]] && break
  done
fi
mirror="${mirror:-http://deb.debian.org/debian}"

rm -rf "$ROOT"
echo "debootstrap $SUITE from $mirror into $ROOT (takes several minutes once)" >&2
timeout --kill-after=30 "${TSVISOR_DEBIAN_TIMEOUT:-1200}" \
  debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$ROOT" "$mirror" >&2
# Files the tests expect in any rootfs.
echo tsvisor-compat > "$ROOT/etc/hostname"
touch "$ROOT/.tsvisor-complete"
echo "$ROOT"
