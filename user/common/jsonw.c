// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON written straight into a strbuf; see jsonw.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

void jw_str(struct strbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	sb_char(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = NULL;
		char u[7];

		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '/':
			esc = "\\/";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\f':
			esc = "\\f";
			break;
		default:
			if (c >= 0x20)
				continue;
			snprintf(u, sizeof(u), "\\u00%c%c", hex[c >> 4], hex[c & 15]);
			esc = u;
		}
		sb_mem(b, run, (size_t)(s - run));
		sb_str(b, esc);
		run = s + 1;
	}
	sb_mem(b, run, (size_t)(s - run));
	sb_char(b, '"');
}

void jw_key(struct strbuf *b, int *n, const char *k)
{
	if ((*n)++)
		sb_char(b, ',');
	jw_str(b, k);
	sb_char(b, ':');
}

void jw_kstr(struct strbuf *b, int *n, const char *k, const char *v)
{
	jw_key(b, n, k);
	jw_str(b, v);
}

void jw_kint(struct strbuf *b, int *n, const char *k, long long v)
{
	jw_key(b, n, k);
	if (v < 0) {
		sb_char(b, '-');
		sb_u64(b, (__u64)0 - (__u64)v);
	} else {
		sb_u64(b, (__u64)v);
	}
}

void jw_kbool(struct strbuf *b, int *n, const char *k, int v)
{
	jw_key(b, n, k);
	sb_str(b, v ? "true" : "false");
}

void jw_kdouble(struct strbuf *b, int *n, const char *k, double v)
{
	char d[40];

	jw_key(b, n, k);
	if (isnan(v)) {
		sb_str(b, "NaN");
		return;
	}
	if (isinf(v)) {
		sb_str(b, v > 0 ? "Infinity" : "-Infinity");
		return;
	}
	snprintf(d, sizeof(d), "%.17g", v);
	sb_str(b, d);
	if (!strpbrk(d, ".e"))
		sb_str(b, ".0");
}

static int raw_out(json_object *o, struct printbuf *pb, int level, int flags)
{
	const struct strbuf *b = json_object_get_userdata(o);

	(void)level;
	(void)flags;
	return printbuf_memappend(pb, b->p, (int)b->len);
}

static void raw_free(json_object *o, void *userdata)
{
	struct strbuf *b = userdata;

	(void)o;
	sb_free(b);
	free(b);
}

json_object *jw_raw(struct strbuf *b)
{
	struct strbuf *own = malloc(sizeof(*own));
	json_object *o = json_object_new_array();

	if (!own || !o || b->oom) {
		free(own);
		json_object_put(o);
		sb_free(b);
		return NULL;
	}
	*own = *b;
	*b = (struct strbuf){0};
	json_object_set_serializer(o, raw_out, own, raw_free);
	return o;
}
