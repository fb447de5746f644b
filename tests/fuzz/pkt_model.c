// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pkt.h"
#include "pkt_model.h"

const char *const fz_relax_name[FZ_RELAX_N] = {
	[FZ_RELAX_NONE] = "none",
	[FZ_RELAX_NIC_MAC] = "frames to another MAC pass",
	[FZ_RELAX_ICMP_DST] = "ICMP errors not to the quoted source pass",
	[FZ_RELAX_MALFORMED] = "malformed frames to non-VIP addresses pass",
};

static int fail(char *err, size_t elen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t elen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, elen, fmt, ap);
	va_end(ap);
	return -1;
}

static __u16 get16(const __u8 *b)
{
	return (__u16)(b[0] << 8 | b[1]);
}

static __u32 get32(const __u8 *b)
{
	return (__u32)get16(b) << 16 | get16(b + 2);
}

static void addr4(union xlb_addr *a, const __u8 *v4)
{
	memset(a, 0, sizeof(*a));
	a->b[10] = a->b[11] = 0xff;
	memcpy(a->b + 12, v4, 4);
}

static void addr_text(const union xlb_addr *a, char *buf, size_t len)
{
	if (a->w[0] == 0 && a->w[1] == 0 && a->w[2] == htonl(0xffff))
		inet_ntop(AF_INET, &a->w[3], buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a->b, buf, (socklen_t)len);
}

/* ---- the data plane's parse, as documented ----------------------------- */

enum {
	P_OK,
	P_PASS,
	P_BAD,
	P_ANOMALY
};

struct parse {
	const __u8 *b;
	size_t len;
	struct fz_cls *c;
	union xlb_addr dst; /* outer destination */
	int have_dst;
};

static int ports(struct parse *p, size_t off, __u32 l4_len, __u8 proto)
{
	const __u8 *b = p->b;

	if (proto == 6) {
		if (off + 20 > p->len || l4_len < 20)
			return P_BAD;
		if ((b[off + 12] >> 4) < 5 || (__u32)(b[off + 12] >> 4) * 4 > l4_len)
			return P_BAD;
		p->c->tcp_flags = b[off + 13];
	} else if (off + 8 > p->len || l4_len < 8) {
		return P_BAD;
	}
	memcpy(&p->c->key.sport, b + off, 2);
	memcpy(&p->c->key.dport, b + off + 2, 2);
	return P_OK;
}

/* The quoted ports, reversed: the quote travelled VIP -> client. */
static int quote_ports(struct parse *p, size_t off)
{
	if (off + 8 > p->len)
		return P_BAD;
	memcpy(&p->c->key.sport, p->b + off + 2, 2);
	memcpy(&p->c->key.dport, p->b + off, 2);
	p->c->icmp_err = 1;
	return P_OK;
}

static int icmp4(struct parse *p, size_t off, __u32 l4_len)
{
	const __u8 *b = p->b;
	size_t in = off + 8, ihl;
	__u8 t;

	if (off + 8 > p->len || l4_len < 8)
		return P_BAD;
	t = b[off];
	if (t != 3 && t != 11 && t != 12)
		return P_PASS;
	if (in + 20 > p->len)
		return P_BAD;
	ihl = (size_t)(b[in] & 0xf) * 4;
	if (ihl < 20)
		return P_BAD;
	if (8 + ihl + 8 > l4_len)
		return P_BAD;
	if (b[in + 9] != 6 && b[in + 9] != 17)
		return P_PASS;
	addr4(&p->c->key.saddr, b + in + 16);
	addr4(&p->c->key.daddr, b + in + 12);
	p->c->key.proto = b[in + 9];
	return quote_ports(p, in + ihl);
}

