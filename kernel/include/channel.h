/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_CHANNEL_H
#define CAPMEM_KERNEL_CHANNEL_H

#include <stdint.h>
#include <capmem/limits.h>
#include <capmem/object.h>

#include "kobj.h"

/* A channel is two endpoint objects; each holds the queue of messages
 * written to its peer (read from this end). */

#define KOBJ_MAX_CHANNELS 128u /* endpoints in the whole kernel */
/* Messages queued in the whole kernel: every channel can fill its queue
 * only if few channels are busy at once, which the selftests are. */
#define KMSG_MAX 128u
#define KMSG_MAX_FRAMES (CM_CHANNEL_MAX_BYTES / CM_PAGE_SIZE)

struct kmsg_handle {
    struct kobj *obj; /* holds a reference while queued */
    uint32_t type;
    uint32_t rights;
};

struct kacct;

struct kmsg {
    struct kacct *acct; /* the sender's: charged MESSAGES 1 and the frames */
    uint32_t used;
    uint32_t nbytes;
    uint32_t nhandles;
    uint64_t frames[KMSG_MAX_FRAMES];
    struct kmsg_handle handles[CM_CHANNEL_MAX_HANDLES];
};

struct channel {
    struct kobj obj;
    struct channel *peer; /* NULL once the peer endpoint is destroyed */
    struct kmsg *queue[CM_CHANNEL_MAX_QUEUED];
    uint32_t head;
    uint32_t count;
    /* Channel endpoints carried by the messages in `queue`. While it is
     * non-zero this endpoint may not be sent (channel.c, "No cycles"). */
    uint32_t nendpoints;
};

void channel_destroy(struct channel *c);
/* The endpoint's signals now (core/validate.h cm__channel_signals). */
cm_signals_t channel_signals(const struct channel *c);
uint64_t kmsg_live_count(void);

#endif
