// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Previous hops of stateless VIPs (issue #14), through the real
 * reconciler (sync*.c, handover.c) on a fake data plane that keeps the
 * maps: backend records by id, VIP entries, one table per VIP id (one
 * __u32 a slot: current id | previous hop << 16, as libxlb takes it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "config.h"
#include "handover.h"
#include "harness.h"
#include "sync.h"
#include "test_unit.h"
#include "xlb_dp.h"
#include "xlb_hash.h"

#define TBL 251
#define NV 8
#define NB 64
#define NFLOWS 600

struct hdp {
	struct xlb_backend be[NB];
	struct {
		struct xlb_vip_key k;
		struct xlb_vip_val v;
		__u32 table[TBL];
		int live;
	} vip[NV];
	int table_writes;
	/* health: last octet of an address that is down; of one whose drain
	 * timed out (admin turns disabled, as xlbd's checks do) */
	int down, drain_over;
	/* the flow table's live flows (flows_each), and an error it fails with */
	struct {
		struct xlb_flow_key k;
		__u32 id;
	} flow[NFLOWS];
	int nflows, flows_err;
};

static int h_backend_set(void *ctx, __u32 id, const struct xlb_backend *b)
{
	struct hdp *d = ctx;

	if (id >= NB)
		return -EINVAL;
	d->be[id] = *b;
	return 0;
}

static int h_backend_get(void *ctx, __u32 id, struct xlb_backend *b)
{
	struct hdp *d = ctx;

	if (id >= NB)
		return -EINVAL;
	*b = d->be[id];
	return 0;
}

static int by_id(struct hdp *d, __u32 id)
{
	for (int i = 0; i < NV; i++)
		if (d->vip[i].live && d->vip[i].v.vip_id == id)
			return i;
	return -1;
}

static int h_vip_set(void *ctx, const struct xlb_vip_key *k, const struct xlb_vip_val *v,
		     const __u32 *table)
{
	struct hdp *d = ctx;
	int slot = -1;

	for (int i = 0; i < NV; i++)
		if (d->vip[i].live && !memcmp(&d->vip[i].k, k, sizeof(*k)))
			slot = i;
	for (int i = 0; slot < 0 && i < NV; i++)
		if (!d->vip[i].live)
			slot = i;
	if (slot < 0 || v->table_size != TBL)
		return -ENOSPC;
	d->vip[slot].k = *k;
	d->vip[slot].v = *v;
	if (table)
		memcpy(d->vip[slot].table, table, sizeof(d->vip[slot].table));
	else
		memset(d->vip[slot].table, 0, sizeof(d->vip[slot].table));
	d->vip[slot].live = 1;
	d->table_writes++;
	return 0;
}

static int h_vip_del(void *ctx, const struct xlb_vip_key *k)
{
	struct hdp *d = ctx;

	for (int i = 0; i < NV; i++)
		if (d->vip[i].live && !memcmp(&d->vip[i].k, k, sizeof(*k))) {
			d->vip[i].live = 0;
			return 0;
		}
	return -ENOENT;
}

static int h_tables_swap(void *ctx, size_t n, const __u32 *ids, const __u32 *const *tables,
			 const __u32 *sizes, const __u8 *flow_states)
{
	struct hdp *d = ctx;

	for (size_t i = 0; i < n; i++) {
		int j = by_id(d, ids[i]);

		if (j < 0 || sizes[i] != TBL || flow_states[i] != d->vip[j].v.flow_state)
			return -EINVAL; /* a table in the other layout than its entry's */
		memcpy(d->vip[j].table, tables[i], sizeof(d->vip[j].table));
		d->table_writes++;
	}
	return 0;
}

static int h_table_get(void *ctx, __u32 vip_id, __u32 size, __u32 *table)
{
	struct hdp *d = ctx;
	int j = by_id(d, vip_id);

	if (j < 0 || size != TBL)
		return -EINVAL;
	memcpy(table, d->vip[j].table, sizeof(d->vip[j].table));
	return 0;
}

static int h_flows_each(void *ctx, const __u32 *gen_by_id,
			int (*cb)(void *cb_ctx, const struct xlb_flow_key *k, __u32 id),
			void *cb_ctx)
{
	struct hdp *d = ctx;
	int ret = 0;

	if (d->flows_err)
		return d->flows_err;
	for (int i = 0; !ret && i < d->nflows; i++)
		if (gen_by_id[d->flow[i].id] &&
		    gen_by_id[d->flow[i].id] == d->be[d->flow[i].id].gen)
			ret = cb(cb_ctx, &d->flow[i].k, d->flow[i].id);
	return ret;
}

static int h_resolve(void *ctx, const union xlb_addr *a, __u8 mac[6])
{
	(void)ctx;
	memset(mac, 0x02, 6);
	mac[5] = a->b[15];
	return 0;
}

static void h_health(void *ctx, const struct xlb_sync_vip *v, const struct xlb_sync_backend *b,
		     struct xlb_hsel_in *in)
{
	struct hdp *d = ctx;

	(void)v;
	if (b->cfg.addr.b[15] == d->down)
		in->health = XLB_HEALTH_DOWN;
	if (b->cfg.addr.b[15] == d->drain_over && in->admin == XLB_ADMIN_DRAIN)
		in->admin = XLB_ADMIN_DISABLED;
}

static struct xlb_sync *h_sync(struct hdp *d)
{
	struct xlb_sink sink = {.ctx = d,
				.backend_set = h_backend_set,
				.vip_set = h_vip_set,
				.vip_del = h_vip_del,
				.tables_swap = h_tables_swap,
				.backend_get = h_backend_get,
				.table_get = h_table_get,
				.flows_each = h_flows_each};
	struct xlb_sync *s = xlb_sync_new(&sink, h_resolve, d);

	if (s) {
		s->health = h_health;
		s->health_ctx = d;
	}
	return s;
}

static int h_apply(struct xlb_sync *s, __u64 now, const char *yaml)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	int ret;

	if (xlb_cfg_load_string("t.yaml", yaml, &c, &err)) {
		harness_fail(__FILE__, __LINE__, "config: %s", err.msg);
		return -1;
	}
	s->now_ms = now;
	ret = xlb_sync_apply(s, &c, &err);
	if (ret)
		harness_fail(__FILE__, __LINE__, "apply: %s", err.msg);
	xlb_cfg_free(&c);
	return ret;
}

