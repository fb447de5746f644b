/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Previous hops of a stateless VIP's Maglev table (issue #14).
 *
 * Pure logic: no BPF, no sockets. For each slot: the current backend, and
 * after the slot changed, the backend it had before (its previous hop),
 * which the data plane sends along with non-SYN packets so that the new
 * backend can hand packets of connections it does not own on to it.
 *
 * Rules, applied at every rebuild (xlb_ho_next):
 *  - a slot whose current backend changes gets the old one as its previous
 *    hop (unless the old one is DOWN or gone), from now on;
 *  - a previous hop that is ACTIVE lasts the VIP's handover from the
 *    slot's change, then goes (next_end_ms says when the first one ends:
 *    the agent wakes to rebuild then);
 *  - one that is DRAINING lasts as long as it drains, even past the
 *    handover: until drain_timeout turns it DOWN (0 = never), it is
 *    enabled again (then the handover from the slot's change applies) or
 *    it is deleted;
 *  - one that is DOWN, or no longer a backend of the VIP, or whose id now
 *    names another backend (another generation), goes at once;
 *  - a slot that changes again replaces its previous hop: one hop only.
 * Which backend a slot's previous hop is depends only on the sequence of
 * tables (the same history of changes gives the same previous hops on
 * every host); when it ends depends on each host's clock.
 *
 * Table entries as the reconciler passes them (one __u32 per slot): the
 * current id in the low 16 bits, the previous hop's in the high 16 bits
 * (xlb_dp_maps.c writes them as struct xlb_sl_slot).
 */
#ifndef XLB_HANDOVER_H
#define XLB_HANDOVER_H

#include <stddef.h>
#include <linux/types.h>

/* since_ms of a slot read back from a table (adoption): the handover
 * starts again at the first rebuild, the clock that ran is lost. */
#define XLB_HO_SINCE_UNKNOWN (~0ULL)

struct xlb_ho_slot {
	__u16 cur, prev;
	__u32 prev_gen; /* generation of `prev` when it became the previous hop */
	__u64 since_ms; /* when the slot took `cur` (the previous hop's clock) */
	/* How long `prev` held the slot (XLB_HO_SINCE_UNKNOWN: adopted, long):
	 * when the slot moves again within the handover, the backend that held
	 * it longer stays the previous hop (it has the older connections). */
	__u64 prev_held_ms;
};

struct xlb_handover {
	__u32 size;	   /* slots */
	__u32 with_prev;   /* slots that carry a previous hop */
	__u64 next_end_ms; /* the first ACTIVE previous hop ends then; 0: none */
	__u64 inputs;	   /* the caller's digest of what the hops depend on */
	struct xlb_ho_slot slot[];
};

/* What backend `id` of the VIP is now: XLB_BE_ACTIVE, XLB_BE_DRAINING, or
 * XLB_BE_DOWN (down, or not a backend of the VIP), and its generation. */
typedef int (*xlb_ho_hop_fn)(void *ctx, __u32 id, __u32 *gen);

/*
 * The state after a rebuild whose current backends are cur[0..size):
 * from `old` (NULL, or of another size: no previous hops), at now_ms.
 * NULL when out of memory. Free with free().
 */
struct xlb_handover *xlb_ho_next(const struct xlb_handover *old, const __u32 *cur, __u32 size,
				 __u64 now_ms, __u32 handover_ms, xlb_ho_hop_fn hop, void *ctx);

/*
 * Switching a VIP's flow_state (sync.h). table -> stateless: the flow
 * table knows where each connection lives; the stateless table does not.
 * A slot whose connections sit on another backend than the slot's current
 * one (the slot moved while the VIP was in table mode, or the switch
 * comes with a table change) would send them to the current backend,
 * plain, and break them. So the first stateless table is built as if each
 * such slot had just moved from the backend that holds its connections:
 * xlb_ho_seed gives that "before" state, xlb_ho_next(seeded, cur, ...)
 * names the backend the slot's previous hop for the handover from the
 * switch. One hop a slot: where the flow table holds a slot's flows on
 * two backends other than the current one, the one with more flows wins
 * (the lower id on a tie) and the others break (*lost). The seeding reads
 * the flow table once, at the switch; from then on the flow table is not
 * used (the cost per packet stays flat).
 *
 * stateless -> table: the LB does not know which connections live on a
 * previous hop (only the backends do), and a table-mode miss takes the
 * slot's current backend without a carrier. So the VIP stays stateless in
 * the data plane until its last previous hop ends, then switches: by then
 * every connection it keeps lives on its slot's current backend, which is
 * where a table-mode miss sends it. (The alternative, a table mode that
 * carries the previous hop on misses and does not enter those flows,
 * would need a third table layout in the data plane and a per-packet
 * decision; waiting needs nothing new there.)
 */
struct xlb_ho_flow {
	__u32 slot; /* the flow's slot in the VIP's table */
	__u32 id;   /* the backend the flow table holds it on */
};

/* The "before" state for cur[0..size) from n flows (sorted in place);
 * *seeded: slots given another backend; *lost: flows that break. */
struct xlb_handover *xlb_ho_seed(const __u32 *cur, __u32 size, struct xlb_ho_flow *flows, size_t n,
				 __u32 *seeded, __u32 *lost);

/* The state of a table read back (entries as above); since unknown. */
struct xlb_handover *xlb_ho_from_table(const __u32 *table, __u32 size);

/* The table entries of h (cur | prev << 16). */
void xlb_ho_encode(const struct xlb_handover *h, __u32 *table);

/* 1 when a and b give the same table. */
int xlb_ho_same(const struct xlb_handover *a, const struct xlb_handover *b);

/* An entry's current and previous backend. */
static inline __u32 xlb_ho_cur(__u32 entry)
{
	return entry & 0xffff;
}

static inline __u32 xlb_ho_prev(__u32 entry)
{
	return entry >> 16;
}

#endif /* XLB_HANDOVER_H */
