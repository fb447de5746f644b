/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Step 1: parse Ethernet (one 802.1Q/802.1ad tag), IPv4 or IPv6, then TCP,
 * UDP, or the quote of an ICMP/ICMPv6 error. Every dereference sits beside
 * its bounds check.
 *
 * Policy (README "Packet policy"):
 *  - a frame whose destination MAC is not this NIC's (map "nic"): XDP_PASS,
 *    untouched. Unicast to another host (promiscuous mode, a bridge,
 *    unknown-unicast flooding with several LBs on a segment), broadcast and
 *    multicast are not ours to forward or answer. As a consequence every
 *    frame xlb sends (forwarded or a reply) carries the NIC's MAC as source.
 *  - not IPv4/IPv6, or an L4 protocol other than TCP/UDP/ICMP: XDP_PASS.
 *  - an IP header too short to hold the destination address: XDP_PASS.
 *  - once the destination is known, a malformed header (wrong version, IPv4
 *    header length or TCP data offset below 20) or a truncated one (a header
 *    shorter than its fixed part, an IP length beyond the frame) is an
 *    anomaly: dropped and counted only if the destination is a VIP address,
 *    otherwise passed untouched (the stack counts and drops it itself).
 *  - IPv4 fragments, IPv4 options, IPv6 extension headers: recorded as an
 *    anomaly the same way. Fragments carry no ports to hash; options and
 *    extension headers are next to absent from legitimate client traffic and
 *    are a classic evasion and DoS vector.
 *  - ICMP errors (unreachable incl. frag-needed, time exceeded, parameter
 *    problem; ICMPv6 also packet too big) are parsed into the reversed key of
 *    the flow they quote, so they reach that flow's backend, but only when
 *    sent to the address the quoted packet came from (outer destination ==
 *    quoted source, the VIP): anything else is not about a flow of ours and
 *    passes. Other ICMP (echo, neighbour discovery) passes.
 */
#ifndef XLB_BPF_PARSE_H
#define XLB_BPF_PARSE_H

#include "maps.h"

/* The first 8 bytes of the quoted L4 header must be there (RFC 792). */
#define XLB_QUOTE_L4 8

/* A bad header on a packet whose destination is known: see the policy. */
XLB_INLINE int xlb_bad(struct xlb_pkt *p, __u8 reason)
{
	p->anomaly = reason;
	return XLB_CONTINUE;
}

/*
 * Is the frame's destination MAC this NIC's? One 4-byte and one 2-byte load
 * each side; an all-zero MAC (the NIC's, unset) matches nothing.
 */
XLB_INLINE int xlb_mac_ours(const __u8 *dst, const __u8 *mac)
{
	__u32 d4 = *(const __u32 *)dst;
	__u16 d2 = *(const __u16 *)(dst + 4);

	return (d4 | d2) && ((d4 ^ *(const __u32 *)mac) | (d2 ^ *(const __u16 *)(mac + 4))) == 0;
}

XLB_INLINE int xlb_addr_eq(const union xlb_addr *a, const void *b)
{
	const __u32 *w = b;

	return ((a->w[0] ^ w[0]) | (a->w[1] ^ w[1]) | (a->w[2] ^ w[2]) | (a->w[3] ^ w[3])) == 0;
}

/* TCP or UDP ports at l4; fills the key for the forward direction. */
XLB_INLINE int xlb_parse_l4(struct xlb_pkt *p, void *l4, void *end, __u32 l4_len)
{
	if (p->key.proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;
		__u8 *raw = l4;

		if ((void *)(th + 1) > end || l4_len < sizeof(*th))
			return xlb_bad(p, XLB_R_TRUNCATED);
		if ((raw[12] >> 4) < 5)
			return xlb_bad(p, XLB_R_MALFORMED);
		if ((__u32)(raw[12] >> 4) * 4 > l4_len)
			return xlb_bad(p, XLB_R_TRUNCATED);
		p->key.sport = th->source;
		p->key.dport = th->dest;
		p->tcp_flags = raw[13];
		return XLB_CONTINUE;
	}
	struct udphdr *uh = l4;

	if ((void *)(uh + 1) > end || l4_len < sizeof(*uh))
		return xlb_bad(p, XLB_R_TRUNCATED);
	p->key.sport = uh->source;
	p->key.dport = uh->dest;
	return XLB_CONTINUE;
}

