// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What a sync view writes: backend records, VIP entries, Maglev tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

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
}

void sync_val_of(const struct xlb_sync_vip *v, struct xlb_vip_val *val)
{
	entry_of(&v->cfg, v->id, val);
}

void sync_gone_val(const struct xlb_sync_gone *g, struct xlb_vip_val *val)
{
	entry_of(&g->cfg, g->id, val);
}
