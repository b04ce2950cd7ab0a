#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Proves that scripts/qemu-test.sh's TAP check refuses every incomplete
# report, on synthetic logs: a kernel run that exits 0 is still a failure
# if its report is short, duplicated, unplanned or has a "not ok".
# Prints TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0
failed=0
# check NAME WANT(pass|fail) LOG-LINES...
check() {
    local name=$1 want=$2
    shift 2
    printf '%s\n' "$@" >"$work/log"
    n=$((n + 1))
    local got=fail
    bash "$here/qemu-test.sh" --check-tap "$work/log" >"$work/why" 2>&1 && got=pass
    if [[ $got == "$want" ]]; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name # got $got: $(cat "$work/why")"
        failed=$((failed + 1))
    fi
}

echo "1..10"
check test_complete_report_passes pass "boot" "1..2" "ok 1 - a" "# note" "ok 2 - b"
check test_missing_plan_fails fail "ok 1 - a" "ok 2 - b"
check test_two_plans_fail fail "1..1" "ok 1 - a" "1..1" "ok 1 - a"
check test_empty_plan_fails fail "1..0"
check test_unreported_test_fails fail "1..3" "ok 1 - a" "ok 3 - c"
check test_short_report_fails fail "1..3" "ok 1 - a" "ok 2 - b"
check test_number_reported_twice_fails fail "1..2" "ok 1 - a" "ok 1 - a" "ok 2 - b"
check test_result_beyond_plan_fails fail "1..1" "ok 1 - a" "ok 2 - b"
check test_not_ok_fails_whatever_its_text fail "1..2" "ok 1 - a" "not ok 2 - b # TODO"
check test_only_tap_lines_count fail "1..2" "ok 1 - a" "SELFTEST: ok 2" "# ok 2 - b"
exit $((failed > 0))
