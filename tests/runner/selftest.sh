#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Self-test of scripts/run-tests.sh: runs it on crafted suites (tests/runner/
# fake/*.sh and the cmocka program build/host/runner/cmocka_fake) and checks
# that every way a suite can hide a failure is reported as a failure, and
# that clean suites pass with the counts they printed. Prints TAP.
#
# Usage: tests/runner/selftest.sh [RUNNER]   (default scripts/run-tests.sh;
# pass a broken copy to see these tests catch it).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
runner=${1:-$root/scripts/run-tests.sh}
fake=$root/tests/runner/fake
cmocka=$root/build/host/runner/cmocka_fake
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# The self-test decides the mode of each run; CI's own mode must not leak in.
unset CAPMEM_TEST_REQUIRE CAPMEM_TEST_TIMEOUT CAPMEM_FAKE_MODE

n=0
result() { # ok? name
    n=$((n+1))
    if [[ $1 == 0 ]]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        sed 's/^/#   /' "$out" | tail -n 25
    fi
}

# expect_fail NAME [ENV=VAL...] -- ARGS...: the runner must exit non-zero
# and print a non-zero failure count.
expect_fail() {
    local name=$1; shift
    local envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done; shift
    env "${envs[@]}" bash "$runner" "$@" >"$out" 2>&1
    local rc=$?
    local last; last=$(tail -n 1 "$out")
    [[ $rc != 0 && "$last" =~ ^[0-9]+\ passed,\ [1-9][0-9]*\ failed, ]]
    result $? "$name"
}

# expect_pass NAME SUMMARY [ENV=VAL...] -- ARGS...: the runner must exit 0
# and end with exactly SUMMARY.
expect_pass() {
    local name=$1 want=$2; shift 2
    local envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done; shift
    env "${envs[@]}" bash "$runner" "$@" >"$out" 2>&1
    local rc=$?
    [[ $rc == 0 && "$(tail -n 1 "$out")" == "$want" ]]
    result $? "$name"
}

echo "1..30"
expect_pass test_clean_suite_passes_and_ignores_nested_lines "2 passed, 0 failed, 1 skipped" \
    -- "$fake/clean.sh"
grep -qxF "    $fake/clean.sh: 2 passed, 0 failed, 1 skipped" "$out"
result $? test_every_suite_count_is_shown
expect_pass test_plan_after_results_passes "2 passed, 0 failed, 0 skipped" -- "$fake/plan_at_end.sh"
expect_pass test_whole_suite_skip_is_a_skip "0 passed, 0 failed, 1 skipped" -- "$fake/skip_all.sh"
expect_fail test_suite_without_output_fails -- "$fake/no_output.sh"
expect_fail test_suite_without_plan_fails -- "$fake/no_plan.sh"
expect_fail test_fewer_results_than_plan_fails -- "$fake/fewer.sh"
expect_fail test_more_results_than_plan_fails -- "$fake/more.sh"
expect_fail test_repeated_number_fails_even_when_count_matches -- "$fake/duplicate.sh"
expect_fail test_repeated_number_fails_even_when_none_is_missing -- "$fake/repeated.sh"
expect_fail test_number_outside_plan_fails -- "$fake/out_of_range.sh"
expect_fail test_not_ok_with_skip_directive_fails -- "$fake/not_ok_skip.sh"
expect_fail test_cmocka_skip_form_from_a_script_fails -- "$fake/not_ok_skip_bare.sh"
expect_fail test_not_ok_with_todo_directive_fails -- "$fake/not_ok_todo.sh"
expect_fail test_nonzero_exit_fails_despite_passing_results -- "$fake/exit_nonzero.sh"
expect_fail test_death_by_signal_fails -- "$fake/crash.sh"
expect_fail test_indented_and_prefixed_results_do_not_count -- "$fake/nested_only.sh"
expect_fail test_two_plans_fail -- "$fake/two_plans.sh"
expect_fail test_empty_plan_without_skip_fails -- "$fake/empty_plan.sh"
expect_fail test_result_line_without_number_fails -- "$fake/malformed.sh"
expect_fail test_bail_out_fails -- "$fake/bail_out.sh"
expect_fail test_hung_suite_fails_at_timeout CAPMEM_TEST_TIMEOUT=1 -- "$fake/hang.sh"
expect_fail test_one_failing_suite_fails_the_run -- "$fake/clean.sh" "$fake/fewer.sh" "$fake/plan_at_end.sh"
expect_fail test_skip_in_required_suite_fails_in_required_mode CAPMEM_TEST_REQUIRE=1 \
    -- --require "$fake/clean.sh" "$fake/clean.sh"
expect_pass test_skip_in_unlisted_suite_passes_in_required_mode "4 passed, 0 failed, 1 skipped" \
    CAPMEM_TEST_REQUIRE=1 -- --require "$fake/plan_at_end.sh" "$fake/clean.sh" "$fake/plan_at_end.sh"
expect_fail test_any_skip_fails_in_require_all_mode CAPMEM_TEST_REQUIRE=all -- "$fake/skip_all.sh"
expect_fail test_required_suite_not_run_fails CAPMEM_TEST_REQUIRE=1 \
    -- --require "$fake/nonexistent.sh" "$fake/plan_at_end.sh"

# A real cmocka program: its skip() form is a skip, its failure a failure.
if [[ -x "$cmocka" ]]; then
    expect_pass test_cmocka_skip_counts_as_skip "1 passed, 0 failed, 1 skipped" \
        CAPMEM_FAKE_MODE=skip -- "$cmocka"
    expect_fail test_cmocka_skip_fails_when_required CAPMEM_FAKE_MODE=skip CAPMEM_TEST_REQUIRE=1 \
        -- --require "$cmocka" "$cmocka"
    expect_fail test_cmocka_failure_fails CAPMEM_FAKE_MODE=fail -- "$cmocka"
else
    echo "# $cmocka not built (make $cmocka)"
    for t in test_cmocka_skip_counts_as_skip test_cmocka_skip_fails_when_required \
             test_cmocka_failure_fails; do
        result 1 "$t"
    done
fi
