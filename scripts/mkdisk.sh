#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Writes the raw virtio-blk test disk the kernel selftests and the
# virtio-blk driver read (QEMU: -drive file=IMG,format=raw,if=none,id=hd0
# -device virtio-blk-device,drive=hd0).
#
# Content, so that any reader can recompute what sector n must hold:
#   size: SECTORS 512-byte sectors (default 2048: 1 MiB);
#   sector n, bytes 0..7: n as a 64-bit little-endian integer;
#   sector n, byte i (8 <= i < 512): (n + i) mod 256.
# Every sector differs from every other (bytes 0..7), and a read landing
# at the wrong offset or shifted within a sector shows in bytes 8.. too.
#
# Usage: scripts/mkdisk.sh OUT.img [SECTORS]
# perl (perl-base, present on every Debian system) does the byte work.
set -eu
out=${1:?usage: mkdisk.sh OUT.img [SECTORS]}
sectors=${2:-2048}
mkdir -p "$(dirname "$out")"
perl -e '
    my ($n_sectors) = @ARGV;
    binmode STDOUT;
    for my $n (0 .. $n_sectors - 1) {
        my $s = pack("V V", $n & 0xffffffff, int($n / 4294967296));
        $s .= pack("C*", map { ($n + $_) % 256 } 8 .. 511);
        print $s;
    }' "$sectors" >"$out.tmp"
mv "$out.tmp" "$out"
