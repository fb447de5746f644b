// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Reconciliation of the data plane with a configuration; see sync.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "maglev.h"
#include "sync.h"
#include "xlb_dp.h"

static int fail(struct xlb_err *err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct xlb_err *err, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return ret;
}

struct xlb_sync *xlb_sync_new(const struct xlb_sink *sink, xlb_resolve_fn resolve, void *ctx)
{
	struct xlb_sync *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->sink = *sink;
	s->resolve = resolve;
	s->resolve_ctx = ctx;
	s->next_gen = 1;
	s->vip_used[0] = 1;		       /* VIP id 0 is never given out */
	s->backend_used[XLB_BACKEND_NONE] = 1; /* backend id 0 means "none" */
	return s;
}

static void free_vips(struct xlb_sync_vip *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].backends);
	free(v);
}

void xlb_sync_free(struct xlb_sync *s)
{
	if (!s)
		return;
	free_vips(s->vips, s->nvips);
	free(s);
}

void xlb_sync_vip_key(const struct xlb_cfg_vip *v, struct xlb_vip_key *k)
{
	memset(k, 0, sizeof(*k));
	k->addr = v->addr;
	k->port = htons(v->port);
	k->proto = v->proto;
}

static int same_key(const struct xlb_cfg_vip *a, const struct xlb_cfg_vip *b)
{
	return !memcmp(&a->addr, &b->addr, sizeof(a->addr)) && a->port == b->port &&
	       a->proto == b->proto;
}

/*
 * Lookups by key in a view: an open-addressing index (slot = position + 1)
 * built once per apply, so reconciling N backends costs O(N), not O(N^2)
 * (10,000 backends: a linear search per backend took most of a core).
 */
struct index {
	size_t *slot;
	size_t n; /* power of two, 0 = no index: search linearly */
};

static size_t hash_key(const union xlb_addr *a, __u32 extra, size_t n)
{
	__u64 h = extra;

	for (int i = 0; i < 4; i++)
		h = xlb_mix64(h ^ a->w[i]);
	return (size_t)h & (n - 1);
}

static __u32 vip_extra(const struct xlb_cfg_vip *c)
{
	return (__u32)c->port << 8 | c->proto;
}

static int index_init(struct index *x, size_t count)
{
	x->n = 16;
	while (x->n < 2 * count)
		x->n *= 2;
	x->slot = calloc(x->n, sizeof(*x->slot));
	return x->slot ? 0 : -ENOMEM;
}

static void index_put(struct index *x, const union xlb_addr *a, __u32 extra, size_t pos)
{
	size_t i = hash_key(a, extra, x->n);

	while (x->slot[i])
		i = (i + 1) & (x->n - 1);
	x->slot[i] = pos + 1;
}

static int index_vips(struct index *x, const struct xlb_sync_vip *v, size_t n)
{
	if (index_init(x, n))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		index_put(x, &v[i].cfg.addr, vip_extra(&v[i].cfg), i);
	return 0;
}

static int index_backends(struct index *x, const struct xlb_sync_vip *v)
{
	if (!v || index_init(x, v->nbackends))
		return v ? -ENOMEM : 0;
	for (size_t i = 0; i < v->nbackends; i++)
		index_put(x, &v->backends[i].cfg.addr, 0, i);
	return 0;
}

static struct xlb_sync_vip *find_vip(struct xlb_sync_vip *v, size_t n, const struct index *x,
				     const struct xlb_cfg_vip *c)
{
	if (!x || !x->n) {
		for (size_t i = 0; i < n; i++)
			if (same_key(&v[i].cfg, c))
				return &v[i];
		return NULL;
	}
	for (size_t i = hash_key(&c->addr, vip_extra(c), x->n); x->slot[i];
	     i = (i + 1) & (x->n - 1))
		if (same_key(&v[x->slot[i] - 1].cfg, c))
			return &v[x->slot[i] - 1];
	return NULL;
}

const struct xlb_sync_vip *xlb_sync_find(const struct xlb_sync *s, const struct xlb_vip_key *k)
{
	for (size_t i = 0; i < s->nvips; i++) {
		struct xlb_vip_key vk;

		xlb_sync_vip_key(&s->vips[i].cfg, &vk);
		if (!memcmp(&vk, k, sizeof(vk)))
			return &s->vips[i];
	}
	return NULL;
}

