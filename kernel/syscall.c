/* SPDX-License-Identifier: MIT */
/* Syscall dispatch and the process-level calls. Object calls live with
 * their objects (kernel/object/). The table is indexed by number; an unknown
 * number is UNSUPPORTED. */
#include "syscall.h"

#include <string.h>

#include "account.h"
#include "console.h"
#include "channel.h"
#include "khandle.h"
#include "frame.h"
#include "kdma.h"
#include "kmmio.h"
#include "kobj.h"
#include "ksbuf.h"
#include "kvmar.h"
#include "proc.h"
#include "usercopy.h"

/* Console output per call: a line or a TAP block; the runtime splits more. */
#define DEBUG_WRITE_MAX 1024u

static int64_t sys_exit(struct proc *p, const uint64_t *a)
{
    (void)p;
    proc_exit(CMK_EXIT_NORMAL, (int32_t)a[0], 0);
}

static int64_t sys_debug_write(struct proc *p, const uint64_t *a)
{
    char buf[DEBUG_WRITE_MAX];
    if (a[1] > DEBUG_WRITE_MAX)
        return CM_ERR_OUT_OF_RANGE;
    cm_status_t st = copyin(p, buf, a[0], a[1]);
    if (st != CM_OK)
        return st;
    console_write(buf, a[1]);
    return CM_OK;
}

/* Spawn, spawn_ex and spawn_in: quota NULL is every default, into NULL a
 * new account, proc_out 0 no handle. */
static int64_t spawn_common(struct proc *p, const cmk_spawn_args_t *args, const uint64_t *quota,
                            struct kacct *into, uint64_t proc_out)
{
    char name[CMK_SPAWN_MAX_NAME];
    char argv[CMK_SPAWN_MAX_ARGV];
    cm_handle_t handles[CMK_SPAWN_MAX_HANDLES];
    if (args->reserved != 0)
        return CM_ERR_INVALID_ARGS;
    if (args->argv_len > CMK_SPAWN_MAX_ARGV || args->num_handles > CMK_SPAWN_MAX_HANDLES)
        return CM_ERR_OUT_OF_RANGE;
    if (copyin_str(p, name, args->name, sizeof(name)) != CM_OK ||
        copyin(p, argv, args->argv, args->argv_len) != CM_OK ||
        copyin(p, handles, args->handles, args->num_handles * sizeof(cm_handle_t)) != CM_OK)
        return CM_ERR_INVALID_ARGS;
    return proc_spawn(p, name, argv, args->argv_len, handles, args->num_handles, args->role,
                      quota, into, proc_out);
}

static int64_t sys_spawn(struct proc *p, const uint64_t *a)
{
    cmk_spawn_args_t args;
    if (copyin(p, &args, a[0], sizeof(args)) != CM_OK)
        return CM_ERR_INVALID_ARGS;
    return spawn_common(p, &args, 0, 0, 0);
}

static int64_t sys_spawn_ex(struct proc *p, const uint64_t *a)
{
    cmk_spawn_ex_args_t args;
    cmk_quota_t quota;
    if (copyin(p, &args, a[0], sizeof(args)) != CM_OK)
        return CM_ERR_INVALID_ARGS;
    if (args.quota != 0 && copyin(p, &quota, args.quota, sizeof(quota)) != CM_OK)
        return CM_ERR_INVALID_ARGS;
    if (args.proc_out != 0 && !user_range_ok(p, args.proc_out, sizeof(cm_handle_t), 1))
        return CM_ERR_INVALID_ARGS;
    return spawn_common(p, &args.base, args.quota != 0 ? quota.limit : 0, 0, args.proc_out);
}

/* Spawn into an account (SIGNAL right): the child shares its ledger. The
 * handle's object is held across the spawn (which cannot sleep, but the
 * account must not end between the lookup and the attach either way). */
static int64_t sys_spawn_in(struct proc *p, const uint64_t *a)
{
    cmk_spawn_in_args_t args;
    struct kobj *o;
    if (copyin(p, &args, a[0], sizeof(args)) != CM_OK || args.reserved != 0)
        return CM_ERR_INVALID_ARGS;
    if (args.proc_out != 0 && !user_range_ok(p, args.proc_out, sizeof(cm_handle_t), 1))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = handle_get(p, args.account, CM_OBJ_ACCOUNT, CM_RIGHT_SIGNAL, &o, 0);
    if (st != CM_OK)
        return st;
    kobj_ref(o);
    int64_t r = spawn_common(p, &args.base, 0, (struct kacct *)o, args.proc_out);
    kobj_unref(o);
    return r;
}

static cm_status_t get_proc(struct proc *p, uint64_t h, cm_rights_t need, struct kproc_obj **o)
{
    struct kobj *k;
    cm_status_t st = handle_get(p, handle_arg(h), CM_OBJ_PROCESS, need, &k, 0);
    if (st == CM_OK)
        *o = (struct kproc_obj *)k;
    return st;
}

