/* SPDX-License-Identifier: MIT */
/* stream [COUNT]: a producer streams COUNT messages (default 10000) of
 * varying length through a SharedBuffer to a consumer process. The buffer
 * is a pool of pre-faulted slots: the producer loans a slot, writes the
 * message in place and publishes it; the consumer reads it in place through
 * a read-only mapping and releases the slot for reuse. No byte is copied,
 * and no page is allocated per message. The consumer checks every message
 * and the count; exit 0 when all arrived intact and in order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <capmem/capmem.h>

#define SLOT_SIZE 4096u
#define TIMEOUT_NS (10ll * 1000 * 1000 * 1000) /* never wait forever for a peer */

static void check(cm_status_t st, const char *what)
{
    if (st != CM_OK) {
        const char *detail = cm_status_detail(); /* may be empty */
        fprintf(stderr, "%s: %s (%s)%s%s\n", what, cm_status_str(st), cm_status_name(st),
                *detail ? ": " : "", detail);
        exit(1);
    }
}

/* Message n (the n-th published, from 0): its length and its bytes, so the
 * consumer can recompute what it should have received. */
static uint32_t msg_len(uint64_t n) { return 1 + (uint32_t)(n * 977 % SLOT_SIZE); }
static uint8_t msg_byte(uint64_t n, uint32_t i) { return (uint8_t)(n * 31 + i); }

/* The consumer process: gets its handle over a channel, then reads until
 * the producer closes the buffer (PEER_CLOSED once everything is read). */
static int consume(cm_handle_t ch)
{
    cm_handle_t cons;
    uint64_t expected, n = 0, bad = 0, first_seq = 0;
    uint32_t nbytes, nhandles;
    check(cm_channel_wait_readable(ch, TIMEOUT_NS), "wait for the consumer handle");
    check(cm_channel_read(ch, &expected, sizeof(expected), &nbytes, &cons, 1, &nhandles), "read");
    for (;;) {
        cm_sbuf_msg_t m;
        cm_status_t st = cm_sbuf_receive(cons, 0, TIMEOUT_NS, &m);
        if (st == CM_ERR_PEER_CLOSED)
            break; /* the producer is done and we have read everything */
        check(st, "receive");
        /* m.data points into the producer's slot, mapped read-only here. */
        const uint8_t *p = m.data;
        if (n == 0)
            first_seq = m.seq;
        bad += m.seq != first_seq + n || m.len != msg_len(n); /* in order, none lost */
        for (uint32_t i = 0; i < m.len && i < msg_len(n); i++)
            bad += p[i] != msg_byte(n, i);
        check(cm_sbuf_release(cons, m.seq), "release"); /* the slot can be reused */
        n++;
    }
    printf("consumer: %llu of %llu messages received in place, %llu wrong\n",
           (unsigned long long)n, (unsigned long long)expected, (unsigned long long)bad);
    cm_handle_close(cons);
    return n == expected && bad == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000;
    cm_handle_t end0, end1;
    check(cm_channel_create(0, &end0, &end1), "channel");

    /* Fork before the buffer exists, so the consumer process never holds
     * the producer's handle: it gets only a consumer handle, sent below. */
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        cm_handle_close(end0);
        int rc = consume(end1);
        fflush(stdout);
        _exit(rc); /* not exit(): the parent's atexit handlers are not ours to run */
    }
    cm_handle_close(end1);

    /* 16 slots of 4 KiB; one consumer; BLOCK: a loan waits for a free slot
     * rather than overwrite a message the consumer has not read. */
    cm_sbuf_config_t cfg = { .slot_count = 16, .slot_size = SLOT_SIZE, .max_consumers = 1,
                             .max_held = 4, .max_loans = 4, .policy = CM_SBUF_BLOCK };
    cm_handle_t buf, cons;
    check(cm_sbuf_create(&cfg, &buf), "sbuf_create");
    /* A consumer sees what is published after it exists: make it first. */
    check(cm_sbuf_consumer_create(buf, CM_SBUF_CONSUMER_DEFAULT_RIGHTS, &cons), "consumer_create");
    check(cm_channel_write(end0, &count, sizeof(count), &cons, 1), "send consumer handle");

    for (uint64_t n = 0; n < count; n++) {
        cm_sbuf_loan_t loan;
        uint64_t seq;
        check(cm_sbuf_loan(buf, 0, TIMEOUT_NS, &loan), "loan");
        uint32_t len = msg_len(n);
        for (uint32_t i = 0; i < len; i++) /* written in place, in shared memory */
            ((uint8_t *)loan.data)[i] = msg_byte(n, i);
        check(cm_sbuf_publish(buf, loan.id, len, &seq), "publish");
    }
    cm_handle_close(buf); /* end of stream: the consumer drains, then sees PEER_CLOSED */
    cm_handle_close(end0);

    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "producer: the consumer failed\n");
        return 1;
    }
    printf("producer: %llu messages streamed through 16 reused slots\n", (unsigned long long)count);
    return 0;
}
