#!/bin/sh
# SPDX-License-Identifier: MIT
# Numbers outside 1..N.
echo '1..2'
echo 'ok 0 - zero'
echo 'ok 1 - a'
echo 'ok 2 - b'
