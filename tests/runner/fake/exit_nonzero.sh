#!/bin/sh
# SPDX-License-Identifier: MIT
# Every result passes, but the suite exits 3.
echo '1..1'
echo 'ok 1 - a'
exit 3
