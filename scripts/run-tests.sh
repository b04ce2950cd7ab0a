#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test suite given as an argument (an executable or script that
# prints TAP) and prints one summary line "N passed, N failed, N skipped".
#
# Usage: run-tests.sh [--require SUITE]... SUITE...
#
# Only the suite's own TAP lines count, and the rules leave no room for a
# failure to pass unnoticed (docs/testing.md, "How results are counted"):
#   - a result is a line that starts, unindented, with "ok N" or "not ok N";
#     numbers are 1..plan, each exactly once; a line that starts with "ok" or
#     "not ok" but is not such a result is a malformed result: a failure;
#   - exactly one plan "1..N"; no plan is a failure; "1..0" only with
#     "# SKIP reason" (the whole suite skipped, counted as one skip);
#   - results must equal the plan: each missing number is a failure, and an
#     extra, out-of-range or repeated number is a failure;
#   - "not ok" is a failure whatever follows it ("# SKIP", "# TODO"
#     included); "ok ... # SKIP reason" is a skip, never a pass. The one
#     exception is the fixed form cmocka 1.1.5 prints for a skip()ped test,
#     "not ok N # SKIP test_name", accepted as a skip only from a program
#     linked against libcmocka (checked in its ELF header);
#   - "Bail out!" is a failure; exiting non-zero (a crash, a sanitizer
#     report) is a failure; running past CAPMEM_TEST_TIMEOUT seconds
#     (default 900) is a failure.
#
# Required suites: with CAPMEM_TEST_REQUIRE=1 a skip in any suite named by
# --require is a failure, and a required suite missing from the list of
# suites run is a failure; with CAPMEM_TEST_REQUIRE=all every skip is a
# failure. CI sets CAPMEM_TEST_REQUIRE=1 (.ci/run); `make test` passes the
# fragments' REQUIRED_SUITES.
set -u

require_mode=${CAPMEM_TEST_REQUIRE:-0}
limit=${CAPMEM_TEST_TIMEOUT:-900}
case "$require_mode" in
    0|1|all) ;;
    *) echo "run-tests: CAPMEM_TEST_REQUIRE must be 0, 1 or all (got '$require_mode')" >&2
       exit 2;;
esac

