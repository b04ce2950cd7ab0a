#!/bin/sh
# SPDX-License-Identifier: MIT
# A clean suite: a pass, a described pass, a skip; noise that must be ignored.
echo 'TAP version 13'
echo '1..3'
echo 'ok 1'
echo '# a diagnostic'
echo '    ok 7 - indented, from a child'
echo 'child: ok 8'
echo 'okay'
echo 'ok 2 - test_two'
echo 'ok 3 - test_three # SKIP no device here'
