/* SPDX-License-Identifier: MIT */
/* shell: the interactive console `make qemu` boots into (init started with
 * the command line "shell"; docs/kernel.md "The shell"). It reads lines from
 * the console through the console-read syscall, echoes and edits them
 * itself (the terminal is raw), and runs one command per line: help, ls,
 * run NAME [ARGS], counters, ledger, poweroff.
 *
 * Input is untrusted: a line longer than SHELL_LINE_MAX - 1 bytes, a byte
 * that is not printable ASCII, too many words, an unknown command or
 * program each print one "error:" line naming the cause and the status,
 * and the shell reads the next line. Ctrl-D on an empty line ends the
 * shell like poweroff (there is no end of input on a UART: a closed pipe
 * just stops sending). */
#include <stdio.h>
#include <string.h>

#include "cmk.h"
#include "user_progs.h" /* generated from USER_PROGS (mk/kernel.mk) */

/* A command line, NUL included: commands are short, and a bounded line is
 * what makes "too long" a typed error rather than an overflow. */
#define SHELL_LINE_MAX 128u
#define SHELL_MAX_WORDS CMK_SPAWN_MAX_ARGS

#define KEY_CTRL_C 0x03
#define KEY_CTRL_D 0x04
#define KEY_BACKSPACE 0x08
#define KEY_CTRL_U 0x15
#define KEY_DELETE 0x7f

static const char *const programs[] = { CMK_USER_PROG_NAMES };

/* Console bytes read ahead of the line editor, and echo not yet written. */
static struct {
    char in[CMK_CONSOLE_READ_MAX];
    int64_t in_len, in_pos;
    char out[CMK_CONSOLE_READ_MAX];
    uint32_t out_len;
} con;

static void echo_flush(void)
{
    if (con.out_len > 0)
        cmk_debug_write(con.out, con.out_len);
    con.out_len = 0;
}

static void echo(const char *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (con.out_len == sizeof(con.out))
            echo_flush();
        con.out[con.out_len++] = s[i];
    }
}

/* The next console byte (0..255), or a negative status. Echo is flushed
 * before waiting, so what was typed is on screen while nothing comes. */
static int next_byte(void)
{
    if (con.in_pos == con.in_len) {
        echo_flush();
        int64_t n = cmk_console_read(con.in, sizeof(con.in), CM_TIMEOUT_INFINITE);
        if (n <= 0)
            return n < 0 ? (int)n : CM_ERR_BAD_STATE;
        con.in_len = n;
        con.in_pos = 0;
    }
    return (uint8_t)con.in[con.in_pos++];
}

enum line_result { LINE_OK, LINE_TOO_LONG, LINE_NOT_PRINTABLE, LINE_CANCELLED, LINE_EOF };

struct line {
    char text[SHELL_LINE_MAX];
    uint32_t len;
    uint8_t bad_byte;   /* LINE_NOT_PRINTABLE: the first such byte */
    uint32_t bad_col;   /* and its column, from 1                  */
};

/* Reads one line: Enter is '\r' (a terminal) or '\n' (a pipe), and "\r\n"
 * counts once. An error is sticky until the end of its line, so the rest of
 * a bad line is never taken for a command. Returns a line_result, or a
 * negative status if the console cannot be read. */
