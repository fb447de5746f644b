// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The announce table (routes.h) over rtnetlink, with libnl's socket and
 * message layer but hand-built rtmsg requests: libnl's route objects guess
 * scopes and types on their own, and its route cache dumps every table of
 * the host (a BGP router may hold a million routes in main). Dumps ask the
 * kernel to filter by table and protocol (NETLINK_GET_STRICT_CHK, 4.20+)
 * and filter again here, so an older kernel that ignores the request is
 * still right, only slower.
 *
 * Only routes of the given table AND protocol are ever touched: an add
 * never replaces (NLM_F_EXCL: a foreign route with the same key is an
 * error, not a takeover), a delete names the protocol (both families'
 * kernels then match it). The one exception, xlb_route_replace(), is for
 * xlbd's own routes when its protocol changes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

#include "routes.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

/* One route as the kernel reported it: enough to delete exactly that one. */
struct kroute {
	__u8 family, dst_len, tos;
	__u32 priority;
	__u8 dst[16];
};

struct talk {
	int err;  /* the kernel's errno (negative), 0 */
	int done; /* ACK or NLMSG_DONE seen */
	void (*each)(const struct kroute *k, void *arg);
	void *arg;
	__u32 table;
	__u8 protocol;
	__u8 family; /* of the dump: a kernel without IPv6 answers an AF_INET6
		      * dump with every family's routes (PF_UNSPEC's handler) */
};

static int on_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct talk *t = arg;

	(void)nla;
	t->err = e->error;
	t->done = 1;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct talk *t = arg;

	(void)msg;
	t->done = 1;
	return NL_STOP;
}

/* The end of a dump, which carries the dump's error if it failed (libnl
 * does not look). */
static int on_done(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct talk *t = arg;
	int err;

	if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(err))) {
		memcpy(&err, nlmsg_data(h), sizeof(err));
		if (err < 0)
			t->err = err;
	}
	t->done = 1;
	return NL_STOP;
}

/* A dumped route: ours when both table and protocol match. */
static int on_route(struct nl_msg *msg, void *arg)
{
	struct talk *t = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[RTA_MAX + 1];
	struct rtmsg *rtm;
	struct kroute k = {};
	__u32 table;
	int alen;

	if (h->nlmsg_type != RTM_NEWROUTE || nlmsg_parse(h, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return NL_OK;
	rtm = nlmsg_data(h);
	table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != t->table || rtm->rtm_protocol != t->protocol || rtm->rtm_family != t->family ||
	    (rtm->rtm_flags & RTM_F_CLONED))
		return NL_OK;
	alen = rtm->rtm_family == AF_INET ? 4 : 16;
	k.family = rtm->rtm_family;
	k.dst_len = rtm->rtm_dst_len;
	k.tos = rtm->rtm_tos;
	if (tb[RTA_PRIORITY])
		k.priority = nla_get_u32(tb[RTA_PRIORITY]);
	if (tb[RTA_DST]) {
		if (nla_len(tb[RTA_DST]) != alen)
			return NL_OK;
		memcpy(k.dst, nla_data(tb[RTA_DST]), (size_t)alen);
	}
	/* never stop mid-dump: the rest would wait in the socket */
	if (t->each)
		t->each(&k, t->arg);
	return NL_OK;
}

/* Send msg (consumed) and read until its ACK, error or end of dump. */
static int talk(struct nl_sock *sk, struct nl_msg *msg, struct talk *t)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int r;

	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_route, t);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, t);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, t);
	nl_cb_err(cb, NL_CB_CUSTOM, on_err, t);
	r = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	while (r >= 0 && !t->done)
		r = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	if (t->err)
		return t->err;
	return r < 0 ? -EIO : 0;
}

static struct nl_sock *open_rtnl(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1;

	if (!sk)
		return NULL;
	if (nl_connect(sk, NETLINK_ROUTE)) {
		nl_socket_free(sk);
		return NULL;
	}
	/* kernel-side filtering of dumps; harmless where unsupported */
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	return sk;
}

