// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A switch table -> stateless: previous hops seeded from the flow table's
 * live flows (handover.h "Switching"). */
#include <errno.h>
#include <stdlib.h>

#include "handover.h"
#include "sync.h"
#include "sync_int.h"
#include "xlb_hash.h"

struct seed_ctx {
	const struct xlb_sync *s;
	const struct xlb_sync_vip *v;
	struct xlb_ho_flow *f;
	size_t n, cap;
};

/* One flow of the VIP: its slot, as the data plane computes it. */
static int seed_one(void *ctx, const struct xlb_flow_key *k, __u32 id)
{
	struct seed_ctx *c = ctx;
	__u32 h = c->v->cfg.hash == XLB_HASH_SRC ? xlb_hash_src(&k->saddr, &c->s->seed)
						 : xlb_hash_flow(k, &c->s->seed);

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct xlb_ho_flow *f = realloc(c->f, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		c->f = f;
		c->cap = cap;
	}
	c->f[c->n++] =
		(struct xlb_ho_flow){.slot = xlb_hash_slot(h, c->v->cfg.table_size), .id = id};
	return 0;
}

int sync_seed(struct xlb_sync *s, struct xlb_sync_vip *v, const __u32 *table,
	      struct xlb_handover **out)
{
	struct seed_ctx c = {.s = s, .v = v};
	__u32 *gen = calloc(XLB_MAX_BACKENDS, sizeof(*gen));
	int ret;

	*out = NULL;
	if (!gen)
		return -ENOMEM;
	/* the VIP's backends that can be a previous hop (ids are per VIP) */
	for (size_t i = 0; i < v->nbackends; i++)
		if (v->backends[i].state != XLB_BE_DOWN && v->backends[i].id < XLB_MAX_BACKENDS)
			gen[v->backends[i].id] = v->backends[i].gen;
	ret = s->sink.flows_each(s->sink.ctx, gen, seed_one, &c);
	free(gen);
	if (!ret) {
		*out = xlb_ho_seed(table, v->cfg.table_size, c.f, c.n, &v->seeded, &v->seed_lost);
		ret = *out ? 0 : -ENOMEM;
	}
	v->seed_flows = (__u32)c.n;
	v->note = XLB_SYNC_SEEDED;
	free(c.f);
	return ret;
}
