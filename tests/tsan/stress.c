/* SPDX-License-Identifier: MIT */
/* Threaded stress of the host library, built with -fsanitize=thread over a
 * library built the same way (build/tsan, mk/tsan.mk). Several threads use
 * the same handles, channels, mappings and DMA pool at once; ThreadSanitizer
 * reports any data race or lock-order inversion in the library, and such a
 * report fails the suite (exit code 66). Every loop runs a fixed number of
 * iterations: nothing depends on how fast the machine is. Timeouts below
 * only turn a hang into a failure.
 *
 * Worker threads never call cmocka asserts (they longjmp): they count
 * unexpected results in `errors` and keep the first one's text; the main
 * thread asserts after joining them. */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/host.h>
#include <capmem/sbuf.h>
#include "../host/dma_testutil.h"

#define THREADS 4
#define SLOTS 16
#define HANDLE_ITERS 20000
#define MESSAGES_PER_WRITER 2000
#define MAP_ITERS 3000
#define DMA_ITERS 1500
#define WAIT_NS (10ll * 1000 * 1000 * 1000) /* a hang guard, not a pace */
#define MAX_RETRIES 1000000                 /* SHOULD_WAIT / NO_RESOURCES retries */

/* Reports a race found by TSan through the exit status, keep going to
 * collect all of them; second_deadlock_stack shows both lock orders. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
    return "halt_on_error=0:exitcode=66:second_deadlock_stack=1";
}

static atomic_uint errors;
static pthread_mutex_t first_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_error[256];

#define CHECK(cond, ...) ((cond) ? 1 : (note_error(__LINE__, __VA_ARGS__), 0))

static void note_error(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_error(int line, const char *fmt, ...)
{
    if (atomic_fetch_add(&errors, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        pthread_mutex_lock(&first_lock);
        int n = snprintf(first_error, sizeof(first_error), "line %d: ", line);
        vsnprintf(first_error + n, sizeof(first_error) - (size_t)n, fmt, ap);
        pthread_mutex_unlock(&first_lock);
        va_end(ap);
    }
}

static void assert_no_errors(void)
{
    if (atomic_load(&errors) != 0)
        fail_msg("%u unexpected results in worker threads; first: %s", atomic_load(&errors),
                 first_error);
}

/* Runs fn(i) on n threads and joins them. */
static void run_threads(int n, void *(*fn)(void *))
{
    pthread_t t[THREADS * 2];
    atomic_store(&errors, 0);
    first_error[0] = '\0';
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_create(&t[i], NULL, fn, (void *)(intptr_t)i), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_no_errors();
}

static uint32_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 11);
}

/* ---- handles: create / duplicate / replace / close, shared between threads */

static _Atomic cm_handle_t slots[SLOTS];

static int ok_or_bad_handle(cm_status_t st)
{
    return st == CM_OK || st == CM_ERR_BAD_HANDLE;
}

static void *handle_worker(void *arg)
{
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)((intptr_t)arg + 1);
    for (int i = 0; i < HANDLE_ITERS; i++) {
        uint32_t r = rnd(&s), k = (r >> 4) % SLOTS;
        cm_handle_t h, d;
        cm_status_t st;
        switch (r % 5) {
        case 0: /* create, publish, close what the slot held (ours now) */
            if (!CHECK((st = cm_vmo_create(CM_PAGE_SIZE, 0, &h)) == CM_OK, "create %d", st))
                break;
            h = atomic_exchange(&slots[k], h);
            if (h != CM_HANDLE_INVALID)
                CHECK((st = cm_handle_close(h)) == CM_OK, "close owned %d", st);
            break;
        case 1: /* take and close */
            h = atomic_exchange(&slots[k], CM_HANDLE_INVALID);
            if (h != CM_HANDLE_INVALID)
                CHECK((st = cm_handle_close(h)) == CM_OK, "close taken %d", st);
            break;
        case 2: /* duplicate a handle another thread may be closing */
            h = atomic_load(&slots[k]);
            st = cm_handle_duplicate(h, CM_RIGHT_READ | CM_RIGHT_DUPLICATE, &d);
            if (CHECK(ok_or_bad_handle(st), "duplicate %d", st) && st == CM_OK)
                CHECK((st = cm_handle_close(d)) == CM_OK, "close dup %d", st);
            break;
        case 3: /* take, replace with fewer rights, put back */
            h = atomic_exchange(&slots[k], CM_HANDLE_INVALID);
            if (h == CM_HANDLE_INVALID)
                break;
            if (!CHECK((st = cm_handle_replace(h, CM_RIGHTS_SAME, &d)) == CM_OK, "replace %d", st))
                break;
            h = atomic_exchange(&slots[k], d);
            if (h != CM_HANDLE_INVALID)
                CHECK((st = cm_handle_close(h)) == CM_OK, "close owned %d", st);
            break;
        default: { /* query a handle another thread may be closing */
            cm_handle_info_t info;
            cm_vmo_info_t vi;
            h = atomic_load(&slots[k]);
            st = cm_handle_get_info(h, &info);
            CHECK(ok_or_bad_handle(st), "get_info %d", st);
            st = cm_vmo_get_info(h, &vi);
            CHECK(ok_or_bad_handle(st), "vmo_get_info %d", st);
            break;
        }
        }
    }
    return NULL;
}

