/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Steps 2-4: VIP, flow table, Maglev table.
 *
 * The VIP comes first: its flow_state says whether the flow table is used
 * at all (a stateless VIP reads only its Maglev slot, xlb_sl_pick). For a
 * table VIP, a flow-table hit carries the backend record (and its mode).
 * Rules (DESIGN "Data plane"):
 *  - a TCP SYN (without ACK) always takes the Maglev table, and its entry is
 *    overwritten: a new connection on an old 5-tuple is a new flow;
 *  - a hit whose backend is ACTIVE or DRAINING is used, so draining keeps
 *    established flows where they are;
 *  - a hit whose backend is DOWN, or whose id went to another backend since
 *    (generation mismatch), is re-hashed and the entry replaced;
 *  - a UDP hit idle longer than udp_idle_jiffies is re-hashed;
 *  - ICMP errors read the table but never write it;
 *  - a client FIN or RST marks the entry closed (one store, only on those
 *    packets): the flow keeps its backend until it ends, and the agent stops
 *    counting it as a live flow of that backend (drain: "is it idle yet?");
 *  - a closed TCP hit idle longer than closed_idle_jiffies is re-hashed;
 *  - an entry a SYN made is "opening" until the client's next packet (one
 *    store a flow, on the line the hit already read): a SYN that finds its
 *    flow still opening is a retransmission (lib/synretry.h).
 *
 * Why closed entries expire. A connection's entry outlives it; a new
 * connection on the same 5-tuple begins with a SYN, which overwrites the
 * entry, but only on the LB that sees the SYN. Behind ECMP another LB may
 * still hold the old connection's entry, naming another backend; when the
 * router later moves the flow there (an LB lost), that entry would send the
 * new connection's mid-stream packets to the old backend, which resets
 * them. Maglev on that LB picks what the SYN's LB picked (the same table),
 * so once the old entry no longer counts, the move is harmless.
 *
 * The bound, XLB_DEFAULT_CLOSED_IDLE_MS = 10 s (xlb_dp_opts.closed_idle_ms).
 * After its FIN the client still sends retransmissions of the FIN (one RTO
 * apart: 200 ms at least, 1 s at first, doubling), ACKs of what the server
 * still sends (a half-closed transfer: each packet refreshes the access
 * time, at 250 ms granularity, so a transfer keeps its entry however long it
 * runs), and the ACK of the server's FIN. 10 s covers a FIN lost three times
 * from a 1 s RTO (1 + 2 + 4 s) and is the CLOSE timeout of IPVS and of
 * netfilter's conntrack. Shorter, and a half-closed connection whose server
 * is silent longer than the bound has its next ACK re-hashed: harmless while
 * its Maglev slot still names its backend, broken if the slot moved since.
 * Longer, and the window grows in which a stale entry can catch a reused
 * 5-tuple (the LB move has to come within the bound of the old connection's
 * last packet). After a client RST nothing more is due. The check costs
 * nothing on a busy flow: it sits in the branch that refreshes the access
 * time, taken at most once a granule per flow, and `flags` (closed) is in the
 * entry's line the check word was read from.
 *
 * Open TCP entries do not expire by age, however long idle. A live
 * connection may be silent for hours (TCP keepalive probes first after 2 h
 * by default; many applications use none), and re-hashing it breaks it if
 * its slot moved since it began: exactly what the table is there to
 * prevent (IPVS's 15 min timeout for established connections is a known
 * cause of such breaks). The entries this would clear (a client gone
 * without a FIN, or a connection the server reset, which a DSR LB never
 * sees) do harm only in the rare case above with the old connection not
 * closed by the client; LRU eviction reclaims them when their bucket is
 * needed, and the agent stops counting them as live after
 * XLB_FLOW_LIVE_TCP_IDLE_S, so they never hold a drain up. It would be
 * cheap (one more compare in the same branch), not safe, so it is not done.
 */
#ifndef XLB_BPF_SELECT_H
#define XLB_BPF_SELECT_H

#include "maps.h"

/* Set by the loader before load (xlb_dp_opts, converted to jiffies). */
const volatile __u32 flow_buckets = XLB_DEFAULT_FLOW_ENTRIES / XLB_FLOW_WAYS;
const volatile __u32 udp_idle_jiffies = 30 * 250;
const volatile __u32 closed_idle_jiffies = 10 * 250;
const volatile __u32 atime_gran_jiffies = 250 / 4;
/* The fleet's secret hash seed (xlb_dp_opts.hash_seed, xlb_hash.h). */
const volatile struct xlb_hash_seed hash_seed = {};

/* The seed by value: two volatile loads, so clang never folds the default. */
XLB_INLINE struct xlb_hash_seed xlb_seed(void)
{
	struct xlb_hash_seed s = {{hash_seed.k[0], hash_seed.k[1]}};

	return s;
}

