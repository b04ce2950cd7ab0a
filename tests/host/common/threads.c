/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "threads.h"

static void *thread_main(void *arg)
{
    struct test_thread *t = arg;
    atomic_store(&t->tid, (int)gettid());
    t->fn(t->arg);
    return NULL;
}

void thread_start(struct test_thread *t, void (*fn)(void *), void *arg)
{
    atomic_init(&t->tid, 0);
    t->fn = fn;
    t->arg = arg;
    assert_int_equal(pthread_create(&t->thread, NULL, thread_main, t), 0);
}

void thread_join(struct test_thread *t)
{
    assert_int_equal(pthread_join(t->thread, NULL), 0);
}

void nap_ms(long ms)
{
    struct timespec ts = { 0, ms * 1000000 };
    nanosleep(&ts, NULL);
}

/* The first line of /proc/self/task/TID/NAME into buf; "" if unreadable. */
static void read_task_file(int tid, const char *name, char *buf, size_t size)
{
    char path[64];
    size_t n = 0;
    snprintf(path, sizeof(path), "/proc/self/task/%d/%s", tid, name);
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        n = fread(buf, 1, size - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

/* Is the stat line in buf that of a task in state S? */
static int stat_sleeping(const char *buf)
{
    const char *paren = strrchr(buf, ')');
    return paren != NULL && paren[1] == ' ' && paren[2] == 'S';
}

int task_sleeping(int tid)
{
    char buf[256];
    read_task_file(tid, "stat", buf, sizeof(buf));
    return stat_sleeping(buf);
}

/* Asleep where the library sleeps: poll/epoll, or futex_waitv (a
 * SharedBuffer receive; not a plain futex, which a mutex also uses). */
static int task_in_poll(int tid)
{
    char wchan[128];
    read_task_file(tid, "wchan", wchan, sizeof(wchan));
    return strstr(wchan, "poll") != NULL || strstr(wchan, "futex_wait_multiple") != NULL;
}

int task_in_futex_waitv(int tid)
{
    char wchan[128];
    read_task_file(tid, "wchan", wchan, sizeof(wchan));
    return strstr(wchan, "futex_wait_multiple") != NULL;
}


/* Polls pred on t's tid every millisecond, about 5 s at most. */
static void await_task(struct test_thread *t, int (*pred)(int tid))
{
    for (int i = 0; i < 5000; i++) {
        int tid = atomic_load(&t->tid);
        if (tid != 0 && pred(tid))
            return;
        nap_ms(1);
    }
}

void await_blocked(struct test_thread *t)
{
    await_task(t, task_in_poll);
}

void await_sleeping(struct test_thread *t)
{
    await_task(t, task_sleeping);
}

void await_futex_waitv(struct test_thread *t)
{
    await_task(t, task_in_futex_waitv);
}