static void test_tsan_handles_create_dup_replace_close_from_threads(void **state)
{
    (void)state;
    run_threads(THREADS, handle_worker);
    for (int k = 0; k < SLOTS; k++) {
        cm_handle_t h = atomic_exchange(&slots[k], CM_HANDLE_INVALID);
        if (h != CM_HANDLE_INVALID)
            assert_status(cm_handle_close(h), CM_OK);
    }
}

/* ---- waits through handles that keep their eventfd (host/handles.c,
 * struct cm__wake), while other threads duplicate, replace and close those
 * very handles: the wake records are made, shared, orphaned and freed under
 * the table lock from every side. */

#define WAIT_ITERS 1500
#define SHORT_WAIT_NS 200000 /* 0.2 ms: waits mostly time out or are closed */

static cm_handle_t wait_end, wait_peer;
static _Atomic cm_handle_t wait_slots[SLOTS];

static void *wait_worker(void *arg)
{
    uint64_t s = 0x2545f4914f6cdd1dull * (uint64_t)((intptr_t)arg + 1);
    for (int i = 0; i < WAIT_ITERS; i++) {
        uint32_t r = rnd(&s), k = (r >> 4) % SLOTS;
        cm_handle_t h, d;
        cm_status_t st;
        switch (r % 4) {
        case 0: /* a duplicate of the end into a slot, closing what it held */
            if (!CHECK((st = cm_handle_duplicate(wait_end, CM_RIGHTS_SAME, &d)) == CM_OK,
                       "duplicate %d", st))
                break;
            h = atomic_exchange(&wait_slots[k], d);
            if (h != CM_HANDLE_INVALID)
                CHECK((st = cm_handle_close(h)) == CM_OK, "close owned %d", st);
            break;
        case 1: /* take and close (wakes a waiter through it) */
            h = atomic_exchange(&wait_slots[k], CM_HANDLE_INVALID);
            if (h != CM_HANDLE_INVALID)
                CHECK((st = cm_handle_close(h)) == CM_OK, "close taken %d", st);
            break;
        case 2: /* take, replace, put back (wakes a waiter on the old value) */
            h = atomic_exchange(&wait_slots[k], CM_HANDLE_INVALID);
            if (h == CM_HANDLE_INVALID)
                break;
            if (!CHECK((st = cm_handle_replace(h, CM_RIGHTS_SAME, &d)) == CM_OK, "replace %d", st))
                break;
            h = atomic_exchange(&wait_slots[k], d);
            if (h != CM_HANDLE_INVALID)
                CHECK((st = cm_handle_close(h)) == CM_OK, "close owned %d", st);
            break;
        default: /* wait through a handle another thread may remove */
            h = atomic_load(&wait_slots[k]);
            st = cm_channel_wait_readable(h, SHORT_WAIT_NS);
            CHECK(st == CM_ERR_TIMED_OUT || st == CM_ERR_BAD_HANDLE, "wait %d", st);
            break;
        }
    }
    return NULL;
}

static void test_tsan_waits_against_duplicate_replace_close_from_threads(void **state)
{
    (void)state;
    assert_status(cm_channel_create(0, &wait_end, &wait_peer), CM_OK);
    run_threads(THREADS, wait_worker);
    for (int k = 0; k < SLOTS; k++) {
        cm_handle_t h = atomic_exchange(&wait_slots[k], CM_HANDLE_INVALID);
        if (h != CM_HANDLE_INVALID)
            assert_status(cm_handle_close(h), CM_OK);
    }
    assert_status(cm_handle_close(wait_end), CM_OK);
    assert_status(cm_handle_close(wait_peer), CM_OK);
}

/* ---- channels: concurrent writers and readers, a VMO in every message */

static cm_handle_t ch_w, ch_r;
static atomic_uint received;

struct msg {
    uint32_t writer, seq; /* also the first 8 bytes of the VMO sent with it */
};

