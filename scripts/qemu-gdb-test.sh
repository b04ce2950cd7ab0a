#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Proves the debugger path `make qemu-gdb` + `make gdb` documents: QEMU
# starts halted at reset (-S) with a gdb stub on a free local port,
# gdb-multiarch attaches in batch mode with the kernel's symbols, sets a
# breakpoint at kmain, continues through OpenSBI, and must stop there with
# the pc at kmain and a backtrace. QEMU is killed by its pid afterwards;
# every step is bounded (QEMU_TEST_TIMEOUT, default 60 s).
#
# Usage: scripts/qemu-gdb-test.sh [KERNEL_ELF]  (default build/kernel/capmem.elf)
set -u

kernel=${1:-build/kernel/capmem.elf}
limit=${QEMU_TEST_TIMEOUT:-60}
qemu=qemu-system-riscv64

echo "1..4"
if [[ ! -f "$kernel" ]]; then
    echo "Bail out! qemu-gdb-test: kernel image $kernel not found (make build/kernel/capmem.elf)"
    exit 1
fi
for tool in "$qemu" gdb-multiarch; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "Bail out! qemu-gdb-test: $tool not installed (scripts/install-deps.sh)"
        exit 1
    fi
done

dir=$(mktemp -d)
qpid=
cleanup() {
    [[ -n "$qpid" ]] && kill "$qpid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

# A port nobody uses: QEMU exits at once if it cannot bind, so try again
# on another; once it has run a moment, its stub is listening.
port=
for ((try = 0; try < 10; try++)); do
    p=$((20000 + RANDOM % 30000))
    timeout --foreground -k 5 "$limit" "$qemu" -machine virt -m 128M -smp 1 -nographic \
        -bios default -kernel "$kernel" -S -gdb "tcp:localhost:$p" \
        </dev/null >"$dir/qemu.log" 2>&1 &
    qpid=$!
    sleep 0.5
    if kill -0 "$qpid" 2>/dev/null; then
        port=$p
        break
    fi
    wait "$qpid" 2>/dev/null
    qpid=
done
if [[ -z "$port" ]]; then
    echo "Bail out! qemu-gdb-test: QEMU did not start with a gdb stub: $(head -c 300 "$dir/qemu.log")"
    exit 1
fi

timeout -k 5 "$limit" gdb-multiarch -q -nx -batch \
    -ex 'set architecture riscv:rv64' -ex "file $kernel" \
    -ex "target remote localhost:$port" \
    -ex "break kmain" -ex continue \
    -ex 'info symbol $pc' -ex 'bt' \
    >"$dir/gdb.log" 2>&1
gdb_rc=$?

n=0
failed=0
check() {
    local what=$1
    shift
    n=$((n + 1))
    if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; failed=1; fi
}
has() { grep -qE -- "$1" "$dir/gdb.log"; }

check "gdb-multiarch attaches (riscv:rv64) and finds QEMU halted at the reset vector" \
    eval 'has "architecture is set to \"riscv:rv64\"" && has "^0x0+1000 in \?\? \(\)"' 
check "the breakpoint at kmain is hit after OpenSBI" has "^Breakpoint 1, kmain \("
check "the pc is in kmain when it stops" has "^kmain( \+ [0-9]+)? in section \.text"
check "gdb ran to the end of its commands (status 0, backtrace printed)" \
    eval '[ "$gdb_rc" -eq 0 ] && has "^#0 +kmain \("'
if ((failed)); then
    sed 's/^/# gdb: /' "$dir/gdb.log"
    sed 's/^/# qemu: /' "$dir/qemu.log"
fi
exit 0
