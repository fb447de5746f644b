// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Checks through the VIP need the VIP routed out of the NIC; see via_route.h. */
#include <errno.h>
#include <stdio.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/route.h>
#include <linux/rtnetlink.h>

#include "agent.h"
#include "via_route.h"
#include "xlb_dp.h"

/* The route this host would use to a: its type and device (0: none). */
static int route_of(struct nl_sock *sk, const union xlb_addr *a, int *type, int *ifindex)
{
	struct nl_addr *dst = xlb_addr_is_v4(a) ? nl_addr_build(AF_INET, &a->w[3], 4)
						: nl_addr_build(AF_INET6, a->b, 16);
	struct rtnl_route *route = NULL;
	int err;

	*type = -1;
	*ifindex = 0;
	if (!dst)
		return -ENOMEM;
	err = rtnl_route_lookup(sk, dst, &route);
	nl_addr_put(dst);
	if (err || !route)
		return 0; /* no route */
	*type = rtnl_route_get_type(route);
	if (rtnl_route_get_nnexthops(route) >= 1)
		*ifindex = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, 0));
	rtnl_route_put(route);
	return 0;
}

int via_routes_ok(const struct agent *ag, const struct xlb_cfg *next, struct xlb_err *err)
{
	struct nl_sock *sk = NULL;
	int ret = 0;

	for (size_t i = 0; !ret && i < next->nvips; i++) {
		const struct xlb_cfg_vip *v = &next->vips[i];
		char vn[80], a[48], dev[IF_NAMESIZE] = "";
		int type, ifindex;

		if (v->check.via != XLB_CHECK_VIA_VIP)
			continue;
		if (!sk) {
			sk = nl_socket_alloc();
			if (!sk || nl_connect(sk, NETLINK_ROUTE)) {
				ret = -ENOMEM; /* cannot tell: do not refuse for it */
				break;
			}
		}
		route_of(sk, &v->addr, &type, &ifindex);
		if (type == RTN_UNICAST && ifindex == ag->ifindex)
			continue;
		xlb_cfg_vip_name(v, vn, sizeof(vn));
		xlb_addr_str(&v->addr, a, sizeof(a));
		if (type == RTN_LOCAL)
			snprintf(err->msg, sizeof(err->msg),
				 "couldn't apply VIP %s with check via vip: %s is an address of "
				 "this "
				 "host, so a probe to it never leaves; remove it from this host's "
				 "interfaces, or use 'check: {via: backend}'; nothing changed",
				 vn, a);
		else if (type < 0 || !ifindex)
			snprintf(err->msg, sizeof(err->msg),
				 "couldn't apply VIP %s with check via vip: this host has no route "
				 "to %s, so its probes cannot go out of %s through the data path; "
				 "add one (e.g. 'ip route add %s dev %s via ROUTER'), or use "
				 "'check: {via: backend}'; nothing changed",
				 vn, a, ag->iface, a, ag->iface);
		else
			snprintf(err->msg, sizeof(err->msg),
				 "couldn't apply VIP %s with check via vip: this host routes %s "
				 "out of %s, not %s where xlb forwards, so its probes would miss "
				 "the data path; route it out of %s, or use 'check: {via: "
				 "backend}'; nothing changed",
				 vn, a, if_indextoname((unsigned int)ifindex, dev) ? dev : "?",
				 ag->iface, ag->iface);
		ret = -EHOSTUNREACH;
	}
	if (sk)
		nl_socket_free(sk);
	return ret == -ENOMEM ? 0 : ret;
}