static void *channel_writer(void *arg)
{
    uint32_t id = (uint32_t)(intptr_t)arg;
    for (uint32_t seq = 0; seq < MESSAGES_PER_WRITER; seq++) {
        struct msg m = { id, seq };
        cm_status_t st = CM_ERR_SHOULD_WAIT;
        for (int tries = 0; st == CM_ERR_SHOULD_WAIT && tries < MAX_RETRIES; tries++) {
            cm_handle_t v; /* a write consumes its handles, even when refused */
            if (!CHECK((st = cm_vmo_create(CM_PAGE_SIZE, 0, &v)) == CM_OK, "create %d", st))
                return NULL;
            if (!CHECK((st = cm_vmo_write(v, &m, 0, sizeof(m))) == CM_OK, "vmo write %d", st))
                return NULL;
            st = cm_channel_write(ch_w, &m, sizeof(m), &v, 1);
            if (st == CM_ERR_SHOULD_WAIT)
                sched_yield();
        }
        if (!CHECK(st == CM_OK, "channel write %d", st))
            return NULL;
    }
    return NULL;
}

/* Reads until a message with no handle (the stop marker main sends after
 * every writer finished). */
static void *channel_reader(void *arg)
{
    (void)arg;
    for (;;) {
        struct msg m;
        uint32_t nb = 0, nh = 0;
        cm_handle_t v = CM_HANDLE_INVALID;
        cm_status_t st = cm_channel_read(ch_r, &m, sizeof(m), &nb, &v, 1, &nh);
        if (st == CM_ERR_SHOULD_WAIT) {
            st = cm_channel_wait_readable(ch_r, WAIT_NS);
            if (!CHECK(st == CM_OK, "wait_readable %d", st))
                return NULL;
            continue;
        }
        if (!CHECK(st == CM_OK && nb == sizeof(m), "read %d nb %u", st, nb))
            return NULL;
        if (nh == 0)
            return NULL; /* stop */
        struct msg in_vmo;
        st = cm_vmo_read(v, &in_vmo, 0, sizeof(in_vmo));
        CHECK(st == CM_OK && in_vmo.writer == m.writer && in_vmo.seq == m.seq,
              "vmo content %d: %u/%u vs %u/%u", st, in_vmo.writer, in_vmo.seq, m.writer, m.seq);
        CHECK((st = cm_handle_close(v)) == CM_OK, "close received %d", st);
        atomic_fetch_add(&received, 1);
    }
}

static void *channel_worker(void *arg)
{
    intptr_t i = (intptr_t)arg;
    return i % 2 == 0 ? channel_writer((void *)(i / 2)) : channel_reader(NULL);
}

static void test_tsan_channel_writers_and_readers_pass_handles(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    assert_status(cm_channel_create(0, &ch_w, &ch_r), CM_OK);
    atomic_store(&received, 0);
    atomic_store(&errors, 0);
    for (intptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, channel_worker, (void *)i), 0);
    for (int i = 0; i < THREADS; i += 2) /* writers first */
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int r = 0; r < THREADS / 2; r++) { /* one stop marker per reader */
        struct msg stop = { UINT32_MAX, UINT32_MAX };
        cm_status_t st = CM_ERR_SHOULD_WAIT;
        for (int tries = 0; st == CM_ERR_SHOULD_WAIT && tries < MAX_RETRIES; tries++) {
            st = cm_channel_write(ch_w, &stop, sizeof(stop), NULL, 0);
            if (st == CM_ERR_SHOULD_WAIT)
                sched_yield();
        }
        assert_status(st, CM_OK);
    }
    for (int i = 1; i < THREADS; i += 2)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_no_errors();
    assert_int_equal(atomic_load(&received), (THREADS / 2) * MESSAGES_PER_WRITER);
    assert_status(cm_handle_close(ch_w), CM_OK);
    assert_status(cm_handle_close(ch_r), CM_OK);
}

/* ---- mappings: map / unmap from threads, some unmapped by another thread */

#define MAP_VMO_PAGES 64
static cm_handle_t map_vmo;
static void *_Atomic handoff[SLOTS];

