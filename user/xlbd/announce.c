// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbd's announcements and maintenance; see announce.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "announce.h"
#include "announce_plan.h"
#include "events.h"
#include "health.h"
#include "log.h"
#include "routes.h"
#include "state.h"
#include "xlb_dp.h"

#define SYNC_EVERY_MS 1000
#define SAMPLE_EVERY_MS 1000
#define MAINT_MAX_VIPS 1024

struct maint_vip {
	char name[80];
	__u64 since_wall_ms; /* when it was set (persisted) */
	__u64 since_mono_ms; /* when this agent began to watch it */
};

/* One VIP (by id) as the last sync and sample left it. */
struct per_vip {
	__u8 why, announced, sampled;
	__u64 packets, sample_ms; /* the last sample */
	__u64 traffic_ms;	  /* CLOCK_MONOTONIC of the last packet seen, 0 none */
	double pps;
};

struct announce {
	struct events *ev;
	struct xlb_dp *dp;
	char path[PATH_MAX]; /* the maintenance file */
	int started, attached;
	__u32 table; /* what the routes present were synced under (0: none) */
	__u8 protocol;
	int host;
	__u64 host_since_wall_ms, host_since_mono_ms;
	struct maint_vip *mv;
	size_t nmv;
	__u64 last_sync_ms, last_sample_ms;
	int last_err; /* the last route error warned about (said once) */
	struct per_vip *per;
};

/* ---- the maintenance file --------------------------------------------- */

/* "host MS" and "vip NAME MS" lines. A file that does not read is taken
 * as maintenance of the host: withdrawing is the side to err on. */
static void maint_load(struct announce *a)
{
	FILE *f = fopen(a->path, "r");
	char line[256], name[80];
	unsigned long long ms;
	int bad = 0;

	if (!f) {
		if (errno != ENOENT) {
			pr_warn("couldn't read maintenance file '%s': %s; the host stays in "
				"maintenance until 'xlbctl maintenance off'\n",
				a->path, strerror(errno));
			a->host = 1;
		}
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "host %llu", &ms) == 1) {
			a->host = 1;
			a->host_since_wall_ms = ms;
		} else if (sscanf(line, "vip %79s %llu", name, &ms) == 2 &&
			   a->nmv < MAINT_MAX_VIPS) {
			struct maint_vip *m = &a->mv[a->nmv++];

			snprintf(m->name, sizeof(m->name), "%s", name);
			m->since_wall_ms = ms;
			m->since_mono_ms = mono_ms();
		} else {
			bad = 1;
		}
	}
	fclose(f);
	a->host_since_mono_ms = mono_ms();
	if (bad) {
		pr_warn("maintenance file '%s' has lines xlbd cannot read; the host stays in "
			"maintenance until 'xlbctl maintenance off' rewrites it\n",
			a->path);
		a->host = 1;
	}
	if (a->host || a->nmv)
		pr_info("maintenance restored from %s: %s%zu VIP%s\n", a->path,
			a->host ? "the host, " : "", a->nmv, a->nmv == 1 ? "" : "s");
}

