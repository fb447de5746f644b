// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb XDP entry point: DESIGN "Data plane" steps 1-7, each in bpf/lib/.
 *
 *   parse -> (anomaly policy) -> VIP -> flow table / Maglev -> on_empty
 *         (stateless VIP: its Maglev slot alone, no flow table)
 *         -> forward (dsr | ipip) -> count
 *
 * Every step returns a verdict, -reason, or XLB_CONTINUE (lib/common.h);
 * xlb_exit() is the one place that turns reasons into counters.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/select.h"
#include "lib/synretry.h"
#include "lib/vip_cache.h"
#include "lib/forward.h"
#include "lib/reject.h"
#include "lib/pmtu.h"

/* What this build can do beyond XLB_ABI_VERSION (xlb_abi.h XLB_FEATURES_VAR):
 * an agent reads it from the attached program before using a feature. */
const volatile __u32 xlb_features = XLB_FEAT_STATELESS | XLB_FEAT_SYN_RETRY;

/* Fragments, IPv4 options, IPv6 extension headers, malformed or truncated
 * headers: drop (and count) only what is addressed to a VIP address. */
XLB_INLINE int xlb_anomaly(struct xlb_pkt *p)
{
	if (bpf_map_lookup_elem(&vip_addrs, &p->key.daddr))
		return -(int)p->anomaly;
	return XDP_PASS;
}

/* prev: a stateless VIP's previous hop to carry, or NULL. */
XLB_INLINE int xlb_forward(struct xdp_md *ctx, struct xlb_pkt *p, __u32 bid,
			   const struct xlb_backend *be, __u8 mode, int stateless,
			   const struct xlb_backend *prev)
{
	struct xlb_backend_stats *bs;
	int ret;

	if (mode == XLB_MODE_IPIP) {
		/* too big with the outer header(s): answered */
		ret = xlb_pmtu(ctx, p, be, stateless);
		if (ret != XLB_CONTINUE)
			return ret;
	}
	ret = mode == XLB_MODE_IPIP ? xlb_fwd_ipip(ctx, p, be, prev) : xlb_fwd_dsr(ctx, be);
	if (ret != XDP_TX)
		return ret;
	bs = bpf_map_lookup_elem(&backend_stats, &bid);
	if (bs) {
		bs->packets++;
		bs->bytes += p->len;
	}
	if (p->icmp_err)
		xlb_count(XLB_R_ICMP_ERROR_FORWARDED);
	return XDP_TX;
}

XLB_INLINE void xlb_vip_count(struct xlb_vip_stats *vs, const struct xlb_pkt *p)
{
	if (vs) {
		vs->packets++;
		vs->bytes += p->len;
	}
}

/*
 * Stateless VIP: the Maglev slot decides every packet (lib/select.h
 * xlb_sl_pick). A TCP SYN, an ICMP error, or a slot without a previous
 * backend (or whose previous backend is DOWN, or of the other family):
 * plain to the current backend. Anything else carries the previous backend
 * (lib/forward.h), whose connections the current backend's decap hands on.
 */
XLB_INLINE int xlb_stateless(struct xdp_md *ctx, struct xlb_pkt *p, const struct xlb_vip_val *vip,
			     __u32 hash, int syn)
{
	__u32 vip_id = vip->vip_id, bid = 0, prev_id = XLB_BACKEND_NONE;
	struct xlb_vip_stats *vs = bpf_map_lookup_elem(&vip_stats, &vip_id);
	struct xlb_backend *be = NULL, *prev = NULL;
	int ret;

	xlb_vip_count(vs, p);
	ret = xlb_sl_pick(p, vip, hash, &bid, &prev_id, &be);
	if (ret == XLB_NO_BACKEND) {
		if (vs)
			vs->no_backend_packets++;
		return xlb_on_empty(ctx, p, vip);
	}
	if (ret != XLB_CONTINUE || !be)
		return ret;
	if (vip->mode == XLB_MODE_IPIP && !syn && !p->icmp_err && prev_id != XLB_BACKEND_NONE &&
	    prev_id != bid) {
		prev = bpf_map_lookup_elem(&backends, &prev_id);
		if (prev && (prev->state == XLB_BE_DOWN || prev->family != be->family))
			prev = NULL;
	}
	ret = xlb_forward(ctx, p, bid, be, vip->mode, 1, prev);
	if (ret == XDP_TX && !p->reason) {
		xlb_count(XLB_R_STATELESS);
		if (prev)
			xlb_count(XLB_R_STATELESS_PREV_HOP);
	}
	return ret;
}

