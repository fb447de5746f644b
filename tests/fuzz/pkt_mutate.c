// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "pkt_mutate.h"

#define TCP 6
#define UDP 17

const __u8 FZ_MAC_OTHER[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x77};
static const __u8 MAC_BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const __u8 MAC_MCAST4[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x0a};
static const __u8 MAC_MCAST6[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x10};
static const __u8 MAC_SRC_MCAST[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e};

static const char *NON_VIP4[] = {"10.0.0.99", "10.0.0.11", "192.0.2.200", "224.0.0.5"};
static const char *NON_VIP6[] = {"fd00::99", "fd00::11", "2001:db8::200", "ff02::1"};

/* Flows repeat (32 clients x 32 ports), so established-flow paths are hit. */
static void client(struct fz_rng *r, int v6, char *addr, size_t len, __u16 *port)
{
	__u32 c = fz_below(r, 32);

	if (v6)
		snprintf(addr, len, "2001:db8::%x", c + 1);
	else
		snprintf(addr, len, "192.0.2.%u", c + 1);
	*port = (__u16)(1024 + fz_below(r, 32));
}

static void addr_text(const union xlb_addr *a, char *buf, size_t len)
{
	if (a->w[0] == 0 && a->w[1] == 0 && a->w[2] == htonl(0xffff))
		inet_ntop(AF_INET, &a->w[3], buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a->b, buf, (socklen_t)len);
}

static int vip_v6(const struct fz_vip *v)
{
	return !(v->addr.w[0] == 0 && v->addr.w[1] == 0 && v->addr.w[2] == htonl(0xffff));
}

static __u16 vip_port(struct fz_rng *r, const struct fz_vip *v)
{
	static const __u16 any[] = {80, 443, 8080, 53, 1};

	if (v->port)
		return v->port;
	return fz_below(r, 4) ? any[fz_below(r, 5)] : (__u16)fz_rand(r);
}

/* Destination MAC of every kind: this NIC's mostly, then the others. */
static void eth(struct fz_rng *r, struct pb *p, int vlan, __u16 type)
{
	__u32 k = fz_below(r, 100);
	const __u8 *dst = k < 80	   ? MAC_LB
			  : k < 87	   ? FZ_MAC_OTHER
			  : k < 93	   ? MAC_BCAST
			  : type == 0x86dd ? MAC_MCAST6
					   : MAC_MCAST4;
	const __u8 *src = fz_below(r, 20) ? MAC_ROUTER : MAC_SRC_MCAST;

	pb_eth(p, dst, src, vlan, type);
}

static int vlan_id(struct fz_rng *r)
{
	return fz_below(r, 5) ? 0 : (int)(1 + fz_below(r, 4094));
}

static void l4(struct fz_rng *r, struct pb *p, __u8 proto, __u16 sport, __u16 dport)
{
	static const __u8 flags[] = {0x02, 0x02, 0x10, 0x10, 0x10, 0x18, 0x18, 0x11, 0x04, 0x12};

	if (proto == TCP)
		pb_tcp(p, sport, dport, (__u32)fz_rand(r), (__u32)fz_rand(r),
		       flags[fz_below(r, sizeof(flags))], 65535);
	else
		pb_udp(p, sport, dport);
}

static void ip(struct pb *p, int v6, const char *src, const char *dst, __u8 proto)
{
	if (v6)
		pb_ip6(p, src, dst, proto, 61, 0x28, 0x12345);
	else
		pb_ip4(p, src, dst, proto, 61, 0x28, 0x4000, 0);
}

static const struct fz_vip *any_vip(struct fz_rng *r, const struct fz_world *w)
{
	return &w->vip[fz_below(r, (uint32_t)w->nvips)];
}

/* Client -> VIP, TCP or UDP as the VIP serves. */
static void vip_flow(struct fz_rng *r, const struct fz_world *w, struct pb *p, int vlan)
{
	const struct fz_vip *v = any_vip(r, w);
	int v6 = vip_v6(v);
	char c[64], d[64];
	__u16 cport;
	__u32 k;

	client(r, v6, c, sizeof(c), &cport);
	addr_text(&v->addr, d, sizeof(d));
	eth(r, p, vlan, v6 ? 0x86dd : 0x0800);
	if (v6)
		ip(p, v6, c, d, v->proto);
	else /* DF mostly set, as PMTU discovery does */
		pb_ip4(p, c, d, v->proto, 61, 0x28, fz_below(r, 4) ? 0x4000 : 0, 0);
	l4(r, p, v->proto, cport, vip_port(r, v));
	/* Small, medium, or near the MTU (too big for it with an outer header). */
	k = fz_below(r, 16);
	pb_payload(p,
		   k < 12   ? fz_below(r, 64)
		   : k < 15 ? fz_below(r, 1200)
			    : 1380 + fz_below(r, 81),
		   (__u8)cport);
	pb_finish(p);
}