/* The table of the (one) live VIP, and its entry. */
static const __u32 *table_of(struct hdp *d, struct xlb_vip_val *val)
{
	for (int i = 0; i < NV; i++)
		if (d->vip[i].live) {
			if (val)
				*val = d->vip[i].v;
			return d->vip[i].table;
		}
	return NULL;
}

static int slots_with_prev(const __u32 *t, __u32 id)
{
	int n = 0;

	for (int s = 0; s < TBL; s++)
		n += id ? xlb_ho_prev(t[s]) == id : xlb_ho_prev(t[s]) != 0;
	return n;
}

/* The id of the backend with this last octet in the VIP's view. */
static __u32 id_of(struct xlb_sync *s, int octet)
{
	for (size_t j = 0; s->nvips && j < s->vips[0].nbackends; j++)
		if (s->vips[0].backends[j].cfg.addr.b[15] == octet)
			return s->vips[0].backends[j].id;
	return 0;
}

#define SL(ho)                                                                                     \
	"vips:\n  - address: 10.0.0.10\n    port: 80\n    protocol: tcp\n    mode: ipip\n"         \
	"    flow_state: stateless\n    handover: " ho "\n    table_size: 251\n"                   \
	"    check: {type: none}\n    backends:\n"
#define B(x) "      - address: 10.1.0." #x "\n"
#define DRAIN(x) "      - {address: 10.1.0." #x ", admin: drain}\n"
#define HO5 SL("5s")
#define T0 100000

static struct hdp D, D2;

/* Adding a backend: the slots that move carry their old backend as the
 * previous hop, the others none; the entry says stateless. */
static int t_ho_moved_slots_carry_the_old_backend(void)
{
	struct xlb_sync *s = h_sync(&D);
	struct xlb_vip_val val = {};
	__u32 before[TBL];
	int moved = 0;

	memset(&D, 0, sizeof(D));
	ASSERT_OK(h_apply(s, T0, HO5 B(1) B(2) B(3)), "three");
	memcpy(before, table_of(&D, &val), sizeof(before));
	ASSERT_EQ(val.flow_state, XLB_FLOW_STATELESS, "entry: stateless");
	ASSERT_EQ(slots_with_prev(before, 0), 0, "a new VIP: no previous hop");
	ASSERT_OK(h_apply(s, T0 + 1000, HO5 B(1) B(2) B(3) B(4)), "four");
	for (int i = 0; i < TBL; i++) {
		__u32 now = table_of(&D, NULL)[i];

		if (xlb_ho_cur(now) != xlb_ho_cur(before[i])) {
			moved++;
			ASSERT_EQ(xlb_ho_prev(now), xlb_ho_cur(before[i]), "its old backend");
		} else {
			ASSERT_EQ(xlb_ho_prev(now), 0, "an unmoved slot: no previous hop");
		}
	}
	ASSERT_TRUE(moved > 50 && moved < 90, "about a quarter of the slots moved");
	ASSERT_EQ(s->vips[0].ho->with_prev, (__u32)moved, "slots_with_prev");
	xlb_sync_free(s);
	return 0;
}

/* After the handover the previous hops go, at the apply the agent woke
 * for (wake_ms); not one millisecond before. */
