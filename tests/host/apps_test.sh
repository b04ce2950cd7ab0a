#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
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
    grep -q "^capmem: cannot open .*no-such-file: No such file or directory" "$work/missing.err" ||
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

# A signal while --output is being written removes the hidden temporary
# file beside FILE and leaves FILE as it was. strace holds the receiver in
# its fsync (the temporary file is whole, not yet renamed) so that the
# signal lands there every time.
t_capmem_recv_removes_its_output_temp_file_when_terminated() {
    strace -qq -o /dev/null true 2>/dev/null || { note "strace cannot trace here"; return 77; }
    local sock="$work/tterm.sock" d="$work/tterm"
    mkdir -p "$d"
    echo precious >"$d/out.bin"
    head -c 100000 /dev/urandom >"$work/tterm.in"
    "$CAPMEM" recv --timeout 60 --output "$d/out.bin" "$sock" >"$work/tterm.out" 2>"$work/tterm.err" &
    local rpid=$!
    bg_pids+=("$rpid")
    # Not strace itself: it would wait for its tracee; the receiver is
    # attached once its socket exists.
    wait_for_socket "$sock" || return 1
    strace -qq -o /dev/null -e trace=fsync -e inject=fsync:delay_enter=20000000 -p "$rpid" &
    local tpid=$!
    bg_pids+=("$tpid")
    sleep 0.5 # strace attaches (nothing is sent before, so nothing is missed)
    timeout "$LIMIT" "$CAPMEM" send --timeout 60 "$sock" "$work/tterm.in" \
        >"$work/ttsend.out" 2>"$work/ttsend.err" &
    local i
    for ((i = 0; i < 1000; i++)); do
        compgen -G "$d/.out.bin.capmem-*" >/dev/null && break
        sleep 0.01
    done
    compgen -G "$d/.out.bin.capmem-*" >/dev/null || { note "no temporary file seen"; return 1; }
    kill -TERM "$rpid"
    wait "$rpid"
    local r=$?
    wait "$tpid" 2>/dev/null
    ((r == 128 + 15)) || { note "exit $r, expected death by SIGTERM"; diag "$work/tterm.err"; return 1; }
    [[ $(cat "$d/out.bin") == precious ]] || { note "FILE was changed"; return 1; }
    local left
    left=$(ls -A "$d" | grep -v '^out\.bin$')
    [[ -z $left ]] || { note "left behind: $left"; return 1; }
}

# A hostile sender (tests/host/capmem_peer.py speaks the wire format
# itself) sends what `capmem send` never would: recv refuses each with a
# message, within --timeout, exit 1; --output FILE is untouched, no
# temporary file is left and --exec never runs.
t_capmem_recv_refuses_hostile_senders_without_output_or_exec() {
    local m d="$work/hostile" sock="$work/hostile.sock"
    mkdir -p "$d"
    local -A want=(
        [unsealed]="capmem: refused: the object is not sealed immutable by the kernel"
        [shrinkable]="capmem: refused: the object is not sealed immutable by the kernel"
        [pipe]="capmem: receiving from pid [0-9]*: peer sent a malformed or inconsistent message"
        [two]="capmem: refused: not a capmem send message (more bytes or handles than one send)"
        [nohandle]="capmem: refused: not a capmem send message"
        [garbage]="capmem: receiving from pid [0-9]*: peer sent a malformed or inconsistent message"
        [hangup]="capmem: receiving from pid [0-9]*: the other end of the channel is closed"
        [silent]="capmem: timed out waiting for a message from pid [0-9]* (--timeout)"
        [readmaponly]="capmem: refused: the handle cannot be handed to --exec (no DUPLICATE or TRANSFER right)"
    )
    for m in unsealed shrinkable pipe two nohandle garbage hangup silent readmaponly; do
        echo precious >"$d/out.bin"
        rm -f "$d/ran"
        # --timeout also bounds the wait for the peer to connect, and a
        # python3 start can take seconds on a loaded machine: only `silent`,
        # whose point is the timeout, gets a short one, and even that must
        # outlast the peer's start.
        local t=60
        [[ $m == silent ]] && t=10
        start_recv "h-$m" --timeout "$t" --output "$d/out.bin" --exec "touch '$d/ran'" "$sock"
        wait_for_socket "$sock" || return 1
        timeout 60 python3 "$root/tests/host/capmem_peer.py" send "$m" "$sock" \
            >"$work/hp-$m.out" 2>"$work/hp-$m.err" &
        local ppid=$!
        bg_pids+=("$ppid")
        wait "$recv_pid"
        local r=$?
        kill "$ppid" 2>/dev/null
        wait "$ppid" 2>/dev/null
        ((r == 1)) || { note "$m: recv exit $r"; diag "$work/h-$m.err"; return 1; }
        grep -qx "${want[$m]}" "$work/h-$m.err" ||
            { note "$m: want ${want[$m]}"; diag "$work/h-$m.err"; return 1; }
        case $m in unsealed | shrinkable | nohandle | readmaponly)
            grep -q "error:" "$work/hp-$m.out" && ! grep -q "sha256:" "$work/hp-$m.out" ||
                { note "$m: the sender was not told of the refusal"; diag "$work/hp-$m.out"; return 1; }
        esac
        [[ $(cat "$d/out.bin") == precious ]] || { note "$m: FILE was changed"; return 1; }
        [[ ! -e "$d/ran" ]] || { note "$m: --exec ran on a refused object"; return 1; }
        [[ $(ls -A "$d") == out.bin ]] || { note "$m: left behind:"; ls -A "$d" | diag; return 1; }
        [[ ! -e "$sock" ]] || { note "$m: socket file left behind"; return 1; }
    done
}