/* A request for one route of table+protocol (type, flags: the caller's). */
static struct nl_msg *route_msg(int type, int flags, __u32 table, __u8 protocol,
				const struct kroute *k)
{
	struct rtmsg rtm = {
		.rtm_family = k->family,
		.rtm_dst_len = k->dst_len,
		.rtm_tos = k->tos,
		.rtm_table = table < 256 ? (__u8)table : RT_TABLE_COMPAT,
		.rtm_protocol = protocol,
		/* what `ip route add ... dev lo` makes; a delete leaves both
		 * open (the kernel then matches any scope and type) */
		.rtm_scope = type == RTM_NEWROUTE ? RT_SCOPE_LINK : RT_SCOPE_NOWHERE,
		.rtm_type = type == RTM_NEWROUTE ? RTN_UNICAST : RTN_UNSPEC,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, RTA_TABLE, table) < 0 ||
	    (k->dst_len && nla_put(msg, RTA_DST, k->family == AF_INET ? 4 : 16, k->dst) < 0) ||
	    (k->priority && nla_put_u32(msg, RTA_PRIORITY, k->priority) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* Every route of table+protocol, both families, to each(). */
static int dump(struct nl_sock *sk, __u32 table, __u8 protocol,
		void (*each)(const struct kroute *k, void *arg), void *arg)
{
	static const __u8 families[] = {AF_INET, AF_INET6};

	for (size_t i = 0; i < sizeof(families); i++) {
		struct talk t = {.each = each,
				 .arg = arg,
				 .table = table,
				 .protocol = protocol,
				 .family = families[i]};
		struct rtmsg rtm = {
			.rtm_family = families[i],
			.rtm_table = table < 256 ? (__u8)table : RT_TABLE_COMPAT,
			.rtm_protocol = protocol,
		};
		struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP);
		int err;

		if (!msg)
			return -ENOMEM;
		if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
		    nla_put_u32(msg, RTA_TABLE, table) < 0) {
			nlmsg_free(msg);
			return -ENOMEM;
		}
		err = talk(sk, msg, &t);
		/* a table that does not exist (yet) holds no route */
		if (err && err != -ENOENT)
			return err;
	}
	return 0;
}

static void to_kroute(const struct xlb_route *r, struct kroute *k)
{
	memset(k, 0, sizeof(*k));
	if (r->family == XLB_AF_INET) {
		k->family = AF_INET;
		k->dst_len = 32;
		memcpy(k->dst, &r->addr.w[3], 4);
	} else {
		k->family = AF_INET6;
		k->dst_len = 128;
		memcpy(k->dst, r->addr.b, 16);
	}
}

struct find {
	const struct kroute *want;
	int found;
};

static void find_one(const struct kroute *k, void *arg)
{
	struct find *f = arg;
	int alen = k->family == AF_INET ? 4 : 16;

	if (k->family == f->want->family && k->dst_len == f->want->dst_len &&
	    !memcmp(k->dst, f->want->dst, (size_t)alen))
		f->found = 1;
}

int xlb_route_set(__u32 table, __u8 protocol, const struct xlb_route *r, bool on)
{
	struct nl_sock *sk;
	struct nl_msg *msg;
	struct kroute k;
	struct talk t = {};
	int err, lo = (int)if_nametoindex("lo");

	if (!table || !protocol || (r->family != XLB_AF_INET && r->family != XLB_AF_INET6))
		return -EINVAL;
	if (on && !lo)
		return -ENODEV;
	to_kroute(r, &k);
	sk = open_rtnl();
	if (!sk)
		return -ENOMEM;
	if (on)
		msg = route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, table, protocol, &k);
	else
		msg = route_msg(RTM_DELROUTE, 0, table, protocol, &k);
	if (msg && on && nla_put_u32(msg, RTA_OIF, (__u32)lo) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	err = msg ? talk(sk, msg, &t) : -ENOMEM;
	if (!on && (err == -ENOENT || err == -ESRCH))
		err = 0; /* absent already */
	if (on && err == -EEXIST) {
		/* ours already (idempotent), or a foreign route holds the key */
		struct find f = {.want = &k};

		err = dump(sk, table, protocol, find_one, &f);
		if (!err && !f.found)
			err = -EEXIST;
	}
	nl_socket_free(sk);
	return err;
}