static int icmp6(struct parse *p, size_t off, __u32 l4_len)
{
	const __u8 *b = p->b;
	size_t in = off + 8;
	__u8 t;

	if (off + 8 > p->len || l4_len < 8)
		return P_BAD;
	t = b[off];
	if (t != 1 && t != 2 && t != 3 && t != 4)
		return P_PASS;
	if (in + 40 > p->len || 8 + 40 + 8 > l4_len)
		return P_BAD;
	if (b[in + 6] != 6 && b[in + 6] != 17)
		return P_PASS;
	memcpy(p->c->key.saddr.b, b + in + 24, 16);
	memcpy(p->c->key.daddr.b, b + in + 8, 16);
	p->c->key.proto = b[in + 6];
	return quote_ports(p, in + 40);
}

static int ip4(struct parse *p)
{
	const __u8 *ip = p->b + p->c->l2;
	size_t ihl;
	__u32 ip_len;

	if (p->c->l2 + 20 > p->len)
		return P_BAD;
	addr4(&p->dst, ip + 16);
	p->have_dst = 1;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20)
		return P_BAD;
	ip_len = get16(ip + 2);
	if (ip_len < ihl || p->c->l2 + ip_len > p->len)
		return P_BAD;
	p->c->family = 4;
	p->c->ip_len = ip_len;
	p->c->key.proto = ip[9];
	addr4(&p->c->key.saddr, ip + 12);
	p->c->key.daddr = p->dst;
	if (ip[9] != 6 && ip[9] != 17 && ip[9] != 1)
		return P_PASS;
	if (get16(ip + 6) & 0x3fff || ihl != 20)
		return P_ANOMALY; /* fragment or options */
	if (ip[9] == 1)
		return icmp4(p, p->c->l2 + 20, ip_len - 20);
	return ports(p, p->c->l2 + 20, ip_len - 20, ip[9]);
}

static int ext6(__u8 nh)
{
	switch (nh) {
	case 0:
	case 43:
	case 44:
	case 51:
	case 60:
	case 135:
	case 139:
	case 140:
	case 253:
	case 254:
		return 1;
	}
	return 0;
}

static int ip6(struct parse *p)
{
	const __u8 *ip = p->b + p->c->l2;
	__u32 plen;

	if (p->c->l2 + 40 > p->len)
		return P_BAD;
	memcpy(p->dst.b, ip + 24, 16);
	p->have_dst = 1;
	if ((ip[0] >> 4) != 6)
		return P_BAD;
	plen = get16(ip + 4);
	if (p->c->l2 + 40 + plen > p->len)
		return P_BAD;
	p->c->family = 6;
	p->c->ip_len = plen + 40;
	p->c->key.proto = ip[6];
	memcpy(p->c->key.saddr.b, ip + 8, 16);
	p->c->key.daddr = p->dst;
	if (ip[6] == 6 || ip[6] == 17)
		return ports(p, p->c->l2 + 40, plen, ip[6]);
	if (ip[6] == 58)
		return icmp6(p, p->c->l2 + 40, plen);
	return ext6(ip[6]) ? P_ANOMALY : P_PASS;
}

static int parse(struct parse *p)
{
	__u16 type;

	if (p->len < 14)
		return P_BAD;
	p->c->l2 = 14;
	type = get16(p->b + 12);
	if (type == 0x8100 || type == 0x88a8) {
		if (p->len < 18)
			return P_BAD;
		type = get16(p->b + 16);
		p->c->l2 = 18;
	}
	if (type == 0x0800)
		return ip4(p);
	if (type == 0x86dd)
		return ip6(p);
	return P_PASS;
}

void fz_classify(const struct fz_world *w, const struct fz_model_opts *o, const __u8 *b, size_t len,
		 struct fz_cls *c)
{
	struct parse p = {.b = b, .len = len, .c = c};
	int mac_ours = len >= 6 && !memcmp(b, o->nic, 6);
	int r, vip_addr;
	char d[48] = "", q[48];