static void *map_worker(void *arg)
{
    uint32_t id = (uint32_t)(intptr_t)arg;
    uint64_t s = 0x2545f4914f6cdd1dull * (id + 1);
    for (int i = 0; i < MAP_ITERS; i++) {
        uint32_t r = rnd(&s);
        /* Each thread owns pages id, id+THREADS, ... for its writes. */
        uint64_t page = id + THREADS * (uint64_t)(r % (MAP_VMO_PAGES / THREADS));
        void *addr = NULL;
        cm_status_t st = cm_vmo_map(map_vmo, page * CM_PAGE_SIZE, CM_PAGE_SIZE,
                                    CM_MAP_READ | CM_MAP_WRITE, &addr);
        if (!CHECK(st == CM_OK, "map %d", st))
            return NULL;
        uint32_t *w = addr;
        w[0] = id;
        w[1] = (uint32_t)i;
        uint32_t back[2];
        st = cm_vmo_read(map_vmo, back, page * CM_PAGE_SIZE, sizeof(back));
        CHECK(st == CM_OK && back[0] == id && back[1] == (uint32_t)i, "read back %d", st);
        /* Half the mappings are unmapped by whichever thread finds them. */
        if (r & 0x100) {
            addr = atomic_exchange(&handoff[(r >> 9) % SLOTS], addr);
            if (addr == NULL)
                continue;
        }
        CHECK((st = cm_vmo_unmap(addr, CM_PAGE_SIZE)) == CM_OK, "unmap %d", st);
    }
    return NULL;
}

static void test_tsan_map_unmap_from_threads(void **state)
{
    (void)state;
    assert_status(cm_vmo_create(MAP_VMO_PAGES * CM_PAGE_SIZE, 0, &map_vmo), CM_OK);
    run_threads(THREADS, map_worker);
    for (int k = 0; k < SLOTS; k++) {
        void *addr = atomic_exchange(&handoff[k], NULL);
        if (addr != NULL)
            assert_status(cm_vmo_unmap(addr, CM_PAGE_SIZE), CM_OK);
    }
    assert_status(cm_handle_close(map_vmo), CM_OK);
}

/* ---- listener: accept and connect from threads, a message on each channel */

#define CONNECTS_PER_THREAD 150
static cm_handle_t listener;
static char listen_path[128];

static void *listen_worker(void *arg)
{
    intptr_t id = (intptr_t)arg;
    for (int i = 0; i < CONNECTS_PER_THREAD; i++) {
        cm_handle_t ch;
        cm_status_t st;
        uint32_t v = (uint32_t)(id * 100000 + i), got = 0, nb = 0, nh = 0;
        if (id % 2 == 0) { /* connector: one message, then close */
            /* A full backlog is SHOULD_WAIT, never a blocked connect: retry,
             * bounded, while the acceptors catch up. */
            for (int tries = 0; tries < 2000; tries++) {
                st = cm_host_connect(listen_path, &ch);
                if (st != CM_ERR_SHOULD_WAIT)
                    break;
                nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
            }
            if (!CHECK(st == CM_OK, "connect %d", st))
                return NULL;
            CHECK((st = cm_channel_write(ch, &v, sizeof(v), NULL, 0)) == CM_OK, "write %d", st);
        } else { /* acceptor: the message, then close */
            if (!CHECK((st = cm_host_accept(listener, WAIT_NS, &ch)) == CM_OK, "accept %d", st))
                return NULL;
            st = cm_channel_wait_readable(ch, WAIT_NS);
            if (CHECK(st == CM_OK, "wait_readable %d", st)) {
                st = cm_channel_read(ch, &got, sizeof(got), &nb, NULL, 0, &nh);
                CHECK(st == CM_OK && nb == sizeof(got) && nh == 0, "read %d", st);
            }
        }
        CHECK((st = cm_handle_close(ch)) == CM_OK, "close channel %d", st);
    }
    return NULL;
}

static void test_tsan_accept_and_connect_from_threads(void **state)
{
    (void)state;
    char dir[] = "/tmp/capmem-tsan-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(listen_path, sizeof(listen_path), "%s/sock", dir);
    assert_status(cm_host_listen(listen_path, &listener), CM_OK);
    run_threads(THREADS, listen_worker);
    assert_status(cm_handle_close(listener), CM_OK);
    unlink(listen_path);
    assert_int_equal(rmdir(dir), 0);
}

/* ---- resize against map: set_size never cuts a mapping (BAD_STATE), map
 * never reaches past the size (OUT_OF_RANGE) */

/* cm_vmo_set_size checks "no mapping past the new size" and truncates under
 * the mapping table's lock (cm__map_truncate), so a cm_vmo_map cannot slip
 * in between. Before that fix (issue 7, item 10) the truncate could cut a
 * mapping made in between, and this check failed in about one run of four
 * (SIGBUS at the read below). -DRESIZE_CHECK_CUT_MAPPINGS=0 turns it off. */
#ifndef RESIZE_CHECK_CUT_MAPPINGS
#define RESIZE_CHECK_CUT_MAPPINGS 1
#endif
#define RESIZE_ITERS 1500
#define RESIZE_SMALL 4
#define RESIZE_LARGE 16
static cm_handle_t resize_vmo;

