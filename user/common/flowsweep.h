/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Live flows per backend, counted in the background (issue #15): status and
 * backend list used to read the whole flow table (64 MiB by default) on
 * every request. Here a pass over the table runs a slice a tick, while
 * someone asks (a request in the last 10 s), and publishes its counts when
 * it ends; a request reads the last published pass. The counts are then at
 * most two passes old (the oldest bucket of the published pass was read at
 * most that long ago). From 10 s to 5 minutes after the last request a
 * pass starts every 10 s (as for scrapes), and a request reads its counts
 * (up to ~12 s old, the reply says how old). The first request after 5
 * quiet minutes counts the whole table at once (exact, as before) and
 * starts the sweep.
 */
#ifndef XLB_FLOWSWEEP_H
#define XLB_FLOWSWEEP_H

#include <linux/types.h>

struct xlb_dp;
struct flowsweep;

/* The current backends' generations (gen_by_id[id], XLB_MAX_BACKENDS
 * entries, zeroed): asked at the start of each pass. */
typedef void (*flowsweep_gens_fn)(void *ctx, __u32 *gen_by_id);

/* A pass takes slices ticks of tick_ms; tcp_idle_s as xlb_dp_flow_count()'s. */
struct flowsweep *flowsweep_new(struct xlb_dp *dp, unsigned int slices, unsigned int tick_ms,
				__u32 tcp_idle_s, flowsweep_gens_fn gens, void *ctx);
void flowsweep_free(struct flowsweep *fs);
/* One slice, at each tick (now_ms: CLOCK_MONOTONIC). */
void flowsweep_tick(struct flowsweep *fs, __u64 now_ms);
/*
 * Live flows per backend id (calloc'd, XLB_MAX_BACKENDS entries) for the
 * backends whose generation is gen_by_id[id] now (a backend the last pass
 * knew by another generation counts 0), and the table's fill (*used, may
 * be NULL); *age_ms: how long ago the published pass started. NULL when
 * the table cannot be read.
 */
__u32 *flowsweep_counts(struct flowsweep *fs, const __u32 *gen_by_id, __u64 now_ms, __u64 *used,
			__u64 *age_ms);
/*
 * For a reader that must not cost the loop a pass (a /metrics scrape):
 * asks like flowsweep_counts() (the sweep runs while asked; while only
 * peeks ask, one pass every 10 s) but never counts the table itself. 0 and the published pass's fill (*used) and age
 * (*age_ms) when a recent pass is there; -EAGAIN when none is (the first
 * request after a quiet spell: the sweep starts at the next tick). While
 * asked, the last pass is shown however long a busy loop made it take.
 */
int flowsweep_peek(struct flowsweep *fs, __u64 now_ms, __u64 *used, __u64 *age_ms);
/* The published pass's live flows of backend id, if that pass knew it by
 * generation gen (0 otherwise): after flowsweep_peek() returned 0. */
__u32 flowsweep_flows(const struct flowsweep *fs, __u32 id, __u32 gen);

struct flowsweep_stats {
	__u64 passes; /* completed by ticks */
	__u64 full;   /* whole-table counts for a request */
	__u64 slices; /* ticks that counted a slice */
};
const struct flowsweep_stats *flowsweep_stats(const struct flowsweep *fs);

#endif /* XLB_FLOWSWEEP_H */
