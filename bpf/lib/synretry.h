/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Retransmitted SYNs of table-mode VIPs (issue #16): the one signal of a
 * silent backend that a load balancer without the replies sees.
 *
 * A SYN makes its flow entry "opening" (XLB_FLOW_OPENING, lib/select.h);
 * the client's next packet, the handshake's ACK, clears it. A later SYN of
 * the same 5-tuple that finds its entry still opening, on the same backend
 * (same generation), means the client got no SYN-ACK:
 *  - XLB_SYN_RETRY_MIN_MS or more after the SYN before: a retransmission,
 *    counted on that backend (syn_retransmits, reason syn_retransmit). With
 *    syn_retry another-backend (the VIP's, stamped on its backend records)
 *    it takes the next ACTIVE backend after the failed one in the flow's
 *    Maglev slot order (xlb_syn_other: the same choice on every LB of a
 *    fleet), counted as syn_rerouted on the backend it left, and the flow
 *    entry follows it; same-backend: where the Maglev table says, as any SYN;
 *  - sooner: a duplicate, sent where the SYN before went, entry untouched.
 * Only SYNs pay for this; a flow-table hit only clears the flag once.
 * Stateless VIPs keep no entry and do none of it.
 */
#ifndef XLB_BPF_SYNRETRY_H
#define XLB_BPF_SYNRETRY_H

#include "maps.h"
#include "select.h"

/* XLB_SYN_RETRY_MIN_MS in jiffies; the loader converts (xlb_dp.c). */
const volatile __u32 syn_retry_min_jiffies = XLB_SYN_RETRY_MIN_MS * 250 / 1000;

enum xlb_syn_kind {
	XLB_SYN_NEW = 0,	/* no entry, or one past its opening: a new flow */
	XLB_SYN_DUPLICATE = 1,	/* entry still opening, too young */
	XLB_SYN_RETRANSMIT = 2, /* entry still opening, old enough */
};

/* A backend's SYN counters (struct xlb_backend_syn_stats). */
enum xlb_syn_counter {
	XLB_SYN_C_SYN,
	XLB_SYN_C_RETRANSMIT,
	XLB_SYN_C_REROUTED,
};

XLB_INLINE void xlb_syn_count(__u32 bid, enum xlb_syn_counter c)
{
	struct xlb_backend_syn_stats *s = bpf_map_lookup_elem(&backend_syn_stats, &bid);

	if (!s)
		return;
	if (c == XLB_SYN_C_SYN)
		s->syn++;
	else if (c == XLB_SYN_C_RETRANSMIT)
		s->syn_retransmits++;
	else
		s->syn_rerouted++;
}

/*
 * What a SYN found in its way of the flow table (ref from xlb_flow_find):
 * for DUPLICATE and RETRANSMIT, *bid and *out are the entry's backend.
 */
XLB_INLINE int xlb_syn_seen(const struct xlb_flow_ref *ref, __u32 *bid, struct xlb_backend **out)
{
	struct xlb_flow_entry *e;
	struct xlb_backend *be;
	__u32 id, w;

	if (ref->way < 0 || !ref->bucket)
		return XLB_SYN_NEW;
	w = (__u32)ref->way & (XLB_FLOW_WAYS - 1);
	e = &ref->bucket->way[w];
	if (!(e->flags & XLB_FLOW_OPENING))
		return XLB_SYN_NEW;
	id = e->backend_id;
	if (e->check != xlb_flow_check(ref->hash, id, e->backend_gen))
		return XLB_SYN_NEW; /* torn: a concurrent writer's */
	be = bpf_map_lookup_elem(&backends, &id);
	if (!be || be->gen != e->backend_gen)
		return XLB_SYN_NEW; /* the id went to another backend since */
	*bid = id;
	*out = be;
	if ((__u32)bpf_jiffies64() - ref->bucket->atime[w] < syn_retry_min_jiffies)
		return XLB_SYN_DUPLICATE;
	return XLB_SYN_RETRANSMIT;
}

/* Where the walk starts (xlb_syn_walk's argument). */
struct xlb_syn_walk {
	__u32 vip_id;
	__u32 m;    /* the VIP's table size */
	__u32 slot; /* the flow's own slot */
	__u32 left; /* the backend that did not answer */
};

/*
 * The walk (xlb_syn_other). Verifier workarounds (kernel 6.18, clang 14):
 *  - a global function, checked once on its own; its caller sees an
 *    unknown return value. Inlined and unrolled, every combination of its
 *    branches went on into the forwarding code after it: 275k instructions
 *    processed at 4 rounds, over the 1M limit at 8;
 *  - the slot wraps by a modulo, not by `if (++slot >= m) slot = 0`: with
 *    that branch the function alone still took 900k instructions;
 *  - the loop stays a loop (unroll disabled).
 * Whole program now: 45k instructions processed (26k before issue #16).
 * Returns the choice, or XLB_BACKEND_NONE.
 */
__attribute__((noinline)) int xlb_syn_walk(struct xlb_syn_walk *w)
{
	__u32 first = XLB_BACKEND_NONE, own = XLB_BACKEND_NONE, slot, m, left, vip_id;
	void *table;
	int seen = 0;

	if (!w)
		return XLB_BACKEND_NONE;
	slot = w->slot;
	m = w->m;
	left = w->left;
	vip_id = w->vip_id;
	table = bpf_map_lookup_elem(&maglev_tables, &vip_id);
	if (!table || !m)
		return XLB_BACKEND_NONE;
#pragma clang loop unroll(disable)
	for (__u32 j = 0; j < XLB_SYN_RETRY_SCAN; j++) {
		/* no wrap-around branch: a modulo keeps one verifier state */
		__u32 s = (slot + j) % m, idx = s / XLB_TABLE_SLOTS_PER_VALUE, id;
		struct xlb_table_slots *sv = bpf_map_lookup_elem(table, &idx);
		struct xlb_backend *be;

		if (!sv)
			break;
		id = sv->id[s % XLB_TABLE_SLOTS_PER_VALUE];
		if (j == 0)
			own = id;
		if (id == left) {
			seen = 1;
			continue;
		}
		if (id == XLB_BACKEND_NONE)
			continue;
		be = bpf_map_lookup_elem(&backends, &id);
		if (!be || be->state != XLB_BE_ACTIVE)
			continue;
		if (seen && id != own)
			return (int)id;
		if (first == XLB_BACKEND_NONE)
			first = id;
	}
	return (int)first;
}

/*
 * The second chance: walk the VIP's Maglev slots from the flow's own
 * (XLB_SYN_RETRY_SCAN of them, wrapping) and take the first ACTIVE backend
 * met after `left` (the one that did not answer) that is neither `left` nor
 * the slot's own backend; failing that, the first ACTIVE one that is not
 * `left`. So a first retransmission goes to the slot's next choice, a
 * second one to the choice after that, and a flow whose backend left the
 * table goes where its slot now points. NULL: no other ACTIVE backend.
 */
XLB_INLINE struct xlb_backend *xlb_syn_other(const struct xlb_vip_val *vip, __u32 slot, __u32 left,
					     __u32 *bid)
{
	struct xlb_syn_walk w = {
		.vip_id = vip->vip_id,
		.m = vip->table_size,
		.slot = slot,
		.left = left,
	};
	__u32 pick = (__u32)xlb_syn_walk(&w) & 0xffff; /* ids fit 16 bits */

	if (pick == XLB_BACKEND_NONE)
		return NULL;
	*bid = pick;
	return bpf_map_lookup_elem(&backends, &pick);
}

/*
 * A retransmitted SYN (xlb_syn_seen said so; left/old: the entry's
 * backend; the caller counted it): for syn_retry another-backend, move
 * bid and be (the Maglev table's choice) to the second chance.
 */
XLB_INLINE void xlb_syn_retry(const struct xlb_pkt *p, const struct xlb_vip_val *vip, __u32 hash,
			      __u32 left, const struct xlb_backend *old, __u32 *bid,
			      struct xlb_backend **be)
{
	struct xlb_backend *alt;
	__u32 alt_id = 0;

	if (old->syn_retry != XLB_SYN_RETRY_ANOTHER)
		return;
	alt = xlb_syn_other(vip, xlb_slot_of(p, vip, hash), left, &alt_id);
	if (!alt) {
		xlb_count(XLB_R_SYN_NO_OTHER_BACKEND);
		return;
	}
	xlb_count(XLB_R_SYN_REROUTED);
	xlb_syn_count(left, XLB_SYN_C_REROUTED);
	*bid = alt_id;
	*be = alt;
}

#endif /* XLB_BPF_SYNRETRY_H */
