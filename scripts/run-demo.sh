#!/usr/bin/env bash
# The end-to-end demonstration behind `make run`: two real processes share a
# 64 MiB memory object without copying it, and prove it with SHA-256.
# An optional payload file: `make run PAYLOAD=path/to/file`.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=build/host/apps/vmo_share
args=()
if [[ -n "${PAYLOAD:-}" ]]; then
    args=(--file "$PAYLOAD")
    what="the bytes of $PAYLOAD"
else
    what="a 64 MiB generated payload"
fi

cat <<TXT
capmem demonstration: zero-copy sharing of a sealed memory object
-----------------------------------------------------------------
A producer process puts $what into a memory object (VMO),
seals it IMMUTABLE (the Linux kernel now refuses every write and resize),
and sends a handle to it -- without WRITE rights -- to a consumer process.
The consumer checks from the object itself that it is immutable and how big
it is, maps it read-only (no copy), computes its SHA-256 and replies.
The producer compares that digest with its own.

TXT
rc=0
"$bin" "${args[@]}" || rc=$?
echo
if [[ $rc -eq 0 ]]; then
    echo "Result: the consumer hashed exactly the producer's bytes through a read-only"
    echo "mapping of the same memory: shared without a copy, verified end to end."
fi
if [[ -x build/kernel/capmem.elf || -f build/kernel/capmem.elf ]] && [[ -f scripts/qemu-test.sh ]]; then
    echo
    echo "The same program also runs on the capmem kernel under QEMU: see 'make qemu-test'."
fi
exit $rc
