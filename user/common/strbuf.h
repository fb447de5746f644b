/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A growing text buffer with its own integer formatting, for output of many
 * short lines (a /metrics scrape is 130,000 of them): appends are memcpy and
 * a digit loop, not a printf parse each; the buffer is kept and reused, so a
 * steady caller allocates nothing. An append that cannot grow the buffer
 * sets oom and is dropped (check it once at the end).
 */
#ifndef XLB_STRBUF_H
#define XLB_STRBUF_H

#include <stddef.h>
#include <string.h>
#include <linux/types.h>

struct strbuf {
	char *p;
	size_t len, cap;
	int oom;
};

/* Room for n more bytes: 0, or -ENOMEM (and oom set). */
int sb_reserve(struct strbuf *b, size_t n);
/* Empty it, keeping the memory. */
void sb_reset(struct strbuf *b);
void sb_free(struct strbuf *b);

void sb_mem(struct strbuf *b, const void *s, size_t n);
/* v in decimal, as printf's %llu writes it. */
void sb_u64(struct strbuf *b, __u64 v);

/* v in decimal, written backwards to end from its last byte (20 bytes at
 * most: 2^64 - 1): where the digits start. For writers that keep their own
 * cursor (metrics_text.c) and for sb_u64(). */
#define XLB_U64_DIGITS 20
static inline char *xlb_u64_digits(__u64 v, char *end)
{
	char *p = end;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}
/* printf, for what is rare (floats, one-off lines). */
void sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void sb_str(struct strbuf *b, const char *s)
{
	sb_mem(b, s, strlen(s));
}

static inline void sb_char(struct strbuf *b, char c)
{
	if (b->len < b->cap || !sb_reserve(b, 1))
		b->p[b->len++] = c;
}

#endif /* XLB_STRBUF_H */