/* (process h, timeout_ns, *info): SIGNAL right; TIMED_OUT at the deadline
 * with the process still running. */
static int64_t sys_proc_wait(struct proc *p, const uint64_t *a)
{
    uint64_t deadline;
    struct kproc_obj *o;
    cmk_exit_info_t info;
    if (a[2] == 0 || !user_range_ok(p, a[2], sizeof(info), 1))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = sleep_deadline((int64_t)a[1], &deadline);
    if (st == CM_OK)
        st = get_proc(p, a[0], CM_RIGHT_SIGNAL, &o);
    if (st != CM_OK)
        return st;
    /* The object lives while this syscall sleeps on it even if the
     * handle is closed meanwhile (one hart: only by another process that
     * holds a duplicate, which cannot close ours; still, hold it). */
    kobj_ref(&o->obj);
    st = proc_obj_wait(o, deadline, &info);
    kobj_unref(&o->obj);
    if (st != CM_OK)
        return st;
    return copyout(p, a[2], &info, sizeof(info));
}

/* (process h): WRITE right. */
static int64_t sys_proc_kill(struct proc *p, const uint64_t *a)
{
    struct kproc_obj *o;
    cm_status_t st = get_proc(p, a[0], CM_RIGHT_WRITE, &o);
    if (st != CM_OK)
        return st;
    proc_obj_kill(o);
    return CM_OK;
}

static int64_t sys_wait(struct proc *p, const uint64_t *a)
{
    cmk_exit_info_t info;
    if (a[1] == 0 || !user_range_ok(p, a[1], sizeof(info), 1))
        return CM_ERR_INVALID_ARGS;
    /* A pid is 32 bits: higher bits name no process, not the low half's. */
    if (a[0] > INT32_MAX)
        return CM_ERR_NOT_FOUND;
    cm_status_t st = proc_wait(p, (int32_t)a[0], &info);
    if (st != CM_OK)
        return st;
    return copyout(p, a[1], &info, sizeof(info));
}

static int64_t sys_debug_counters(struct proc *p, const uint64_t *a)
{
    kobj_reap();
    cmk_counters_t c = { frame_free_count(), kobj_live_count(), proc_live_count(),
                         kmsg_live_count() };
    return copyout(p, a[0], &c, sizeof(c));
}

static int64_t sys_yield(struct proc *p, const uint64_t *a)
{
    (void)p;
    (void)a;
    yield();
    return CM_OK;
}

