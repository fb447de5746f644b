/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What this host announces (issue #13), as pure logic: the decision for
 * each VIP, and the routes that make the announce table match them.
 *
 * Per VIP, in this order:
 *   announcing off (no top-level `announce:`)  -> no (nothing is touched)
 *   announce: never                            -> no
 *   program not attached (after detach)        -> no
 *   maintenance (the host's or the VIP's)      -> no
 *   announce: always                           -> yes
 *   a usable backend (one with a share of the table)      -> yes
 *   none, but an enabled backend's health is still unknown -> as it is:
 *       a route present stays, an absent one is not added. After a
 *       restart the adopted table is what serves; only a verdict of the
 *       checks withdraws ("withdraw only on a real verdict").
 *   none                                       -> no
 *
 * One route per address: several VIPs on one address (ports, protocols)
 * share it, and it is announced when any of them says yes (or holds it
 * while one is still unknown and it is present). Routes of the table and
 * protocol that no VIP wants (a removed VIP, an older configuration) go.
 */
#ifndef XLB_ANNOUNCE_PLAN_H
#define XLB_ANNOUNCE_PLAN_H

#include <stddef.h>
#include <linux/types.h>

#include "config.h"
#include "routes.h"

enum xlb_ann_why {
	XLB_ANN_USABLE = 0,	 /* yes: a usable backend */
	XLB_ANN_ALWAYS = 1,	 /* yes: announce: always */
	XLB_ANN_PENDING = 2,	 /* as it is: health still unknown */
	XLB_ANN_OFF = 3,	 /* no: no announce block in the configuration */
	XLB_ANN_NEVER = 4,	 /* no: announce: never */
	XLB_ANN_DETACHED = 5,	 /* no: the program is not attached */
	XLB_ANN_MAINTENANCE = 6, /* no: maintenance */
	XLB_ANN_NO_USABLE = 7,	 /* no: no usable backend */
};

/* One VIP as the decision sees it. */
struct xlb_ann_vip {
	struct xlb_route route; /* its address */
	__u8 mode;		/* enum xlb_announce */
	__u8 usable;		/* a backend has a share of the table */
	__u8 pending;		/* an enabled backend's health is unknown */
	__u8 maintenance;	/* the host or this VIP is in maintenance */
};

int xlb_ann_decide(int on, int attached, const struct xlb_ann_vip *v);
/* 1 yes, 0 no, -1 keep what is there (pending). */
int xlb_ann_wants(int why);
/* "no usable backend", "maintenance"...: for logs, events and status. */
const char *xlb_ann_why_text(int why);

int xlb_route_equal(const struct xlb_route *a, const struct xlb_route *b);

/*
 * The routes to add and to remove so that the table holds what the VIPs
 * (why[i] decided for v[i]) want, given the routes present. add and del
 * have room for n and np entries; add_why[k] / del_why[k]: the decision
 * behind each (del: XLB_ANN_NO_USABLE... of the address's first VIP, or
 * -1 when no VIP has that address any more). Counts in *nadd, *ndel.
 */
void xlb_ann_plan(const struct xlb_ann_vip *v, const int *why, size_t n,
		  const struct xlb_route *present, size_t np, struct xlb_route *add, int *add_why,
		  size_t *nadd, struct xlb_route *del, int *del_why, size_t *ndel);

#endif /* XLB_ANNOUNCE_PLAN_H */
