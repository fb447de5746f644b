// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

#include "nexthop_int.h"
#include "xlb_dp.h"

/*
 * Lookups at scale: a route lookup is a netlink round trip, so with 10,000
 * backends one round of resolutions took seconds. Both are kept in
 * open-addressing tables here: neighbours as the kernel's events (or a dump)
 * say, routes until an event marks them stale (nexthop_int.h).
 */

static size_t addr_slot(const union xlb_addr *a, int salt, size_t n)
{
	__u64 x = 0x9e3779b97f4a7c15ULL * (__u64)(salt + 1);

	for (int i = 0; i < 4; i++) {
		x ^= a->w[i];
		x *= 0xff51afd7ed558ccdULL;
		x ^= x >> 33;
	}
	return (size_t)x & (n - 1);
}

struct xlb_nh *xlb_nh_new(void)
{
	struct xlb_nh *nh = calloc(1, sizeof(*nh));

	if (!nh)
		return NULL;
	nh->need_refill = 1;
	nh->sk = nl_socket_alloc();
	if (!nh->sk || nl_connect(nh->sk, NETLINK_ROUTE)) {
		xlb_nh_free(nh);
		return NULL;
	}
	return nh;
}

void xlb_nh_free(struct xlb_nh *nh)
{
	if (!nh)
		return;
	free(nh->neighs);
	free(nh->routes);
	free(nh->by_addr);
	if (nh->sk)
		nl_socket_free(nh->sk);
	if (nh->events)
		nl_socket_free(nh->events);
	free(nh);
}

const struct xlb_nh_stats *xlb_nh_stats(const struct xlb_nh *nh)
{
	return &nh->st;
}

static void from_nl_addr(const struct nl_addr *n, union xlb_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (nl_addr_get_family(n) == AF_INET) {
		a->w[2] = htonl(0xffff);
		memcpy(&a->w[3], nl_addr_get_binary_addr(n), 4);
	} else if (nl_addr_get_len(n) == 16) {
		memcpy(a->b, nl_addr_get_binary_addr(n), 16);
	}
}

/* ---- the neighbour table ---------------------------------------------- */

struct nh_neigh *nh_neigh_find(const struct xlb_nh *nh, int ifindex, const union xlb_addr *a)
{
	if (!nh->nneighs)
		return NULL;
	for (size_t i = addr_slot(a, ifindex, nh->nneighs); nh->neighs[i].ifindex;
	     i = (i + 1) & (nh->nneighs - 1))
		if (nh->neighs[i].ifindex == ifindex && !memcmp(&nh->neighs[i].addr, a, sizeof(*a)))
			return &nh->neighs[i];
	return NULL;
}

static void neigh_place(struct nh_neigh *t, size_t n, const struct nh_neigh *e)
{
	size_t i;

	for (i = addr_slot(&e->addr, e->ifindex, n); t[i].ifindex; i = (i + 1) & (n - 1))
		if (t[i].ifindex == e->ifindex && !memcmp(&t[i].addr, &e->addr, sizeof(e->addr)))
			break;
	t[i] = *e;
}

int nh_neigh_put(struct xlb_nh *nh, const struct nh_neigh *e)
{
	struct nh_neigh *have = nh_neigh_find(nh, e->ifindex, &e->addr);

	if (have) {
		*have = *e;
		return 0;
	}
	if ((nh->used_neighs + 1) * 2 > nh->nneighs) { /* grow: at most half full */
		size_t n = nh->nneighs ? nh->nneighs * 2 : 64;
		struct nh_neigh *t = calloc(n, sizeof(*t));

		if (!t)
			return -ENOMEM;
		for (size_t i = 0; i < nh->nneighs; i++)
			if (nh->neighs[i].ifindex)
				neigh_place(t, n, &nh->neighs[i]);
		free(nh->neighs);
		nh->neighs = t;
		nh->nneighs = n;
	}
	neigh_place(nh->neighs, nh->nneighs, e);
	nh->used_neighs++;
	return 0;
}

/* Linear probing without tombstones: the entries after the hole that
 * would no longer be reached move back into it. */
void nh_neigh_del(struct xlb_nh *nh, struct nh_neigh *e)
{
	size_t mask = nh->nneighs - 1, hole = (size_t)(e - nh->neighs), i = hole;

	nh->neighs[hole].ifindex = 0;
	nh->used_neighs--;
	for (;;) {
		size_t home;

		i = (i + 1) & mask;
		if (!nh->neighs[i].ifindex)
			return;
		home = addr_slot(&nh->neighs[i].addr, nh->neighs[i].ifindex, nh->nneighs);
		/* it stays when its home lies cyclically in (hole, i] */
		if (hole < i ? (home > hole && home <= i) : (home > hole || home <= i))
			continue;
		nh->neighs[hole] = nh->neighs[i];
		nh->neighs[i].ifindex = 0;
		hole = i;
	}
}