static struct xlb_sync_backend *find_backend(struct xlb_sync_vip *v, const struct index *x,
					     const union xlb_addr *a)
{
	if (!v)
		return NULL;
	for (size_t i = hash_key(a, 0, x->n); x->slot[i]; i = (i + 1) & (x->n - 1))
		if (!memcmp(&v->backends[x->slot[i] - 1].cfg.addr, a, sizeof(*a)))
			return &v->backends[x->slot[i] - 1];
	return NULL;
}

/* Lowest free id in used[lo..n), marked used; 0 when none is left. */
static __u32 alloc_id(__u8 *used, __u32 n)
{
	for (__u32 i = 1; i < n; i++) {
		if (!used[i]) {
			used[i] = 1;
			return i;
		}
	}
	return 0;
}

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
static __u64 table_fingerprint(const struct xlb_sync_vip *v)
{
	__u64 fp = xlb_mix64(v->cfg.table_size + 1);

	for (size_t i = 0; i < v->nbackends; i++) {
		const struct xlb_sync_backend *b = &v->backends[i];

		if (usable(b))
			fp += xlb_mix64(backend_key(b) ^ ((__u64)b->id << 32 | b->weight));
	}
	return fp;
}

static int build_table(struct xlb_sync *s, const struct xlb_sync_vip *v, __u32 *table)
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
	err = xlb_maglev_build(mb, n, v->cfg.table_size, table);
	free(mb);
	s->tables_built++;
	return err;
}

