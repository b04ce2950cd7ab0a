/* SPDX-License-Identifier: MIT */
/* Process start-up, exit, console output and the kernel-target extras. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmk.h"
#include "fmt.h"
#include "sbuf_internal.h"
#include "sys.h"

int main(int argc, char **argv);
void __cm_start(int argc, char **argv, const cmk_startup_t *su, uint64_t role)
    __attribute__((noreturn));

static cmk_startup_t startup;
static const char *program_name = "?";

void __cm_start(int argc, char **argv, const cmk_startup_t *su, uint64_t role)
{
    startup = *su;
    startup.role = (uint32_t)role;
    if (startup.num_handles > CMK_SPAWN_MAX_HANDLES)
        startup.num_handles = 0;
    if (argc > 0)
        program_name = argv[0];
    exit(main(argc, argv));
}

void exit(int code)
{
    for (;;)
        CMK_SYS1(CMK_SYS_EXIT, (int64_t)code);
}

void abort(void)
{
    exit(134);
}

uint32_t cmk_role(void)
{
    return startup.role;
}

uint32_t cmk_startup_handle_count(void)
{
    return startup.num_handles;
}

cm_handle_t cmk_startup_handle(uint32_t i)
{
    return i < startup.num_handles ? startup.handles[i] : CM_HANDLE_INVALID;
}

const char *cmk_program_name(void)
{
    return program_name;
}

cm_status_t cmk_debug_write(const void *buf, uint64_t len)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_DEBUG_WRITE, buf, len);
}

int64_t cmk_console_read(void *buf, uint32_t cap, int64_t timeout_ns)
{
    return CMK_SYS3(CMK_SYS_CONSOLE_READ, buf, cap, timeout_ns);
}

int32_t cmk_spawn(const char *name, const char *const *args, uint32_t nargs,
                  const cm_handle_t *handles, uint32_t nhandles, uint32_t role)
{
    return cmk_spawn_ex(name, args, nargs, handles, nhandles, role, 0, 0);
}

/* Packs argv into `blob` and fills the spawn arguments every spawn call
 * shares; OUT_OF_RANGE if the strings do not fit. */
static cm_status_t spawn_args(const char *name, const char *const *args, uint32_t nargs,
                              const cm_handle_t *handles, uint32_t nhandles, uint32_t role,
                              char *blob, cmk_spawn_args_t *a)
{
    uint32_t len = 0;
    for (uint32_t i = 0; i < nargs; i++) {
        size_t n = strlen(args[i]) + 1;
        if (n > CMK_SPAWN_MAX_ARGV - len)
            return CM_ERR_OUT_OF_RANGE;
        memcpy(blob + len, args[i], n);
        len += (uint32_t)n;
    }
    *a = (cmk_spawn_args_t){ (uint64_t)(uintptr_t)name, (uint64_t)(uintptr_t)blob, len,
                             nhandles, (uint64_t)(uintptr_t)handles, role, 0 };
    return CM_OK;
}

/* The handles moved into a started child are no longer this process's. */
static int32_t spawned(int32_t pid, const cm_handle_t *handles, uint32_t nhandles)
{
    for (uint32_t i = 0; pid > 0 && cmk__sbuf_cached() && i < nhandles; i++)
        cmk__sbuf_forget(handles[i]);
    return pid;
}

int32_t cmk_spawn_ex(const char *name, const char *const *args, uint32_t nargs,
                     const cm_handle_t *handles, uint32_t nhandles, uint32_t role,
                     const cmk_quota_t *quota, cm_handle_t *proc_out)
{
    char blob[CMK_SPAWN_MAX_ARGV];
    cmk_spawn_args_t a;
    cm_status_t st = spawn_args(name, args, nargs, handles, nhandles, role, blob, &a);
    if (st != CM_OK)
        return st;
    int32_t pid;
    if (quota == 0 && proc_out == 0) {
        pid = (int32_t)CMK_SYS1(CMK_SYS_SPAWN, &a);
    } else {
        cmk_spawn_ex_args_t ex = { a, (uint64_t)(uintptr_t)quota, (uint64_t)(uintptr_t)proc_out };
        pid = (int32_t)CMK_SYS1(CMK_SYS_SPAWN_EX, &ex);
    }
    return spawned(pid, handles, nhandles);
}

int32_t cmk_spawn_in(cm_handle_t account, const char *name, const char *const *args,
                     uint32_t nargs, const cm_handle_t *handles, uint32_t nhandles,
                     uint32_t role, cm_handle_t *proc_out)
{
    char blob[CMK_SPAWN_MAX_ARGV];
    cmk_spawn_args_t a;
    cm_status_t st = spawn_args(name, args, nargs, handles, nhandles, role, blob, &a);
    if (st != CM_OK)
        return st;
    cmk_spawn_in_args_t in = { a, account, 0, (uint64_t)(uintptr_t)proc_out };
    return spawned((int32_t)CMK_SYS1(CMK_SYS_SPAWN_IN, &in), handles, nhandles);
}

