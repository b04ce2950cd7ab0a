#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Drives the kernel's interactive shell (user/shell.c) headless, as `make
# qemu` boots it (QEMU -append shell), and checks what it prints. Three
# boots: one session of commands and hostile lines ending in `poweroff`,
# one ended by Ctrl-D, and one with a command line init must refuse.
# Input is written only once the first prompt is out, through a FIFO on
# QEMU's stdin (the firmware's UART set-up may drop a byte typed earlier).
#
# Usage: scripts/qemu-shell-test.sh [KERNEL_ELF]  (default build/kernel/capmem.elf)
# Env:   QEMU_TEST_TIMEOUT seconds per boot (default 60)
set -u

kernel=${1:-build/kernel/capmem.elf}
limit=${QEMU_TEST_TIMEOUT:-60}
qemu=qemu-system-riscv64

echo "1..15"
if [[ ! -f "$kernel" ]]; then
    echo "Bail out! qemu-shell-test: kernel image $kernel not found (make build/kernel/capmem.elf)"
    exit 1
fi
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "Bail out! qemu-shell-test: $qemu not installed (scripts/install-deps.sh)"
    exit 1
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# boot NAME APPEND INPUT: boots with `-append APPEND`, writes INPUT (printf
# format) after the first prompt; leaves $dir/NAME.log (no CRs) and
# $dir/NAME.rc (QEMU's status; 124 = timed out).
boot() {
    local name=$1 append=$2 input=$3 fifo="$dir/$1.in" raw="$dir/$1.raw" qpid
    mkfifo "$fifo"
    timeout --foreground -k 5 "$limit" "$qemu" -machine virt -m 128M -smp 1 -nographic \
        -bios default -kernel "$kernel" -append "$append" <"$fifo" >"$raw" 2>&1 &
    qpid=$!
    exec 3>"$fifo"
    if [[ -n "$input" ]]; then
        for ((i = 0; i < limit * 10; i++)); do
            grep -q 'capmem> ' "$raw" 2>/dev/null && break
            kill -0 "$qpid" 2>/dev/null || break
            sleep 0.1
        done
        # shellcheck disable=SC2059
        printf "$input" >&3
    fi
    wait "$qpid"
    echo $? >"$dir/$name.rc"
    exec 3>&-
    tr -d '\r' <"$raw" >"$dir/$name.log"
}

n=0
failed=0
check() { # check DESCRIPTION COMMAND...: one TAP line
    local what=$1
    shift
    n=$((n + 1))
    if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; failed=1; fi
}
has() { grep -qF -- "$2" "$dir/$1.log"; }
rc_is() { [[ "$(cat "$dir/$1.rc")" == "$2" ]]; }

long=$(printf 'a%.0s' $(seq 1 300))
words="w w w w w w w w w w w w w w w w w"   # 17 words
session="help\nls\ncounters\nrun vmo_share --size 4194304\ncounters\nbogus\nrun nosuch\n"
session+="${long}\nab\002cd\n${words}\n\033[A\nrun shell\nrun\nhe\177\177help\r\npoweroff\n"
boot session shell "$session"
# 15 lines typed (the CR-LF pair counts once), each answered by one prompt,
# then poweroff ends the shell: a line split or merged changes the count.
prompts=$(grep -o 'capmem> ' "$dir/session.log" | wc -l)

check "shell session powers off with PASS (QEMU status 0)" \
    eval 'rc_is session 0 && has session "powering off: PASS"'
check "one prompt per line typed (15) and no more" [ "$prompts" -eq 15 ]
check "ls lists the built-in programs" \
    eval 'has session "vmo_share" && has session "selftest" && has session "shell  (this shell)"'
check "run vmo_share proves the share and reports exit code 0" \
    eval 'has session "SELFTEST: vmo share ok" && has session "vmo_share: exited with code 0"'
# The run leaves the kernel as it found it: both counters lines equal.
counters=$(grep '^counters: frames ' "$dir/session.log" | sort -u | wc -l)
check "counters print, and are equal before and after the run" \
    eval '[ "$(grep -c "^counters: frames [0-9]* objects [0-9]* procs [0-9]* msgs [0-9]*$" "$dir/session.log")" -eq 2 ] && [ "$counters" -eq 1 ]'
check "an unknown command is a typed error" \
    has session "error: unknown command 'bogus'; \`help\` lists them (CM_ERR_NOT_FOUND)"
check "run of an unknown program is a typed error" \
    has session "error: run: cannot start 'nosuch'; \`ls\` lists the programs (CM_ERR_NOT_FOUND)"
check "a 300-byte line is refused whole (OUT_OF_RANGE)" \
    has session "error: line longer than 127 bytes, ignored (CM_ERR_OUT_OF_RANGE)"
check "a non-printable byte refuses the line, naming byte and column" \
    has session "error: byte 0x02 at column 3 is not printable ASCII, line ignored (CM_ERR_INVALID_ARGS)"
check "an escape sequence (arrow key) is refused" \
    has session "error: byte 0x1b at column 1 is not printable ASCII"
check "17 words are refused (OUT_OF_RANGE)" \
    has session "error: more than 16 words on a line (CM_ERR_OUT_OF_RANGE)"
check "run shell and bare run are typed errors" \
    eval 'has session "error: run: the shell is already running on this console (CM_ERR_BAD_STATE)" && has session "error: usage: run NAME [ARGS] (CM_ERR_INVALID_ARGS)"'
check "backspace edits the line (he, 2 x DEL, help runs help)" \
    eval '[ "$(grep -c "^  poweroff " "$dir/session.log")" -eq 2 ]'

boot eof shell "counters\n\004"
check "Ctrl-D on an empty line ends the shell with PASS" \
    eval 'rc_is eof 0 && has eof "capmem shell: bye" && has eof "powering off: PASS"'

boot bad "shell extra" ""
check "init refuses an unknown command line (QEMU status 2)" \
    eval 'rc_is bad 2 && has bad "# init: unknown command line"'

# A failure shows what the shell printed, as TAP comments.
if ((failed)) || [[ "${VERBOSE:-0}" == 1 ]]; then
    for f in session eof bad; do sed "s/^/# $f: /" "$dir/$f.log"; done
fi
exit 0
