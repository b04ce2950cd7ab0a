#!/bin/sh
# The whole suite skipped, with a reason.
echo '1..0 # SKIP no device here'
