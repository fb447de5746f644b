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
#include <netlink/route/neighbour.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

#include "nexthop.h"
#include "xlb_dp.h"

/*
 * Lookups at scale: libnl's rtnl_neigh_get() walks the whole cache and a
 * route lookup is a netlink round trip, so with 10,000 backends one round
 * of resolutions took seconds. Both are kept in open-addressing tables
 * here: neighbours rebuilt from the cache at each refresh, routes kept
 * until a route, link or address change (or xlb_nh_forget_routes()).
 */
struct nh_neigh {
	union xlb_addr addr;
	int ifindex; /* 0: free slot */
	int state;
	__u8 mac[6], has_mac;
};

struct nh_route {
	union xlb_addr dst;
	int used;
	int type; /* RTN_*, or -1: no route */
	int ifindex;
	union xlb_addr hop;
};

struct xlb_nh {
	struct nl_sock *sk;
	struct nl_cache *neigh;
	struct nl_sock *events;
	struct nh_neigh *neighs;
	size_t nneighs; /* slots, a power of two */
	struct nh_route *routes;
	size_t nroutes, used_routes;
};

#define NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

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
	nh->sk = nl_socket_alloc();
	if (!nh->sk || nl_connect(nh->sk, NETLINK_ROUTE) ||
	    rtnl_neigh_alloc_cache(nh->sk, &nh->neigh)) {
		xlb_nh_free(nh);
		return NULL;
	}
	return nh;
}

