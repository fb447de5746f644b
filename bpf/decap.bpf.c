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
 */
#include "lib/common.h"

/* Per-CPU packet counts by enum xlb_decap_counter. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DECAP_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} decap_stats SEC(".maps");

/* Outer sources allowed: the load balancers' encapsulation prefixes. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xlb_lpm4_key);
	__type(value, __u8);
} decap_allow4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xlb_lpm6_key);
	__type(value, __u8);
} decap_allow6 SEC(".maps");

/* Outer destinations accepted: this host's addresses (IPv4 mapped). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, union xlb_addr);
	__type(value, __u8);
} decap_local SEC(".maps");

XLB_INLINE int decap_count(__u32 idx, int verdict)
{
	__u64 *c = bpf_map_lookup_elem(&decap_stats, &idx);

	if (c)
		*c += 1;
	return verdict;
}

/* 0 when the outer addresses are trusted, else the counter of the drop. */
XLB_INLINE __u32 decap_trust4(const struct iphdr *ip)
{
	struct xlb_lpm4_key k = {.prefixlen = 32};
	union xlb_addr dst = {.w = {0, 0, bpf_htonl(0xffff), ip->daddr}};

	__builtin_memcpy(k.addr, &ip->saddr, 4);
	if (!bpf_map_lookup_elem(&decap_allow4, &k))
		return XLB_DECAP_FOREIGN_SRC;
	return bpf_map_lookup_elem(&decap_local, &dst) ? 0 : XLB_DECAP_NOT_LOCAL;
}

XLB_INLINE __u32 decap_trust6(const struct ipv6hdr *ip6)
{
	struct xlb_lpm6_key k = {.prefixlen = 128};
	union xlb_addr dst;

	__builtin_memcpy(k.addr, &ip6->saddr, 16);
	__builtin_memcpy(&dst, &ip6->daddr, 16);
	if (!bpf_map_lookup_elem(&decap_allow6, &k))
		return XLB_DECAP_FOREIGN_SRC;
	/* decap_local keeps IPv4 addresses mapped: an IPv6 outer naming one
	 * (::ffff:a.b.c.d) is not addressed to this host. */
	if (!dst.w[0] && !dst.w[1] && dst.w[2] == bpf_htonl(0xffff))
		return XLB_DECAP_NOT_LOCAL;
	return bpf_map_lookup_elem(&decap_local, &dst) ? 0 : XLB_DECAP_NOT_LOCAL;
}

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

SEC("xdp")
int xlb_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 l2[sizeof(struct ethhdr) + sizeof(struct xlb_vlan_hdr)];
	__u32 l2_len = sizeof(*eth), olen = 0, drop = 0;
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
	ret = decap_outer(data + l2_len, end, proto, &olen, &inner, &drop);
	if (ret == 0)
		return decap_count(XLB_DECAP_PASS, XDP_PASS);
	if (ret == -2)
		return decap_count(drop, XDP_DROP);
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