static int maint_save(const struct announce *a, int host, __u64 host_since,
		      const struct maint_vip *mv, size_t nmv, struct xlb_err *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int ret;

	if (!f)
		return -ENOMEM;
	fprintf(f, "# xlbd maintenance, written by 'xlbctl maintenance'; 'xlbctl maintenance "
		   "off' ends it\n");
	if (host)
		fprintf(f, "host %llu\n", (unsigned long long)host_since);
	for (size_t i = 0; i < nmv; i++)
		fprintf(f, "vip %s %llu\n", mv[i].name, (unsigned long long)mv[i].since_wall_ms);
	if (fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	ret = state_write_text(a->path, text, len, err);
	free(text);
	return ret;
}

static struct maint_vip *maint_find(const struct announce *a, const char *name)
{
	for (size_t i = 0; i < a->nmv; i++)
		if (!strcmp(a->mv[i].name, name))
			return &a->mv[i];
	return NULL;
}

/* ---- life -------------------------------------------------------------- */

struct announce *announce_new(struct events *ev, struct xlb_dp *dp, const char *state_dir)
{
	struct announce *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->ev = ev;
	a->dp = dp;
	a->mv = calloc(MAINT_MAX_VIPS, sizeof(*a->mv));
	a->per = calloc(XLB_MAX_VIPS, sizeof(*a->per));
	if (!a->mv || !a->per) {
		announce_free(a);
		return NULL;
	}
	snprintf(a->path, sizeof(a->path), "%s/maintenance", state_dir);
	maint_load(a);
	return a;
}

void announce_free(struct announce *a)
{
	if (!a)
		return;
	free(a->mv);
	free(a->per);
	free(a);
}

void announce_start(struct announce *a)
{
	a->started = 1;
	a->attached = 1;
}

/* ---- making the table match -------------------------------------------- */

static void route_name(const struct xlb_route *r, char *buf, size_t len)
{
	char s[64];

	snprintf(buf, len, "%s/%d", xlb_addr_str(&r->addr, s, sizeof(s)),
		 r->family == XLB_AF_INET6 ? 128 : 32);
}

static void route_event(struct announce *a, const struct xlb_route *r, int on, int why)
{
	struct event e = {};

	snprintf(e.kind, sizeof(e.kind), "announce");
	route_name(r, e.vip, sizeof(e.vip));
	snprintf(e.from, sizeof(e.from), "%s", on ? "withdrawn" : "announced");
	snprintf(e.to, sizeof(e.to), "%s", on ? "announced" : "withdrawn");
	snprintf(e.reason, sizeof(e.reason), "%s; table %u protocol %u", xlb_ann_why_text(why),
		 a->table, a->protocol);
	event_add(a->ev, &e);
}

static void route_failed(struct announce *a, const struct xlb_route *r, int on, int ret)
{
	char n[80];

	if (ret == a->last_err)
		return; /* said already; retried every second */
	a->last_err = ret;
	route_name(r, n, sizeof(n));
	pr_warn("couldn't %s route '%s' in table %u: %s%s\n", on ? "add" : "remove", n, a->table,
		strerror(-ret),
		ret == -EEXIST	? "; a route of another protocol holds that prefix in the "
				  "announce table: remove it, or give xlbd a table of its own"
		: ret == -EPERM ? "; xlbd needs CAP_NET_ADMIN to announce (README "
				  "\"Capabilities\")"
				: "");
}

/* Withdraw everything xlbd announced under table+protocol. */
static void flush_table(struct announce *a, __u32 table, __u8 protocol, const char *why)
{
	int n = xlb_routes_flush(table, protocol);

	if (n < 0)
		pr_warn("couldn't withdraw the routes of table %u protocol %u: %s\n", table,
			protocol, strerror(-n));
	else if (n) {
		struct event e = {};

		snprintf(e.kind, sizeof(e.kind), "announce");
		snprintf(e.vip, sizeof(e.vip), "*");
		snprintf(e.from, sizeof(e.from), "announced");
		snprintf(e.to, sizeof(e.to), "withdrawn");
		snprintf(e.reason, sizeof(e.reason), "%s: %d route%s of table %u protocol %u", why,
			 n, n == 1 ? "" : "s", table, protocol);
		event_add(a->ev, &e);
	}
}

/* Withdraw everything xlbd announced under its current table. */
static void flush(struct announce *a, const char *why)
{
	if (!a->table)
		return;
	flush_table(a, a->table, a->protocol, why);
	a->table = 0;
	a->protocol = 0;
}

static int in_maintenance(const struct announce *a, const struct xlb_cfg_vip *v)
{
	char vn[80];

	return a->host || maint_find(a, xlb_cfg_vip_name(v, vn, sizeof(vn))) != NULL;
}

/* The VIPs as the decision sees them. */
static void describe(const struct announce *a, const struct xlb_sync_vip *sv,
		     struct xlb_ann_vip *out)
{
	*out = (struct xlb_ann_vip){.mode = sv->cfg.announce, .usable = sv->in_table > 0};
	out->route.addr = sv->cfg.addr;
	out->route.family = sv->cfg.family;
	out->maintenance = (__u8)in_maintenance(a, &sv->cfg);
	for (size_t j = 0; j < sv->nbackends; j++)
		if (sv->backends[j].cfg.admin == XLB_ADMIN_ENABLED &&
		    sv->backends[j].health == XLB_HEALTH_UNKNOWN)
			out->pending = 1;
}

/* The routes present now (malloc'd, *n of them), or NULL on an error. */
static struct xlb_route *present_routes(struct announce *a, size_t *n)
{
	size_t cap = 64;

	for (;;) {
		struct xlb_route *r = calloc(cap, sizeof(*r));
		int got;

		if (!r)
			return NULL;
		got = xlb_routes_list(a->table, a->protocol, r, cap);
		if (got >= 0 && (size_t)got <= cap) {
			*n = (size_t)got;
			return r;
		}
		free(r);
		if (got < 0) {
			if (got != a->last_err)
				pr_warn("couldn't read the routes of table %u protocol %u: %s%s\n",
					a->table, a->protocol, strerror(-got),
					got == -EPERM ? "; xlbd needs CAP_NET_ADMIN to announce"
						      : "");
			a->last_err = got;
			return NULL;
		}
		cap = (size_t)got + 16;
	}
}

static int route_in(const struct xlb_route *r, const struct xlb_route *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (xlb_route_equal(r, &set[i]))
			return 1;
	return 0;
}

/* Our routes of the current table take protocol `to` in place (the sync
 * that follows then finds them present); those that fail stay, and go
 * with the old protocol's flush. */
static void reprotocol(struct announce *a, __u8 to)
{
	size_t n = 0;
	struct xlb_route *r = present_routes(a, &n);

	for (size_t i = 0; r && i < n; i++) {
		int ret = xlb_route_replace(a->table, to, &r[i]);

		if (ret)
			route_failed(a, &r[i], 1, ret);
	}
	free(r);
}

void announce_sync(struct announce *a, const struct xlb_cfg *cfg, const struct xlb_sync *s)
{
	size_t n = s->nvips, np = 0, nadd = 0, ndel = 0, nok = 0;
	struct xlb_route *present, *add = NULL, *del = NULL, *now = NULL;
	struct xlb_ann_vip *v = NULL;
	int *why = NULL, *add_why = NULL, *del_why = NULL;
	__u32 old_table = 0;
	__u8 old_protocol = 0;

	if (!a->started)
		return; /* before attach: nothing is touched */
	a->last_sync_ms = mono_ms();
	/* Another table: make before break. The routes go into the new table
	 * first and leave the old one after, so a BGP daemon exporting both
	 * never sees a VIP without a route. The same table with another
	 * protocol cannot hold both (the kernel keys a route by prefix, table
	 * and metric, not protocol): each route of ours is replaced in place. */
	if (a->table && cfg->announce.table && a->table != cfg->announce.table) {
		old_table = a->table;
		old_protocol = a->protocol;
	} else if (a->table && cfg->announce.table && a->protocol != cfg->announce.protocol) {
		reprotocol(a, cfg->announce.protocol);
		old_table = a->table;
		old_protocol = a->protocol;
	} else if (a->table && !cfg->announce.table) {
		flush(a, "the announce block was removed");
	}
	if (!cfg->announce.table) {
		for (size_t i = 0; i < n; i++) {
			a->per[s->vips[i].id % XLB_MAX_VIPS].why = XLB_ANN_OFF;
			a->per[s->vips[i].id % XLB_MAX_VIPS].announced = 0;
		}
		return;
	}
	a->table = cfg->announce.table;
	a->protocol = cfg->announce.protocol;
	present = present_routes(a, &np);
	if (!present)
		goto out;
	v = calloc(n + 1, sizeof(*v));
	why = calloc(n + 1, sizeof(*why));
	add = calloc(n + 1, sizeof(*add));
	add_why = calloc(n + 1, sizeof(*add_why));
	del = calloc(np + 1, sizeof(*del));
	del_why = calloc(np + 1, sizeof(*del_why));
	now = calloc(np + n + 1, sizeof(*now));
	if (!v || !why || !add || !add_why || !del || !del_why || !now)
		goto out;
	for (size_t i = 0; i < n; i++) {
		describe(a, &s->vips[i], &v[i]);
		why[i] = xlb_ann_decide(1, a->attached, &v[i]);
	}
	xlb_ann_plan(v, why, n, present, np, add, add_why, &nadd, del, del_why, &ndel);
	for (size_t i = 0; i < ndel; i++) {
		int ret = xlb_route_set(a->table, a->protocol, &del[i], false);

		if (ret)
			route_failed(a, &del[i], 0, ret);
		else
			route_event(a, &del[i], 0, del_why[i]);
	}
	for (size_t i = 0; i < np; i++) /* what is there now */
		if (!route_in(&present[i], del, ndel))
			now[nok++] = present[i];
	for (size_t i = 0; i < nadd; i++) {
		int ret = xlb_route_set(a->table, a->protocol, &add[i], true);

		if (ret) {
			route_failed(a, &add[i], 1, ret);
			continue;
		}
		route_event(a, &add[i], 1, add_why[i]);
		now[nok++] = add[i];
	}
	if (nadd + ndel == 0)
		a->last_err = 0;
	for (size_t i = 0; i < n; i++) {
		struct per_vip *p = &a->per[s->vips[i].id % XLB_MAX_VIPS];

		p->why = (__u8)why[i];
		p->announced = (__u8)route_in(&v[i].route, now, nok);
	}
out:
	if (old_table) /* whether or not the new table took them: the config moved */
		flush_table(a, old_table, old_protocol, "the announce table or protocol changed");
	free(present);
	free(v);
	free(why);
	free(add);
	free(add_why);
	free(del);
	free(del_why);
	free(now);
}

void announce_detach(struct announce *a, const struct xlb_cfg *cfg, const struct xlb_sync *s)
{
	if (!a->started)
		return;
	a->attached = 0;
	announce_sync(a, cfg, s); /* each VIP's withdrawal logged */
	flush(a, "detach");	  /* and whatever else is ours */
}

/* ---- traffic of the VIPs in maintenance -------------------------------- */

static __u64 maint_since_mono(const struct announce *a, const struct xlb_cfg_vip *v)
{
	const struct maint_vip *m;
	char vn[80];
	__u64 t = 0;

	if (a->host)
		t = a->host_since_mono_ms;
	m = maint_find(a, xlb_cfg_vip_name(v, vn, sizeof(vn)));
	if (m && (!t || m->since_mono_ms < t))
		t = m->since_mono_ms;
	return t;
}

static void sample(struct announce *a, const struct xlb_sync *s, __u64 now)
{
	a->last_sample_ms = now;
	for (size_t i = 0; i < s->nvips; i++) {
		const struct xlb_sync_vip *sv = &s->vips[i];
		struct per_vip *p = &a->per[sv->id % XLB_MAX_VIPS];
		struct xlb_vip_stats vs = {};

		if (!in_maintenance(a, &sv->cfg)) {
			p->sampled = 0;
			continue;
		}
		if (xlb_dp_vip_stats(a->dp, sv->id, &vs))
			continue;
		if (p->sampled && now > p->sample_ms) {
			__u64 d = vs.packets >= p->packets ? vs.packets - p->packets : 0;

			p->pps = (double)d * 1000.0 / (double)(now - p->sample_ms);
			if (d)
				p->traffic_ms = now;
		} else {
			p->pps = 0;
			p->traffic_ms = 0;
		}
		p->packets = vs.packets;
		p->sample_ms = now;
		p->sampled = 1;
	}
}

void announce_tick(struct announce *a, const struct xlb_cfg *cfg, const struct xlb_sync *s)
{
	__u64 now = mono_ms();

	if (now - a->last_sample_ms >= SAMPLE_EVERY_MS && (a->host || a->nmv))
		sample(a, s, now);
	if (a->started && cfg->announce.table && now - a->last_sync_ms >= SYNC_EVERY_MS)
		announce_sync(a, cfg, s);
}

/* ---- maintenance -------------------------------------------------------- */

int announce_maintenance(struct announce *a, const struct xlb_cfg *cfg, const struct xlb_sync *s,
			 const char *vip, int on, struct xlb_err *err)
{
	struct maint_vip *mv = NULL, *m;
	size_t nmv = a->nmv;
	int host = a->host, ret;
	__u64 host_since = a->host_since_wall_ms;
	char vn[80];

	if (vip) {
		const struct xlb_cfg_vip *v = NULL;

		for (size_t i = 0; i < cfg->nvips && !v; i++)
			if (!strcmp(xlb_cfg_vip_name(&cfg->vips[i], vn, sizeof(vn)), vip))
				v = &cfg->vips[i];
		if (on && !v) {
			snprintf(err->msg, sizeof(err->msg),
				 "couldn't put VIP '%.80s' in maintenance: there is no such VIP; "
				 "'xlbctl vip list' shows them",
				 vip);
			return -ENOENT;
		}
		if (on && !maint_find(a, vip) && nmv >= MAINT_MAX_VIPS) {
			snprintf(err->msg, sizeof(err->msg),
				 "couldn't put VIP '%.80s' in maintenance: %d VIPs are already; "
				 "put the host in maintenance instead",
				 vip, MAINT_MAX_VIPS);
			return -E2BIG;
		}
	}
	mv = calloc(MAINT_MAX_VIPS, sizeof(*mv));
	if (!mv)
		return -ENOMEM;
	memcpy(mv, a->mv, nmv * sizeof(*mv));
	if (!vip && on) {
		if (!host)
			host_since = wall_ms();
		host = 1;
	} else if (!vip) { /* off: everything announces again */
		host = 0;
		nmv = 0;
	} else if (on && !maint_find(a, vip)) {
		m = &mv[nmv++];
		snprintf(m->name, sizeof(m->name), "%s", vip);
		m->since_wall_ms = wall_ms();
		m->since_mono_ms = mono_ms();
	} else if (!on) {
		size_t k = 0;

		for (size_t i = 0; i < nmv; i++)
			if (strcmp(mv[i].name, vip))
				mv[k++] = mv[i];
		nmv = k;
	}
	ret = maint_save(a, host, host_since, mv, nmv, err);
	if (ret) {
		free(mv);
		return ret;
	}
	if (host && !a->host)
		a->host_since_mono_ms = mono_ms();
	a->host = host;
	a->host_since_wall_ms = host_since;
	memcpy(a->mv, mv, nmv * sizeof(*mv));
	a->nmv = nmv;
	free(mv);
	pr_info("maintenance %s%s%s\n", on ? "on" : "off", vip ? " for VIP " : " for the host",
		vip ? vip : "");
	announce_sync(a, cfg, s);
	return 0;
}

/* ---- what status shows -------------------------------------------------- */

void announce_view(const struct announce *a, const struct xlb_sync_vip *sv,
		   struct announce_view *out)
{
	const struct per_vip *p = &a->per[sv->id % XLB_MAX_VIPS];
	__u64 now = mono_ms(), from;

	*out = (struct announce_view){.on = a->table != 0,
				      .announced = p->announced,
				      .why = a->table ? p->why : XLB_ANN_OFF,
				      .maintenance = in_maintenance(a, &sv->cfg)};
	if (!out->maintenance || !p->sampled)
		return;
	out->sampled = 1;
	out->pps = p->pps;
	from = maint_since_mono(a, &sv->cfg);
	if (p->traffic_ms > from)
		from = p->traffic_ms;
	out->quiet_ms = now > from ? now - from : 0;
}

int announce_host_maintenance(const struct announce *a, __u64 *since_ms)
{
	*since_ms = a->host_since_wall_ms;
	return a->host;
}

size_t announce_maintenance_vips(const struct announce *a, const char **names, size_t max)
{
	for (size_t i = 0; i < a->nmv && i < max; i++)
		names[i] = a->mv[i].name;
	return a->nmv;
}