static int t_ho_prevs_end_with_the_handover(void)
{
	struct xlb_sync *s = h_sync(&D);

	memset(&D, 0, sizeof(D));
	ASSERT_OK(h_apply(s, T0, HO5 B(1) B(2) B(3)), "three");
	ASSERT_EQ(s->wake_ms, 0, "no previous hop: nothing to wake for");
	ASSERT_OK(h_apply(s, T0 + 1000, HO5 B(1) B(2) B(3) B(4)), "four");
	ASSERT_EQ(s->wake_ms, T0 + 1000 + 5000, "wake when the handover ends");
	ASSERT_OK(h_apply(s, T0 + 5999, HO5 B(1) B(2) B(3) B(4)), "just before");
	ASSERT_TRUE(slots_with_prev(table_of(&D, NULL), 0) > 0, "still there");
	ASSERT_OK(h_apply(s, s->wake_ms, HO5 B(1) B(2) B(3) B(4)), "woke");
	ASSERT_EQ(slots_with_prev(table_of(&D, NULL), 0), 0, "gone");
	ASSERT_EQ(s->vips[0].ho->with_prev, 0, "none counted");
	ASSERT_EQ(s->wake_ms, 0, "nothing left to wake for");
	xlb_sync_free(s);
	return 0;
}

/* A drained backend stays the previous hop past the handover, as long as
 * it drains; when its drain times out (DOWN) it goes at once. */
static int t_ho_drained_backend_stays_until_its_drain_ends(void)
{
	struct xlb_sync *s = h_sync(&D);
	__u32 two;
	int n;

	memset(&D, 0, sizeof(D));
	ASSERT_OK(h_apply(s, T0, HO5 B(1) B(2) B(3)), "three");
	two = id_of(s, 2);
	ASSERT_OK(h_apply(s, T0 + 1000, HO5 B(1) DRAIN(2) B(3)), "drain 2");
	n = slots_with_prev(table_of(&D, NULL), two);
	ASSERT_TRUE(n >= 83 && n <= 84, "every slot 2 had names it as previous hop");
	ASSERT_EQ(D.be[two].state, XLB_BE_DRAINING, "2 drains");
	ASSERT_OK(h_apply(s, T0 + 3600 * 1000, HO5 B(1) DRAIN(2) B(3)), "an hour later");
	ASSERT_EQ(slots_with_prev(table_of(&D, NULL), two), n, "still, while it drains");
	D.drain_over = 2;
	ASSERT_OK(h_apply(s, T0 + 3601 * 1000, HO5 B(1) DRAIN(2) B(3)), "drain timed out");
	ASSERT_EQ(D.be[two].state, XLB_BE_DOWN, "2 is DOWN");
	ASSERT_EQ(slots_with_prev(table_of(&D, NULL), two), 0, "and no previous hop any more");
	xlb_sync_free(s);
	return 0;
}

/* A backend that goes DOWN is never a previous hop: cleared at once (and
 * its own slots, moving away, do not name it). */
static int t_ho_down_backend_cleared_at_once(void)
{
	struct xlb_sync *s = h_sync(&D);
	__u32 one;

	memset(&D, 0, sizeof(D));
	ASSERT_OK(h_apply(s, T0, HO5 B(1) B(2) B(3)), "three");
	one = id_of(s, 1);
	ASSERT_OK(h_apply(s, T0 + 1000, HO5 B(1) B(2) B(3) B(4)), "four");
	ASSERT_TRUE(slots_with_prev(table_of(&D, NULL), one) > 0, "1 is a previous hop");
	D.down = 1;
	ASSERT_OK(h_apply(s, T0 + 1001, HO5 B(1) B(2) B(3) B(4)), "1 down");
	ASSERT_EQ(slots_with_prev(table_of(&D, NULL), one), 0, "1 cleared from every slot");
	ASSERT_TRUE(slots_with_prev(table_of(&D, NULL), 0) > 0, "the others stay");
	xlb_sync_free(s);
	return 0;
}

/* A backend deleted from the config stops being a previous hop in the
 * same apply that frees its id; after the quarantine the id goes to a
 * new backend, and no slot names it as a previous hop. */