/* To a non-VIP address, or to a VIP address on a port or protocol it lacks. */
static void non_vip(struct fz_rng *r, const struct fz_world *w, struct pb *p)
{
	const struct fz_vip *v = any_vip(r, w);
	int v6 = vip_v6(v);
	char c[64], d[64];
	__u16 cport, dport = vip_port(r, v);
	__u8 proto = v->proto;

	client(r, v6, c, sizeof(c), &cport);
	if (fz_below(r, 2)) {
		snprintf(d, sizeof(d), "%s",
			 v6 ? NON_VIP6[fz_below(r, 4)] : NON_VIP4[fz_below(r, 4)]);
	} else {
		addr_text(&v->addr, d, sizeof(d));
		if (fz_below(r, 2))
			proto = proto == TCP ? UDP : TCP;
		else
			dport = (__u16)(dport + 1);
	}
	eth(r, p, vlan_id(r), v6 ? 0x86dd : 0x0800);
	ip(p, v6, c, d, proto);
	l4(r, p, proto, cport, dport);
	pb_payload(p, fz_below(r, 64), 3);
	pb_finish(p);
}

/*
 * The packet an ICMP error quotes: VIP -> client (a reply of a VIP flow), or
 * with nest > 0 itself an ICMP error quoting such a packet.
 */
static void quoted(struct fz_rng *r, const struct fz_vip *v, const char *cl, __u16 cport, int nest,
		   struct pb *q)
{
	int v6 = vip_v6(v);
	char vs[64];

	addr_text(&v->addr, vs, sizeof(vs));
	pb_init(q);
	if (nest) {
		struct pb inner;

		quoted(r, v, cl, cport, nest - 1, &inner);
		ip(q, v6, vs, cl, v6 ? 58 : 1);
		if (v6)
			pb_icmp6(q, 1, 4, 0);
		else
			pb_icmp4(q, 3, 3, 0);
		pb_bytes(q, inner.buf, inner.len > 48 ? 48 : inner.len);
	} else {
		ip(q, v6, vs, cl, v->proto);
		l4(r, q, v->proto, vip_port(r, v), cport);
		pb_payload(q, fz_below(r, 40), 9);
	}
	pb_finish(q);
}

/* An ICMP/ICMPv6 error from a router about a VIP flow; nest: quotes an error. */
static void icmp_err(struct fz_rng *r, const struct fz_world *w, struct pb *p, int nest)
{
	static const __u8 t4[][2] = {{3, 4}, {3, 3}, {3, 1}, {11, 0}, {12, 0}};
	static const __u8 t6[][2] = {{1, 4}, {2, 0}, {3, 0}, {4, 0}, {1, 0}};
	const struct fz_vip *v = any_vip(r, w);
	int v6 = vip_v6(v);
	char cl[64], dst[64];
	__u16 cport;
	struct pb q;
	__u32 k = fz_below(r, 100), t = fz_below(r, 5);
	size_t qlen;

	client(r, v6, cl, sizeof(cl), &cport);
	quoted(r, v, cl, cport, nest, &q);
	/* The error goes to the quoted source (the VIP), or somewhere else. */
	if (k < 85)
		addr_text(&v->addr, dst, sizeof(dst));
	else if (k < 90)
		snprintf(dst, sizeof(dst), "%s", cl);
	else if (k < 95)
		snprintf(dst, sizeof(dst), "%s", v6 ? NON_VIP6[0] : NON_VIP4[0]);
	else
		addr_text(&any_vip(r, w)->addr, dst, sizeof(dst));
	eth(r, p, vlan_id(r), v6 ? 0x86dd : 0x0800);
	ip(p, v6, v6 ? "2001:db8:ffff::1" : "198.51.100.1", dst, v6 ? 58 : 1);
	if (v6)
		pb_icmp6(p, t6[t][0], t6[t][1], t6[t][0] == 2 ? 1280 : 0);
	else
		pb_icmp4(p, t4[t][0], t4[t][1], t4[t][1] == 4 ? 1400 : 0);
	/* RFC 792's minimum (IP header + 8 bytes), or all of it. */
	qlen = fz_below(r, 2) ? q.len : (size_t)((v6 ? 40 : 20) + 8);
	pb_bytes(p, q.buf, qlen > q.len ? q.len : qlen);
	pb_finish(p);
}

