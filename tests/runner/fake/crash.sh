#!/bin/sh
# SPDX-License-Identifier: MIT
# Every result passes, then the suite dies of a signal.
echo '1..1'
echo 'ok 1 - a'
kill -SEGV $$