	memset(c, 0, sizeof(*c));
	r = parse(&p);
	c->fate = FZ_NOT_OURS;
	if (!mac_ours && o->nic_mac) {
		c->tag = "other-mac";
		snprintf(c->why, sizeof(c->why), "destination MAC is not this NIC's");
		return;
	}
	if (r == P_PASS) {
		c->tag = "other-protocol";
		snprintf(c->why, sizeof(c->why), "not TCP/UDP or an ICMP error about TCP/UDP");
		return;
	}
	vip_addr = p.have_dst && fz_vip_addr(w, &p.dst);
	if (p.have_dst)
		addr_text(&p.dst, d, sizeof(d));
	if (r != P_OK) {
		const char *what = r == P_BAD ? "malformed or truncated" : "fragment/options/ext";

		c->tag = r == P_BAD ? "malformed" : "anomaly";

		if (vip_addr) {
			c->fate = FZ_ODD;
			snprintf(c->why, sizeof(c->why), "%s, to VIP address %s", what, d);
		} else if (r == P_BAD && !o->intended) {
			c->fate = FZ_ODD;
			c->relax = FZ_RELAX_MALFORMED;
			snprintf(c->why, sizeof(c->why), "%s, not to a VIP address", what);
		} else {
			snprintf(c->why, sizeof(c->why), "%s, to %s: not a VIP address", what,
				 p.have_dst ? d : "(no destination)");
		}
		if (c->fate != FZ_NOT_OURS && !mac_ours && !c->relax)
			c->relax = FZ_RELAX_NIC_MAC;
		return;
	}
	if (c->icmp_err && memcmp(&p.dst, &c->key.daddr, sizeof(p.dst))) {
		addr_text(&c->key.daddr, q, sizeof(q));
		c->tag = "icmp-error-elsewhere";
		snprintf(c->why, sizeof(c->why), "ICMP error to %s quoting a packet from %s", d, q);
		if (o->intended)
			return;
		c->relax = FZ_RELAX_ICMP_DST;
	}
	c->vip = fz_vip_lookup(w, &c->key.daddr, ntohs(c->key.dport), c->key.proto);
	if (!c->vip) {
		addr_text(&c->key.daddr, q, sizeof(q));
		c->tag = "no-vip";
		snprintf(c->why, sizeof(c->why), "no VIP serves %s port %u proto %u", q,
			 ntohs(c->key.dport), c->key.proto);
		c->relax = FZ_RELAX_NONE;
		return;
	}
	c->fate = FZ_VIP;
	c->tag = c->icmp_err ? "vip-icmp-error" : "vip-flow";
	if (!c->relax)
		snprintf(c->why, sizeof(c->why), "%s for VIP %s",
			 c->icmp_err ? "ICMP error" : "flow", c->vip->name);
	if (!mac_ours && !c->relax)
		c->relax = FZ_RELAX_NIC_MAC;
}

/* ---- lengths and checksums --------------------------------------------- */

static __u32 sum(const __u8 *d, size_t len, __u32 s)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += get16(d + i);
	if (len & 1)
		s += (__u32)d[len - 1] << 8;
	return s;
}

/* 0 when the one's complement sum of data and seed is all ones. */
static int csum_bad(const __u8 *d, size_t len, __u32 seed)
{
	return pb_csum(d, len, seed) != 0;
}

static int l4_valid(const __u8 *ip, size_t hl, size_t seg, __u8 proto, int v6, char *err,
		    size_t elen)
{
	const __u8 *l4 = ip + hl;
	__u32 ps = v6 ? sum(ip + 8, 32, 0) : sum(ip + 12, 8, 0);

	ps += (__u32)seg + (proto == 1 ? 0 : proto);
	switch (proto) {
	case 6:
		if (seg < 20 || (size_t)(l4[12] >> 4) * 4 < 20 || (size_t)(l4[12] >> 4) * 4 > seg)
			return fail(err, elen, "TCP header length %u in a %zu-byte segment",
				    (l4[12] >> 4) * 4, seg);
		if (csum_bad(l4, seg, ps))
			return fail(err, elen, "bad TCP checksum");
		return 0;
	case 17:
		if (seg < 8 || get16(l4 + 4) != seg)
			return fail(err, elen, "UDP length %u, segment %zu",
				    seg >= 8 ? get16(l4 + 4) : 0, seg);
		if ((v6 || get16(l4 + 6)) && csum_bad(l4, seg, ps))
			return fail(err, elen, "bad UDP checksum");
		return 0;
	case 1:
		if (seg < 8 || csum_bad(l4, seg, 0))
			return fail(err, elen, "bad ICMP checksum");
		return 0;
	case 58:
		if (seg < 8 || csum_bad(l4, seg, ps))
			return fail(err, elen, "bad ICMPv6 checksum");
		return 0;
	}
	return 0;
}