static int read_line(struct line *l)
{
    static int after_cr;
    enum line_result r = LINE_OK;
    l->len = 0;
    for (;;) {
        int c = next_byte();
        if (c < 0)
            return c;
        if (c == '\n' && after_cr) {
            after_cr = 0;
            continue;
        }
        after_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            echo("\n", 1);
            echo_flush();
            l->text[l->len] = '\0';
            return r;
        }
        if (c == KEY_CTRL_C) {
            echo("^C\n", 3);
            echo_flush();
            return LINE_CANCELLED;
        }
        if (c == KEY_CTRL_D && l->len == 0 && r == LINE_OK) {
            echo("^D\n", 3);
            echo_flush();
            return LINE_EOF;
        }
        if (r != LINE_OK)
            continue;
        if (c == '\t')
            c = ' ';
        if (c == KEY_DELETE || c == KEY_BACKSPACE) {
            if (l->len > 0) {
                l->len--;
                echo("\b \b", 3);
            }
        } else if (c == KEY_CTRL_U) {
            for (; l->len > 0; l->len--)
                echo("\b \b", 3);
        } else if (c < 0x20 || c > 0x7e) {
            r = LINE_NOT_PRINTABLE;
            l->bad_byte = (uint8_t)c;
            l->bad_col = l->len + 1;
            echo("?", 1);
        } else if (l->len + 1 >= SHELL_LINE_MAX) {
            r = LINE_TOO_LONG;
        } else {
            l->text[l->len++] = (char)c;
            echo((const char *)&l->text[l->len - 1], 1);
        }
    }
}

/* Splits text in place at spaces; returns the word count, or -1 past max. */
static int split_words(char *text, char **words, int max)
{
    int n = 0;
    char *p = text;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return n;
        if (n == max)
            return -1;
        words[n++] = p;
        while (*p != ' ' && *p != '\0')
            p++;
        if (*p == ' ')
            *p++ = '\0';
    }
}

static void print_error(const char *what, cm_status_t st)
{
    printf("error: %s (%s)\n", what, cm_status_name(st));
}

static void cmd_help(void)
{
    printf("commands:\n"
           "  help               this list\n"
           "  ls                 the programs built into the kernel image\n"
           "  run NAME [ARGS]    start NAME with ARGS, wait for it, print how it ended\n"
           "  counters           kernel counters: free frames, live objects, processes, messages\n"
           "  ledger             this shell's resource ledger (used / limit per kind)\n"
           "  poweroff           end the shell and power QEMU off (Ctrl-D on an empty line too)\n"
           "example: run vmo_share --size 4194304   (its 64 MiB default is more than\n"
           "         QEMU's 128 MiB leaves each of its two processes: QUOTA_COMMIT)\n"
           "keys: Backspace, Ctrl-U (erase line), Ctrl-C (drop line); Ctrl-A X quits QEMU\n");
}

static void cmd_ls(void)
{
    for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
        const char *note = "";
        if (strcmp(programs[i], "init") == 0)
            note = "  (no arguments: the selftests and the conformance suite)";
        else if (strcmp(programs[i], "shell") == 0)
            note = "  (this shell)";
        printf("%s%s\n", programs[i], note);
    }
}

static void cmd_run(char **words, int n)
{
    if (n < 2) {
        print_error("usage: run NAME [ARGS]", CM_ERR_INVALID_ARGS);
        return;
    }
    if (strcmp(words[1], "shell") == 0) {
        /* Two readers of one console would split the keystrokes. */
        print_error("run: the shell is already running on this console", CM_ERR_BAD_STATE);
        return;
    }
    /* The child gets all of the shell's room: the shell only waits. */
    cmk_quota_t quota;
    cm_status_t st = cmk_quota_share(&quota, 1);
    if (st != CM_OK) {
        print_error("run: no room left for a child", st);
        return;
    }
    int32_t pid = cmk_spawn_ex(words[1], (const char *const *)&words[2], (uint32_t)(n - 2), NULL,
                               0, CMK_ROLE_MAIN, &quota, NULL);
    if (pid <= 0) {
        char what[SHELL_LINE_MAX + 48];
        snprintf(what, sizeof(what), "run: cannot start '%s'%s", words[1],
                 pid == CM_ERR_NOT_FOUND ? "; `ls` lists the programs" : "");
        print_error(what, (cm_status_t)pid);
        return;
    }
    cmk_exit_info_t info;
    memset(&info, 0, sizeof(info));
    st = cmk_wait(pid, &info);
    if (st != CM_OK)
        print_error("run: wait failed", st);
    else if (info.reason == CMK_EXIT_NORMAL)
        printf("%s: exited with code %d\n", words[1], info.code);
    else if (info.reason == CMK_EXIT_FAULTED)
        printf("%s: killed by a fault (scause %d, address 0x%lx)\n", words[1], info.code,
               (unsigned long)info.fault_va);
    else
        printf("%s: killed\n", words[1]);
}