static void *resize_worker(void *arg)
{
    intptr_t id = (intptr_t)arg;
    uint64_t s = 0x94d049bb133111ebull * (uint64_t)(id + 1);
    for (int i = 0; i < RESIZE_ITERS; i++) {
        uint32_t r = rnd(&s);
        cm_status_t st;
        if (id % 2 == 0) {
            uint64_t pages = r & 1 ? RESIZE_SMALL : RESIZE_LARGE;
            st = cm_vmo_set_size(resize_vmo, pages * CM_PAGE_SIZE);
            CHECK(st == CM_OK || st == CM_ERR_BAD_STATE, "set_size %d", st);
            continue;
        }
        /* A page past the small size: mappable only while the VMO is large,
         * and then it must stay readable until unmapped. */
        uint64_t page = RESIZE_SMALL + r % (RESIZE_LARGE - RESIZE_SMALL);
        void *addr = NULL;
        st = cm_vmo_map(resize_vmo, page * CM_PAGE_SIZE, CM_PAGE_SIZE, CM_MAP_READ, &addr);
        if (!CHECK(st == CM_OK || st == CM_ERR_OUT_OF_RANGE, "map %d", st) || st != CM_OK)
            continue;
#if RESIZE_CHECK_CUT_MAPPINGS
        /* While our mapping exists the size covers it, and the page reads. */
        uint64_t size = 0;
        st = cm_vmo_get_size(resize_vmo, &size);
        CHECK(st == CM_OK && size >= (page + 1) * CM_PAGE_SIZE,
              "set_size cut a live mapping: size %llu, mapped page %llu",
              (unsigned long long)size, (unsigned long long)page);
        if (size >= (page + 1) * CM_PAGE_SIZE)
            CHECK(*(volatile uint8_t *)addr == 0, "mapped page not zero");
#endif
        CHECK((st = cm_vmo_unmap(addr, CM_PAGE_SIZE)) == CM_OK, "unmap %d", st);
    }
    return NULL;
}

static void test_tsan_set_size_against_map_from_threads(void **state)
{
    (void)state;
    assert_status(cm_vmo_create(RESIZE_LARGE * CM_PAGE_SIZE, 0, &resize_vmo), CM_OK);
    run_threads(THREADS, resize_worker);
    assert_status(cm_handle_close(resize_vmo), CM_OK);
}

/* ---- a new VMO's first uses race to size its file (docs/vmo.md, "Size") */

#define FIRST_USE_ITERS 300
#define FIRST_USE_PAGES 5
static _Atomic cm_handle_t first_use_vmo;
static pthread_barrier_t first_use_barrier;

/* The size of the library's own memfd of v, found in /proc/self/fd by the
 * identity get_info reports (which sizes nothing): what any other holder
 * would see, read without a call that sizes the file itself (an export
 * would). UINT64_MAX if not found. */
static uint64_t library_file_size(cm_handle_t v)
{
    cm_vmo_info_t info;
    struct stat sb;
    uint64_t size = UINT64_MAX;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL || cm_vmo_get_info(v, &info) != CM_OK) {
        if (d != NULL)
            closedir(d);
        return size;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || fstat(atoi(e->d_name), &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if ((((uint64_t)sb.st_dev << 40) ^ (uint64_t)sb.st_ino) == info.id)
            size = (uint64_t)sb.st_size;
    }
    closedir(d);
    return size;
}

/* Thread 0 makes a fresh (lazily sized) VMO each round; then every thread
 * makes one first use of it at once: a write (every other time at the
 * start, which does not size the file, else at the end of the created
 * size, which does if the size is still that), a map, a read, a set_size
 * to twice the size. Each must see at least the created size (a short
 * file is SIGBUS in the map, OUT_OF_RANGE in the read), and the library's
 * file must have the set_size's after, read without sizing it: a sizing
 * to the created size must never land after the set_size. That each first
 * use costs one ftruncate at most is tests/host/syscall_budget.sh's. */
