/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlbd's announcements (issue #13): which VIP addresses this host offers
 * to its routers, kept as routes in the configuration's announce table
 * (routes.h) for a BGP daemon to export. The decision is
 * announce_plan.h's; this module applies it as a diff (only the routes
 * that change are written, each logged and recorded as an event of kind
 * "announce"), after every apply and once a second (a route someone
 * removed comes back), and keeps the maintenance state.
 *
 * - Off: a configuration without `announce:` touches no routing table.
 *   A reload that removes the block, or moves it to another table or
 *   protocol, withdraws what xlbd announced under the old one.
 * - Restart: nothing is withdrawn at start. The routes present are
 *   adopted as they are; a VIP whose health is still unknown keeps its
 *   route until the checks give a verdict (backends the adopted data
 *   plane had in service start up, checks.h). A SIGKILL or a clean exit
 *   (SIGTERM) leaves the routes in place: forwarding stays too, and the
 *   next agent adopts both. If no agent comes back, xlb-guard withdraws
 *   them once the agent's beat is older than `hold`. To leave the fleet
 *   gracefully: `xlbctl maintenance on`, wait until it says safe, stop.
 * - Detach (`xlbctl detach`): every route is withdrawn before the
 *   program goes, so routers stop sending before nothing answers.
 * - Maintenance, of the host or of one VIP: persisted in the state dir
 *   (a restart keeps it, nothing is re-announced), and while it lasts the
 *   packets still arriving on each VIP in maintenance are sampled once a
 *   second, so status can say when the host is safe to stop.
 */
#ifndef XLBD_ANNOUNCE_H
#define XLBD_ANNOUNCE_H

#include <linux/types.h>

#include "config.h"
#include "sync.h"

struct announce;
struct events;
struct xlb_dp;

/* A host is safe to stop after this long without a packet for a VIP in
 * maintenance (counted from the withdraw). */
#define ANNOUNCE_QUIET_MS 5000

/* The maintenance file is <state_dir>/maintenance; read here. */
struct announce *announce_new(struct events *ev, struct xlb_dp *dp, const char *state_dir);
void announce_free(struct announce *a);

/* Start announcing (after the program is attached): until then nothing
 * is touched. */
void announce_start(struct announce *a);
/* Make the table match (after an apply, and on ticks). */
void announce_sync(struct announce *a, const struct xlb_cfg *cfg, const struct xlb_sync *s);
/* The event loop's tick: samples traffic and re-syncs once a second. */
void announce_tick(struct announce *a, const struct xlb_cfg *cfg, const struct xlb_sync *s);
/* The program goes: withdraw every route first. */
void announce_detach(struct announce *a, const struct xlb_cfg *cfg, const struct xlb_sync *s);

/* Maintenance on or off, of the host (vip NULL) or of one VIP by name;
 * persisted before it returns, then applied. 0, or -errno with err set
 * (nothing changed). */
int announce_maintenance(struct announce *a, const struct xlb_cfg *cfg, const struct xlb_sync *s,
			 const char *vip, int on, struct xlb_err *err);

/* What status shows of one VIP. */
struct announce_view {
	int on;		 /* the configuration announces */
	int announced;	 /* its address is in the table */
	int why;	 /* enum xlb_ann_why */
	int maintenance; /* the host's or its own */
	double pps;	 /* packets/s over the last sample (maintenance only) */
	__u64 quiet_ms;	 /* without a packet since the withdraw (maintenance only) */
	int sampled;	 /* pps and quiet_ms are measured */
};

void announce_view(const struct announce *a, const struct xlb_sync_vip *sv,
		   struct announce_view *out);
/* Host maintenance on; *since_ms: CLOCK_REALTIME of when it was set. */
int announce_host_maintenance(const struct announce *a, __u64 *since_ms);
/* Names of the VIPs in maintenance of their own: n, each name in names[i]
 * (up to max). */
size_t announce_maintenance_vips(const struct announce *a, const char **names, size_t max);

#endif /* XLBD_ANNOUNCE_H */
