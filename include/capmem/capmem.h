/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CAPMEM_H
#define CAPMEM_CAPMEM_H

/* The capmem public API. Applications include only this header; the same
 * source builds for the host (Linux) and kernel (QEMU riscv64) targets. */
#include <capmem/version.h>
#include <capmem/status.h>
#include <capmem/rights.h>
#include <capmem/limits.h>
#include <capmem/limits_info.h>
#include <capmem/handle.h>
#include <capmem/object.h>
#include <capmem/vmo.h>
#include <capmem/channel.h>
#include <capmem/dma.h>
#include <capmem/vmar.h>
#include <capmem/sbuf.h>
#include <capmem/mmio.h>
/* <capmem/sbuf.h> joins this list when a target implements it (phase 2 of
 * SharedBuffer, docs/sbuf.md): until then a program must name it on purpose. */

#endif
