/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Minimal test harness shared by the unit and BPF suites: named assertions
 * that report file, line, what was checked, got and want, then return -1
 * from the test so its cleanup runs.
 */
#ifndef XLB_TEST_HARNESS_H
#define XLB_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

void harness_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void harness_hexdiff(const void *got, size_t glen, const void *want, size_t wlen);

#define ASSERT_EQ(got, want, what)                                                                 \
	do {                                                                                       \
		long long _g = (long long)(got), _w = (long long)(want);                           \
		if (_g != _w) {                                                                    \
			harness_fail(__FILE__, __LINE__, "%s: got %lld, want %lld", (what), _g,    \
				     _w);                                                          \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

#define ASSERT_NE(got, bad, what)                                                                  \
	do {                                                                                       \
		long long _g = (long long)(got), _b = (long long)(bad);                            \
		if (_g == _b) {                                                                    \
			harness_fail(__FILE__, __LINE__, "%s: got %lld, must differ", (what), _g); \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

#define ASSERT_TRUE(cond, what)                                                                    \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			harness_fail(__FILE__, __LINE__, "%s: '%s' is false", (what), #cond);      \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

#define ASSERT_MEM(got, glen, want, wlen, what)                                                    \
	do {                                                                                       \
		if ((glen) != (wlen) || memcmp((got), (want), (wlen))) {                           \
			harness_fail(__FILE__, __LINE__, "%s: bytes differ (got %zu, want %zu)",   \
				     (what), (size_t)(glen), (size_t)(wlen));                      \
			harness_hexdiff((got), (glen), (want), (wlen));                            \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

#define ASSERT_OK(expr, what) ASSERT_EQ((expr), 0, (what))

struct harness_case {
	const char *name;
	int (*fn)(void);
};

/*
 * Run every case (or those whose name contains filter) between setup and
 * teardown (either may be NULL; teardown always runs); print the tally.
 */
int harness_run(const char *suite, const struct harness_case *cases, size_t n, const char *filter,
		int (*setup)(void), void (*teardown)(void));

#endif /* XLB_TEST_HARNESS_H */