static void cmd_counters(void)
{
    cmk_counters_t c;
    cm_status_t st = cmk_counters(&c);
    if (st != CM_OK) {
        print_error("counters", st);
        return;
    }
    printf("counters: frames %lu objects %lu procs %lu msgs %lu\n",
           (unsigned long)c.free_frames, (unsigned long)c.live_objects,
           (unsigned long)c.live_procs, (unsigned long)c.live_msgs);
}

static void cmd_ledger(void)
{
    cm_ledger_info_t li;
    cm_status_t st = cm_ledger_get(&li);
    if (st != CM_OK) {
        print_error("ledger", st);
        return;
    }
    for (uint32_t k = 0; k < li.kinds && k < CM_LEDGER_KIND_COUNT; k++) {
        const cm_ledger_entry_t *e = &li.entry[k];
        printf("%s: used %lu limit %lu peak %lu%s\n",
               cm_ledger_kind_name((cm_ledger_kind_t)k), (unsigned long)e->used,
               (unsigned long)e->limit, (unsigned long)e->peak,
               (e->flags & CM_LEDGER_ENFORCED) ? "" : " (not enforced)");
    }
}

/* Runs one line; returns 1 when the shell should end. */
static int run_line(char *text)
{
    char *words[SHELL_MAX_WORDS];
    int n = split_words(text, words, (int)SHELL_MAX_WORDS);
    if (n < 0) {
        char what[64];
        snprintf(what, sizeof(what), "more than %u words on a line", (unsigned)SHELL_MAX_WORDS);
        print_error(what, CM_ERR_OUT_OF_RANGE);
        return 0;
    }
    if (n == 0)
        return 0;
    if (strcmp(words[0], "help") == 0)
        cmd_help();
    else if (strcmp(words[0], "ls") == 0)
        cmd_ls();
    else if (strcmp(words[0], "run") == 0)
        cmd_run(words, n);
    else if (strcmp(words[0], "counters") == 0)
        cmd_counters();
    else if (strcmp(words[0], "ledger") == 0)
        cmd_ledger();
    else if (strcmp(words[0], "poweroff") == 0)
        return 1;
    else {
        char what[SHELL_LINE_MAX + 40];
        snprintf(what, sizeof(what), "unknown command '%s'; `help` lists them", words[0]);
        print_error(what, CM_ERR_NOT_FOUND);
    }
    return 0;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("capmem shell: `help` lists the commands, `poweroff` ends the run\n");
    struct line l;
    for (;;) {
        cmk_debug_write("capmem> ", 8);
        int r = read_line(&l);
        if (r < 0) {
            print_error("cannot read the console", (cm_status_t)r);
            return 1;
        }
        if (r == LINE_EOF)
            break;
        if (r == LINE_TOO_LONG) {
            char what[64];
            snprintf(what, sizeof(what), "line longer than %u bytes, ignored",
                     (unsigned)SHELL_LINE_MAX - 1);
            print_error(what, CM_ERR_OUT_OF_RANGE);
        } else if (r == LINE_NOT_PRINTABLE) {
            char what[96];
            snprintf(what, sizeof(what),
                     "byte 0x%02x at column %u is not printable ASCII, line ignored",
                     l.bad_byte, (unsigned)l.bad_col);
            print_error(what, CM_ERR_INVALID_ARGS);
        } else if (r == LINE_OK && run_line(l.text)) {
            break;
        }
    }
    printf("capmem shell: bye\n");
    return 0;
}
