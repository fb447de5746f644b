// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-decap: backend-side decapsulation for ipip VIPs, for hosts whose kernel
 * has no ipip/ip6_tunnel module (or that would rather not create tunnel
 * devices). Attached with XDP to the backend's NIC, it strips an outer IPv4
 * header carrying IPv4 (proto 4) or an outer IPv6 header carrying IPv6 (41)
 * or IPv4 (4), moves the Ethernet header (and 802.1Q tag) up against the
 * inner packet, fixes the EtherType, and passes the inner packet to the
 * stack, which delivers it to the VIP held on a local address.
 *
 * Policy: the program trusts nobody. A tunnel packet is decapsulated only
 * when its outer source lies in one of the load balancers' encapsulation
 * prefixes (decap_allow4/6, LPM tries) and its outer destination is one of
 * this host's addresses (decap_local); otherwise it is dropped and counted
 * (foreign_src, not_local), because its inner packet would reach local
 * services, past source-based firewall rules, with a source anyone may
 * forge. The loader (xlb-decap) fills both from its options and the
 * interface's addresses; empty maps drop every tunnel packet. A fragmented
 * outer header or a truncated one is dropped and counted; everything that
 * is not a tunnel packet passes untouched.
 *
 * Stateless VIPs: a second IP header from an LB prefix right after the
 * outer one names the previous backend of the client's flow; such a packet
 * is delivered here or handed on to that backend (lib/handover.h).
 */
#include "lib/common.h"
#include "lib/decap_trust.h"
#include "lib/handover.h"

/*
 * Outer header length to strip and the inner EtherType: 1, 0 when not a
 * tunnel packet, -1 when malformed, -2 when untrusted (*drop: counter).
 */
XLB_INLINE int decap_outer(void *l3, void *end, __be16 proto, __u32 *olen, __be16 *inner,
			   __u32 *drop)
{
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > end)
			return 0;
		if (ip->protocol != IPPROTO_IPIP)
			return 0;
		if (ip->ihl < 5 || (ip->frag_off & bpf_htons(XLB_IP_MF | XLB_IP_OFFSET)))
			return -1;
		*drop = decap_trust4(ip);
		if (*drop)
			return -2;
		*olen = ip->ihl * 4;
		*inner = bpf_htons(ETH_P_IP);
		return 1;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > end)
			return 0;
		if (ip6->nexthdr != IPPROTO_IPIP && ip6->nexthdr != IPPROTO_IPV6)
			return 0;
		*drop = decap_trust6(ip6);
		if (*drop)
			return -2;
		*olen = sizeof(*ip6);
		*inner = ip6->nexthdr == IPPROTO_IPIP ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
		return 1;
	}
	return 0;
}

/*
 * Remove len bytes after the L2 header and put the L2 header back in front
 * with EtherType proto; with dmac, also new MACs (a packet sent on). 0 or -1.
 */
XLB_INLINE int decap_strip(struct xdp_md *ctx, __u32 l2_len, __u32 len, __be16 proto,
			   const __u8 *dmac, const __u8 *smac)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 l2[sizeof(struct ethhdr) + sizeof(struct xlb_vlan_hdr)];

	if (data + sizeof(l2) > end)
		return -1;
	__builtin_memcpy(l2, data, sizeof(l2));
	if (dmac) {
		__builtin_memcpy(l2, dmac, ETH_ALEN);
		__builtin_memcpy(l2 + ETH_ALEN, smac, ETH_ALEN);
	}
	if (bpf_xdp_adjust_head(ctx, (int)len))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(l2) > end)
		return -1;
	if (l2_len == sizeof(l2)) {
		__builtin_memcpy(data, l2, sizeof(l2));
		*(__be16 *)(data + 16) = proto;
	} else {
		__builtin_memcpy(data, l2, sizeof(struct ethhdr));
		*(__be16 *)(data + 12) = proto;
	}
	return 0;
}

/* A stateless VIP's carrier (lib/handover.h): deliver, hand on, or drop. */
XLB_INLINE int decap_carrier(struct xdp_md *ctx, __u32 l2_len, __u32 olen, __be16 inner, __u32 mlen,
			     __be16 client)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup f = {};
	void *mid = data + l2_len + (olen & 0x3f);
	int v = xlb_ho_decide(ctx, mid, end, mlen, client), fib;

	if (v == XLB_HO_NESTED)
		return decap_count(XLB_DECAP_SL_NESTED, XDP_DROP);
	if (v != XLB_HO_HAND_ON) {
		if (decap_strip(ctx, l2_len, olen + mlen, client, NULL, NULL))
			return decap_count(XLB_DECAP_INVALID, XDP_DROP);
		return decap_count(v == XLB_HO_SELF ? XLB_DECAP_SL_SELF : XLB_DECAP_SL_DELIVERED,
				   XDP_PASS);
	}
	fib = xlb_ho_route(ctx, mid, end, mlen, &f);
	if (fib == BPF_FIB_LKUP_RET_NO_NEIGH) {
		/* The previous hop's MAC is not known yet: the kernel forwards
		 * this packet (the outer header gone) and resolves it. */
		if (decap_strip(ctx, l2_len, olen, inner, NULL, NULL))
			return decap_count(XLB_DECAP_INVALID, XDP_DROP);
		return decap_count(XLB_DECAP_SL_HANDED_ON, XDP_PASS);
	}
	if (fib)
		return decap_count(XLB_DECAP_SL_FIB_FAILED, XDP_DROP);
	if (decap_strip(ctx, l2_len, olen, inner, f.dmac, f.smac))
		return decap_count(XLB_DECAP_INVALID, XDP_DROP);
	decap_count(XLB_DECAP_SL_HANDED_ON, 0);
	if (f.ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(f.ifindex, 0);
}

SEC("xdp")
int xlb_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 l2_len = sizeof(*eth), olen = 0, drop = 0, mlen = 0;
	__be16 proto, inner = 0, client = 0;
	int ret;

	if ((void *)(eth + 1) > end)
		return decap_count(XLB_DECAP_PASS, XDP_PASS);
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct xlb_vlan_hdr *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > end)
			return decap_count(XLB_DECAP_PASS, XDP_PASS);
		proto = vh->encap_proto;
		l2_len += sizeof(*vh);
	}
	ret = decap_outer(data + l2_len, end, proto, &olen, &inner, &drop);
	if (ret == 0)
		return decap_count(XLB_DECAP_PASS, XDP_PASS);
	if (ret == -2)
		return decap_count(drop, XDP_DROP);
	if (ret < 0 || olen > 60 || data + l2_len + olen + sizeof(struct iphdr) > end)
		return decap_count(XLB_DECAP_INVALID, XDP_DROP);
	if (xlb_ho_carrier(data + l2_len + olen, end, inner, &mlen, &client))
		return decap_carrier(ctx, l2_len, olen, inner, mlen, client);

	/* Drop the outer header, put L2 back in front. */
	if (decap_strip(ctx, l2_len, olen, inner, NULL, NULL))
		return decap_count(XLB_DECAP_INVALID, XDP_DROP);
	return decap_count(proto == bpf_htons(ETH_P_IP) ? XLB_DECAP_IPIP : XLB_DECAP_IP6, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