static int t_ho_deleted_backend_never_leaves_a_recycled_prev(void)
{
	struct xlb_sync *s = h_sync(&D);
	__u32 one;

	memset(&D, 0, sizeof(D));
	ASSERT_OK(h_apply(s, T0, HO5 B(1) B(2) B(3)), "three");
	one = id_of(s, 1);
	ASSERT_OK(h_apply(s, T0 + 100, HO5 B(1) B(2) B(3) B(4)), "four");
	ASSERT_TRUE(slots_with_prev(table_of(&D, NULL), one) > 0, "1 is a previous hop");
	ASSERT_OK(h_apply(s, T0 + 200, HO5 B(2) B(3) B(4)), "1 deleted");
	ASSERT_EQ(slots_with_prev(table_of(&D, NULL), one), 0, "not a previous hop any more");
	ASSERT_EQ(D.be[one].state, XLB_BE_DOWN, "its record DOWN");
	ASSERT_OK(h_apply(s, T0 + 200 + XLB_SYNC_ID_QUARANTINE_MS, HO5 B(2) B(3) B(4) B(9)),
		  "9 added after the quarantine");
	ASSERT_EQ(id_of(s, 9), one, "9 got 1's id (the test needs it)");
	ASSERT_EQ(slots_with_prev(table_of(&D, NULL), one), 0, "no slot hands on to 9");
	xlb_sync_free(s);
	return 0;
}

/* An agent restart (SIGKILL: nothing saved but the maps) adopts the
 * previous hops from the pinned table: applying the same configuration
 * writes no table, and the handover starts again at that apply. */
static int t_ho_restart_keeps_previous_hops(void)
{
	struct xlb_programmed_vip pv[NV];
	struct xlb_programmed_backend pb[NB];
	struct xlb_sync *s = h_sync(&D), *s2;
	__u32 before[TBL];
	size_t nv = 0, nb = 0;

	memset(&D, 0, sizeof(D));
	ASSERT_OK(h_apply(s, T0, HO5 B(1) B(2) B(3)), "three");
	ASSERT_OK(h_apply(s, T0 + 1000, HO5 B(1) B(2) B(3) B(4)), "four");
	memcpy(before, table_of(&D, NULL), sizeof(before));
	ASSERT_TRUE(slots_with_prev(before, 0) > 0, "previous hops");
	xlb_sync_free(s); /* killed */
	for (int i = 0; i < NV; i++)
		if (D.vip[i].live)
			pv[nv++] = (struct xlb_programmed_vip){D.vip[i].k, D.vip[i].v};
	for (__u32 id = 1; id < NB; id++)
		if (D.be[id].gen)
			pb[nb++] = (struct xlb_programmed_backend){id, D.be[id]};
	s2 = h_sync(&D);
	ASSERT_OK(xlb_sync_adopt(s2, pv, nv, pb, nb), "adopt");
	D.table_writes = 0;
	ASSERT_OK(h_apply(s2, T0 + 4000, HO5 B(1) B(2) B(3) B(4)), "same config");
	ASSERT_EQ(D.table_writes, 0, "no table written");
	ASSERT_EQ(memcmp(before, table_of(&D, NULL), sizeof(before)), 0, "same hops");
	ASSERT_EQ(s2->wake_ms, T0 + 4000 + 5000, "handover counted again from the restart");
	ASSERT_OK(h_apply(s2, T0 + 8999, HO5 B(1) B(2) B(3) B(4)), "before that");
	ASSERT_TRUE(slots_with_prev(table_of(&D, NULL), 0) > 0, "kept");
	ASSERT_OK(h_apply(s2, T0 + 9000, HO5 B(1) B(2) B(3) B(4)), "then");
	ASSERT_EQ(slots_with_prev(table_of(&D, NULL), 0), 0, "gone");
	xlb_sync_free(s2);
	return 0;
}

/* Two hosts with the same history of changes (here in the same order, at
 * other times within the handover) program the same table, previous
 * hops included. Hosts with different histories may differ in previous
 * hops: a slot names the backend it had on that host before. */
static int t_ho_same_history_same_hops(void)
{
	static const char *const steps[] = {
		HO5 B(1) B(2) B(3),	     HO5 B(1) B(2) B(3) B(4),
		HO5 B(1) DRAIN(2) B(3) B(4), HO5 B(1) DRAIN(2) B(3) B(4) B(5),
		HO5 B(1) B(3) B(4) B(5),
	};
	struct xlb_sync *a = h_sync(&D), *b = h_sync(&D2);

	memset(&D, 0, sizeof(D));
	memset(&D2, 0, sizeof(D2));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		ASSERT_OK(h_apply(a, T0 + i * 1000, steps[i]), "host a");
		ASSERT_OK(h_apply(b, 7 * T0 + i * 1100, steps[i]), "host b");
		ASSERT_EQ(memcmp(table_of(&D, NULL), table_of(&D2, NULL), TBL * sizeof(__u32)), 0,
			  "same table and previous hops");
	}
	ASSERT_TRUE(slots_with_prev(table_of(&D, NULL), 0) > 0, "with previous hops");
	xlb_sync_free(a);
	xlb_sync_free(b);
	return 0;
}

/* flow_state changes: a new VIP id (the table in the new layout goes in
 * under it, then the entry), the old id given back; a table-mode table
 * holds plain ids (no previous hop bits). */