static void record_of(const struct xlb_sync_vip *v, const struct xlb_sync_backend *b,
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

static void val_of(const struct xlb_sync_vip *v, struct xlb_vip_val *val)
{
	memset(val, 0, sizeof(*val));
	val->vip_id = v->id;
	val->table_size = v->cfg.table_size;
	val->mode = v->cfg.mode;
	val->hash = v->cfg.hash;
	val->on_empty = v->cfg.on_empty;
	val->reject_rate = v->cfg.reject_rate;
}

/* The data plane as a sink: libxlb's calls. */
static int dp_backend_set(void *ctx, __u32 id, const struct xlb_backend *b)
{
	return xlb_dp_backend_set(ctx, id, b);
}

static int dp_vip_set(void *ctx, const struct xlb_vip_key *k, const struct xlb_vip_val *v,
		      const __u32 *table)
{
	return xlb_dp_vip_set(ctx, k, v, table);
}

static int dp_vip_del(void *ctx, const struct xlb_vip_key *k)
{
	return xlb_dp_vip_del(ctx, k);
}

static int dp_tables_swap(void *ctx, size_t n, const __u32 *vip_ids, const __u32 *const *tables,
			  const __u32 *sizes)
{
	return xlb_dp_tables_swap(ctx, n, vip_ids, tables, sizes);
}

void xlb_sync_dp_sink(struct xlb_sink *sink, struct xlb_dp *dp)
{
	*sink = (struct xlb_sink){.ctx = dp,
				  .backend_set = dp_backend_set,
				  .vip_set = dp_vip_set,
				  .vip_del = dp_vip_del,
				  .tables_swap = dp_tables_swap};
}

/*
 * Weights and states of a VIP's backends from admin x health x next hop
 * (b->state says here whether the next hop is known).
 */
static int select_vip(struct xlb_sync *s, struct xlb_sync_vip *v)
{
	struct xlb_hsel_vip hv = {.panic_percent = v->cfg.panic_percent,
				  .slow_start_ms = v->cfg.slow_start_ms};
	size_t n = v->nbackends ? v->nbackends : 1;
	struct xlb_hsel_in *in = calloc(n, sizeof(*in));
	struct xlb_hsel_out *out = calloc(n, sizeof(*out));

	if (!in || !out) {
		free(in);
		free(out);
		return -ENOMEM;
	}
	for (size_t j = 0; j < v->nbackends; j++) {
		struct xlb_sync_backend *b = &v->backends[j];

		in[j] = (struct xlb_hsel_in){.admin = b->cfg.admin,
					     .health = XLB_HEALTH_UP,
					     .backup = b->cfg.backup,
					     .weight = b->cfg.weight};
		if (s->health)
			s->health(s->health_ctx, v, b, &in[j]);
		if (v->cfg.slow_start_ms && in[j].health == XLB_HEALTH_UP &&
		    s->now_ms < in[j].up_since_ms + v->cfg.slow_start_ms)
			s->time_matters = 1;
		if (in[j].admin == XLB_ADMIN_DRAIN && v->cfg.drain_timeout_ms)
			s->time_matters = 1;
		b->health = in[j].health;
		if (b->state == XLB_BE_DOWN) /* no next hop: as good as dead */
			in[j].health = XLB_HEALTH_DOWN;
	}
	v->panic = (__u8)xlb_health_select(&hv, in, out, v->nbackends, s->now_ms);
	v->in_table = 0;
	for (size_t j = 0; j < v->nbackends; j++) {
		struct xlb_sync_backend *b = &v->backends[j];
		int reachable = b->state != XLB_BE_DOWN;

		/* Panic may put back a backend we cannot reach: it stays out. */
		b->weight = reachable ? out[j].weight : 0;
		b->state = reachable ? out[j].state : XLB_BE_DOWN;
		v->in_table += b->weight > 0 && b->state == XLB_BE_ACTIVE;
	}
	free(in);
	free(out);
	return 0;
}

/* Build the desired view: ids kept or given out, next hops resolved. */
static int plan(struct xlb_sync *s, const struct xlb_cfg *cfg, struct xlb_sync_vip *nv,
		struct xlb_err *err)
{
	struct index vx = {}, bx = {};
	char vn[80];
	int ret = index_vips(&vx, s->vips, s->nvips);

	s->time_matters = 0;
	for (size_t i = 0; !ret && i < cfg->nvips; i++) {
		const struct xlb_cfg_vip *c = &cfg->vips[i];
		struct xlb_sync_vip *old = find_vip(s->vips, s->nvips, &vx, c), *v = &nv[i];

		v->cfg = *c;
		v->cfg.backends = NULL;
		v->cfg.nbackends = 0;
		v->prev = old;
		v->id = old ? old->id : alloc_id(s->vip_used, XLB_MAX_VIPS);
		if (!v->id) {
			ret = fail(err, -ENOSPC, "no VIP id left for %s",
				   xlb_cfg_vip_name(c, vn, sizeof(vn)));
			break;
		}
		v->backends = calloc(c->nbackends ? c->nbackends : 1, sizeof(*v->backends));
		free(bx.slot);
		bx = (struct index){};
		if (!v->backends || index_backends(&bx, old)) {
			ret = -ENOMEM;
			break;
		}
		for (size_t j = 0; j < c->nbackends; j++, v->nbackends++) {
			struct xlb_sync_backend *b = &v->backends[j];
			struct xlb_sync_backend *ob = find_backend(old, &bx, &c->backends[j].addr);

			b->cfg = c->backends[j];
			b->prev = ob;
			b->id = ob ? ob->id : alloc_id(s->backend_used, XLB_MAX_BACKENDS);
			b->gen = ob ? ob->gen : s->next_gen++;
			if (!b->id) {
				ret = fail(err, -ENOSPC, "no backend id left in VIP %s",
					   xlb_cfg_vip_name(c, vn, sizeof(vn)));
				break;
			}
			b->admin_since_ms = ob && ob->cfg.admin == b->cfg.admin ? ob->admin_since_ms
										: s->now_ms;
			b->resolve_err = s->resolve(s->resolve_ctx, &b->cfg.addr, b->mac);
			b->state = b->resolve_err ? XLB_BE_DOWN : XLB_BE_ACTIVE;
			/* Still resolving (e.g. a stale entry being refreshed, or the
			 * first look after a restart): keep a MAC we had, so a
			 * transient state of the neighbour table never moves flows. */
			if (b->resolve_err == -EAGAIN && ob && ob->state != XLB_BE_DOWN) {
				memcpy(b->mac, ob->mac, 6);
				b->state = XLB_BE_ACTIVE;
			}
		}
		ret = ret ?: select_vip(s, v);
	}
	free(vx.slot);
	free(bx.slot);
	return ret;
}

static int backend_changed(const struct xlb_sync_vip *v, const struct xlb_sync_backend *b)
{
	struct xlb_backend x, y;

	if (!b->prev)
		return 1;
	record_of(v, b, &x);
	record_of(v->prev, b->prev, &y);
	return memcmp(&x, &y, sizeof(x)) != 0;
}

/* Program backend records of the new view whose state is `state`. */
static int put_backends(struct xlb_sync *s, struct xlb_sync_vip *nv, size_t n, __u8 state,
			struct xlb_err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct xlb_sync_vip *v = &nv[i];

		for (size_t j = 0; j < v->nbackends; j++) {
			struct xlb_sync_backend *b = &v->backends[j];
			struct xlb_backend r;
			int ret;

			if (b->state != state || !backend_changed(v, b))
				continue;
			record_of(v, b, &r);
			ret = s->sink.backend_set(s->sink.ctx, b->id, &r);
			if (ret)
				return fail(err, ret, "couldn't program backend %u: %s", b->id,
					    strerror(-ret));
		}
	}
	return 0;
}

