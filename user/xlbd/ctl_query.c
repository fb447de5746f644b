// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The control verbs that only read; see ctl_query.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "announce.h"
#include "announce_plan.h"
#include "checks.h"
#include "clock.h"
#include "ejection.h"
#include "ctl_query.h"
#include "ctl_req.h"
#include "events.h"
#include "flowsweep.h"
#include "handover.h"
#include "jsonw.h"
#include "nexthop.h"
#include "sync.h"
#include "xlb_dp.h"

/* ---- verbs that read --------------------------------------------------- */

static const char *state_name(int state)
{
	return state == XLB_BE_ACTIVE ? "active" : state == XLB_BE_DRAINING ? "draining" : "down";
}

static json_object *vip_json(const struct xlb_cfg_vip *v, const struct xlb_sync_vip *sv)
{
	json_object *o = json_object_new_object();
	char vn[80];

	json_object_object_add(o, "vip",
			       json_object_new_string(xlb_cfg_vip_name(v, vn, sizeof(vn))));
	json_object_object_add(o, "mode", json_object_new_string(xlb_mode_name(v->mode)));
	json_object_object_add(o, "hash", json_object_new_string(xlb_hash_name(v->hash)));
	json_object_object_add(o, "on_empty",
			       json_object_new_string(xlb_on_empty_name(v->on_empty)));
	json_object_object_add(o, "table_size", json_object_new_int64(v->table_size));
	json_object_object_add(o, "backends",
			       json_object_new_int64((int64_t)(sv ? sv->nbackends : v->nbackends)));
	json_object_object_add(o, "id", json_object_new_int64(sv ? sv->id : 0));
	json_object_object_add(o, "check",
			       json_object_new_string(xlb_check_type_name(v->check.type)));
	json_object_object_add(o, "panic_threshold", json_object_new_int64(v->panic_percent));
	json_object_object_add(o, "slow_start_ms", json_object_new_int64(v->slow_start_ms));
	json_object_object_add(o, "drain_timeout_ms", json_object_new_int64(v->drain_timeout_ms));
	/* issue #14: how connections stay on their backend; a stateless VIP's
	 * slots that now carry a previous hop (handover.h) */
	/* flow_state as configured; flow_state_now as the data plane runs it
	 * (a switch to table waits for the previous hops to end, sync.h) */
	json_object_object_add(o, "flow_state",
			       json_object_new_string(xlb_flow_state_name(
				       sv && sv->switching ? XLB_FLOW_TABLE : v->flow_state)));
	json_object_object_add(o, "flow_state_now",
			       json_object_new_string(xlb_flow_state_name(v->flow_state)));
	json_object_object_add(o, "handover_ms", json_object_new_int64(xlb_cfg_handover_ms(v)));
	/* issue #16: where a retransmitted SYN goes */
	json_object_object_add(o, "syn_retry",
			       json_object_new_string(xlb_syn_retry_name(v->syn_retry)));
	json_object_object_add(o, "slots_with_prev",
			       json_object_new_int64(sv && sv->ho ? sv->ho->with_prev : 0));
	return o;
}

