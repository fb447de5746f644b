// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What a sync view writes: backend records, VIP entries, Maglev tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "handover.h"
#include "maglev.h"
#include "sync.h"
#include "sync_int.h"
#include "xlb_dp.h"

/* The Maglev identity of a backend: its address. */
static __u64 backend_key(const struct xlb_sync_backend *b)
{
	char a[INET6_ADDRSTRLEN];

	return xlb_maglev_key(xlb_addr_str(&b->cfg.addr, a, sizeof(a)));
}

static int usable(const struct xlb_sync_backend *b)
{
	return b->state == XLB_BE_ACTIVE && b->weight > 0;
}

/* What the table depends on, order-independent: size, (key, id, weight)s. */
__u64 sync_table_fingerprint(const struct xlb_sync_vip *v)
{
	__u64 fp = xlb_mix64(v->cfg.table_size + 1);

	for (size_t i = 0; i < v->nbackends; i++) {
		const struct xlb_sync_backend *b = &v->backends[i];

		if (usable(b))
			fp += xlb_mix64(backend_key(b) ^ ((__u64)b->id << 32 | b->weight));
	}
	return fp;
}

int sync_build_table(struct xlb_sync *s, const struct xlb_sync_vip *v, __u32 *table)
{
	struct xlb_maglev_backend *mb = calloc(v->nbackends ? v->nbackends : 1, sizeof(*mb));
	size_t n = 0;
	int err;

	if (!mb)
		return -ENOMEM;
	for (size_t i = 0; i < v->nbackends; i++) {
		const struct xlb_sync_backend *b = &v->backends[i];

		if (usable(b))
			mb[n++] = (struct xlb_maglev_backend){
				.key = backend_key(b), .id = b->id, .weight = b->weight};
	}
	err = xlb_maglev_build_keyed(mb, n, v->cfg.table_size, &s->seed, table);
	free(mb);
	s->tables_built++;
	return err;
}

void sync_record_of(const struct xlb_sync_vip *v, const struct xlb_sync_backend *b,
		    struct xlb_backend *r)
{
	memset(r, 0, sizeof(*r));
	r->addr = b->cfg.addr;
	memcpy(r->mac, b->mac, 6);
	r->family = b->cfg.family;
	r->state = b->state;
	r->gen = b->gen;
	r->vip_id = (__u16)v->id;
	r->mode = v->cfg.mode;
	r->syn_retry = v->cfg.syn_retry;
}

/* The data-plane entry of the VIP with this configuration and id: one
 * builder, so a VIP in its grace period is put back exactly as written. */
static void entry_of(const struct xlb_cfg_vip *c, __u32 id, struct xlb_vip_val *val)
{
	memset(val, 0, sizeof(*val));
	val->vip_id = id;
	val->table_size = c->table_size;
	val->mode = c->mode;
	val->hash = c->hash;
	val->on_empty = c->on_empty;
	val->reject_rate = c->reject_rate;
	val->flow_state = c->flow_state;
}

void sync_val_of(const struct xlb_sync_vip *v, struct xlb_vip_val *val)
{
	entry_of(&v->cfg, v->id, val);
}

void sync_gone_val(const struct xlb_sync_gone *g, struct xlb_vip_val *val)
{
	entry_of(&g->cfg, g->id, val);
}

int sync_table_of(struct xlb_sync *s, const struct xlb_sync_vip *v, __u32 *table)
{
	if (v->ho && v->ho->size == v->cfg.table_size) {
		xlb_ho_encode(v->ho, table);
		return 0;
	}
	return sync_build_table(s, v, table);
}

/* A VIP's backends by id, for the handover's questions. */
struct hops {
	size_t n;
	struct hop {
		__u32 id, gen;
		int state;
	} * h;
};

static int cmp_hop(const void *a, const void *b)
{
	__u32 x = ((const struct hop *)a)->id, y = ((const struct hop *)b)->id;

	return x < y ? -1 : x > y;
}

static int hop_of(void *ctx, __u32 id, __u32 *gen)
{
	const struct hops *hs = ctx;
	struct hop key = {.id = id}, *h = bsearch(&key, hs->h, hs->n, sizeof(key), cmp_hop);

	*gen = h ? h->gen : 0;
	return h ? h->state : XLB_BE_DOWN; /* not (or no longer) a backend of the VIP */
}

int sync_handover(struct xlb_sync *s, struct xlb_sync_vip *v, const struct xlb_sync_vip *ov,
		  __u32 *table)
{
	struct hops hs = {.h = calloc(v->nbackends ? v->nbackends : 1, sizeof(*hs.h))};
	const struct xlb_handover *old =
		ov && ov->cfg.flow_state == XLB_FLOW_STATELESS ? ov->ho : NULL;
	struct xlb_handover *seeded = NULL;

	if (!hs.h)
		return -ENOMEM;
	/* table -> stateless: the flow table says where connections live */
	if (ov && ov->cfg.flow_state == XLB_FLOW_TABLE && s->sink.flows_each) {
		int ret = sync_seed(s, v, table, &seeded);

		if (ret) {
			free(hs.h);
			return ret;
		}
		old = seeded;
	}
	for (size_t i = 0; i < v->nbackends; i++)
		hs.h[hs.n++] = (struct hop){.id = v->backends[i].id,
					    .gen = v->backends[i].gen,
					    .state = v->backends[i].state};
	qsort(hs.h, hs.n, sizeof(*hs.h), cmp_hop);
	free(v->ho);
	v->ho = xlb_ho_next(old, table, v->cfg.table_size, s->now_ms, xlb_cfg_handover_ms(&v->cfg),
			    hop_of, &hs);
	free(hs.h);
	free(seeded);
	if (!v->ho)
		return -ENOMEM;
	v->ho->inputs = sync_hops_fingerprint(v);
	xlb_ho_encode(v->ho, table);
	return 0;
}

__u64 sync_hops_fingerprint(const struct xlb_sync_vip *v)
{
	__u64 fp = xlb_mix64(xlb_cfg_handover_ms(&v->cfg));

	for (size_t i = 0; i < v->nbackends; i++) {
		const struct xlb_sync_backend *b = &v->backends[i];

		fp += xlb_mix64((__u64)b->id | (__u64)b->state << 16 | (__u64)b->gen << 32);
	}
	return fp;
}

__u64 sync_handover_wake(const struct xlb_sync_vip *nv, size_t n)
{
	__u64 wake = 0;

	for (size_t i = 0; i < n; i++)
		if (nv[i].ho && nv[i].ho->next_end_ms && (!wake || nv[i].ho->next_end_ms < wake))
			wake = nv[i].ho->next_end_ms;
	return wake;
}
