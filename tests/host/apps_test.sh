#!/usr/bin/env bash
# End-to-end tests of the programs a user runs: apps/vmo_share (the
# two-process proof), apps/sbuf_stream (the SharedBuffer streaming proof)
# and the capmem command-line tool. Prints TAP ("1..N",
# "ok N - name", "not ok N - name", "# ..." diagnostics) for
# scripts/run-tests.sh. Needs build/host/apps/vmo_share and build/host/capmem.
#
# Every command runs under timeout(1) and every wait polls against a bound,
# so a hung program fails its test instead of hanging the suite. Nothing
# here depends on how fast the machine is.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
VMO_SHARE="$root/build/host/apps/vmo_share"
SBUF_STREAM="$root/build/host/apps/sbuf_stream"
CAPMEM="$root/build/host/capmem"
LIMIT=120 # seconds any single command may take before it counts as hung

work=$(mktemp -d "${TMPDIR:-/tmp}/cm-apps-test.XXXXXX")
bg_pids=()
cleanup() {
    local p
    for p in "${bg_pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

diag() { sed 's/^/# /' "$@"; }
note() { echo "# $*"; }

# Runs a command with a time limit; stdout/stderr to files in $work.
# Usage: run NAME CMD...; then $work/NAME.out, NAME.err, and $rc.
run() {
    local name=$1
    shift
    timeout "$LIMIT" "$@" >"$work/$name.out" 2>"$work/$name.err"
    rc=$?
}

# Waits (bounded) until a socket file exists.
wait_for_socket() {
    local i
    for ((i = 0; i < 1000; i++)); do
        [[ -S "$1" ]] && return 0
        sleep 0.01
    done
    note "socket $1 never appeared"
    return 1
}

has_line() { grep -qxF -- "$2" "$1"; }

# The four markers of a successful proof, in any order.
MARKERS=("vmo: producer sent handle" "vmo: consumer mapped ok" "vmo: sha256 ok"
         "SELFTEST: vmo share ok")

check_markers() {
    local m ok=0
    for m in "${MARKERS[@]}"; do
        if ! has_line "$1" "$m"; then
            note "missing marker: $m"
            ok=1
        fi
    done
    return $ok
}

# ---- vmo_share ----

t_vmo_share_small_payload_prints_every_marker() {
    run share4m "$VMO_SHARE" --size 4194304
    ((rc == 0)) || { note "exit $rc"; diag "$work/share4m.out" "$work/share4m.err"; return 1; }
    check_markers "$work/share4m.out" || { diag "$work/share4m.out"; return 1; }
}

t_vmo_share_default_64mib_payload_prints_every_marker() {
    run share64m "$VMO_SHARE"
    ((rc == 0)) || { note "exit $rc"; diag "$work/share64m.out" "$work/share64m.err"; return 1; }
    check_markers "$work/share64m.out" || { diag "$work/share64m.out"; return 1; }
    grep -q "67108864-byte VMO" "$work/share64m.out" || { note "not a 64 MiB payload"; return 1; }
}

t_vmo_share_broken_hash_fails_without_success_markers() {
    run broken "$VMO_SHARE" --size 4194304 --break-hash
    local bad=0
    ((rc != 0)) || { note "exit 0 despite a broken hash"; bad=1; }
    ((rc != 124)) || { note "timed out"; bad=1; }
    if has_line "$work/broken.out" "vmo: sha256 ok"; then note "printed 'vmo: sha256 ok'"; bad=1; fi
    if has_line "$work/broken.out" "SELFTEST: vmo share ok"; then note "printed SELFTEST ok"; bad=1; fi
    # It got as far as comparing: the failure is the digest, not a crash.
    grep -q "DIGEST MISMATCH" "$work/broken.out" || { note "no mismatch reported"; bad=1; }
    ((bad == 0)) || diag "$work/broken.out" "$work/broken.err"
    return $bad
}

t_vmo_share_file_payload_hashes_to_sha256sum() {
    local f="$work/payload.bin"
    head -c 3000001 /dev/urandom >"$f"
    local want
    want=$(sha256sum "$f" | cut -d' ' -f1)
    run sharefile "$VMO_SHARE" --file "$f"
    ((rc == 0)) || { note "exit $rc"; diag "$work/sharefile.out" "$work/sharefile.err"; return 1; }
    check_markers "$work/sharefile.out" || { diag "$work/sharefile.out"; return 1; }
    grep -q "3000001-byte VMO.*sha256 $want\$" "$work/sharefile.out" ||
        { note "producer digest is not sha256sum's $want"; diag "$work/sharefile.out"; return 1; }
}

t_vmo_share_missing_file_fails() {
    run sharemissing "$VMO_SHARE" --file "$work/no-such-file"
    ((rc != 0 && rc != 124)) || { note "exit $rc"; return 1; }
    ! has_line "$work/sharemissing.out" "SELFTEST: vmo share ok" || return 1
    # The report names the file and why (cm_status_detail: the call, errno).
    grep -q "from file \"$work/no-such-file\" failed: CM_ERR_NOT_FOUND.*ENOENT" \
        "$work/sharemissing.out" || { diag "$work/sharemissing.out"; return 1; }
}

t_vmo_share_size_over_the_limit_names_the_limit() {
    run sharebig "$VMO_SHARE" --size $(( (1 << 40) + 1 ))
    ((rc == 1)) || { note "exit $rc"; diag "$work/sharebig.out"; return 1; }
    grep -q "of 1099511627777 bytes failed: CM_ERR_OUT_OF_RANGE.*CM_VMO_MAX_SIZE (1099511627776 bytes" \
        "$work/sharebig.out" || { diag "$work/sharebig.out"; return 1; }
}

t_vmo_share_bad_usage_exits_2() {
    run shareusage "$VMO_SHARE" --no-such-option
    ((rc == 2)) || { note "exit $rc"; return 1; }
}

# ---- sbuf_stream ----

SBUF_OK="SELFTEST: sbuf stream ok"

t_sbuf_stream_two_consumers_verify_every_message() {
    run sbuf2 "$SBUF_STREAM" --count 2000
    ((rc == 0)) || { note "exit $rc"; diag "$work/sbuf2.out" "$work/sbuf2.err"; return 1; }
    has_line "$work/sbuf2.out" "$SBUF_OK" || { diag "$work/sbuf2.out"; return 1; }
    has_line "$work/sbuf2.out" "sbuf: 2 consumers verified 2000 messages (sequence, length, sha256 of each)" ||
        { note "no verification line"; diag "$work/sbuf2.out"; return 1; }
    local c
    for c in 0 1; do
        has_line "$work/sbuf2.out" "sbuf: consumer $c: 2000 messages in order, each SHA-256 verified in place" ||
            { note "consumer $c did not report"; diag "$work/sbuf2.out"; return 1; }
    done
}

t_sbuf_stream_four_consumers_small_slots() {
    run sbuf4 "$SBUF_STREAM" --count 3000 --consumers 4 --slot-size 100
    ((rc == 0)) || { note "exit $rc"; diag "$work/sbuf4.out" "$work/sbuf4.err"; return 1; }
    has_line "$work/sbuf4.out" "$SBUF_OK" || { diag "$work/sbuf4.out"; return 1; }
}

t_sbuf_stream_broken_hash_fails_without_success_marker() {
    run sbufbroken "$SBUF_STREAM" --count 64 --break-hash
    local bad=0
    ((rc != 0 && rc != 124)) || { note "exit $rc despite a broken hash"; bad=1; }
    if has_line "$work/sbufbroken.out" "$SBUF_OK"; then note "printed $SBUF_OK"; bad=1; fi
    grep -q "DIGEST MISMATCH" "$work/sbufbroken.out" || { note "no mismatch reported"; bad=1; }
    ((bad == 0)) || diag "$work/sbufbroken.out" "$work/sbufbroken.err"
    return $bad
}

t_sbuf_stream_bad_usage_exits_2() {
    local args
    for args in "--no-such-option" "--consumers 0" "--consumers 5" "--slot-size 47" "--count x"; do
        # shellcheck disable=SC2086
        run sbufusage "$SBUF_STREAM" $args
        ((rc == 2)) || { note "$args: exit $rc"; return 1; }
    done
}

t_sbuf_stream_slot_over_the_limit_is_a_typed_error() {
    run sbufbig "$SBUF_STREAM" --count 1 --slot-size 16777217
    ((rc == 1)) || { note "exit $rc"; diag "$work/sbufbig.out"; return 1; }
    grep -q "creating the SharedBuffer failed: CM_ERR_OUT_OF_RANGE.*CM_SBUF_MAX_SLOT_SIZE (16777216 bytes)" \
        "$work/sbufbig.out" ||
        { diag "$work/sbufbig.out"; return 1; }
}

# ---- capmem ----

t_capmem_help_exits_0_and_documents_exit_codes() {
    local opt
    for opt in --help -h; do
        run help "$CAPMEM" "$opt"
        ((rc == 0)) || { note "$opt: exit $rc"; return 1; }
        grep -q "^usage: capmem recv" "$work/help.out" || { note "$opt: no usage"; return 1; }
        grep -q "2  usage error" "$work/help.out" || { note "$opt: exit codes missing"; return 1; }
        [[ ! -s "$work/help.err" ]] || { note "$opt: wrote to stderr"; return 1; }
    done
}

t_capmem_bad_usage_exits_2_with_a_message() {
    local args
    local -a cases=("" "frob" "recv" "recv a b" "recv --bogus p" "recv --timeout" \
                    "recv --timeout -1 p" "recv --count 0 p" "send" "send p" "send p f x" \
                    "send --count 2 p f")
    for args in "${cases[@]}"; do
        # shellcheck disable=SC2086
        run usage "$CAPMEM" $args
        ((rc == 2)) || { note "'capmem $args': exit $rc, expected 2"; return 1; }
        grep -q "^capmem: " "$work/usage.err" || { note "'capmem $args': no message"; return 1; }
    done
}

t_capmem_send_missing_file_says_so_and_fails() {
    run missing "$CAPMEM" send "$work/nobody.sock" "$work/no-such-file"
    ((rc == 1)) || { note "exit $rc"; return 1; }
    grep -q "^capmem: .*no-such-file.*does not exist" "$work/missing.err" ||
        { note "unclear message:"; diag "$work/missing.err"; return 1; }
}

t_capmem_send_without_receiver_says_so_and_fails() {
    echo data >"$work/small.txt"
    run norecv "$CAPMEM" send "$work/nobody.sock" "$work/small.txt"
    ((rc == 1)) || { note "exit $rc"; return 1; }
    grep -q "^capmem: cannot connect to .*nobody.sock" "$work/norecv.err" ||
        { diag "$work/norecv.err"; return 1; }
}

# Starts `capmem recv ARGS... SOCK` in the background; sets recv_pid.
start_recv() {
    local name=$1
    shift
    timeout "$LIMIT" "$CAPMEM" recv "$@" >"$work/$name.out" 2>"$work/$name.err" &
    recv_pid=$!
    bg_pids+=("$recv_pid")
}

# Sends FILE to SOCK, checks both sides agree with sha256sum and stat.
# Usage: send_and_check NAME SOCK FILE RECV_OUT
send_and_check() {
    local name=$1 sock=$2 file=$3 recv_out=$4
    local want size
    want=$(sha256sum "$file" | cut -d' ' -f1)
    size=$(stat -c %s "$file")
    # Not under timeout(1), so that $! is the sender itself: its own
    # --timeout bounds the only wait it has (the reply).
    "$CAPMEM" send --timeout 60 "$sock" "$file" >"$work/$name.out" 2>"$work/$name.err" &
    local send_pid=$!
    wait "$send_pid"
    local src=$?
    ((src == 0)) || { note "send exit $src"; diag "$work/$name.out" "$work/$name.err"; return 1; }
    has_line "$work/$name.out" "sha256: $want" || { note "send digest"; return 1; }
    has_line "$work/$name.out" "receiver: sha256 ok" || { note "no confirmation"; return 1; }
    has_line "$recv_out" "size: $size" || { note "recv size"; diag "$recv_out"; return 1; }
    has_line "$recv_out" "sha256: $want" || { note "recv digest"; diag "$recv_out"; return 1; }
    has_line "$recv_out" "immutable: yes" || { note "recv immutability"; return 1; }
    grep -Eqx 'pages: (4096 bytes|2097152 bytes \(huge\))' "$recv_out" ||
        { note "recv page size"; diag "$recv_out"; return 1; }
    grep -Eqx 'pages: (4096 bytes|2097152 bytes \(huge\))' "$work/$name.out" ||
        { note "send page size"; diag "$work/$name.out"; return 1; }
    grep -qx "sender: pid $send_pid uid $(id -u) gid [0-9]*" "$recv_out" ||
        { note "sender credentials are not the send process ($send_pid)"; diag "$recv_out"; return 1; }
}

t_capmem_send_to_recv_matches_sha256sum_and_size() {
    local sock="$work/one.sock" f="$work/one.bin"
    head -c 1048699 /dev/urandom >"$f"
    start_recv recv1 --timeout 60 "$sock"
    wait_for_socket "$sock" || return 1
    send_and_check send1 "$sock" "$f" "$work/recv1.out" || return 1
    wait "$recv_pid"
    local r=$?
    ((r == 0)) || { note "recv exit $r"; diag "$work/recv1.err"; return 1; }
    [[ ! -e "$sock" ]] || { note "recv left its socket file"; return 1; }
}

t_capmem_empty_file_round_trips() {
    local sock="$work/empty.sock" f="$work/empty.bin"
    : >"$f"
    start_recv recv0 --timeout 60 "$sock"
    wait_for_socket "$sock" || return 1
    send_and_check send0 "$sock" "$f" "$work/recv0.out" || return 1
    wait "$recv_pid" || { note "recv failed"; diag "$work/recv0.err"; return 1; }
}

t_capmem_recv_count_serves_several_senders() {
    local sock="$work/many.sock"
    head -c 5000 /dev/urandom >"$work/a.bin"
    head -c 70000 /dev/urandom >"$work/b.bin"
    start_recv recvn --count 2 --timeout 60 "$sock"
    wait_for_socket "$sock" || return 1
    send_and_check senda "$sock" "$work/a.bin" "$work/recvn.out" || return 1
    send_and_check sendb "$sock" "$work/b.bin" "$work/recvn.out" || return 1
    wait "$recv_pid" || { note "recv failed"; diag "$work/recvn.err"; return 1; }
    [[ $(grep -c '^sha256: ' "$work/recvn.out") == 2 ]] || { diag "$work/recvn.out"; return 1; }
}

t_capmem_recv_times_out_without_a_sender() {
    local sock="$work/idle.sock"
    run idle "$CAPMEM" recv --timeout 0.2 "$sock"
    ((rc == 1)) || { note "exit $rc, expected 1"; return 1; }
    grep -q "^capmem: timed out" "$work/idle.err" || { diag "$work/idle.err"; return 1; }
    [[ ! -e "$sock" ]] || { note "socket file left behind"; return 1; }
}

t_capmem_recv_refuses_an_existing_path_and_leaves_it() {
    local p="$work/taken"
    echo precious >"$p"
    run taken "$CAPMEM" recv --timeout 5 "$p"
    ((rc == 1)) || { note "exit $rc"; return 1; }
    grep -q "^capmem: cannot listen on .*taken: named entity already exists" "$work/taken.err" ||
        { diag "$work/taken.err"; return 1; }
    [[ $(cat "$p") == precious ]] || { note "existing file was touched"; return 1; }
}

t_capmem_recv_removes_its_socket_when_terminated() {
    local sock="$work/term.sock"
    "$CAPMEM" recv --timeout 60 "$sock" >"$work/term.out" 2>"$work/term.err" &
    local pid=$!
    bg_pids+=("$pid")
    wait_for_socket "$sock" || return 1
    kill -TERM "$pid"
    wait "$pid"
    local r=$?
    ((r == 128 + 15)) || { note "exit $r, expected death by SIGTERM"; return 1; }
    [[ ! -e "$sock" ]] || { note "socket file left behind"; return 1; }
}

tests=(
    t_vmo_share_small_payload_prints_every_marker
    t_vmo_share_default_64mib_payload_prints_every_marker
    t_vmo_share_broken_hash_fails_without_success_markers
    t_vmo_share_file_payload_hashes_to_sha256sum
    t_vmo_share_missing_file_fails
    t_vmo_share_bad_usage_exits_2
    t_vmo_share_size_over_the_limit_names_the_limit
    t_sbuf_stream_two_consumers_verify_every_message
    t_sbuf_stream_four_consumers_small_slots
    t_sbuf_stream_broken_hash_fails_without_success_marker
    t_sbuf_stream_bad_usage_exits_2
    t_sbuf_stream_slot_over_the_limit_is_a_typed_error
    t_capmem_help_exits_0_and_documents_exit_codes
    t_capmem_bad_usage_exits_2_with_a_message
    t_capmem_send_missing_file_says_so_and_fails
    t_capmem_send_without_receiver_says_so_and_fails
    t_capmem_send_to_recv_matches_sha256sum_and_size
    t_capmem_empty_file_round_trips
    t_capmem_recv_count_serves_several_senders
    t_capmem_recv_times_out_without_a_sender
    t_capmem_recv_refuses_an_existing_path_and_leaves_it
    t_capmem_recv_removes_its_socket_when_terminated
)

echo "1..${#tests[@]}"
n=0
failed=0
for t in "${tests[@]}"; do
    n=$((n + 1))
    name=${t#t_}
    missing=""
    [[ $t == t_vmo_share_* && ! -x "$VMO_SHARE" ]] && missing=$VMO_SHARE
    [[ $t == t_sbuf_stream_* && ! -x "$SBUF_STREAM" ]] && missing=$SBUF_STREAM
    [[ $t == t_capmem_* && ! -x "$CAPMEM" ]] && missing=$CAPMEM
    if [[ -n $missing ]]; then
        echo "not ok $n - $name"
        note "$missing is not built"
        failed=$((failed + 1))
    elif "$t"; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        failed=$((failed + 1))
    fi
done
((failed == 0))
