/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inside the next-hop resolver (nexthop.h), shared by its two files:
 * nexthop.c (the tables and lookups) and nexthop_events.c (netlink: the
 * change events and the neighbour dump that fills the table).
 */
#ifndef XLB_NEXTHOP_INT_H
#define XLB_NEXTHOP_INT_H

#include <linux/netlink.h>

#include "nexthop.h"

struct nh_neigh {
	union xlb_addr addr;
	int ifindex; /* 0: free slot */
	int state;
	__u8 mac[6], has_mac;
};

struct nh_route {
	union xlb_addr dst;
	int used;
	int stale; /* a change may have moved it: ask the kernel again */
	int type;  /* RTN_*, or -1: no route */
	int ifindex;
	union xlb_addr hop;
};

struct xlb_nh {
	struct nl_sock *sk;
	struct nl_sock *events;
	struct nh_neigh *neighs;
	size_t nneighs, used_neighs; /* slots (a power of two), entries */
	int need_refill;	     /* at first, and after lost events */
	struct nh_route *routes;
	size_t nroutes, used_routes;
	/* the used route slots ordered by address, for the prefix of a
	 * route event; rebuilt when routes were added since */
	__u32 *by_addr;
	size_t nby_addr;
	int by_addr_dirty;
	size_t cursor;	    /* the safety net's next route slot */
	unsigned int ticks; /* without events: ticks since the last full re-check */
	struct xlb_nh_stats st;
};

#define NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

/* nexthop.c: the neighbour table. */
struct nh_neigh *nh_neigh_find(const struct xlb_nh *nh, int ifindex, const union xlb_addr *a);
int nh_neigh_put(struct xlb_nh *nh, const struct nh_neigh *e);
void nh_neigh_del(struct xlb_nh *nh, struct nh_neigh *e);
void nh_neigh_clear(struct xlb_nh *nh);
/* nexthop.c: mark the cached routes inside prefix/len stale (all of one
 * family with len 0); returns how many. v4 prefixes in the mapped form. */
int nh_routes_in_prefix(struct xlb_nh *nh, const union xlb_addr *prefix, int len, int v4);

/* nexthop_events.c: one neighbour message (event or dump) into the table;
 * 1 when it changes what xlb_nh_resolve() answers for that neighbour. */
int nh_neigh_msg(struct xlb_nh *nh, const struct nlmsghdr *h);
/* nexthop_events.c: the table from a dump of the kernel's. */
int nh_neigh_dump(struct xlb_nh *nh);

#endif /* XLB_NEXTHOP_INT_H */
