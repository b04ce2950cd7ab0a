#!/bin/sh
# SPDX-License-Identifier: MIT
# Only indented or prefixed lines that look like results.
echo '1..2'
echo '  ok 1 - indented'
echo 'child: ok 2 - prefixed'
echo '# ok 1'
echo ' not ok 2'
