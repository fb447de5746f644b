/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What xlbd's loop counts for /metrics: table updates and their durations,
 * reloads, health-check results by kind and their durations. Loop thread
 * only; metrics.c copies them into its snapshots and renders them. A leaf
 * module: the checks count here without depending on the HTTP side.
 */
#ifndef XLBD_COUNTERS_H
#define XLBD_COUNTERS_H

#include <linux/types.h>

/* Histogram buckets (seconds) for check and table-update durations. */
#define COUNTERS_NBUCKETS 11
/* Kinds of health-check result (ok, refused, timeout, ..., other). */
#define COUNTERS_NRESULTS 11

struct agent_counters {
	__u64 table_updates;
	__u64 table_hist[COUNTERS_NBUCKETS]; /* cumulative at render */
	double table_sum_s;
	__u64 reloads_ok, reloads_failed;
	double last_reload_ok_s; /* unix time */
	__u64 hc_results[16];	 /* by kind, see counters_result() */
	__u64 hc_hist[COUNTERS_NBUCKETS];
	double hc_sum_s;
	__u64 hc_count;
};

/* Count one duration into a histogram (non-cumulative buckets + sum). */
void counters_observe(__u64 *hist, double *sum, double seconds);
/* Count one health-check result by its reason text (probe.h). */
void counters_check(struct agent_counters *c, const char *reason, __u32 duration_us);

/* Upper bound of bucket i (seconds); the label of result kind k. */
double counters_bucket(int i);
const char *counters_result(int k);

#endif /* XLBD_COUNTERS_H */
