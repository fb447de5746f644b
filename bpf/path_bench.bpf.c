// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Where a stateless VIP's packet spends its time (issue #14, the veth
 * bench's "path:" rows, tools/bench/veth.sh). Bench only: never loaded by
 * xlbd.
 *
 * sl_path() is xlb_process() of bpf/xlb.bpf.c reduced to a stateless ipip
 * VIP (the same bpf/lib/ steps in the same order), and each program below
 * leaves out or replaces one step (the PB_* bits, constants, so clang drops
 * the step's code). The bench loads this object into the maps of a loaded
 * xlb data plane (bpf_map__reuse_fd), so the VIP, its table and the
 * backends are the ones xlb itself forwards with. A replaced step gets what
 * it would have produced from bench_vip / bench_be (set by the bench), so
 * the rest of the path does the same work.
 *
 * Keep sl_path() in step with xlb_stateless()/xlb_process(): pb_full is
 * the check (it must measure as xlb's own stateless row does).
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/select.h"
#include "lib/forward.h"
#include "lib/reject.h"
#include "lib/pmtu.h"
#include "lib/vip_cache.h"

#define PB_MAC (1u << 0)      /* no destination MAC check (map "nic") */
#define PB_PARSE (1u << 1)    /* fixed-offset Ethernet/IPv4/TCP parse, no policy */
#define PB_VIP (1u << 2)      /* no VIP hash lookup: bench_vip */
#define PB_HASH (1u << 3)     /* one multiply instead of the keyed flow hash */
#define PB_VSTATS (1u << 4)   /* no per-VIP counters */
#define PB_BSTATS (1u << 5)   /* no per-backend counters */
#define PB_REASON (1u << 6)   /* no `stateless` reason counter */
#define PB_MAGLEV (1u << 7)   /* no Maglev array-of-maps lookup: hash % 16 + 1 */
#define PB_BACKEND (1u << 8)  /* no backend lookup: bench_be */
#define PB_PMTU (1u << 9)     /* no PMTU check */
#define PB_ANOMALY (1u << 10) /* no anomaly branch (the parse's policy result unused) */
#define PB_VIPMAP (1u << 11)  /* the VIP from the hash map, no cache in front */

/* Set by the bench: what the VIP and backend lookups would return. */
struct xlb_vip_val bench_vip;
struct xlb_backend bench_be;

/* The fixed frame's fields at their fixed offsets (PB_PARSE). */
XLB_INLINE int pb_parse_fast(struct xdp_md *ctx, struct xlb_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th = (void *)(ip + 1);

	if ((void *)(th + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	p->len = end - data;
	p->l2_len = sizeof(*eth);
	p->family = XLB_AF_INET;
	p->key.proto = ip->protocol;
	xlb_addr_set4(&p->key.saddr, ip->saddr);
	xlb_addr_set4(&p->key.daddr, ip->daddr);
	p->ip_len = bpf_ntohs(ip->tot_len);
	p->tos = ip->tos;
	p->df = !!(ip->frag_off & bpf_htons(XLB_IP_DF));
	p->key.sport = th->source;
	p->key.dport = th->dest;
	p->tcp_flags = ((__u8 *)th)[13];
	return XLB_CONTINUE;
}

/* xlb_parse without the destination MAC check (PB_MAC). */
XLB_INLINE int pb_parse_nomac(struct xdp_md *ctx, struct xlb_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	p->len = end - data;
	p->l2_len = sizeof(*eth);
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return xlb_parse_ipv4(p, data, end);
	return XDP_PASS;
}

XLB_INLINE int pb_forward(struct xdp_md *ctx, struct xlb_pkt *p, __u32 bid,
			  const struct xlb_backend *be, const __u32 f)
{
	struct xlb_backend_stats *bs;
	int ret;

	if (!(f & PB_PMTU)) {
		ret = xlb_pmtu(ctx, p, be, 1);
		if (ret != XLB_CONTINUE)
			return ret;
	}
	ret = xlb_fwd_ipip(ctx, p, be, NULL);
	if (ret != XDP_TX)
		return ret;
	if (!(f & PB_BSTATS)) {
		bs = bpf_map_lookup_elem(&backend_stats, &bid);
		if (bs) {
			bs->packets++;
			bs->bytes += p->len;
		}
	}
	if (p->icmp_err)
		xlb_count(XLB_R_ICMP_ERROR_FORWARDED);
	return XDP_TX;
}

XLB_INLINE int sl_path(struct xdp_md *ctx, struct xlb_pkt *p, const __u32 f)
{
	__u32 bid = 0, prev_id = XLB_BACKEND_NONE, hash;
	struct xlb_backend *be = NULL;
	struct xlb_vip_stats *vs = NULL;
	struct xlb_vip_val *vip;
	int ret;

	if (f & PB_PARSE)
		ret = pb_parse_fast(ctx, p);
	else if (f & PB_MAC)
		ret = pb_parse_nomac(ctx, p);
	else
		ret = xlb_parse(ctx, p);
	if (ret != XLB_CONTINUE)
		return ret;
	if (!(f & PB_ANOMALY) && p->anomaly)
		return XDP_PASS;
	if (f & PB_VIP)
		vip = &bench_vip;
	else
		vip = f & PB_VIPMAP ? xlb_vip_lookup(p) : xlb_vip_find(p);
	if (!vip || vip->flow_state != XLB_FLOW_STATELESS)
		return XDP_PASS;
	if (f & PB_HASH)
		hash = xlb_hash_final(p->key.saddr.w[3] ^ ((__u32)p->key.sport << 16));
	else
		hash = xlb_flow_hash(&p->key);

	if (!(f & PB_VSTATS)) {
		__u32 vip_id = vip->vip_id;

		vs = bpf_map_lookup_elem(&vip_stats, &vip_id);
		if (vs) {
			vs->packets++;
			vs->bytes += p->len;
		}
	}
	if (f & PB_MAGLEV) {
		bid = hash % 16 + 1;
		if (f & PB_BACKEND)
			be = &bench_be;
		else
			be = bpf_map_lookup_elem(&backends, &bid);
		if (!be || be->state == XLB_BE_DOWN)
			return XDP_DROP;
	} else if (f & PB_BACKEND) {
		void *table = bpf_map_lookup_elem(&maglev_tables, &vip->vip_id);
		struct xlb_sl_slots *slots;
		__u32 slot, idx;

		if (!table)
			return XDP_DROP;
		slot = xlb_slot_of(p, vip, hash);
		idx = slot / XLB_SL_SLOTS_PER_VALUE;
		slots = bpf_map_lookup_elem(table, &idx);
		if (!slots)
			return XDP_DROP;
		bid = slots->s[slot % XLB_SL_SLOTS_PER_VALUE].cur;
		be = &bench_be;
	} else {
		ret = xlb_sl_pick(p, vip, hash, &bid, &prev_id, &be);
		if (ret == XLB_NO_BACKEND) {
			if (vs)
				vs->no_backend_packets++;
			return xlb_on_empty(ctx, p, vip);
		}
		if (ret != XLB_CONTINUE || !be)
			return ret;
	}
	ret = pb_forward(ctx, p, bid, be, f);
	if (ret == XDP_TX && !p->reason && !(f & PB_REASON))
		xlb_count(XLB_R_STATELESS);
	return ret;
}

XLB_INLINE int pb_run(struct xdp_md *ctx, const __u32 f)
{
	struct xlb_pkt p = {};
	int ret = sl_path(ctx, &p, f);

	if (ret < 0) {
		xlb_count(-ret);
		return XDP_DROP;
	}
	if (p.reason)
		xlb_count(p.reason);
	return ret;
}

#define PB_PROG(name, flags)                                                                       \
	SEC("xdp") int name(struct xdp_md *ctx)                                                    \
	{                                                                                          \
		return pb_run(ctx, flags);                                                         \
	}

PB_PROG(pb_full, 0)
PB_PROG(pb_no_mac, PB_MAC)
PB_PROG(pb_fast_parse, PB_MAC | PB_PARSE)
PB_PROG(pb_no_vip, PB_VIP)
PB_PROG(pb_vip_map, PB_VIPMAP)
PB_PROG(pb_cheap_hash, PB_HASH)
PB_PROG(pb_no_vstats, PB_VSTATS)
PB_PROG(pb_no_bstats, PB_BSTATS)
PB_PROG(pb_no_reason, PB_REASON)
PB_PROG(pb_no_stats, PB_VSTATS | PB_BSTATS | PB_REASON)
PB_PROG(pb_no_maglev, PB_MAGLEV)
PB_PROG(pb_no_backend, PB_BACKEND)
PB_PROG(pb_no_pmtu, PB_PMTU)
PB_PROG(pb_none, 0x7ff)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
