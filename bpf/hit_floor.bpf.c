// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The memory floor of a dsr flow hit (issue #15; xlb-bench's "floor" rows).
 * Bench only: never loaded by xlbd.
 *
 * xlb_hit_floor makes the loads and stores of xlb_process() for a dsr TCP or
 * UDP flow hit, in the same order, and none of its decisions: the real
 * parse (destination MAC check included), the VIP cache, the keyed flow
 * hash, the VIP's counters, the flow's bucket and way (the tag and key
 * compare that find it), the backend record, the backend's counters and
 * the MAC rewrite. Left out: the check word, the backend's generation and
 * state, the access time and flags, the anomaly and stateless branches,
 * SYN handling, the forward dispatch, the exit's reason counter.
 *
 * xlb-bench loads it into the maps of its xlb data plane (the other-build
 * loader: same flow table, VIPs, backends and counters) and runs it in the
 * same rounds as xlb on the same established flow: what xlb costs over it
 * is what the hit's decisions cost; what it costs over the MAC-swap
 * baseline is the memory a hit has to touch.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/select.h"
#include "lib/vip_cache.h"
#include "lib/forward.h"
#include "lib/swap.h"

XLB_INLINE int floor_hit(struct xdp_md *ctx, struct xlb_pkt *p)
{
	struct xlb_flow_ref ref = {};
	struct xlb_backend_stats *bs;
	struct xlb_vip_stats *vs;
	struct xlb_vip_val *vip;
	struct xlb_backend *be;
	__u32 vip_id, bid;
	int ret;

	ret = xlb_parse(ctx, p);
	if (ret != XLB_CONTINUE)
		return ret;
	vip = xlb_vip_find(p);
	if (!vip)
		return XDP_PASS;
	ref.hash = xlb_flow_hash(&p->key);
	vip_id = vip->vip_id;
	vs = bpf_map_lookup_elem(&vip_stats, &vip_id);
	if (vs) {
		vs->packets++;
		vs->bytes += p->len;
	}
	if (xlb_flow_find(p, &ref) < 0 || !ref.bucket)
		return XDP_DROP;
	bid = ref.bucket->way[ref.way & (XLB_FLOW_WAYS - 1)].backend_id;
	be = bpf_map_lookup_elem(&backends, &bid);
	if (!be)
		return XDP_DROP;
	bs = bpf_map_lookup_elem(&backend_stats, &bid);
	if (bs) {
		bs->packets++;
		bs->bytes += p->len;
	}
	ret = xlb_fwd_dsr(ctx, be);
	return ret < 0 ? XDP_DROP : ret;
}

SEC("xdp")
int xlb_hit_floor(struct xdp_md *ctx)
{
	struct xlb_pkt p = {};

	return floor_hit(ctx, &p);
}

/*
 * What one first touch of each memory a hit reads costs per call
 * (xlb-bench's "touch" rows). The frame's bytes XLB_TOUCH_AT and the next
 * say which (XLB_TOUCH_* bits, first byte low), so every row runs the same machine code and only
 * the data differs: no difference of code placement between rows. Each
 * touch is one load (or, for the counters, one increment) of an entry a
 * hit uses; then the MAC swap and XDP_TX, as the baseline.
 */
#define XLB_TOUCH_AT 60
#define XLB_TOUCH_NIC (1u << 0)	     /* map "nic": the MAC check */
#define XLB_TOUCH_BSS (1u << 1)	     /* .bss: the VIP cache's generation */
#define XLB_TOUCH_RODATA (1u << 2)   /* .rodata: the hash seed */
#define XLB_TOUCH_JIFFIES (1u << 3)  /* the kernel's jiffies */
#define XLB_TOUCH_VSTATS (1u << 4)   /* vip_stats[1], incremented */
#define XLB_TOUCH_FLOWS (1u << 5)    /* flows[0]: a bucket's tags */
#define XLB_TOUCH_BACKENDS (1u << 6) /* backends[1] */
#define XLB_TOUCH_BSTATS (1u << 7)   /* backend_stats[1], incremented */
#define XLB_TOUCH_CPU (1u << 8)	     /* the CPU's number: the VIP cache's row */

SEC("xdp")
int xlb_touch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 one = 1, zero = 0, bits;
	__u64 sum = 0;
	__u8 *b = data;
	void *v;

	if (data + XLB_TOUCH_AT + 2 > end)
		return XDP_PASS;
	bits = b[XLB_TOUCH_AT] | (__u32)b[XLB_TOUCH_AT + 1] << 8;
	if (bits & XLB_TOUCH_CPU)
		sum += bpf_get_smp_processor_id();
	if (bits & XLB_TOUCH_NIC) {
		const struct xlb_nic *n = xlb_nic();

		sum += n ? n->mac[0] : 0;
	}
	if (bits & XLB_TOUCH_BSS)
		sum += xlb_vip_gen;
	if (bits & XLB_TOUCH_RODATA)
		sum += hash_seed.k[0];
	if (bits & XLB_TOUCH_JIFFIES)
		sum += bpf_jiffies64();
	if (bits & XLB_TOUCH_VSTATS) {
		v = bpf_map_lookup_elem(&vip_stats, &one);
		if (v)
			((struct xlb_vip_stats *)v)->packets++;
	}
	if (bits & XLB_TOUCH_FLOWS) {
		v = bpf_map_lookup_elem(&flows, &zero);
		sum += v ? ((struct xlb_flow_bucket *)v)->tag[0] : 0;
	}
	if (bits & XLB_TOUCH_BACKENDS) {
		v = bpf_map_lookup_elem(&backends, &one);
		sum += v ? ((struct xlb_backend *)v)->state : 0;
	}
	if (bits & XLB_TOUCH_BSTATS) {
		v = bpf_map_lookup_elem(&backend_stats, &one);
		if (v)
			((struct xlb_backend_stats *)v)->packets++;
	}
	/* sum keeps every load; it is never this value */
	if (sum == 0x5a5a5a5a5a5aull)
		return XDP_DROP;
	return xlb_swap_macs_tx(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
