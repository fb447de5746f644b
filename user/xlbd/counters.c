// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What the loop counts for /metrics; see counters.h. */
#include <string.h>

#include "counters.h"

static const double buckets[COUNTERS_NBUCKETS] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
						  0.25,	 0.5,	1,    2.5,   5};

/* Health-check results by kind; the reason texts come from probe.h. */
enum hc_result { /* COUNTERS_NRESULTS of them */
	HC_OK,
	HC_REFUSED,
	HC_TIMEOUT,
	HC_UNREACHABLE,
	HC_TLS,
	HC_BAD_STATUS,
	HC_BODY,
	HC_REPLY,
	HC_EXIT,
	HC_KILLED,
	HC_OTHER,
	HC_N
};

// clang-format off
static const struct {
	const char *prefix, *label;
} hc_kinds[HC_N] = {
	[HC_OK]          = {"ok",               "ok"},
	[HC_REFUSED]     = {"refused",          "refused"},
	[HC_TIMEOUT]     = {"timeout",          "timeout"},
	[HC_UNREACHABLE] = {"unreachable",      "unreachable"},
	[HC_TLS]         = {"TLS error",        "tls_error"},
	[HC_BAD_STATUS]  = {"bad status",       "bad_status"},
	[HC_BODY]        = {"body mismatch",    "body_mismatch"},
	[HC_REPLY]       = {"reply mismatch",   "reply_mismatch"},
	[HC_EXIT]        = {"exit code",        "exit_code"},
	[HC_KILLED]      = {"killed by signal", "killed"},
	[HC_OTHER]       = {"",                 "other"},
};
// clang-format on

void counters_observe(__u64 *hist, double *sum, double seconds)
{
	for (int i = 0; i < COUNTERS_NBUCKETS; i++) {
		if (seconds <= buckets[i]) {
			hist[i]++;
			break;
		}
	}
	*sum += seconds;
}

void counters_check(struct agent_counters *c, const char *reason, __u32 duration_us)
{
	int k = HC_OTHER;

	for (int i = 0; i < HC_OTHER; i++)
		if (!strncmp(reason, hc_kinds[i].prefix, strlen(hc_kinds[i].prefix))) {
			k = i;
			break;
		}
	c->hc_results[k]++;
	c->hc_count++;
	counters_observe(c->hc_hist, &c->hc_sum_s, duration_us / 1e6);
}

_Static_assert(HC_N == COUNTERS_NRESULTS, "COUNTERS_NRESULTS follows enum hc_result");

double counters_bucket(int i)
{
	return buckets[i];
}

const char *counters_result(int k)
{
	return hc_kinds[k].label;
}
