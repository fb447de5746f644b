// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Reconciliation of the data plane with a configuration; see sync.h.
 * This file: the public calls, the plan (config -> new view) and adopt. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "handover.h"
#include "maglev.h"
#include "sync.h"
#include "sync_int.h"
#include "xlb_dp.h"

int sync_fail(struct xlb_err *err, int ret, const char *fmt, ...)
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

void sync_free_vips(struct xlb_sync_vip *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].backends);
		free(v[i].ho);
	}
	free(v);
}

void xlb_sync_free(struct xlb_sync *s)
{
	if (!s)
		return;
	sync_free_vips(s->vips, s->nvips);
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
			  const __u32 *sizes, const __u8 *flow_states)
{
	return xlb_dp_tables_swap(ctx, n, vip_ids, tables, sizes, flow_states);
}

static int dp_backend_get(void *ctx, __u32 id, struct xlb_backend *b)
{
	return xlb_dp_backend_get(ctx, id, b);
}

static int dp_table_get(void *ctx, __u32 vip_id, __u32 size, __u32 *table)
{
	return xlb_dp_table_get(ctx, vip_id, size, table);
}

/* The flows a switch to stateless seeds previous hops from: live ones,
 * and closed ones for 10 s (their last ACKs may still come). */
#define SEED_CLOSED_S 10

static int dp_flows_each(void *ctx, const __u32 *gen_by_id,
			 int (*cb)(void *cb_ctx, const struct xlb_flow_key *k, __u32 id),
			 void *cb_ctx)
{
	return xlb_dp_flow_each(ctx, gen_by_id, XLB_FLOW_LIVE_TCP_IDLE_S, SEED_CLOSED_S, cb,
				cb_ctx);
}