/* A deleted VIP in its grace period: what it still does, and for how long. */
static json_object *gone_json(const struct xlb_sync_gone *g)
{
	json_object *o = vip_json(&g->cfg, NULL);
	struct timespec ts;
	__u64 now;
	char buf[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
	snprintf(buf, sizeof(buf), "deleted: answers %s for %llus more",
		 xlb_on_empty_name(g->cfg.on_empty),
		 (unsigned long long)(g->until_ms > now ? (g->until_ms - now + 999) / 1000 : 0));
	json_object_object_add(o, "state", json_object_new_string(buf));
	json_object_object_add(o, "serving", json_object_new_string(buf));
	json_object_object_add(
		o, "grace_left_ms",
		json_object_new_int64(g->until_ms > now ? (int64_t)(g->until_ms - now) : 0));
	return o;
}

/* "announced", or "withdrawn: <why>" (status and vip list). */
static void announce_json(const struct ctl_view *view, const struct xlb_sync_vip *sv,
			  json_object *o)
{
	struct announce_view av;
	char buf[128];

	json_object_object_add(o, "announce",
			       json_object_new_string(xlb_announce_name(sv->cfg.announce)));
	if (!view->announce)
		return;
	announce_view(view->announce, sv, &av);
	json_object_object_add(o, "announced", json_object_new_boolean(av.announced));
	json_object_object_add(o, "announce_reason",
			       json_object_new_string(xlb_ann_why_text(av.why)));
	if (!av.on)
		snprintf(buf, sizeof(buf), "off");
	else if (av.announced && xlb_ann_wants(av.why) != 1)
		snprintf(buf, sizeof(buf), "announced (%s; for another VIP on the address)",
			 xlb_ann_why_text(av.why));
	else if (av.announced)
		snprintf(buf, sizeof(buf), "announced");
	else
		snprintf(buf, sizeof(buf), "withdrawn: %s", xlb_ann_why_text(av.why));
	json_object_object_add(o, "announcement", json_object_new_string(buf));
	json_object_object_add(o, "maintenance", json_object_new_boolean(av.maintenance));
}

/* Top-level lines of status: the table announced into, maintenance. */
static void announce_summary(const struct ctl_view *view, json_object *reply)
{
	const struct xlb_cfg_announce *an = &view->cfg->announce;
	const char *names[1];
	char buf[96];
	__u64 since;
	size_t n;
	int host;

	if (an->table)
		snprintf(buf, sizeof(buf), "table %u protocol %u hold %ums", an->table,
			 an->protocol, an->hold_ms);
	else
		snprintf(buf, sizeof(buf), "off (no announce block)");
	json_object_object_add(reply, "announce", json_object_new_string(buf));
	if (!view->announce)
		return;
	host = announce_host_maintenance(view->announce, &since);
	n = announce_maintenance_vips(view->announce, names, 1);
	if (host)
		snprintf(buf, sizeof(buf), "the host");
	else if (n)
		snprintf(buf, sizeof(buf), "%zu VIP%s", n, n == 1 ? "" : "s");
	else
		snprintf(buf, sizeof(buf), "off");
	json_object_object_add(reply, "maintenance", json_object_new_string(buf));
}

static int do_vip_list(const struct ctl_view *view, json_object *req, json_object *reply,
		       struct xlb_err *err)
{
	json_object *arr = json_object_new_array();

	(void)req;
	(void)err;
	for (size_t i = 0; i < view->sync->nvips; i++) {
		const struct xlb_sync_vip *sv = &view->sync->vips[i];

		json_object *o = vip_json(&sv->cfg, sv);

		/* a switch to table that waits for the previous hops (sync.h) */
		json_object_object_add(
			o, "state",
			json_object_new_string(sv->switching
						       ? "switching to table once the previous "
							 "hops end (stateless until then)"
						       : "configured"));
		announce_json(view, sv, o);
		json_object_array_add(arr, o);
	}
	for (size_t i = 0; i < view->sync->ngone; i++)
		json_object_array_add(arr, gone_json(&view->sync->gone[i]));
	json_object_object_add(reply, "vips", arr);
	return 0;
}

void ctl_backend_gens(void *sync, __u32 *gen_by_id)
{
	const struct xlb_sync *s = sync;

	for (size_t i = 0; i < s->nvips; i++)
		for (size_t j = 0; j < s->vips[i].nbackends; j++)
			gen_by_id[s->vips[i].backends[j].id] = s->vips[i].backends[j].gen;
}

__u32 *ctl_flow_counts(const struct ctl_view *view)
{
	__u32 *gen = calloc(XLB_MAX_BACKENDS, sizeof(*gen));
	__u32 *cnt = calloc(XLB_MAX_BACKENDS, sizeof(*cnt));

	if (gen)
		ctl_backend_gens((void *)view->sync, gen);
	if (!gen || !cnt || xlb_dp_flow_count(view->dp, gen, cnt, XLB_FLOW_LIVE_TCP_IDLE_S, NULL)) {
		free(cnt);
		cnt = NULL;
	}
	free(gen);
	return cnt;
}

/* For status and backend list: the background sweep's (flowsweep.h), when
 * xlbd runs one, else a pass now. *age_ms: how old the counts are. */
static __u32 *recent_flow_counts(const struct ctl_view *view, __u64 *age_ms)
{
	__u32 *gen, *cnt;

	*age_ms = 0;
	if (!view->flows)
		return ctl_flow_counts(view);
	gen = calloc(XLB_MAX_BACKENDS, sizeof(*gen));
	if (!gen)
		return NULL;
	ctl_backend_gens((void *)view->sync, gen);
	cnt = flowsweep_counts(view->flows, gen, mono_ms(), NULL, age_ms);
	free(gen);
	return cnt;
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* "3s", "4m05s", "2h10m", "3d04h" since wall_ms. */
static const char *age(__u64 wall_ms, char *buf, size_t len)
{
	struct timespec ts;
	__u64 now, s;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
	s = wall_ms && now > wall_ms ? (now - wall_ms) / 1000 : 0;
	if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)s / 60,
			 (unsigned long long)s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)s / 3600,
			 (unsigned long long)s / 60 % 60);
	else
		snprintf(buf, len, "%llud%02lluh", (unsigned long long)s / 86400,
			 (unsigned long long)s / 3600 % 24);
	return buf;
}

