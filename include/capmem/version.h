/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_VERSION_H
#define CAPMEM_VERSION_H

/* The version of the capmem API these headers describe. The single source of
 * the version: the Makefile reads these three lines for the shared library's
 * file name (libcapmem.so.MAJOR.MINOR.PATCH), its SONAME (libcapmem.so.MAJOR)
 * and capmem.pc. MAJOR changes when the ABI breaks. */
#define CAPMEM_VERSION_MAJOR 0
#define CAPMEM_VERSION_MINOR 1
#define CAPMEM_VERSION_PATCH 0

#define CAPMEM__STR2(x) #x
#define CAPMEM__STR(x) CAPMEM__STR2(x)
/* "MAJOR.MINOR.PATCH", e.g. "0.1.0". */
#define CAPMEM_VERSION                                                          \
    CAPMEM__STR(CAPMEM_VERSION_MAJOR) "." CAPMEM__STR(CAPMEM_VERSION_MINOR) "." \
    CAPMEM__STR(CAPMEM_VERSION_PATCH)

/* One comparable number, 0xMMmmpp: MAJOR << 16 | MINOR << 8 | PATCH. */
#define CAPMEM_VERSION_ENCODE(major, minor, patch) \
    (((unsigned long)(major) << 16) | ((unsigned long)(minor) << 8) | (unsigned long)(patch))
#define CAPMEM_VERSION_NUMBER \
    CAPMEM_VERSION_ENCODE(CAPMEM_VERSION_MAJOR, CAPMEM_VERSION_MINOR, CAPMEM_VERSION_PATCH)
/* True when the headers are at least major.minor.patch (compile time). */
#define CAPMEM_VERSION_AT_LEAST(major, minor, patch) \
    (CAPMEM_VERSION_NUMBER >= CAPMEM_VERSION_ENCODE(major, minor, patch))

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library actually loaded, as CAPMEM_VERSION and
 * CAPMEM_VERSION_NUMBER were when it was built: a program compares them with
 * the macros to detect a header/library mismatch at run time. Static strings;
 * thread-safe; no failure. */
const char *cm_version(void);
unsigned long cm_version_number(void);

#ifdef __cplusplus
}
#endif

#endif
