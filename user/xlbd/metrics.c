// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Prometheus exposition of xlbd; see metrics.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <microhttpd.h>

#include "agent.h"
#include "ejection.h"
#include "announce.h"
#include "handover.h"
#include "log.h"
#include "strbuf.h"
#include "counters.h"
#include "metrics.h"

#define SNAPSHOT_WAIT_MS 2000
#define HEALTHZ_STALE_S 5

/* ---- snapshots: built by the loop, read by the HTTP thread ------------- */

struct snap_vip {
	__u32 id, nbackends, in_table;
	__u8 panic;
	__u8 announced;	 /* its address is in the announce table */
	__u32 with_prev; /* stateless: slots carrying a previous hop */
	char name[64];
};

struct snap_be {
	size_t vip; /* index into vips */
	__u32 id, gen, weight, eff;
	__u8 admin, health, state, ejected;
	__u64 changes, ejections;
	char addr[48];
};

struct snap {
	int refs;
	struct snap_vip *vips;
	struct snap_be *bes;
	size_t nvips, nbes;
	struct agent_counters c;
	__u8 maintenance;		 /* the host is in maintenance */
	char digest[XLB_CFG_DIGEST_LEN]; /* the running config's (cfgdigest.h) */
};

struct metrics {
	struct agent *ag;
	struct MHD_Daemon *httpd;
	int efd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct snap *snap;  /* the newest, one ref held here */
	__u64 seq;	    /* snapshots built */
	__u64 heartbeat_s;  /* CLOCK_MONOTONIC of the loop's last tick */
	double start_s;	    /* unix time */
	struct body *spare; /* a scrape's buffer, kept for the next one */
};

static void snap_put(struct snap *s)
{
	if (!s || --s->refs)
		return;
	free(s->vips);
	free(s->bes);
	free(s);
}

static struct snap *build(struct agent *ag)
{
	const struct xlb_sync *sy = ag->sync;
	struct snap *s = calloc(1, sizeof(*s));
	size_t nb = 0;

	if (!s)
		return NULL;
	for (size_t i = 0; i < sy->nvips; i++)
		nb += sy->vips[i].nbackends;
	s->refs = 1;
	s->vips = calloc(sy->nvips ? sy->nvips : 1, sizeof(*s->vips));
	s->bes = calloc(nb ? nb : 1, sizeof(*s->bes));
	if (!s->vips || !s->bes) {
		snap_put(s);
		return NULL;
	}
	for (size_t i = 0; i < sy->nvips; i++) {
		const struct xlb_sync_vip *v = &sy->vips[i];
		struct snap_vip *sv = &s->vips[s->nvips++];

		*sv = (struct snap_vip){.id = v->id,
					.nbackends = (__u32)v->nbackends,
					.in_table = v->in_table,
					.panic = v->panic,
					.with_prev = v->ho ? v->ho->with_prev : 0};
		xlb_cfg_vip_name(&v->cfg, sv->name, sizeof(sv->name));
		if (ag->announce) {
			struct announce_view av;

			announce_view(ag->announce, v, &av);
			sv->announced = (__u8)av.announced;
		}
		for (size_t j = 0; j < v->nbackends; j++) {
			const struct xlb_sync_backend *b = &v->backends[j];
			struct snap_be *sb = &s->bes[s->nbes++];
			struct check_view cv;
			struct outlier_view ov;

			checks_view(ag->checks, &v->cfg, &b->cfg, &cv);
			outliers_view(ag->outliers, v, b, &ov);
			*sb = (struct snap_be){.vip = i,
					       .id = b->id,
					       .gen = b->gen,
					       .weight = b->cfg.weight,
					       .eff = b->weight,
					       .admin = b->cfg.admin,
					       .health = cv.checked ? cv.health : b->health,
					       .state = b->state,
					       .changes = cv.changes,
					       .ejected = ov.ejected,
					       .ejections = ov.ejections};
			xlb_addr_str(&b->cfg.addr, sb->addr, sizeof(sb->addr));
		}
	}
	s->c = ag->counters;
	if (ag->announce) {
		__u64 since;

		s->maintenance = (__u8)announce_host_maintenance(ag->announce, &since);
	}
	memcpy(s->digest, ag->config_digest, sizeof(s->digest));
	return s;
}