/* Outlier detection (issue #16): a short word for tables, and details. */
static void outlier_write(struct strbuf *sb, int *n, const struct outlier_view *ov, int detail)
{
	char buf[128];

	if (!ov->on) /* one word each: tables are read by column */
		snprintf(buf, sizeof(buf), "off");
	else if (ov->ejected)
		snprintf(buf, sizeof(buf), "ejected:%u%%:%llus", ov->why.ratio_pct,
			 (unsigned long long)(ov->back_in_ms + 999) / 1000);
	else
		snprintf(buf, sizeof(buf), "%u%%", ov->why.ratio_pct);
	jw_kstr(sb, n, "outlier", buf);
	jw_kbool(sb, n, "ejected", ov->ejected);
	jw_kint(sb, n, "ejections", (long long)ov->ejections);
	if (!detail)
		return;
	snprintf(buf, sizeof(buf), "%llu of %llu SYNs retransmitted (%u%%) over %u.%us, peers %u%%",
		 (unsigned long long)ov->why.retr, (unsigned long long)ov->why.first,
		 ov->why.ratio_pct, ov->why.span_ms / 1000, ov->why.span_ms % 1000 / 100,
		 ov->why.peers_pct);
	jw_kstr(sb, n, "outlier_reason", ov->why.span_ms ? buf : "not judged yet (too few SYNs)");
	jw_kint(sb, n, "ejected_back_in_ms", (long long)ov->back_in_ms);
}

/*
 * One backend as list and status show it, written as JSON text: at 10,000
 * backends a json-c object each (25 members) held the loop over a second.
 * ss: its SYN counters (read for all at once, backend_syns()).
 */
static void backend_write(struct strbuf *sb, const struct ctl_view *view,
			  const struct xlb_sync_vip *sv, const struct xlb_sync_backend *b,
			  const __u32 *flows, const struct xlb_backend_syn_stats *ss,
			  const char *vn, int detail)
{
	char a[INET6_ADDRSTRLEN], mac[24], buf[32];
	struct check_view cv;
	struct outlier_view ov;
	int n = 0;

	checks_view(view->checks, &sv->cfg, &b->cfg, &cv);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", b->mac[0], b->mac[1], b->mac[2],
		 b->mac[3], b->mac[4], b->mac[5]);
	sb_char(sb, '{');
	jw_kstr(sb, &n, "vip", vn);
	jw_kstr(sb, &n, "address", xlb_addr_str(&b->cfg.addr, a, sizeof(a)));
	jw_kint(sb, &n, "weight", b->cfg.weight);
	jw_kint(sb, &n, "effective_weight", b->weight);
	jw_kstr(sb, &n, "admin", xlb_admin_name(b->cfg.admin));
	jw_kstr(sb, &n, "health", xlb_health_name(cv.checked ? cv.health : b->health));
	outliers_view(view->outliers, sv, b, &ov);
	jw_kstr(sb, &n, "state",
		ov.ejected && b->state == XLB_BE_DRAINING ? "ejected" : state_name(b->state));
	outlier_write(sb, &n, &ov, detail);
	jw_kbool(sb, &n, "backup", b->cfg.backup);
	if (flows)
		jw_kint(sb, &n, "flows", flows[b->id]);
	/* issue #16: SYNs sent to it, those retransmitted (the client got no
	 * answer), and of those the ones sent elsewhere */
	jw_kint(sb, &n, "syn", (long long)ss->syn);
	jw_kint(sb, &n, "syn_retransmits", (long long)ss->syn_retransmits);
	jw_kint(sb, &n, "syn_rerouted", (long long)ss->syn_rerouted);
	jw_kstr(sb, &n, "mac", mac);
	jw_kstr(sb, &n, "next_hop", xlb_nh_strerror(b->resolve_err));
	jw_kint(sb, &n, "id", b->id);
	if (detail) {
		jw_kint(sb, &n, "since", (long long)(cv.since_ms / 1000));
		jw_kstr(sb, &n, "for", age(cv.since_ms, buf, sizeof(buf)));
		jw_kstr(sb, &n, "check", xlb_check_type_name(sv->cfg.check.type));
		jw_kint(sb, &n, "check_port", b->cfg.check.port ? b->cfg.check.port : sv->cfg.port);
		jw_kstr(sb, &n, "last_result", !cv.last_ms ? "none" : cv.last.ok ? "ok" : "fail");
		jw_kstr(sb, &n, "last_reason", cv.last.reason);
		jw_kint(sb, &n, "last_check", (long long)(cv.last_ms / 1000));
		jw_kdouble(sb, &n, "last_duration_ms", cv.last.duration_us / 1000.0);
	}
	sb_char(sb, '}');
}

