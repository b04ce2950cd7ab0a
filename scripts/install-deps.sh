#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs every Debian package capmem needs to build, test and benchmark
# (g++: the C++ test program and the install test; spin: the DMA model check, required in CI; e2fsprogs: .ci/run's ext4
# image when no directory here does O_DIRECT; strace: the system-call budget
# test, tests/host/syscall_budget.sh; python3, groff-base, man-db: the man
# pages, scripts/gen-man.py, and their check, tests/man/check_man.py;
# gdb-multiarch: `make gdb` and scripts/qemu-gdb-test.sh; jq: parses
# `capmem info --json` in tests/host/apps_test.sh). Idempotent: packages already
# present are not touched, and apt is only contacted when something is
# missing. Must run as root (CI does).
#
# Usage: install-deps.sh [bench]
#   (none)  what `make`, `make test` and `make run` need
#   bench   that, plus what only `make bench` needs (gnuplot-nox: the plots
#           bench/vmo_share_plot.sh and bench/sbuf_plot.sh draw; iceoryx +
#           libiceoryx-binding-c-dev: bench/sbuf's third variant, RouDi and
#           the C binding; valgrind: bench/share_instr.sh's callgrind), so
#           `make test` never needs them
set -eu

PKGS="build-essential g++ pkg-config libcmocka-dev libssl-dev liburing-dev \
gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf qemu-system-misc opensbi \
spin clang e2fsprogs strace python3 groff-base man-db gdb-multiarch jq"
BENCH_PKGS="gnuplot-nox iceoryx libiceoryx-binding-c-dev valgrind"

case "${1:-}" in
    "") ;;
    bench) PKGS="$PKGS $BENCH_PKGS" ;;
    *) echo "usage: $0 [bench]" >&2; exit 2 ;;
esac

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing" >&2
    echo "install-deps: run as root (sudo $0) to install them" >&2
    exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
