#!/usr/bin/env bash
# The systemd unit as systemd reads it (docs/operations.md, "The unit"): `systemd-analyze verify`
# finds nothing wrong with deploy/sluice.service (its /usr/bin/sluice pointed at the binary under
# test), alone and with the strict drop-in; `systemd-analyze security` rates both at most
# MAX_EXPOSURE (of 10) and the strict one no higher, with its MemoryDenyWriteExecute in force
# (the default leaves it out: it breaks JIT runtimes in tasks).
# Usage: tests/deploy/unit_check.sh SOURCE_DIR SLUICE_BINARY
set -euo pipefail
src=${1:?usage: unit_check.sh SOURCE_DIR SLUICE_BINARY}
binary=${2:?usage: unit_check.sh SOURCE_DIR SLUICE_BINARY}
max_exposure=2.5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "unit_check: $*" >&2; exit 1; }

mkdir -p "$work/default" "$work/strict/sluice.service.d"
sed "s|/usr/bin/sluice|$binary|g" "$src/deploy/sluice.service" >"$work/default/sluice.service"
cp "$work/default/sluice.service" "$work/strict/sluice.service"
cp "$src/deploy/sluice-strict.conf" "$work/strict/sluice.service.d/strict.conf"

for variant in default strict; do
    out=$(cd "$work/$variant" && SYSTEMD_UNIT_PATH="$work/$variant:" \
        systemd-analyze verify --man=no "$work/$variant/sluice.service" 2>&1) ||
        fail "verify ($variant) failed: $out"
    [[ -z "$out" ]] || fail "verify ($variant) complained: $out"
done

security() {
    # UTF-8: systemd marks settings with check and cross glyphs only in a UTF-8 locale.
    LC_ALL=C.UTF-8 SYSTEMD_UNIT_PATH="$work/$1:" systemd-analyze security --offline=yes --no-pager \
        "$work/$1/sluice.service" 2>&1
}
default_report=$(security default)
strict_report=$(security strict)
level() { sed -n 's/.*Overall exposure level for sluice.service: \([0-9.]*\).*/\1/p' <<<"$1"; }
default_exposure=$(level "$default_report")
strict_exposure=$(level "$strict_report")
[[ -n "$default_exposure" && -n "$strict_exposure" ]] || fail "no exposure level read"
awk -v d="$default_exposure" -v s="$strict_exposure" -v m="$max_exposure" \
    'BEGIN { exit !(d <= m && s <= d) }' ||
    fail "exposure: default $default_exposure, strict $strict_exposure (want <= $max_exposure, strict <= default)"
# The strict drop-in is read: systemd reports its setting as in force.
grep -q '✗ MemoryDenyWriteExecute=' <<<"$default_report" ||
    fail "the default unit should allow writable executable memory (JIT runtimes in tasks)"
grep -q '✓ MemoryDenyWriteExecute=' <<<"$strict_report" ||
    fail "the strict drop-in should deny writable executable memory"

grep -q '^MemoryDenyWriteExecute=' "$src/deploy/sluice.service" &&
    fail "the default unit must not set MemoryDenyWriteExecute (JIT runtimes in tasks)"
grep -q '^MemoryDenyWriteExecute=yes' "$src/deploy/sluice-strict.conf" ||
    fail "the strict drop-in must set MemoryDenyWriteExecute=yes"
grep -q '^PrivateIPC=yes' "$src/deploy/sluice.service" || fail "PrivateIPC=yes is missing"
echo "unit_check: default exposure $default_exposure, strict $strict_exposure"
