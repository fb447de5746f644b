/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What a /metrics scrape shows of the agent's own state, copied by the
 * event loop (the only owner of that state) for the HTTP thread. The copy
 * is kept plain and small, a few words a backend and no text: label text
 * is made (and kept across scrapes) on the HTTP thread (metrics_text.h).
 * Flows per backend are the background flow sweep's (flowsweep.h): a copy
 * never reads the flow table.
 */
#ifndef XLBD_METRICS_SNAP_H
#define XLBD_METRICS_SNAP_H

#include <linux/types.h>

#include "cfgdigest.h"
#include "counters.h"
#include "xlb_dp.h" /* union xlb_addr */

struct agent;

struct snap_vip {
	__u32 id, nbackends, in_table;
	__u8 panic;
	__u8 announced;	 /* its address is in the announce table */
	__u32 with_prev; /* stateless: slots carrying a previous hop */
	char name[64];
};

struct snap_be {
	__u32 vip; /* index into vips */
	__u32 id, gen, weight, eff;
	__u32 flows; /* the sweep's count (snap.flows_ok) */
	__u8 admin, health, state, ejected;
	__u64 changes, ejections;
	union xlb_addr addr;
};

struct snap {
	int refs; /* under the metrics lock */
	struct snap_vip *vips;
	struct snap_be *bes;
	size_t nvips, nbes;
	struct agent_counters c;
	__u8 maintenance;		 /* the host is in maintenance */
	char digest[XLB_CFG_DIGEST_LEN]; /* the running config's (cfgdigest.h) */
	/* flows from a recent sweep pass: each backend's, and the table's
	 * fill; 0: no recent pass (the reader counts the table itself) */
	int flows_ok;
	__u64 flows_used, flows_age_ms;
	__u64 build_ns; /* the loop's CPU time making this copy */
};

/* In the loop: a copy of the agent's state now, refs 1; NULL on ENOMEM. */
struct snap *snap_build(struct agent *ag);
void snap_free(struct snap *s);

#endif /* XLBD_METRICS_SNAP_H */
