// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flowsweep.h"
#include "xlb_dp.h"

#define INTEREST_MS (5 * 60 * 1000ULL) /* sweep while asked within this */
/* While only scrapes ask (flowsweep_peek), a pass starts at most this long
 * after the last one started: Prometheus asks every 15-60 s, and a pass a
 * second (a whole 64 MiB table) would cost the agent ~4% of a core for
 * counts nobody reads between two scrapes. */
#define PEEK_PASS_MS 10000ULL
/* A pass a second only while status or backend list asked this recently
 * (`xlbctl top`, a watch); then, until INTEREST_MS, a pass every
 * PEEK_PASS_MS as for scrapes: one status must not buy 300 passes. */
#define BUSY_MS 10000ULL

struct flowsweep {
	struct xlb_dp *dp;
	struct xlb_dp_flow_scan *scan; /* opened at first use */
	unsigned int slices, tick_ms;
	__u32 tcp_idle_s;
	flowsweep_gens_fn gens;
	void *ctx;
	__u64 asked_ms;	 /* the last request (counts); 0: none yet */
	__u64 peeked_ms; /* the last scrape (peek); 0: none yet */
	/* the pass under way */
	int running;
	__u32 cursor;
	__u32 *gen, *cnt;
	__u64 used, start_ms;
	unsigned long long j0; /* the kernel's jiffies at start_ms */
	/* the last complete pass */
	int valid;
	__u32 *pub_gen, *pub_cnt;
	__u64 pub_used, pub_ms;
	struct flowsweep_stats st;
};

struct flowsweep *flowsweep_new(struct xlb_dp *dp, unsigned int slices, unsigned int tick_ms,
				__u32 tcp_idle_s, flowsweep_gens_fn gens, void *ctx)
{
	struct flowsweep *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return NULL;
	fs->dp = dp;
	fs->slices = slices ? slices : 1;
	fs->tick_ms = tick_ms;
	fs->tcp_idle_s = tcp_idle_s;
	fs->gens = gens;
	fs->ctx = ctx;
	fs->gen = calloc(XLB_MAX_BACKENDS, sizeof(__u32));
	fs->cnt = calloc(XLB_MAX_BACKENDS, sizeof(__u32));
	fs->pub_gen = calloc(XLB_MAX_BACKENDS, sizeof(__u32));
	fs->pub_cnt = calloc(XLB_MAX_BACKENDS, sizeof(__u32));
	if (!fs->gen || !fs->cnt || !fs->pub_gen || !fs->pub_cnt) {
		flowsweep_free(fs);
		return NULL;
	}
	return fs;
}

void flowsweep_free(struct flowsweep *fs)
{
	if (!fs)
		return;
	xlb_dp_flow_scan_close(fs->scan);
	free(fs->gen);
	free(fs->cnt);
	free(fs->pub_gen);
	free(fs->pub_cnt);
	free(fs);
}

const struct flowsweep_stats *flowsweep_stats(const struct flowsweep *fs)
{
	return &fs->st;
}

/* The data plane's jiffies at now_ms: read at the pass's start, then
 * carried forward by CLOCK_MONOTONIC (a read of /proc/timer_list a slice
 * would cost more than the slice). */
static __u32 jiffies_at(const struct flowsweep *fs, __u64 now_ms)
{
	return (__u32)(fs->j0 + (now_ms - fs->start_ms) * xlb_kernel_hz() / 1000);
}

static int pass_start(struct flowsweep *fs, __u64 now_ms)
{
	if (!fs->scan && xlb_dp_flow_scan_open(fs->dp, fs->tcp_idle_s, &fs->scan))
		return -EIO;
	fs->j0 = xlb_kernel_jiffies();
	if (!fs->j0)
		return -ENOENT;
	memset(fs->gen, 0, XLB_MAX_BACKENDS * sizeof(__u32));
	memset(fs->cnt, 0, XLB_MAX_BACKENDS * sizeof(__u32));
	fs->gens(fs->ctx, fs->gen);
	fs->used = 0;
	fs->cursor = 0;
	fs->start_ms = now_ms;
	fs->running = 1;
	return 0;
}

