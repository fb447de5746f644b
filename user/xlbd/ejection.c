// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbd's outlier ejection; see ejection.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "clock.h"
#include "checks.h"
#include "events.h"
#include "log.h"
#include "ejection.h"
#include "outlier.h"
#include "xlb_dp.h"

/* Ejected and its time over, but no check has passed since: checked at
 * fast_interval for this long (then at its interval). */
#define READMIT_HURRY_MS 60000

/* One (VIP, backend), by backend record id. */
struct rec {
	__u32 vip_id;
	union xlb_addr addr;
	__u64 syn, retr, rer; /* the counters at the last bucket */
	__u8 primed;	      /* they were read once */
	__u8 ejected, capped, asked;
	struct xlb_ol_win win;
	__u64 until_ms;	      /* ejected: the earliest it may come back */
	__u64 quiet_since_ms; /* in service since (or since one was forgotten) */
	__u32 in_row;	      /* ejections in a row */
	__u64 ejections;
	__u32 seen; /* tick stamp */
	struct xlb_ol_verdict why;
};

struct outliers {
	struct agent *ag;
	struct rec **rec; /* XLB_MAX_BACKENDS */
	__u64 next_ms[XLB_MAX_VIPS];
	struct xlb_backend_syn_stats *raw; /* by id */
	__u32 *ids, nraw;		   /* 0, 1, ... nraw - 1 */
	__u32 tick;
	struct xlb_ol_be *be;
	struct xlb_ol_verdict *ver;
	__u32 *order; /* outliers, worst first */
	size_t nscratch;
	__u32 *live, nlive; /* ids with a record (records freed walk these) */
	struct outliers_reader rd;
};

static int dp_syn(void *ctx, const __u32 *ids, size_t n, struct xlb_backend_syn_stats *out)
{
	struct agent *ag = ctx;

	return ag->dp ? xlb_dp_backend_syn_stats_many(ag->dp, ids, n, out) : -ENODEV;
}

static int dp_vip(void *ctx, const __u32 *ids, size_t n, struct xlb_vip_stats *out)
{
	struct agent *ag = ctx;

	return ag->dp ? xlb_dp_vip_stats_many(ag->dp, ids, n, out) : -ENODEV;
}

void outliers_set_reader(struct outliers *o, const struct outliers_reader *rd)
{
	o->rd = *rd;
}

struct outliers *outliers_new(struct agent *ag)
{
	struct outliers *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->ag = ag;
	o->rd = (struct outliers_reader){.ctx = ag, .syn = dp_syn, .vip = dp_vip};
	o->rec = calloc(XLB_MAX_BACKENDS, sizeof(*o->rec));
	o->live = calloc(XLB_MAX_BACKENDS, sizeof(*o->live));
	if (!o->rec || !o->live) {
		free(o->rec);
		free(o->live);
		free(o);
		return NULL;
	}
	return o;
}

void outliers_free(struct outliers *o)
{
	if (!o)
		return;
	for (__u32 k = 0; k < o->nlive; k++)
		free(o->rec[o->live[k]]);
	free(o->rec);
	free(o->raw);
	free(o->ids);
	free(o->be);
	free(o->ver);
	free(o->order);
	free(o->live);
	free(o);
}

static struct rec *rec_of(const struct outliers *o, const struct xlb_sync_vip *v,
			  const struct xlb_sync_backend *b)
{
	struct rec *r = b->id < XLB_MAX_BACKENDS ? o->rec[b->id] : NULL;

	if (!r || r->vip_id != v->id || memcmp(&r->addr, &b->cfg.addr, sizeof(r->addr)))
		return NULL;
	return r;
}

