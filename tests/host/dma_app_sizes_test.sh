#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# apps/dma_read_share on what a user points it at: files of any size (the
# default length is min(file size, 256 KiB)), lengths that are not a
# multiple of the device block, a block device (a loop device, root only),
# ranges past the end, and usage errors (stderr, exit 2, before the second
# process exists). Prints TAP. Every digest is checked against sha256sum of
# the same bytes read by dd/head. The file must live where O_DIRECT reaches
# a block device: directories are tried as in dma_app_test.sh.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
app="$here/build/host/apps/dma_read_share"
LIMIT=120

tests=(t_usage_errors_exit_2_on_stderr_once t_small_file_defaults_to_its_size
       t_large_file_defaults_to_256_kib t_length_not_a_block_multiple
       t_offset_or_length_past_the_end_is_refused_naming_the_size t_empty_file_is_refused
       t_block_device)
echo "1..${#tests[@]}"
if [[ ! -x "$app" ]]; then
    for i in "${!tests[@]}"; do echo "not ok $((i + 1)) - ${tests[$i]#t_} # not built: $app"; done
    exit 1
fi

dir=""
for d in ${CAPMEM_DMA_DIR:-} /var/tmp /tmp "$here/build"; do
    [[ -d "$d" && -w "$d" ]] || continue
    probe="$d/capmem-dma-sizes-$$.probe"
    head -c 8192 /dev/urandom >"$probe" 2>/dev/null || { rm -f "$probe"; continue; }
    if timeout "$LIMIT" "$app" "$probe" 2>&1 | grep -q "refuses direct I/O"; then
        rm -f "$probe"
        continue
    fi
    rm -f "$probe"
    dir=$(mktemp -d "$d/capmem-dma-sizes.XXXXXX") && break
done
loopdev=""
cleanup() {
    [[ -n $loopdev ]] && losetup -d "$loopdev" 2>/dev/null
    [[ -n $dir ]] && rm -rf "$dir"
}
trap cleanup EXIT

note() { echo "# $*"; }
# run NAME ARGS...: $dir/NAME.out, NAME.err, $rc
run() {
    local name=$1
    shift
    timeout "$LIMIT" "$app" "$@" >"$dir/$name.out" 2>"$dir/$name.err"
    rc=$?
}
consumer_digest() { sed -n 's/^dma: consumer  sha256 //p' "$1"; }
# expect_digest NAME WANT: exit 0, the success marker, the consumer's digest WANT.
expect_digest() {
    ((rc == 0)) || { note "exit $rc"; sed 's/^/#   /' "$dir/$1.out" "$dir/$1.err"; return 1; }
    grep -qxF "SELFTEST: dmabuffer ownership ok" "$dir/$1.out" || { note "no marker"; return 1; }
    local got
    got=$(consumer_digest "$dir/$1.out")
    [[ $got == "$2" ]] || { note "consumer digest $got, want $2"; return 1; }
}

t_usage_errors_exit_2_on_stderr_once() {
    local args
    for args in "" "--length" "f --length 0" "f --length 1048577" "f --offset 100" \
                "f --bogus" "f g"; do
        # shellcheck disable=SC2086
        run usage $args
        ((rc == 2)) || { note "'$args': exit $rc, expected 2"; return 1; }
        [[ ! -s $dir/usage.out ]] || { note "'$args': wrote to stdout"; return 1; }
        [[ $(grep -c '^usage: dma_read_share' "$dir/usage.err") == 1 ]] ||
            { note "'$args': not exactly one usage line on stderr"; cat "$dir/usage.err"; return 1; }
    done
}

t_small_file_defaults_to_its_size() {
    local f="$dir/small.bin"
    head -c 5000 /dev/urandom >"$f"
    run small "$f"
    expect_digest small "$(sha256sum <"$f" | cut -d' ' -f1)"
}

t_large_file_defaults_to_256_kib() {
    local f="$dir/large.bin"
    head -c $((300 << 10)) /dev/urandom >"$f"
    run large "$f" --offset 4096
    expect_digest large "$(dd if="$f" bs=4096 skip=1 count=64 2>/dev/null | sha256sum | cut -d' ' -f1)"
}

t_length_not_a_block_multiple() {
    local f="$dir/odd.bin"
    head -c 70000 /dev/urandom >"$f"
    run odd "$f" --length 1000
    expect_digest odd "$(head -c 1000 "$f" | sha256sum | cut -d' ' -f1)"
}

t_offset_or_length_past_the_end_is_refused_naming_the_size() {
    local f="$dir/short.bin"
    head -c 5000 /dev/urandom >"$f"
    run past "$f" --offset 8192
    ((rc == 1)) || { note "offset: exit $rc"; return 1; }
    grep -q "offset 8192 is not inside the device (5000 bytes)" "$dir/past.out" ||
        { sed 's/^/#   /' "$dir/past.out"; return 1; }
    run pastlen "$f" --length 6000
    ((rc == 1)) || { note "length: exit $rc"; return 1; }
    grep -q "length 6000 runs past the end of the device (5000 bytes" "$dir/pastlen.out" ||
        { sed 's/^/#   /' "$dir/pastlen.out"; return 1; }
    ! grep -q "SELFTEST" "$dir/past.out" "$dir/pastlen.out"
}

t_empty_file_is_refused() {
    : >"$dir/empty.bin"
    run empty "$dir/empty.bin"
    ((rc == 1)) || { note "exit $rc"; return 1; }
    grep -q "is empty (0 bytes): nothing to read" "$dir/empty.out" || return 1
}

t_block_device() {
    local f="$dir/disk.img"
    head -c $((1 << 20)) /dev/urandom >"$f"
    loopdev=$(losetup -f --show "$f" 2>/dev/null) || { loopdev=""; skip="no loop device (root and /dev/loop* needed)"; return 0; }
    run blk "$loopdev" --offset 8192 --length 16384
    expect_digest blk "$(dd if="$f" bs=4096 skip=2 count=4 2>/dev/null | sha256sum | cut -d' ' -f1)" ||
        return 1
    run blkdef "$loopdev"
    expect_digest blkdef "$(head -c 262144 "$f" | sha256sum | cut -d' ' -f1)"
}

n=0
failed=0
for t in "${tests[@]}"; do
    n=$((n + 1))
    skip=""
    if [[ -z $dir && $t != t_usage_errors_exit_2_on_stderr_once ]]; then
        echo "ok $n - ${t#t_} # SKIP no filesystem here does direct I/O to a device"
        continue
    fi
    [[ -n $dir ]] || dir=$(mktemp -d)
    if "$t"; then
        echo "ok $n - ${t#t_}${skip:+ # SKIP $skip}"
    else
        echo "not ok $n - ${t#t_}"
        failed=$((failed + 1))
    fi
done
((failed == 0))
