// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Flow-table designs side by side (issue #7, tools/bench/veth.sh): each
 * program reads the 5-tuple of the generator's fixed IPv4/TCP frame,
 * finds the flow in its table or enters it, then swaps MACs and returns
 * XDP_TX like the trivial program. The only difference between them is
 * the flow table:
 *  - ft_setassoc: xlb's own (4-way buckets in one array, lib/select.h);
 *  - ft_lru: one BPF LRU hash shared by all CPUs;
 *  - ft_lru_nocommon: an LRU hash with per-CPU LRU lists
 *    (BPF_F_NO_COMMON_LRU);
 *  - ft_lru_percpu_maps: one LRU hash per CPU behind an array of maps.
 * Each table holds XLB_DEFAULT_FLOW_ENTRIES flows (the per-CPU variant that
 * many per CPU).
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/select.h"
#include "lib/swap.h"

#define FT_ENTRIES XLB_DEFAULT_FLOW_ENTRIES
#define FT_CPUS 64

struct ft_val {
	__u32 backend_id, gen;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FT_ENTRIES);
	__type(key, struct xlb_flow_key);
	__type(value, struct ft_val);
} ft_lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, FT_ENTRIES);
	__type(key, struct xlb_flow_key);
	__type(value, struct ft_val);
} ft_lru_nocommon SEC(".maps");

struct ft_inner {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FT_ENTRIES);
	__type(key, struct xlb_flow_key);
	__type(value, struct ft_val);
} ft_inner0 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, FT_CPUS);
	__type(key, __u32);
	__array(values, struct ft_inner);
} ft_percpu SEC(".maps") = {.values = {&ft_inner0}};

/* The generator's frame: Ethernet, IPv4 without options, TCP. */
XLB_INLINE int key_of(struct xdp_md *ctx, struct xlb_flow_key *k)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct tcphdr *th = (void *)(ip + 1);

	if ((void *)(th + 1) > end)
		return -1;
	__builtin_memset(k, 0, sizeof(*k));
	k->saddr.w[2] = bpf_htonl(0xffff);
	k->saddr.w[3] = ip->saddr;
	k->daddr.w[2] = bpf_htonl(0xffff);
	k->daddr.w[3] = ip->daddr;
	k->sport = th->source;
	k->dport = th->dest;
	k->proto = IPPROTO_TCP;
	return 0;
}

/* Find or enter the flow in an LRU hash map. */
XLB_INLINE int lru_flow(void *map, const struct xlb_flow_key *k)
{
	struct ft_val *v = bpf_map_lookup_elem(map, k);

	if (!v) {
		struct ft_val nv = {.backend_id = xlb_flow_hash(k) & 15, .gen = 1};

		bpf_map_update_elem(map, k, &nv, BPF_ANY);
	}
	return 0;
}

SEC("xdp")
int ft_setassoc(struct xdp_md *ctx)
{
	struct xlb_pkt p = {};
	struct xlb_flow_ref ref;
	struct xlb_backend be = {.gen = 1};
	__u32 bid;

	if (key_of(ctx, &p.key))
		return XDP_DROP;
	ref.hash = xlb_flow_hash(&p.key);
	if (xlb_flow_find(&p, &ref) < 0) {
		bid = ref.hash & 15;
		xlb_flow_remember(&p, &ref, NULL, bid, &be);
	}
	return xlb_swap_macs_tx(ctx);
}

SEC("xdp")
int ft_lru_shared(struct xdp_md *ctx)
{
	struct xlb_flow_key k;

	if (key_of(ctx, &k))
		return XDP_DROP;
	lru_flow(&ft_lru, &k);
	return xlb_swap_macs_tx(ctx);
}

SEC("xdp")
int ft_lru_percpu_lists(struct xdp_md *ctx)
{
	struct xlb_flow_key k;

	if (key_of(ctx, &k))
		return XDP_DROP;
	lru_flow(&ft_lru_nocommon, &k);
	return xlb_swap_macs_tx(ctx);
}

SEC("xdp")
int ft_lru_percpu_maps(struct xdp_md *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id() % FT_CPUS;
	struct xlb_flow_key k;
	void *map;

	if (key_of(ctx, &k))
		return XDP_DROP;
	map = bpf_map_lookup_elem(&ft_percpu, &cpu);
	if (map)
		lru_flow(map, &k);
	return xlb_swap_macs_tx(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