declare -A required=()
suites=()
while (( $# > 0 )); do
    case "$1" in
        --require) [[ $# -ge 2 ]] || { echo "run-tests: --require needs a suite" >&2; exit 2; }
                   required[$2]=1; shift 2;;
        --) shift; suites+=("$@"); break;;
        *) suites+=("$1"); shift;;
    esac
done

passed=0
failed=0
skipped=0
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

# Globals of the suite being counted.
p=0; f=0; s=0

fail_suite() { # reason: a failure of the suite itself, not of one test
    echo "  FAIL $*"
    f=$((f+1))
}

is_cmocka_program() {
    LC_ALL=C readelf -d "$1" 2>/dev/null | grep -q 'NEEDED.*\[libcmocka\.so'
}

# count_suite SUITE LOG RC: applies the rules above to the suite's output.
count_suite() {
    local suite=$1 log=$2 rc=$3
    local cmocka=0 plan=-1 plan_skip="" nplans=0 line n rest
    local -A got=()
    p=0; f=0; s=0
    is_cmocka_program "$suite" && cmocka=1
    while IFS= read -r line || [[ -n "$line" ]]; do
        line=${line%$'\r'}
        if [[ "$line" =~ ^1\.\.([0-9]+)[[:space:]]*(#.*)?$ ]]; then
            nplans=$((nplans+1))
            plan=$((10#${BASH_REMATCH[1]}))
            plan_skip=${BASH_REMATCH[2]}
            continue
        fi
        if [[ "$line" =~ ^(not\ ok|ok)\ ([0-9]+)($|[[:space:]].*$) ]]; then
            local verdict=${BASH_REMATCH[1]}
            n=$((10#${BASH_REMATCH[2]}))
            rest=${BASH_REMATCH[3]}
            got[$n]=$(( ${got[$n]:-0} + 1 ))
            if [[ "$verdict" == "ok" ]]; then
                if [[ "$rest" =~ \#[[:space:]]*[Ss][Kk][Ii][Pp] ]]; then
                    s=$((s+1)); echo "  SKIP $n${rest}"
                else
                    p=$((p+1)); echo "  PASS $n${rest}"
                fi
            elif (( cmocka )) && [[ "$rest" =~ ^\ \#\ SKIP\ [A-Za-z_][A-Za-z0-9_]*$ ]]; then
                s=$((s+1)); echo "  SKIP $n${rest} (cmocka skip())"
            else
                f=$((f+1)); echo "  FAIL $n${rest}"
            fi
            continue
        fi
        case "$line" in
            "ok"|"ok "*|"not ok"|"not ok "*) fail_suite "malformed result line (no test number): $line";;
            "Bail out!"*) fail_suite "$line";;
            "#"*) echo "  $line";;
        esac
    done <"$log"

    if (( nplans == 0 )); then
        fail_suite "no plan (1..N): the suite printed no TAP plan"
    elif (( nplans > 1 )); then
        fail_suite "$nplans plans: a suite prints exactly one"
    elif (( plan == 0 )); then
        if [[ "$plan_skip" =~ ^#[[:space:]]*[Ss][Kk][Ii][Pp] ]] && (( ${#got[@]} == 0 )); then
            s=$((s+1)); echo "  SKIP whole suite ${plan_skip}"
        else
            fail_suite "empty plan 1..0 without '# SKIP reason', or with results"
        fi
    fi
    if (( nplans == 1 && plan > 0 )); then
        local missing=0 k
        for (( k = 1; k <= plan; k++ )); do
            [[ -n "${got[$k]:-}" ]] || missing=$((missing+1))
        done
        if (( missing > 0 )); then
            echo "  FAIL only $((plan - missing)) of $plan planned results reported (crash?): $missing missing"
            f=$((f + missing))
        fi
    fi
    for n in "${!got[@]}"; do
        if (( nplans == 1 && (n < 1 || n > plan) )); then
            fail_suite "result $n outside the plan 1..$plan"
        fi
        if (( ${got[$n]} > 1 )); then
            fail_suite "result $n reported ${got[$n]} times"
        fi
    done
    if (( rc == 124 || rc == 137 )); then
        fail_suite "exited with status $rc: timed out after ${limit}s (or killed)"
    elif (( rc != 0 )); then
        fail_suite "exited with status $rc"
    fi
}

declare -A seen=()
for suite in "${suites[@]}"; do
    # Fragments may list a suite twice; run each once.
    [[ -n "${seen[$suite]:-}" ]] && continue
    seen[$suite]=1
    log="$logdir/${#seen[@]}.log"
    echo "=== suite $suite"
    CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "$limit" "$suite" </dev/null >"$log" 2>&1
    rc=$?
    count_suite "$suite" "$log" "$rc"
    if (( s > 0 )) && [[ "$require_mode" == all || ( "$require_mode" == 1 && -n "${required[$suite]:-}" ) ]]; then
        echo "  FAIL $suite is required (CAPMEM_TEST_REQUIRE=$require_mode): its $s skip(s) count as failures"
        f=$((f+s)); s=0
    fi
    if (( f > 0 )); then
        echo "--- output of $suite:"
        sed 's/^/    /' "$log" | tail -n 60
    fi
    echo "    $suite: $p passed, $f failed, $s skipped"
    passed=$((passed+p)); failed=$((failed+f)); skipped=$((skipped+s))
done

if [[ "$require_mode" != 0 ]]; then
    for suite in "${!required[@]}"; do
        if [[ -z "${seen[$suite]:-}" ]]; then
            echo "  FAIL required suite $suite was not run"
            failed=$((failed+1))
        fi
    done
fi

echo "$passed passed, $failed failed, $skipped skipped"
(( failed == 0 ))