static void *first_use_worker(void *arg)
{
    intptr_t id = (intptr_t)arg;
    const uint64_t size = FIRST_USE_PAGES * CM_PAGE_SIZE;
    for (int i = 0; i < FIRST_USE_ITERS; i++) {
        cm_handle_t v = CM_HANDLE_INVALID;
        int at_end = (i / 4) % 2; /* every thread does both writes */
        if (id == 0) {
            cm_status_t st = cm_vmo_create(size, 0, &v);
            CHECK(st == CM_OK, "create %d", st);
            atomic_store(&first_use_vmo, v);
        }
        pthread_barrier_wait(&first_use_barrier);
        v = atomic_load(&first_use_vmo);
        cm_status_t st = CM_OK;
        char c = 1;
        void *addr = NULL;
        switch ((id + i) % 4) {
        case 0:
            st = at_end ? cm_vmo_write(v, "z", size - 1, 1) : cm_vmo_write(v, "a", 0, 1);
            break;
        case 1:
            st = cm_vmo_map(v, 0, size, CM_MAP_READ, &addr);
            if (st == CM_OK) {
                char first = ((volatile char *)addr)[0], last = ((volatile char *)addr)[size - 1];
                CHECK((first == 0 || first == 'a') && (last == 0 || last == 'z'),
                      "mapped bytes %d %d", first, last);
                st = cm_vmo_unmap(addr, size);
            }
            break;
        case 2:
            st = cm_vmo_read(v, &c, size - 1, 1);
            CHECK(st != CM_OK || c == 0 || c == 'z', "read %d", c);
            break;
        default:
            st = cm_vmo_set_size(v, 2 * size);
            break;
        }
        CHECK(st == CM_OK, "first use %d: %d", (int)((id + i) % 4), st);
        pthread_barrier_wait(&first_use_barrier);
        if (id == 0) {
            uint64_t got = library_file_size(v);
            CHECK(got == 2 * size, "file size after the first uses: %llu",
                  (unsigned long long)got);
            CHECK(cm_handle_close(v) == CM_OK, "close");
        }
    }
    return NULL;
}

static void test_tsan_first_uses_of_a_new_vmo_from_threads_all_see_its_whole_size(void **state)
{
    (void)state;
    assert_int_equal(pthread_barrier_init(&first_use_barrier, NULL, THREADS), 0);
    run_threads(THREADS, first_use_worker);
    pthread_barrier_destroy(&first_use_barrier);
}

/* ---- DMA: submit and fence wait from threads on one pool and device */

#define DMA_BUFS 8
static cm_handle_t dma_pool;
static _Atomic cm_dma_fence_t fences[SLOTS];

/* Waits a fence (submitted by any thread) and checks and releases its buffer. */
static void dma_finish(cm_dma_fence_t f, uint64_t doff)
{
    cm_dma_completion_t c;
    cm_status_t st = cm_dma_fence_wait(dma_pool, f, WAIT_NS, &c);
    if (!CHECK(st == CM_OK && c.status == CM_OK && c.bytes == CM_PAGE_SIZE,
               "fence wait %d, completion %d, %u bytes", st, c.status, c.bytes))
        return;
    uint8_t got[16];
    st = cm_dma_buffer_read(dma_pool, c.buffer, 0, got, sizeof(got));
    CHECK(st == CM_OK, "buffer read %d", st);
    for (size_t i = 0; i < sizeof(got) && st == CM_OK; i++)
        if (!CHECK(got[i] == dma_pattern(doff + i), "data at %llu + %zu",
                   (unsigned long long)doff, i))
            break;
    CHECK((st = cm_dma_buffer_release(dma_pool, c.buffer)) == CM_OK, "release %d", st);
}

/* Every buffer may be held by fences parked in `fences`: finish one of
 * them, so that the threads always make progress. */
static void finish_one_handed_off(void)
{
    for (uint32_t k = 0; k < SLOTS; k++) {
        cm_dma_fence_t f = atomic_exchange(&fences[k], CM_DMA_FENCE_INVALID);
        if (f != CM_DMA_FENCE_INVALID) {
            dma_finish(f, (uint64_t)k * CM_PAGE_SIZE);
            return;
        }
    }
    sched_yield();
}

static void *dma_worker(void *arg)
{
    uint64_t s = 0xd1b54a32d192ed03ull * (uint64_t)((intptr_t)arg + 1);
    for (int i = 0; i < DMA_ITERS; i++) {
        uint32_t r = rnd(&s);
        cm_dma_buffer_t b = CM_DMA_BUFFER_INVALID;
        cm_status_t st = CM_ERR_NO_RESOURCES;
        for (int tries = 0; st == CM_ERR_NO_RESOURCES && tries < MAX_RETRIES; tries++) {
            st = cm_dma_buffer_acquire(dma_pool, &b);
            if (st == CM_ERR_NO_RESOURCES)
                finish_one_handed_off();
        }
        if (!CHECK(st == CM_OK, "acquire %d", st))
            return NULL;
        /* The device offset is the fence's slot, so whoever waits knows
         * what the buffer must hold. */
        uint32_t k = r % SLOTS;
        uint64_t doff = (uint64_t)k * CM_PAGE_SIZE;
        cm_dma_op_t op = { CM_DMA_OP_READ, 0, CM_PAGE_SIZE, 0, doff };
        cm_dma_fence_t f = CM_DMA_FENCE_INVALID;
        st = cm_dma_submit(dma_pool, b, &op, &f);
        if (!CHECK(st == CM_OK, "submit %d", st)) {
            cm_dma_buffer_release(dma_pool, b);
            return NULL;
        }
        /* Half are waited by this thread, half handed to whichever thread
         * comes to the same slot next. */
        if (r & 0x10000) {
            f = atomic_exchange(&fences[k], f);
            if (f == CM_DMA_FENCE_INVALID)
                continue;
        }
        dma_finish(f, doff);
    }
    return NULL;
}

