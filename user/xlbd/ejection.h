/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlbd's outlier detection (issue #16): every tick it reads the data
 * plane's per-backend SYN counters (one batch read), keeps each backend's
 * window (user/common/outlier.h says how it judges) and ejects outliers.
 *
 * - Ejected: out of its VIP's table for new flows, its flows stay
 *   (DRAINING; health.h), checked at once and then at its fast_interval.
 *   Never more than max_ejection_percent of the VIP's usable backends at
 *   once (floor: one of three at 50%, none of one), so spoofed
 *   retransmissions cannot empty a VIP.
 * - Back: after its ejection time (base_ejection_time x the ejections in
 *   a row, at most max_ejection_time) and a check passed after that time
 *   (at once for check type none); its window starts empty. Each
 *   base_ejection_time in service without an ejection forgets one.
 * - Per (VIP, backend), keyed by backend record id (the identity checked,
 *   so a reused id starts fresh). Ejections are events (kind outlier),
 *   status shows them, /metrics counts them.
 */
#ifndef XLBD_EJECTION_H
#define XLBD_EJECTION_H

#include <stddef.h>
#include <linux/types.h>

#include "outlier.h"
#include "sync.h"
#include "xlb_abi.h"

struct agent;
struct outliers;

struct outliers *outliers_new(struct agent *ag);
void outliers_free(struct outliers *o);

/*
 * Where the counters come from: the agent's data plane (ag->dp) unless a
 * test gives its own. Each fills out[i] for ids[i], summed over CPUs; 0 or
 * -errno.
 */
struct outliers_reader {
	void *ctx;
	int (*syn)(void *ctx, const __u32 *ids, size_t n, struct xlb_backend_syn_stats *out);
	int (*vip)(void *ctx, const __u32 *ids, size_t n, struct xlb_vip_stats *out);
};
void outliers_set_reader(struct outliers *o, const struct outliers_reader *rd);

/* One tick: read, judge, eject, readmit. Returns 1 when a backend was
 * ejected or readmitted (the agent applies). */
int outliers_tick(struct outliers *o, __u64 now_ms);

/* 1 when the selection should keep (VIP, backend) out for new flows. */
int outliers_ejected(const struct outliers *o, const struct xlb_sync_vip *v,
		     const struct xlb_sync_backend *b);

/* What status and /metrics show about one backend. */
struct outlier_view {
	__u8 on;      /* the VIP has outlier detection */
	__u8 ejected; /* now */
	__u64 ejections;
	__u64 back_in_ms; /* ejected: ms until it may come back (0: on its next passing check) */
	struct xlb_ol_verdict why; /* the ejection's, or the latest judgement */
};
void outliers_view(const struct outliers *o, const struct xlb_sync_vip *v,
		   const struct xlb_sync_backend *b, struct outlier_view *out);

#endif /* XLBD_EJECTION_H */