/* Count buckets [cursor, cursor + n); publish when the pass ends. */
static void pass_step(struct flowsweep *fs, __u32 n, __u64 now_ms)
{
	__u32 buckets = xlb_dp_flow_scan_buckets(fs->scan), *t;

	fs->used += xlb_dp_flow_scan_count(fs->scan, jiffies_at(fs, now_ms), fs->cursor, n, fs->gen,
					   fs->cnt);
	fs->cursor = n > buckets - fs->cursor ? buckets : fs->cursor + n;
	if (fs->cursor < buckets)
		return;
	t = fs->pub_gen;
	fs->pub_gen = fs->gen;
	fs->gen = t;
	t = fs->pub_cnt;
	fs->pub_cnt = fs->cnt;
	fs->cnt = t;
	fs->pub_used = fs->used;
	fs->pub_ms = fs->start_ms;
	fs->valid = 1;
	fs->running = 0;
}

static int recent(__u64 at_ms, __u64 now_ms, __u64 within_ms)
{
	return at_ms && now_ms - at_ms <= within_ms;
}

static int asked_within(__u64 at_ms, __u64 now_ms)
{
	return recent(at_ms, now_ms, INTEREST_MS);
}

void flowsweep_tick(struct flowsweep *fs, __u64 now_ms)
{
	__u32 buckets;

	if (!asked_within(fs->asked_ms, now_ms) && !asked_within(fs->peeked_ms, now_ms)) {
		fs->running = 0; /* nobody looks: no sweep */
		return;
	}
	/* only scrapes look, or a request is over BUSY_MS old: a pass every
	 * PEEK_PASS_MS */
	if (!fs->running && !recent(fs->asked_ms, now_ms, BUSY_MS) && fs->valid &&
	    now_ms - fs->pub_ms < PEEK_PASS_MS)
		return;
	if (!fs->running && pass_start(fs, now_ms))
		return;
	buckets = xlb_dp_flow_scan_buckets(fs->scan);
	fs->st.slices++;
	pass_step(fs, (buckets + fs->slices - 1) / fs->slices, now_ms);
	if (!fs->running)
		fs->st.passes++;
}

/* A sweep publishes every pass: an older pass means it was idle. */
static int fresh(const struct flowsweep *fs, __u64 now_ms)
{
	return fs->valid && now_ms - fs->pub_ms <= 3ULL * fs->slices * fs->tick_ms + 1000;
}

/* The slow sweep's (a pass every PEEK_PASS_MS) last pass, on time. */
static int slow_fresh(const struct flowsweep *fs, __u64 now_ms)
{
	return fs->valid &&
	       now_ms - fs->pub_ms <= PEEK_PASS_MS + 3ULL * fs->slices * fs->tick_ms + 1000;
}

/* A reader that asks at least every INTEREST_MS keeps the sweep running:
 * its last pass is the newest there is, even when a busy loop made the
 * pass slower than fresh() allows (or when only scrapes ask, up to
 * PEEK_PASS_MS and a pass old). */
int flowsweep_peek(struct flowsweep *fs, __u64 now_ms, __u64 *used, __u64 *age_ms)
{
	int swept = asked_within(fs->asked_ms, now_ms) || asked_within(fs->peeked_ms, now_ms);

	fs->peeked_ms = now_ms ? now_ms : 1;
	if (!fs->valid || (!swept && !fresh(fs, now_ms)))
		return -EAGAIN;
	*used = fs->pub_used;
	*age_ms = now_ms - fs->pub_ms;
	return 0;
}

__u32 flowsweep_flows(const struct flowsweep *fs, __u32 id, __u32 gen)
{
	id %= XLB_MAX_BACKENDS;
	return gen && fs->pub_gen[id] == gen ? fs->pub_cnt[id] : 0;
}

__u32 *flowsweep_counts(struct flowsweep *fs, const __u32 *gen_by_id, __u64 now_ms, __u64 *used,
			__u64 *age_ms)
{
	/* asked within INTEREST_MS: the sweep runs, a slow one maybe */
	int swept = asked_within(fs->asked_ms, now_ms);
	__u32 *out;

	fs->asked_ms = now_ms ? now_ms : 1;
	if (!fresh(fs, now_ms) && !(swept && slow_fresh(fs, now_ms))) {
		/* the first request in a while: the whole table now */
		if (pass_start(fs, now_ms))
			return NULL;
		fs->st.full++;
		pass_step(fs, xlb_dp_flow_scan_buckets(fs->scan), now_ms);
	}
	out = calloc(XLB_MAX_BACKENDS, sizeof(*out));
	if (!out)
		return NULL;
	for (__u32 id = 0; id < XLB_MAX_BACKENDS; id++)
		if (gen_by_id[id] && gen_by_id[id] == fs->pub_gen[id])
			out[id] = fs->pub_cnt[id];
	if (used)
		*used = fs->pub_used;
	if (age_ms)
		*age_ms = now_ms - fs->pub_ms;
	return out;
}
