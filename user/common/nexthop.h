/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Next-hop MACs from the kernel (libnl): route lookup for the backend's
 * address, then the neighbour table of the route's interface. A missing
 * neighbour entry is prompted (a zero-length UDP datagram to the discard
 * port makes the kernel resolve it by ARP or ND) and reported as -EAGAIN;
 * the caller asks again later. Nobody types MAC addresses.
 */
#ifndef XLB_NEXTHOP_H
#define XLB_NEXTHOP_H

#include "xlb_abi.h"

struct xlb_nh;

struct xlb_nh *xlb_nh_new(void);
void xlb_nh_free(struct xlb_nh *nh);

/* Re-read the neighbour table (once per round of resolutions). */
int xlb_nh_refresh(struct xlb_nh *nh);
/* Look routes up again (done by itself on route, link or address events). */
void xlb_nh_forget_routes(struct xlb_nh *nh);

/*
 * The MAC to send a backend's packets to. 0, or -EHOSTUNREACH (no route),
 * -EADDRNOTAVAIL (the address is local), -EAGAIN (being resolved), -ENXIO
 * (the neighbour failed to answer).
 */
int xlb_nh_resolve(struct xlb_nh *nh, const union xlb_addr *addr, __u8 mac[6]);

/*
 * A non-blocking netlink socket subscribed to neighbour, link and route
 * changes, for the caller's event loop; xlb_nh_events_read() empties it and
 * returns how many messages change something (resolve again then): a
 * known neighbour that only moves between reachable, stale, delay and probe
 * with the same MAC does not count.
 */
int xlb_nh_events_open(struct xlb_nh *nh);
int xlb_nh_events_read(struct xlb_nh *nh);

/* "resolving", "no route", ... for an xlb_nh_resolve() error. */
const char *xlb_nh_strerror(int err);

#endif /* XLB_NEXTHOP_H */