static const syscall_fn table[CMK_SYS_COUNT] = {
    [CMK_SYS_EXIT] = sys_exit,
    [CMK_SYS_DEBUG_WRITE] = sys_debug_write,
    [CMK_SYS_HANDLE_CLOSE] = sys_handle_close,
    [CMK_SYS_HANDLE_DUPLICATE] = sys_handle_duplicate,
    [CMK_SYS_HANDLE_REPLACE] = sys_handle_replace,
    [CMK_SYS_HANDLE_GET_INFO] = sys_handle_get_info,
    [CMK_SYS_VMO_CREATE] = sys_vmo_create,
    [CMK_SYS_VMO_READ] = sys_vmo_read,
    [CMK_SYS_VMO_WRITE] = sys_vmo_write,
    [CMK_SYS_VMO_GET_SIZE] = sys_vmo_get_size,
    [CMK_SYS_VMO_SET_SIZE] = sys_vmo_set_size,
    [CMK_SYS_VMO_GET_INFO] = sys_vmo_get_info,
    [CMK_SYS_VMO_SEAL] = sys_vmo_seal,
    [CMK_SYS_VMO_SNAPSHOT] = sys_vmo_snapshot,
    [CMK_SYS_VMO_MAP] = sys_vmo_map,
    [CMK_SYS_VMO_UNMAP] = sys_vmo_unmap,
    [CMK_SYS_CHANNEL_CREATE] = sys_channel_create,
    [CMK_SYS_CHANNEL_WRITE] = sys_channel_write,
    [CMK_SYS_CHANNEL_READ] = sys_channel_read,
    [CMK_SYS_CHANNEL_WAIT] = sys_channel_wait,
    [CMK_SYS_SPAWN] = sys_spawn,
    [CMK_SYS_WAIT] = sys_wait,
    [CMK_SYS_DEBUG_COUNTERS] = sys_debug_counters,
    [CMK_SYS_YIELD] = sys_yield,
    [CMK_SYS_OBJECT_WAIT_ONE] = sys_object_wait_one,
    [CMK_SYS_OBJECT_WAIT_MANY] = sys_object_wait_many,
    [CMK_SYS_WORD_WAIT] = sys_word_wait,
    [CMK_SYS_WORD_WAKE] = sys_word_wake,
    [CMK_SYS_SBUF_CREATE] = sys_sbuf_create,
    [CMK_SYS_SBUF_CONSUMER_CREATE] = sys_sbuf_consumer_create,
    [CMK_SYS_SBUF_LOAN] = sys_sbuf_loan,
    [CMK_SYS_SBUF_PUBLISH] = sys_sbuf_publish,
    [CMK_SYS_SBUF_CANCEL] = sys_sbuf_cancel,
    [CMK_SYS_SBUF_ATTACH] = sys_sbuf_attach,
    [CMK_SYS_SBUF_GET_INFO] = sys_sbuf_get_info,
    [CMK_SYS_SBUF_KICK] = sys_sbuf_kick,
    [CMK_SYS_SBUF_COPY] = sys_sbuf_copy,
    [CMK_SYS_SPAWN_EX] = sys_spawn_ex,
    [CMK_SYS_PROC_WAIT] = sys_proc_wait,
    [CMK_SYS_PROC_KILL] = sys_proc_kill,
    [CMK_SYS_LEDGER_GET] = sys_ledger_get,
    [CMK_SYS_LEDGER_SET_LIMIT] = sys_ledger_set_limit,
    [CMK_SYS_VMAR_RESERVE] = sys_vmar_reserve,
    [CMK_SYS_VMAR_MAP] = sys_vmar_map,
    [CMK_SYS_VMAR_UNMAP] = sys_vmar_unmap,
    [CMK_SYS_VMAR_UNMAP_VMO] = sys_vmar_unmap_vmo,
    [CMK_SYS_VMAR_PROTECT] = sys_vmar_protect,
    [CMK_SYS_VMAR_GET_INFO] = sys_vmar_get_info,
    [CMK_SYS_MAPPING_GET_INFO] = sys_mapping_get_info,
    [CMK_SYS_VMO_OP_RANGE] = sys_vmo_op_range,
    [CMK_SYS_VMO_GET_COMMITTED] = sys_vmo_get_committed,
    [CMK_SYS_MMIO_GET_INFO] = sys_mmio_get_info,
    [CMK_SYS_MMIO_MAP] = sys_mmio_map,
    [CMK_SYS_MMIO_UNMAP] = sys_mmio_unmap,
    [CMK_SYS_MMIO_QUEUE_ALLOC] = sys_mmio_queue_alloc,
    [CMK_SYS_DMA_DEVICE_CREATE] = sys_dma_device_create,
    [CMK_SYS_DMA_DEVICE_NEXT] = sys_dma_device_next,
    [CMK_SYS_DMA_DEVICE_COMPLETE] = sys_dma_device_complete,
    [CMK_SYS_DMA_POOL_CREATE] = sys_dma_pool_create,
    [CMK_SYS_DMA_POOL_ATTACH] = sys_dma_pool_attach,
    [CMK_SYS_DMA_POOL_GET_INFO] = sys_dma_pool_get_info,
    [CMK_SYS_DMA_BUFFER_ACQUIRE] = sys_dma_buffer_acquire,
    [CMK_SYS_DMA_BUFFER_MAP] = sys_dma_buffer_map,
    [CMK_SYS_DMA_BUFFER_RW] = sys_dma_buffer_rw,
    [CMK_SYS_DMA_SUBMIT] = sys_dma_submit,
    [CMK_SYS_DMA_FENCE_WAIT] = sys_dma_fence_wait,
    [CMK_SYS_DMA_BUFFER_RELEASE] = sys_dma_buffer_release,
    [CMK_SYS_DMA_BUFFER_DETACH_VMO] = sys_dma_buffer_detach_vmo,
    [CMK_SYS_CONSOLE_READ] = sys_console_read,
    [CMK_SYS_ACCOUNT_CREATE] = sys_account_create,
    [CMK_SYS_ACCOUNT_GET] = sys_account_get,
    [CMK_SYS_ACCOUNT_SET_LIMIT] = sys_account_set_limit,
    [CMK_SYS_SPAWN_IN] = sys_spawn_in,
    [CMK_SYS_ACCOUNT_LIVE] = sys_account_live,
    [CMK_SYS_VMAR_RESERVE_IN] = sys_vmar_reserve_in,
    [CMK_SYS_VMAR_MAP_ANON] = sys_vmar_map_anon,
};

void syscall_dispatch(struct proc *p)
{
    uint64_t args[SYSCALL_ARGS];
    uint64_t n = p->tf.regs[REG_A7];
    for (unsigned i = 0; i < SYSCALL_ARGS; i++)
        args[i] = p->tf.regs[REG_A0 + i];
    int64_t ret = CM_ERR_UNSUPPORTED;
    if (n < CMK_SYS_COUNT && table[n] != 0)
        ret = table[n](p, args);
    kmmio_revoke();
    kobj_reap();
    ksbuf_revoke();
    p->tf.regs[REG_A0] = (uint64_t)ret;
}
