#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The conformance suite on the kernel target, and the check that both
# targets run the same tests. Boots the capmem kernel under QEMU (init runs
# tests/conformance as the user program `conformance`, whose report lines
# carry a "conformance: " prefix), re-emits the kernel's results as this
# suite's TAP, then one more result: the host run (build/host/tests/
# conformance) and the kernel run list the same test names in the same
# order. Prints both runs' counts side by side.
#
# Usage: tests/conformance/compare.sh [HOST_BIN] [KERNEL_ELF]
set -u
host_bin=${1:-build/host/tests/conformance}
kernel=${2:-build/kernel/capmem.elf}
limit=${QEMU_TEST_TIMEOUT:-60}

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

bail() {
    echo "1..1"
    echo "not ok 1 - conformance on both targets: $*"
    exit 1
}

[[ -x "$host_bin" ]] || bail "host binary $host_bin not built"
[[ -f "$kernel" ]] || bail "kernel image $kernel not built"

timeout -k 5 "$limit" "$host_bin" >"$dir/host" 2>&1
host_rc=$?
# The same machine as scripts/qemu-test.sh: the selftests in the same boot
# read the virtio-blk test disk.
disk=$(dirname "$kernel")/disk.img
[[ -f "$disk" ]] || bash "$(dirname "$0")/../../scripts/mkdisk.sh" "$disk" || bail "cannot write $disk"
timeout --foreground -k 5 "$limit" qemu-system-riscv64 -machine virt -m 128M -smp 1 \
    -nographic -bios default -kernel "$kernel" -global virtio-mmio.force-legacy=false \
    -drive file="$disk",format=raw,if=none,id=hd0 -device virtio-blk-device,drive=hd0 </dev/null 2>&1 | tr -d '\r' >"$dir/raw"
sed -n 's/^conformance: //p' "$dir/raw" >"$dir/kernel"

# "ok N - name" lines of a report, as "name" in report order.
names() { sed -nE 's/^(not )?ok [0-9]+ - ([A-Za-z0-9_]+).*$/\2/p' "$1"; }
count() { grep -cE "^$2 [0-9]+ - " "$1"; }
plan() { sed -nE 's/^1\.\.([0-9]+)$/\1/p' "$1" | head -n 1; }

kplan=$(plan "$dir/kernel")
[[ -n "$kplan" ]] || bail "the kernel printed no conformance plan (see QEMU output)"
names "$dir/host" >"$dir/host.names"
names "$dir/kernel" >"$dir/kernel.names"

echo "1..$((kplan + 1))"
grep -E '^(not )?ok [0-9]+ - |^#' "$dir/kernel"
# A skip ("ok N - name # SKIP reason") is never counted as a pass.
skips() { grep -cE "^ok [0-9]+ - [A-Za-z0-9_]+ # SKIP" "$1"; }
passed() { echo $(( $(count "$1" ok) - $(skips "$1") )); }
printf '# %-8s %6s %6s %6s %6s\n' target planned passed failed skipped
printf '# %-8s %6s %6s %6s %6s\n' host "$(plan "$dir/host")" "$(passed "$dir/host")" \
    "$(count "$dir/host" 'not ok')" "$(skips "$dir/host")"
printf '# %-8s %6s %6s %6s %6s\n' kernel "$kplan" "$(passed "$dir/kernel")" \
    "$(count "$dir/kernel" 'not ok')" "$(skips "$dir/kernel")"
if ! diff -u "$dir/host.names" "$dir/kernel.names" >"$dir/diff"; then
    sed 's/^/# /' "$dir/diff"
    echo "not ok $((kplan + 1)) - host and kernel run the same conformance tests"
    exit 1
fi
if (( host_rc != 0 )); then
    echo "# the host run exited $host_rc (its own suite reports which test)"
fi
echo "ok $((kplan + 1)) - host and kernel run the same conformance tests ($(wc -l <"$dir/host.names") each)"