static int t_ho_flow_state_change_takes_a_new_id(void)
{
	struct xlb_sync *s = h_sync(&D);
	struct xlb_vip_val val = {};
	const char *table_mode = "vips:\n  - address: 10.0.0.10\n    port: 80\n    protocol: tcp\n"
				 "    mode: ipip\n    table_size: 251\n    check: {type: none}\n"
				 "    backends:\n" B(1) B(2) B(3);
	__u32 old_id;

	memset(&D, 0, sizeof(D));
	ASSERT_OK(h_apply(s, T0, table_mode), "table");
	table_of(&D, &val);
	old_id = val.vip_id;
	ASSERT_EQ(val.flow_state, XLB_FLOW_TABLE, "table");
	for (int i = 0; i < TBL; i++)
		ASSERT_TRUE(table_of(&D, NULL)[i] < 4, "plain ids");
	ASSERT_OK(h_apply(s, T0 + 10, HO5 B(1) B(2) B(3)), "stateless");
	table_of(&D, &val);
	ASSERT_TRUE(val.vip_id != old_id, "a new id");
	ASSERT_EQ(val.flow_state, XLB_FLOW_STATELESS, "stateless");
	ASSERT_EQ(D.be[id_of(s, 1)].vip_id, val.vip_id, "records follow the VIP's id");
	ASSERT_EQ(s->nquar, 1, "the old id waits in quarantine");
	ASSERT_EQ(s->quar[0].id, old_id, "that one");
	ASSERT_OK(h_apply(s, T0 + 20, table_mode), "back to table");
	table_of(&D, &val);
	ASSERT_EQ(val.flow_state, XLB_FLOW_TABLE, "table again");
	xlb_sync_free(s);
	return 0;
}

/* handover.c alone: one previous hop per slot. A slot that moves twice
 * keeps only the latest (A -> B -> C: prev B; connections still on A are
 * lost), one that moves back names the one in between (A -> B -> A:
 * prev B); a hop that is DOWN is never taken. */
static int all_active(void *ctx, __u32 id, __u32 *gen)
{
	(void)ctx;
	*gen = 1;
	return id == 9 ? XLB_BE_DOWN : XLB_BE_ACTIVE;
}

static int t_ho_one_hop_per_slot(void)
{
	__u32 a[3] = {1, 1, 1}, b[3] = {2, 2, 9}, c[3] = {3, 1, 1};
	struct xlb_handover *h0 = xlb_ho_next(NULL, a, 3, 0, 1000, all_active, NULL);
	struct xlb_handover *h1 = h0 ? xlb_ho_next(h0, b, 3, 10, 1000, all_active, NULL) : NULL;
	struct xlb_handover *h2 = h1 ? xlb_ho_next(h1, c, 3, 20, 1000, all_active, NULL) : NULL;
	int ok = h2 && h1->slot[0].prev == 1 && h2->slot[0].prev == 2 && h2->slot[1].prev == 2 &&
		 h2->slot[2].prev == 0 && h2->with_prev == 2 && h2->next_end_ms == 1020;

	free(h0);
	free(h1);
	free(h2);
	ASSERT_TRUE(ok, "A->B->C keeps B; A->B->A keeps B; a DOWN one is never a hop");
	return 0;
}

/* Two backends added seconds apart move some slots twice: A held the slot
 * for a long time, B for a moment, then C takes it; A keeps it as the
 * previous hop (A has the connections), and B does where it held longer. */
static int t_ho_longer_holder_stays_prev(void)
{
	__u32 a[2] = {1, 1}, b[2] = {2, 2}, c[2] = {3, 3};
	struct xlb_handover *h0 = xlb_ho_next(NULL, a, 2, 0, 600000, all_active, NULL);
	struct xlb_handover *h1 =
		h0 ? xlb_ho_next(h0, b, 2, 60000, 600000, all_active, NULL) : NULL;
	struct xlb_handover *h2 =
		h1 ? xlb_ho_next(h1, c, 2, 61000, 600000, all_active, NULL) : NULL;
	struct xlb_handover *h3 =
		h2 ? xlb_ho_next(h2, a, 2, 200000, 600000, all_active, NULL) : NULL;
	int ok = h3 && h1->slot[0].prev == 1 && h2->slot[0].prev == 1 && h2->slot[1].prev == 1 &&
		 h3->slot[0].prev == 3;

	free(h0);
	free(h1);
	free(h2);
	free(h3);
	ASSERT_TRUE(ok, "A (60 s) -> B (1 s) -> C keeps A; C (139 s) -> A keeps C");
	return 0;
}

/* ---- flow_state switches (handover.h "Switching") ------------------------ */

/* table mode; the handover stays the stateless one's (xlbctl vip set keeps it) */
#define TM(size)                                                                                   \
	"vips:\n  - address: 10.0.0.10\n    port: 80\n    protocol: tcp\n    mode: ipip\n"         \
	"    handover: 5s\n    table_size: " size "\n    check: {type: none}\n    backends:\n"

