/* SPDX-License-Identifier: MIT */
/* UART console (ns16550a at UART0_BASE, polled) and the sifive_test power
 * device. Input is polled too (console_read_avail, behind the console-read
 * syscall that the shell uses): no UART interrupt is ever enabled. */
#include "console.h"

#include <stdarg.h>
#include <stdint.h>

#include "fmt.h"
#include "memlayout.h"

#define UART_RBR 0
#define UART_THR 0
#define UART_IER 1
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LSR 5
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_IIR_FIFO_ON 0xc0
#define UART_FCR_ENABLE 0x01

static volatile uint8_t *const uart = (volatile uint8_t *)UART0_BASE;

void console_init(void)
{
    uart[UART_IER] = 0; /* polled: no UART interrupts */
    /* A 16-byte receive FIFO, so pasted or piped input waits in the UART
     * between two polls. OpenSBI normally enabled it already; turning it
     * on again would be harmless but turning it on from off flushes what
     * arrived meanwhile, so only then. */
    if ((uart[UART_IIR] & UART_IIR_FIFO_ON) != UART_IIR_FIFO_ON)
        uart[UART_FCR] = UART_FCR_ENABLE;
}

size_t console_read_avail(char *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap && (uart[UART_LSR] & UART_LSR_DR) != 0)
        buf[n++] = (char)uart[UART_RBR];
    return n;
}

static void uart_putc(char c)
{
    while ((uart[UART_LSR] & UART_LSR_THRE) == 0)
        ;
    uart[UART_THR] = (uint8_t)c;
}

static void put_char(void *ctx, char c)
{
    (void)ctx;
    /* CRLF so the interactive terminal does not staircase. */
    if (c == '\n')
        uart_putc('\r');
    uart_putc(c);
}

void console_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        put_char(0, s[i]);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cm__vfmt(put_char, 0, fmt, ap);
    va_end(ap);
}

void poweroff(int pass, unsigned code)
{
    volatile uint32_t *test = (volatile uint32_t *)SIFIVE_TEST_BASE;
    if (code == 0 || code > 0xffffu)
        code = 1;
    *test = pass ? SIFIVE_TEST_PASS : ((code << 16) | SIFIVE_TEST_FAIL);
    for (;;)
        __asm__ volatile("wfi");
}

void panic(const char *fmt, ...)
{
    va_list ap;
    kprintf("\nKERNEL PANIC: ");
    va_start(ap, fmt);
    cm__vfmt(put_char, 0, fmt, ap);
    va_end(ap);
    kprintf("\n");
    poweroff(0, 99);
}