/* IPIP/IP6IP6 addressed to a VIP address, carrying a VIP flow's packet. */
static void ipip(struct fz_rng *r, const struct fz_world *w, struct pb *p)
{
	struct pb inner;
	int v6 = fz_below(r, 2);
	const struct fz_vip *v = any_vip(r, w);
	char d[64];

	pb_init(&inner);
	vip_flow(r, w, &inner, 0);
	if (vip_v6(v) == v6 && fz_below(r, 5))
		addr_text(&v->addr, d, sizeof(d));
	else
		snprintf(d, sizeof(d), "%s", v6 ? NON_VIP6[1] : NON_VIP4[1]);
	eth(r, p, vlan_id(r), v6 ? 0x86dd : 0x0800);
	ip(p, v6, v6 ? "2001:db8:ffff::1" : "198.51.100.1", d, (inner.buf[12] == 0x86 ? 41 : 4));
	pb_bytes(p, inner.buf + 14, inner.len - 14);
	pb_finish(p);
}

/* A VIP packet whose payload is itself an IP packet (IPIP inside a VIP flow). */
static void ip_in_payload(struct fz_rng *r, const struct fz_world *w, struct pb *p)
{
	struct pb inner, outer;
	int t, u;

	pb_init(&inner);
	vip_flow(r, w, &inner, 0);
	pb_init(&outer);
	vip_flow(r, w, &outer, 0);
	/* Cut the outer after its L4 header, the inner IP packet as payload;
	 * pb_finish sets lengths and sums again. */
	t = pb_find(&outer, PB_TCP);
	u = pb_find(&outer, PB_UDP);
	outer.len = t >= 0 ? (size_t)t + 20 : (size_t)u + 8;
	if (outer.len + inner.len - 14 > PB_MAX)
		inner.len = 14;
	pb_bytes(&outer, inner.buf + 14, inner.len - 14);
	pb_finish(&outer);
	*p = outer;
}

/* IPv6 with a chain of 1..12 extension headers of mixed lengths. */
static void ext6(struct fz_rng *r, const struct fz_world *w, struct pb *p)
{
	static const __u8 types[] = {0, 60, 43, 44, 60};
	const struct fz_vip *v = NULL;
	int n = 1 + (int)fz_below(r, 12);
	__u8 hdr[24], next[13];
	char c[64], d[64];
	__u16 cport;

	for (int i = 0; i < 8 && !v; i++) {
		const struct fz_vip *x = any_vip(r, w);

		if (vip_v6(x))
			v = x;
	}
	if (!v)
		v = &w->vip[4];
	client(r, 1, c, sizeof(c), &cport);
	if (fz_below(r, 5))
		addr_text(&v->addr, d, sizeof(d));
	else
		snprintf(d, sizeof(d), "%s", NON_VIP6[0]);
	for (int i = 0; i < n; i++)
		next[i] = types[fz_below(r, sizeof(types))];
	next[n] = v->proto;
	eth(r, p, vlan_id(r), 0x86dd);
	pb_ip6(p, c, d, next[0], 61, 0, 0);
	for (int i = 0; i < n; i++) {
		size_t units = next[i] == 44 ? 0 : fz_below(r, 3);

		memset(hdr, 0, sizeof(hdr));
		hdr[0] = next[i + 1];
		hdr[1] = (__u8)units;
		if (next[i] != 44 && next[i] != 43) { /* PadN over the rest */
			hdr[2] = 1;
			hdr[3] = (__u8)(4 + units * 8);
		}
		pb_bytes(p, hdr, 8 + units * 8);
	}
	l4(r, p, v->proto, cport, vip_port(r, v));
	pb_payload(p, fz_below(r, 40), 5);
	pb_finish(p);
}

