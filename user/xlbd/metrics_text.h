/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The Prometheus text of a scrape, from the loop's snapshot
 * (metrics_snap.h) and the data plane's counters read for it: plain data
 * in, text out, no agent state and no syscall, so tests run it as is.
 *
 * Most of a scrape is ~18 series a backend, each "name{labels} value". The
 * label text of every backend ({vip="...",backend="..."}) is kept in a
 * cache across scrapes and made again only when the snapshot's VIPs or
 * backends differ from the cached ones (a backend removed: its series go;
 * added: they come, at the next scrape); a series is then a few memcpy and
 * the value's digits, into a buffer reserved once a family.
 */
#ifndef XLBD_METRICS_TEXT_H
#define XLBD_METRICS_TEXT_H

#include <linux/types.h>

#include "metrics_snap.h"
#include "strbuf.h"
#include "xlb_dp.h"

/* What the data plane counts, read for one scrape; arrays by snapshot index. */
struct mtext_dp {
	const struct xlb_vip_stats *vips;	 /* [nvips]; NULL: zeros */
	const struct xlb_backend_stats *bes;	 /* [nbes]; NULL: zeros */
	const struct xlb_backend_syn_stats *syn; /* [nbes]; NULL: zeros */
	/* [nbes]: live flows counted for this scrape (no recent sweep
	 * pass), and the table's fill; NULL: the snapshot's (the sweep's) */
	const __u32 *flows;
	__u64 flows_used;
	__u32 flow_entries;
	int lookups_ok;
	struct xlb_dp_flow_lookups lookups;
	int reasons_ok;
	__u64 reasons[XLB_REASON_SLOTS];
};

/* The agent's own figures of the scrape before (xlb_metrics_*). */
struct mtext_self {
	double start_s;	 /* unix time xlbd started */
	__u64 snap_ns;	 /* the loop's CPU for the snapshot */
	__u64 wait_ns;	 /* the HTTP thread waiting for it */
	__u64 render_ns; /* the HTTP thread's CPU reading and rendering */
};

/* Label text kept across scrapes (one renderer at a time). */
struct mtext_cache;

struct mtext_cache *mtext_cache_new(void);
void mtext_cache_free(struct mtext_cache *c);
/* Times the labels were made (again): 1 after the first scrape, the same
 * while the backends stay. */
__u64 mtext_cache_made(const struct mtext_cache *c);

/* The whole scrape into b (appended); b->oom on ENOMEM. */
void mtext_render(struct strbuf *b, struct mtext_cache *c, const struct snap *s,
		  const struct mtext_dp *dp, const struct mtext_self *self);

#endif /* XLBD_METRICS_TEXT_H */
