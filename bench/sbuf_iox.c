/* SPDX-License-Identifier: MIT */
/* bench/sbuf: (c) iceoryx (Debian `iceoryx` + `libiceoryx-binding-c-dev`,
 * installed by `scripts/install-deps.sh bench`), and its daemon RouDi.
 *
 * Built with the C binding only where its header exists (mk/bench.mk sets
 * BENCH_HAVE_IOX); without it the bench says so and prints the iceoryx goals
 * as NOT MET (not measured).
 *
 * RouDi: the bench writes a mempool configuration for its sizes into a
 * private temporary directory, starts `iox-roudi` on it, and stops it by its
 * pid at the end (SIGTERM, then SIGKILL after 5 s), then removes what RouDi
 * and its clients leave when they do not exit cleanly: /dev/shm/iceoryx_mgmt,
 * /dev/shm/<user>, /tmp/roudi, /tmp/roudi.lock, /tmp/iox-unique-roudi.lock
 * and the clients' /tmp/cmsb-* sockets. It refuses to start (iceoryx then
 * not measured) when a RouDi seems to run already, so it never takes over
 * or deletes another user's daemon state.
 *
 * Each cell: P forks C before either initializes its iceoryx runtime (a
 * runtime must not be inherited by fork). P publishes on service
 * cmsb/<cell>/fwd, C subscribes; for latency C answers each message with an
 * 8-byte chunk on cmsb/<cell>/ack. Waiting is iceoryx's blocking WaitSet on
 * "has data" (its futex-backed semaphore), as capmem's blocking receive.
 * Throughput: the publisher waits for a full subscriber queue
 * (WAIT_FOR_CONSUMER / BLOCK_PRODUCER, queue depth = capmem's slot count)
 * so no message is lost. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "sbuf.h"

#define IOX_SERVICE "cmsb"
#define IOX_CLIENT_PREFIX "cmsb-"

static pid_t roudi_pid = -1;
static char roudi_dir[64];
static char shm_user[300]; /* /dev/shm/<user>: RouDi's data segment */

static int exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

/* Async-signal-safe (bench_on_exit): unlink only. */
static void remove_leftovers(void)
{
    static const char *const fixed[] = { "/dev/shm/iceoryx_mgmt", "/tmp/roudi",
                                         "/tmp/roudi.lock", "/tmp/iox-unique-roudi.lock" };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        unlink(fixed[i]);
    if (shm_user[0] != '\0')
        unlink(shm_user);
}

static void remove_client_leftovers(void)
{
    DIR *d = opendir("/tmp");
    if (d == NULL)
        return;
    struct dirent *e;
    char p[300];
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, IOX_CLIENT_PREFIX, strlen(IOX_CLIENT_PREFIX)) == 0) {
            snprintf(p, sizeof(p), "/tmp/%s", e->d_name);
            unlink(p);
        }
    }
    closedir(d);
}

static void roudi_kill_on_exit(void)
{
    if (roudi_pid > 0) {
        kill(roudi_pid, SIGKILL);
        waitpid(roudi_pid, NULL, 0);
        roudi_pid = -1;
        remove_leftovers();
    }
}