/* The SYN counters of the backends of view (of VIP `only` when not NULL),
 * in their order: one batched map read, not one lookup each. NULL when out
 * of memory; zeros where the read fails (as a lookup's would have been). */
static struct xlb_backend_syn_stats *backend_syns(const struct ctl_view *view, const char *only)
{
	size_t n = 0, k = 0;
	struct xlb_backend_syn_stats *ss;
	__u32 *ids;
	char vn[80];

	for (size_t i = 0; i < view->sync->nvips; i++)
		n += view->sync->vips[i].nbackends;
	ss = calloc(n ? n : 1, sizeof(*ss));
	ids = calloc(n ? n : 1, sizeof(*ids));
	if (!ss || !ids) {
		free(ss);
		free(ids);
		return NULL;
	}
	for (size_t i = 0; i < view->sync->nvips; i++) {
		const struct xlb_sync_vip *sv = &view->sync->vips[i];

		if (only && strcmp(only, xlb_cfg_vip_name(&sv->cfg, vn, sizeof(vn))))
			continue;
		for (size_t j = 0; j < sv->nbackends; j++)
			ids[k++] = sv->backends[j].id;
	}
	if (k && xlb_dp_backend_syn_stats_many(view->dp, ids, k, ss))
		memset(ss, 0, k * sizeof(*ss));
	free(ids);
	return ss;
}

/* The backends (of VIP `only` when not NULL) as a JSON array; NULL when
 * out of memory. */
static json_object *backends_array(const struct ctl_view *view, const char *only,
				   const __u32 *flows, int detail)
{
	struct xlb_backend_syn_stats *ss = backend_syns(view, only);
	struct strbuf sb = {0};
	size_t k = 0;
	char vn[80];

	if (!ss)
		return NULL;
	sb_char(&sb, '[');
	for (size_t i = 0; i < view->sync->nvips; i++) {
		const struct xlb_sync_vip *sv = &view->sync->vips[i];

		xlb_cfg_vip_name(&sv->cfg, vn, sizeof(vn));
		if (only && strcmp(only, vn))
			continue;
		for (size_t j = 0; j < sv->nbackends; j++, k++) {
			if (k)
				sb_char(&sb, ',');
			backend_write(&sb, view, sv, &sv->backends[j], flows, &ss[k], vn, detail);
		}
	}
	sb_char(&sb, ']');
	free(ss);
	return jw_raw(&sb);
}

static int do_backend_list(const struct ctl_view *view, json_object *req, json_object *reply,
			   struct xlb_err *err)
{
	const char *only = ctl_str(req, "vip", 0, err);
	json_object *arr;
	__u32 *flows;
	__u64 age_ms;

	if (!only && err->msg[0])
		return -EINVAL;
	flows = recent_flow_counts(view, &age_ms);
	arr = backends_array(view, only, flows, 0);
	free(flows);
	if (!arr)
		return -ENOMEM;
	json_object_object_add(reply, "backends", arr);
	add_int(reply, "flows_age_ms", (int64_t)age_ms);
	return 0;
}