/* The record of (v, b), made fresh when the id served another pair. */
static struct rec *rec_get(struct outliers *o, const struct xlb_sync_vip *v,
			   const struct xlb_sync_backend *b, __u32 nb)
{
	struct rec *r = rec_of(o, v, b);

	if (b->id >= XLB_MAX_BACKENDS)
		return NULL;
	if (!r) {
		r = o->rec[b->id];
		if (!r) {
			r = malloc(sizeof(*r));
			if (!r)
				return NULL;
			o->live[o->nlive++] = b->id;
		}
		memset(r, 0, sizeof(*r));
		r->vip_id = v->id;
		r->addr = b->cfg.addr;
		xlb_ol_win_init(&r->win, nb);
		o->rec[b->id] = r;
	}
	if (r->win.nb != nb) /* the window changed: start it again */
		xlb_ol_win_init(&r->win, nb);
	return r;
}

static void event(struct outliers *o, const struct xlb_sync_vip *v,
		  const struct xlb_sync_backend *b, const char *from, const char *to,
		  const char *reason)
{
	struct event e = {};

	snprintf(e.kind, sizeof(e.kind), "outlier");
	xlb_cfg_vip_name(&v->cfg, e.vip, sizeof(e.vip));
	xlb_addr_str(&b->cfg.addr, e.backend, sizeof(e.backend));
	snprintf(e.from, sizeof(e.from), "%s", from);
	snprintf(e.to, sizeof(e.to), "%s", to);
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	event_add(o->ag->events, &e);
}

static void why_text(const struct xlb_ol_verdict *w, char *buf, size_t len)
{
	snprintf(buf, len, "%llu of %llu SYNs retransmitted (%u%%) over %u.%us, peers %u%%",
		 (unsigned long long)w->retr, (unsigned long long)w->first, w->ratio_pct,
		 w->span_ms / 1000, w->span_ms % 1000 / 100, w->peers_pct);
}

static void eject(struct outliers *o, const struct xlb_sync_vip *v,
		  const struct xlb_sync_backend *b, struct rec *r, const struct xlb_cfg_outlier *oc,
		  const struct xlb_ol_verdict *w, __u64 now)
{
	char why[80], reason[sizeof(((struct event *)0)->reason) + 32];
	__u64 len;

	r->ejected = 1;
	r->capped = 0;
	r->asked = 0;
	r->in_row++;
	r->ejections++;
	r->why = *w;
	len = xlb_ol_ejection_ms(oc->base_ejection_ms, oc->max_ejection_ms, r->in_row);
	r->until_ms = now + len;
	/* at once, then at fast_interval until it may come back */
	checks_check_now(o->ag->checks, &v->cfg, &b->cfg, r->until_ms);
	why_text(w, why, sizeof(why));
	snprintf(reason, sizeof(reason), "%s; out %llus", why, (unsigned long long)len / 1000);
	event(o, v, b, "in", "ejected", reason);
}

static void readmit(struct outliers *o, const struct xlb_sync_vip *v,
		    const struct xlb_sync_backend *b, struct rec *r, const char *reason, __u64 now)
{
	r->ejected = 0;
	r->quiet_since_ms = now;
	xlb_ol_win_init(&r->win, r->win.nb); /* judged on what comes next */
	r->primed = 0;
	event(o, v, b, "ejected", "in", reason);
}

/* Ejected and its time is over: back once a check passed after it. */
static int maybe_readmit(struct outliers *o, const struct xlb_sync_vip *v,
			 const struct xlb_sync_backend *b, struct rec *r, __u64 now)
{
	struct check_view cv;

	if (now < r->until_ms)
		return 0;
	if (v->cfg.check.type == XLB_CHECK_NONE) {
		readmit(o, v, b, r, "ejection time over (no check)", now);
		return 1;
	}
	checks_view(o->ag->checks, &v->cfg, &b->cfg, &cv);
	if (cv.checked && cv.last_mono_ms >= r->until_ms && cv.last.ok &&
	    cv.health == XLB_HEALTH_UP) {
		readmit(o, v, b, r, "ejection time over, check passed", now);
		return 1;
	}
	if (!r->asked) { /* a result from after the ejection time, soon */
		checks_check_now(o->ag->checks, &v->cfg, &b->cfg, now + READMIT_HURRY_MS);
		r->asked = 1;
	}
	return 0;
}

static int in_service(const struct xlb_sync_backend *b)
{
	return b->state == XLB_BE_ACTIVE && b->weight > 0;
}

