#!/bin/sh
# SPDX-License-Identifier: MIT
# A failure dressed as a skip.
echo '1..2'
echo 'ok 1 - a'
echo 'not ok 2 - x # SKIP not really'