static int do_status(const struct ctl_view *view, json_object *req, json_object *reply,
		     struct xlb_err *err)
{
	json_object *vips = json_object_new_array(), *bes;
	__u64 age_ms;
	__u32 *flows = recent_flow_counts(view, &age_ms), p50, p99, n;
	size_t nb = 0;

	(void)req;
	(void)err;
	bes = backends_array(view, NULL, flows, 1);
	if (!bes) {
		free(flows);
		json_object_put(vips);
		return -ENOMEM;
	}
	for (size_t i = 0; i < view->sync->nvips; i++) {
		const struct xlb_sync_vip *sv = &view->sync->vips[i];
		json_object *o = vip_json(&sv->cfg, sv);
		__u32 total = 0;

		for (size_t j = 0; j < sv->nbackends; j++)
			total += flows ? flows[sv->backends[j].id] : 0;
		nb += sv->nbackends;
		add_int(o, "in_table", sv->in_table);
		add_str(o, "serving", sv->in_table ? "yes" : "no: on_empty applies");
		json_object_object_add(o, "panic", json_object_new_boolean(sv->panic));
		announce_json(view, sv, o);
		if (flows)
			add_int(o, "flows", total);
		json_object_array_add(vips, o);
	}
	for (size_t i = 0; i < view->sync->ngone; i++)
		json_object_array_add(vips, gone_json(&view->sync->gone[i]));
	free(flows);
	checks_lateness(view->checks, &p50, &p99, &n);
	add_str(reply, "interface", view->iface);
	add_str(reply, "xdp_mode", view->generic ? "generic" : "native");
	add_int(reply, "vips", (int64_t)view->sync->nvips);
	add_int(reply, "backends", (int64_t)nb);
	add_int(reply, "unresolved_next_hops", *view->unresolved);
	/* the flows columns were counted this long ago (flowsweep.h) */
	add_int(reply, "flows_age_ms", (int64_t)age_ms);
	add_str(reply, "pin_dir", view->pin_dir);
	announce_summary(view, reply);
	if (view->config_digest && view->config_digest[0])
		add_str(reply, "config_digest", view->config_digest);
	add_int(reply, "check_targets", checks_targets(view->checks));
	json_object_object_add(reply, "check_lateness_p50_ms",
			       json_object_new_double(p50 / 1000.0));
	json_object_object_add(reply, "check_lateness_p99_ms",
			       json_object_new_double(p99 / 1000.0));
	json_object_object_add(reply, "vip_status", vips);
	json_object_object_add(reply, "backend_status", bes);
	return 0;
}

static void event_json(const struct event *e, void *arg)
{
	json_object *o = json_object_new_object();

	char ts[40];
	time_t sec = (time_t)(e->wall_ms / 1000);
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03u", (unsigned)(e->wall_ms % 1000));
	add_int(o, "time_ms", (int64_t)e->wall_ms);
	add_str(o, "time", ts);
	add_str(o, "kind", e->kind);
	add_str(o, "vip", e->vip);
	add_str(o, "backend", e->backend);
	add_str(o, "from", e->from);
	add_str(o, "to", e->to);
	add_str(o, "reason", e->reason);
	snprintf(ts, sizeof(ts), "%.1f", e->duration_us / 1000.0);
	add_str(o, "check_ms", ts);
	if (e->by_peer) {
		add_int(o, "uid", e->uid);
		add_int(o, "pid", e->pid);
	}
	json_object_array_add(arg, o);
}

static int do_events(const struct ctl_view *view, json_object *req, json_object *reply,
		     struct xlb_err *err)
{
	json_object *arr = json_object_new_array();

	(void)req;
	(void)err;
	events_each(view->events, event_json, arr);
	json_object_object_add(reply, "events", arr);
	return 0;
}

/* The flow table: size, fill (one pass over the mmapped map), lookups. */
static json_object *flow_table_json(struct xlb_dp *dp)
{
	json_object *o = json_object_new_object();
	struct xlb_dp_flow_lookups l = {};
	__u64 used = 0;

	add_int(o, "entries", xlb_dp_flow_entries(dp));
	if (!xlb_dp_flow_count(dp, NULL, NULL, 0, &used))
		add_int(o, "used", (int64_t)used);
	if (!xlb_dp_flow_lookups(dp, &l)) {
		add_int(o, "hits", (int64_t)l.hits);
		add_int(o, "misses", (int64_t)l.misses);
		add_int(o, "syns", (int64_t)l.syns);
		add_int(o, "evictions", (int64_t)l.evictions);
	}
	return o;
}