cm_status_t cmk_account_create(const cmk_quota_t *quota, uint32_t flags, cm_handle_t *out)
{
    return (cm_status_t)CMK_SYS3(CMK_SYS_ACCOUNT_CREATE, quota, (uint64_t)flags, out);
}

cm_status_t cmk_account_get(cm_handle_t account, cm_ledger_info_t *info)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_ACCOUNT_GET, account, info);
}

cm_status_t cmk_account_set_limit(cm_handle_t account, cm_ledger_kind_t kind, uint64_t limit)
{
    return (cm_status_t)CMK_SYS3(CMK_SYS_ACCOUNT_SET_LIMIT, account, (uint64_t)(uint32_t)kind,
                                 limit);
}

int64_t cmk_account_live_count(void)
{
    return CMK_SYS0(CMK_SYS_ACCOUNT_LIVE);
}

cm_status_t cmk_wait(int32_t pid, cmk_exit_info_t *info)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_WAIT, (int64_t)pid, info);
}

cm_status_t cmk_proc_wait(cm_handle_t proc, int64_t timeout_ns, cmk_exit_info_t *info)
{
    return (cm_status_t)CMK_SYS3(CMK_SYS_PROC_WAIT, proc, timeout_ns, info);
}

cm_status_t cmk_proc_kill(cm_handle_t proc)
{
    return (cm_status_t)CMK_SYS1(CMK_SYS_PROC_KILL, proc);
}

void cmk_quota_defaults(cmk_quota_t *q)
{
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++)
        q->limit[k] = CMK_QUOTA_DEFAULT;
}

cm_status_t cmk_quota_share(cmk_quota_t *q, uint32_t parts)
{
    cm_ledger_info_t info;
    cm_status_t st = cm_ledger_get(&info);
    if (st != CM_OK)
        return st;
    if (parts == 0)
        return CM_ERR_INVALID_ARGS;
    cmk_quota_defaults(q);
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++) {
        const cm_ledger_entry_t *e = &info.entry[k];
        if ((e->flags & CM_LEDGER_CARVED) == 0)
            continue;
        uint64_t room = e->limit - e->used - e->given;
        q->limit[k] = room / parts;
        if (k == CM_LEDGER_PROCESSES && q->limit[k] == 0 && room > 0)
            q->limit[k] = 1; /* the child's own slot */
    }
    return CM_OK;
}

cm_status_t cm_ledger_get(cm_ledger_info_t *info)
{
    if (info == 0)
        return CM_ERR_INVALID_ARGS;
    return (cm_status_t)CMK_SYS1(CMK_SYS_LEDGER_GET, info);
}

cm_status_t cm_ledger_set_limit(cm_ledger_kind_t kind, uint64_t limit)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_LEDGER_SET_LIMIT, (uint64_t)(uint32_t)kind, limit);
}

cm_status_t cmk_counters(cmk_counters_t *c)
{
    return (cm_status_t)CMK_SYS1(CMK_SYS_DEBUG_COUNTERS, c);
}

/* printf formats into a line buffer flushed at '\n' or when full, so a
 * process's line reaches the console in one piece. */
#define OUT_BUF 256u

struct out {
    char buf[OUT_BUF];
    size_t len;
};

static void out_flush(struct out *o)
{
    if (o->len > 0)
        cmk_debug_write(o->buf, o->len);
    o->len = 0;
}

static void out_put(void *ctx, char c)
{
    struct out *o = ctx;
    o->buf[o->len++] = c;
    if (c == '\n' || o->len == OUT_BUF)
        out_flush(o);
}

int printf(const char *fmt, ...)
{
    struct out o = { .len = 0 };
    va_list ap;
    va_start(ap, fmt);
    int n = cm__vfmt(out_put, &o, fmt, ap);
    va_end(ap);
    out_flush(&o);
    return n;
}

int vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
    return cm__vsnprintf(buf, cap, fmt, ap);
}

int snprintf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = cm__vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *s)
{
    return printf("%s\n", s);
}

int putchar(int c)
{
    char ch = (char)c;
    cmk_debug_write(&ch, 1);
    return c;
}

cm_status_t cmk_word_wait(const volatile uint32_t *word, uint32_t expected, int64_t timeout_ns)
{
    return (cm_status_t)CMK_SYS3(CMK_SYS_WORD_WAIT, word, expected, timeout_ns);
}

int32_t cmk_word_wake(const volatile uint32_t *word, uint32_t max)
{
    return (int32_t)CMK_SYS2(CMK_SYS_WORD_WAKE, word, max);
}
