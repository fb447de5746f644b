/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Next-hop MACs from the kernel (libnl): route lookup for the backend's
 * address, then the neighbour table of the route's interface. A missing
 * neighbour entry is prompted (a zero-length UDP datagram to the discard
 * port makes the kernel resolve it by ARP or ND) and reported as -EAGAIN;
 * the caller asks again later. Nobody types MAC addresses.
 *
 * Both tables follow the kernel's change events (xlb_nh_events_open()):
 * a neighbour message updates its one entry, a route message marks stale
 * only the known routes inside its prefix (longest-prefix match: a route
 * for P can only change the lookup of addresses in P), so neither a busy
 * neighbour table nor a BGP daemon's route churn makes every backend be
 * looked up again. The whole neighbour table is read at first and after
 * lost events (ENOBUFS); a link change or lost events forget every route;
 * xlb_nh_tick() re-asks the known routes a slice at a time as a safety net.
 */
#ifndef XLB_NEXTHOP_H
#define XLB_NEXTHOP_H

#include "xlb_abi.h"

struct xlb_nh;

struct xlb_nh *xlb_nh_new(void);
void xlb_nh_free(struct xlb_nh *nh);

/*
 * Before a round of resolutions: the kernel's whole neighbour table is
 * read at first, after lost events, and every time when no event socket
 * is open; otherwise the events keep it (xlb_nh_events_read()).
 */
int xlb_nh_refresh(struct xlb_nh *nh);
/* Look every route up again (done by itself on link events). */
void xlb_nh_forget_routes(struct xlb_nh *nh);
/*
 * The safety net for route changes no event told of; call once a tick.
 * Asks the kernel again for a slice of the known routes, so that each is
 * asked once every ticks_per_pass ticks, spread evenly (without an event
 * socket: forgets them all and re-reads the neighbours once per pass).
 * Returns how many routes changed (resolve again then).
 */
int xlb_nh_tick(struct xlb_nh *nh, unsigned int ticks_per_pass);

/* What the resolver asked of the kernel, since xlb_nh_new() (tests, bench). */
struct xlb_nh_stats {
	__u64 route_lookups; /* RTM_GETROUTE, one route each */
	__u64 neigh_dumps;   /* reads of the whole neighbour table */
	__u64 events;	     /* change messages read */
	__u64 events_lost;   /* the socket overflowed (ENOBUFS) */
	__u64 routes_stale;  /* known routes a route event marked */
};
const struct xlb_nh_stats *xlb_nh_stats(const struct xlb_nh *nh);

/*
 * The MAC to send a backend's packets to. 0, or -EHOSTUNREACH (no route),
 * -EADDRNOTAVAIL (the address is local), -EAGAIN (being resolved), -ENXIO
 * (the neighbour failed to answer).
 */
int xlb_nh_resolve(struct xlb_nh *nh, const union xlb_addr *addr, __u8 mac[6]);

/*
 * A non-blocking netlink socket subscribed to neighbour, link and route
 * changes, for the caller's event loop; xlb_nh_events_read() empties it,
 * applies each message and returns how many change an answer of
 * xlb_nh_resolve() (resolve again then): a neighbour that only moves
 * between reachable, stale, delay and probe with the same MAC, or a route
 * whose prefix holds no backend, does not count.
 */
int xlb_nh_events_open(struct xlb_nh *nh);
int xlb_nh_events_read(struct xlb_nh *nh);

/* "resolving", "no route", ... for an xlb_nh_resolve() error. */
const char *xlb_nh_strerror(int err);

#endif /* XLB_NEXTHOP_H */