void sb_iox_stop(void)
{
    if (roudi_pid <= 0)
        return;
    kill(roudi_pid, SIGTERM);
    int st;
    pid_t r = 0;
    for (int i = 0; i < 500 && (r = waitpid(roudi_pid, &st, WNOHANG)) == 0; i++)
        usleep(10000);
    if (r == 0) {
        kill(roudi_pid, SIGKILL);
        waitpid(roudi_pid, &st, 0);
    }
    roudi_pid = -1;
    remove_leftovers();
    remove_client_leftovers();
    char p[128];
    snprintf(p, sizeof(p), "%s/roudi.toml", roudi_dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/roudi.log", roudi_dir);
    unlink(p);
    rmdir(roudi_dir);
}

int sb_iox_start(const uint32_t *sizes, uint32_t nsizes, uint32_t slots, char *why,
                 unsigned whylen)
{
    if (!sb_iox_built()) {
        snprintf(why, whylen, "iceoryx C binding not installed at build time: "
                              "scripts/install-deps.sh bench, then rebuild");
        return 0;
    }
    if (exists("/tmp/roudi") || exists("/tmp/iox-unique-roudi.lock") ||
        exists("/dev/shm/iceoryx_mgmt")) {
        snprintf(why, whylen, "a RouDi runs already (or left /tmp/roudi, "
                              "/tmp/iox-unique-roudi.lock or /dev/shm/iceoryx_mgmt)");
        return 0;
    }
    struct passwd *pw = getpwuid(geteuid());
    BENCH_CHECK(pw != NULL, "getpwuid");
    snprintf(shm_user, sizeof(shm_user), "/dev/shm/%s", pw->pw_name);
    if (exists(shm_user)) {
        snprintf(why, whylen, "%s exists (another iceoryx segment)", shm_user);
        shm_user[0] = '\0';
        return 0;
    }
    snprintf(roudi_dir, sizeof(roudi_dir), "/tmp/cm-sbuf-roudi-XXXXXX");
    BENCH_CHECK(mkdtemp(roudi_dir) != NULL, "mkdtemp: %s", strerror(errno));
    char cfg[128], log[128];
    snprintf(cfg, sizeof(cfg), "%s/roudi.toml", roudi_dir);
    snprintf(log, sizeof(log), "%s/roudi.log", roudi_dir);
    FILE *f = fopen(cfg, "w");
    BENCH_CHECK(f != NULL, "%s: %s", cfg, strerror(errno));
    fprintf(f, "[general]\nversion = 1\n\n[[segment]]\n");
    /* Every chunk a cell can hold at once: the subscriber's queue, one
     * taken by the consumer, one loaned by the producer, plus slack. */
    for (uint32_t i = 0; i < nsizes; i++)
        fprintf(f, "\n[[segment.mempool]]\nsize = %u\ncount = %u\n", sizes[i], 2 * slots + 8);
    BENCH_CHECK(fclose(f) == 0, "write %s", cfg);

    fflush(NULL);
    pid_t pid = fork();
    BENCH_CHECK(pid >= 0, "fork");
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("iox-roudi", "iox-roudi", "-c", cfg, "-l", "warning", (char *)NULL);
        _exit(127);
    }
    roudi_pid = pid;
    bench_on_exit(roudi_kill_on_exit);
    for (int i = 0; i < 1000; i++) { /* up to 10 s: it reserves and maps the pools */
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            roudi_pid = -1;
            snprintf(why, whylen, "iox-roudi exited at start (status %#x%s)", st,
                     WIFEXITED(st) && WEXITSTATUS(st) == 127 ? ": not installed" : "");
            remove_leftovers();
            unlink(cfg);
            unlink(log);
            rmdir(roudi_dir);
            return 0;
        }
        if (exists("/tmp/roudi"))
            return 1;
        usleep(10000);
    }
    sb_iox_stop();
    snprintf(why, whylen, "iox-roudi did not get ready in 10 s");
    return 0;
}

#ifndef BENCH_HAVE_IOX

int sb_iox_built(void)
{
    return 0;
}

void sb_run_iox(const struct sb_cell *c, struct sb_shared *sh)
{
    (void)c;
    (void)sh;
    bench_fail("iceoryx not built in");
}

#else

#include <iceoryx_binding_c/api.h>

int sb_iox_built(void)
{
    return 1;
}

struct iox_side {
    iox_pub_storage_t pub_st;
    iox_sub_storage_t sub_st;
    iox_ws_storage_t ws_st;
    iox_pub_t pub;
    iox_sub_t sub;
    iox_ws_t ws;
};

static void iox_open(struct iox_side *s, const struct sb_cell *c, int producer)
{
    char name[64], inst[32];
    snprintf(name, sizeof(name), IOX_CLIENT_PREFIX "%d", (int)getpid());
    snprintf(inst, sizeof(inst), "c%u", c->id);
    iox_set_loglevel(Iceoryx_LogLevel_Warn); /* its debug lines would bury the table */
    iox_runtime_init(name);
    int lat = c->metric == SB_LAT;
    s->pub = NULL;
    s->sub = NULL;
    if (producer || lat) {
        iox_pub_options_t o;
        iox_pub_options_init(&o);
        o.historyCapacity = 0;
        o.subscriberTooSlowPolicy = ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER;
        s->pub = iox_pub_init(&s->pub_st, IOX_SERVICE, inst, producer ? "fwd" : "ack", &o);
    }
    if (!producer || lat) {
        iox_sub_options_t o;
        iox_sub_options_init(&o);
        o.queueCapacity = lat ? 1 : c->slots;
        o.historyRequest = 0;
        o.queueFullPolicy = QueueFullPolicy_BLOCK_PRODUCER;
        s->sub = iox_sub_init(&s->sub_st, IOX_SERVICE, inst, producer ? "ack" : "fwd", &o);
        s->ws = iox_ws_init(&s->ws_st);
        BENCH_CHECK(iox_ws_attach_subscriber_state(s->ws, s->sub, SubscriberState_HAS_DATA, 0,
                                                   NULL) == WaitSetResult_SUCCESS,
                    "iox_ws_attach_subscriber_state");
    }
    /* Connected both ways before anything is timed. */
    for (int i = 0; i < 10000; i++) {
        int ok = 1;
        if (s->pub != NULL && !iox_pub_has_subscribers(s->pub))
            ok = 0;
        if (s->sub != NULL && iox_sub_get_subscription_state(s->sub) != SubscribeState_SUBSCRIBED)
            ok = 0;
        if (ok)
            return;
        usleep(1000);
    }
    bench_fail("iceoryx: %s not connected after 10 s", producer ? "producer" : "consumer");
}