/* A client's flow to the VIP (10.0.0.10:80/tcp) and its slot. */
static struct xlb_flow_key flow_key(int i)
{
	struct xlb_flow_key k = {
		.sport = htons((__u16)(1024 + i)), .dport = htons(80), .proto = IPPROTO_TCP};

	xlb_addr_parse("10.2.0.1", &k.saddr);
	xlb_addr_parse("10.0.0.10", &k.daddr);
	return k;
}

static __u32 slot_of(struct xlb_sync *s, const struct xlb_flow_key *k)
{
	return xlb_hash_slot(xlb_hash_flow(k, &s->seed), TBL);
}

/* handover.c alone: per slot the backend with the most flows other than
 * the current one (the lower id on a tie); the rest are lost. */
static int t_sw_seed_picks_the_most_flows(void)
{
	__u32 cur[4] = {1, 1, 2, 2}, seeded, lost;
	struct xlb_ho_flow f[] = {{0, 1}, {0, 1}, {1, 3}, {1, 2}, {1, 3}, {1, 2},
				  {1, 2}, {2, 3}, {2, 4}, {3, 2}, {9, 5}};
	struct xlb_handover *h = xlb_ho_seed(cur, 4, f, sizeof(f) / sizeof(f[0]), &seeded, &lost);
	int ok = h && h->slot[0].cur == 1 && h->slot[1].cur == 2 && h->slot[2].cur == 3 &&
		 h->slot[3].cur == 2 && seeded == 2 && lost == 3 && h->with_prev == 0;

	free(h);
	ASSERT_TRUE(ok, "its own backend: nothing; 2 (3 flows) over 3 (2); 3 and 4 tie: 3");
	return 0;
}

/*
 * table -> stateless: flows made while the VIP had b1 and b2 stay in the
 * flow table on their backend after b3 joins (table mode); the switch
 * gives every slot whose flows sit on another backend than its current
 * one that backend as previous hop, and no other slot one. A slot with
 * flows on two other backends keeps the one with more; the other's break.
 */
static int t_sw_to_stateless_seeds_hops_from_the_flow_table(void)
{
	struct xlb_sync *s = h_sync(&D);
	struct xlb_vip_val val = {};
	__u32 two[TBL], old_id, lost_slot = TBL, other = 0;
	const __u32 *t;
	int moved = 0, n = 0, cx = 0;

	memset(&D, 0, sizeof(D));
	ASSERT_OK(h_apply(s, T0, TM("251") B(1) B(2)), "b1, b2 in table mode");
	memcpy(two, table_of(&D, &val), sizeof(two));
	old_id = val.vip_id;
	for (int i = 0; i < NFLOWS - 8; i++, D.nflows++) {
		D.flow[i].k = flow_key(i);
		D.flow[i].id = two[slot_of(s, &D.flow[i].k)];
	}
	ASSERT_OK(h_apply(s, T0 + 1000, TM("251") B(1) B(2) B(3)), "b3 joins, table mode");
	t = table_of(&D, NULL);
	/* a slot that moved to b3 with flows on one backend: two more flows
	 * there, on the other of b1 and b2, win its previous hop */
	for (int i = 0; i < D.nflows && lost_slot == TBL; i++)
		if (t[slot_of(s, &D.flow[i].k)] != D.flow[i].id) {
			lost_slot = slot_of(s, &D.flow[i].k);
			other = D.flow[i].id == id_of(s, 1) ? id_of(s, 2) : id_of(s, 1);
		}
	ASSERT_TRUE(lost_slot < TBL, "a flow sits elsewhere than its slot names");
	for (int i = 0; i < D.nflows; i++) /* all on one backend: that slot's old one */
		cx += slot_of(s, &D.flow[i].k) == lost_slot;
	ASSERT_TRUE(cx > 0 && cx < 8, "a few flows in that slot");
	for (int i = 10000, more = cx + 1; i < 400000 && more; i++) {
		struct xlb_flow_key k = flow_key(i);

		if (slot_of(s, &k) == lost_slot) {
			D.flow[D.nflows].k = k;
			D.flow[D.nflows++].id = other;
			more--;
		}
	}
	ASSERT_EQ(D.nflows, NFLOWS - 8 + cx + 1, "one more flow there on the other backend");

	ASSERT_OK(h_apply(s, T0 + 2000, HO5 B(1) B(2) B(3)), "switch to stateless");
	t = table_of(&D, &val);
	ASSERT_EQ(val.flow_state, XLB_FLOW_STATELESS, "stateless");
	ASSERT_TRUE(val.vip_id != old_id, "under a new id");
	for (int i = 0; i < D.nflows; i++) {
		__u32 e = t[slot_of(s, &D.flow[i].k)];

		if (xlb_ho_cur(e) == D.flow[i].id)
			continue;
		moved++;
		if (slot_of(s, &D.flow[i].k) == lost_slot)
			ASSERT_EQ(xlb_ho_prev(e), other, "the backend with more flows there");
		else
			ASSERT_EQ(xlb_ho_prev(e), D.flow[i].id, "its flow's backend is the hop");
	}
	for (int sl = 0; sl < TBL; sl++) {
		int has = 0;

		for (int i = 0; i < D.nflows && !has; i++)
			has = slot_of(s, &D.flow[i].k) == (__u32)sl &&
			      xlb_ho_cur(t[sl]) != D.flow[i].id;
		n += has;
		if (!has)
			ASSERT_EQ(xlb_ho_prev(t[sl]), 0, "a slot without such flows: no hop");
	}
	ASSERT_TRUE(moved > 100, "about a third of the flows sat elsewhere");
	ASSERT_EQ(s->vips[0].note, XLB_SYNC_SEEDED, "noted");
	ASSERT_EQ(s->vips[0].seeded, (__u32)n, "seeded slots");
	ASSERT_EQ(s->vips[0].ho->with_prev, (__u32)n, "as many hops");
	ASSERT_EQ(s->vips[0].seed_flows, (__u32)D.nflows, "every flow read");
	ASSERT_EQ(s->vips[0].seed_lost, (__u32)cx, "the minority's flows lost");
	ASSERT_EQ(s->wake_ms, T0 + 2000 + 5000, "the seeded hops last the handover");
	xlb_sync_free(s);
	return 0;
}

