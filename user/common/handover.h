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