/*
 * The VIP first: a stateless VIP never touches the flow table, so its cost
 * does not grow with the number of flows.
 */
XLB_INLINE int xlb_process(struct xdp_md *ctx, struct xlb_pkt *p)
{
	struct xlb_flow_ref ref = {};
	struct xlb_backend *be = NULL, *old = NULL;
	struct xlb_vip_stats *vs;
	struct xlb_vip_val *vip;
	__u32 bid = 0, old_id = 0, vip_id;
	int ret, syn, seen = XLB_SYN_NEW;

	ret = xlb_parse(ctx, p);
	if (ret != XLB_CONTINUE)
		return ret;
	if (p->anomaly)
		return xlb_anomaly(p);

	vip = xlb_vip_find(p);
	if (!vip)
		return XDP_PASS;
	ref.hash = xlb_flow_hash(&p->key);
	syn = xlb_is_syn(p);
	if (vip->flow_state == XLB_FLOW_STATELESS)
		return xlb_stateless(ctx, p, vip, ref.hash, syn);

	/* Established flow: the flow table has the backend, and the backend its VIP. */
	vip_id = vip->vip_id;
	vs = bpf_map_lookup_elem(&vip_stats, &vip_id);
	xlb_vip_count(vs, p);
	if (syn) {
		/* a SYN is a new flow, unless its flow is still opening
		 * (lib/synretry.h): only find its way */
		xlb_flow_find(p, &ref);
		seen = xlb_syn_seen(&ref, &old_id, &old);
	} else {
		be = xlb_flow_hit(p, &ref, &bid);
	}
	if (seen == XLB_SYN_DUPLICATE && old && old->state != XLB_BE_DOWN) {
		/* where the SYN before went (one forward call site for both:
		 * each one inlines the whole forwarding code) */
		xlb_count(XLB_R_FLOW_SYN); /* not a hit: keeps hits = packets - these */
		xlb_count(XLB_R_SYN_DUPLICATE);
		be = old;
		bid = old_id;
	}
	if (be)
		return xlb_forward(ctx, p, bid, be, be->mode, 0, NULL);
	if (seen == XLB_SYN_RETRANSMIT && old) {
		xlb_count(XLB_R_SYN_RETRANSMIT);
		xlb_syn_count(old_id, XLB_SYN_C_RETRANSMIT);
	}

	/* New flow (or one whose backend went away): Maglev. Flow-table hits
	 * are the table-mode VIP packets that never get here: the hit path
	 * stays as it was, and the agent computes hits as VIP packets minus
	 * these two and the stateless ones (README "Flow table"). */
	xlb_count(syn ? XLB_R_FLOW_SYN : XLB_R_FLOW_MISS);
	ret = xlb_table_pick(p, vip, ref.hash, &bid, &be);
	if (ret == XLB_NO_BACKEND) {
		if (vs)
			vs->no_backend_packets++;
		return xlb_on_empty(ctx, p, vip);
	}
	if (ret != XLB_CONTINUE)
		return ret;
	if (seen == XLB_SYN_RETRANSMIT && old)
		xlb_syn_retry(p, vip, ref.hash, old_id, old, &bid, &be);
	if (!p->icmp_err)
		xlb_flow_remember(p, &ref, vs, bid, be);
	ret = xlb_forward(ctx, p, bid, be, vip->mode, 0, NULL);
	if (syn && ret == XDP_TX)
		xlb_syn_count(bid, XLB_SYN_C_SYN);
	return ret;
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