int fz_ip_valid(const __u8 *b, size_t len, size_t off, char *err, size_t elen)
{
	const __u8 *ip = b + off;
	size_t avail = len > off ? len - off : 0, hl, tot;
	__u8 proto;
	int v6;

	if (avail < 1)
		return fail(err, elen, "no IP header");
	v6 = (ip[0] >> 4) == 6;
	if (!v6 && (ip[0] >> 4) != 4)
		return fail(err, elen, "IP version %u", ip[0] >> 4);
	if (avail < (v6 ? 40u : 20u))
		return fail(err, elen, "IP header cut at %zu bytes", avail);
	if (v6) {
		hl = 40;
		tot = 40 + (size_t)get16(ip + 4);
		proto = ip[6];
	} else {
		hl = (size_t)(ip[0] & 0xf) * 4;
		tot = get16(ip + 2);
		proto = ip[9];
		if (hl < 20 || hl > tot)
			return fail(err, elen, "IPv4 header length %zu, total length %zu", hl, tot);
		if (csum_bad(ip, hl, 0))
			return fail(err, elen, "bad IPv4 header checksum");
	}
	if (tot > avail)
		return fail(err, elen, "IP length %zu beyond the %zu bytes of the frame", tot,
			    avail);
	if (!v6 && get16(ip + 6) & 0x3fff)
		return (int)(avail - tot); /* a fragment: no L4 to check */
	if (proto == 4 || proto == 41) {
		int inner = fz_ip_valid(ip, tot, hl, err, elen);
		size_t n = elen ? strlen(err) : 0;

		if (inner < 0 && n < elen)
			snprintf(err + n, elen - n, " (inner packet)");
		if (inner > 0)
			return fail(err, elen, "inner packet %d bytes short of the outer length",
				    inner);
		return inner < 0 ? -1 : (int)(avail - tot);
	}
	if (l4_valid(ip, hl, tot - hl, proto, v6, err, elen))
		return -1;
	return (int)(avail - tot);
}

/* ---- outputs ------------------------------------------------------------ */

static int mac_str(const __u8 *m, char *buf, size_t len)
{
	return snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
			m[5]);
}

static int check_l2(const struct fz_cls *c, const __u8 *in, const __u8 *out, const __u8 *dst,
		    const __u8 *nic, __u16 type, char *err, size_t elen)
{
	char a[24], b[24];

	if (memcmp(out, dst, 6)) {
		mac_str(out, a, sizeof(a));
		mac_str(dst, b, sizeof(b));
		return fail(err, elen, "destination MAC %s, want %s", a, b);
	}
	if (nic && memcmp(out + 6, nic, 6)) {
		mac_str(out + 6, a, sizeof(a));
		mac_str(nic, b, sizeof(b));
		return fail(err, elen, "source MAC %s, not this NIC's %s", a, b);
	}
	if (c->l2 == 18 && memcmp(out + 12, in + 12, 4))
		return fail(err, elen, "802.1Q tag not kept");
	if (get16(out + c->l2 - 2) != type)
		return fail(err, elen, "EtherType %04x, want %04x", get16(out + c->l2 - 2), type);
	return 0;
}

/* One tunnel header at o to dst carrying inner_len bytes of protocol proto;
 * its source (the encap prefix plus the per-flow bits) into src. */