void xlb_sync_dp_sink(struct xlb_sink *sink, struct xlb_dp *dp)
{
	*sink = (struct xlb_sink){.ctx = dp,
				  .backend_set = dp_backend_set,
				  .vip_set = dp_vip_set,
				  .vip_del = dp_vip_del,
				  .tables_swap = dp_tables_swap,
				  .backend_get = dp_backend_get,
				  .table_get = dp_table_get,
				  .flows_each = dp_flows_each};
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
	if (s->health && s->health_vip)
		s->health_vip(s->health_ctx, v);
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

/*
 * stateless -> table while previous hops live: a table-mode VIP would send
 * every non-SYN packet of a flow it has no entry for to the slot's current
 * backend, plain, and so reset the connections that live on a previous hop
 * (the flow table never saw them). It stays stateless until they end.
 * Only for a VIP that can stay stateless (ipip).
 */
static int waits_for_hops(const struct xlb_sync_vip *old, const struct xlb_cfg_vip *c)
{
	return old->cfg.flow_state == XLB_FLOW_STATELESS && c->flow_state == XLB_FLOW_TABLE &&
	       c->mode == XLB_MODE_IPIP && old->ho && old->ho->with_prev;
}

/* Build the desired view: ids kept or given out, next hops resolved. */
static int plan(struct xlb_sync *s, const struct xlb_cfg *cfg, struct xlb_sync_vip *nv,
		struct xlb_err *err)
{
	struct index vx = {}, bx = {};
	char vn[80];
	int ret = sync_index_vips(&vx, s->vips, s->nvips);

	s->time_matters = 0;
	for (size_t i = 0; !ret && i < cfg->nvips; i++) {
		const struct xlb_cfg_vip *c = &cfg->vips[i];
		struct xlb_sync_vip *old = sync_find_vip(s->vips, s->nvips, &vx, c), *v = &nv[i];

		v->cfg = *c;
		v->cfg.backends = NULL;
		v->cfg.nbackends = 0;
		v->prev = old;
		/* Back within its grace period: it takes its reserved id again.
		 * Another flow_state: a new id (sync.h), the old one is freed. */
		v->grave = old ? NULL : sync_find_gone(s, c);
		if (old && waits_for_hops(old, c)) {
			v->cfg.flow_state = XLB_FLOW_STATELESS; /* as programmed, for now */
			v->switching = 1;
			v->note = old->switching ? XLB_SYNC_NOTE_NONE : XLB_SYNC_DEFERRED;
		} else if (old && old->cfg.flow_state == XLB_FLOW_STATELESS &&
			   c->flow_state == XLB_FLOW_TABLE) {
			v->note = XLB_SYNC_SWITCHED;
		}
		v->id = old && old->cfg.flow_state == v->cfg.flow_state ? old->id
			: !old && v->grave && v->grave->cfg.flow_state == v->cfg.flow_state
				? v->grave->id
				: alloc_id(s->vip_used, XLB_MAX_VIPS);
		if (!v->id) {
			ret = sync_fail(err, -ENOSPC, "no VIP id left for %s (%zu in quarantine)",
					xlb_cfg_vip_name(c, vn, sizeof(vn)), s->nquar);
			break;
		}
		v->backends = calloc(c->nbackends ? c->nbackends : 1, sizeof(*v->backends));
		free(bx.slot);
		bx = (struct index){};
		if (!v->backends || sync_index_backends(&bx, old)) {
			ret = -ENOMEM;
			break;
		}
		for (size_t j = 0; j < c->nbackends; j++, v->nbackends++) {
			struct xlb_sync_backend *b = &v->backends[j];
			struct xlb_sync_backend *ob =
				sync_find_backend(old, &bx, &c->backends[j].addr);

			b->cfg = c->backends[j];
			b->prev = ob;
			b->id = ob ? ob->id : alloc_id(s->backend_used, XLB_MAX_BACKENDS);
			b->gen = ob ? ob->gen : s->next_gen++;
			if (!b->id) {
				ret = sync_fail(err, -ENOSPC,
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
		/* Into table mode from stateless: the flow table still holds this
		 * VIP's entries from before it was stateless (SYNs do not write
		 * them while stateless), and a client that reused a 5-tuple since
		 * would hit one naming another backend. New generations make
		 * every such entry a miss. */
		if (!ret && old && old->cfg.flow_state == XLB_FLOW_STATELESS &&
		    v->cfg.flow_state == XLB_FLOW_TABLE)
			for (size_t j = 0; j < v->nbackends; j++)
				v->backends[j].gen = s->next_gen++;
		ret = ret ?: select_vip(s, v);
	}
	free(vx.slot);
	free(bx.slot);
	return ret;
}

int xlb_sync_apply(struct xlb_sync *s, const struct xlb_cfg *cfg, struct xlb_err *err)
{
	struct xlb_sync_vip *nv = calloc(cfg->nvips ? cfg->nvips : 1, sizeof(*nv));
	struct txn t = {};
	int ret, failed;

	if (!nv)
		return -ENOMEM;
	sync_release_ids(s);
	ret = plan(s, cfg, nv, err);
	/* Records first, tables next, then what leaves the tables drains or goes
	 * DOWN. */
	ret = ret ?: sync_put_backends(s, &t, nv, cfg->nvips, XLB_BE_ACTIVE, err);
	ret = ret ?: sync_put_vips(s, &t, nv, cfg->nvips, err);
	ret = ret ?: sync_put_backends(s, &t, nv, cfg->nvips, XLB_BE_DRAINING, err);
	ret = ret ?: sync_put_backends(s, &t, nv, cfg->nvips, XLB_BE_DOWN, err);
	ret = ret ?: sync_retire(s, &t, cfg, nv, cfg->nvips, err);
	if (ret) {
		/* Back to exactly what was programmed; the view stays as it was. */
		failed = sync_rollback(s, &t);
		s->rollbacks++;
		if (!err->msg[0])
			sync_fail(err, ret, "couldn't apply: %s", strerror(-ret));
		if (failed) {
			size_t l = strlen(err->msg);

			s->dirty = 1;
			snprintf(err->msg + l, sizeof(err->msg) - l,
				 "; rolling back failed too (%d writes): restart xlbd to reconcile",
				 failed);
		}
		sync_give_back(s, nv, cfg->nvips, !failed);
		s->wake_ms = sync_grace_wake(s);
		sync_txn_release(&t);
		sync_free_vips(nv, cfg->nvips);
		return ret;
	}
	/* The programmed view they point into goes now (handover states
	 * that stay move over first). */
	for (size_t i = 0; i < cfg->nvips; i++) {
		if (nv[i].ho_kept) {
			nv[i].ho = nv[i].prev->ho;
			((struct xlb_sync_vip *)nv[i].prev)->ho = NULL;
			nv[i].ho_kept = 0;
		}
		nv[i].prev = NULL;
		nv[i].grave = NULL;
		for (size_t j = 0; j < nv[i].nbackends; j++)
			nv[i].backends[j].prev = NULL;
	}
	sync_free_vips(s->vips, s->nvips);
	s->vips = nv;
	s->nvips = cfg->nvips;
	free(s->gone);
	s->gone = t.gone;
	s->ngone = t.ngone;
	t.gone = NULL;
	sync_quarantine(s, t.freed, t.nfreed);
	s->wake_ms = sync_grace_wake(s); /* a grace period ends at a later apply */
	{
		__u64 ho = sync_handover_wake(s->vips, s->nvips); /* so does a handover */

		if (ho && (!s->wake_ms || ho < s->wake_ms))
			s->wake_ms = ho;
	}
	for (size_t i = 0; i < s->nvips; i++) /* a switch to table waits no more */
		if (s->vips[i].switching && (!s->vips[i].ho || !s->vips[i].ho->with_prev))
			s->wake_ms = s->now_ms ? s->now_ms : 1;
	sync_txn_release(&t);
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
		sv->cfg.flow_state = p->val.flow_state;
		sv->id = p->val.vip_id;
		/* Previous hops survive a restart in the table itself: read them
		 * back (their handover starts again at the first apply). */
		if (sv->cfg.flow_state == XLB_FLOW_STATELESS && s->sink.table_get) {
			__u32 *t = calloc(sv->cfg.table_size ? sv->cfg.table_size : 1, sizeof(*t));

			if (t && !s->sink.table_get(s->sink.ctx, sv->id, sv->cfg.table_size, t))
				sv->ho = xlb_ho_from_table(t, sv->cfg.table_size);
			free(t);
		}
		sv->table_fp = 0; /* unknown: the first apply rebuilds it (same table) */
		s->vip_used[sv->id % XLB_MAX_VIPS] = 1;
		sv->backends = calloc(nbes ? nbes : 1, sizeof(*sv->backends));
		if (!sv->backends) {
			sync_free_vips(v, i + 1);
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
			sv->cfg.syn_retry = pb->b.syn_retry; /* stamped on each record */
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