int xlb_route_replace(__u32 table, __u8 protocol, const struct xlb_route *r)
{
	struct nl_sock *sk;
	struct nl_msg *msg;
	struct kroute k;
	struct talk t = {};
	int err, lo = (int)if_nametoindex("lo");

	if (!table || !protocol || (r->family != XLB_AF_INET && r->family != XLB_AF_INET6))
		return -EINVAL;
	if (!lo)
		return -ENODEV;
	to_kroute(r, &k);
	sk = open_rtnl();
	if (!sk)
		return -ENOMEM;
	msg = route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, table, protocol, &k);
	if (msg && nla_put_u32(msg, RTA_OIF, (__u32)lo) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	err = msg ? talk(sk, msg, &t) : -ENOMEM;
	nl_socket_free(sk);
	return err;
}

struct collect {
	struct xlb_route *out;
	size_t max, n;
};

static void collect_one(const struct kroute *k, void *arg)
{
	struct collect *c = arg;
	struct xlb_route r = {};

	if (k->family == AF_INET && k->dst_len == 32) {
		r.family = XLB_AF_INET;
		r.addr.w[2] = htonl(0xffff);
		memcpy(&r.addr.w[3], k->dst, 4);
	} else if (k->family == AF_INET6 && k->dst_len == 128) {
		r.family = XLB_AF_INET6;
		memcpy(r.addr.b, k->dst, 16);
	} else {
		return; /* not a prefix xlbd makes */
	}
	if (c->n < c->max)
		c->out[c->n] = r;
	c->n++;
}

int xlb_routes_list(__u32 table, __u8 protocol, struct xlb_route *out, size_t max)
{
	struct collect c = {.out = out, .max = max};
	struct nl_sock *sk;
	int err;

	if (!table || !protocol)
		return -EINVAL;
	sk = open_rtnl();
	if (!sk)
		return -ENOMEM;
	err = dump(sk, table, protocol, collect_one, &c);
	nl_socket_free(sk);
	return err ? err : (int)c.n;
}

/* The dump is read whole before deleting: a netlink socket carries one
 * conversation at a time. */
struct gather {
	struct kroute *k;
	size_t n, cap;
	int err;
};

static void gather_one(const struct kroute *k, void *arg)
{
	struct gather *g = arg;

	if (g->err)
		return;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		struct kroute *nk = realloc(g->k, cap * sizeof(*nk));

		if (!nk) {
			g->err = -ENOMEM;
			return;
		}
		g->k = nk;
		g->cap = cap;
	}
	g->k[g->n++] = *k;
}

int xlb_routes_flush(__u32 table, __u8 protocol)
{
	struct gather g = {};
	struct nl_sock *sk;
	int err, gone = 0;

	if (!table || !protocol)
		return -EINVAL;
	sk = open_rtnl();
	if (!sk)
		return -ENOMEM;
	err = dump(sk, table, protocol, gather_one, &g);
	if (!err)
		err = g.err;
	for (size_t i = 0; !err && i < g.n; i++) {
		struct talk t = {};
		struct nl_msg *msg = route_msg(RTM_DELROUTE, 0, table, protocol, &g.k[i]);

		err = msg ? talk(sk, msg, &t) : -ENOMEM;
		if (!err)
			gone++;
		else if (err == -ENOENT || err == -ESRCH)
			err = 0; /* went meanwhile */
	}
	free(g.k);
	nl_socket_free(sk);
	return err ? err : gone;
}
