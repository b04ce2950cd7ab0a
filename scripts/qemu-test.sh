#!/usr/bin/env bash
# Boots the capmem kernel headless under QEMU and streams its TAP output.
# The kernel's init process runs every selftest, prints "ok N - name" /
# "not ok N - name" and a plan line, and the kernel ends the run through the
# sifive_test device: QEMU exits 0 only if init reported every test passed.
# That exit status is the verdict; the TAP lines say which test failed.
#
# Usage: scripts/qemu-test.sh [KERNEL_ELF]   (default build/kernel/capmem.elf)
# Env:   QEMU_TEST_TIMEOUT seconds (default 60: the run takes ~1 s under TCG)
set -u

kernel=${1:-build/kernel/capmem.elf}
limit=${QEMU_TEST_TIMEOUT:-60}
qemu=qemu-system-riscv64

if [[ ! -f "$kernel" ]]; then
    echo "not ok - qemu-test: kernel image $kernel not found (make build/kernel/capmem.elf)"
    exit 1
fi
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "not ok - qemu-test: $qemu not installed (scripts/install-deps.sh)"
    exit 1
fi

start=$(date +%s.%N)
timeout --foreground -k 5 "$limit" "$qemu" -machine virt -m 128M -smp 1 -nographic \
    -bios default -kernel "$kernel" </dev/null 2>&1 | tr -d '\r'
rc=${PIPESTATUS[0]}
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

if (( rc == 124 || rc == 137 )); then
    echo "not ok - qemu-test: timed out after ${limit}s (kernel hung or a test blocked)"
    exit 1
fi
if (( rc != 0 )); then
    # sifive_test fail code: (code << 16) | 0x3333 makes QEMU exit with `code`.
    echo "not ok - qemu-test: QEMU exited with status $rc (kernel reported failure)"
    exit 1
fi
echo "# qemu-test: QEMU exited 0 (pass) in ${elapsed}s"
exit 0
