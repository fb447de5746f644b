/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Step 6: forward to the chosen backend.
 *
 * dsr:  destination MAC := backend's next hop, source MAC := the MAC the
 *       frame was sent to, which the parser checked is this NIC's own (map
 *       "nic"), XDP_TX. Nothing else changes.
 * ipip: an outer IPv4 (IPv4 VIP, IPv4 backend) or IPv6 header (IPv6 VIP,
 *       or IPv4 VIP to an IPv6 backend) goes in front of the IP packet; the
 *       Ethernet header (and its 802.1Q tag) moves to the new front. The
 *       outer source is the configured encap prefix with the low bits set
 *       from the flow (client port XOR the folded client address), so the
 *       backend's RSS spreads flows across queues; the IPv6 flow label
 *       carries the same value for ECMP. Outer TTL 64, TOS copied, outer DF
 *       copied from an IPv4 inner packet. A packet that no longer fits the
 *       MTU with the outer header is answered instead (lib/pmtu.h).
 *
 * Stateless VIPs carry the slot's previous backend ("handover", README
 * "Stateless forwarding") as a second IP header between the outer header
 * and the client's packet: outer LB -> current backend, middle same source
 * -> previous backend (proto IPIP/IPV6 per the client's packet), then the
 * client's packet. Why this carrier: no IP options or IPv6 extension
 * headers (routers punt those to their slow path), no UDP/GUE port to
 * allocate and open, the packet the current backend hands on is simply the
 * packet minus its outer header (already a valid ipip packet to the
 * previous backend, which any decap, xlb's or the kernel's, accepts), and
 * the backends' decap allow-list (the LB encap prefixes) covers the middle
 * header's source as well. Cost: 20 (IPv4) or 40 (IPv6) bytes, only on
 * packets that carry a previous hop; the MTU budget counts it always.
 */
#ifndef XLB_BPF_FORWARD_H
#define XLB_BPF_FORWARD_H

#include "csum.h"

/* Set by the loader before load (xlb_dp_opts). */
const volatile __be32 encap_src4 = 0;
const volatile union xlb_addr encap_src6 = {};
const volatile __u32 encap_vary_mask = 0xffff; /* host order, <= 0xffff */

/*
 * The source MAC is the frame's destination: this NIC's (checked in parse).
 * A MAC moves as one 4-byte and one 2-byte access, as xlb_mac_ours reads
 * it: copied as __u8 arrays, clang 14 moved each a byte at a time (24
 * loads and stores for the two; packet and map value accesses need no
 * alignment on the JITs xlb runs on, x86-64 and arm64).
 */
XLB_INLINE void xlb_mac_copy(void *dst, const void *src)
{
	__u32 m4 = *(const __u32 *)src;
	__u16 m2 = *(const __u16 *)(src + 4);

	*(__u32 *)dst = m4;
	*(__u16 *)(dst + 4) = m2;
}

XLB_INLINE void xlb_set_macs(struct ethhdr *eth, const __u8 *dst)
{
	xlb_mac_copy(eth->h_source, eth->h_dest);
	xlb_mac_copy(eth->h_dest, dst);
}

XLB_INLINE int xlb_fwd_dsr(struct xdp_md *ctx, const struct xlb_backend *be)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return -XLB_R_TRUNCATED;
	xlb_set_macs(eth, be->mac);
	return XDP_TX;
}

/* Per-flow value for the outer source address and flow label. */
XLB_INLINE __u32 xlb_encap_vary(const struct xlb_pkt *p)
{
	__u32 a = bpf_ntohl(p->key.saddr.w[3]);

	return (bpf_ntohs(p->key.sport) ^ (a & 0xffff) ^ (a >> 16)) & encap_vary_mask;
}

/*
 * The header is built on the stack and copied out whole: summing it in place
 * let clang re-derive the packet pointer into a register the verifier had
 * not range-checked ("invalid access to packet", kernel 6.18, clang 14).
 * An IPv4 header carries IPv4 only; inner_len is what follows it.
 */
XLB_INLINE void xlb_put_outer4(struct iphdr *o, const struct xlb_pkt *p, __be32 daddr,
			       __u32 inner_len, __u32 vary)
{
	struct iphdr h = {
		.version = 4,
		.ihl = 5,
		.tos = p->tos,
		.tot_len = bpf_htons(inner_len + sizeof(h)),
		.frag_off = p->df ? bpf_htons(XLB_IP_DF) : 0,
		.ttl = XLB_TTL,
		.protocol = IPPROTO_IPIP,
		.saddr = encap_src4 | bpf_htonl(vary),
		.daddr = daddr,
	};

	h.check = xlb_csum_fold(xlb_csum_add(0, &h, sizeof(h)));
	__builtin_memcpy(o, &h, sizeof(h));
}