void metrics_on_request(struct metrics *m)
{
	__u64 n;
	struct snap *s;

	if (read(m->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_debug("metrics: eventfd: %s\n", strerror(errno));
	s = build(m->ag);
	pthread_mutex_lock(&m->lock);
	if (s) {
		snap_put(m->snap);
		m->snap = s;
	}
	m->seq++;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

static __u64 mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec;
}

void metrics_heartbeat(struct metrics *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->heartbeat_s = mono_s();
	pthread_mutex_unlock(&m->lock);
}

/* A fresh snapshot from the loop (or the last one if it is slow). */
static struct snap *snapshot(struct metrics *m)
{
	struct timespec until;
	struct snap *s;
	__u64 one = 1, seq;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SNAPSHOT_WAIT_MS / 1000;
	pthread_mutex_lock(&m->lock);
	seq = m->seq;
	if (write(m->efd, &one, sizeof(one)) < 0)
		pr_debug("metrics: eventfd: %s\n", strerror(errno));
	while (m->seq == seq)
		if (pthread_cond_timedwait(&m->cond, &m->lock, &until))
			break;
	s = m->snap;
	if (s)
		s->refs++;
	pthread_mutex_unlock(&m->lock);
	return s;
}

static void drop_ref(struct metrics *m, struct snap *s)
{
	pthread_mutex_lock(&m->lock);
	snap_put(s);
	pthread_mutex_unlock(&m->lock);
}

/* ---- rendering ---------------------------------------------------------- */

/*
 * Into a strbuf: the many series (per VIP, per backend) by plain appends,
 * the few others by printf. Every value is an unsigned integer written as
 * %llu / %u / %d wrote them before.
 */

static void family(struct strbuf *b, const char *name, const char *type, const char *help)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void histogram(struct strbuf *b, const char *name, const __u64 *hist, double sum)
{
	__u64 cum = 0;

	for (int i = 0; i < COUNTERS_NBUCKETS; i++) {
		cum += hist[i];
		sb_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, counters_bucket(i),
			  (unsigned long long)cum);
	}
	sb_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	sb_printf(b, "%s_sum %.6f\n%s_count %llu\n", name, sum, name, (unsigned long long)cum);
}

/* One scrape's values of a VIP. */
struct vip_row {
	const struct snap_vip *v;
	const struct xlb_vip_stats *st;
};

/* A family with one series a VIP ({vip="..."}). */
struct vip_family {
	const char *name, *type, *help;
	__u64 (*value)(const struct vip_row *r);
};

#define VIP_VALUE(fn, expr)                                                                        \
	static __u64 fn(const struct vip_row *r)                                                   \
	{                                                                                          \
		return (expr);                                                                     \
	}
VIP_VALUE(vip_packets, r->st->packets)
VIP_VALUE(vip_bytes, r->st->bytes)
VIP_VALUE(vip_new_flows, r->st->new_flows)
VIP_VALUE(vip_no_backend, r->st->no_backend_packets)
VIP_VALUE(vip_backends, r->v->nbackends)
VIP_VALUE(vip_usable, r->v->in_table)
VIP_VALUE(vip_panic, r->v->panic)
VIP_VALUE(vip_with_prev, r->v->with_prev)
VIP_VALUE(vip_announced, r->v->announced)
#undef VIP_VALUE

static const struct vip_family vip_families[] = {
	{"xlb_vip_packets_total", "counter", "Packets for the VIP, all outcomes.", vip_packets},
	{"xlb_vip_bytes_total", "counter", "Bytes of those packets (L2 frame length).", vip_bytes},
	{"xlb_vip_new_flows_total", "counter", "Flows entered into the flow table.", vip_new_flows},
	{"xlb_no_healthy_backend_packets_total", "counter",
	 "Packets of new flows that found no usable backend (on_empty applied).", vip_no_backend},
	{"xlb_vip_backends", "gauge", "Backends configured for the VIP.", vip_backends},
	{"xlb_vip_usable_backends", "gauge",
	 "Backends with a share of the VIP's table; 0 = nothing usable.", vip_usable},
	{"xlb_vip_panic", "gauge",
	 "1 while the panic threshold keeps unhealthy backends in the table.", vip_panic},
	/* issue #14: stateless VIPs (handover.h) */
	{"xlb_vip_handover_slots", "gauge",
	 "Slots of the VIP's table that carry a previous hop (flow_state stateless; 0 otherwise).",
	 vip_with_prev},
	/* issue #13: routes for BGP (announce.h) */
	{"xlb_vip_announced", "gauge",
	 "1 while this host announces the VIP's address (a route in the announce table).",
	 vip_announced},
};

static void render_vips(struct strbuf *b, struct xlb_dp *dp, const struct snap *s)
{
	size_t n = s->nvips ? s->nvips : 1;
	struct xlb_vip_stats *st = calloc(n, sizeof(*st));
	__u32 *ids = calloc(n, sizeof(*ids));

	if (!st || !ids)
		goto out;
	for (size_t i = 0; i < s->nvips; i++)
		ids[i] = s->vips[i].id;
	xlb_dp_vip_stats_many(dp, ids, s->nvips, st); /* on error: zeros, as before */
	for (size_t f = 0; f < sizeof(vip_families) / sizeof(vip_families[0]); f++) {
		const struct vip_family *fam = &vip_families[f];

		family(b, fam->name, fam->type, fam->help);
		for (size_t i = 0; i < s->nvips; i++) {
			struct vip_row r = {&s->vips[i], &st[i]};

			sb_str(b, fam->name);
			sb_str(b, "{vip=\"");
			sb_str(b, s->vips[i].name);
			sb_str(b, "\"} ");
			sb_u64(b, fam->value(&r));
			sb_char(b, '\n');
		}
	}
	family(b, "xlb_maintenance", "gauge",
	       "1 while the host is in maintenance (xlbctl maintenance on): nothing announced.");
	sb_printf(b, "xlb_maintenance %u\n", s->maintenance);
out:
	free(st);
	free(ids);
}

/* The flow table: size, fill (used from the backends' flow count pass),
 * lookups and evictions (README "Flow table"). */
static void render_flow_table(struct strbuf *b, struct xlb_dp *dp, __u64 used)
{
	struct xlb_dp_flow_lookups l = {};

	family(b, "xlb_flow_table_entries", "gauge",
	       "Flows the flow table holds (flow_table_size).");
	sb_printf(b, "xlb_flow_table_entries %u\n", xlb_dp_flow_entries(dp));
	family(b, "xlb_flow_table_used", "gauge",
	       "Flow-table entries in use, live or not (fill = used / entries).");
	sb_printf(b, "xlb_flow_table_used %llu\n", (unsigned long long)used);
	if (xlb_dp_flow_lookups(dp, &l))
		return;
	family(b, "xlb_flow_table_lookups_total", "counter",
	       "Packets of established flows (not TCP SYNs) by flow-table result: hit, or miss "
	       "(Maglev chose the backend).");
	sb_printf(b, "xlb_flow_table_lookups_total{result=\"hit\"} %llu\n",
		  (unsigned long long)l.hits);
	sb_printf(b, "xlb_flow_table_lookups_total{result=\"miss\"} %llu\n",
		  (unsigned long long)l.misses);
	family(b, "xlb_flow_table_evictions_total", "counter",
	       "New flows that replaced the least recently used flow of a full bucket.");
	sb_printf(b, "xlb_flow_table_evictions_total %llu\n", (unsigned long long)l.evictions);
}

/* One scrape's values of a backend: the snapshot's, the data plane's. */
struct be_row {
	const struct snap_be *b;
	const struct xlb_backend_stats *st;
	const struct xlb_backend_syn_stats *ss;
	__u32 flows;
};

/*
 * A family with one series a backend ({vip="...",backend="..."}), or, with
 * states, one a backend and state ({...,state="..."}): 1 for the state
 * whose index value() gives, 0 for the others. A new per-backend family is
 * a value function and a row here (and its field in struct snap_be or
 * struct be_row).
 */
struct be_family {
	const char *name, *type, *help;
	__u64 (*value)(const struct be_row *r);
	const char *const *states; /* NULL-terminated, or NULL */
};

#define BE_VALUE(fn, expr)                                                                         \
	static __u64 fn(const struct be_row *r)                                                    \
	{                                                                                          \
		return (expr);                                                                     \
	}
BE_VALUE(be_packets, r->st->packets)
BE_VALUE(be_bytes, r->st->bytes)
BE_VALUE(be_syn, r->ss->syn)
BE_VALUE(be_syn_retransmits, r->ss->syn_retransmits)
BE_VALUE(be_syn_rerouted, r->ss->syn_rerouted)
BE_VALUE(be_up, r->b->health == XLB_HEALTH_UP)
BE_VALUE(be_weight, r->b->weight)
BE_VALUE(be_eff, r->b->eff)
BE_VALUE(be_flows, r->flows)
BE_VALUE(be_changes, r->b->changes)
BE_VALUE(be_ejected, r->b->ejected)
BE_VALUE(be_ejections, r->b->ejections)
BE_VALUE(be_admin, r->b->admin)
BE_VALUE(be_state, r->b->state)
#undef BE_VALUE

static const char *const admin_states[] = {"enabled", "drain", "disabled", NULL};
static const char *const dp_states[] = {"down", "active", "draining", NULL};

static const struct be_family be_families[] = {
	{"xlb_backend_packets_total", "counter", "Packets forwarded to the backend.", be_packets,
	 NULL},
	{"xlb_backend_bytes_total", "counter", "Bytes forwarded to the backend.", be_bytes, NULL},
	/* issue #16: the passive signal of a silent backend */
	{"xlb_backend_syn_total", "counter",
	 "TCP SYNs forwarded to the backend (each attempt, retransmissions included).", be_syn,
	 NULL},
	{"xlb_backend_syn_retransmits_total", "counter",
	 "Clients' SYNs retransmitted while their flow was still opening on the backend (no "
	 "SYN-ACK reached them).",
	 be_syn_retransmits, NULL},
	{"xlb_backend_syn_rerouted_total", "counter",
	 "Of those, sent to another backend of the VIP (syn_retry another-backend).",
	 be_syn_rerouted, NULL},
	{"xlb_backend_up", "gauge", "1 when the backend's health is up.", be_up, NULL},
	{"xlb_backend_weight", "gauge", "Configured weight.", be_weight, NULL},
	{"xlb_backend_effective_weight", "gauge",
	 "Weight in the table now (0 = out; slow start ramps it).", be_eff, NULL},
	{"xlb_backend_flows", "gauge", "Live flows of the backend in the flow table.", be_flows,
	 NULL},
	{"xlb_backend_health_changes_total", "counter",
	 "Health transitions of the backend's check.", be_changes, NULL},
	/* issue #16: ejected by outlier detection (its clients' SYNs went unanswered) */
	{"xlb_backend_ejected", "gauge",
	 "1 while outlier detection keeps the backend out of its VIP's table for new flows.",
	 be_ejected, NULL},
	{"xlb_backend_ejections_total", "counter",
	 "Times outlier detection ejected the backend (since xlbd started).", be_ejections, NULL},
	{"xlb_backend_admin_state", "gauge",
	 "Admin state set by the operator: 1 for the current one.", be_admin, admin_states},
	{"xlb_backend_state", "gauge",
	 "Data-plane state (active, draining, down): 1 for the current one.", be_state, dp_states},
};

/* The "{vip=\"...\",backend=\"...\"" of every backend, once a scrape: lab
 * holds them one after another, off[i] .. off[i + 1] is backend i's. */
static int be_labels(const struct snap *s, struct strbuf *lab, size_t *off)
{
	for (size_t i = 0; i < s->nbes; i++) {
		off[i] = lab->len;
		sb_str(lab, "{vip=\"");
		sb_str(lab, s->vips[s->bes[i].vip].name);
		sb_str(lab, "\",backend=\"");
		sb_str(lab, s->bes[i].addr);
		sb_char(lab, '"');
	}
	off[s->nbes] = lab->len;
	return lab->oom ? -ENOMEM : 0;
}

static void render_be_family(struct strbuf *b, const struct be_family *fam,
			     const struct be_row *rows, size_t n, const struct strbuf *lab,
			     const size_t *off)
{
	size_t nlen = strlen(fam->name);

	family(b, fam->name, fam->type, fam->help);
	for (size_t i = 0; i < n; i++) {
		__u64 v = fam->value(&rows[i]);

		if (!fam->states) {
			sb_mem(b, fam->name, nlen);
			sb_mem(b, lab->p + off[i], off[i + 1] - off[i]);
			sb_mem(b, "} ", 2);
			sb_u64(b, v);
			sb_char(b, '\n');
			continue;
		}
		for (__u64 k = 0; fam->states[k]; k++) {
			sb_mem(b, fam->name, nlen);
			sb_mem(b, lab->p + off[i], off[i + 1] - off[i]);
			sb_str(b, ",state=\"");
			sb_str(b, fam->states[k]);
			sb_mem(b, "\"} ", 3);
			sb_char(b, v == k ? '1' : '0');
			sb_char(b, '\n');
		}
	}
}

static void render_backends(struct strbuf *b, struct xlb_dp *dp, const struct snap *s)
{
	size_t n = s->nbes ? s->nbes : 1;
	struct xlb_backend_stats *st = calloc(n, sizeof(*st));
	struct xlb_backend_syn_stats *ss = calloc(n, sizeof(*ss));
	struct be_row *rows = calloc(n, sizeof(*rows));
	size_t *off = calloc(n + 1, sizeof(*off));
	__u32 *ids = calloc(n, sizeof(*ids));
	__u32 *gen = calloc(XLB_MAX_BACKENDS, sizeof(*gen));
	__u32 *flows = calloc(XLB_MAX_BACKENDS, sizeof(*flows));
	struct strbuf lab = {0};
	__u64 total = 0, used = 0;

	if (!st || !ss || !rows || !off || !ids || !gen || !flows)
		goto out;
	for (size_t i = 0; i < s->nbes; i++) {
		ids[i] = s->bes[i].id;
		gen[s->bes[i].id % XLB_MAX_BACKENDS] = s->bes[i].gen;
	}
	/* on error: zeros, as before */
	xlb_dp_backend_stats_many(dp, ids, s->nbes, st);
	xlb_dp_backend_syn_stats_many(dp, ids, s->nbes, ss);
	xlb_dp_flow_count(dp, gen, flows, XLB_FLOW_LIVE_TCP_IDLE_S, &used);
	for (size_t i = 0; i < s->nbes; i++)
		rows[i] = (struct be_row){.b = &s->bes[i],
					  .st = &st[i],
					  .ss = &ss[i],
					  .flows = flows[s->bes[i].id % XLB_MAX_BACKENDS]};
	if (be_labels(s, &lab, off))
		goto out;
	for (size_t f = 0; f < sizeof(be_families) / sizeof(be_families[0]); f++)
		render_be_family(b, &be_families[f], rows, s->nbes, &lab, off);
	for (size_t i = 0; i < s->nbes; i++)
		total += rows[i].flows;
	family(b, "xlb_flows", "gauge", "Live flows in the flow table.");
	sb_printf(b, "xlb_flows %llu\n", (unsigned long long)total);
	render_flow_table(b, dp, used);
out:
	sb_free(&lab);
	free(st);
	free(ss);
	free(rows);
	free(off);
	free(ids);
	free(gen);
	free(flows);
}

static void render_reasons(struct strbuf *b, struct xlb_dp *dp)
{
	static const char *const kinds[] = {"drop", "tx", "pass", "event"};
	__u64 n[XLB_REASON_SLOTS];
	int ok = !xlb_dp_reason_counts(dp, n);

	family(b, "xlb_drop_packets_total", "counter",
	       "Packets dropped by the data plane, by reason.");
	for (__u32 r = 1; ok && r < XLB_REASON_SLOTS; r++)
		if (xlb_reason_name(r) && xlb_reason_kind(r) == XLB_KIND_DROP)
			sb_printf(b, "xlb_drop_packets_total{reason=\"%s\"} %llu\n",
				  xlb_reason_name(r), (unsigned long long)n[r]);
	family(b, "xlb_packet_events_total", "counter",
	       "Packets answered (tx), passed to the stack (pass) or noted (event), by reason.");
	for (__u32 r = 1; ok && r < XLB_REASON_SLOTS; r++) {
		int k = xlb_reason_kind(r);

		if (xlb_reason_name(r) && k != XLB_KIND_DROP && k >= 0 && k < 4)
			sb_printf(b, "xlb_packet_events_total{reason=\"%s\",kind=\"%s\"} %llu\n",
				  xlb_reason_name(r), kinds[k], (unsigned long long)n[r]);
	}
}

static void render_agent(struct strbuf *b, const struct metrics *m, const struct snap *s)
{
	const struct agent_counters *c = &s->c;

	family(b, "xlb_build_info", "gauge", "xlbd's version.");
	sb_printf(b, "xlb_build_info{version=\"%s\"} 1\n", XLB_VERSION);
	/* hosts of one fleet must show one digest (alert XlbFleetConfigDiffers) */
	if (s->digest[0]) {
		family(b, "xlb_config_digest", "gauge",
		       "Digest of the running configuration and hash seed; the same on every "
		       "host that forwards alike.");
		sb_printf(b, "xlb_config_digest{digest=\"%s\"} 1\n", s->digest);
	}
	family(b, "xlb_agent_start_time_seconds", "gauge", "When xlbd started (unix time).");
	sb_printf(b, "xlb_agent_start_time_seconds %.3f\n", m->start_s);
	family(b, "xlb_healthcheck_results_total", "counter", "Health-check results by kind.");
	for (int i = 0; i < COUNTERS_NRESULTS; i++)
		sb_printf(b, "xlb_healthcheck_results_total{result=\"%s\"} %llu\n",
			  counters_result(i), (unsigned long long)c->hc_results[i]);
	family(b, "xlb_healthcheck_duration_seconds", "histogram",
	       "How long health checks took, to their outcome.");
	histogram(b, "xlb_healthcheck_duration_seconds", c->hc_hist, c->hc_sum_s);
	family(b, "xlb_table_updates_total", "counter", "Maglev tables built and swapped in.");
	sb_printf(b, "xlb_table_updates_total %llu\n", (unsigned long long)c->table_updates);
	family(b, "xlb_table_update_duration_seconds", "histogram",
	       "Time to program one VIP's table, kernel grace period included.");
	histogram(b, "xlb_table_update_duration_seconds", c->table_hist, c->table_sum_s);
	family(b, "xlb_config_reloads_total", "counter",
	       "Configuration reloads (SIGHUP, xlbctl reload, xlbctl apply) by result.");
	sb_printf(b, "xlb_config_reloads_total{result=\"success\"} %llu\n",
		  (unsigned long long)c->reloads_ok);
	sb_printf(b, "xlb_config_reloads_total{result=\"failure\"} %llu\n",
		  (unsigned long long)c->reloads_failed);
	family(b, "xlb_config_last_reload_success_timestamp_seconds", "gauge",
	       "When a configuration was last applied successfully (unix time).");
	sb_printf(b, "xlb_config_last_reload_success_timestamp_seconds %.3f\n",
		  c->last_reload_ok_s);
}

/* ---- HTTP ---------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code, char *body, size_t len,
			     const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * The body of a scrape: a strbuf that goes back to m->spare when MHD is
 * done with the response, so steady scrapes reuse one buffer (13 MB with
 * 10,000 backends) instead of allocating and faulting in a new one each.
 */
struct body {
	struct metrics *m;
	struct strbuf sb;
};

static struct body *body_get(struct metrics *m)
{
	struct body *b;

	pthread_mutex_lock(&m->lock);
	b = m->spare;
	m->spare = NULL;
	pthread_mutex_unlock(&m->lock);
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return NULL;
		b->m = m;
	}
	sb_reset(&b->sb);
	return b;
}

