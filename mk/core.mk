# core/: freestanding object model shared by both targets (docs/core.md).
CORE_SRCS += core/status.c core/handle_table.c
CORE_SRCS += core/sha256.c core/interval.c core/deadline.c core/validate.c
HOST_TESTS += tests/host/core_sha256.c tests/host/core_interval.c tests/host/core_deadline.c tests/host/core_validate.c
CORE_SRCS += core/vmo_admit.c