XLB_INLINE void xlb_put_outer6(struct ipv6hdr *o, const struct xlb_pkt *p,
			       const union xlb_addr *daddr, __u32 inner_len, __u8 nexthdr,
			       __u32 vary)
{
	*(__be32 *)o = bpf_htonl((6u << 28) | ((__u32)p->tos << 20) | vary);
	o->payload_len = bpf_htons(inner_len);
	o->nexthdr = nexthdr;
	o->hop_limit = XLB_TTL;
	o->saddr.in6_u.u6_addr32[0] = encap_src6.w[0];
	o->saddr.in6_u.u6_addr32[1] = encap_src6.w[1];
	o->saddr.in6_u.u6_addr32[2] = encap_src6.w[2];
	o->saddr.in6_u.u6_addr32[3] = encap_src6.w[3] | bpf_htonl(vary);
	__builtin_memcpy(&o->daddr, daddr, sizeof(o->daddr));
}

/*
 * Move the L2 header (14 or 18 bytes) from `olen` bytes in to the new front
 * and set its EtherType. Two constant-size copies: the verifier needs the
 * length of a copy to be known, and l2_len has only these two values.
 * The MACs (and the 802.1Q tag) go as 8-byte words, all read before any is
 * written, so the copy is right for any olen (a memmove); the old
 * EtherType is not copied, the new one replaces it. (__builtin_memmove
 * moved them a byte at a time through the stack: 56 instructions.)
 */
XLB_INLINE int xlb_move_l2(void *data, void *end, __u32 olen, __u32 l2_len, __be16 proto)
{
	void *from = data + olen;
	__u64 a, b;

	if (l2_len == sizeof(struct ethhdr) + sizeof(struct xlb_vlan_hdr)) {
		if (data + 18 > end || from + 18 > end)
			return -XLB_R_TRUNCATED;
		a = *(__u64 *)from; /* MACs, then the tag */
		b = *(__u64 *)(from + 8);
		*(__u64 *)data = a;
		*(__u64 *)(data + 8) = b;
		*(__be16 *)(data + 16) = proto;
		return XLB_CONTINUE;
	}
	if (data + 14 > end || from + 14 > end)
		return -XLB_R_TRUNCATED;
	a = *(__u64 *)from; /* the MACs */
	b = *(__u32 *)(from + 8);
	*(__u64 *)data = a;
	*(__u32 *)(data + 8) = (__u32)b;
	*(__be16 *)(data + 12) = proto;
	return XLB_CONTINUE;
}

/*
 * ipip to be; with prev (stateless VIPs, lib/select.h), a second header of
 * the same family goes between the outer one and the client's packet: from
 * the same source to the previous backend. The caller checked that prev's
 * family is be's.
 */
XLB_INLINE int xlb_fwd_ipip(struct xdp_md *ctx, const struct xlb_pkt *p,
			    const struct xlb_backend *be, const struct xlb_backend *prev)
{
	int outer6 = be->family == XLB_AF_INET6;
	__u32 hlen = outer6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	__u32 olen = prev ? 2 * hlen : hlen;
	__u32 l2_len = xlb_l2_len(p);
	__u32 vary = xlb_encap_vary(p);
	__u8 inner_proto = p->family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	void *data, *end;
	int ret;

	if (p->family == XLB_AF_INET6 && !outer6)
		return -XLB_R_FAMILY_MISMATCH;
	if (bpf_xdp_adjust_head(ctx, -(int)olen))
		return -XLB_R_ENCAP_NO_ROOM;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ret = xlb_move_l2(data, end, olen, l2_len,
			  outer6 ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP));
	if (ret != XLB_CONTINUE)
		return ret;
	xlb_set_macs(data, be->mac);
	if (outer6) {
		struct ipv6hdr *o6 = data + l2_len;

		if (prev) {
			if ((void *)(o6 + 2) > end)
				return -XLB_R_TRUNCATED;
			xlb_put_outer6(o6, p, &be->addr, p->ip_len + sizeof(*o6), IPPROTO_IPV6,
				       vary);
			xlb_put_outer6(o6 + 1, p, &prev->addr, p->ip_len, inner_proto, vary);
		} else {
			if ((void *)(o6 + 1) > end)
				return -XLB_R_TRUNCATED;
			xlb_put_outer6(o6, p, &be->addr, p->ip_len, inner_proto, vary);
		}
	} else {
		struct iphdr *o4 = data + l2_len;

		if (prev) {
			if ((void *)(o4 + 2) > end)
				return -XLB_R_TRUNCATED;
			xlb_put_outer4(o4, p, be->addr.w[3], p->ip_len + sizeof(*o4), vary);
			xlb_put_outer4(o4 + 1, p, prev->addr.w[3], p->ip_len, vary);
		} else {
			if ((void *)(o4 + 1) > end)
				return -XLB_R_TRUNCATED;
			xlb_put_outer4(o4, p, be->addr.w[3], p->ip_len, vary);
		}
	}
	return XDP_TX;
}

#endif /* XLB_BPF_FORWARD_H */
