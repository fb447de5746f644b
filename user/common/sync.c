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
	free(s->gone);
	free(s->quar);
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

const struct xlb_sync_gone *xlb_sync_find_gone(const struct xlb_sync *s,
					       const struct xlb_vip_key *k)
{
	for (size_t i = 0; i < s->ngone; i++) {
		struct xlb_vip_key gk;

		xlb_sync_vip_key(&s->gone[i].cfg, &gk);
		if (!memcmp(&gk, k, sizeof(gk)))
			return &s->gone[i];
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
	err = xlb_maglev_build_keyed(mb, n, v->cfg.table_size, &s->seed, table);
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

static int dp_backend_get(void *ctx, __u32 id, struct xlb_backend *b)
{
	return xlb_dp_backend_get(ctx, id, b);
}

static int dp_table_get(void *ctx, __u32 vip_id, __u32 size, __u32 *table)
{
	return xlb_dp_table_get(ctx, vip_id, size, table);
}

void xlb_sync_dp_sink(struct xlb_sink *sink, struct xlb_dp *dp)
{
	*sink = (struct xlb_sink){.ctx = dp,
				  .backend_set = dp_backend_set,
				  .vip_set = dp_vip_set,
				  .vip_del = dp_vip_del,
				  .tables_swap = dp_tables_swap,
				  .backend_get = dp_backend_get,
				  .table_get = dp_table_get};
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

/* ---- one apply as a transaction ----------------------------------------
 *
 * Every write to the sink is preceded by an undo entry that puts back what
 * was there before; a failed step replays the log in reverse. The forward
 * order is safe for packets (records before the tables that name them,
 * tables before a record leaves ACTIVE), and the reverse of a safe order is
 * safe too: a table stops naming a record before the record goes back to
 * DOWN, and a record is ACTIVE again before an old table names it again.
 * Undo entries are idempotent, so one written before a write that then
 * failed half way does no harm.
 */

enum undo_kind {
	UNDO_BACKEND, /* put record `rec` back at id */
	UNDO_TABLE,   /* put the old table back (entry unchanged) */
	UNDO_VIP_PUT, /* put entry `val` and the old table back */
	UNDO_VIP_DEL, /* remove a VIP that was not there */
};

struct undo {
	__u8 kind;
	__u32 id; /* UNDO_BACKEND */
	struct xlb_backend rec;
	struct xlb_vip_key key;
	struct xlb_vip_val val;
	/* The old table: rebuilt from `from` (the programmed view), or this
	 * copy read back (an adopted VIP: we never built its table), or,
	 * neither, an empty one (a VIP in its grace period). */
	const struct xlb_sync_vip *from;
	__u32 *saved;
};

struct txn {
	struct undo *log;
	size_t n, cap;
	struct xlb_sync_gone *gone; /* the grace list after this apply */
	size_t ngone;
	struct xlb_sync_quar *freed; /* ids this apply gives back */
	size_t nfreed, capfreed;
};

static int undo_push(struct txn *t, const struct undo *u)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		void *n = realloc(t->log, cap * sizeof(*t->log));

		if (!n) {
			free(u->saved);
			return -ENOMEM;
		}
		t->log = n;
		t->cap = cap;
	}
	t->log[t->n++] = *u;
	return 0;
}

static int txn_free_id(struct txn *t, __u32 id, int vip)
{
	if (t->nfreed == t->capfreed) {
		size_t cap = t->capfreed ? t->capfreed * 2 : 64;
		void *n = realloc(t->freed, cap * sizeof(*t->freed));

		if (!n)
			return -ENOMEM;
		t->freed = n;
		t->capfreed = cap;
	}
	t->freed[t->nfreed++] = (struct xlb_sync_quar){.id = id, .vip = (__u8)vip};
	return 0;
}

static void txn_release(struct txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->log[i].saved);
	free(t->log);
	free(t->gone);
	free(t->freed);
}

/* Before record `id` is written: how to put back what it holds. */
static int undo_backend(struct xlb_sync *s, struct txn *t, __u32 id,
			const struct xlb_backend *prior)
{
	struct undo u = {.kind = UNDO_BACKEND, .id = id};
	int ret = 0;

	if (prior)
		u.rec = *prior;
	else if (s->sink.backend_get) /* a new id: whatever it held (DOWN, or unset) */
		ret = s->sink.backend_get(s->sink.ctx, id, &u.rec);
	return ret ?: undo_push(t, &u);
}

