// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The Prometheus text of a scrape; see metrics_text.h. */
#include <stdlib.h>
#include <string.h>

#include "health.h" /* XLB_HEALTH_UP */
#include "metrics_text.h"

struct mtext_cache {
	struct strbuf lab; /* backend i's labels: lab.p[off[i] .. off[i + 1]) */
	size_t *off;
	union xlb_addr *addr; /* what they were made of: backend i's address, */
	__u32 *vip;	      /* its VIP's index */
	char (*names)[64];    /* and the VIPs' names */
	size_t nbes, nvips;
	size_t longest; /* the longest label text */
	__u64 made;
};

struct mtext_cache *mtext_cache_new(void)
{
	return calloc(1, sizeof(struct mtext_cache));
}

static void cache_clear(struct mtext_cache *c)
{
	sb_free(&c->lab);
	free(c->off);
	free(c->addr);
	free(c->vip);
	free(c->names);
	c->off = NULL;
	c->addr = NULL;
	c->vip = NULL;
	c->names = NULL;
	c->nbes = c->nvips = c->longest = 0;
}

void mtext_cache_free(struct mtext_cache *c)
{
	if (!c)
		return;
	cache_clear(c);
	free(c);
}

__u64 mtext_cache_made(const struct mtext_cache *c)
{
	return c->made;
}

/* The cached labels are the snapshot's: same VIP names, same backends in
 * the same order. */
static int cache_fits(const struct mtext_cache *c, const struct snap *s)
{
	if (!c->off || c->nbes != s->nbes || c->nvips != s->nvips)
		return 0;
	for (size_t i = 0; i < s->nvips; i++)
		if (strcmp(c->names[i], s->vips[i].name))
			return 0;
	for (size_t i = 0; i < s->nbes; i++)
		if (c->vip[i] != s->bes[i].vip ||
		    memcmp(&c->addr[i], &s->bes[i].addr, sizeof(c->addr[i])))
			return 0;
	return 1;
}

static int cache_make(struct mtext_cache *c, const struct snap *s)
{
	size_t nb = s->nbes ? s->nbes : 1, nv = s->nvips ? s->nvips : 1;
	char addr[48];

	cache_clear(c);
	c->off = malloc((nb + 1) * sizeof(*c->off));
	c->addr = malloc(nb * sizeof(*c->addr));
	c->vip = malloc(nb * sizeof(*c->vip));
	c->names = malloc(nv * sizeof(*c->names));
	if (!c->off || !c->addr || !c->vip || !c->names)
		goto fail;
	for (size_t i = 0; i < s->nvips; i++)
		memcpy(c->names[i], s->vips[i].name, sizeof(c->names[i]));
	for (size_t i = 0; i < s->nbes; i++) {
		const struct snap_be *b = &s->bes[i];

		c->off[i] = c->lab.len;
		c->addr[i] = b->addr;
		c->vip[i] = b->vip;
		xlb_addr_str(&b->addr, addr, sizeof(addr));
		sb_str(&c->lab, "{vip=\"");
		sb_str(&c->lab, s->vips[b->vip].name);
		sb_str(&c->lab, "\",backend=\"");
		sb_str(&c->lab, addr);
		sb_char(&c->lab, '"');
	}
	c->off[s->nbes] = c->lab.len;
	if (c->lab.oom)
		goto fail;
	for (size_t i = 0; i < s->nbes; i++)
		if (c->off[i + 1] - c->off[i] > c->longest)
			c->longest = c->off[i + 1] - c->off[i];
	c->nbes = s->nbes;
	c->nvips = s->nvips;
	c->made++;
	return 0;
fail:
	cache_clear(c);
	return -1;
}

/* ---- helpers -------------------------------------------------------------- */

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

