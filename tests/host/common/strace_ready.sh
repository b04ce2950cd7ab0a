# SPDX-License-Identifier: MIT
# Sourced by the strace-counting suites (syscall_budget.sh,
# dma_syscall_budget.sh) after they set PROG: ends the suite with a TAP skip
# when strace is missing or cannot trace here, and bails out when PROG was
# not built.
if ! command -v strace >/dev/null 2>&1; then
    echo "1..0 # SKIP strace not installed (scripts/install-deps.sh installs it)"
    exit 0
fi
if [[ ! -x "$PROG" ]]; then
    echo "Bail out! $PROG not built"
    exit 1
fi
if ! strace -f -qq -o /dev/null true >/dev/null 2>&1; then
    echo "1..0 # SKIP strace cannot trace in this environment"
    exit 0
fi