#define SWAP_BATCH 64 /* tables held in memory for one batch update */

struct swap_batch {
	size_t n;
	__u32 ids[SWAP_BATCH], sizes[SWAP_BATCH];
	__u32 *tables[SWAP_BATCH];
};

static int flush_batch(struct xlb_sync *s, struct swap_batch *b, struct xlb_err *err)
{
	int ret = b->n ? s->sink.tables_swap(s->sink.ctx, b->n, b->ids,
					     (const __u32 *const *)b->tables, b->sizes)
		       : 0;

	if (ret)
		fail(err, ret, "couldn't swap %zu tables: %s", b->n, strerror(-ret));
	for (size_t i = 0; i < b->n; i++)
		free(b->tables[i]);
	b->n = 0;
	return ret;
}

/*
 * Tables and VIP entries that changed. A VIP whose entry stays the same
 * and whose table changed (the usual case: health moved a backend) joins
 * a batch swapped in one update; the others go through vip_set.
 */
static int put_vips(struct xlb_sync *s, struct xlb_sync_vip *nv, size_t n, struct xlb_err *err)
{
	struct swap_batch *batch = s->sink.tables_swap ? calloc(1, sizeof(*batch)) : NULL;
	int ret = 0;
	char vn[80];

	for (size_t i = 0; i < n && !ret; i++) {
		struct xlb_sync_vip *v = &nv[i];
		const struct xlb_sync_vip *ov = v->prev;
		struct xlb_vip_val val, oval;
		struct xlb_vip_key k;
		__u32 *table;
		int same_entry = 0;

		v->table_fp = table_fingerprint(v);
		val_of(v, &val);
		if (ov) {
			val_of(ov, &oval);
			same_entry = !memcmp(&val, &oval, sizeof(val));
			if (ov->table_fp == v->table_fp && same_entry)
				continue; /* nothing of this VIP changed */
		}
		table = calloc(v->cfg.table_size, sizeof(*table));
		if (!table) {
			ret = -ENOMEM;
			break;
		}
		ret = build_table(s, v, table);
		if (!ret && batch && same_entry) {
			batch->ids[batch->n] = v->id;
			batch->sizes[batch->n] = v->cfg.table_size;
			batch->tables[batch->n++] = table;
			if (batch->n == SWAP_BATCH)
				ret = flush_batch(s, batch, err);
			continue;
		}
		xlb_sync_vip_key(&v->cfg, &k);
		ret = ret ?: s->sink.vip_set(s->sink.ctx, &k, &val, table);
		if (ret)
			fail(err, ret, "couldn't program VIP %s: %s",
			     xlb_cfg_vip_name(&v->cfg, vn, sizeof(vn)), strerror(-ret));
		free(table);
	}
	if (batch) {
		if (!ret)
			ret = flush_batch(s, batch, err);
		for (size_t i = 0; i < batch->n; i++)
			free(batch->tables[i]);
		free(batch);
	}
	return ret;
}

/* Old VIPs and backends that the new view no longer has: out, DOWN, freed. */
static int retire(struct xlb_sync *s, struct xlb_sync_vip *nv, size_t n, struct xlb_err *err)
{
	struct index vx = {}, bx = {};
	int ret = index_vips(&vx, nv, n);

	for (size_t i = 0; !ret && i < s->nvips; i++) {
		struct xlb_sync_vip *ov = &s->vips[i], *v = find_vip(nv, n, &vx, &ov->cfg);
		struct xlb_vip_key k;

		free(bx.slot);
		bx = (struct index){};
		if (index_backends(&bx, v)) {
			ret = -ENOMEM;
			break;
		}
		if (!v) {
			xlb_sync_vip_key(&ov->cfg, &k);
			ret = s->sink.vip_del(s->sink.ctx, &k);
			if (ret && ret != -ENOENT) {
				fail(err, ret, "couldn't delete a VIP: %s", strerror(-ret));
				break;
			}
			ret = 0;
			s->vip_used[ov->id] = 0;
		}
		for (size_t j = 0; !ret && j < ov->nbackends; j++) {
			struct xlb_sync_backend *ob = &ov->backends[j];
			struct xlb_backend r;

			if (find_backend(v, &bx, &ob->cfg.addr))
				continue;
			record_of(ov, ob, &r);
			r.state = XLB_BE_DOWN;
			ret = s->sink.backend_set(s->sink.ctx, ob->id, &r);
			if (ret)
				fail(err, ret, "couldn't retire backend %u: %s", ob->id,
				     strerror(-ret));
			else
				s->backend_used[ob->id] = 0;
		}
	}
	free(vx.slot);
	free(bx.slot);
	return ret;
}