static void gone_val(const struct xlb_sync_gone *g, struct xlb_vip_val *val)
{
	memset(val, 0, sizeof(*val));
	val->vip_id = g->id;
	val->table_size = g->cfg.table_size;
	val->mode = g->cfg.mode;
	val->hash = g->cfg.hash;
	val->on_empty = g->cfg.on_empty;
}

/* Before VIP ov's table is replaced: how to get it back. */
static int undo_vip(struct xlb_sync *s, struct txn *t, __u8 kind, const struct xlb_sync_vip *ov)
{
	struct undo u = {.kind = kind};
	int ret;

	xlb_sync_vip_key(&ov->cfg, &u.key);
	val_of(ov, &u.val);
	u.from = ov;
	if (!ov->table_fp && s->sink.table_get) {
		/* Adopted: the table is the one the last xlbd built; read it. */
		u.from = NULL;
		u.saved = calloc(ov->cfg.table_size, sizeof(*u.saved));
		if (!u.saved)
			return -ENOMEM;
		ret = s->sink.table_get(s->sink.ctx, ov->id, ov->cfg.table_size, u.saved);
		if (ret) {
			free(u.saved);
			return ret;
		}
	}
	return undo_push(t, &u);
}

static int old_table(struct xlb_sync *s, const struct undo *u, __u32 **out)
{
	__u32 *table = calloc(u->val.table_size, sizeof(*table));
	int ret = 0;

	if (!table)
		return -ENOMEM;
	if (u->saved)
		memcpy(table, u->saved, u->val.table_size * sizeof(*table));
	else if (u->from)
		ret = build_table(s, u->from, table);
	if (ret)
		free(table);
	else
		*out = table;
	return ret;
}

/* Replay the log backwards; returns how many undo writes failed. */
static int rollback(struct xlb_sync *s, struct txn *t)
{
	int failed = 0;

	for (size_t i = t->n; i-- > 0;) {
		const struct undo *u = &t->log[i];
		__u32 *table = NULL;
		int ret;

		switch (u->kind) {
		case UNDO_BACKEND:
			ret = s->sink.backend_set(s->sink.ctx, u->id, &u->rec);
			break;
		case UNDO_VIP_DEL:
			ret = s->sink.vip_del(s->sink.ctx, &u->key);
			ret = ret == -ENOENT ? 0 : ret;
			break;
		default:
			ret = old_table(s, u, &table);
			if (!ret && u->kind == UNDO_TABLE && s->sink.tables_swap)
				ret = s->sink.tables_swap(s->sink.ctx, 1, &u->val.vip_id,
							  (const __u32 *const *)&table,
							  &u->val.table_size);
			else if (!ret)
				ret = s->sink.vip_set(s->sink.ctx, &u->key, &u->val, table);
			free(table);
		}
		failed += ret != 0;
	}
	return failed;
}

/* ---- plan and steps ------------------------------------------------------ */

