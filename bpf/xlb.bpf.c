// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb XDP entry point: DESIGN "Data plane" steps 1-7, each in bpf/lib/.
 *
 *   parse -> (anomaly policy) -> VIP -> flow table / Maglev -> on_empty
 *         -> forward (dsr | ipip) -> count
 *
 * Every step returns a verdict, -reason, or XLB_CONTINUE (lib/common.h);
 * xlb_exit() is the one place that turns reasons into counters.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/select.h"
#include "lib/forward.h"
#include "lib/reject.h"

/* Fragments, IPv4 options, IPv6 extension headers: drop only VIP traffic. */
XLB_INLINE int xlb_anomaly(struct xlb_pkt *p)
{
	if (bpf_map_lookup_elem(&vip_addrs, &p->key.daddr))
		return -(int)p->anomaly;
	return XDP_PASS;
}

XLB_INLINE int xlb_process(struct xdp_md *ctx, struct xlb_pkt *p)
{
	struct xlb_backend *be = NULL;
	struct xlb_vip_stats *vs;
	struct xlb_vip_val *vip;
	__u32 bid = 0, vip_id;
	int ret;

	ret = xlb_parse(ctx, p);
	if (ret != XLB_CONTINUE)
		return ret;
	if (p->anomaly)
		return xlb_anomaly(p);
	vip = xlb_vip_lookup(p);
	if (!vip)
		return XDP_PASS;

	vip_id = vip->vip_id;
	vs = bpf_map_lookup_elem(&vip_stats, &vip_id);
	if (vs) {
		vs->packets++;
		vs->bytes += p->len;
	}
	ret = xlb_select(p, vip, vs, &bid, &be);
	if (ret == XLB_NO_BACKEND) {
		if (vs)
			vs->no_backend_packets++;
		return xlb_on_empty(ctx, p, vip);
	}
	if (ret != XLB_CONTINUE)
		return ret;
	if (!be)
		return -XLB_R_BACKEND_NOT_ACTIVE;

	if (vip->mode == XLB_MODE_IPIP)
		ret = xlb_fwd_ipip(ctx, p, be);
	else
		ret = xlb_fwd_dsr(ctx, be);
	if (ret != XDP_TX)
		return ret;

	struct xlb_backend_stats *bs = bpf_map_lookup_elem(&backend_stats, &bid);

	if (bs) {
		bs->packets++;
		bs->bytes += p->len;
	}
	if (p->icmp_err)
		xlb_count(XLB_R_ICMP_ERROR_FORWARDED);
	return XDP_TX;
}

/* The one exit: count the reason, turn -reason into XDP_DROP. */
XLB_INLINE int xlb_exit(struct xlb_pkt *p, int ret)
{
	if (ret < 0) {
		xlb_count(-ret);
		return XDP_DROP;
	}
	if (p->reason)
		xlb_count(p->reason);
	return ret;
}

SEC("xdp")
int xlb_xdp(struct xdp_md *ctx)
{
	struct xlb_pkt p = {};

	return xlb_exit(&p, xlb_process(ctx, &p));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