void nh_neigh_clear(struct xlb_nh *nh)
{
	if (nh->neighs)
		memset(nh->neighs, 0, nh->nneighs * sizeof(*nh->neighs));
	nh->used_neighs = 0;
}

int xlb_nh_refresh(struct xlb_nh *nh)
{
	int err;

	/* Events waiting in the socket are left to the caller's loop (which
	 * also follows the NIC's own changes from them): it reads them in its
	 * next turn, and what they change is resolved again then. */
	if (!nh->need_refill && nh->events)
		return 0;
	err = nh_neigh_dump(nh);
	if (!err)
		nh->need_refill = 0;
	return err;
}

/* ---- the route table --------------------------------------------------- */

void xlb_nh_forget_routes(struct xlb_nh *nh)
{
	if (nh->routes)
		memset(nh->routes, 0, nh->nroutes * sizeof(*nh->routes));
	nh->used_routes = 0;
	nh->nby_addr = 0;
	nh->by_addr_dirty = 0;
	nh->cursor = 0;
}

static struct nl_addr *to_nl_addr(const union xlb_addr *a)
{
	if (xlb_addr_is_v4(a))
		return nl_addr_build(AF_INET, &a->w[3], 4);
	return nl_addr_build(AF_INET6, a->b, 16);
}

/* Ask the kernel for the route to r->dst; fills type, ifindex, hop. */
static void ask_route(struct xlb_nh *nh, struct nh_route *r)
{
	struct nl_addr *dst = to_nl_addr(&r->dst);
	struct rtnl_route *route = NULL;

	r->type = -1;
	r->ifindex = 0;
	memset(&r->hop, 0, sizeof(r->hop));
	r->stale = 0;
	if (!dst)
		return;
	nh->st.route_lookups++;
	if (!rtnl_route_lookup(nh->sk, dst, &route) && route) {
		struct rtnl_nexthop *rnh;

		r->type = rtnl_route_get_type(route);
		if (r->type == RTN_UNICAST && rtnl_route_get_nnexthops(route) >= 1) {
			rnh = rtnl_route_nexthop_n(route, 0);
			r->ifindex = rtnl_route_nh_get_ifindex(rnh);
			if (rtnl_route_nh_get_gateway(rnh))
				from_nl_addr(rtnl_route_nh_get_gateway(rnh), &r->hop);
			else
				r->hop = r->dst;
		}
		rtnl_route_put(route);
	}
	nl_addr_put(dst);
}

/* The route to addr, from the table or asked of the kernel. */
static const struct nh_route *route_to(struct xlb_nh *nh, const union xlb_addr *addr)
{
	size_t i;

	if (nh->used_routes * 2 >= nh->nroutes) { /* grow (and start over) */
		size_t n = nh->nroutes ? nh->nroutes * 4 : 256;
		struct nh_route *t = calloc(n, sizeof(*t));
		__u32 *o = calloc(n / 2, sizeof(*o));

		if (!t || !o) {
			free(t);
			free(o);
			return NULL;
		}
		free(nh->routes);
		free(nh->by_addr);
		nh->routes = t;
		nh->by_addr = o;
		nh->nroutes = n;
		xlb_nh_forget_routes(nh);
	}
	for (i = addr_slot(addr, 0, nh->nroutes); nh->routes[i].used;
	     i = (i + 1) & (nh->nroutes - 1))
		if (!memcmp(&nh->routes[i].dst, addr, sizeof(*addr))) {
			if (nh->routes[i].stale)
				ask_route(nh, &nh->routes[i]);
			return &nh->routes[i];
		}
	nh->routes[i] = (struct nh_route){.dst = *addr, .used = 1};
	ask_route(nh, &nh->routes[i]);
	nh->used_routes++;
	nh->by_addr_dirty = 1;
	return &nh->routes[i];
}

static const struct xlb_nh *sort_nh; /* qsort has no context argument */

static int by_dst(const void *a, const void *b)
{
	return memcmp(&sort_nh->routes[*(const __u32 *)a].dst,
		      &sort_nh->routes[*(const __u32 *)b].dst, sizeof(union xlb_addr));
}

static void sort_routes(struct xlb_nh *nh)
{
	nh->nby_addr = 0;
	for (size_t i = 0; i < nh->nroutes; i++)
		if (nh->routes[i].used)
			nh->by_addr[nh->nby_addr++] = (__u32)i;
	sort_nh = nh;
	qsort(nh->by_addr, nh->nby_addr, sizeof(*nh->by_addr), by_dst);
	sort_nh = NULL;
	nh->by_addr_dirty = 0;
}

