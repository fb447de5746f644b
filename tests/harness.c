// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

void harness_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void harness_hexdiff(const void *got, size_t glen, const void *want, size_t wlen)
{
	const unsigned char *g = got, *w = want;
	size_t n = glen > wlen ? glen : wlen;

	for (size_t row = 0; row < n; row += 16) {
		fprintf(stderr, "    %04zx  ", row);
		for (size_t i = row; i < row + 16 && i < n; i++) {
			int gi = i < glen ? g[i] : -1, wi = i < wlen ? w[i] : -1;

			if (gi == wi)
				fprintf(stderr, "%02x ", gi);
			else if (gi < 0)
				fprintf(stderr, "--/%02x ", wi);
			else if (wi < 0)
				fprintf(stderr, "%02x/-- ", gi);
			else
				fprintf(stderr, "%02x/%02x ", gi, wi);
		}
		fputc('\n', stderr);
	}
	fprintf(stderr, "    (got/want where they differ)\n");
}

int harness_run(const char *suite, const struct harness_case *cases, size_t n, const char *filter,
		int (*setup)(void), void (*teardown)(void))
{
	int pass = 0, fail = 0;

	for (size_t i = 0; i < n; i++) {
		if (filter && !strstr(cases[i].name, filter))
			continue;
		int rc = setup ? setup() : 0;

		if (rc == 0)
			rc = cases[i].fn();
		if (teardown)
			teardown();
		if (rc == 0) {
			pass++;
			printf("  ok    %s\n", cases[i].name);
		} else {
			fail++;
			printf("  FAIL  %s\n", cases[i].name);
		}
		fflush(stdout);
	}
	fflush(stderr);
	printf("%s: %d passed, %d failed\n", suite, pass, fail);
	return fail ? 1 : 0;
}