static const struct xlb_sync_gone *find_gone(const struct xlb_sync *s, const struct xlb_cfg_vip *c)
{
	for (size_t i = 0; i < s->ngone; i++)
		if (same_key(&s->gone[i].cfg, c))
			return &s->gone[i];
	return NULL;
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
		/* Back within its grace period: it takes its reserved id again. */
		v->grave = old ? NULL : find_gone(s, c);
		v->id = old	   ? old->id
			: v->grave ? v->grave->id
				   : alloc_id(s->vip_used, XLB_MAX_VIPS);
		if (!v->id) {
			ret = fail(err, -ENOSPC, "no VIP id left for %s (%zu in quarantine)",
				   xlb_cfg_vip_name(c, vn, sizeof(vn)), s->nquar);
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
				ret = fail(err, -ENOSPC,
					   "no backend id left in VIP %s (%zu in quarantine)",
					   xlb_cfg_vip_name(c, vn, sizeof(vn)), s->nquar);
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
static int put_backends(struct xlb_sync *s, struct txn *t, struct xlb_sync_vip *nv, size_t n,
			__u8 state, struct xlb_err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct xlb_sync_vip *v = &nv[i];

		for (size_t j = 0; j < v->nbackends; j++) {
			struct xlb_sync_backend *b = &v->backends[j];
			struct xlb_backend r, prior;
			int ret;

			if (b->state != state || !backend_changed(v, b))
				continue;
			if (b->prev)
				record_of(v->prev, b->prev, &prior);
			record_of(v, b, &r);
			ret = undo_backend(s, t, b->id, b->prev ? &prior : NULL)
				      ?: s->sink.backend_set(s->sink.ctx, b->id, &r);
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

/* Swap in a VIP's table whose entry stays as it is: in a batch when the
 * sink takes batches (the batch owns `table` then), else on its own. */
static int swap_table(struct xlb_sync *s, struct swap_batch *batch, const struct xlb_vip_key *k,
		      const struct xlb_vip_val *val, __u32 *table, struct xlb_err *err)
{
	int ret;

	if (batch) {
		batch->ids[batch->n] = val->vip_id;
		batch->sizes[batch->n] = val->table_size;
		batch->tables[batch->n++] = table;
		return batch->n == SWAP_BATCH ? flush_batch(s, batch, err) : 0;
	}
	ret = s->sink.vip_set(s->sink.ctx, k, val, table);
	free(table);
	return ret ? fail(err, ret, "couldn't swap a table: %s", strerror(-ret)) : 0;
}

static int end_batch(struct xlb_sync *s, struct swap_batch *batch, int ret, struct xlb_err *err)
{
	if (!batch)
		return ret;
	if (!ret)
		ret = flush_batch(s, batch, err);
	for (size_t i = 0; i < batch->n; i++)
		free(batch->tables[i]);
	free(batch);
	return ret;
}

/*
 * Tables and VIP entries that changed. A VIP whose entry stays the same
 * and whose table changed (the usual case: health moved a backend) joins
 * a batch swapped in one update; the others go through vip_set.
 */
static int put_vips(struct xlb_sync *s, struct txn *t, struct xlb_sync_vip *nv, size_t n,
		    struct xlb_err *err)
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
		xlb_sync_vip_key(&v->cfg, &k);
		table = calloc(v->cfg.table_size, sizeof(*table));
		ret = table ? build_table(s, v, table) : -ENOMEM;
		if (!ret && ov && !ov->table_fp && s->sink.table_get) {
			/* Adopted: the table the last xlbd built. The same (a
			 * restart): nothing to write. Else keep it for a rollback. */
			struct undo u = {.kind = same_entry ? UNDO_TABLE : UNDO_VIP_PUT, .key = k};

			u.val = oval;
			u.saved = calloc(ov->cfg.table_size, sizeof(*u.saved));
			ret = u.saved ? s->sink.table_get(s->sink.ctx, ov->id, ov->cfg.table_size,
							  u.saved)
				      : -ENOMEM;
			if (!ret && same_entry &&
			    !memcmp(u.saved, table, v->cfg.table_size * sizeof(*table))) {
				free(u.saved);
				free(table);
				continue;
			}
			if (ret)
				free(u.saved);
			else
				ret = undo_push(t, &u);
		} else if (!ret && ov) {
			ret = undo_vip(s, t, same_entry ? UNDO_TABLE : UNDO_VIP_PUT, ov);
		} else if (!ret && v->grave) { /* back to its grace-period entry */
			struct undo u = {.kind = UNDO_VIP_PUT, .key = k};

			gone_val(v->grave, &u.val);
			ret = undo_push(t, &u);
		} else if (!ret) {
			ret = undo_push(t, &(struct undo){.kind = UNDO_VIP_DEL, .key = k});
		}
		if (ret) {
			free(table);
			break;
		}
		if (ov && same_entry) {
			ret = swap_table(s, batch, &k, &val, table, err);
			continue;
		}
		ret = s->sink.vip_set(s->sink.ctx, &k, &val, table);
		if (ret)
			fail(err, ret, "couldn't program VIP %s: %s",
			     xlb_cfg_vip_name(&v->cfg, vn, sizeof(vn)), strerror(-ret));
		free(table);
	}
	return end_batch(s, batch, ret, err);
}

/*
 * What the new view no longer has. VIPs first: a deleted one keeps its
 * entry with an empty table for its grace period (packets get its on_empty
 * answer, its id stays reserved), or loses it at once without one; grace
 * periods that ended end now. Then the backends that left: DOWN, ids freed.
 */
static int retire(struct xlb_sync *s, struct txn *t, const struct xlb_cfg *cfg,
		  struct xlb_sync_vip *nv, size_t n, struct xlb_err *err)
{
	struct swap_batch *batch = s->sink.tables_swap ? calloc(1, sizeof(*batch)) : NULL;
	struct index vx = {}, bx = {};
	int ret = index_vips(&vx, nv, n);
	size_t cap = s->ngone + s->nvips;

	t->gone = calloc(cap ? cap : 1, sizeof(*t->gone));
	ret = ret ?: t->gone ? 0 : -ENOMEM;
	for (size_t i = 0; !ret && i < s->ngone; i++) {
		const struct xlb_sync_gone *g = &s->gone[i];
		struct undo u = {.kind = UNDO_VIP_PUT};

		if (find_vip(nv, n, &vx, &g->cfg))
			continue; /* back: the new view has its id */
		/* A shorter deleted_vip_grace (0: off) shortens running ones. */
		if (s->now_ms < g->until_ms &&
		    s->now_ms < g->until_ms - g->grace_ms + cfg->deleted_vip_grace_ms) {
			t->gone[t->ngone++] = *g;
			continue;
		}
		xlb_sync_vip_key(&g->cfg, &u.key);
		gone_val(g, &u.val);
		ret = undo_push(t, &u) ?: s->sink.vip_del(s->sink.ctx, &u.key);
		ret = ret == -ENOENT ? 0 : ret;
		ret = ret ?: txn_free_id(t, g->id, 1);
		if (ret)
			fail(err, ret, "couldn't delete a VIP: %s", strerror(-ret));
	}
	for (size_t i = 0; !ret && i < s->nvips; i++) {
		struct xlb_sync_vip *ov = &s->vips[i];
		struct xlb_sync_gone *g = &t->gone[t->ngone];
		struct xlb_vip_val val;
		struct xlb_vip_key k;
		__u32 *empty;

		if (find_vip(nv, n, &vx, &ov->cfg))
			continue;
		xlb_sync_vip_key(&ov->cfg, &k);
		if (!cfg->deleted_vip_grace_ms) {
			ret = undo_vip(s, t, UNDO_VIP_PUT, ov) ?: s->sink.vip_del(s->sink.ctx, &k);
			ret = ret == -ENOENT ? 0 : ret;
			ret = ret ?: txn_free_id(t, ov->id, 1);
			if (ret)
				fail(err, ret, "couldn't delete a VIP: %s", strerror(-ret));
			continue;
		}
		*g = (struct xlb_sync_gone){.cfg = ov->cfg,
					    .id = ov->id,
					    .until_ms = s->now_ms + cfg->deleted_vip_grace_ms,
					    .grace_ms = cfg->deleted_vip_grace_ms};
		g->cfg.backends = NULL;
		g->cfg.nbackends = 0;
		t->ngone++;
		if (!ov->table_fp && !ov->nbackends)
			continue; /* adopted in its grace period: empty already */
		val_of(ov, &val);
		empty = calloc(ov->cfg.table_size, sizeof(*empty));
		ret = empty ? undo_vip(s, t, UNDO_TABLE, ov) : -ENOMEM;
		if (ret)
			free(empty);
		else
			ret = swap_table(s, batch, &k, &val, empty, err);
	}
	ret = end_batch(s, batch, ret, err);
	for (size_t i = 0; !ret && i < s->nvips; i++) {
		struct xlb_sync_vip *ov = &s->vips[i], *v = find_vip(nv, n, &vx, &ov->cfg);

		free(bx.slot);
		bx = (struct index){};
		if (index_backends(&bx, v)) {
			ret = -ENOMEM;
			break;
		}
		for (size_t j = 0; !ret && j < ov->nbackends; j++) {
			struct xlb_sync_backend *ob = &ov->backends[j];
			struct xlb_backend r, prior;

			if (find_backend(v, &bx, &ob->cfg.addr))
				continue;
			record_of(ov, ob, &prior);
			r = prior;
			r.state = XLB_BE_DOWN;
			ret = undo_backend(s, t, ob->id, &prior) ?:
				s->sink.backend_set(s->sink.ctx, ob->id, &r) ?:
				txn_free_id(t, ob->id, 0);
			if (ret)
				fail(err, ret, "couldn't retire backend %u: %s", ob->id,
				     strerror(-ret));
		}
	}
	free(vx.slot);
	free(bx.slot);
	return ret;
}

/* Ids freed at least XLB_SYNC_ID_QUARANTINE_MS ago can be given out again. */
static void release_ids(struct xlb_sync *s)
{
	for (size_t i = 0; i < s->nquar;) {
		const struct xlb_sync_quar *q = &s->quar[i];

		if (s->now_ms < q->since_ms + XLB_SYNC_ID_QUARANTINE_MS) {
			i++;
			continue;
		}
		if (q->vip)
			s->vip_used[q->id] = 0;
		else
			s->backend_used[q->id] = 0;
		s->quar[i] = s->quar[--s->nquar];
	}
}

/* Ids go into quarantine (they stay marked used). */
static void quarantine(struct xlb_sync *s, const struct xlb_sync_quar *q, size_t n)
{
	if (s->nquar + n > s->capquar) {
		size_t cap = s->capquar ? s->capquar : 64;
		void *p;

		while (cap < s->nquar + n)
			cap *= 2;
		p = realloc(s->quar, cap * sizeof(*s->quar));
		if (!p)
			return; /* out of memory: the ids stay used, lost but safe */
		s->quar = p;
		s->capquar = cap;
	}
	for (size_t i = 0; i < n; i++) {
		s->quar[s->nquar] = q[i];
		s->quar[s->nquar++].since_ms = s->now_ms;
	}
}

/* A failed apply: the ids its plan took were named in the data plane for a
 * while; they wait like freed ones (or, if the rollback failed, stay used:
 * something may still name them). */
static void give_back(struct xlb_sync *s, struct xlb_sync_vip *nv, size_t n, int rolled_back)
{
	for (size_t i = 0; rolled_back && i < n; i++) {
		const struct xlb_sync_vip *v = &nv[i];

		if (!v->prev && !v->grave && v->id)
			quarantine(s, &(struct xlb_sync_quar){.id = v->id, .vip = 1}, 1);
		for (size_t j = 0; j < v->nbackends; j++)
			if (!v->backends[j].prev && v->backends[j].id)
				quarantine(s, &(struct xlb_sync_quar){.id = v->backends[j].id}, 1);
	}
}

/* When the first grace period ends (0: none runs). */
static __u64 grace_wake(const struct xlb_sync *s)
{
	__u64 wake = 0;

	for (size_t i = 0; i < s->ngone; i++)
		if (!wake || s->gone[i].until_ms < wake)
			wake = s->gone[i].until_ms;
	return wake;
}

int xlb_sync_apply(struct xlb_sync *s, const struct xlb_cfg *cfg, struct xlb_err *err)
{
	struct xlb_sync_vip *nv = calloc(cfg->nvips ? cfg->nvips : 1, sizeof(*nv));
	struct txn t = {};
	int ret, failed;

	if (!nv)
		return -ENOMEM;
	release_ids(s);
	ret = plan(s, cfg, nv, err);
	/* Records first, tables next, then what leaves the tables drains or goes
	 * DOWN. */
	ret = ret ?: put_backends(s, &t, nv, cfg->nvips, XLB_BE_ACTIVE, err);
	ret = ret ?: put_vips(s, &t, nv, cfg->nvips, err);
	ret = ret ?: put_backends(s, &t, nv, cfg->nvips, XLB_BE_DRAINING, err);
	ret = ret ?: put_backends(s, &t, nv, cfg->nvips, XLB_BE_DOWN, err);
	ret = ret ?: retire(s, &t, cfg, nv, cfg->nvips, err);
	if (ret) {
		/* Back to exactly what was programmed; the view stays as it was. */
		failed = rollback(s, &t);
		s->rollbacks++;
		if (!err->msg[0])
			fail(err, ret, "couldn't apply: %s", strerror(-ret));
		if (failed) {
			size_t l = strlen(err->msg);

			s->dirty = 1;
			snprintf(err->msg + l, sizeof(err->msg) - l,
				 "; rolling back failed too (%d writes): restart xlbd to reconcile",
				 failed);
		}
		give_back(s, nv, cfg->nvips, !failed);
		s->wake_ms = grace_wake(s);
		txn_release(&t);
		free_vips(nv, cfg->nvips);
		return ret;
	}
	/* The programmed view they point into goes now. */
	for (size_t i = 0; i < cfg->nvips; i++) {
		nv[i].prev = NULL;
		nv[i].grave = NULL;
		for (size_t j = 0; j < nv[i].nbackends; j++)
			nv[i].backends[j].prev = NULL;
	}
	free_vips(s->vips, s->nvips);
	s->vips = nv;
	s->nvips = cfg->nvips;
	free(s->gone);
	s->gone = t.gone;
	s->ngone = t.ngone;
	t.gone = NULL;
	quarantine(s, t.freed, t.nfreed);
	s->wake_ms = grace_wake(s); /* a grace period ends at a later apply */
	txn_release(&t);
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