# A sealed sparse object is free to send and costly to hash or write:
# --max-size refuses it before either (a 1 TiB one would otherwise take
# hours), names the sizes, leaves --output untouched, never runs --exec;
# an object of exactly --max-size is accepted.
t_capmem_recv_max_size_refuses_a_larger_object_before_hashing() {
    local d="$work/maxsz" sock="$work/maxsz.sock"
    mkdir -p "$d"
    echo precious >"$d/out.bin"
    start_recv maxsz --timeout 60 --max-size 1048576 --output "$d/out.bin" \
        --exec "touch '$d/ran'" "$sock"
    wait_for_socket "$sock" || return 1
    run maxszp python3 "$root/tests/host/capmem_peer.py" send huge1099511627776 "$sock"
    wait "$recv_pid"
    local r=$?
    ((r == 1)) || { note "recv exit $r"; diag "$work/maxsz.err"; return 1; }
    grep -qx "capmem: pid [0-9]* sent 1099511627776 bytes, more than --max-size 1048576" \
        "$work/maxsz.err" || { diag "$work/maxsz.err"; return 1; }
    grep -qF "error:the object is larger than the receiver's --max-size" "$work/maxszp.out" ||
        { note "sender not told"; diag "$work/maxszp.out"; return 1; }
    [[ $(cat "$d/out.bin") == precious && ! -e "$d/ran" ]] || { note "output or exec"; return 1; }
    head -c 1048576 /dev/zero >"$work/maxsz.in"
    start_recv maxsz2 --timeout 60 --max-size 1048576 "$sock"
    send_and_check maxszs "$sock" "$work/maxsz.in" "$work/maxsz2.out" || return 1
    wait "$recv_pid" || { note "exactly --max-size refused"; diag "$work/maxsz2.err"; return 1; }
    local a
    for a in -1 1e3 "" 1099511627777 99999999999999999999999; do
        run maxszu "$CAPMEM" recv --max-size "$a" "$sock"
        ((rc == 2)) || { note "--max-size '$a': exit $rc"; return 1; }
    done
}

# A hostile receiver replies a wrong digest, garbage or nothing: send says
# which, exit 1, within its --timeout.
t_capmem_send_reports_a_wrong_garbage_or_missing_reply() {
    local m sock="$work/hrecv.sock"
    echo data >"$work/hrecv.txt"
    local -A want=(
        [wrongdigest]="capmem: DIGEST MISMATCH: the receiver hashed 4242424242424242424242424242424242424242424242424242424242424242"
        [garbage]="capmem: reading the receiver's reply: peer sent a malformed or inconsistent message"
        [silent]="capmem: timed out waiting for the receiver's reply (--timeout)"
    )
    for m in wrongdigest garbage silent; do
        rm -f "$sock"
        timeout 60 python3 "$root/tests/host/capmem_peer.py" recv "$m" "$sock" \
            >"$work/hr-$m.out" 2>"$work/hr-$m.err" &
        local ppid=$!
        bg_pids+=("$ppid")
        wait_for_socket "$sock" || return 1
        run "hs-$m" "$CAPMEM" send --timeout 2 "$sock" "$work/hrecv.txt"
        kill "$ppid" 2>/dev/null
        wait "$ppid" 2>/dev/null
        ((rc == 1)) || { note "$m: send exit $rc"; diag "$work/hs-$m.err"; return 1; }
        grep -qxF "${want[$m]}" "$work/hs-$m.err" ||
            { note "$m: want ${want[$m]}"; diag "$work/hs-$m.err"; return 1; }
        has_line "$work/hs-$m.out" "receiver: sha256 ok" && { note "$m: claimed ok"; return 1; }
    done
    rm -f "$sock"
}

# ---- capmem: new commands and options (transcripts as tests) ----