/* IPv4 to a VIP with options, or a fragment of a VIP flow. */
static void v4_opt_frag(struct fz_rng *r, const struct fz_world *w, struct pb *p)
{
	const struct fz_vip *v = &w->vip[fz_below(r, 2) ? 0 : 1];
	char c[64], d[64];
	__u16 cport, frag = 0x4000;
	int opt = 0;
	__u32 k = fz_below(r, 3);

	client(r, 0, c, sizeof(c), &cport);
	addr_text(&v->addr, d, sizeof(d));
	if (k != 1)
		opt = 4 * (int)(1 + fz_below(r, 10));
	if (k != 0)
		frag = fz_below(r, 2) ? 0x2000 : (__u16)(1 + fz_below(r, 0x1fff));
	eth(r, p, vlan_id(r), 0x0800);
	pb_ip4(p, c, d, v->proto, 61, 0, frag, opt);
	l4(r, p, v->proto, cport, v->port);
	pb_payload(p, fz_below(r, 40), 7);
	pb_finish(p);
}

/* Traffic the LB never handles: echo, ND, ARP, other protocols and types. */
static void other(struct fz_rng *r, const struct fz_world *w, struct pb *p)
{
	static const __u8 arp[28] = {0,	  1, 8, 0, 6, 4, 0, 1, 2, 0, 0,	 0, 0, 2,
				     192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 10};
	const struct fz_vip *v = any_vip(r, w);
	int v6 = vip_v6(v);
	char d[64];

	addr_text(&v->addr, d, sizeof(d));
	switch (fz_below(r, 4)) {
	case 0: /* echo request to a VIP */
		eth(r, p, 0, v6 ? 0x86dd : 0x0800);
		ip(p, v6, v6 ? "2001:db8::1" : "192.0.2.1", d, v6 ? 58 : 1);
		if (v6)
			pb_icmp6(p, 128, 0, 0x12340001);
		else
			pb_icmp4(p, 8, 0, 0x12340001);
		pb_payload(p, 32, 1);
		break;
	case 1: /* GRE, SCTP, ESP to a VIP address */
		eth(r, p, vlan_id(r), v6 ? 0x86dd : 0x0800);
		ip(p, v6, v6 ? "2001:db8::1" : "192.0.2.1", d,
		   (__u8[]){47, 132, 50}[fz_below(r, 3)]);
		pb_payload(p, 40, 2);
		break;
	case 2:
		eth(r, p, 0, 0x0806);
		pb_bytes(p, arp, sizeof(arp));
		break;
	default: /* LLDP, MPLS, or a made-up EtherType */
		eth(r, p, 0, (__u16[]){0x88cc, 0x8847, 0x1234}[fz_below(r, 3)]);
		pb_payload(p, 46, 4);
		break;
	}
	pb_finish(p);
}

/* Random bytes behind a plausible or random Ethernet header. */
static void noise(struct fz_rng *r, struct pb *p)
{
	static const __u16 types[] = {0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806};
	size_t len = fz_below(r, 128);
	__u8 b[128];

	for (size_t i = 0; i < len; i++)
		b[i] = (__u8)fz_rand(r);
	if (len >= 14 && fz_below(r, 2)) {
		memcpy(b, MAC_LB, 6);
		b[12] = types[fz_below(r, 5)] >> 8;
		b[13] = types[fz_below(r, 5)] & 0xff;
	}
	pb_init(p);
	pb_bytes(p, b, len);
}

void fz_base(struct fz_rng *r, const struct fz_world *w, struct pb *p, const char **kind)
{
	__u32 k = fz_below(r, 100);

	pb_init(p);
	if (k < 45) {
		*kind = "vip-flow";
		vip_flow(r, w, p, vlan_id(r));
	} else if (k < 53) {
		*kind = "non-vip";
		non_vip(r, w, p);
	} else if (k < 66) {
		*kind = "icmp-error";
		icmp_err(r, w, p, 0);
	} else if (k < 69) {
		*kind = "icmp-error-quoting-icmp-error";
		icmp_err(r, w, p, 1 + (int)fz_below(r, 2));
	} else if (k < 73) {
		*kind = "ipip-to-vip-address";
		ipip(r, w, p);
	} else if (k < 75) {
		*kind = "ip-in-vip-payload";
		ip_in_payload(r, w, p);
	} else if (k < 82) {
		*kind = "ipv6-ext-chain";
		ext6(r, w, p);
	} else if (k < 88) {
		*kind = "ipv4-options-fragment";
		v4_opt_frag(r, w, p);
	} else if (k < 94) {
		*kind = "other-traffic";
		other(r, w, p);
	} else {
		*kind = "noise";
		noise(r, p);
	}
}