static void body_put(void *cls)
{
	struct body *b = cls;
	struct metrics *m = b->m;

	pthread_mutex_lock(&m->lock);
	if (!m->spare) {
		m->spare = b;
		b = NULL;
	}
	pthread_mutex_unlock(&m->lock);
	if (b) {
		sb_free(&b->sb);
		free(b);
	}
}

static enum MHD_Result reply_metrics(struct MHD_Connection *conn, struct body *b)
{
	struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
		b->sb.len, b->sb.p, body_put, b);
	enum MHD_Result ret;

	if (!r) {
		body_put(b);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url,
			     const char *method, const char *version, const char *upload,
			     size_t *upload_len, void **state)
{
	struct metrics *m = cls;
	struct body *b;
	struct snap *s;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("GET only\n"), 9,
			     "text/plain");
	if (!strcmp(url, "/healthz")) {
		__u64 beat;

		pthread_mutex_lock(&m->lock);
		beat = m->heartbeat_s;
		pthread_mutex_unlock(&m->lock);
		if (mono_s() - beat > HEALTHZ_STALE_S)
			return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				     strdup("xlbd's event loop is stuck\n"), 27, "text/plain");
		return reply(conn, MHD_HTTP_OK, strdup("ok\n"), 3, "text/plain");
	}
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, strdup("try /metrics or /healthz\n"), 25,
			     "text/plain");
	b = body_get(m);
	if (!b)
		return MHD_NO;
	s = snapshot(m);
	if (!s) {
		body_put(b);
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, strdup("no snapshot yet\n"), 16,
			     "text/plain");
	}
	render_vips(&b->sb, m->ag->dp, s);
	render_backends(&b->sb, m->ag->dp, s);
	render_reasons(&b->sb, m->ag->dp);
	render_agent(&b->sb, m, s);
	drop_ref(m, s);
	if (b->sb.oom) {
		body_put(b);
		return MHD_NO;
	}
	return reply_metrics(conn, b);
}

