// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The metrics text buffer: integers as printf writes them, growth, reuse. */
#include <stdio.h>
#include <stdlib.h>

#include "strbuf.h"
#include "test_unit.h"

static int t_strbuf_u64_as_printf(void)
{
	static const __u64 v[] = {0,
				  1,
				  9,
				  10,
				  99,
				  100,
				  4294967295u,
				  4294967296,
				  1000000000000000000ull,
				  9999999999999999999ull,
				  18446744073709551615ull};
	struct strbuf b = {0};
	char want[64];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int n = snprintf(want, sizeof(want), "%llu", (unsigned long long)v[i]);

		sb_reset(&b);
		sb_u64(&b, v[i]);
		ASSERT_MEM(b.p, b.len, want, (size_t)n, want);
	}
	sb_free(&b);
	return 0;
}

static int t_strbuf_grows_and_is_reused(void)
{
	struct strbuf b = {0};
	char *want = malloc(400000), *first;
	size_t n = 0, cap;

	ASSERT_TRUE(want != NULL, "malloc");
	/* lines of mixed appends past several doublings, against snprintf */
	for (unsigned i = 0; i < 10000; i++) {
		sb_str(&b, "xlb_x{vip=\"");
		sb_u64(&b, i);
		sb_char(&b, '"');
		sb_printf(&b, "} %.3f\n", i / 8.0);
		n += (size_t)snprintf(want + n, 400000 - n, "xlb_x{vip=\"%u\"} %.3f\n", i, i / 8.0);
	}
	ASSERT_EQ(b.oom, 0, "no allocation failed");
	ASSERT_MEM(b.p, b.len, want, n, "what was appended");
	/* reset keeps the memory: the same output again needs no realloc */
	first = b.p;
	sb_reset(&b);
	sb_mem(&b, want, n);
	ASSERT_TRUE(b.p == first, "buffer kept");
	ASSERT_MEM(b.p, b.len, want, n, "rewritten");
	/* a printf longer than the room left grows the buffer once */
	sb_reset(&b);
	cap = b.cap;
	sb_printf(&b, "%0*d", (int)cap + 10, 7);
	ASSERT_EQ(b.len, cap + 10, "a long printf, whole");
	ASSERT_TRUE(b.p[0] == '0' && b.p[b.len - 1] == '7', "its first and last digits");
	free(want);
	sb_free(&b);
	return 0;
}

const struct harness_case strbuf_cases[] = {
	{"strbuf_u64_as_printf", t_strbuf_u64_as_printf},
	{"strbuf_grows_and_is_reused", t_strbuf_grows_and_is_reused},
};
const size_t strbuf_ncases = sizeof(strbuf_cases) / sizeof(strbuf_cases[0]);
