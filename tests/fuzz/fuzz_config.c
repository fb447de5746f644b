// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer harness of the YAML configuration parser (user/common/config.c).
 *
 * Property: whatever loads, dumps to text that loads again to the same
 * configuration, and that configuration dumps to the same bytes. This is
 * what makes running.yaml always loadable at the next start. The same
 * input is also tried as a check's settings (what `xlbctl vip set --check`
 * and the control socket send), onto a VIP and onto a backend.
 *
 * Any violation aborts with the input and both dumps on stderr; ASan and
 * UBSan catch memory errors and undefined behaviour, LeakSanitizer leaks.
 * Run: make fuzz (minutes), make test-fuzz (seconds, from the seed corpus
 * tests/fuzz/corpus/config/).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_dump.h"
#include "xlb_dp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void violated(const char *what, const char *input, const char *t1, const char *t2,
		     const char *msg)
{
	fprintf(stderr, "fuzz_config: %s\n--- input\n%s\n--- dump\n%s\n--- again\n%s\n--- %s\n",
		what, input, t1 ? t1 : "", t2 ? t2 : "", msg ? msg : "");
	abort();
}

/* load(dump(c)) == c and dump(load(dump(c))) == dump(c). */
static void round_trip(const struct xlb_cfg *c, const char *input)
{
	struct xlb_cfg back = {}, copy = {};
	struct xlb_err err = {};
	char *t1 = NULL, *t2 = NULL;
	size_t l1, l2;

	if (xlb_cfg_dump_text(c, &t1, &l1))
		violated("the dump failed", input, NULL, NULL, NULL);
	if (strlen(t1) != l1)
		violated("the dump holds a NUL", input, t1, NULL, NULL);
	if (xlb_cfg_load_string("dump", t1, &back, &err))
		violated("the dump does not load", input, t1, NULL, err.msg);
	if (!xlb_cfg_equal(c, &back))
		violated("the dump loads as another configuration", input, t1, NULL, NULL);
	if (xlb_cfg_dump_text(&back, &t2, &l2))
		violated("the second dump failed", input, t1, NULL, NULL);
	if (l1 != l2 || memcmp(t1, t2, l1))
		violated("the second dump differs", input, t1, t2, NULL);
	if (xlb_cfg_copy(&copy, c) || !xlb_cfg_equal(&copy, c))
		violated("a copy differs", input, t1, NULL, NULL);
	xlb_cfg_free(&copy);
	xlb_cfg_free(&back);
	free(t1);
	free(t2);
}

/* The input as a check's settings, onto a VIP's check (b < 0) or backend b's. */
static void as_check(const char *input, int b)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};

	if (xlb_cfg_load_string("base",
				"vips:\n"
				"  - address: 10.0.0.10\n"
				"    port: 80\n"
				"    protocol: tcp\n"
				"    backends:\n"
				"      - address: 10.1.0.1\n"
				"      - address: 2001:db8::1\n",
				&c, &err))
		violated("the base configuration does not load", input, NULL, NULL, err.msg);
	if (!xlb_cfg_parse_check(input, &c.vips[0], b < 0 ? NULL : &c.vips[0].backends[b], &err) &&
	    !xlb_cfg_validate(&c, "request", &err))
		round_trip(&c, input);
	xlb_cfg_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	char *input = malloc(size + 1);

	if (!input)
		return 0;
	memcpy(input, data, size);
	input[size] = 0;
	if (!xlb_cfg_load_string("fuzz", input, &c, &err)) {
		round_trip(&c, input);
		xlb_cfg_free(&c);
	}
	as_check(input, -1);
	as_check(input, 1);
	free(input);
	return 0;
}