static void iox_close(struct iox_side *s)
{
    if (s->sub != NULL) {
        iox_ws_detach_subscriber_state(s->ws, s->sub, SubscriberState_HAS_DATA);
        iox_ws_deinit(s->ws);
        iox_sub_deinit(s->sub);
    }
    if (s->pub != NULL)
        iox_pub_deinit(s->pub);
    iox_runtime_shutdown();
}

static const void *iox_take(struct iox_side *s)
{
    for (;;) {
        const void *p;
        enum iox_ChunkReceiveResult r = iox_sub_take_chunk(s->sub, &p);
        if (r == ChunkReceiveResult_SUCCESS)
            return p;
        BENCH_CHECK(r == ChunkReceiveResult_NO_CHUNK_AVAILABLE, "iox_sub_take_chunk: %d", r);
        iox_notification_info_t info[1];
        uint64_t missed;
        iox_ws_wait(s->ws, info, 1, &missed);
    }
}

static void *iox_loan(struct iox_side *s, uint32_t size)
{
    void *p;
    enum iox_AllocationResult r = iox_pub_loan_chunk(s->pub, &p, size);
    BENCH_CHECK(r == AllocationResult_SUCCESS, "iox_pub_loan_chunk(%u): %d", size, r);
    return p;
}

void sb_run_iox(const struct sb_cell *c, struct sb_shared *sh)
{
    int ctl[2], ready[2];
    BENCH_CHECK(pipe(ctl) == 0 && pipe(ready) == 0, "pipe");
    uint32_t total = c->warmup + c->count;
    int lat = c->metric == SB_LAT;
    pid_t pid = fork();
    BENCH_CHECK(pid >= 0, "fork");
    if (pid == 0) {
        sb_pin(c->cpu_c);
        close(ctl[0]);
        close(ready[0]);
        struct iox_side s;
        iox_open(&s, c, 0);
        sb_ctl_send(ready[1]);
        for (uint32_t i = 0; i < total; i++) {
            const void *p = iox_take(&s);
            sb_check(p, c->size, i);
            iox_sub_release_chunk(s.sub, p);
            if (lat) {
                uint64_t *a = iox_loan(&s, 8);
                *a = i;
                iox_pub_publish_chunk(s.pub, a);
            } else if (i + 1 == c->warmup) {
                sb_ctl_send(ctl[1]);
            }
        }
        if (!lat) {
            __atomic_store_n(&sh->t_end, bench_now_ns(), __ATOMIC_RELEASE);
            sb_ctl_send(ctl[1]);
        }
        iox_close(&s);
        _exit(0);
    }
    close(ctl[1]);
    close(ready[1]);
    uint64_t *priv = sb_private_payload(c->size);
    struct iox_side s;
    iox_open(&s, c, 1);
    sb_ctl_wait(ready[0]);
    uint64_t t0 = 0, prev = bench_now_ns();
    for (uint32_t i = 0; i < total; i++) {
        if (!lat && i == c->warmup) {
            sb_ctl_wait(ctl[0]);
            t0 = bench_now_ns();
        }
        void *p = iox_loan(&s, c->size);
        sb_produce(p, priv, c->size, c->mode, i);
        iox_pub_publish_chunk(s.pub, p);
        if (lat) {
            const uint64_t *a = iox_take(&s);
            BENCH_CHECK(*a == i, "iceoryx: ack %llu for %u", (unsigned long long)*a, i);
            iox_sub_release_chunk(s.sub, a);
            uint64_t now = bench_now_ns();
            sb_lat_record(c, sh, i, now - prev);
            prev = now;
        }
    }
    if (lat) {
        sb_lat_finish(c, sh);
    } else {
        sb_ctl_wait(ctl[0]);
        sb_tput_finish(c, sh, t0);
    }
    iox_close(&s);
    sb_reap(pid, "iceoryx consumer");
    close(ctl[0]);
    close(ready[0]);
    free(priv);
}

#endif