/* Read every backend's counters once (ids up to the largest needed). */
static int read_counters(struct outliers *o, const struct xlb_sync *s)
{
	__u32 n = 0;

	for (size_t i = 0; i < s->nvips; i++)
		for (size_t j = 0; j < s->vips[i].nbackends; j++)
			if (s->vips[i].backends[j].id + 1 > n)
				n = s->vips[i].backends[j].id + 1;
	if (n > o->nraw) {
		void *p = realloc(o->raw, n * sizeof(*o->raw)),
		     *q = realloc(o->ids, n * sizeof(*o->ids));

		if (p)
			o->raw = p;
		if (q)
			o->ids = q;
		if (!p || !q)
			return -ENOMEM;
		for (__u32 id = o->nraw; id < n; id++)
			o->ids[id] = id; /* raw[id] is id's */
		o->nraw = n;
	}
	return o->rd.syn(o->rd.ctx, o->ids, n, o->raw);
}

static int scratch(struct outliers *o, size_t n)
{
	if (n <= o->nscratch)
		return 0;
	free(o->be);
	free(o->ver);
	free(o->order);
	o->be = calloc(n, sizeof(*o->be));
	o->ver = calloc(n, sizeof(*o->ver));
	o->order = calloc(n, sizeof(*o->order));
	o->nscratch = o->be && o->ver && o->order ? n : 0;
	return o->nscratch ? 0 : -ENOMEM;
}

/* qsort_r's order of outlier indices into the verdicts: the higher ratio
 * first, then the lower index (backend order). */