/* ---- life cycle ----------------------------------------------------------- */

static int parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	unsigned long port;
	char *end;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !port || port > 65535)
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	if (host[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		size_t n = strlen(host);

		if (host[n - 1] != ']')
			return -EINVAL;
		host[n - 1] = 0;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((__u16)port);
		return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_port = htons((__u16)port);
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -EINVAL;
}

int metrics_start(struct agent *ag, const char *listen, struct metrics **out)
{
	struct sockaddr_storage ss = {};
	struct metrics *m;
	struct timespec now;

	*out = NULL;
	if (!strcmp(listen, "off"))
		return 0;
	if (parse_listen(listen, &ss))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ag = ag;
	clock_gettime(CLOCK_REALTIME, &now);
	m->start_s = (double)now.tv_sec + now.tv_nsec / 1e9;
	m->heartbeat_s = mono_s();
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->efd < 0) {
		metrics_stop(m);
		return -errno;
	}
	m->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
					    (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				    0, NULL, NULL, serve, m, MHD_OPTION_SOCK_ADDR,
				    (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT,
				    (unsigned int)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				    MHD_OPTION_END);
	if (!m->httpd) {
		metrics_stop(m);
		return -EADDRINUSE;
	}
	*out = m;
	return 0;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	if (m->httpd)
		MHD_stop_daemon(m->httpd);
	if (m->efd >= 0)
		close(m->efd);
	snap_put(m->snap);
	if (m->spare) {
		sb_free(&m->spare->sb);
		free(m->spare);
	}
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	free(m);
}

int metrics_fd(const struct metrics *m)
{
	return m ? m->efd : -1;
}
