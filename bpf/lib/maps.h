/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Every map of the XDP program, one line of purpose each. */
#ifndef XLB_BPF_MAPS_H
#define XLB_BPF_MAPS_H

#include "common.h"

/* VIP {address, port, proto} -> id, table size, mode, hashing, on_empty. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, struct xlb_vip_key);
	__type(value, struct xlb_vip_val);
} vips SEC(".maps");

/* VIP address -> number of VIPs on it: decides the fragment/options policy. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, union xlb_addr);
	__type(value, __u32);
} vip_addrs SEC(".maps");

/*
 * VIP id -> that VIP's Maglev table (four slots per value, see
 * struct xlb_table_slots). The agent builds a
 * whole new inner array and swaps it in with one update. BPF_F_INNER_MAP lets
 * each VIP have its own size; it costs the inlined lookup (one helper call).
 */
struct xlb_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	/* struct xlb_table_slots; spelled __u64 because clang 14 emits only a
	 * forward declaration for a struct seen solely through this pointer,
	 * and libbpf then can't size the value. */
	__type(value, __u64);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__array(values, struct xlb_table);
} maglev_tables SEC(".maps");

/* Backend id -> address, next-hop MAC, family, state, generation. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_backend);
} backends SEC(".maps");

/*
 * Connection table: buckets of XLB_FLOW_WAYS client->VIP 5-tuples with their
 * backend (struct xlb_flow_bucket). Mmapable so the agent can count flows
 * per backend without a syscall per bucket. Sized by the loader.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XLB_DEFAULT_FLOW_ENTRIES / XLB_FLOW_WAYS);
	__type(key, __u32);
	__type(value, struct xlb_flow_bucket);
} flows SEC(".maps");

/* Per-CPU counters per VIP id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xlb_vip_stats);
} vip_stats SEC(".maps");

/* Per-CPU counters per backend id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_backend_stats);
} backend_stats SEC(".maps");

/* Per-CPU SYN, SYN-retransmit and reroute counts per backend id (its own
 * map: backend_stats keeps the layout earlier releases pinned). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_backend_syn_stats);
} backend_syn_stats SEC(".maps");

/* Key 0: this NIC's MAC and the ipip MTU (struct xlb_nic), set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_nic);
} nic SEC(".maps");

/* Per-CPU on_empty=reject token bucket per VIP id: GCRA "theoretical
 * arrival time" in ns (lib/reject.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, __u64);
} reject_tat SEC(".maps");

/* Per-CPU packet counts per reason id (xlb_counters.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_REASON_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} reason_stats SEC(".maps");

XLB_INLINE const struct xlb_nic *xlb_nic(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&nic, &zero); /* an ARRAY: inlined, no helper call */
}

XLB_INLINE void xlb_count(__u32 reason)
{
	__u64 *c = bpf_map_lookup_elem(&reason_stats, &reason);

	if (c)
		*c += 1;
}

#endif /* XLB_BPF_MAPS_H */
