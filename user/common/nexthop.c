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

struct xlb_nh {
	struct nl_sock *sk;
	struct nl_cache *neigh;
	struct nl_sock *events;
};

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
	if (nh->sk)
		nl_socket_free(nh->sk);
	if (nh->events)
		nl_socket_free(nh->events);
	free(nh);
}

int xlb_nh_refresh(struct xlb_nh *nh)
{
	return nl_cache_refill(nh->sk, nh->neigh) ? -EIO : 0;
}

static struct nl_addr *to_nl_addr(const union xlb_addr *a)
{
	if (xlb_addr_is_v4(a))
		return nl_addr_build(AF_INET, &a->w[3], 4);
	return nl_addr_build(AF_INET6, a->b, 16);
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
	struct nl_addr *dst = to_nl_addr(addr), *hop;
	struct rtnl_route *route = NULL;
	struct rtnl_nexthop *rnh;
	struct rtnl_neigh *neigh;
	int ifindex, ret = -EHOSTUNREACH;

	if (!dst)
		return -ENOMEM;
	if (rtnl_route_lookup(nh->sk, dst, &route) || !route)
		goto out;
	if (rtnl_route_get_type(route) == RTN_LOCAL) {
		ret = -EADDRNOTAVAIL;
		goto out;
	}
	if (rtnl_route_get_type(route) != RTN_UNICAST || rtnl_route_get_nnexthops(route) < 1)
		goto out;
	rnh = rtnl_route_nexthop_n(route, 0);
	ifindex = rtnl_route_nh_get_ifindex(rnh);
	hop = rtnl_route_nh_get_gateway(rnh) ?: dst;
	neigh = rtnl_neigh_get(nh->neigh, ifindex, hop);
	ret = -EAGAIN;
	if (neigh) {
		int state = rtnl_neigh_get_state(neigh);
		struct nl_addr *ll = rtnl_neigh_get_lladdr(neigh);

		if ((state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT |
			      NUD_NOARP)) &&
		    ll && nl_addr_get_len(ll) == 6) {
			memcpy(mac, nl_addr_get_binary_addr(ll), 6);
			ret = 0;
		} else if (state & NUD_FAILED) {
			ret = -ENXIO;
		}
		rtnl_neigh_put(neigh);
	}
	if (ret)
		prompt(hop);
out:
	if (route)
		rtnl_route_put(route);
	nl_addr_put(dst);
	return ret;
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

int xlb_nh_events_read(struct xlb_nh *nh)
{
	char buf[8192];
	int n = 0;

	/* What changed does not matter: any change means resolving again. */
	while (recv(nl_socket_get_fd(nh->events), buf, sizeof(buf), MSG_DONTWAIT) > 0)
		n++;
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
