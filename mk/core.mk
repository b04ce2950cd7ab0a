# SPDX-License-Identifier: MIT
# core/: freestanding object model shared by both targets (docs/core.md).
CORE_SRCS += core/status.c core/status_detail.c core/limits_info.c core/handle_table.c
CORE_SRCS += core/sha256.c core/interval.c core/deadline.c core/validate.c
HOST_TESTS += tests/host/core_sha256.c tests/host/core_interval.c tests/host/core_deadline.c tests/host/core_validate.c
CORE_SRCS += core/vmo_admit.c
# Ledgers and quotas (docs/ledger.md).
CORE_SRCS += core/ledger.c
HOST_TESTS += tests/host/core_ledger.c
# Address-space regions and commit accounting (docs/memory-model.md).
CORE_SRCS += core/vmar_rules.c core/commit_set.c
HOST_TESTS += tests/host/core_vmar.c
# SharedBuffer rules shared by both targets (docs/sbuf.md): configuration
# and layout, the producer's slot ownership, the consumer's checks.
CORE_SRCS += core/sbuf_ring.c core/sbuf_own.c core/sbuf_cons.c
# Admission of a consumer received from another process (host channels).
CORE_SRCS += core/sbuf_admit.c
HOST_TESTS += tests/host/core_sbuf_own.c tests/host/core_sbuf_cons.c \
              tests/host/core_sbuf_exhaustive.c
TEST_SUITES += tests/host/sbuf_spin_test.sh
CORE_SRCS += core/version.c
