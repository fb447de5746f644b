// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A growing text buffer with its own integer formatting; see strbuf.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "strbuf.h"

int sb_reserve(struct strbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->oom)
		return -ENOMEM;
	if (b->len + n <= b->cap)
		return 0;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -ENOMEM;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void sb_reset(struct strbuf *b)
{
	b->len = 0;
	b->oom = 0;
}

void sb_free(struct strbuf *b)
{
	free(b->p);
	*b = (struct strbuf){0};
}

void sb_mem(struct strbuf *b, const void *s, size_t n)
{
	if (sb_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void sb_u64(struct strbuf *b, __u64 v)
{
	char d[XLB_U64_DIGITS], *p = xlb_u64_digits(v, d + sizeof(d));

	sb_mem(b, p, (size_t)(d + sizeof(d) - p));
}

void sb_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n < b->cap - b->len) {
		if (n > 0)
			b->len += (size_t)n;
		return;
	}
	if (sb_reserve(b, (size_t)n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}
