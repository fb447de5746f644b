/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Step 5: a VIP with no usable backend, on_empty=reject. The packet becomes
 * its own answer, sent back out of the NIC with XDP_TX, so the client fails
 * at once instead of retrying into a black hole:
 *  - TCP: a RST per RFC 9293 3.10.7.1: if the segment had ACK, seq := its
 *    ack and flags RST; else seq 0, ack := seq + segment length (SYN and FIN
 *    count one), flags RST|ACK. No options, window 0.
 *  - UDP: ICMP port unreachable (type 3 code 3) or ICMPv6 port unreachable
 *    (type 1 code 4) quoting the IP header and the first 8 bytes of UDP.
 * Both carry TTL/hop limit 64, source = the VIP, all checksums computed,
 * source MAC = the NIC's (the frame's destination, checked by the parser).
 * Never answered (RFC 1122 3.2.2, RFC 9293), dropped and counted
 * no_backend_unanswerable: a RST, an ICMP error, a frame from a broadcast or
 * multicast MAC, a packet from a broadcast, multicast or unspecified IP
 * source. (A broadcast or multicast destination never gets this far.)
 *
 * Replies at a bounded rate: a spoofed flood to an empty VIP would otherwise
 * be reflected at line rate. Each CPU has a token bucket per VIP (GCRA:
 * one "theoretical arrival time" per VIP and CPU, map reject_tat) that
 * refills at reject_rate / online CPUs per second and holds one second of
 * that; beyond it the packet is dropped and counted reject_rate_limited.
 * The rate is the VIP's total when traffic spreads over the CPUs; a flood
 * that lands on one CPU gets that CPU's share.
 */
#ifndef XLB_BPF_REJECT_H
#define XLB_BPF_REJECT_H

#include "csum.h"
#include "forward.h"
#include "maps.h"

/* Set by the loader before load: online CPUs, to share reject_rate. */
const volatile __u32 reject_cpus = 1;

#define XLB_NSEC 1000000000ull

#define XLB_RST_LEN 20
#define XLB_QUOTE4 (sizeof(struct iphdr) + 8)
#define XLB_QUOTE6 (sizeof(struct ipv6hdr) + 8)