static int worse_first(const void *a, const void *b, void *verdicts)
{
	const struct xlb_ol_verdict *ver = verdicts;
	__u32 i = *(const __u32 *)a, j = *(const __u32 *)b;

	if (ver[i].ratio_pct != ver[j].ratio_pct)
		return ver[i].ratio_pct > ver[j].ratio_pct ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* A new bucket for each backend of v, then the judgement. */
static int judge_vip(struct outliers *o, const struct xlb_sync_vip *v,
		     const struct xlb_cfg_outlier *oc, __u32 bucket_ms, __u64 now)
{
	__u32 usable = 0, nej = 0, cap;
	size_t nout;
	int changed = 0;

	if (scratch(o, v->nbackends))
		return 0;
	for (size_t j = 0; j < v->nbackends; j++) {
		const struct xlb_sync_backend *b = &v->backends[j];
		struct rec *r = rec_of(o, v, b);
		const struct xlb_backend_syn_stats *c = &o->raw[b->id];

		if (r->primed)
			xlb_ol_win_push(&r->win,
					xlb_ol_first_syns(c->syn - r->syn,
							  c->syn_retransmits - r->retr,
							  c->syn_rerouted - r->rer),
					(__u32)(c->syn_retransmits - r->retr));
		r->syn = c->syn;
		r->retr = c->syn_retransmits;
		r->rer = c->syn_rerouted;
		r->primed = 1;
		o->be[j] = (struct xlb_ol_be){.win = &r->win};
		o->be[j].peer = o->be[j].judge = in_service(b) && !r->ejected;
		usable += b->health == XLB_HEALTH_UP && b->cfg.admin == XLB_ADMIN_ENABLED &&
			  !b->cfg.backup;
		nej += r->ejected;
	}
	if (!xlb_ol_judge(o->be, v->nbackends, oc->threshold_pct, oc->min_samples, bucket_ms,
			  o->ver))
		goto keep_latest;
	cap = xlb_ol_cap(usable, oc->max_percent);
	nout = 0;
	for (size_t j = 0; j < v->nbackends; j++)
		if (o->ver[j].outlier)
			o->order[nout++] = (__u32)j;
	/* the worst first, while the cap allows */
	qsort_r(o->order, nout, sizeof(*o->order), worse_first, o->ver);
	for (size_t k = 0; k < nout; k++) {
		size_t worst = o->order[k];
		const struct xlb_sync_backend *b = &v->backends[worst];
		struct rec *r = rec_of(o, v, b);

		if (nej < cap) {
			eject(o, v, b, r, oc, &o->ver[worst], now);
			nej++;
			changed = 1;
		} else if (!r->capped) {
			char why[80], reason[sizeof(((struct event *)0)->reason) + 32];

			r->capped = 1;
			why_text(&o->ver[worst], why, sizeof(why));
			snprintf(reason, sizeof(reason), "%s; max_ejection_percent %u%% reached",
				 why, oc->max_percent);
			event(o, v, b, "in", "kept", reason);
		}
		o->ver[worst].outlier = 0;
	}
keep_latest:
	for (size_t j = 0; j < v->nbackends; j++) {
		struct rec *r = rec_of(o, v, &v->backends[j]);

		if (!r->ejected)
			r->why = o->ver[j];
		if (!r->ejected && r->capped && o->ver[j].ratio_pct < oc->threshold_pct)
			r->capped = 0;
	}
	return changed;
}

int outliers_tick(struct outliers *o, __u64 now)
{
	const struct xlb_sync *s = o->ag->sync;
	int changed = 0, read = 0;

	if (!s || (o->rd.syn == dp_syn && !o->ag->dp))
		return 0;
	o->tick++;
	for (size_t i = 0; i < s->nvips; i++) {
		const struct xlb_sync_vip *v = &s->vips[i];
		struct xlb_cfg_outlier oc = xlb_cfg_outlier_of(&v->cfg);
		__u64 *next = &o->next_ms[v->id % XLB_MAX_VIPS];
		__u32 nb, bucket_ms;
		int ok = 1;

		if (oc.state != XLB_OUTLIER_ON)
			continue;
		xlb_ol_geometry(oc.window_ms, &nb, &bucket_ms);
		for (size_t j = 0; j < v->nbackends; j++) {
			const struct xlb_sync_backend *b = &v->backends[j];
			struct rec *r = rec_get(o, v, b, nb);

			if (!r) {
				ok = 0;
				continue;
			}
			r->seen = o->tick;
			if (r->ejected)
				changed |= maybe_readmit(o, v, b, r, now);
			else if (r->in_row && now >= r->quiet_since_ms + oc.base_ejection_ms) {
				r->in_row--; /* a quiet stretch forgets one ejection */
				r->quiet_since_ms = now;
			}
		}
		if (!ok || now < *next)
			continue;
		*next = *next && now - *next < bucket_ms ? *next + bucket_ms : now + bucket_ms;
		if (!read) {
			read = read_counters(o, s) ? -1 : 1;
			if (read < 0)
				pr_debug("outlier: couldn't read the SYN counters\n");
		}
		if (read > 0)
			changed |= judge_vip(o, v, &oc, bucket_ms, now);
	}
	/* Pairs gone (or outlier off): forgotten; an ejected one comes back. */
	for (__u32 k = 0; k < o->nlive;) {
		__u32 id = o->live[k];
		struct rec *r = o->rec[id];

		if (r->seen == o->tick) {
			k++;
			continue;
		}
		changed |= r->ejected;
		free(r);
		o->rec[id] = NULL;
		o->live[k] = o->live[--o->nlive];
	}
	return changed;
}

int outliers_ejected(const struct outliers *o, const struct xlb_sync_vip *v,
		     const struct xlb_sync_backend *b)
{
	const struct rec *r = o ? rec_of(o, v, b) : NULL;

	return r && r->ejected;
}

void outliers_view(const struct outliers *o, const struct xlb_sync_vip *v,
		   const struct xlb_sync_backend *b, struct outlier_view *out)
{
	const struct rec *r = o ? rec_of(o, v, b) : NULL;

	memset(out, 0, sizeof(*out));
	out->on = xlb_cfg_outlier_of(&v->cfg).state == XLB_OUTLIER_ON;
	if (!r)
		return;
	out->ejected = r->ejected;
	out->ejections = r->ejections;
	out->why = r->why;
	if (r->ejected) {
		__u64 now = mono_ms();

		out->back_in_ms = r->until_ms > now ? r->until_ms - now : 0;
	}
}