static void test_tsan_dma_submit_and_fence_wait_from_threads(void **state)
{
    (void)state;
    dma_pool = dma_file_pool(DMA_BUFS, CM_PAGE_SIZE, DMA_BUFS, CM_DMA_ATTACH_READ);
    run_threads(THREADS, dma_worker);
    for (int k = 0; k < SLOTS; k++) {
        cm_dma_fence_t f = atomic_exchange(&fences[k], CM_DMA_FENCE_INVALID);
        if (f != CM_DMA_FENCE_INVALID)
            dma_finish(f, (uint64_t)k * CM_PAGE_SIZE);
    }
    assert_no_errors();
    assert_status(cm_handle_close(dma_pool), CM_OK);
    assert_status(cm_host_dma_quarantine_wait(WAIT_NS), CM_OK);
}

/* ---- SharedBuffer: one producer thread, two consumer threads, one thread
 * reading get_info; both overflow policies. Every message's content is a
 * function of its seq; consumers check order, content and (BLOCK) no gap. */

#define SBUF_MESSAGES 20000u
static cm_handle_t sb_buf, sb_con[2];
static uint32_t sb_policy;
static atomic_int sb_done;

static uint8_t sb_byte(uint64_t seq, uint32_t i)
{
    return (uint8_t)(seq * 31u + i);
}

static void *sbuf_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    if (id == 0) {
        for (uint64_t s = 0; s < SBUF_MESSAGES; s++) {
            cm_sbuf_loan_t l;
            uint64_t got;
            cm_status_t st = cm_sbuf_loan(sb_buf, 0, WAIT_NS, &l);
            if (!CHECK(st == CM_OK, "loan %s", cm_status_name(st)))
                break;
            uint32_t len = (uint32_t)(s % 97);
            for (uint32_t i = 0; i < len; i++)
                ((uint8_t *)l.data)[i] = sb_byte(s, i);
            st = cm_sbuf_publish(sb_buf, l.id, len, &got);
            if (!CHECK(st == CM_OK && got == s, "publish %s", cm_status_name(st)))
                break;
        }
        atomic_store(&sb_done, 1);
    } else if (id == 1 || id == 2) {
        cm_handle_t con = sb_con[id - 1];
        uint64_t next = 0;
        while (next < SBUF_MESSAGES) {
            cm_sbuf_msg_t m;
            cm_status_t st = cm_sbuf_receive(con, (next & 1) ? CM_SBUF_BUSY_POLL : 0, WAIT_NS, &m);
            if (!CHECK(st == CM_OK, "receive %s", cm_status_name(st)))
                break;
            (void)CHECK(m.seq >= next && (sb_policy == CM_SBUF_DROP_OLDEST || m.seq == next) &&
                      m.seq - next == m.dropped && m.len == m.seq % 97,
                  "seq %llu expected %llu", (unsigned long long)m.seq, (unsigned long long)next);
            for (uint32_t i = 0; i < m.len; i++)
                if (((const uint8_t *)m.data)[i] != sb_byte(m.seq, i)) {
                    (void)CHECK(0, "content of %llu", (unsigned long long)m.seq);
                    break;
                }
            next = m.seq + 1;
            st = cm_sbuf_release(con, m.seq);
            (void)CHECK(st == CM_OK, "release %s", cm_status_name(st));
        }
    } else {
        while (!atomic_load(&sb_done)) {
            cm_sbuf_info_t info;
            (void)CHECK(cm_sbuf_get_info(sb_buf, &info) == CM_OK, "get_info");
            (void)CHECK(cm_sbuf_get_info(sb_con[0], &info) == CM_OK, "get_info consumer");
            sched_yield();
        }
    }
    return NULL;
}

/* Two threads receiving through one consumer handle: each message goes to
 * exactly one of them, in order per thread, none lost. */
static atomic_uint sb_shared_got;
static _Atomic uint64_t sb_shared_sum;