int fz_sweep_base(int i, const struct fz_world *w, struct pb *p, const char **kind)
{
	/* Fixed seeds: the sweep is the same on every run. */
	struct fz_rng r = {.s = 0x5eed0000ull + (__u64)i * 7919};

	pb_init(p);
	switch (i) {
	case 0 ... 9:
		*kind = "sweep:vip-flow";
		vip_flow(&r, w, p, i & 1 ? 100 : 0);
		break;
	case 10 ... 13:
		*kind = "sweep:icmp-error";
		icmp_err(&r, w, p, i == 13);
		break;
	case 14 ... 15:
		*kind = "sweep:ipip";
		ipip(&r, w, p);
		break;
	case 16 ... 17:
		*kind = "sweep:ipv6-ext-chain";
		ext6(&r, w, p);
		break;
	case 18 ... 19:
		*kind = "sweep:ipv4-options-fragment";
		v4_opt_frag(&r, w, p);
		break;
	default:
		return -1;
	}
	/* The sweep is about lengths: always to this NIC. */
	memcpy(p->buf, MAC_LB, 6);
	return 0;
}

/* ---- mutations --------------------------------------------------------- */

static void add(char *desc, size_t dlen, const char *what)
{
	size_t n = strlen(desc);

	snprintf(desc + n, dlen - n, "%s%s", n ? "," : "", what);
}

static __u16 get16(const __u8 *b)
{
	return (__u16)(b[0] << 8 | b[1]);
}

static void put16(__u8 *b, __u16 v)
{
	b[0] = v >> 8;
	b[1] = v & 0xff;
}

/* Offset of the L3 header behind up to two tags, and its EtherType. */
static size_t l3_of(const __u8 *b, size_t len, __u16 *type)
{
	size_t off = 12;

	*type = 0;
	for (int i = 0; i < 3 && off + 2 <= len; i++) {
		*type = get16(b + off);
		if (*type != 0x8100 && *type != 0x88a8)
			return off + 2;
		off += 4;
	}
	return len;
}

static void refix_ip4(__u8 *ip, size_t avail)
{
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;

	if (ihl < 20 || ihl > avail)
		return;
	put16(ip + 10, 0);
	put16(ip + 10, pb_csum(ip, ihl, 0));
}

/* A length field that lies: total length, IHL, payload length, UDP length,
 * data offset, or a length inside an ICMP error's quote. */
static void len_lie(struct fz_rng *r, __u8 *b, size_t len, char *desc, size_t dlen)
{
	__u16 type;
	size_t l3 = l3_of(b, len, &type);
	__u8 *ip = b + l3;
	size_t avail = len > l3 ? len - l3 : 0;
	__u32 pick = fz_below(r, 6);
	__u16 v;
	int d = (int)fz_below(r, 81) - 40;

	if (type == 0x0800 && avail >= 20) {
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;
		__u8 *l4 = ip + ihl;
		size_t l4_avail = avail > ihl ? avail - ihl : 0;

		if (pick == 0 || pick == 1) {
			v = get16(ip + 2);
			v = pick ? (__u16)(v + d) : (__u16)fz_rand(r);
			put16(ip + 2, v);
			add(desc, dlen, "ip4-tot-len");
		} else if (pick == 2) {
			ip[0] = (__u8)(0x40 | fz_below(r, 16));
			add(desc, dlen, "ip4-ihl");
		} else if (pick == 3 && ip[9] == 17 && l4_avail >= 8) {
			put16(l4 + 4, (__u16)(get16(l4 + 4) + d));
			add(desc, dlen, "udp-len");
		} else if (pick == 3 && ip[9] == 6 && l4_avail >= 20) {
			l4[12] = (__u8)(fz_below(r, 16) << 4);
			add(desc, dlen, "tcp-doff");
		} else if (ip[9] == 1 && l4_avail >= 8 + 20) {
			__u8 *q = l4 + 8;

			if (fz_below(r, 2))
				q[0] = (__u8)(0x40 | fz_below(r, 16));
			else
				put16(q + 2, (__u16)fz_rand(r));
			add(desc, dlen, "icmp-quote-len");
		} else {
			put16(ip + 2, (__u16)(get16(ip + 2) + d));
			add(desc, dlen, "ip4-tot-len");
		}
		if (fz_below(r, 2))
			refix_ip4(ip, avail);
	} else if (type == 0x86dd && avail >= 40) {
		__u8 *l4 = ip + 40;

		if (pick < 3 || avail < 48) {
			v = get16(ip + 4);
			put16(ip + 4, pick == 0 ? (__u16)fz_rand(r) : (__u16)(v + d));
			add(desc, dlen, "ip6-payload-len");
		} else if (ip[6] == 17) {
			put16(l4 + 4, (__u16)(get16(l4 + 4) + d));
			add(desc, dlen, "udp-len");
		} else if (ip[6] == 6 && avail >= 60) {
			l4[12] = (__u8)(fz_below(r, 16) << 4);
			add(desc, dlen, "tcp-doff");
		} else {
			l4[1] = (__u8)fz_rand(r); /* ext header length or ICMP code */
			add(desc, dlen, "ip6-next-len");
		}
	}
}

