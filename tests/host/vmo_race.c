/* SPDX-License-Identifier: MIT */
/* A sender that shrinks and seals a VMO while the receiver admits it
 * (issue 7, item 1). Rule: facts are read only after the seals that freeze
 * them, and a mapping never extends past what the seals guarantee.
 *
 * Two tests. The deterministic one puts the sender's shrink+seal at the
 * worst moment, just before the receiver's first F_GET_SEALS, by
 * interposing fcntl in this program (the library is linked statically, so
 * its calls come here): anything the receiver read before the seals is
 * stale. The forked one races a real second process for a bounded number of
 * rounds. In both, the receiver runs in a child, so a SIGBUS is a failed
 * test, not a dead test program. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/child.h"
#include "common/leakcheck.h"
#include "common/memfd.h"
#include "common/rawpeer.h"

#define WAIT_NS (10ll * 1000000000)
#define PAGE CM_PAGE_SIZE
/* What the raw sender claims for the VMO it sends. */
#define RACE_RIGHTS (CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_MAP)
#define IMMUTABLE_SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE)

/* ---- the interposed fcntl ---- */

static int hook_fd = -1; /* the sender's fd; armed while >= 0, fires once */

int fcntl(int fd, int cmd, ...);

int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long); /* as glibc does: every command's argument fits a long */
    va_end(ap);
    if (cmd == F_GET_SEALS && hook_fd >= 0) {
        int s = hook_fd;
        hook_fd = -1;
        if (ftruncate(s, PAGE) != 0 || syscall(SYS_fcntl, s, F_ADD_SEALS, IMMUTABLE_SEALS) != 0)
            _exit(90); /* the adversary itself failed: not the code under test */
    }
    return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

/* ---- helpers ---- */

/* Maps what get_info promises and reads all of it: SIGBUS if the promise
 * (IMMUTABLE, this size) is older than the seals. Returns 0, or a code. */
static int check_promise(cm_handle_t v, int *was_immutable)
{
    cm_vmo_info_t info;
    void *p;
    if (cm_vmo_get_info(v, &info) != CM_OK)
        return 20;
    *was_immutable = (info.flags & CM_VMO_INFO_IMMUTABLE) != 0;
    if (!*was_immutable || info.size == 0)
        return 0;
    if (cm_vmo_map(v, 0, info.size, CM_MAP_READ, &p) != CM_OK)
        return 21;
    touch(p, info.size);
    cm_vmo_unmap(p, info.size);
    return 0;
}

/* ---- deterministic: shrink+seal just before the receiver reads seals ---- */

static int receive_with_adversary(void *unused)
{
    (void)unused;
    cm_handle_t ch, v;
    char buf[8];
    uint32_t nb, nh;
    int immutable = 0;
    int raw = raw_connect(&ch);
    int fd = memfd_create("race", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (raw < 0 || fd < 0 || ftruncate(fd, 4 * PAGE) != 0 || pwrite(fd, "z", 1, 3 * PAGE) != 1)
        return 2;
    if (raw_send(raw, fd, CM_OBJ_VMO, RACE_RIGHTS) != 0)
        return 3;
    hook_fd = fd; /* the sender strikes at the receiver's first F_GET_SEALS */
    if (cm_channel_read(ch, buf, sizeof(buf), &nb, &v, 1, &nh) != CM_OK || nh != 1)
        return 4;
    if (hook_fd >= 0)
        return 5; /* the receive never read the seals */
    int rc = check_promise(v, &immutable);
    if (rc == 0 && !immutable)
        rc = 6; /* sealed IMMUTABLE before the receiver looked: must say so */
    uint64_t size = 0;
    if (rc == 0 && (cm_vmo_get_size(v, &size) != CM_OK || size != PAGE))
        rc = 7;
    cm_handle_close(v);
    cm_handle_close(ch);
    close(raw);
    close(fd);
    return rc;
}

static void test_received_size_fixed_by_seals_not_fstat(void **state)
{
    (void)state;
    assert_child_ok(in_child(receive_with_adversary, NULL));
}

/* Same adversary against cm_host_vmo_from_fd (the other admission path). */
static int from_fd_with_adversary(void *unused)
{
    (void)unused;
    cm_handle_t v;
    int immutable = 0;
    int fd = memfd_create("race", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, 4 * PAGE) != 0)
        return 2;
    int given = dup(fd);
    hook_fd = fd;
    if (cm_host_vmo_from_fd(given, CM_RIGHTS_SAME, &v) != CM_OK)
        return 3;
    int rc = check_promise(v, &immutable);
    if (rc == 0 && !immutable)
        rc = 6;
    cm_handle_close(v);
    close(fd);
    return rc;
}

static void test_from_fd_size_fixed_by_seals_not_fstat(void **state)
{
    (void)state;
    assert_child_ok(in_child(from_fd_with_adversary, NULL));
}

/* ---- forked: a real sender racing shrink+seal against receive ---- */

#define RACE_ROUNDS 2000

/* Sender: sends a 4-page VMO, then after a varying delay shrinks it to one
 * page and seals it IMMUTABLE, and waits for the receiver's ack. */
static int race_sender(int sock)
{
    char ack;
    for (int i = 0; i < RACE_ROUNDS; i++) {
        int fd = memfd_create("race", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0 || ftruncate(fd, 4 * PAGE) != 0 ||
            raw_send(sock, fd, CM_OBJ_VMO, RACE_RIGHTS) != 0)
            return 2;
        for (volatile int k = 0; k < (i % 64) * 50; k++)
            ;
        (void)!ftruncate(fd, PAGE); /* may fail: the receiver sealed SHRINK */
        (void)!syscall(SYS_fcntl, fd, F_ADD_SEALS, IMMUTABLE_SEALS);
        close(fd);
        if (recv(sock, &ack, 1, 0) != 1)
            return 3;
    }
    return 0;
}

static int race_receiver(void *unused)
{
    (void)unused;
    cm_handle_t ch;
    int raw = raw_connect(&ch);
    if (raw < 0)
        return 2;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(race_sender(raw));
    int rc = 0, immutable = 0;
    for (int i = 0; i < RACE_ROUNDS && rc == 0; i++) {
        cm_handle_t v;
        char buf[8];
        uint32_t nb, nh;
        if (cm_channel_wait_readable(ch, WAIT_NS) != CM_OK ||
            cm_channel_read(ch, buf, sizeof(buf), &nb, &v, 1, &nh) != CM_OK || nh != 1) {
            rc = 4;
            break;
        }
        rc = check_promise(v, &immutable);
        cm_handle_close(v);
        if (rc == 0 && cm_channel_write(ch, "k", 1, NULL, 0) != CM_OK)
            rc = 5;
    }
    int status = 0;
    if (rc != 0)
        kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        rc = 8;
    cm_handle_close(ch);
    close(raw);
    return rc;
}

static void test_receive_racing_shrink_and_seal_never_sigbus(void **state)
{
    (void)state;
    assert_child_ok(in_child_alarm(race_receiver, NULL, 120));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_received_size_fixed_by_seals_not_fstat),
        LEAK_TEST(test_from_fd_size_fixed_by_seals_not_fstat),
        LEAK_TEST(test_receive_racing_shrink_and_seal_never_sigbus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
