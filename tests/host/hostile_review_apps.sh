#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile review of the programs a user runs (capmem CLI, apps/vmo_share):
# what a closed pipe, a limit or a plain file does to them. Prints TAP for
# scripts/run-tests.sh. Needs build/host/capmem and build/host/apps/vmo_share.
# Every command runs under timeout(1); nothing depends on machine speed.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
VMO_SHARE="$root/build/host/apps/vmo_share"
CAPMEM="$root/build/host/capmem"
LIMIT=120

work=$(mktemp -d "${TMPDIR:-/tmp}/cm-hostile-apps.XXXXXX")
trap 'rm -rf "$work"' EXIT
note() { echo "# $*"; }

wait_for_socket() {
    local i
    for ((i = 0; i < 1000; i++)); do
        [[ -S "$1" ]] && return 0
        sleep 0.01
    done
    note "socket $1 never appeared"
    return 1
}

# Runs CMD with its stdout on a pipe that has no reader left, so its first
# write fails (EPIPE, or SIGPIPE if not ignored) whatever the timing. A
# "| true" pipe is racy: a fast writer can finish before true exits.
# Usage: into_closed_pipe ERRFILE CMD...; returns CMD's exit status.
into_closed_pipe() {
    local err=$1
    shift
    local fifo
    fifo=$(mktemp -u "$work/fifo.XXXXXX")
    mkfifo "$fifo" || return 125
    (
        # A read-write open never blocks and makes the write-only open
        # succeed; closing it leaves the pipe with no reader.
        exec 7<>"$fifo" 8>"$fifo" 7<&-
        rm -f "$fifo"
        exec timeout "$LIMIT" "$@" >&8 2>"$err"
    )
}

# A status above 128 is death by a signal (bash: 128 + signal number).
not_by_signal() {
    (($1 < 128)) || { note "$2 killed by signal $(($1 - 128))"; return 1; }
}

# Rule: a file's bytes can be sent. The window has no TRANSFER, so its
# snapshot (cut to the window's rights) cannot travel; the tools must not
# rely on it.
t_capmem_send_of_a_file_reaches_the_receiver() {
    local sock="$work/s1.sock"
    printf 'payload\n' >"$work/f1"
    timeout "$LIMIT" "$CAPMEM" recv --timeout 60 "$sock" >"$work/r1.out" 2>"$work/r1.err" &
    local rp=$!
    wait_for_socket "$sock" || return 1
    timeout "$LIMIT" "$CAPMEM" send --timeout 60 "$sock" "$work/f1" >"$work/s1.out" 2>"$work/s1.err"
    local src=$?
    wait "$rp"
    local rrc=$?
    ((src == 0 && rrc == 0)) || { note "send $src recv $rrc"; sed 's/^/# /' "$work/s1.err" "$work/r1.err"; return 1; }
    grep -qx "sha256: $(sha256sum "$work/f1" | cut -d' ' -f1)" "$work/r1.out"
}

t_vmo_share_file_payload_reaches_the_consumer() {
    printf 'payload\n' >"$work/f2"
    timeout "$LIMIT" "$VMO_SHARE" --file "$work/f2" >"$work/v2.out" 2>"$work/v2.err" ||
        { sed 's/^/# /' "$work/v2.err"; return 1; }
    grep -qx "SELFTEST: vmo share ok" "$work/v2.out"
}

# Rule: no signal kills a capmem user. recv writing its report into a
# closed pipe must still answer its sender, remove its socket file and
# fail by exit status.
t_capmem_recv_into_a_closed_pipe_fails_by_status_and_cleans_up() {
    local sock="$work/s3.sock"
    printf 'payload\n' >"$work/f3"
    (
        into_closed_pipe "$work/r3.err" "$CAPMEM" recv --timeout 60 "$sock"
        echo "$?" >"$work/r3.rc"
    ) &
    local rp=$!
    wait_for_socket "$sock" || return 1
    timeout "$LIMIT" "$CAPMEM" send --timeout 60 "$sock" "$work/f3" >"$work/s3.out" 2>"$work/s3.err"
    local src=$?
    wait "$rp"
    local rrc
    rrc=$(cat "$work/r3.rc")
    not_by_signal "$rrc" recv || return 1
    ((rrc == 1)) || { note "recv exit $rrc, want 1"; return 1; }
    ((src == 0)) || { note "send exit $src: the receiver did not answer"; return 1; }
    [[ ! -e $sock ]] || { note "recv left its socket file behind"; return 1; }
}

t_vmo_share_into_a_closed_pipe_fails_by_status() {
    into_closed_pipe "$work/v4.err" "$VMO_SHARE" --size 4096
    local rc=$?
    not_by_signal "$rc" vmo_share || return 1
    ((rc == 1)) || { note "vmo_share exit $rc, want 1"; return 1; }
    ! grep -q "killed by signal" "$work/v4.err" || { note "the peer was killed by a signal"; return 1; }
}

# RLIMIT_FSIZE on a redirected stdout: SIGXFSZ, fatal by default.
t_capmem_help_past_rlimit_fsize_fails_by_status() {
    bash -c 'ulimit -f 0; exec "$1" --help >"$2" 2>/dev/null' _ "$CAPMEM" "$work/h5.out"
    not_by_signal $? "capmem --help"
}

tests=(
    t_capmem_send_of_a_file_reaches_the_receiver
    t_vmo_share_file_payload_reaches_the_consumer
    t_capmem_recv_into_a_closed_pipe_fails_by_status_and_cleans_up
    t_vmo_share_into_a_closed_pipe_fails_by_status
    t_capmem_help_past_rlimit_fsize_fails_by_status
)

echo "1..${#tests[@]}"
n=0
failed=0
for t in "${tests[@]}"; do
    n=$((n + 1))
    if [[ ! -x $CAPMEM || ! -x $VMO_SHARE ]]; then
        echo "not ok $n - ${t#t_}"
        note "$CAPMEM or $VMO_SHARE is not built"
        failed=$((failed + 1))
    elif "$t"; then
        echo "ok $n - ${t#t_}"
    else
        echo "not ok $n - ${t#t_}"
        failed=$((failed + 1))
    fi
done
((failed == 0))
