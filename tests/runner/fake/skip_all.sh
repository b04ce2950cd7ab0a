#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole suite skipped, with a reason.
echo '1..0 # SKIP no device here'