/* Ports of a quoted TCP/UDP header, reversed: the quote travelled VIP->client. */
XLB_INLINE int xlb_parse_quote_ports(struct xlb_pkt *p, void *l4, void *end)
{
	__be16 *ports = l4;

	if ((void *)ports + XLB_QUOTE_L4 > end)
		return xlb_bad(p, XLB_R_TRUNCATED);
	p->key.sport = ports[1];
	p->key.dport = ports[0];
	p->icmp_err = 1;
	return XLB_CONTINUE;
}

XLB_INLINE int xlb_parse_icmp4(struct xlb_pkt *p, void *l4, void *end, __u32 l4_len)
{
	struct icmphdr *ih = l4;

	if ((void *)(ih + 1) > end || l4_len < sizeof(*ih))
		return xlb_bad(p, XLB_R_TRUNCATED);
	if (ih->type != ICMP_DEST_UNREACH && ih->type != ICMP_TIME_EXCEEDED &&
	    ih->type != ICMP_PARAMETERPROB)
		return XDP_PASS;

	struct iphdr *in = (void *)(ih + 1);

	if ((void *)(in + 1) > end)
		return xlb_bad(p, XLB_R_TRUNCATED);
	if (in->ihl < 5)
		return xlb_bad(p, XLB_R_MALFORMED);
	if (sizeof(*ih) + (__u32)in->ihl * 4 + XLB_QUOTE_L4 > l4_len)
		return xlb_bad(p, XLB_R_TRUNCATED);
	if (in->protocol != IPPROTO_TCP && in->protocol != IPPROTO_UDP)
		return XDP_PASS;
	/* About a packet the VIP sent only if it goes back to the VIP. */
	if (in->saddr != p->key.daddr.w[3])
		return XDP_PASS;
	xlb_addr_set4(&p->key.saddr, in->daddr);
	xlb_addr_set4(&p->key.daddr, in->saddr);
	p->key.proto = in->protocol;
	return xlb_parse_quote_ports(p, (void *)in + (in->ihl & 0xf) * 4, end);
}

XLB_INLINE int xlb_parse_icmp6(struct xlb_pkt *p, void *l4, void *end, __u32 l4_len)
{
	struct icmp6hdr *ih = l4;

	if ((void *)(ih + 1) > end || l4_len < sizeof(*ih))
		return xlb_bad(p, XLB_R_TRUNCATED);
	if (ih->icmp6_type != ICMPV6_DEST_UNREACH && ih->icmp6_type != ICMPV6_PKT_TOOBIG &&
	    ih->icmp6_type != ICMPV6_TIME_EXCEED && ih->icmp6_type != ICMPV6_PARAMPROB)
		return XDP_PASS;

	struct ipv6hdr *in = (void *)(ih + 1);

	if ((void *)(in + 1) > end || sizeof(*ih) + sizeof(*in) + XLB_QUOTE_L4 > l4_len)
		return xlb_bad(p, XLB_R_TRUNCATED);
	if (in->nexthdr != IPPROTO_TCP && in->nexthdr != IPPROTO_UDP)
		return XDP_PASS;
	/* About a packet the VIP sent only if it goes back to the VIP. */
	if (!xlb_addr_eq(&p->key.daddr, &in->saddr))
		return XDP_PASS;
	xlb_addr_copy(&p->key.saddr, &in->daddr);
	xlb_addr_copy(&p->key.daddr, &in->saddr);
	p->key.proto = in->nexthdr;
	return xlb_parse_quote_ports(p, in + 1, end);
}

