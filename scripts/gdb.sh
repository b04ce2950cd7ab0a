#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Attaches gdb-multiarch (Debian's gdb for foreign architectures; the host
# gdb cannot debug riscv64) to a QEMU started by `make qemu-gdb`, with the
# kernel's symbols. Extra arguments go to gdb (e.g. -ex 'break kmain').
#
# Usage: scripts/gdb.sh [KERNEL_ELF [PORT [GDB_ARGS...]]]
#        (defaults build/kernel/capmem.elf, 1234)
# A user program's symbols: every program is linked at the same address, so
# add one at a time: (gdb) add-symbol-file build/kernel/user/shell.elf
set -eu
kernel=${1:-build/kernel/capmem.elf}
port=${2:-1234}
shift $(($# < 2 ? $# : 2))
if ! command -v gdb-multiarch >/dev/null 2>&1; then
    echo "gdb.sh: gdb-multiarch not installed (scripts/install-deps.sh installs it)" >&2
    exit 1
fi
exec gdb-multiarch -q -ex 'set architecture riscv:rv64' -ex "file $kernel" \
    -ex "target remote localhost:$port" "$@"
