/* xlbd's announcements as routes in a dedicated kernel routing table
 * (issue #13): one route per announced VIP address (/32 or /128, via
 * dev lo), tagged with a route protocol of xlb's own, which a BGP daemon
 * (BIRD's kernel protocol with `learn`, FRR's `ip import-table`) imports
 * and exports to its peers. Only routes of that table AND protocol are
 * ever touched. */
#ifndef XLB_ROUTES_H
#define XLB_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "xlb_abi.h"

struct xlb_route {
	union xlb_addr addr; /* v4 mapped as everywhere in xlb */
	__u8 family;	     /* XLB_AF_INET / XLB_AF_INET6 */
};

/* Add (idempotent) or remove (absent is fine) one prefix. 0 or -errno. */
int xlb_route_set(__u32 table, __u8 protocol, const struct xlb_route *r, bool on);
/* Replace the route of r's prefix in table (whatever its protocol) by one
 * of this protocol, in one step: for a route of xlbd's own under its old
 * protocol, which the caller has just listed. 0 or -errno. */
int xlb_route_replace(__u32 table, __u8 protocol, const struct xlb_route *r);
/* The prefixes present now: up to max into out; returns the count (which
 * may exceed max: call again with more room) or -errno. */
int xlb_routes_list(__u32 table, __u8 protocol, struct xlb_route *out, size_t max);
/* Remove every route of table+protocol; returns how many went or -errno. */
int xlb_routes_flush(__u32 table, __u8 protocol);

#endif