static int check_tunnel(const __u8 *o, size_t olen, const union xlb_addr *dst, __u32 inner_len,
			__u8 proto, union xlb_addr *src, char *err, size_t elen)
{
	if (olen == 20) {
		addr4(src, o + 12);
		if (get16(o + 2) != inner_len + 20)
			return fail(err, elen, "tunnel total length %u, inner %u", get16(o + 2),
				    inner_len);
		if (pb_csum(o, 20, 0))
			return fail(err, elen, "bad tunnel IPv4 header checksum");
		if (o[9] != proto || (o[0] & 0xf) != 5)
			return fail(err, elen, "tunnel protocol %u / IHL %u", o[9], o[0] & 0xf);
		if (memcmp(o + 16, dst->b + 12, 4))
			return fail(err, elen, "tunnel destination is not the backend's address");
		if ((src->b[12] != 172 || src->b[13] != 16))
			return fail(err, elen, "tunnel source outside the encap prefix");
		return 0;
	}
	memcpy(src->b, o + 8, 16);
	if (get16(o + 4) != inner_len)
		return fail(err, elen, "tunnel payload length %u, inner %u", get16(o + 4),
			    inner_len);
	if (o[6] != proto)
		return fail(err, elen, "tunnel next header %u, want %u", o[6], proto);
	if (memcmp(o + 24, dst->b, 16))
		return fail(err, elen, "tunnel destination is not the backend's address");
	if (get32(src->b) != 0xfd00ffff || get32(src->b + 4) || get32(src->b + 8) ||
	    get16(src->b + 12))
		return fail(err, elen, "tunnel source outside the encap prefix");
	return 0;
}

int fz_check_forward(const struct fz_world *w, const struct fz_cls *c, const __u8 *in,
		     size_t in_len, const __u8 *out, size_t out_len, __u32 id, __u32 prev,
		     const __u8 *nic, char *err, size_t elen)
{
	const struct fz_backend *be = &w->be[id];
	const struct fz_vip *v = &w->vip[be->vip >= 0 ? be->vip : 0];
	size_t l2 = c->l2, olen, hdrs, in_pad = in_len - l2 - c->ip_len;
	const __u8 *o = out + l2;
	__u8 inner_proto = c->family == 4 ? 4 : 41;
	union xlb_addr src, src2;
	int pad;

	if (be->vip < 0 || v->mode == XLB_MODE_DSR) {
		if (check_l2(c, in, out, be->mac, nic, get16(in + l2 - 2), err, elen))
			return -1;
		if (out_len != in_len || memcmp(out + 12, in + 12, in_len - 12))
			return fail(err, elen, "dsr changed more than the MACs");
		return 0;
	}
	olen = be->family == XLB_AF_INET6 ? 40 : 20;
	hdrs = prev ? 2 * olen : olen;
	if (check_l2(c, in, out, be->mac, nic, be->family == XLB_AF_INET6 ? 0x86dd : 0x0800, err,
		     elen))
		return -1;
	if (out_len != in_len + hdrs)
		return fail(err, elen, "ipip frame of %zu bytes for a %zu-byte input (headers %zu)",
			    out_len, in_len, hdrs);
	if (memcmp(out + l2 + hdrs, in + l2, in_len - l2))
		return fail(err, elen,
			    "the encapsulated packet differs from the input's IP packet");
	pad = fz_ip_valid(out, out_len, l2, err, elen);
	if (pad < 0 && fz_ip_valid(in, in_len, l2, NULL, 0) >= 0)
		return -1; /* valid in, invalid out */
	if (prev) {
		if (check_tunnel(o, olen, &be->addr, c->ip_len + (__u32)olen, olen == 20 ? 4 : 41,
				 &src, err, elen) ||
		    check_tunnel(o + olen, olen, &w->be[prev].addr, c->ip_len, inner_proto, &src2,
				 err, elen))
			return -1;
		if (memcmp(&src, &src2, sizeof(src)))
			return fail(err, elen, "the two headers' sources differ");
	} else if (check_tunnel(o, olen, &be->addr, c->ip_len, inner_proto, &src, err, elen)) {
		return -1;
	}
	if (out_len - l2 - hdrs - c->ip_len != in_pad)
		return fail(err, elen, "padding changed");
	return 0;
}

