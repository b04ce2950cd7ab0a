#!/bin/sh
# SPDX-License-Identifier: MIT
# Two plans.
echo '1..1'
echo 'ok 1 - a'
echo '1..1'
