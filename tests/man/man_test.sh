#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The man pages match the headers and the CLI (tests/man/check_man.py,
# docs/man.md). Run from the top of the tree, after the CLI is built.
set -u
cd "$(dirname "$0")/../.."
exec python3 tests/man/check_man.py --cli build/host/capmem