XLB_INLINE int xlb_parse_ipv4(struct xlb_pkt *p, void *data, void *end)
{
	struct iphdr *ip = data + p->l2_len;

	if ((void *)(ip + 1) > end)
		return XDP_PASS; /* no destination to judge by */
	p->family = XLB_AF_INET;
	p->key.proto = ip->protocol;
	xlb_addr_set4(&p->key.saddr, ip->saddr);
	xlb_addr_set4(&p->key.daddr, ip->daddr);
	if (ip->version != 4 || ip->ihl < 5)
		return xlb_bad(p, XLB_R_MALFORMED);

	__u32 ip_len = bpf_ntohs(ip->tot_len);

	if (ip_len < (__u32)ip->ihl * 4 || (void *)ip + ip_len > end)
		return xlb_bad(p, XLB_R_TRUNCATED);
	p->ip_len = ip_len;
	p->tos = ip->tos;
	p->df = !!(ip->frag_off & bpf_htons(XLB_IP_DF));
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP &&
	    ip->protocol != IPPROTO_ICMP)
		return XDP_PASS;
	if (ip->frag_off & bpf_htons(XLB_IP_MF | XLB_IP_OFFSET)) {
		p->anomaly = XLB_R_FRAGMENT;
		return XLB_CONTINUE;
	}
	if (ip->ihl != 5) {
		p->anomaly = XLB_R_IPV4_OPTIONS;
		return XLB_CONTINUE;
	}
	if (ip->protocol == IPPROTO_ICMP)
		return xlb_parse_icmp4(p, ip + 1, end, ip_len - sizeof(*ip));
	return xlb_parse_l4(p, ip + 1, end, ip_len - sizeof(*ip));
}

XLB_INLINE int xlb_ipv6_ext_hdr(__u8 nexthdr)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case IPPROTO_MH:
	case 139: /* HIP */
	case 140: /* Shim6 */
	case 253: /* experimental */
	case 254:
		return XLB_R_IPV6_EXT_HEADER;
	case IPPROTO_FRAGMENT:
		return XLB_R_FRAGMENT;
	}
	return 0;
}

XLB_INLINE int xlb_parse_ipv6(struct xlb_pkt *p, void *data, void *end)
{
	struct ipv6hdr *ip6 = data + p->l2_len;

	if ((void *)(ip6 + 1) > end)
		return XDP_PASS; /* no destination to judge by */
	p->family = XLB_AF_INET6;
	p->key.proto = ip6->nexthdr;
	xlb_addr_copy(&p->key.saddr, &ip6->saddr);
	xlb_addr_copy(&p->key.daddr, &ip6->daddr);
	if (ip6->version != 6)
		return xlb_bad(p, XLB_R_MALFORMED);

	__u32 plen = bpf_ntohs(ip6->payload_len);

	if ((void *)(ip6 + 1) + plen > end)
		return xlb_bad(p, XLB_R_TRUNCATED);
	p->ip_len = plen + sizeof(*ip6);
	p->tos = (bpf_ntohl(*(__be32 *)ip6) >> 20) & 0xff;
	switch (ip6->nexthdr) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		return xlb_parse_l4(p, ip6 + 1, end, plen);
	case IPPROTO_ICMPV6:
		return xlb_parse_icmp6(p, ip6 + 1, end, plen);
	}
	p->anomaly = xlb_ipv6_ext_hdr(ip6->nexthdr);
	return p->anomaly ? XLB_CONTINUE : XDP_PASS;
}

XLB_INLINE int xlb_parse(struct xdp_md *ctx, struct xlb_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const struct xlb_nic *nic = xlb_nic();
	struct ethhdr *eth = data;
	__be16 proto;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	/* Only frames sent to this NIC; a zero (unset) MAC matches none. */
	if (!nic || !xlb_mac_ours(eth->h_dest, nic->mac))
		return XDP_PASS;
	p->len = end - data;
	p->l2_len = sizeof(*eth);
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct xlb_vlan_hdr *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > end)
			return XDP_PASS;
		proto = vh->encap_proto;
		p->l2_len += sizeof(*vh);
	}
	if (proto == bpf_htons(ETH_P_IP))
		return xlb_parse_ipv4(p, data, end);
	if (proto == bpf_htons(ETH_P_IPV6))
		return xlb_parse_ipv6(p, data, end);
	return XDP_PASS;
}

#endif /* XLB_BPF_PARSE_H */