int fz_check_reply(const struct fz_cls *c, const __u8 *in, size_t in_len, const __u8 *out,
		   size_t out_len, const __u8 *nic, char *err, size_t elen)
{
	size_t l2 = c->l2, iph = c->family == 4 ? 20 : 40, qlen;
	const __u8 *ip = out + l2, *l4 = out + l2 + iph, *tin = in + l2 + iph;
	int v6 = c->family == 6, pad;

	(void)in_len;
	if (out_len < l2 + iph + 8)
		return fail(err, elen, "answer of %zu bytes", out_len);
	if (check_l2(c, in, out, in + 6, nic, v6 ? 0x86dd : 0x0800, err, elen))
		return -1;
	pad = fz_ip_valid(out, out_len, l2, err, elen);
	if (pad)
		return pad < 0 ? -1 : fail(err, elen, "answer carries %d bytes of padding", pad);
	if (v6 ? memcmp(ip + 8, c->key.daddr.b, 16) || memcmp(ip + 24, c->key.saddr.b, 16)
	       : memcmp(ip + 12, c->key.daddr.b + 12, 4) || memcmp(ip + 16, c->key.saddr.b + 12, 4))
		return fail(err, elen, "answer not from the VIP to the client");
	if (ip[v6 ? 7 : 8] != 64)
		return fail(err, elen, "answer TTL/hop limit %u", ip[v6 ? 7 : 8]);
	if (ip[v6 ? 6 : 9] == 6) {
		__u8 f = tin[13];
		__u32 seg;

		if (c->icmp_err || c->key.proto != 6)
			return fail(err, elen, "TCP RST for a non-TCP packet");
		if (out_len != l2 + iph + 20 || (l4[12] >> 4) != 5)
			return fail(err, elen, "RST is not a bare 20-byte header");
		if (memcmp(l4, &c->key.dport, 2) || memcmp(l4 + 2, &c->key.sport, 2))
			return fail(err, elen, "RST ports are not the segment's, swapped");
		if (f & 0x10) {
			if (l4[13] != 0x04 || get32(l4 + 4) != get32(tin + 8))
				return fail(err, elen,
					    "RST to an ACK: flags %02x seq %u, want 04 %u", l4[13],
					    get32(l4 + 4), get32(tin + 8));
			return FZ_REPLY_RST;
		}
		seg = c->ip_len - (__u32)iph - (__u32)(tin[12] >> 4) * 4 + !!(f & 2) + !!(f & 1);
		if (l4[13] != 0x14 || get32(l4 + 4) != 0 || get32(l4 + 8) != get32(tin + 4) + seg)
			return fail(err, elen, "RST|ACK: flags %02x seq %u ack %u, want 14 0 %u",
				    l4[13], get32(l4 + 4), get32(l4 + 8), get32(tin + 4) + seg);
		return FZ_REPLY_RST;
	}
	if (ip[v6 ? 6 : 9] != (v6 ? 58 : 1))
		return fail(err, elen, "answer of protocol %u", ip[v6 ? 6 : 9]);
	qlen = out_len - l2 - iph - 8;
	if (qlen > c->ip_len || memcmp(l4 + 8, in + l2, qlen))
		return fail(err, elen, "the ICMP quote is not the start of the input's IP packet");
	if (c->icmp_err)
		return fail(err, elen, "ICMP error sent in answer to an ICMP error");
	if (v6 ? l4[0] == 1 && l4[1] == 4 : l4[0] == 3 && l4[1] == 3) {
		if (c->key.proto != 17)
			return fail(err, elen, "port unreachable for a TCP packet");
		return FZ_REPLY_UNREACH;
	}
	if (v6 ? l4[0] == 2 && l4[1] == 0 : l4[0] == 3 && l4[1] == 4)
		return FZ_REPLY_TOOBIG;
	return fail(err, elen, "ICMP type %u code %u", l4[0], l4[1]);
}