/* Raw writes into room reserved beforehand (no check a call). */
static inline char *put(char *p, const void *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static inline char *put_u64(char *p, __u64 v)
{
	char d[XLB_U64_DIGITS], *s = xlb_u64_digits(v, d + sizeof(d));

	return put(p, s, (size_t)(d + sizeof(d) - s));
}

/* ---- per VIP -------------------------------------------------------------- */

struct vip_row {
	const struct snap_vip *v;
	const struct xlb_vip_stats *st;
};

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

static void render_vips(struct strbuf *b, const struct snap *s, const struct mtext_dp *dp)
{
	static const struct xlb_vip_stats zero;

	for (size_t f = 0; f < sizeof(vip_families) / sizeof(vip_families[0]); f++) {
		const struct vip_family *fam = &vip_families[f];

		family(b, fam->name, fam->type, fam->help);
		for (size_t i = 0; i < s->nvips; i++) {
			struct vip_row r = {&s->vips[i], dp->vips ? &dp->vips[i] : &zero};

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
}

/* ---- per backend ------------------------------------------------------------ */

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
	/* issue #15: a sweep's count, no pass over the table a scrape */
	{"xlb_backend_flows", "gauge",
	 "Live flows of the backend in the flow table, as the background sweep counted them "
	 "(up to ~2 s old).",
	 be_flows, NULL},
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

/* Room for the longest series of a family: name, labels, the state
 * label, 20 digits and the punctuation. */
static size_t line_max(const struct be_family *fam, size_t nlen, size_t lab)
{
	size_t st = 0;

	for (size_t k = 0; fam->states && fam->states[k]; k++)
		st = strlen(fam->states[k]) > st ? strlen(fam->states[k]) : st;
	return nlen + lab + sizeof(",state=\"\"} ") + st + 20 + 1;
}

/* Backends written into one reservation: the room asked beyond what is
 * written stays small (the buffer is kept across scrapes at its size). */
#define BE_BLOCK 256

/* Backends [i, end) of a family into room reserved beforehand. */
static char *be_lines(char *p, const struct be_family *fam, size_t nlen, size_t nstates,
		      const struct be_row *rows, size_t i, size_t end, const struct mtext_cache *c)
{
	for (; i < end; i++) {
		const char *lab = c->lab.p + c->off[i];
		size_t llen = c->off[i + 1] - c->off[i];
		__u64 v = fam->value(&rows[i]);

		if (!nstates) {
			p = put(p, fam->name, nlen);
			p = put(p, lab, llen);
			p = put(p, "} ", 2);
			p = put_u64(p, v);
			*p++ = '\n';
			continue;
		}
		for (size_t k = 0; k < nstates; k++) {
			p = put(p, fam->name, nlen);
			p = put(p, lab, llen);
			p = put(p, ",state=\"", 8);
			p = put(p, fam->states[k], strlen(fam->states[k]));
			p = put(p, "\"} ", 3);
			*p++ = v == k ? '1' : '0';
			*p++ = '\n';
		}
	}
	return p;
}

static void render_be_family(struct strbuf *b, const struct be_family *fam,
			     const struct be_row *rows, size_t n, const struct mtext_cache *c)
{
	size_t nlen = strlen(fam->name), nstates = 0, line;

	family(b, fam->name, fam->type, fam->help);
	while (fam->states && fam->states[nstates])
		nstates++;
	line = (nstates ? nstates : 1) * line_max(fam, nlen, c->longest);
	for (size_t i = 0; i < n; i += BE_BLOCK) {
		size_t end = n - i < BE_BLOCK ? n : i + BE_BLOCK;

		if (sb_reserve(b, (end - i) * line))
			return;
		b->len = (size_t)(be_lines(b->p + b->len, fam, nlen, nstates, rows, i, end, c) -
				  b->p);
	}
}

static void render_flow_table(struct strbuf *b, const struct mtext_dp *dp, __u64 used)
{
	family(b, "xlb_flow_table_entries", "gauge",
	       "Flows the flow table holds (flow_table_size).");
	sb_printf(b, "xlb_flow_table_entries %u\n", dp->flow_entries);
	family(b, "xlb_flow_table_used", "gauge",
	       "Flow-table entries in use, live or not (fill = used / entries), as the background "
	       "sweep counted them.");
	sb_printf(b, "xlb_flow_table_used %llu\n", (unsigned long long)used);
	if (!dp->lookups_ok)
		return;
	family(b, "xlb_flow_table_lookups_total", "counter",
	       "Packets of established flows (not TCP SYNs) by flow-table result: hit, or miss "
	       "(Maglev chose the backend).");
	sb_printf(b, "xlb_flow_table_lookups_total{result=\"hit\"} %llu\n",
		  (unsigned long long)dp->lookups.hits);
	sb_printf(b, "xlb_flow_table_lookups_total{result=\"miss\"} %llu\n",
		  (unsigned long long)dp->lookups.misses);
	family(b, "xlb_flow_table_evictions_total", "counter",
	       "New flows that replaced the least recently used flow of a full bucket.");
	sb_printf(b, "xlb_flow_table_evictions_total %llu\n",
		  (unsigned long long)dp->lookups.evictions);
}

static void render_backends(struct strbuf *b, struct mtext_cache *c, const struct snap *s,
			    const struct mtext_dp *dp)
{
	static const struct xlb_backend_stats zst;
	static const struct xlb_backend_syn_stats zss;
	struct be_row *rows = malloc((s->nbes ? s->nbes : 1) * sizeof(*rows));
	__u64 total = 0;

	if (!rows || (!cache_fits(c, s) && cache_make(c, s))) {
		b->oom = 1;
		free(rows);
		return;
	}
	for (size_t i = 0; i < s->nbes; i++) {
		rows[i] = (struct be_row){.b = &s->bes[i],
					  .st = dp->bes ? &dp->bes[i] : &zst,
					  .ss = dp->syn ? &dp->syn[i] : &zss,
					  .flows = dp->flows ? dp->flows[i] : s->bes[i].flows};
		total += rows[i].flows;
	}
	for (size_t f = 0; f < sizeof(be_families) / sizeof(be_families[0]); f++)
		render_be_family(b, &be_families[f], rows, s->nbes, c);
	family(b, "xlb_flows", "gauge",
	       "Live flows in the flow table, as the background sweep counted them (up to ~2 s "
	       "old).");
	sb_printf(b, "xlb_flows %llu\n", (unsigned long long)total);
	render_flow_table(b, dp, dp->flows ? dp->flows_used : s->flows_used);
	free(rows);
}

/* ---- the rest --------------------------------------------------------------- */

static void render_reasons(struct strbuf *b, const struct mtext_dp *dp)
{
	static const char *const kinds[] = {"drop", "tx", "pass", "event"};
	const __u64 *n = dp->reasons;

	family(b, "xlb_drop_packets_total", "counter",
	       "Packets dropped by the data plane, by reason.");
	for (__u32 r = 1; dp->reasons_ok && r < XLB_REASON_SLOTS; r++)
		if (xlb_reason_name(r) && xlb_reason_kind(r) == XLB_KIND_DROP)
			sb_printf(b, "xlb_drop_packets_total{reason=\"%s\"} %llu\n",
				  xlb_reason_name(r), (unsigned long long)n[r]);
	family(b, "xlb_packet_events_total", "counter",
	       "Packets answered (tx), passed to the stack (pass) or noted (event), by reason.");
	for (__u32 r = 1; dp->reasons_ok && r < XLB_REASON_SLOTS; r++) {
		int k = xlb_reason_kind(r);

		if (xlb_reason_name(r) && k != XLB_KIND_DROP && k >= 0 && k < 4)
			sb_printf(b, "xlb_packet_events_total{reason=\"%s\",kind=\"%s\"} %llu\n",
				  xlb_reason_name(r), kinds[k], (unsigned long long)n[r]);
	}
}

static void render_agent(struct strbuf *b, const struct snap *s, const struct mtext_self *self)
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
	sb_printf(b, "xlb_agent_start_time_seconds %.3f\n", self->start_s);
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
	/* issue #15: what serving /metrics costs */
	family(b, "xlb_metrics_snapshot_seconds", "gauge",
	       "CPU time the event loop spent copying its state for the previous scrape.");
	sb_printf(b, "xlb_metrics_snapshot_seconds %.6f\n", self->snap_ns / 1e9);
	family(b, "xlb_metrics_wait_seconds", "gauge",
	       "How long the previous scrape waited for the event loop's copy.");
	sb_printf(b, "xlb_metrics_wait_seconds %.6f\n", self->wait_ns / 1e9);
	family(b, "xlb_metrics_render_seconds", "gauge",
	       "CPU time the HTTP thread spent reading counters and writing the previous scrape.");
	sb_printf(b, "xlb_metrics_render_seconds %.6f\n", self->render_ns / 1e9);
}

void mtext_render(struct strbuf *b, struct mtext_cache *c, const struct snap *s,
		  const struct mtext_dp *dp, const struct mtext_self *self)
{
	render_vips(b, s, dp);
	render_backends(b, c, s, dp);
	render_reasons(b, dp);
	render_agent(b, s, self);
}
