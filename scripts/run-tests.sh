#!/usr/bin/env bash
# Runs every test suite given as an argument (an executable or script that
# prints TAP: "ok N - name", "not ok N - name", "... # SKIP reason", "1..N")
# and prints one summary line "N passed, N failed, N skipped".
#
# A suite that exits non-zero without reporting a failure, or that reports
# fewer results than its plan, counts the difference as failures: a crash is
# never a pass. Skips are reported with their reason and never count as passes.
set -u

passed=0
failed=0
skipped=0
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

declare -A seen=()
for suite in "$@"; do
    # Fragments may list a suite twice; run each once.
    [[ -n "${seen[$suite]:-}" ]] && continue
    seen[$suite]=1
    name=$(basename "$suite")
    log="$logdir/$name.log"
    echo "=== suite $suite"
    CMOCKA_MESSAGE_OUTPUT=TAP "$suite" >"$log" 2>&1
    rc=$?
    p=0; f=0; s=0; plan=-1
    while IFS= read -r line; do
        case "$line" in
            "1.."*) plan=${line#1..}; plan=${plan%% *};;
            *"# SKIP"*|*"# skip"*) s=$((s+1)); echo "  SKIP ${line#*# SKIP}";;
            "ok "*) p=$((p+1)); echo "  PASS ${line#ok }";;
            "not ok "*) f=$((f+1)); echo "  FAIL ${line#not ok }";;
            "#"*) echo "  $line";;
        esac
    done <"$log"
    reported=$((p+f+s))
    if [[ "$plan" =~ ^[0-9]+$ ]] && (( plan > reported )); then
        echo "  FAIL $name: only $reported of $plan tests reported (crash?)"
        f=$((f + plan - reported))
    fi
    if (( rc != 0 && f == 0 )); then
        echo "  FAIL $name: exited with status $rc without reporting a failure"
        f=$((f+1))
    fi
    if (( f > 0 )); then
        echo "--- output of $name:"
        sed 's/^/    /' "$log" | tail -n 60
    fi
    echo "    $name: $p passed, $f failed, $s skipped"
    passed=$((passed+p)); failed=$((failed+f)); skipped=$((skipped+s))
done

echo "$passed passed, $failed failed, $skipped skipped"
(( failed == 0 ))