XLB_INLINE void xlb_swap_macs(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/* RFC 1122 3.2.2: no error about a link or IP broadcast/multicast source. */
XLB_INLINE int xlb_answerable(struct xdp_md *ctx, const struct xlb_pkt *p)
{
	struct ethhdr *eth = (void *)(long)ctx->data;
	__u32 s4 = bpf_ntohl(p->key.saddr.w[3]);

	if ((void *)(eth + 1) > (void *)(long)ctx->data_end || (eth->h_source[0] & 1))
		return 0;
	if (p->family == XLB_AF_INET)
		return s4 && s4 != 0xffffffffu && (s4 >> 28) != 0xe;
	if (p->key.saddr.b[0] == 0xff)
		return 0;
	return (p->key.saddr.w[0] | p->key.saddr.w[1] | p->key.saddr.w[2] | p->key.saddr.w[3]) != 0;
}

/* Take a reply token of the VIP's bucket on this CPU: 1, or 0 when empty. */
XLB_INLINE int xlb_reject_token(const struct xlb_vip_val *vip)
{
	__u32 rate = vip->reject_rate ? vip->reject_rate : XLB_DEFAULT_REJECT_RATE;
	__u32 id = vip->vip_id;
	__u64 now, step, burst, *tat;

	if (rate == XLB_REJECT_RATE_UNLIMITED)
		return 1;
	tat = bpf_map_lookup_elem(&reject_tat, &id);
	if (!tat)
		return 0;
	step = XLB_NSEC * reject_cpus / rate; /* ns per reply on this CPU */
	burst = step > XLB_NSEC ? step : XLB_NSEC;
	now = bpf_ktime_get_ns();
	if (*tat < now)
		*tat = now;
	if (*tat + step - now > burst)
		return 0;
	*tat += step;
	return 1;
}

/*
 * A reply IPv4 header from the VIP (key.daddr) to the client (key.saddr),
 * built on the stack and copied out (see xlb_put_outer4).
 */
XLB_INLINE void xlb_put_reply4(struct iphdr *ip, const struct xlb_pkt *p, __u8 proto, __u16 len)
{
	struct iphdr h = {
		.version = 4,
		.ihl = 5,
		.tot_len = bpf_htons(len),
		.ttl = XLB_TTL,
		.protocol = proto,
		.saddr = p->key.daddr.w[3],
		.daddr = p->key.saddr.w[3],
	};

	h.check = xlb_csum_fold(xlb_csum_add(0, &h, sizeof(h)));
	__builtin_memcpy(ip, &h, sizeof(h));
}

XLB_INLINE void xlb_put_reply6(struct ipv6hdr *ip6, const struct xlb_pkt *p, __u8 proto, __u16 plen)
{
	*(__be32 *)ip6 = bpf_htonl(6u << 28);
	ip6->payload_len = bpf_htons(plen);
	ip6->nexthdr = proto;
	ip6->hop_limit = XLB_TTL;
	__builtin_memcpy(&ip6->saddr, &p->key.daddr, 16);
	__builtin_memcpy(&ip6->daddr, &p->key.saddr, 16);
}

/* Cut the frame to `len` bytes. */
XLB_INLINE int xlb_trim(struct xdp_md *ctx, __u32 len)
{
	int delta = (int)len - (int)(ctx->data_end - ctx->data);

	if (delta < 0 && bpf_xdp_adjust_tail(ctx, delta))
		return -XLB_R_TRUNCATED;
	return XLB_CONTINUE;
}

XLB_INLINE int xlb_reject_tcp(struct xdp_md *ctx, struct xlb_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 l3 = xlb_l2_len(p);
	__u32 iph = p->family == XLB_AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	struct tcphdr *th = data + l3 + iph;
	__u8 *raw = (__u8 *)th;
	__be32 seq, ack;
	__u8 flags;

	if ((void *)(th + 1) > end)
		return -XLB_R_TRUNCATED;
	if (raw[13] & XLB_TCP_ACK) {
		seq = th->ack_seq;
		ack = 0;
		flags = XLB_TCP_RST;
	} else {
		__u32 seg = p->ip_len - iph - (raw[12] >> 4) * 4;

		seg += !!(raw[13] & XLB_TCP_SYN) + !!(raw[13] & XLB_TCP_FIN);
		seq = 0;
		ack = bpf_htonl(bpf_ntohl(th->seq) + seg);
		flags = XLB_TCP_RST | XLB_TCP_ACK;
	}

	int ret = xlb_trim(ctx, l3 + iph + XLB_RST_LEN);

	if (ret != XLB_CONTINUE)
		return ret;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	th = data + l3 + iph;
	if (data + sizeof(struct ethhdr) > end || (void *)(th + 1) > end)
		return -XLB_R_TRUNCATED;

	struct tcphdr h = {
		.source = p->key.dport,
		.dest = p->key.sport,
		.seq = seq,
		.ack_seq = ack,
	};
	__u8 *hraw = (__u8 *)&h;

	hraw[12] = 5 << 4;
	hraw[13] = flags;
	/* The reply's pseudo header: source VIP, destination client. */
	h.check = xlb_csum_fold(xlb_csum_add(
		xlb_csum_pseudo(&p->key.daddr, &p->key.saddr, p->family, IPPROTO_TCP, XLB_RST_LEN),
		&h, XLB_RST_LEN));
	__builtin_memcpy(th, &h, sizeof(h));

	if (p->family == XLB_AF_INET) {
		struct iphdr *ip = data + l3;

		if ((void *)(ip + 1) > end)
			return -XLB_R_TRUNCATED;
		xlb_put_reply4(ip, p, IPPROTO_TCP, sizeof(*ip) + XLB_RST_LEN);
	} else {
		struct ipv6hdr *ip6 = data + l3;

		if ((void *)(ip6 + 1) > end)
			return -XLB_R_TRUNCATED;
		xlb_put_reply6(ip6, p, IPPROTO_TCP, XLB_RST_LEN);
	}
	xlb_swap_macs(data);
	p->reason = XLB_R_REJECT_TCP_RST;
	return XDP_TX;
}

/*
 * Make room for an ICMP error: grow the frame at the front by `grow` bytes for
 * the new IP+ICMP header, keep the old IP header + 8 bytes as the quote, cut
 * the rest, move the L2 header to the new front.
 */
XLB_INLINE int xlb_icmp_room(struct xdp_md *ctx, __u32 l2, __u32 grow, __u32 quote,
			     __be16 eth_proto)
{
	int ret;

	if (bpf_xdp_adjust_head(ctx, -(int)grow))
		return -XLB_R_ENCAP_NO_ROOM;
	ret = xlb_trim(ctx, l2 + grow + quote);
	if (ret != XLB_CONTINUE)
		return ret;
	return xlb_move_l2((void *)(long)ctx->data, (void *)(long)ctx->data_end, grow, l2,
			   eth_proto);
}

/*
 * Turn the packet into an ICMP error from the VIP to the client quoting its
 * IP header and the first 8 bytes of data (RFC 792).
 */
XLB_INLINE int xlb_icmp4_reply(struct xdp_md *ctx, struct xlb_pkt *p, __u8 type, __u8 code,
			       __be32 rest)
{
	const __u32 grow = sizeof(struct iphdr) + sizeof(struct icmphdr);
	__u32 l2 = xlb_l2_len(p);
	void *data, *end;
	int ret;

	ret = xlb_icmp_room(ctx, l2, grow, XLB_QUOTE4, bpf_htons(ETH_P_IP));
	if (ret != XLB_CONTINUE)
		return ret;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) > end) /* bounds for this data register */
		return -XLB_R_TRUNCATED;

	struct iphdr *ip = data + l2;
	struct icmphdr *ic = (void *)(ip + 1);

	if ((void *)(ic + 1) + XLB_QUOTE4 > end)
		return -XLB_R_TRUNCATED;
	xlb_put_reply4(ip, p, IPPROTO_ICMP, grow + XLB_QUOTE4);
	ic->type = type;
	ic->code = code;
	ic->checksum = 0;
	ic->rest = rest;
	/* Summed in place by the helper: the quote is packet data, and a
	 * helper call over a checked range keeps the verifier's bounds. */
	ic->checksum =
		xlb_csum_fold(bpf_csum_diff(NULL, 0, (void *)ic, sizeof(*ic) + XLB_QUOTE4, 0));
	xlb_swap_macs(data);
	return XDP_TX;
}