static void *sbuf_shared_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    if (id == 0) {
        /* Two messages past the count, one stop for each receiver. */
        for (uint64_t s = 0; s < SBUF_MESSAGES + 2; s++) {
            cm_sbuf_loan_t l;
            cm_status_t st = cm_sbuf_loan(sb_buf, 0, WAIT_NS, &l);
            if (!CHECK(st == CM_OK, "loan %s", cm_status_name(st)))
                break;
            st = cm_sbuf_publish(sb_buf, l.id, 0, NULL);
            if (!CHECK(st == CM_OK, "publish %s", cm_status_name(st)))
                break;
        }
        return NULL;
    }
    uint64_t last = 0;
    int first = 1;
    for (;;) {
        cm_sbuf_msg_t m;
        /* A lost wake-up is a TIMED_OUT here: both threads wait as long
         * as the stream lasts. */
        cm_status_t st = cm_sbuf_receive(sb_con[0], 0, WAIT_NS, &m);
        if (!CHECK(st == CM_OK, "shared receive %s", cm_status_name(st)))
            break;
        (void)CHECK(first || m.seq > last, "order %llu", (unsigned long long)m.seq);
        first = 0;
        last = m.seq;
        (void)CHECK(cm_sbuf_release(sb_con[0], m.seq) == CM_OK, "shared release");
        if (m.seq >= SBUF_MESSAGES)
            break;
        atomic_fetch_add(&sb_shared_sum, m.seq);
        atomic_fetch_add(&sb_shared_got, 1);
    }
    return NULL;
}

static void test_tsan_sbuf_two_threads_share_one_consumer(void **state)
{
    (void)state;
    cm_sbuf_config_t cfg = { 8, 128, 1, 4, 2, CM_SBUF_BLOCK, 0, 0 };
    sb_policy = CM_SBUF_BLOCK;
    atomic_store(&sb_done, 0);
    atomic_store(&sb_shared_got, 0);
    atomic_store(&sb_shared_sum, 0);
    assert_int_equal(cm_sbuf_create(&cfg, &sb_buf), CM_OK);
    assert_int_equal(cm_sbuf_consumer_create(sb_buf, CM_RIGHTS_SAME, &sb_con[0]), CM_OK);
    run_threads(3, sbuf_shared_worker);
    assert_int_equal(atomic_load(&sb_shared_got), SBUF_MESSAGES);
    assert_true(atomic_load(&sb_shared_sum) ==
                (uint64_t)SBUF_MESSAGES * (SBUF_MESSAGES - 1) / 2);
    assert_int_equal(cm_handle_close(sb_con[0]), CM_OK);
    assert_int_equal(cm_handle_close(sb_buf), CM_OK);
}

static void sbuf_stress(uint32_t policy)
{
    cm_sbuf_config_t cfg = { 8, 128, 2, 2, 2, policy, 0, 0 };
    sb_policy = policy;
    atomic_store(&sb_done, 0);
    assert_int_equal(cm_sbuf_create(&cfg, &sb_buf), CM_OK);
    assert_int_equal(cm_sbuf_consumer_create(sb_buf, CM_RIGHTS_SAME, &sb_con[0]), CM_OK);
    assert_int_equal(cm_sbuf_consumer_create(sb_buf, CM_RIGHTS_SAME, &sb_con[1]), CM_OK);
    run_threads(4, sbuf_worker);
    assert_int_equal(cm_handle_close(sb_con[0]), CM_OK);
    assert_int_equal(cm_handle_close(sb_con[1]), CM_OK);
    assert_int_equal(cm_handle_close(sb_buf), CM_OK);
}

static void test_tsan_sbuf_block_producer_and_two_consumers(void **state)
{
    (void)state;
    sbuf_stress(CM_SBUF_BLOCK);
}

static void test_tsan_sbuf_drop_oldest_producer_and_two_consumers(void **state)
{
    (void)state;
    sbuf_stress(CM_SBUF_DROP_OLDEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_tsan_handles_create_dup_replace_close_from_threads),
        LEAK_TEST(test_tsan_waits_against_duplicate_replace_close_from_threads),
        LEAK_TEST(test_tsan_channel_writers_and_readers_pass_handles),
        LEAK_TEST(test_tsan_map_unmap_from_threads),
        LEAK_TEST(test_tsan_set_size_against_map_from_threads),
        LEAK_TEST(test_tsan_first_uses_of_a_new_vmo_from_threads_all_see_its_whole_size),
        LEAK_TEST(test_tsan_accept_and_connect_from_threads),
        LEAK_TEST(test_tsan_dma_submit_and_fence_wait_from_threads),
        LEAK_TEST(test_tsan_sbuf_block_producer_and_two_consumers),
        LEAK_TEST(test_tsan_sbuf_drop_oldest_producer_and_two_consumers),
        LEAK_TEST(test_tsan_sbuf_two_threads_share_one_consumer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