void xlb_nh_free(struct xlb_nh *nh)
{
	if (!nh)
		return;
	if (nh->neigh)
		nl_cache_free(nh->neigh);
	free(nh->neighs);
	free(nh->routes);
	if (nh->sk)
		nl_socket_free(nh->sk);
	if (nh->events)
		nl_socket_free(nh->events);
	free(nh);
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

static void index_neigh(struct nl_object *obj, void *arg)
{
	struct xlb_nh *nh = arg;
	struct rtnl_neigh *n = (struct rtnl_neigh *)obj;
	struct nl_addr *dst = rtnl_neigh_get_dst(n), *ll = rtnl_neigh_get_lladdr(n);
	struct nh_neigh e = {.ifindex = rtnl_neigh_get_ifindex(n),
			     .state = rtnl_neigh_get_state(n)};
	size_t i;

	if (!dst || e.ifindex <= 0)
		return;
	from_nl_addr(dst, &e.addr);
	if (ll && nl_addr_get_len(ll) == 6) {
		memcpy(e.mac, nl_addr_get_binary_addr(ll), 6);
		e.has_mac = 1;
	}
	for (i = addr_slot(&e.addr, e.ifindex, nh->nneighs); nh->neighs[i].ifindex;
	     i = (i + 1) & (nh->nneighs - 1))
		if (nh->neighs[i].ifindex == e.ifindex &&
		    !memcmp(&nh->neighs[i].addr, &e.addr, sizeof(e.addr)))
			break;
	nh->neighs[i] = e;
}

int xlb_nh_refresh(struct xlb_nh *nh)
{
	size_t n = 64;

	if (nl_cache_refill(nh->sk, nh->neigh))
		return -EIO;
	while (n < 2 * (size_t)nl_cache_nitems(nh->neigh))
		n *= 2;
	if (n != nh->nneighs) {
		free(nh->neighs);
		nh->neighs = calloc(n, sizeof(*nh->neighs));
		nh->nneighs = nh->neighs ? n : 0;
		if (!nh->neighs)
			return -ENOMEM;
	} else {
		memset(nh->neighs, 0, n * sizeof(*nh->neighs));
	}
	nl_cache_foreach(nh->neigh, index_neigh, nh);
	return 0;
}

void xlb_nh_forget_routes(struct xlb_nh *nh)
{
	if (nh->routes)
		memset(nh->routes, 0, nh->nroutes * sizeof(*nh->routes));
	nh->used_routes = 0;
}

static const struct nh_neigh *find_neigh(const struct xlb_nh *nh, int ifindex,
					 const union xlb_addr *a)
{
	if (!nh->nneighs)
		return NULL;
	for (size_t i = addr_slot(a, ifindex, nh->nneighs); nh->neighs[i].ifindex;
	     i = (i + 1) & (nh->nneighs - 1))
		if (nh->neighs[i].ifindex == ifindex && !memcmp(&nh->neighs[i].addr, a, sizeof(*a)))
			return &nh->neighs[i];
	return NULL;
}

static struct nl_addr *to_nl_addr(const union xlb_addr *a)
{
	if (xlb_addr_is_v4(a))
		return nl_addr_build(AF_INET, &a->w[3], 4);
	return nl_addr_build(AF_INET6, a->b, 16);
}

/* The route to addr, from the table or asked of the kernel. */
static const struct nh_route *route_to(struct xlb_nh *nh, const union xlb_addr *addr)
{
	struct nl_addr *dst;
	struct rtnl_route *route = NULL;
	struct nh_route r = {.dst = *addr, .used = 1, .type = -1};
	size_t i;

	if (nh->used_routes * 2 >= nh->nroutes) { /* grow (and start over) */
		size_t n = nh->nroutes ? nh->nroutes * 4 : 256;
		struct nh_route *t = calloc(n, sizeof(*t));

		if (!t)
			return NULL;
		free(nh->routes);
		nh->routes = t;
		nh->nroutes = n;
		nh->used_routes = 0;
	}
	for (i = addr_slot(addr, 0, nh->nroutes); nh->routes[i].used;
	     i = (i + 1) & (nh->nroutes - 1))
		if (!memcmp(&nh->routes[i].dst, addr, sizeof(*addr)))
			return &nh->routes[i];
	dst = to_nl_addr(addr);
	if (!dst)
		return NULL;
	if (!rtnl_route_lookup(nh->sk, dst, &route) && route) {
		struct rtnl_nexthop *rnh;

		r.type = rtnl_route_get_type(route);
		if (r.type == RTN_UNICAST && rtnl_route_get_nnexthops(route) >= 1) {
			rnh = rtnl_route_nexthop_n(route, 0);
			r.ifindex = rtnl_route_nh_get_ifindex(rnh);
			if (rtnl_route_nh_get_gateway(rnh))
				from_nl_addr(rtnl_route_nh_get_gateway(rnh), &r.hop);
			else
				r.hop = *addr;
		}
		rtnl_route_put(route);
	}
	nl_addr_put(dst);
	nh->routes[i] = r;
	nh->used_routes++;
	return &nh->routes[i];
}

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
	n = find_neigh(nh, r->ifindex, &r->hop);
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

int xlb_nh_events_open(struct xlb_nh *nh)
{
	nh->events = nl_socket_alloc();
	if (!nh->events)
		return -ENOMEM;
	nl_socket_disable_seq_check(nh->events);
	if (nl_connect(nh->events, NETLINK_ROUTE) ||
	    nl_socket_add_memberships(nh->events, RTNLGRP_NEIGH, RTNLGRP_LINK, RTNLGRP_IPV4_ROUTE,
				      RTNLGRP_IPV6_ROUTE, 0) ||
	    nl_socket_set_nonblocking(nh->events)) {
		nl_socket_free(nh->events);
		nh->events = NULL;
		return -EIO;
	}
	return nl_socket_get_fd(nh->events);
}

/*
 * Does this neighbour message change a next hop we know? Entries we use
 * cycle through reachable, stale, delay and probe all the time (health
 * checks talk to every backend): with the same MAC that changes nothing,
 * and re-resolving 10,000 backends for it would keep the agent busy.
 */
static int neigh_changes(struct xlb_nh *nh, struct nlmsghdr *h)
{
	struct ndmsg *nd = NLMSG_DATA(h);
	int alen = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*nd));
	const __u8 *mac = NULL;
	union xlb_addr a = {};
	struct nh_neigh *e;
	int have_dst = 0, usable;

	if (alen < 0)
		return 1;
	for (struct rtattr *rta = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
	     RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
		if (rta->rta_type == NDA_DST && RTA_PAYLOAD(rta) == 4) {
			a.w[2] = htonl(0xffff);
			memcpy(&a.w[3], RTA_DATA(rta), 4);
			have_dst = 1;
		} else if (rta->rta_type == NDA_DST && RTA_PAYLOAD(rta) == 16) {
			memcpy(a.b, RTA_DATA(rta), 16);
			have_dst = 1;
		} else if (rta->rta_type == NDA_LLADDR && RTA_PAYLOAD(rta) == 6) {
			mac = RTA_DATA(rta);
		}
	}
	e = have_dst ? (struct nh_neigh *)find_neigh(nh, nd->ndm_ifindex, &a) : NULL;
	if (!e)
		return 1; /* not one we know: maybe one being resolved */
	usable = h->nlmsg_type == RTM_NEWNEIGH && (nd->ndm_state & NUD_USABLE) && mac;
	if (usable && e->has_mac && (e->state & NUD_USABLE) && !memcmp(e->mac, mac, 6)) {
		e->state = nd->ndm_state;
		return 0;
	}
	return 1;
}

int xlb_nh_events_read(struct xlb_nh *nh)
{
	char buf[8192] __attribute__((aligned(4)));
	ssize_t len;
	int n = 0;

	/* A route or link change also means the routes we know may be wrong. */
	while ((len = recv(nl_socket_get_fd(nh->events), buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == RTM_NEWNEIGH || h->nlmsg_type == RTM_DELNEIGH) {
				n += neigh_changes(nh, h);
			} else {
				xlb_nh_forget_routes(nh);
				n++;
			}
		}
	}
	return n;
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