/* The packet's flow hash under the fleet's seed. */
XLB_INLINE __u32 xlb_flow_hash(const struct xlb_flow_key *k)
{
	struct xlb_hash_seed seed = xlb_seed();

	return xlb_hash_flow(k, &seed);
}

#define XLB_NO_BACKEND 1001

/* Where a flow lives or would live in the flow table. */
struct xlb_flow_ref {
	struct xlb_flow_bucket *bucket;
	__u32 hash;
	int way; /* way holding the flow, or -1 */
};

XLB_INLINE int xlb_key_eq(const struct xlb_flow_key *a, const struct xlb_flow_key *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

/* Find the packet's flow in its bucket (ref->way = -1 when absent). */
XLB_INLINE int xlb_flow_find(struct xlb_pkt *p, struct xlb_flow_ref *ref)
{
	__u32 idx = xlb_hash_bucket(ref->hash, flow_buckets);
	__u32 tag = ref->hash | 1;
	struct xlb_flow_bucket *b = bpf_map_lookup_elem(&flows, &idx);

	ref->bucket = b;
	ref->way = -1;
	if (!b)
		return -1;
#pragma unroll
	for (int w = 0; w < XLB_FLOW_WAYS; w++) {
		if (b->tag[w] == tag && xlb_key_eq(&b->way[w].key, &p->key)) {
			ref->way = w;
			return w;
		}
	}
	return -1;
}

/*
 * The reason a hit idle for `age` jiffies is over, or 0. Asked only once
 * the age passes the access-time granule (the loader keeps both bounds at
 * least a granule). An ICMP error is hashed like its flow, never written:
 * about a UDP flow it keeps the entry's backend (the LB sees only client
 * packets, so a backend may be sending on a flow idle here), about an
 * expired closed TCP flow it takes Maglev, where the 5-tuple's current
 * connection is (a frag-needed sent to the old backend would be lost).
 */
XLB_INLINE int xlb_flow_expired(const struct xlb_pkt *p, const struct xlb_flow_entry *e, __u32 age)
{
	if (p->key.proto == IPPROTO_UDP)
		return !p->icmp_err && age > udp_idle_jiffies ? XLB_R_UDP_FLOW_EXPIRED : 0;
	return (e->flags & XLB_FLOW_CLOSED) && age > closed_idle_jiffies
		       ? XLB_R_TCP_CLOSED_FLOW_EXPIRED
		       : 0;
}

/*
 * A usable hit: returns the backend, or NULL when the packet must be hashed
 * again (and its entry will be replaced).
 */
XLB_INLINE struct xlb_backend *xlb_flow_hit(struct xlb_pkt *p, struct xlb_flow_ref *ref, __u32 *bid)
{
	struct xlb_flow_entry *e;
	struct xlb_backend *be;
	__u32 now, age, *atime;
	int expired;

	if (xlb_flow_find(p, ref) < 0 || !ref->bucket)
		return NULL;
	e = &ref->bucket->way[ref->way & (XLB_FLOW_WAYS - 1)];
	*bid = e->backend_id;
	if (e->check != xlb_flow_check(ref->hash, *bid, e->backend_gen))
		return NULL; /* a concurrent writer's half-written entry */
	be = bpf_map_lookup_elem(&backends, bid);
	if (!be || be->gen != e->backend_gen || be->state == XLB_BE_DOWN) {
		xlb_count(XLB_R_FLOW_BACKEND_GONE);
		return NULL;
	}
	now = (__u32)bpf_jiffies64();
	atime = &ref->bucket->atime[ref->way & (XLB_FLOW_WAYS - 1)];
	age = now - *atime;
	/* Refresh the LRU clock, but write the shared line only once a granule;
	 * a flow can only have expired then. */
	if (age > atime_gran_jiffies) {
		expired = xlb_flow_expired(p, e, age);
		if (expired) {
			xlb_count(expired);
			return NULL;
		}
		*atime = now;
	}
	if (!p->icmp_err) {
		/* flags shares the line of check, read above: no new miss */
		__u32 f = (e->flags & ~XLB_FLOW_OPENING) |
			  (p->tcp_flags & (XLB_TCP_FIN | XLB_TCP_RST) ? XLB_FLOW_CLOSED : 0);

		if (f != e->flags)
			e->flags = f;
	}
	return be;
}

/* Enter the flow: its own way, else a free one, else the least recently used. */
XLB_INLINE void xlb_flow_remember(struct xlb_pkt *p, struct xlb_flow_ref *ref,
				  struct xlb_vip_stats *vs, __u32 bid, const struct xlb_backend *be)
{
	struct xlb_flow_bucket *b = ref->bucket;
	__u32 now = (__u32)bpf_jiffies64();
	int w = ref->way;

	if (!b)
		return;
	if (w < 0) {
		__u32 oldest = 0;

		w = 0;
#pragma unroll
		for (int i = 0; i < XLB_FLOW_WAYS; i++) {
			__u32 age = b->tag[i] ? now - b->atime[i] : 0xffffffffu;

			if (age > oldest) {
				oldest = age;
				w = i;
			}
		}
		if (b->tag[w & (XLB_FLOW_WAYS - 1)])
			xlb_count(XLB_R_FLOW_EVICTED);
		if (vs)
			vs->new_flows++;
	}
	w &= XLB_FLOW_WAYS - 1;
	b->tag[w] = 0; /* readers skip the way while it is rewritten */
	__builtin_memcpy(&b->way[w].key, &p->key, sizeof(p->key));
	b->way[w].backend_id = bid;
	b->way[w].backend_gen = be->gen;
	b->way[w].flags = (p->tcp_flags & (XLB_TCP_FIN | XLB_TCP_RST) ? XLB_FLOW_CLOSED : 0) |
			  (xlb_is_syn(p) ? XLB_FLOW_OPENING : 0);
	b->atime[w] = now;
	b->way[w].check = xlb_flow_check(ref->hash, bid, be->gen);
	b->tag[w] = ref->hash | 1;
}

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

/* The VIP's Maglev slot for this packet: of the flow's hash, or of the
 * client address for `hash: source` VIPs. */
XLB_INLINE __u32 xlb_slot_of(const struct xlb_pkt *p, const struct xlb_vip_val *vip,
			     __u32 flow_hash)
{
	if (vip->hash == XLB_HASH_SRC) {
		struct xlb_hash_seed seed = xlb_seed();

		flow_hash = xlb_hash_src(&p->key.saddr, &seed);
	}
	return xlb_hash_slot(flow_hash, vip->table_size);
}

/* Consistent hash: the VIP's Maglev slot for this flow. */
XLB_INLINE int xlb_table_pick(struct xlb_pkt *p, const struct xlb_vip_val *vip, __u32 flow_hash,
			      __u32 *bid, struct xlb_backend **out)
{
	__u32 vip_id = vip->vip_id;
	void *table = bpf_map_lookup_elem(&maglev_tables, &vip_id);
	struct xlb_table_slots *slots;
	struct xlb_backend *be;
	__u32 slot, idx;

	if (!table)
		return XLB_NO_BACKEND;
	slot = xlb_slot_of(p, vip, flow_hash);
	idx = slot / XLB_TABLE_SLOTS_PER_VALUE;
	slots = bpf_map_lookup_elem(table, &idx);
	if (!slots)
		return XLB_NO_BACKEND;
	*bid = slots->id[slot % XLB_TABLE_SLOTS_PER_VALUE];
	if (*bid == XLB_BACKEND_NONE)
		return XLB_NO_BACKEND;
	be = bpf_map_lookup_elem(&backends, bid);
	/* The agent swaps a backend out of the table before demoting it. */
	if (!be || be->state != XLB_BE_ACTIVE)
		return -XLB_R_BACKEND_NOT_ACTIVE;
	*out = be;
	return XLB_CONTINUE;
}

/*
 * Stateless VIP (xlb_vip_val.flow_state): the packet's Maglev slot alone
 * decides, one table read, no flow table. *cur: the slot's current backend
 * (ACTIVE, or DRAINING while the agent swaps it out); *prev: the previous
 * one's id or XLB_BACKEND_NONE. An empty slot or a DOWN current backend is
 * XLB_NO_BACKEND (on_empty).
 */
XLB_INLINE int xlb_sl_pick(struct xlb_pkt *p, const struct xlb_vip_val *vip, __u32 flow_hash,
			   __u32 *bid, __u32 *prev, struct xlb_backend **out)
{
	__u32 vip_id = vip->vip_id;
	void *table = bpf_map_lookup_elem(&maglev_tables, &vip_id);
	struct xlb_sl_slots *slots;
	struct xlb_sl_slot sl;
	struct xlb_backend *be;
	__u32 slot, idx;

	if (!table)
		return XLB_NO_BACKEND;
	slot = xlb_slot_of(p, vip, flow_hash);
	idx = slot / XLB_SL_SLOTS_PER_VALUE;
	slots = bpf_map_lookup_elem(table, &idx);
	if (!slots)
		return XLB_NO_BACKEND;
	sl = slots->s[slot % XLB_SL_SLOTS_PER_VALUE];
	*bid = sl.cur;
	*prev = sl.prev;
	if (*bid == XLB_BACKEND_NONE)
		return XLB_NO_BACKEND;
	be = bpf_map_lookup_elem(&backends, bid);
	if (!be || be->state == XLB_BE_DOWN)
		return XLB_NO_BACKEND;
	*out = be;
	return XLB_CONTINUE;
}

#endif /* XLB_BPF_SELECT_H */