int xlb_sync_apply(struct xlb_sync *s, const struct xlb_cfg *cfg, struct xlb_err *err)
{
	struct xlb_sync_vip *nv = calloc(cfg->nvips ? cfg->nvips : 1, sizeof(*nv));
	int ret;

	if (!nv)
		return -ENOMEM;
	ret = plan(s, cfg, nv, err);
	/* Records first, tables next, then what leaves the tables drains or goes
	 * DOWN. */
	ret = ret ?: put_backends(s, nv, cfg->nvips, XLB_BE_ACTIVE, err);
	ret = ret ?: put_vips(s, nv, cfg->nvips, err);
	ret = ret ?: put_backends(s, nv, cfg->nvips, XLB_BE_DRAINING, err);
	ret = ret ?: put_backends(s, nv, cfg->nvips, XLB_BE_DOWN, err);
	ret = ret ?: retire(s, nv, cfg->nvips, err);
	if (ret) {
		/* Give back ids this plan took; keep the view that is programmed. */
		for (size_t i = 0; i < cfg->nvips; i++) {
			struct xlb_sync_vip *v = &nv[i];

			if (!v->prev && v->id)
				s->vip_used[v->id] = 0;
			for (size_t j = 0; j < v->nbackends; j++)
				if (!v->backends[j].prev)
					s->backend_used[v->backends[j].id] = 0;
		}
		free_vips(nv, cfg->nvips);
		return ret;
	}
	/* The programmed view they point into goes now. */
	for (size_t i = 0; i < cfg->nvips; i++) {
		nv[i].prev = NULL;
		for (size_t j = 0; j < nv[i].nbackends; j++)
			nv[i].backends[j].prev = NULL;
	}
	free_vips(s->vips, s->nvips);
	s->vips = nv;
	s->nvips = cfg->nvips;
	return 0;
}

int xlb_sync_adopt(struct xlb_sync *s, const struct xlb_programmed_vip *vips, size_t nvips,
		   const struct xlb_programmed_backend *bes, size_t nbes)
{
	struct xlb_sync_vip *v = calloc(nvips ? nvips : 1, sizeof(*v));

	if (!v || s->nvips) {
		free(v);
		return v ? -EBUSY : -ENOMEM;
	}
	for (size_t i = 0; i < nvips; i++) {
		const struct xlb_programmed_vip *p = &vips[i];
		struct xlb_sync_vip *sv = &v[i];

		sv->cfg.addr = p->key.addr;
		sv->cfg.family = xlb_addr_is_v4(&p->key.addr) ? XLB_AF_INET : XLB_AF_INET6;
		sv->cfg.port = ntohs(p->key.port);
		sv->cfg.proto = p->key.proto;
		sv->cfg.mode = p->val.mode;
		sv->cfg.hash = p->val.hash;
		sv->cfg.on_empty = p->val.on_empty;
		sv->cfg.reject_rate = p->val.reject_rate;
		sv->cfg.table_size = p->val.table_size;
		sv->id = p->val.vip_id;
		sv->table_fp = 0; /* unknown: the first apply rebuilds it (same table) */
		s->vip_used[sv->id % XLB_MAX_VIPS] = 1;
		sv->backends = calloc(nbes ? nbes : 1, sizeof(*sv->backends));
		if (!sv->backends) {
			free_vips(v, i + 1);
			return -ENOMEM;
		}
		for (size_t j = 0; j < nbes; j++) {
			const struct xlb_programmed_backend *pb = &bes[j];
			struct xlb_sync_backend *b = &sv->backends[sv->nbackends];

			if (pb->b.vip_id != sv->id || pb->b.state == XLB_BE_DOWN ||
			    pb->id >= XLB_MAX_BACKENDS)
				continue;
			b->cfg.addr = pb->b.addr;
			b->cfg.family = pb->b.family;
			b->id = pb->id;
			b->gen = pb->b.gen;
			b->state = pb->b.state;
			memcpy(b->mac, pb->b.mac, 6);
			s->backend_used[b->id] = 1;
			sv->nbackends++;
		}
	}
	for (size_t j = 0; j < nbes; j++)
		if (bes[j].b.gen >= s->next_gen)
			s->next_gen = bes[j].b.gen + 1;
	s->vips = v;
	s->nvips = nvips;
	return 0;
}
