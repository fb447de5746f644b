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
 * Policy: every such tunnel packet is decapsulated, whatever its outer
 * addresses (like an ipip device with no remote set); a fragmented outer
 * header or a truncated one is dropped and counted; everything else passes
 * untouched.
 */
#include "lib/common.h"

/* Per-CPU packet counts by enum xlb_decap_counter. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DECAP_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} decap_stats SEC(".maps");

XLB_INLINE int decap_count(__u32 idx, int verdict)
{
	__u64 *c = bpf_map_lookup_elem(&decap_stats, &idx);

	if (c)
		*c += 1;
	return verdict;
}

/* Outer header length to strip and the inner EtherType, or 0 when not ours. */
XLB_INLINE int decap_outer(void *l3, void *end, __be16 proto, __u32 *olen, __be16 *inner)
{
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > end)
			return 0;
		if (ip->protocol != IPPROTO_IPIP)
			return 0;
		if (ip->ihl < 5 || (ip->frag_off & bpf_htons(XLB_IP_MF | XLB_IP_OFFSET)))
			return -1;
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
		*olen = sizeof(*ip6);
		*inner = ip6->nexthdr == IPPROTO_IPIP ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
		return 1;
	}
	return 0;
}

SEC("xdp")
int xlb_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 l2[sizeof(struct ethhdr) + sizeof(struct xlb_vlan_hdr)];
	__u32 l2_len = sizeof(*eth), olen = 0;
	__be16 proto, inner = 0;
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
	ret = decap_outer(data + l2_len, end, proto, &olen, &inner);
	if (ret == 0)
		return decap_count(XLB_DECAP_PASS, XDP_PASS);
	if (ret < 0 || olen > 60 || data + l2_len + olen + sizeof(struct iphdr) > end)
		return decap_count(XLB_DECAP_INVALID, XDP_DROP);

	/* Save the L2 header, drop the outer header, put L2 back in front. */
	if (data + sizeof(l2) > end)
		return decap_count(XLB_DECAP_INVALID, XDP_DROP);
	__builtin_memcpy(l2, data, sizeof(l2));
	if (bpf_xdp_adjust_head(ctx, (int)olen))
		return decap_count(XLB_DECAP_INVALID, XDP_DROP);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(l2) > end)
		return decap_count(XLB_DECAP_INVALID, XDP_DROP);
	if (l2_len == sizeof(l2)) {
		__builtin_memcpy(data, l2, sizeof(l2));
		*(__be16 *)(data + 16) = inner;
	} else {
		__builtin_memcpy(data, l2, sizeof(struct ethhdr));
		*(__be16 *)(data + 12) = inner;
	}
	return decap_count(proto == bpf_htons(ETH_P_IP) ? XLB_DECAP_IPIP : XLB_DECAP_IP6, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
