#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the DMA ownership proof (apps/dma_read_share) against a real device
# file and prints TAP. The file must live on a filesystem whose O_DIRECT I/O
# reaches a block device: directories are tried in order ($CAPMEM_DMA_DIR,
# /var/tmp, /tmp, build/) and the one used is reported; tmpfs is refused by
# the app itself (test 4), never faked.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
app="$here/build/host/apps/dma_read_share"
size=$((4 << 20))
offset=$((1 << 20))
length=$((512 << 10))

echo "1..4"
if [[ ! -x "$app" ]]; then
    for i in 1 2 3 4; do echo "not ok $i - dma_read_share # app not built: $app"; done
    exit 1
fi

file=""
for d in ${CAPMEM_DMA_DIR:-} /var/tmp /tmp "$here/build"; do
    [[ -d "$d" && -w "$d" ]] || continue
    f="$d/capmem-dma-app-$$.bin"
    head -c "$size" /dev/urandom >"$f" 2>/dev/null || { rm -f "$f"; continue; }
    sync "$f" 2>/dev/null
    fstype=$(df -T "$d" | awk 'NR==2 {print $2}')
    out=$("$app" "$f" --offset "$offset" --length "$length" 2>&1)
    rc=$?
    if grep -q "refuses direct I/O" <<<"$out"; then
        echo "# $d ($fstype) refuses direct I/O: trying the next directory"
        rm -f "$f"
        continue
    fi
    file=$f
    echo "# device: $file on $fstype ($(df -T "$d" | awk 'NR==2 {print $1}')), O_DIRECT via io_uring"
    break
done
trap 'rm -f "$file"' EXIT

if [[ -z "$file" ]]; then
    for i in 1 2 3 4; do
        echo "ok $i - dma_read_share # SKIP no filesystem here does direct I/O to a device"
    done
    exit 0
fi

sed 's/^/#   /' <<<"$out"

# 1. exit status and every marker, once, in order.
markers=("dma: buffer submitted" "dma: fence signaled" "dma: ownership returned"
         "SELFTEST: dmabuffer ownership ok")
seq=$(grep -nxF -e "${markers[0]}" -e "${markers[1]}" -e "${markers[2]}" -e "${markers[3]}" \
      <<<"$out" | cut -d: -f2-)
expected=$(printf '%s\n' "${markers[@]}")
if (( rc == 0 )) && [[ "$seq" == "$expected" ]]; then
    echo "ok 1 - test_dma_read_share_markers_in_order_and_exit_0"
else
    echo "not ok 1 - test_dma_read_share_markers_in_order_and_exit_0 # rc=$rc"
fi

# 2. the digest both processes agreed on is the file range's, by an outside tool.
ref=$(dd if="$file" bs=4096 skip=$((offset / 4096)) count=$((length / 4096)) 2>/dev/null \
      | sha256sum | cut -d' ' -f1)
theirs=$(sed -n 's/^dma: consumer  sha256 //p' <<<"$out")
if [[ -n "$ref" && "$ref" == "$theirs" ]]; then
    echo "ok 2 - test_dma_read_share_digest_matches_sha256sum_of_range"
else
    echo "not ok 2 - test_dma_read_share_digest_matches_sha256sum_of_range # $ref vs $theirs"
fi

# 3. a consumer that reports a wrong digest makes the proof fail.
bout=$("$app" "$file" --offset "$offset" --length "$length" --break-hash 2>&1)
brc=$?
if (( brc != 0 )) && ! grep -q "SELFTEST: dmabuffer ownership ok" <<<"$bout"; then
    echo "ok 3 - test_dma_read_share_fails_on_wrong_digest"
else
    echo "not ok 3 - test_dma_read_share_fails_on_wrong_digest # rc=$brc"
fi

# 4. a tmpfs file is refused as a device, with no marker.
shm=/dev/shm/capmem-dma-app-$$.bin
if head -c $((1 << 20)) /dev/urandom >"$shm" 2>/dev/null; then
    sout=$("$app" "$shm" --length 65536 2>&1)
    src=$?
    rm -f "$shm"
    if (( src != 0 )) && grep -q "refuses direct I/O" <<<"$sout" && ! grep -q "^dma: buffer" <<<"$sout"; then
        echo "ok 4 - test_dma_read_share_refuses_tmpfs"
    else
        echo "not ok 4 - test_dma_read_share_refuses_tmpfs # rc=$src"
        sed 's/^/#   /' <<<"$sout"
    fi
else
    echo "ok 4 - test_dma_read_share_refuses_tmpfs # SKIP no /dev/shm"
fi
