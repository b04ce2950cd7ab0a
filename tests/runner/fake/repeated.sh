#!/bin/sh
# SPDX-License-Identifier: MIT
# Every number of the plan present, one of them twice (one result too many).
echo '1..2'
echo 'ok 1 - a'
echo 'ok 2 - b'
echo 'ok 2 - b again'