static int do_stats(const struct ctl_view *view, json_object *req, json_object *reply,
		    struct xlb_err *err)
{
	json_object *vips = json_object_new_array(), *bes = json_object_new_array(),
		    *reasons = json_object_new_object();
	char vn[80], a[INET6_ADDRSTRLEN];

	(void)req;
	(void)err;
	for (size_t i = 0; i < view->sync->nvips; i++) {
		const struct xlb_sync_vip *sv = &view->sync->vips[i];
		struct xlb_vip_stats vs = {};
		json_object *o = json_object_new_object();

		xlb_dp_vip_stats(view->dp, sv->id, &vs);
		xlb_cfg_vip_name(&sv->cfg, vn, sizeof(vn));
		json_object_object_add(o, "vip", json_object_new_string(vn));
		json_object_object_add(o, "packets", json_object_new_int64((int64_t)vs.packets));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)vs.bytes));
		json_object_object_add(o, "no_backend_packets",
				       json_object_new_int64((int64_t)vs.no_backend_packets));
		json_object_object_add(o, "new_flows",
				       json_object_new_int64((int64_t)vs.new_flows));
		json_object_array_add(vips, o);
		for (size_t j = 0; j < sv->nbackends; j++) {
			const struct xlb_sync_backend *b = &sv->backends[j];
			struct xlb_backend_stats bs = {};
			struct xlb_backend_syn_stats ss = {};
			json_object *bo = json_object_new_object();

			xlb_dp_backend_stats(view->dp, b->id, &bs);
			json_object_object_add(bo, "vip", json_object_new_string(vn));
			json_object_object_add(
				bo, "address",
				json_object_new_string(xlb_addr_str(&b->cfg.addr, a, sizeof(a))));
			json_object_object_add(bo, "packets",
					       json_object_new_int64((int64_t)bs.packets));
			json_object_object_add(bo, "bytes",
					       json_object_new_int64((int64_t)bs.bytes));
			xlb_dp_backend_syn_stats(view->dp, b->id, &ss);
			json_object_object_add(bo, "syn", json_object_new_int64((int64_t)ss.syn));
			json_object_object_add(bo, "syn_retransmits",
					       json_object_new_int64((int64_t)ss.syn_retransmits));
			json_object_object_add(bo, "syn_rerouted",
					       json_object_new_int64((int64_t)ss.syn_rerouted));
			json_object_array_add(bes, bo);
		}
	}
	for (__u32 r = 1; r < XLB_REASON_SLOTS; r++) {
		__u64 n = 0;

		if (xlb_reason_name(r) && !xlb_dp_reason_count(view->dp, r, &n))
			json_object_object_add(reasons, xlb_reason_name(r),
					       json_object_new_int64((int64_t)n));
	}
	json_object_object_add(reply, "vips", vips);
	json_object_object_add(reply, "backends", bes);
	json_object_object_add(reply, "reasons", reasons);
	json_object_object_add(reply, "flow_table", flow_table_json(view->dp));
	return 0;
}

static int do_config_dump(const struct ctl_view *view, json_object *req, json_object *reply,
			  struct xlb_err *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)req;
	if (!f || xlb_cfg_dump(view->cfg, f)) {
		if (f)
			fclose(f);
		free(text);
		return ctl_bad(err, "couldn't print the configuration");
	}
	fclose(f);
	json_object_object_add(reply, "yaml", json_object_new_string(text));
	free(text);
	return 0;
}

/*
 * Maintenance: who is in it, and per VIP in it the packets still arriving
 * and how long none came; "safe" once every VIP in maintenance is
 * withdrawn and quiet for ANNOUNCE_QUIET_MS.
 */
static int do_maintenance_status(const struct ctl_view *view, json_object *req, json_object *reply,
				 struct xlb_err *err)
{
	json_object *arr = json_object_new_array(), *names = json_object_new_array();
	const char *mv[64];
	char vn[80], verdict[200] = "", worst[200] = "";
	size_t n = announce_maintenance_vips(view->announce, mv, 64);
	__u64 since = 0, quiet_min = ~0ULL;
	int host = announce_host_maintenance(view->announce, &since), any = 0, safe = 1;
	double pps_max = 0;

