// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The next-hop resolver's netlink side: change events applied one message
 * at a time, and the neighbour dump that (re)fills the table. Both feed the
 * same parser, so an entry reads the same whichever way it came.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>

#include "nexthop_int.h"
#include "xlb_dp.h"

/* The socket may hold this much of a burst (a BGP session coming up moves
 * thousands of routes at once); beyond it events are lost and counted. */
#define EVENTS_RCVBUF (4 << 20)

/* What xlb_nh_resolve() makes of an entry: its MAC, failed, or pending. */
static int answer(const struct nh_neigh *e, __u8 mac[6])
{
	memset(mac, 0, 6);
	if (!e)
		return -EAGAIN;
	if (e->has_mac && (e->state & NUD_USABLE)) {
		memcpy(mac, e->mac, 6);
		return 0;
	}
	return e->state & NUD_FAILED ? -ENXIO : -EAGAIN;
}

/*
 * Entries we use cycle through reachable, stale, delay and probe all the
 * time (health checks talk to every backend): with the same MAC that
 * changes no answer, and re-resolving 10,000 backends for it would keep the
 * agent busy. Only what changes an answer counts.
 */
int nh_neigh_msg(struct xlb_nh *nh, const struct nlmsghdr *h)
{
	const struct ndmsg *nd = NLMSG_DATA(h);
	int alen = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*nd));
	struct nh_neigh e = {}, *have;
	int have_dst = 0, before, after;
	__u8 mac0[6], mac1[6];

	if (alen < 0 || (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6) ||
	    (nd->ndm_flags & NTF_PROXY) || nd->ndm_ifindex <= 0)
		return 0; /* a bridge's fdb entry, a proxy entry: no next hop */
	for (const struct rtattr *rta =
		     (const struct rtattr *)((const char *)nd + NLMSG_ALIGN(sizeof(*nd)));
	     RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
		if (rta->rta_type == NDA_DST && RTA_PAYLOAD(rta) == 4) {
			e.addr.w[2] = htonl(0xffff);
			memcpy(&e.addr.w[3], RTA_DATA(rta), 4);
			have_dst = 1;
		} else if (rta->rta_type == NDA_DST && RTA_PAYLOAD(rta) == 16) {
			memcpy(e.addr.b, RTA_DATA(rta), 16);
			have_dst = 1;
		} else if (rta->rta_type == NDA_LLADDR && RTA_PAYLOAD(rta) == 6) {
			memcpy(e.mac, RTA_DATA(rta), 6);
			e.has_mac = 1;
		}
	}
	if (!have_dst)
		return 0;
	e.ifindex = nd->ndm_ifindex;
	e.state = nd->ndm_state;
	have = nh_neigh_find(nh, e.ifindex, &e.addr);
	before = answer(have, mac0);
	if (h->nlmsg_type == RTM_DELNEIGH) {
		if (have)
			nh_neigh_del(nh, have);
		after = answer(NULL, mac1);
	} else {
		if (nh_neigh_put(nh, &e))
			return 1; /* out of memory: the entry is missing, resolve again */
		after = answer(&e, mac1);
	}
	return before != after || memcmp(mac0, mac1, 6);
}

/* A route message: the known routes inside its prefix are stale now. */
static int route_msg(struct xlb_nh *nh, const struct nlmsghdr *h)
{
	const struct rtmsg *rtm = NLMSG_DATA(h);
	int alen = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*rtm));
	union xlb_addr prefix = {};
	int v4;

	if (alen < 0)
		return 0;
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return 0; /* e.g. multicast routes (RTNL_FAMILY_IPMR) */
	v4 = rtm->rtm_family == AF_INET;
	if (v4)
		prefix.w[2] = htonl(0xffff);
	for (const struct rtattr *rta =
		     (const struct rtattr *)((const char *)rtm + NLMSG_ALIGN(sizeof(*rtm)));
	     RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen))
		if (rta->rta_type == RTA_DST && RTA_PAYLOAD(rta) == (v4 ? 4u : 16u))
			memcpy(v4 ? (void *)&prefix.w[3] : (void *)prefix.b, RTA_DATA(rta),
			       v4 ? 4 : 16);
	if (rtm->rtm_dst_len > (v4 ? 32 : 128))
		return 0;
	return nh_routes_in_prefix(nh, &prefix, rtm->rtm_dst_len, v4);
}

int xlb_nh_events_open(struct xlb_nh *nh)
{
	int fd, size = EVENTS_RCVBUF;

	if (nh->events) /* again: a new socket replaces the old */
		nl_socket_free(nh->events);
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
	fd = nl_socket_get_fd(nh->events);
	/* FORCE passes rmem_max (xlbd still has CAP_NET_ADMIN here); else
	 * what rmem_max allows */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	nh->need_refill = 1; /* events from now on: the table from a dump after */
	return fd;
}

int xlb_nh_events_read(struct xlb_nh *nh)
{
	char buf[16384] __attribute__((aligned(4)));
	ssize_t len;
	int n = 0;

	if (!nh->events)
		return 0;
	for (;;) {
		len = recv(nl_socket_get_fd(nh->events), buf, sizeof(buf), MSG_DONTWAIT);
		if (len < 0 && errno == ENOBUFS) {
			/* some changes are lost: read everything again */
			nh->st.events_lost++;
			nh->need_refill = 1;
			xlb_nh_forget_routes(nh);
			n++;
			continue;
		}
		if (len <= 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			nh->st.events++;
			if (h->nlmsg_type == RTM_NEWNEIGH || h->nlmsg_type == RTM_DELNEIGH) {
				n += nh_neigh_msg(nh, h);
			} else if (h->nlmsg_type == RTM_NEWROUTE || h->nlmsg_type == RTM_DELROUTE) {
				n += route_msg(nh, h) > 0;
			} else if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) {
				/* a link going down leaves its IPv4 routes without a
				 * word: any route may be wrong */
				xlb_nh_forget_routes(nh);
				n++;
			}
		}
	}
	return n;
}

struct dump {
	struct xlb_nh *nh;
	int done, err;
};

static int on_neigh(struct nl_msg *msg, void *arg)
{
	struct dump *d = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);

	if (h->nlmsg_type == RTM_NEWNEIGH)
		nh_neigh_msg(d->nh, h);
	return NL_OK;
}

static int on_done(struct nl_msg *msg, void *arg)
{
	struct dump *d = arg;

	(void)msg;
	d->done = 1;
	return NL_STOP;
}

static int on_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct dump *d = arg;

	(void)nla;
	d->err = e->error ? e->error : -EIO;
	d->done = 1;
	return NL_STOP;
}

int nh_neigh_dump(struct xlb_nh *nh)
{
	struct ndmsg nd = {.ndm_family = AF_UNSPEC};
	struct dump d = {.nh = nh};
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int r;

	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_neigh, &d);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, &d);
	nl_cb_err(cb, NL_CB_CUSTOM, on_err, &d);
	nh_neigh_clear(nh);
	nh->st.neigh_dumps++;
	r = nl_send_simple(nh->sk, RTM_GETNEIGH, NLM_F_DUMP, &nd, sizeof(nd));
	while (r >= 0 && !d.done)
		r = nl_recvmsgs(nh->sk, cb);
	nl_cb_put(cb);
	if (d.err)
		return d.err;
	return r < 0 ? -EIO : 0;
}
