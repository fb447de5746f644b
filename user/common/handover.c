// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Previous hops of a stateless VIP's table; see handover.h. */
#include <stdlib.h>
#include <string.h>

#include "handover.h"
#include "xlb_abi.h"

static struct xlb_handover *ho_new(__u32 size)
{
	struct xlb_handover *h = calloc(1, sizeof(*h) + (size_t)size * sizeof(h->slot[0]));

	if (h)
		h->size = size;
	return h;
}

/* Whether the previous hop p (of generation gen) of a slot that took its
 * current backend at since stays; *end: when it ends (0: with its drain). */
static int keeps(__u32 p, __u32 gen, __u64 since, __u64 now, __u32 handover_ms, xlb_ho_hop_fn hop,
		 void *ctx, __u64 *end)
{
	__u32 g = 0;
	int state;

	*end = 0;
	if (p == XLB_BACKEND_NONE)
		return 0;
	state = hop(ctx, p, &g);
	if (state == XLB_BE_DOWN || g != gen)
		return 0;
	if (state == XLB_BE_DRAINING)
		return 1; /* as long as it drains */
	*end = since + handover_ms;
	return now < *end;
}

struct xlb_handover *xlb_ho_next(const struct xlb_handover *old, const __u32 *cur, __u32 size,
				 __u64 now_ms, __u32 handover_ms, xlb_ho_hop_fn hop, void *ctx)
{
	struct xlb_handover *h = ho_new(size);

	if (!h)
		return NULL;
	if (old && old->size != size)
		old = NULL; /* other slots altogether: no hop can be named */
	for (__u32 i = 0; i < size; i++) {
		struct xlb_ho_slot *n = &h->slot[i];
		const struct xlb_ho_slot *o = old ? &old->slot[i] : NULL;
		__u64 end;
		__u32 g = 0;

		n->cur = (__u16)cur[i];
		if (!o) {
			n->since_ms = now_ms;
			continue;
		}
		if (o->cur != n->cur) {
			/* The slot moves: its old backend becomes the previous hop,
			 * unless the slot moved within the handover already and the
			 * hop it has held the slot longer than the old backend did
			 * (two backends added seconds apart: the connections are
			 * the older owner's). One hop per slot, the larger share. */
			__u64 held = o->since_ms == XLB_HO_SINCE_UNKNOWN ? XLB_HO_SINCE_UNKNOWN
									 : now_ms - o->since_ms;
			__u32 og = o->prev_gen;
			__u64 oend;

			n->since_ms = now_ms;
			if (o->since_ms == XLB_HO_SINCE_UNKNOWN && o->prev != XLB_BACKEND_NONE)
				hop(ctx, o->prev, &og);
			if (o->prev != XLB_BACKEND_NONE && o->prev != n->cur &&
			    o->prev_held_ms > held && o->since_ms != XLB_HO_SINCE_UNKNOWN &&
			    keeps(o->prev, og, o->since_ms, now_ms, handover_ms, hop, ctx, &oend)) {
				n->prev = o->prev;
				n->prev_gen = og;
				n->prev_held_ms = o->prev_held_ms;
			} else if (o->cur != XLB_BACKEND_NONE &&
				   hop(ctx, o->cur, &g) != XLB_BE_DOWN) {
				n->prev = o->cur;
				n->prev_gen = g;
				n->prev_held_ms = held;
			}
			end = now_ms + handover_ms;
		} else {
			n->since_ms = o->since_ms == XLB_HO_SINCE_UNKNOWN ? now_ms : o->since_ms;
			if (o->since_ms == XLB_HO_SINCE_UNKNOWN && o->prev != XLB_BACKEND_NONE) {
				/* adopted: its generation is the one the record has now */
				hop(ctx, o->prev, &g);
			} else {
				g = o->prev_gen;
			}
			if (keeps(o->prev, g, n->since_ms, now_ms, handover_ms, hop, ctx, &end)) {
				n->prev = o->prev;
				n->prev_gen = g;
				n->prev_held_ms = o->prev_held_ms;
			}
		}
		if (n->prev == XLB_BACKEND_NONE)
			continue;
		h->with_prev++;
		if (hop(ctx, n->prev, &g) == XLB_BE_ACTIVE &&
		    (!h->next_end_ms || end < h->next_end_ms))
			h->next_end_ms = end;
	}
	return h;
}

struct xlb_handover *xlb_ho_from_table(const __u32 *table, __u32 size)
{
	struct xlb_handover *h = ho_new(size);

	for (__u32 i = 0; h && i < size; i++) {
		h->slot[i].cur = (__u16)xlb_ho_cur(table[i]);
		h->slot[i].prev = (__u16)xlb_ho_prev(table[i]);
		h->slot[i].since_ms = XLB_HO_SINCE_UNKNOWN;
		h->slot[i].prev_held_ms = XLB_HO_SINCE_UNKNOWN;
		h->with_prev += h->slot[i].prev != XLB_BACKEND_NONE;
	}
	return h;
}

void xlb_ho_encode(const struct xlb_handover *h, __u32 *table)
{
	for (__u32 i = 0; i < h->size; i++)
		table[i] = h->slot[i].cur | (__u32)h->slot[i].prev << 16;
}

int xlb_ho_same(const struct xlb_handover *a, const struct xlb_handover *b)
{
	if (a->size != b->size)
		return 0;
	for (__u32 i = 0; i < a->size; i++)
		if (a->slot[i].cur != b->slot[i].cur || a->slot[i].prev != b->slot[i].prev)
			return 0;
	return 1;
}

static int cmp_flow(const void *a, const void *b)
{
	const struct xlb_ho_flow *x = a, *y = b;

	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

struct xlb_handover *xlb_ho_seed(const __u32 *cur, __u32 size, struct xlb_ho_flow *flows, size_t n,
				 __u32 *seeded, __u32 *lost)
{
	struct xlb_handover *h = ho_new(size);
	size_t i = 0;

	*seeded = *lost = 0;
	if (!h)
		return NULL;
	for (__u32 s = 0; s < size; s++) {
		h->slot[s].cur = (__u16)cur[s];
		h->slot[s].since_ms = XLB_HO_SINCE_UNKNOWN;
		h->slot[s].prev_held_ms = XLB_HO_SINCE_UNKNOWN;
	}
	if (n)
		qsort(flows, n, sizeof(*flows), cmp_flow);
	while (i < n) {
		__u32 s = flows[i].slot, best = XLB_BACKEND_NONE, others = 0;
		size_t most = 0;

		for (size_t j = i; i < n && flows[i].slot == s; j = i) {
			while (i < n && flows[i].slot == s && flows[i].id == flows[j].id)
				i++;
			if (s >= size || flows[j].id == cur[s] || flows[j].id == XLB_BACKEND_NONE)
				continue;
			others += (__u32)(i - j);
			if (i - j > most) { /* ids ascend: a tie keeps the lower */
				most = i - j;
				best = flows[j].id;
			}
		}
		if (best == XLB_BACKEND_NONE)
			continue;
		h->slot[s].cur = (__u16)best;
		*seeded += 1;
		*lost += others - (__u32)most;
	}
	return h;
}