/* A switch to stateless whose flow table cannot be read is refused and
 * changes nothing; it goes through once it can. */
static int t_sw_unreadable_flow_table_changes_nothing(void)
{
	struct xlb_sync *s = h_sync(&D);
	struct xlb_vip_val val = {}, val2 = {};
	struct xlb_backend be[NB];
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	__u32 before[TBL];

	memset(&D, 0, sizeof(D));
	ASSERT_OK(h_apply(s, T0, TM("251") B(1) B(2) B(3)), "table mode");
	memcpy(before, table_of(&D, &val), sizeof(before));
	memcpy(be, D.be, sizeof(be));
	D.flows_err = -EIO;
	ASSERT_OK(xlb_cfg_load_string("t.yaml", HO5 B(1) B(2) B(3), &c, &err), "config");
	s->now_ms = T0 + 1000;
	ASSERT_TRUE(xlb_sync_apply(s, &c, &err) == -EIO, "refused");
	ASSERT_TRUE(strstr(err.msg, "couldn't switch VIP 10.0.0.10:80/tcp to stateless") != NULL,
		    err.msg);
	ASSERT_EQ(memcmp(before, table_of(&D, &val2), sizeof(before)), 0, "the same table");
	ASSERT_EQ(memcmp(&val, &val2, sizeof(val)), 0, "the same entry");
	ASSERT_EQ(memcmp(be, D.be, sizeof(be)), 0, "the same backend records");
	ASSERT_EQ(s->vips[0].cfg.flow_state, XLB_FLOW_TABLE, "the view: table");
	D.flows_err = 0;
	ASSERT_OK(xlb_sync_apply(s, &c, &err), err.msg);
	table_of(&D, &val2);
	ASSERT_EQ(val2.flow_state, XLB_FLOW_STATELESS, "then it switches");
	xlb_cfg_free(&c);
	xlb_sync_free(s);
	return 0;
}

/*
 * stateless -> table while previous hops live: the entry stays stateless
 * (same id, same table) until the apply after the last hop ended, then
 * switches; an agent restart in between keeps waiting.
 */
