/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Outlier detection from retransmitted SYNs (issue #16): which backends of a
 * VIP look silent to their clients. Pure logic: the caller (xlbd's
 * outlier.c) feeds each backend's SYN counters bucket by bucket and asks.
 *
 * The signal: a client whose SYN got no SYN-ACK sends it again (after 1 s
 * on Linux, 3 s on some stacks). The data plane counts, per backend, the
 * SYNs it sent there and those that came again while the flow was still
 * opening (bpf/lib/synretry.h). A backend's ratio over a span is its
 * retransmitted SYNs / its first SYNs (capped at 100%).
 *
 * The window (outlier `window`, default 10 s) is kept in XLB_OL_BUCKETS
 * buckets. A backend is judged over the newest 1, 2, 4, ... buckets and
 * the whole window: a span counts once it holds at least `min_samples`
 * first SYNs. It is an outlier when, over some span, its ratio is at least
 * `threshold` while the VIP's other backends in service, pooled over the
 * same span, stay below half of its ratio. The short spans find a sudden
 * black hole within a second of the first retransmissions (the whole
 * window would be diluted by the healthy seconds before it); the long ones
 * find a backend that loses a share of its SYNs. Loss on the clients' side
 * hits every backend alike, so the peers' rule ejects nobody for it.
 */
#ifndef XLB_OUTLIER_H
#define XLB_OUTLIER_H

#include <stddef.h>
#include <linux/types.h>

#define XLB_OL_BUCKETS 50
#define XLB_OL_MIN_BUCKET_MS 200 /* xlbd's tick */

/* Spans judged: the newest 1, 2, 4, ... buckets, then the whole window
 * (7 for 50 buckets). */
#define XLB_OL_SPANS 8

/* One backend's sliding window: first and retransmitted SYNs per bucket,
 * and their sums over each span, kept as buckets come and go. */
struct xlb_ol_win {
	__u32 first[XLB_OL_BUCKETS], retr[XLB_OL_BUCKETS];
	__u32 nb;			  /* buckets in use (the window / bucket length) */
	__u32 head;			  /* the newest */
	__u32 nspans, span[XLB_OL_SPANS]; /* the spans' lengths in buckets */
	__u64 sf[XLB_OL_SPANS], sr[XLB_OL_SPANS];
};

/* Buckets and bucket length for a window (ms). */
void xlb_ol_geometry(__u32 window_ms, __u32 *nb, __u32 *bucket_ms);

void xlb_ol_win_init(struct xlb_ol_win *w, __u32 nb);
void xlb_ol_win_push(struct xlb_ol_win *w, __u32 first, __u32 retr);

/* First SYNs of a counter difference: SYNs sent there less the retries
 * among them (retransmissions not sent elsewhere). */
__u32 xlb_ol_first_syns(__u64 syn, __u64 retr, __u64 rerouted);

struct xlb_ol_be {
	const struct xlb_ol_win *win;
	__u8 peer;  /* in service: counts among the others' pooled ratio */
	__u8 judge; /* may be found an outlier (in service, not ejected) */
	/* xlb_ol_judge's scratch: its counts over each span, from one pass */
	__u64 f[XLB_OL_SPANS], r[XLB_OL_SPANS];
};

struct xlb_ol_verdict {
	__u8 outlier;
	__u32 ratio_pct; /* over the span that found it (or the highest seen) */
	__u32 peers_pct; /* the others', pooled over that span */
	__u32 span_ms;
	__u64 first, retr; /* its counts over that span */
};

/* Judge every backend of one VIP; returns how many are outliers. A
 * window as long as the VIP's longest gives its kept sums; another (a
 * window just changed) is summed from its buckets into b[].f and .r. */
size_t xlb_ol_judge(struct xlb_ol_be *b, size_t n, __u32 threshold_pct, __u32 min_samples,
		    __u32 bucket_ms, struct xlb_ol_verdict *out);

/* At most this many of a VIP's `usable` backends ejected at once. */
__u32 xlb_ol_cap(__u32 usable, __u32 max_percent);

/* How long the nth ejection in a row lasts (n >= 1): n x base, at most max. */
__u64 xlb_ol_ejection_ms(__u32 base_ms, __u32 max_ms, __u32 n);

#endif /* XLB_OUTLIER_H */