	(void)req;
	(void)err;
	for (size_t i = 0; i < n && i < 64; i++)
		json_object_array_add(names, json_object_new_string(mv[i]));
	for (size_t i = 0; i < view->sync->nvips; i++) {
		const struct xlb_sync_vip *sv = &view->sync->vips[i];
		struct announce_view av;
		json_object *o;

		announce_view(view->announce, sv, &av);
		if (!av.maintenance)
			continue;
		any = 1;
		xlb_cfg_vip_name(&sv->cfg, vn, sizeof(vn));
		o = json_object_new_object();
		add_str(o, "vip", vn);
		json_object_object_add(o, "announced", json_object_new_boolean(av.announced));
		json_object_object_add(o, "measured", json_object_new_boolean(av.sampled));
		json_object_object_add(o, "packets_per_second", json_object_new_double(av.pps));
		add_int(o, "quiet_ms", (int64_t)av.quiet_ms);
		json_object_array_add(arr, o);
		if (av.announced) {
			safe = 0;
			if (!worst[0])
				snprintf(worst, sizeof(worst),
					 "not yet: %.80s is still announced (another VIP on its "
					 "address wants it)",
					 vn);
		} else if (!av.sampled) {
			safe = 0;
			if (!worst[0])
				snprintf(worst, sizeof(worst), "not yet: measuring %.80s", vn);
		} else if (av.pps > 0 && av.pps >= pps_max) {
			safe = 0;
			pps_max = av.pps;
			snprintf(worst, sizeof(worst),
				 "not yet: %.0f pkt/s still arriving on %.80s",
				 av.pps < 1 ? 1 : av.pps, vn);
		}
		if (av.quiet_ms < quiet_min)
			quiet_min = av.quiet_ms;
	}
	if (!host && !n)
		snprintf(verdict, sizeof(verdict), "not in maintenance");
	else if (!any)
		snprintf(verdict, sizeof(verdict),
			 "safe to stop: no VIP in maintenance is "
			 "configured");
	else if (!safe)
		snprintf(verdict, sizeof(verdict), "%s", worst);
	else if (quiet_min < ANNOUNCE_QUIET_MS) {
		safe = 0;
		snprintf(verdict, sizeof(verdict), "not yet: no VIP traffic for %llus (%ds needed)",
			 (unsigned long long)(quiet_min / 1000), ANNOUNCE_QUIET_MS / 1000);
	} else
		snprintf(verdict, sizeof(verdict), "safe to stop: no VIP traffic for %llus",
			 (unsigned long long)(quiet_min / 1000));
	json_object_object_add(reply, "host", json_object_new_boolean(host));
	if (host)
		add_int(reply, "host_since", (int64_t)(since / 1000));
	json_object_object_add(reply, "maintenance_vips", names);
	json_object_object_add(reply, "announcing",
			       json_object_new_boolean(view->cfg->announce.table));
	add_int(reply, "quiet_needed_ms", ANNOUNCE_QUIET_MS);
	json_object_object_add(reply, "vips", arr);
	json_object_object_add(reply, "safe", json_object_new_boolean((host || n) && safe));
	add_str(reply, "verdict", verdict);
	return 0;
}

struct ctl_query {
	const char *name;
	int (*run)(const struct ctl_view *view, json_object *req, json_object *reply,
		   struct xlb_err *err);
};

// clang-format off
static const struct ctl_query queries[] = {
	{ "status",       do_status },
	{ "stats",        do_stats },
	{ "vip-list",     do_vip_list },
	{ "backend-list", do_backend_list },
	{ "events",       do_events },
	{ "config-dump",  do_config_dump },
	{ "maintenance-status", do_maintenance_status },
};
// clang-format on

const struct ctl_query *ctl_query_find(const char *name)
{
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		if (!strcmp(queries[i].name, name))
			return &queries[i];
	return NULL;
}

int ctl_query_run(const struct ctl_query *q, const struct ctl_view *v, json_object *req,
		  json_object *reply, struct xlb_err *err)
{
	return q->run(v, req, reply, err);
}