int nh_routes_in_prefix(struct xlb_nh *nh, const union xlb_addr *prefix, int len, int v4)
{
	union xlb_addr lo = *prefix, hi = *prefix;
	int bits = v4 ? 96 + len : len, n = 0;
	size_t first = 0, last;

	if (!nh->used_routes)
		return 0;
	if (nh->by_addr_dirty)
		sort_routes(nh);
	if (bits < 0 || bits > 128)
		return 0;
	for (int i = bits; i < 128; i++) { /* the prefix's first and last address */
		__u8 m = (__u8)(0x80 >> (i % 8));

		lo.b[i / 8] &= (__u8)~m;
		hi.b[i / 8] |= m;
	}
	last = nh->nby_addr;
	while (first < last) { /* the first route at or above lo */
		size_t mid = first + (last - first) / 2;

		if (memcmp(&nh->routes[nh->by_addr[mid]].dst, &lo, sizeof(lo)) < 0)
			first = mid + 1;
		else
			last = mid;
	}
	for (size_t i = first; i < nh->nby_addr; i++) {
		struct nh_route *r = &nh->routes[nh->by_addr[i]];

		if (memcmp(&r->dst, &hi, sizeof(hi)) > 0)
			break;
		/* an IPv6 prefix short enough to hold the mapped range is
		 * about IPv6 lookups: IPv4 backends are looked up as IPv4 */
		if (!v4 && xlb_addr_is_v4(&r->dst))
			continue;
		if (!r->stale) {
			r->stale = 1;
			n++;
		}
	}
	nh->st.routes_stale += (__u64)n;
	return n;
}

int xlb_nh_tick(struct xlb_nh *nh, unsigned int ticks_per_pass)
{
	size_t slice;
	int changed = 0;

	if (!ticks_per_pass)
		ticks_per_pass = 1;
	if (!nh->events) { /* nothing tells of changes: all at once, as before */
		if (++nh->ticks < ticks_per_pass)
			return 0;
		nh->ticks = 0;
		xlb_nh_forget_routes(nh);
		nh->need_refill = 1;
		return 1;
	}
	slice = (nh->nroutes + ticks_per_pass - 1) / ticks_per_pass;
	for (size_t k = 0; k < slice && nh->nroutes; k++) {
		struct nh_route *r = &nh->routes[nh->cursor];

		nh->cursor = (nh->cursor + 1) % nh->nroutes;
		if (r->used && !r->stale) {
			struct nh_route was = *r;

			ask_route(nh, r);
			if (was.type != r->type || was.ifindex != r->ifindex ||
			    memcmp(&was.hop, &r->hop, sizeof(r->hop)))
				changed++;
		}
	}
	return changed;
}

/* ---- resolution -------------------------------------------------------- */

/* Make the kernel resolve `hop` (ARP or ND) by sending it something. */
static void prompt(const struct nl_addr *hop)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	int fd;

	if (nl_addr_get_family(hop) == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(9); /* discard */
		memcpy(&sin->sin_addr, nl_addr_get_binary_addr(hop), 4);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(9);
		memcpy(&sin6->sin6_addr, nl_addr_get_binary_addr(hop), 16);
		len = sizeof(*sin6);
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, "", 0, MSG_DONTWAIT, (struct sockaddr *)&ss, len);
	close(fd);
}

int xlb_nh_resolve(struct xlb_nh *nh, const union xlb_addr *addr, __u8 mac[6])
{
	const struct nh_route *r = route_to(nh, addr);
	const struct nh_neigh *n;
	struct nl_addr *hop;

	if (!r)
		return -ENOMEM;
	if (r->type == RTN_LOCAL)
		return -EADDRNOTAVAIL;
	if (r->type != RTN_UNICAST || !r->ifindex)
		return -EHOSTUNREACH;
	n = nh_neigh_find(nh, r->ifindex, &r->hop);
	if (n && n->has_mac && (n->state & NUD_USABLE)) {
		memcpy(mac, n->mac, 6);
		return 0;
	}
	hop = to_nl_addr(&r->hop);
	if (hop) {
		prompt(hop);
		nl_addr_put(hop);
	}
	return n && (n->state & NUD_FAILED) ? -ENXIO : -EAGAIN;
}

const char *xlb_nh_strerror(int err)
{
	switch (err) {
	case 0:
		return "resolved";
	case -EAGAIN:
		return "next hop being resolved (ARP/ND)";
	case -EHOSTUNREACH:
		return "no route to the backend";
	case -EADDRNOTAVAIL:
		return "the backend address is local to this host";
	case -ENXIO:
		return "next hop does not answer ARP/ND";
	}
	return strerror(-err);
}
