/* SPDX-License-Identifier: MIT */
#include "fmt.h"

#include <stdint.h>

struct fmt_spec {
    int width;
    char pad;
    int lng; /* 0 int, 1 long, 2 long long, 3 size_t */
};

static int put_str(cm__fmt_put_fn put, void *ctx, const char *s, int width, char pad)
{
    int n = 0, len = 0;
    if (s == 0)
        s = "(null)";
    while (s[len] != '\0')
        len++;
    for (int i = len; i < width; i++, n++)
        put(ctx, pad);
    for (int i = 0; i < len; i++, n++)
        put(ctx, s[i]);
    return n;
}

static int put_num(cm__fmt_put_fn put, void *ctx, uint64_t v, int neg, unsigned base,
                   int upper, const struct fmt_spec *sp)
{
    /* 64-bit value in base 8 needs 22 digits; 24 leaves room for the sign. */
    char tmp[24];
    int i = 0, n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[i++] = digits[v % base];
        v /= base;
    } while (v != 0 && i < (int)sizeof(tmp) - 1);
    int len = i + (neg ? 1 : 0);
    if (neg && sp->pad == '0') {
        put(ctx, '-');
        n++;
    }
    for (int w = len; w < sp->width; w++, n++)
        put(ctx, sp->pad);
    if (neg && sp->pad != '0') {
        put(ctx, '-');
        n++;
    }
    while (i > 0) {
        put(ctx, tmp[--i]);
        n++;
    }
    return n;
}

static uint64_t take_unsigned(va_list *ap, int lng)
{
    switch (lng) {
    case 0: return va_arg(*ap, unsigned int);
    case 1: return va_arg(*ap, unsigned long);
    case 2: return va_arg(*ap, unsigned long long);
    default: return va_arg(*ap, size_t);
    }
}

static int64_t take_signed(va_list *ap, int lng)
{
    switch (lng) {
    case 0: return va_arg(*ap, int);
    case 1: return va_arg(*ap, long);
    case 2: return va_arg(*ap, long long);
    default: return (int64_t)va_arg(*ap, size_t);
    }
}

int cm__vfmt(cm__fmt_put_fn put, void *ctx, const char *fmt, va_list ap_in)
{
    va_list ap;
    int n = 0;
    va_copy(ap, ap_in);
    for (const char *p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            put(ctx, *p);
            n++;
            continue;
        }
        struct fmt_spec sp = { 0, ' ', 0 };
        p++;
        if (*p == '0') {
            sp.pad = '0';
            p++;
        }
        while (*p >= '0' && *p <= '9')
            sp.width = sp.width * 10 + (*p++ - '0');
        if (*p == 'l') {
            sp.lng = 1;
            p++;
            if (*p == 'l') {
                sp.lng = 2;
                p++;
            }
        } else if (*p == 'z') {
            sp.lng = 3;
            p++;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = take_signed(&ap, sp.lng);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            n += put_num(put, ctx, mag, v < 0, 10, 0, &sp);
            break;
        }
        case 'u': n += put_num(put, ctx, take_unsigned(&ap, sp.lng), 0, 10, 0, &sp); break;
        case 'x': n += put_num(put, ctx, take_unsigned(&ap, sp.lng), 0, 16, 0, &sp); break;
        case 'X': n += put_num(put, ctx, take_unsigned(&ap, sp.lng), 0, 16, 1, &sp); break;
        case 'p': {
            put(ctx, '0');
            put(ctx, 'x');
            n += 2;
            n += put_num(put, ctx, (uint64_t)(uintptr_t)va_arg(ap, void *), 0, 16, 0, &sp);
            break;
        }
        case 's': n += put_str(put, ctx, va_arg(ap, const char *), sp.width, ' '); break;
        case 'c': put(ctx, (char)va_arg(ap, int)); n++; break;
        case '%': put(ctx, '%'); n++; break;
        case '\0': p--; break; /* a trailing '%' prints nothing */
        default:
            put(ctx, '%');
            put(ctx, *p);
            n += 2;
            break;
        }
    }
    va_end(ap);
    return n;
}

struct sn_ctx {
    char *buf;
    size_t cap;
    size_t len;
};

static void sn_put(void *ctx, char c)
{
    struct sn_ctx *s = ctx;
    if (s->len + 1 < s->cap)
        s->buf[s->len] = c;
    s->len++;
}

int cm__vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
    struct sn_ctx s = { buf, cap, 0 };
    int n = cm__vfmt(sn_put, &s, fmt, ap);
    if (cap > 0)
        buf[s.len < cap ? s.len : cap - 1] = '\0';
    return n;
}
