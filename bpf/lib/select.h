/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Steps 2-4: the VIP, then the flow table, then the VIP's Maglev table.
 *
 * Flow-table rules (DESIGN "Data plane"):
 *  - a TCP SYN (without ACK) always takes the Maglev table, and its entry is
 *    overwritten: a new connection on an old 5-tuple is a new flow;
 *  - a hit whose backend is ACTIVE or DRAINING is used, so draining keeps
 *    established flows where they are;
 *  - a hit whose backend is DOWN, or whose id was given to another backend
 *    since (generation mismatch), is re-hashed and the entry replaced;
 *  - a UDP hit idle longer than udp_idle_timeout_ns is re-hashed;
 *  - ICMP errors read the table but never write it.
 */
#ifndef XLB_BPF_SELECT_H
#define XLB_BPF_SELECT_H

#include "maps.h"

/* Set by the loader before load (xlb_dp_opts). */
const volatile __u64 udp_idle_timeout_ns = XLB_DEFAULT_UDP_IDLE_NS;

#define XLB_NO_BACKEND 1001

XLB_INLINE struct xlb_vip_val *xlb_vip_lookup(struct xlb_pkt *p)
{
	struct xlb_vip_key vk = {
		.addr = p->key.daddr,
		.port = p->key.dport,
		.proto = p->key.proto,
	};
	struct xlb_vip_val *vip = bpf_map_lookup_elem(&vips, &vk);

	if (vip)
		return vip;
	vk.port = 0;
	return bpf_map_lookup_elem(&vips, &vk);
}

/*
 * A flow-table hit that may still be used: returns its backend, or NULL when
 * the packet must be hashed again.
 */
XLB_INLINE struct xlb_backend *xlb_flow_hit(struct xlb_pkt *p, __u32 *bid)
{
	struct xlb_flow_val *f = bpf_map_lookup_elem(&flows, &p->key);
	struct xlb_backend *be;

	if (!f)
		return NULL;
	*bid = f->backend_id;
	be = bpf_map_lookup_elem(&backends, bid);
	if (!be || be->gen != f->backend_gen || be->state == XLB_BE_DOWN) {
		xlb_count(XLB_R_FLOW_BACKEND_GONE);
		return NULL;
	}
	if (p->key.proto == IPPROTO_UDP && !p->icmp_err) {
		__u64 now = bpf_ktime_get_coarse_ns();

		if (now - f->atime_ns > udp_idle_timeout_ns) {
			xlb_count(XLB_R_UDP_FLOW_EXPIRED);
			return NULL;
		}
		/* Write the shared entry at most once per granule. */
		if (now - f->atime_ns > XLB_ATIME_GRANULARITY_NS)
			f->atime_ns = now;
	}
	return be;
}

/* Consistent hash: the VIP's Maglev slot for this flow. */
XLB_INLINE int xlb_table_pick(struct xlb_pkt *p, const struct xlb_vip_val *vip, __u32 *bid,
			      struct xlb_backend **out)
{
	__u32 vip_id = vip->vip_id;
	void *table = bpf_map_lookup_elem(&maglev_tables, &vip_id);
	struct xlb_table_pair *pair;
	struct xlb_backend *be;
	__u32 h, slot, idx;

	if (!table)
		return XLB_NO_BACKEND;
	h = vip->hash == XLB_HASH_SRC ? xlb_hash_src(&p->key.saddr) : xlb_hash_flow(&p->key);
	slot = xlb_hash_slot(h, vip->table_size);
	idx = slot / 2;
	pair = bpf_map_lookup_elem(table, &idx);
	if (!pair)
		return XLB_NO_BACKEND;
	*bid = pair->id[slot & 1];
	if (*bid == XLB_BACKEND_NONE)
		return XLB_NO_BACKEND;
	be = bpf_map_lookup_elem(&backends, bid);
	/* The agent swaps a backend out of the table before demoting it. */
	if (!be || be->state != XLB_BE_ACTIVE)
		return -XLB_R_BACKEND_NOT_ACTIVE;
	*out = be;
	return XLB_CONTINUE;
}

XLB_INLINE void xlb_flow_remember(struct xlb_pkt *p, struct xlb_vip_stats *vs, __u32 bid,
				  const struct xlb_backend *be)
{
	struct xlb_flow_val fv = {
		.backend_id = bid,
		.backend_gen = be->gen,
	};

	if (p->key.proto == IPPROTO_UDP)
		fv.atime_ns = bpf_ktime_get_coarse_ns();
	if (bpf_map_update_elem(&flows, &p->key, &fv, BPF_ANY)) {
		xlb_count(XLB_R_FLOW_UPDATE_FAILED);
		return;
	}
	if (vs)
		vs->new_flows++;
}

/* Returns XLB_CONTINUE with *out and *bid set, XLB_NO_BACKEND, or a drop. */
XLB_INLINE int xlb_select(struct xlb_pkt *p, const struct xlb_vip_val *vip,
			  struct xlb_vip_stats *vs, __u32 *bid, struct xlb_backend **out)
{
	int syn = p->key.proto == IPPROTO_TCP &&
		  (p->tcp_flags & (XLB_TCP_SYN | XLB_TCP_ACK)) == XLB_TCP_SYN;
	int ret;

	if (!syn) {
		*out = xlb_flow_hit(p, bid);
		if (*out)
			return XLB_CONTINUE;
	}
	ret = xlb_table_pick(p, vip, bid, out);
	if (ret != XLB_CONTINUE)
		return ret;
	if (!p->icmp_err)
		xlb_flow_remember(p, vs, *bid, *out);
	return XLB_CONTINUE;
}

#endif /* XLB_BPF_SELECT_H */