/* bpf_csum_diff() sums at most 512 bytes a call: len (constant) in pieces. */
XLB_INLINE __u32 xlb_csum_pkt(void *from, const __u32 len, __u32 seed)
{
#pragma unroll
	for (__u32 off = 0; off < len; off += 512)
		seed = bpf_csum_diff(NULL, 0, from + off, len - off < 512 ? len - off : 512, seed);
	return seed;
}

/* The same for IPv6: an ICMPv6 error quoting the first `quote` bytes. */
XLB_INLINE int xlb_icmp6_reply(struct xdp_md *ctx, struct xlb_pkt *p, __u8 type, __u8 code,
			       __be32 rest, const __u32 quote)
{
	const __u32 grow = sizeof(struct ipv6hdr) + sizeof(struct icmp6hdr);
	const __u32 plen = sizeof(struct icmp6hdr) + quote;
	__u32 l2 = xlb_l2_len(p);
	void *data, *end;
	int ret;

	ret = xlb_icmp_room(ctx, l2, grow, quote, bpf_htons(ETH_P_IPV6));
	if (ret != XLB_CONTINUE)
		return ret;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) > end) /* bounds for this data register */
		return -XLB_R_TRUNCATED;

	struct ipv6hdr *ip6 = data + l2;
	struct icmp6hdr *ic = (void *)(ip6 + 1);

	if ((void *)(ic + 1) + quote > end)
		return -XLB_R_TRUNCATED;
	xlb_put_reply6(ip6, p, IPPROTO_ICMPV6, plen);
	ic->icmp6_type = type;
	ic->icmp6_code = code;
	ic->icmp6_cksum = 0;
	ic->icmp6_dataun.un_data32[0] = rest;
	ic->icmp6_cksum = xlb_csum_fold(xlb_csum_pkt(
		ic, plen,
		xlb_csum_pseudo(&p->key.daddr, &p->key.saddr, XLB_AF_INET6, IPPROTO_ICMPV6, plen)));
	xlb_swap_macs(data);
	return XDP_TX;
}

XLB_INLINE int xlb_reject_udp(struct xdp_md *ctx, struct xlb_pkt *p)
{
	int ret = p->family == XLB_AF_INET
			  ? xlb_icmp4_reply(ctx, p, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0)
			  : xlb_icmp6_reply(ctx, p, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, 0,
					    XLB_QUOTE6);

	if (ret == XDP_TX)
		p->reason = XLB_R_REJECT_ICMP_UNREACH;
	return ret;
}

/* Step 5: the VIP's on_empty policy. */
XLB_INLINE int xlb_on_empty(struct xdp_md *ctx, struct xlb_pkt *p, const struct xlb_vip_val *vip)
{
	if (vip->on_empty == XLB_EMPTY_DROP)
		return -XLB_R_NO_BACKEND_DROP;
	if (vip->on_empty == XLB_EMPTY_PASS) {
		p->reason = XLB_R_NO_BACKEND_PASS;
		return XDP_PASS;
	}
	if (p->icmp_err || (p->tcp_flags & XLB_TCP_RST) || !xlb_answerable(ctx, p))
		return -XLB_R_NO_BACKEND_UNANSWERABLE;
	if (!xlb_reject_token(vip))
		return -XLB_R_REJECT_RATE_LIMITED;
	if (p->key.proto == IPPROTO_TCP)
		return xlb_reject_tcp(ctx, p);
	return xlb_reject_udp(ctx, p);
}

#endif /* XLB_BPF_REJECT_H */
