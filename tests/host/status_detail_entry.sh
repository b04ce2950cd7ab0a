#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every exported function of libcapmem.so that returns a cm_status_t clears
# the status detail first (core/status_detail.h, CM__ENTRY): otherwise a
# call that fails without recording a detail would show the detail of an
# earlier call. Reads the exported names from the built library (nm -D),
# finds each definition in host/*.c and checks that its body starts with
# CM__ENTRY();. A new public function without it fails here. Prints TAP.
#
# Not checked, and why: cm_status_str/name/detail (they read, and
# cm_status_detail must not clear what it returns); cm_handle_close (the
# cleanup between a failure and its report: documented in capmem/status.h,
# and tests/host/status_detail.c checks it keeps the detail); functions that do not
# return a cm_status_t (cm_host_live_handles...: they cannot fail).
# EXEMPT: files another change was editing when this check was added;
# remove a name once its file has CM__ENTRY (the integrator's step).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
lib="$root/build/host/libcapmem.so"
EXEMPT_FILES=""
if [[ ! -f "$lib" ]]; then
    echo "1..0 # SKIP $lib not built"
    exit 0
fi
mapfile -t names < <(nm -D --defined-only "$lib" | awk '$2 == "T" && $3 ~ /^cm_/ {sub(/@.*/, "", $3); print $3}' | sort)
checked=()
for n in "${names[@]}"; do
    case "$n" in cm_status_str|cm_status_name|cm_status_detail|cm_handle_close) continue;; esac
    checked+=("$n")
done
echo "1..$(( ${#checked[@]} + 1 ))"
i=1
# Guard against a check that finds nothing: the library must export many.
if (( ${#checked[@]} >= 40 )); then
    echo "ok $i - library exports ${#checked[@]} checked functions"
else
    echo "not ok $i - only ${#checked[@]} exported functions found in $lib"
fi
for n in "${checked[@]}"; do
    i=$((i+1))
    def=$(cd "$root" && grep -n -E "^[a-z_0-9 ]*\*?\b$n\(" host/*.c core/*.c | grep -v ';$' | head -1)
    if [[ -z "$def" ]]; then
        echo "not ok $i - $n: no definition found in host/*.c or core/*.c"
        continue
    fi
    file=${def%%:*}
    rest=${def#*:}
    line=${rest%%:*}
    text=${rest#*:}
    if [[ "$text" != cm_status_t* ]]; then
        echo "ok $i - $n: returns no cm_status_t ($file)"
        continue
    fi
    if [[ " $EXEMPT_FILES " == *" $file "* ]]; then
        echo "ok $i - $n: $file exempt (see EXEMPT_FILES) # SKIP exempt file"
        continue
    fi
    # The first line after the line that opens the body.
    first=$(cd "$root" && awk -v from="$line" 'NR >= from && !open && /^\{/ {open = 1; next}
                                               open {print; exit}' "$file")
    if [[ "$first" =~ ^[[:space:]]*CM__ENTRY\(\)\;[[:space:]]*$ ]]; then
        echo "ok $i - $n clears the detail on entry ($file:$line)"
    else
        echo "not ok $i - $n ($file:$line) does not start with CM__ENTRY(); (first line: $first)"
    fi
done
