#!/bin/sh
# SPDX-License-Identifier: MIT
# A plan of zero without a skip reason: a suite that tests nothing.
echo '1..0'
