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

char LICENSE[] SEC("license") = "Dual BSD/GPL";
