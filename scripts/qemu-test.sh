#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boots the capmem kernel headless under QEMU and streams its TAP output.
# The selftest runner (user/selftest.c, started by init) prints the plan
# "1..N" from its one test table, then "ok N - name" / "not ok N - name"
# per test; the kernel ends the run through the sifive_test device: QEMU
# exits 0 only if init reported every test passed and nothing leaked.
#
# The verdict needs both: QEMU's exit status 0 AND a complete TAP stream
# (exactly one plan, tests numbered 1..N each reported once, no "not ok").
# A run that exits 0 with a missing, short or duplicated report fails, and
# so does a "not ok" whatever the exit status.
#
# Usage: scripts/qemu-test.sh [KERNEL_ELF]   (default build/kernel/capmem.elf)
#        scripts/qemu-test.sh --check-tap LOG   only the TAP check, on a saved
#        log (exit 0 if complete; scripts/qemu-tap-check-test.sh uses it)
# Env:   QEMU_TEST_TIMEOUT seconds (default 60: the run takes ~2 s under TCG)
set -u

# Checks the TAP stream in file $1; prints why it is not complete, if so.
tap_problem() {
    awk '
        /^1\.\.[0-9]+$/ { plans++; plan = substr($0, 4) + 0; next }
        /^(not )?ok [0-9]+( |$)/ {
            n = ($1 == "not") ? $3 : $2
            if (n in seen) dup = dup " " n
            seen[n] = 1; count++
            if ($1 == "not") failed++
        }
        END {
            if (plans != 1) { print "expected one plan line, found " plans + 0; exit }
            if (plan == 0) { print "the plan is empty (1..0)"; exit }
            if (dup != "") { print "test numbers reported twice:" dup; exit }
            for (i = 1; i <= plan; i++) if (!(i in seen)) { missing = missing " " i; m++ }
            if (m > 0) { print m " of " plan " planned tests never reported:" missing; exit }
            if (count != plan) { print count " results for a plan of " plan; exit }
            if (failed > 0) { print failed " of " plan " tests not ok"; exit }
        }' "$1"
}

if [[ "${1:-}" == --check-tap ]]; then
    problem=$(tap_problem "${2:?--check-tap needs a log file}")
    [[ -z "$problem" ]] || { echo "$problem"; exit 1; }
    exit 0
fi

kernel=${1:-build/kernel/capmem.elf}
limit=${QEMU_TEST_TIMEOUT:-60}
qemu=qemu-system-riscv64

if [[ ! -f "$kernel" ]]; then
    echo "Bail out! qemu-test: kernel image $kernel not found (make build/kernel/capmem.elf)"
    exit 1
fi
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "Bail out! qemu-test: $qemu not installed (scripts/install-deps.sh)"
    exit 1
fi

# The virtio-blk test disk next to the kernel image (scripts/mkdisk.sh says
# its content; make builds it, and a bare run makes it here).
disk=$(dirname "$kernel")/disk.img
if [[ ! -f "$disk" ]]; then
    bash "$(dirname "$0")/mkdisk.sh" "$disk" || { echo "Bail out! qemu-test: cannot write $disk"; exit 1; }
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

start=$(date +%s.%N)
timeout --foreground -k 5 "$limit" "$qemu" -machine virt -m 128M -smp 1 -nographic \
    -bios default -kernel "$kernel" -global virtio-mmio.force-legacy=false \
    -drive file="$disk",format=raw,if=none,id=hd0 -device virtio-blk-device,drive=hd0 \
    </dev/null 2>&1 | tr -d '\r' | tee "$log"
rc=${PIPESTATUS[0]}
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

if (( rc == 124 || rc == 137 )); then
    echo "Bail out! qemu-test: timed out after ${limit}s (kernel hung or a test blocked)"
    exit 1
fi
if (( rc != 0 )); then
    # sifive_test fail code: (code << 16) | 0x3333 makes QEMU exit with `code`.
    echo "Bail out! qemu-test: QEMU exited with status $rc (kernel reported failure)"
    exit 1
fi
problem=$(tap_problem "$log")
if [[ -n "$problem" ]]; then
    echo "Bail out! qemu-test: QEMU exited 0 but the TAP report is wrong: $problem"
    exit 1
fi
echo "# qemu-test: QEMU exited 0 (pass) and every planned test reported ok, in ${elapsed}s"
exit 0