# The version the tool prints is the library's, written once in
# include/capmem/version.h.
t_capmem_version_prints_the_one_defined_version() {
    local want
    want=$(awk '/^#define CAPMEM_VERSION_(MAJOR|MINOR|PATCH) /{v=v (v==""?"":".") $3} END{print v}' \
        "$root/include/capmem/version.h")
    [[ $want =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { note "no version in include/capmem/version.h"; return 1; }
    local args
    for args in "--version" "recv --version" "send p f --version"; do
        # shellcheck disable=SC2086
        run version "$CAPMEM" $args
        ((rc == 0)) || { note "'$args': exit $rc"; return 1; }
        [[ $(cat "$work/version.out") == "capmem $want" ]] ||
            { note "'$args' printed:"; diag "$work/version.out"; return 1; }
        [[ ! -s "$work/version.err" ]] || { note "'$args' wrote to stderr"; return 1; }
    done
}

t_capmem_new_usage_errors_exit_2_on_stderr_only() {
    local -a cases=("send --output x p f" "send --exec true p f" "recv --wait p" "recv --json p"
                    "info" "info a b" "info --fd x" "info --fd 1 p" "info --count 2 p"
                    "send --wait=x p f" "send --wait=-1 p f" "recv --output= p"
                    "recv --exec= p" "recv --count 2 --output - p" "send --no-such p f")
    local args
    for args in "${cases[@]}"; do
        # shellcheck disable=SC2086
        run usage "$CAPMEM" $args
        ((rc == 2)) || { note "'capmem $args': exit $rc, expected 2"; return 1; }
        grep -q "^capmem: " "$work/usage.err" || { note "'capmem $args': no message"; return 1; }
        grep -q "^Try 'capmem --help'" "$work/usage.err" || { note "'capmem $args': no hint"; return 1; }
        [[ ! -s "$work/usage.out" ]] || { note "'capmem $args': wrote to stdout"; return 1; }
    done
}

# GNU order: options after the operands; "--" ends the options, so a file
# named like an option can be sent.
t_capmem_options_after_operands_and_double_dash() {
    local sock="$work/gnu.sock" f="$work/-x"
    head -c 12345 /dev/urandom >"$f"
    start_recv gnurecv "$sock" --timeout 60 --count 1
    run gnusend "$CAPMEM" send --wait=60 -- "$sock" "$f"
    ((rc == 0)) || { note "send exit $rc"; diag "$work/gnusend.err"; return 1; }
    wait "$recv_pid" || { note "recv failed"; diag "$work/gnurecv.err"; return 1; }
    has_line "$work/gnurecv.out" "sha256: $(sha256sum <"$f" | cut -d' ' -f1)" ||
        { diag "$work/gnurecv.out"; return 1; }
    has_line "$work/gnurecv.out" "size: 12345" || return 1
}

# The docs' example in a script: a receiver started in the background just
# before the sender, no sleep between. --wait makes it reliable: 50 in a row.
t_capmem_send_wait_never_loses_the_race_with_a_recv_started_just_before() {
    local sock="$work/race.sock" f="$work/race.bin" i src rrc
    head -c 4096 /dev/urandom >"$f"
    for ((i = 0; i < 50; i++)); do
        "$CAPMEM" recv --timeout 60 "$sock" >"$work/race.rout" 2>"$work/race.rerr" &
        local rpid=$!
        bg_pids+=("$rpid")
        timeout "$LIMIT" "$CAPMEM" send --wait=60 "$sock" "$f" >"$work/race.sout" 2>"$work/race.serr"
        src=$?
        wait "$rpid"
        rrc=$?
        if ((src != 0 || rrc != 0)); then
            note "round $i: send exit $src, recv exit $rrc"
            diag "$work/race.serr" "$work/race.rerr"
            return 1
        fi
        has_line "$work/race.sout" "receiver: sha256 ok" || { note "round $i: no confirmation"; return 1; }
    done
}

t_capmem_send_wait_waits_for_a_receiver_that_starts_later() {
    local sock="$work/late.sock" f="$work/late.bin"
    head -c 70000 /dev/urandom >"$f"
    timeout "$LIMIT" "$CAPMEM" send --wait=60 "$sock" "$f" >"$work/late.out" 2>"$work/late.err" &
    local spid=$!
    bg_pids+=("$spid")
    # Give the sender time to find nobody at least once (not a race: it
    # must keep waiting however long this takes).
    sleep 0.5
    kill -0 "$spid" 2>/dev/null || { note "send gave up without a receiver"; diag "$work/late.err"; return 1; }
    start_recv laterecv --timeout 60 "$sock"
    wait "$spid" || { note "send failed"; diag "$work/late.err"; return 1; }
    wait "$recv_pid" || { note "recv failed"; diag "$work/laterecv.err"; return 1; }
    has_line "$work/late.out" "receiver: sha256 ok" || return 1
}

t_capmem_send_wait_gives_up_at_its_limit_naming_the_path() {
    echo data >"$work/w.txt"
    run waitlimit "$CAPMEM" send --wait=0.3 "$work/never.sock" "$work/w.txt"
    ((rc == 1)) || { note "exit $rc"; return 1; }
    grep -q "^capmem: no receiver appeared at .*never.sock within 0.3 s (--wait)" "$work/waitlimit.err" ||
        { diag "$work/waitlimit.err"; return 1; }
}

t_capmem_send_without_receiver_suggests_wait() {
    echo data >"$work/w2.txt"
    run nowait "$CAPMEM" send "$work/nobody2.sock" "$work/w2.txt"
    ((rc == 1)) || { note "exit $rc"; return 1; }
    grep -q "send --wait' waits for it" "$work/nowait.err" || { diag "$work/nowait.err"; return 1; }
}

t_capmem_send_stdin_dash_round_trips() {
    local sock="$work/stdin.sock"
    seq 1 200000 >"$work/seq.txt"
    start_recv stdinrecv --timeout 60 "$sock"
    timeout "$LIMIT" "$CAPMEM" send --wait=60 "$sock" - <"$work/seq.txt" >"$work/stdin.out" \
        2>"$work/stdin.err"
    local src=$?
    # A pipe, not a file: the size cannot come from fstat.
    ((src == 0)) || { note "send exit $src"; diag "$work/stdin.err"; return 1; }
    wait "$recv_pid" || { note "recv failed"; diag "$work/stdinrecv.err"; return 1; }
    local want size
    want=$(sha256sum <"$work/seq.txt" | cut -d' ' -f1)
    size=$(stat -c %s "$work/seq.txt")
    has_line "$work/stdin.out" "sent: stdin ($size bytes, immutable)" || { diag "$work/stdin.out"; return 1; }
    has_line "$work/stdinrecv.out" "sha256: $want" || { diag "$work/stdinrecv.out"; return 1; }
    has_line "$work/stdinrecv.out" "size: $size" || return 1
    # Through a real pipe as well.
    start_recv piperecv --timeout 60 "$sock"
    seq 1 200000 | timeout "$LIMIT" "$CAPMEM" send --wait=60 "$sock" - >"$work/pipe.out" 2>"$work/pipe.err" ||
        { diag "$work/pipe.err"; return 1; }
    wait "$recv_pid" || return 1
    has_line "$work/piperecv.out" "sha256: $want" || { diag "$work/piperecv.out"; return 1; }
}

# stdin of unknown size grows the object past the 256 MiB the tool maps at a
# time: every byte lands at its place (a repeating 292-byte pattern, so a
# misplaced window changes the digest).
t_capmem_send_stdin_past_a_mapping_window_round_trips() {
    local sock="$work/win.sock" want
    want=$(yes "$(seq 100)" | head -c $((300 << 20)) | sha256sum | cut -d' ' -f1)
    start_recv winrecv --timeout 60 "$sock" --output "$work/win.out"
    yes "$(seq 100)" | head -c $((300 << 20)) |
        timeout "$LIMIT" "$CAPMEM" send --wait=60 "$sock" - >"$work/winsend.out" 2>"$work/winsend.err" ||
        { diag "$work/winsend.err"; return 1; }
    wait "$recv_pid" || { diag "$work/winrecv.err"; return 1; }
    has_line "$work/winrecv.out" "sha256: $want" || { diag "$work/winrecv.out"; return 1; }
    [[ $(sha256sum <"$work/win.out" | cut -d' ' -f1) == "$want" ]] || { note "--output differs"; return 1; }
    rm -f "$work/win.out"
}

# procfs reports st_size 0 for files with content: read to EOF, never
# "0 bytes, sha256 ok".
t_capmem_send_procfs_file_is_read_to_its_end() {
    local sock="$work/proc.sock" pf=/proc/version
    [[ -r $pf ]] || { note "no $pf"; return 1; }
    local size want
    size=$(wc -c <"$pf")
    want=$(sha256sum <"$pf" | cut -d' ' -f1)
    [[ $(stat -c %s "$pf") == 0 && $size -gt 0 ]] || { note "$pf is not a size-less procfs file here"; return 1; }
    start_recv procrecv --timeout 60 "$sock"
    run procsend "$CAPMEM" send --wait=60 "$sock" "$pf"
    ((rc == 0)) || { note "exit $rc"; diag "$work/procsend.err"; return 1; }
    wait "$recv_pid" || return 1
    has_line "$work/procsend.out" "sent: $pf ($size bytes, immutable)" || { diag "$work/procsend.out"; return 1; }
    has_line "$work/procrecv.out" "size: $size" || { diag "$work/procrecv.out"; return 1; }
    has_line "$work/procrecv.out" "sha256: $want" || return 1
}

t_capmem_send_refuses_fifo_and_directory_without_blocking() {
    mkfifo "$work/fifo"
    local x
    for x in "$work/fifo" "$work"; do
        run nonreg "$CAPMEM" send "$work/nobody.sock" "$x"
        ((rc == 1)) || { note "$x: exit $rc"; return 1; }
        grep -q "^capmem: .*: not a regular file (use '-'" "$work/nonreg.err" ||
            { diag "$work/nonreg.err"; return 1; }
    done
}

t_capmem_send_refuses_a_file_over_the_object_limit_naming_it() {
    local f="$work/huge.sparse"
    truncate -s 8T "$f" 2>/dev/null || { note "cannot make a sparse 8 TiB file here"; return 1; }
    run toolarge "$CAPMEM" send "$work/nobody.sock" "$f"
    rm -f "$f"
    ((rc == 1)) || { note "exit $rc"; return 1; }
    grep -q "^capmem: .*huge.sparse: larger than the largest object (CM_VMO_MAX_SIZE, [0-9]* bytes)" \
        "$work/toolarge.err" || { diag "$work/toolarge.err"; return 1; }
}

# --output replaces FILE by a rename (a new inode), never leaves a
# temporary file, and gives it the mode a shell redirection would.
t_capmem_recv_output_replaces_the_file_atomically() {
    local sock="$work/out.sock" f="$work/src.bin" out="$work/dst.bin"
    head -c 2000003 /dev/urandom >"$f"
    echo old >"$out"
    local ino_before
    ino_before=$(stat -c %i "$out")
    (umask 027; timeout "$LIMIT" "$CAPMEM" recv --timeout 60 "$sock" --output "$out" \
        >"$work/outrecv.out" 2>"$work/outrecv.err") &
    recv_pid=$!
    bg_pids+=("$recv_pid")
    run outsend "$CAPMEM" send --wait=60 "$sock" "$f"
    ((rc == 0)) || { note "send exit $rc"; diag "$work/outsend.err"; return 1; }
    wait "$recv_pid" || { note "recv failed"; diag "$work/outrecv.err"; return 1; }
    cmp -s "$f" "$out" || { note "output differs from the source"; return 1; }
    [[ $(stat -c %i "$out") != "$ino_before" ]] || { note "written in place, not renamed"; return 1; }
    [[ $(stat -c %a "$out") == 640 ]] || { note "mode $(stat -c %a "$out"), want 640 (umask 027)"; return 1; }
    has_line "$work/outrecv.out" "output: $out" || { diag "$work/outrecv.out"; return 1; }
    if compgen -G "$work/.dst.bin.capmem-*" >/dev/null; then note "temporary file left"; return 1; fi
}

t_capmem_recv_output_dash_writes_bytes_to_stdout_and_report_to_stderr() {
    local sock="$work/dash.sock" f="$work/dash.bin"
    head -c 300001 /dev/urandom >"$f"
    start_recv dashrecv --timeout 60 -o - "$sock"
    run dashsend "$CAPMEM" send --wait=60 "$sock" "$f"
    ((rc == 0)) || { diag "$work/dashsend.err"; return 1; }
    wait "$recv_pid" || { diag "$work/dashrecv.err"; return 1; }
    cmp -s "$f" "$work/dashrecv.out" || { note "stdout is not the bytes"; return 1; }
    has_line "$work/dashrecv.err" "sha256: $(sha256sum <"$f" | cut -d' ' -f1)" ||
        { diag "$work/dashrecv.err"; return 1; }
}

# A FIFO (like /dev/null or a tty) is written in place: renaming over it
# would replace the special file itself.
t_capmem_recv_output_into_a_fifo_keeps_the_fifo() {
    local sock="$work/ff.sock" f="$work/ff.bin" ff="$work/out.fifo"
    head -c 100000 /dev/urandom >"$f"
    mkfifo "$ff"
    timeout "$LIMIT" cat "$ff" >"$work/ff.got" &
    local cat_pid=$!
    bg_pids+=("$cat_pid")
    start_recv ffrecv --timeout 60 --output "$ff" "$sock"
    run ffsend "$CAPMEM" send --wait=60 "$sock" "$f"
    ((rc == 0)) || { diag "$work/ffsend.err"; return 1; }
    wait "$recv_pid" || { diag "$work/ffrecv.err"; return 1; }
    wait "$cat_pid"
    [[ -p $ff ]] || { note "the FIFO was replaced"; return 1; }
    cmp -s "$f" "$work/ff.got" || { note "the reader got other bytes"; return 1; }
}

# --output into a FIFO nobody reads: recv gives up at --timeout (no reader
# ever opens it; a reader that opens it and never reads), tells the sender,
# exit 1: it is not held forever.
t_capmem_recv_output_fifo_without_a_reader_gives_up_at_timeout() {
    local sock="$work/nofifo.sock" fifo="$work/nofifo" m
    mkfifo "$fifo" || return 1
    head -c 1000000 /dev/urandom >"$work/nofifo.bin" # more than a pipe holds
    local -A want=(
        [noreader]="capmem: --output $fifo: no reader opened it within 1 s (--timeout)"
        [stalled]="capmem: writing $fifo: nothing was read from it for 1 s (--timeout)"
    )
    for m in noreader stalled; do
        local hold=""
        if [[ $m == stalled ]]; then
            sleep 60 <>"$fifo" & # open for reading (and writing: no wait), never reads
            hold=$!
            bg_pids+=("$hold")
        fi
        start_recv "nf-$m" --timeout 1 --output "$fifo" "$sock"
        wait_for_socket "$sock" || return 1
        run "nfs-$m" "$CAPMEM" send --timeout 60 "$sock" "$work/nofifo.bin"
        wait "$recv_pid"
        local r=$?
        [[ -n $hold ]] && kill "$hold" 2>/dev/null
        ((r == 1)) || { note "$m: recv exit $r"; diag "$work/nf-$m.err"; return 1; }
        ((rc == 1)) || { note "$m: send exit $rc"; return 1; }
        grep -qxF "${want[$m]}" "$work/nf-$m.err" || { note "$m"; diag "$work/nf-$m.err"; return 1; }
        grep -q "^capmem: the receiver refused the object: the receiver could not write its output" \
            "$work/nfs-$m.err" || { diag "$work/nfs-$m.err"; return 1; }
        [[ -p $fifo ]] || { note "$m: the FIFO was replaced"; return 1; }
    done
}

t_capmem_recv_output_failure_names_the_file_and_tells_the_sender() {
    local sock="$work/bad.sock"
    echo data >"$work/bad.txt"
    start_recv badrecv --timeout 60 --output "$work/no-such-dir/x.bin" "$sock"
    run badsend "$CAPMEM" send --wait=60 "$sock" "$work/bad.txt"
    ((rc == 1)) || { note "send exit $rc"; return 1; }
    grep -q "^capmem: the receiver refused the object: the receiver could not write its output" \
        "$work/badsend.err" || { diag "$work/badsend.err"; return 1; }
    wait "$recv_pid"
    local r=$?
    ((r == 1)) || { note "recv exit $r"; return 1; }
    grep -q "^capmem: --output .*no-such-dir/x.bin: cannot create a temporary file beside it: No such file or directory" \
        "$work/badrecv.err" || { diag "$work/badrecv.err"; return 1; }
}

# --exec: CMD gets the object as a read-only, sealed fd: "{}" and
# $CAPMEM_PATH name it, the environment describes it, writes fail, and
# `capmem info` on it says immutable without WRITE.
t_capmem_recv_exec_gets_a_sealed_read_only_fd() {
    local sock="$work/exec.sock" f="$work/exec.bin"
    head -c 65537 /dev/urandom >"$f"
    local want
    want=$(sha256sum <"$f" | cut -d' ' -f1)
    local cmd
    cmd="sha256sum < {} > '$work/exec.sum'; "
    cmd+="echo \"\$CAPMEM_FD \$CAPMEM_PATH \$CAPMEM_SIZE \$CAPMEM_SHA256 \$CAPMEM_SENDER_PID\" > '$work/exec.env'; "
    cmd+="'$CAPMEM' info --json {} > '$work/exec.json'; "
    cmd+="(printf x >> \"\$CAPMEM_PATH\") 2>/dev/null; echo \$? > '$work/exec.wrc'; "
    cmd+="sha256sum < {} > '$work/exec.sum2'"
    start_recv execrecv --timeout 60 "$sock" --exec "$cmd"
    "$CAPMEM" send --wait=60 "$sock" "$f" >"$work/execsend.out" 2>"$work/execsend.err" &
    local spid=$!
    wait "$spid" || { diag "$work/execsend.err"; return 1; }
    wait "$recv_pid" || { note "recv failed"; diag "$work/execrecv.err"; return 1; }
    [[ $(cut -d' ' -f1 "$work/exec.sum") == "$want" ]] || { note "CMD read other bytes"; return 1; }
    local fd path size sha pid
    read -r fd path size sha pid <"$work/exec.env"
    [[ $path == "/proc/self/fd/$fd" && $size == 65537 && $sha == "$want" && $pid == "$spid" ]] ||
        { note "environment:"; diag "$work/exec.env"; return 1; }
    [[ $(cat "$work/exec.wrc") != 0 ]] || { note "CMD could write the object"; return 1; }
    [[ $(cut -d' ' -f1 "$work/exec.sum2") == "$want" ]] || { note "the object changed"; return 1; }
    jq -e '.type == "vmo" and .immutable == true and .size == 65537 and
           (.rights | index("WRITE") | not) and (.seals | index("write"))' \
        "$work/exec.json" >/dev/null || { diag "$work/exec.json"; return 1; }
}

t_capmem_recv_exec_failure_is_exit_1_and_named() {
    local sock="$work/ex3.sock"
    echo data >"$work/ex3.txt"
    start_recv ex3recv --timeout 60 --exec 'exit 3' "$sock"
    run ex3send "$CAPMEM" send --wait=60 "$sock" "$work/ex3.txt"
    # The sender got its digest: CMD runs after the reply.
    ((rc == 0)) || { note "send exit $rc"; diag "$work/ex3send.err"; return 1; }
    wait "$recv_pid"
    local r=$?
    ((r == 1)) || { note "recv exit $r"; return 1; }
    grep -q "^capmem: --exec command exited with status 3: exit 3" "$work/ex3recv.err" ||
        { diag "$work/ex3recv.err"; return 1; }
}

# info never connects: a waiting receiver is not disturbed by it.
t_capmem_info_socket_says_whether_a_receiver_listens() {
    local sock="$work/info.sock"
    start_recv inforecv --timeout 60 "$sock"
    wait_for_socket "$sock" || return 1
    local i
    for ((i = 0; i < 500; i++)); do # listening follows the bind
        run infosock "$CAPMEM" info "$sock"
        has_line "$work/infosock.out" "listening: yes" && break
        sleep 0.01
    done
    has_line "$work/infosock.out" "type: socket" || { diag "$work/infosock.out"; return 1; }
    has_line "$work/infosock.out" "listening: yes" || { diag "$work/infosock.out"; return 1; }
    (cd "$work/.." && "$CAPMEM" info --json "$(basename "$work")/info.sock") >"$work/infosock.json" ||
        return 1
    jq -e '.type == "socket" and .listening == true and .vmo == false' "$work/infosock.json" \
        >/dev/null || { diag "$work/infosock.json"; return 1; }
    echo data >"$work/i.txt"
    run infosend "$CAPMEM" send "$sock" "$work/i.txt"
    ((rc == 0)) || { note "the receiver was disturbed: send exit $rc"; diag "$work/infosend.err"; return 1; }
    wait "$recv_pid" || return 1
    # A receiver killed by SIGKILL leaves its file: nobody listens there.
    "$CAPMEM" recv "$work/stale.sock" >/dev/null 2>&1 &
    local kpid=$!
    wait_for_socket "$work/stale.sock" || return 1
    kill -KILL "$kpid"
    wait "$kpid" 2>/dev/null
    run infostale "$CAPMEM" info "$work/stale.sock"
    ((rc == 0)) || return 1
    has_line "$work/infostale.out" "listening: no (nobody accepts connections there)" ||
        { diag "$work/infostale.out"; return 1; }
    run recvstale "$CAPMEM" recv --timeout 1 "$work/stale.sock"
    grep -q "'capmem info .*stale.sock' tells" "$work/recvstale.err" || { diag "$work/recvstale.err"; return 1; }
}

t_capmem_info_json_parses_for_files_procfs_fds_and_odd_names() {
    local f="$work/plain.bin"
    head -c 5000 /dev/urandom >"$f"
    run infofile "$CAPMEM" info --json "$f"
    ((rc == 0)) || return 1
    jq -e '.type == "file" and .vmo == true and .size == 5000 and .immutable == false and
           .seals == null and (.rights | index("WRITE") | not)' "$work/infofile.out" >/dev/null ||
        { diag "$work/infofile.out"; return 1; }
    run infoproc "$CAPMEM" info --json /proc/version
    jq -e '.size == 0 and (.note | test("reads to the end"))' "$work/infoproc.out" >/dev/null ||
        { diag "$work/infoproc.out"; return 1; }
    run infofd "$CAPMEM" info --json --fd 0 </dev/null
    jq -e '.target == "fd 0" and .type == "character device" and .vmo == false' \
        "$work/infofd.out" >/dev/null || { diag "$work/infofd.out"; return 1; }
    # A quote, a backslash, a newline, UTF-8 and a byte that is not UTF-8.
    local odd
    odd="$work/q\"b\\n"$'\n'"é"$'\xff'
    echo x >"$odd"
    run infoodd "$CAPMEM" info --json "$odd"
    ((rc == 0)) || { diag "$work/infoodd.err"; return 1; }
    jq -e . "$work/infoodd.out" >/dev/null || { note "not JSON:"; diag "$work/infoodd.out"; return 1; }
    [[ $(jq -r .target "$work/infoodd.out") == "$work/q\"b\\n"$'\n'"éÿ" ]] ||
        { note "name did not round-trip"; diag "$work/infoodd.out"; return 1; }
}

t_capmem_info_errors_name_the_path_or_fd() {
    run infomissing "$CAPMEM" info "$work/absent"
    ((rc == 1)) || return 1
    grep -qx "capmem: info $work/absent: No such file or directory" "$work/infomissing.err" ||
        { diag "$work/infomissing.err"; return 1; }
    run infobadfd "$CAPMEM" info --fd 99
    ((rc == 1)) || return 1
    grep -qx "capmem: info --fd 99: Bad file descriptor" "$work/infobadfd.err" ||
        { diag "$work/infobadfd.err"; return 1; }
}

# A progress bar on a terminal for a transfer of 256 MiB or more; never
# when stderr is a file or a pipe, nor with --no-progress.
t_capmem_progress_bar_only_when_stderr_is_a_terminal() {
    command -v script >/dev/null || { note "script(1) is missing (util-linux)"; return 1; }
    local f="$work/big.bin" sock="$work/big.sock"
    head -c $((300 << 20)) /dev/zero >"$f"
    start_recv bigrecv1 --timeout 60 "$sock"
    run bigpipe "$CAPMEM" send --wait=60 "$sock" "$f"
    ((rc == 0)) || { diag "$work/bigpipe.err"; return 1; }
    wait "$recv_pid" || return 1
    if grep -q $'\r\|%' "$work/bigpipe.err" "$work/bigrecv1.err"; then
        note "progress drawn on a file"; diag "$work/bigpipe.err"; return 1
    fi
    start_recv bigrecv2 --timeout 60 "$sock"
    timeout "$LIMIT" script -qec "'$CAPMEM' send --wait=60 '$sock' '$f'" /dev/null >"$work/bigtty.out"
    ((rc = $?)) && { note "send on a tty: exit $rc"; return 1; }
    wait "$recv_pid" || return 1
    grep -q $'\rreading \[#*\.*\] *[0-9]*% [0-9]*/300 MiB' "$work/bigtty.out" ||
        { note "no progress bar on a terminal"; head -c 600 "$work/bigtty.out" | cat -A | diag; return 1; }
    grep -q "100% 300/300 MiB" "$work/bigtty.out" || { note "bar never reached 100%"; return 1; }
    start_recv bigrecv3 --timeout 60 "$sock"
    timeout "$LIMIT" script -qec "'$CAPMEM' send --no-progress --wait=60 '$sock' '$f'" /dev/null \
        >"$work/bignp.out" || return 1
    wait "$recv_pid" || return 1
    if grep -q "reading \[" "$work/bignp.out"; then note "--no-progress drew a bar"; return 1; fi
    rm -f "$f"
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
    t_capmem_recv_removes_its_output_temp_file_when_terminated
    t_capmem_recv_refuses_hostile_senders_without_output_or_exec
    t_capmem_send_reports_a_wrong_garbage_or_missing_reply
    t_capmem_recv_max_size_refuses_a_larger_object_before_hashing
    t_capmem_version_prints_the_one_defined_version
    t_capmem_new_usage_errors_exit_2_on_stderr_only
    t_capmem_options_after_operands_and_double_dash
    t_capmem_send_wait_never_loses_the_race_with_a_recv_started_just_before
    t_capmem_send_wait_waits_for_a_receiver_that_starts_later
    t_capmem_send_wait_gives_up_at_its_limit_naming_the_path
    t_capmem_send_without_receiver_suggests_wait
    t_capmem_send_stdin_dash_round_trips
    t_capmem_send_stdin_past_a_mapping_window_round_trips
    t_capmem_send_procfs_file_is_read_to_its_end
    t_capmem_send_refuses_fifo_and_directory_without_blocking
    t_capmem_send_refuses_a_file_over_the_object_limit_naming_it
    t_capmem_recv_output_replaces_the_file_atomically
    t_capmem_recv_output_dash_writes_bytes_to_stdout_and_report_to_stderr
    t_capmem_recv_output_into_a_fifo_keeps_the_fifo
    t_capmem_recv_output_failure_names_the_file_and_tells_the_sender
    t_capmem_recv_output_fifo_without_a_reader_gives_up_at_timeout
    t_capmem_recv_exec_gets_a_sealed_read_only_fd
    t_capmem_recv_exec_failure_is_exit_1_and_named
    t_capmem_info_socket_says_whether_a_receiver_listens
    t_capmem_info_json_parses_for_files_procfs_fds_and_odd_names
    t_capmem_info_errors_name_the_path_or_fd
    t_capmem_progress_bar_only_when_stderr_is_a_terminal
)

# An argument keeps only the tests whose name matches it (a grep -E pattern).
if (($# > 0)); then
    mapfile -t tests < <(printf '%s\n' "${tests[@]}" | grep -E -- "$1")
fi
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
    elif (($? == 77)); then
        echo "ok $n - $name # SKIP"
    else
        echo "not ok $n - $name"
        failed=$((failed + 1))
    fi
done
((failed == 0))
