/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlb-decap's maps and whom it trusts: the load balancers' encapsulation
 * prefixes as sources (decap_allow4/6), this host's addresses as
 * destinations (decap_local). See bpf/decap.bpf.c for the policy.
 */
#ifndef XLB_BPF_DECAP_TRUST_H
#define XLB_BPF_DECAP_TRUST_H

#include "common.h"

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

/* Is a source address (network order) in the load balancers' prefixes? */
XLB_INLINE int decap_allowed4(__be32 saddr)
{
	struct xlb_lpm4_key k = {.prefixlen = 32};

	__builtin_memcpy(k.addr, &saddr, 4);
	return bpf_map_lookup_elem(&decap_allow4, &k) != NULL;
}

XLB_INLINE int decap_allowed6(const void *saddr)
{
	struct xlb_lpm6_key k = {.prefixlen = 128};

	__builtin_memcpy(k.addr, saddr, 16);
	return bpf_map_lookup_elem(&decap_allow6, &k) != NULL;
}

/* Is a destination one of this host's addresses? */
XLB_INLINE int decap_is_local4(__be32 daddr)
{
	union xlb_addr dst = {.w = {0, 0, bpf_htonl(0xffff), daddr}};

	return bpf_map_lookup_elem(&decap_local, &dst) != NULL;
}

XLB_INLINE int decap_is_local6(const void *daddr)
{
	union xlb_addr dst;

	__builtin_memcpy(&dst, daddr, 16);
	/* decap_local keeps IPv4 addresses mapped: an IPv6 header naming one
	 * (::ffff:a.b.c.d) is not addressed to this host. */
	if (!dst.w[0] && !dst.w[1] && dst.w[2] == bpf_htonl(0xffff))
		return 0;
	return bpf_map_lookup_elem(&decap_local, &dst) != NULL;
}

/* 0 when the outer addresses are trusted, else the counter of the drop. */
XLB_INLINE __u32 decap_trust4(const struct iphdr *ip)
{
	if (!decap_allowed4(ip->saddr))
		return XLB_DECAP_FOREIGN_SRC;
	return decap_is_local4(ip->daddr) ? 0 : XLB_DECAP_NOT_LOCAL;
}

XLB_INLINE __u32 decap_trust6(const struct ipv6hdr *ip6)
{
	if (!decap_allowed6(&ip6->saddr))
		return XLB_DECAP_FOREIGN_SRC;
	return decap_is_local6(&ip6->daddr) ? 0 : XLB_DECAP_NOT_LOCAL;
}

#endif /* XLB_BPF_DECAP_TRUST_H */
