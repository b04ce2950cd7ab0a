# core/: freestanding object model shared by both targets.
CORE_SRCS += core/status.c core/handle_table.c
