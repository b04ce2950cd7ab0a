#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Puts an "SPDX-License-Identifier: MIT" line at the top of every source,
# header, script and build file in the tree (after a "#!" line), in that
# file type's comment syntax. Idempotent: a file that already names a license
# in its first three lines is left alone, so it can be rerun after a merge.
#
# Usage: scripts/spdx.sh [--check]   (--check: list the files without one, exit 1 if any)
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
[[ "${1:-}" == --check ]] && check=1

comment_for() { # the line for a path, or nothing for files that take none
    case "$1" in
        *.c|*.h|*.cpp|*.S|*.ld|*.pml|*.map) echo '/* SPDX-License-Identifier: MIT */' ;;
        *.sh|*.mk|*.gp|*.in|*/Makefile|Makefile|.ci/run) echo '# SPDX-License-Identifier: MIT' ;;
        *) ;;
    esac
}

missing=0
while IFS= read -r f; do
    [[ -f "$f" ]] || continue
    line=$(comment_for "$f")
    [[ -n "$line" ]] || continue
    # awk, not `head | grep -q`: under pipefail grep's early exit can kill
    # head with SIGPIPE on long lines and turn a match into a miss.
    awk 'NR > 3 { exit } /SPDX-License-Identifier:/ { found = 1; exit } END { exit !found }' "$f" && continue
    if (( check )); then
        echo "no SPDX line: $f"; missing=1; continue
    fi
    tmp=$(mktemp)
    if awk 'NR == 1 { exit !/^#!/ }' "$f"; then
        { head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } >"$tmp"
    else
        { echo "$line"; cat "$f"; } >"$tmp"
    fi
    chmod --reference="$f" "$tmp"
    mv "$tmp" "$f"
done < <(git ls-files --cached --others --exclude-standard)
exit $missing