static void insert(__u8 *b, size_t *len, size_t cap, size_t at, const __u8 *what, size_t n)
{
	if (*len + n > cap || at > *len)
		return;
	memmove(b + at + n, b + at, *len - at);
	memcpy(b + at, what, n);
	*len += n;
}

void fz_mutate(struct fz_rng *r, __u8 *b, size_t *len, size_t cap, char *desc, size_t dlen)
{
	int n = fz_below(r, 100) < 45 ? 0 : 1 + (int)fz_below(r, 3);

	for (int i = 0; i < n; i++) {
		switch (fz_below(r, 10)) {
		case 0:
		case 1: { /* bit flips, mostly in the headers */
			int flips = 1 + (int)fz_below(r, 4);

			for (int f = 0; f < flips && *len; f++) {
				size_t hdr = *len < 80 ? *len : 80;
				size_t at = fz_below(r, 10) < 7 ? fz_below(r, (__u32)hdr)
								: fz_below(r, (__u32)*len);

				b[at] ^= (__u8)(1u << fz_below(r, 8));
			}
			add(desc, dlen, "bitflip");
			break;
		}
		case 2: /* truncation */
			if (*len) {
				*len = fz_below(r, (__u32)*len);
				add(desc, dlen, "truncate");
			}
			break;
		case 3:
		case 4:
			len_lie(r, b, *len, desc, dlen);
			break;
		case 5: { /* VLAN in VLAN: one more tag after the MACs */
			__u8 tag[4] = {0x81, 0x00, 0, (__u8)fz_below(r, 256)};

			if (fz_below(r, 2))
				tag[1] = 0xa8, tag[0] = 0x88;
			if (*len >= 12) {
				insert(b, len, cap, 12, tag, 4);
				add(desc, dlen, "vlan-in-vlan");
			}
			break;
		}
		case 6: { /* strip a tag */
			__u16 t = *len >= 18 ? get16(b + 12) : 0;

			if (t == 0x8100 || t == 0x88a8) {
				memmove(b + 12, b + 16, *len - 16);
				*len -= 4;
				add(desc, dlen, "vlan-strip");
			}
			break;
		}
		case 7: /* an interesting byte anywhere */
			if (*len) {
				static const __u8 vals[] = {0, 0xff, 0x80, 0x7f, 0x40, 0x60};

				b[fz_below(r, (__u32)*len)] = vals[fz_below(r, sizeof(vals))];
				add(desc, dlen, "byte");
			}
			break;
		case 8: { /* trailing bytes beyond the IP length (Ethernet padding) */
			__u8 pad[24] = {0};
			size_t np = 1 + fz_below(r, sizeof(pad));

			insert(b, len, cap, *len, pad, np);
			add(desc, dlen, "pad");
			break;
		}
		default: /* destination MAC of another kind */
			if (*len >= 6) {
				static const __u8 *macs[] = {FZ_MAC_OTHER, MAC_BCAST, MAC_MCAST4,
							     MAC_MCAST6};

				memcpy(b, macs[fz_below(r, 4)], 6);
				add(desc, dlen, "dst-mac");
			}
			break;
		}
	}
}
