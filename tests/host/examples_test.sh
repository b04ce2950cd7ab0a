#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The examples as a user meets them: each examples/NAME directory is copied
# out of the tree and built with its own Makefile and `pkg-config capmem`
# against a `make install DESTDIR=... PREFIX=/usr` copy only (see
# common/installed.sh), with -Werror; then `make run`, whose programs verify
# what they shared (checksums, sequence numbers, a plain read) and fail
# otherwise. The DMA example needs a filesystem doing direct I/O: the
# directories tried are $CAPMEM_DMA_DIR, /var/tmp, /tmp; it skips (exit 77
# from the example) only when none does. Prints TAP.
set -u
source "$(dirname "$0")/common/installed.sh"

examples=(socket_share sbuf_stream dma_read)
LIMIT=120 # seconds one make run may take before it counts as hung
echo "1..$(( ${#examples[@]} * 2 ))"

work=""
for d in ${CAPMEM_DMA_DIR:-} /var/tmp /tmp; do
    [[ -d "$d" && -w "$d" ]] || continue
    work=$(mktemp -d "$d/cm-examples-test.XXXXXX") && break
done
[[ -n "$work" ]] || work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0
if ! install_copy "$work/root"; then
    for ex in "${examples[@]}"; do
        echo "not ok $((++n)) - test_example_${ex}_builds_against_installed_copy # make install failed"
        echo "not ok $((++n)) - test_example_${ex}_runs_and_verifies"
    done
    sed 's/^/#   /' <<<"$install_log"
    exit 1
fi
use_installed_copy

failed=0
for ex in "${examples[@]}"; do
    dir=$work/$ex
    cp -r "$here/examples/$ex" "$dir"
    # Built as a user builds it, warnings as errors; each binary must load
    # the installed library.
    out=$(make -C "$dir" --no-print-directory CFLAGS="-O2 -g -Wall -Wextra -Werror" 2>&1)
    rc=$?
    bins=$(find "$dir" -maxdepth 1 -type f -executable)
    for b in $bins; do
        lib=$(libcapmem_from "$b")
        if [[ "$lib" != "$dest/usr/lib/libcapmem.so.0" ]]; then
            rc=1; out="$out"$'\n'"$b loads libcapmem from '$lib'"
        fi
    done
    [[ -n "$bins" ]] || { rc=1; out="$out"$'\n'"nothing built"; }
    if [[ $rc == 0 ]] && ! grep -q -e "-I$dest/usr/include" <<<"$out"; then
        rc=1; out="$out"$'\n'"compiled without the installed headers"
    fi
    if [[ $rc == 0 ]]; then
        echo "ok $((++n)) - test_example_${ex}_builds_against_installed_copy"
    else
        echo "not ok $((++n)) - test_example_${ex}_builds_against_installed_copy"
        sed 's/^/#   /' <<<"$out"
        echo "not ok $((++n)) - test_example_${ex}_runs_and_verifies # not built"
        failed=1
        continue
    fi
    out=$(timeout -k 5 "$LIMIT" make -C "$dir" --no-print-directory run 2>&1)
    rc=$?
    if [[ $rc == 0 ]]; then
        echo "ok $((++n)) - test_example_${ex}_runs_and_verifies"
        sed 's/^/#   /' <<<"$(grep -v '^make\|^\.\|^rm \|^head \|^ *test ' <<<"$out")"
    elif [[ $ex == dma_read ]] && grep -q 'Error 77' <<<"$out"; then
        echo "ok $((++n)) - test_example_${ex}_runs_and_verifies # SKIP no direct I/O in ${work%/*}"
    else
        echo "not ok $((++n)) - test_example_${ex}_runs_and_verifies # rc=$rc"
        sed 's/^/#   /' <<<"$out"
        failed=1
    fi
done
exit $failed