static int t_sw_to_table_waits_for_the_previous_hops(void)
{
	struct xlb_programmed_vip pv[NV];
	struct xlb_programmed_backend pb[NB];
	struct xlb_sync *s = h_sync(&D), *s2;
	struct xlb_vip_val val = {};
	__u32 before[TBL], id, gen[4];
	size_t nv = 0, nb = 0;

	memset(&D, 0, sizeof(D));
	ASSERT_OK(h_apply(s, T0, HO5 B(1)), "stateless, b1");
	ASSERT_OK(h_apply(s, T0 + 1000, HO5 B(1) B(2) B(3)), "b2, b3 join");
	memcpy(before, table_of(&D, &val), sizeof(before));
	id = val.vip_id;
	for (int b = 1; b <= 3; b++)
		gen[b] = D.be[id_of(s, b)].gen;
	ASSERT_TRUE(slots_with_prev(before, 0) > 100, "b1 is the previous hop of many slots");
	D.table_writes = 0;
	ASSERT_OK(h_apply(s, T0 + 2000, TM("251") B(1) B(2) B(3)), "switch to table");
	ASSERT_EQ(memcmp(before, table_of(&D, &val), sizeof(before)), 0, "the same table");
	ASSERT_EQ(val.flow_state, XLB_FLOW_STATELESS, "still stateless");
	ASSERT_EQ(val.vip_id, id, "the same id");
	ASSERT_EQ(D.table_writes, 0, "nothing written");
	ASSERT_TRUE(s->vips[0].switching, "switching");
	ASSERT_EQ(s->vips[0].note, XLB_SYNC_DEFERRED, "noted");
	ASSERT_EQ(s->wake_ms, T0 + 1000 + 5000, "wake when the hops end");

	xlb_sync_free(s); /* killed while waiting */
	for (int i = 0; i < NV; i++)
		if (D.vip[i].live)
			pv[nv++] = (struct xlb_programmed_vip){D.vip[i].k, D.vip[i].v};
	for (__u32 b = 1; b < NB; b++)
		if (D.be[b].gen)
			pb[nb++] = (struct xlb_programmed_backend){b, D.be[b]};
	s2 = h_sync(&D);
	ASSERT_OK(xlb_sync_adopt(s2, pv, nv, pb, nb), "adopt");
	ASSERT_OK(h_apply(s2, T0 + 3000, TM("251") B(1) B(2) B(3)), "restarted");
	table_of(&D, &val);
	ASSERT_EQ(val.flow_state, XLB_FLOW_STATELESS, "still waiting after the restart");
	ASSERT_EQ(slots_with_prev(table_of(&D, NULL), 0), slots_with_prev(before, 0), "same hops");
	ASSERT_EQ(s2->wake_ms, T0 + 3000 + 5000, "the handover counted again from the restart");
	ASSERT_OK(h_apply(s2, s2->wake_ms, TM("251") B(1) B(2) B(3)), "the hops end");
	table_of(&D, &val);
	ASSERT_EQ(val.flow_state, XLB_FLOW_STATELESS, "this apply only ends them");
	ASSERT_EQ(slots_with_prev(table_of(&D, NULL), 0), 0, "gone");
	ASSERT_EQ(s2->wake_ms, T0 + 8000, "apply again at once");
	ASSERT_OK(h_apply(s2, T0 + 8200, TM("251") B(1) B(2) B(3)), "the next tick");
	table_of(&D, &val);
	ASSERT_EQ(val.flow_state, XLB_FLOW_TABLE, "table now");
	ASSERT_TRUE(val.vip_id != id, "under a new id");
	ASSERT_EQ(s2->vips[0].note, XLB_SYNC_SWITCHED, "noted");
	ASSERT_TRUE(!s2->vips[0].switching, "done");
	for (int b = 1; b <= 3; b++) /* stale flow-table entries of the VIP miss */
		ASSERT_TRUE(D.be[id_of(s2, b)].gen != gen[b], "a new generation");
	for (int i = 0; i < TBL; i++)
		ASSERT_EQ(table_of(&D, NULL)[i], xlb_ho_cur(before[i]),
			  "plain ids, the same backends");
	xlb_sync_free(s2);
	return 0;
}

const struct harness_case handover_cases[] = {
	{"ho_longer_holder_stays_prev", t_ho_longer_holder_stays_prev},
	{"ho_one_hop_per_slot", t_ho_one_hop_per_slot},
	{"ho_moved_slots_carry_the_old_backend", t_ho_moved_slots_carry_the_old_backend},
	{"ho_prevs_end_with_the_handover", t_ho_prevs_end_with_the_handover},
	{"ho_drained_backend_stays_until_its_drain_ends",
	 t_ho_drained_backend_stays_until_its_drain_ends},
	{"ho_down_backend_cleared_at_once", t_ho_down_backend_cleared_at_once},
	{"ho_deleted_backend_never_leaves_a_recycled_prev",
	 t_ho_deleted_backend_never_leaves_a_recycled_prev},
	{"ho_restart_keeps_previous_hops", t_ho_restart_keeps_previous_hops},
	{"ho_same_history_same_hops", t_ho_same_history_same_hops},
	{"ho_flow_state_change_takes_a_new_id", t_ho_flow_state_change_takes_a_new_id},
	{"sw_seed_picks_the_most_flows", t_sw_seed_picks_the_most_flows},
	{"sw_to_stateless_seeds_hops_from_the_flow_table",
	 t_sw_to_stateless_seeds_hops_from_the_flow_table},
	{"sw_unreadable_flow_table_changes_nothing", t_sw_unreadable_flow_table_changes_nothing},
	{"sw_to_table_waits_for_the_previous_hops", t_sw_to_table_waits_for_the_previous_hops},
};
const size_t handover_ncases = sizeof(handover_cases) / sizeof(handover_cases[0]);
