#!/bin/sh
# SPDX-License-Identifier: MIT
# A result line without a number.
echo '1..1'
echo 'ok 1 - a'
echo 'not ok - something broke'
