// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cfgdiff.h"
#include "text.h"

/* A change being described: fields are appended as "name old -> new". */
struct what {
	char *buf;
	size_t len, used;
};

static void add(struct what *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct what *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->used >= w->len)
		return;
	if (w->used) {
		n = snprintf(w->buf + w->used, w->len - w->used, ", ");
		w->used += n > 0 ? (size_t)n : 0;
		if (w->used >= w->len)
			return;
	}
	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->used, w->len - w->used, fmt, ap);
	va_end(ap);
	w->used += n > 0 ? (size_t)n : 0;
	if (w->used >= w->len) { /* truncated: say so rather than cut a word */
		w->used = w->len - 1;
		if (w->len > 4)
			memcpy(w->buf + w->len - 4, "...", 4);
	}
}

static const char *dur(__u32 ms, char *buf, size_t len)
{
	if (ms && ms % 1000 == 0)
		snprintf(buf, len, "%us", ms / 1000);
	else
		snprintf(buf, len, "%ums", ms);
	return buf;
}

static void num(struct what *w, const char *name, unsigned long a, unsigned long b)
{
	if (a != b)
		add(w, "%s %lu -> %lu", name, a, b);
}

static void ms(struct what *w, const char *name, __u32 a, __u32 b)
{
	char x[24], y[24];

	if (a != b)
		add(w, "%s %s -> %s", name, dur(a, x, sizeof(x)), dur(b, y, sizeof(y)));
}

/* Text as the dump spells it (a payload's \r\n must not break the line),
 * each side cut to fit a line. */
static void str(struct what *w, const char *name, const char *a, const char *b)
{
	char x[96], y[96];

	if (strcmp(a, b))
		add(w, "%s \"%s\" -> \"%s\"", name, xlb_text_escape(a, x, sizeof(x)),
		    xlb_text_escape(b, y, sizeof(y)));
}

static void name(struct what *w, const char *field, const char *a, const char *b)
{
	if (strcmp(a, b))
		add(w, "%s %s -> %s", field, a, b);
}

/* Timing fields; with mask, only those (a backend's own overrides: the
 * values it inherits change with its VIP's check and are listed there). */
static void timing(struct what *w, const char *pre, const struct xlb_check_timing *a,
		   const struct xlb_check_timing *b, unsigned int mask)
{
	char f[48];

#define T_FIELD(bit, fmt, field, label)                                                            \
	do {                                                                                       \
		if (mask & (bit)) {                                                                \
			snprintf(f, sizeof(f), "%s%s", pre, label);                                \
			fmt(w, f, a->field, b->field);                                             \
		}                                                                                  \
	} while (0)
	T_FIELD(XLB_CHK_SET_INTERVAL, ms, interval_ms, "interval");
	T_FIELD(XLB_CHK_SET_FAST, ms, fast_interval_ms, "fast_interval");
	T_FIELD(XLB_CHK_SET_TIMEOUT, ms, timeout_ms, "timeout");
	T_FIELD(XLB_CHK_SET_RISE, num, rise, "rise");
	T_FIELD(XLB_CHK_SET_FALL, num, fall, "fall");
	T_FIELD(XLB_CHK_SET_JITTER, num, jitter_pct, "jitter");
	T_FIELD(XLB_CHK_SET_PORT, num, port, "port");
#undef T_FIELD
}

static void check(struct what *w, const struct xlb_cfg_check *a, const struct xlb_cfg_check *b)
{
	name(w, "check type", xlb_check_type_name(a->type), xlb_check_type_name(b->type));
	num(w, "check start_up", a->start_up, b->start_up);
	name(w, "check via", xlb_check_via_name(a->via), xlb_check_via_name(b->via));
	num(w, "check tls_verify", a->tls_verify, b->tls_verify);
	if (a->nranges != b->nranges ||
	    memcmp(a->ranges, b->ranges, a->nranges * sizeof(a->ranges[0])))
		add(w, "check status");
	timing(w, "check ", &a->t, &b->t, ~0u);
	str(w, "check path", a->path, b->path);
	str(w, "check host", a->host, b->host);
	str(w, "check body", a->body, b->body);
	str(w, "check send", a->send, b->send);
	str(w, "check expect", a->expect, b->expect);
	str(w, "check command", a->command, b->command);
}

static void outlier(struct what *w, const struct xlb_cfg_vip *va, const struct xlb_cfg_vip *vb)
{
	struct xlb_cfg_outlier a = xlb_cfg_outlier_of(va), b = xlb_cfg_outlier_of(vb);

	name(w, "outlier", a.state == XLB_OUTLIER_ON ? "on" : "off",
	     b.state == XLB_OUTLIER_ON ? "on" : "off");
	ms(w, "outlier window", a.window_ms, b.window_ms);
	num(w, "outlier threshold", a.threshold_pct, b.threshold_pct);
	num(w, "outlier min_samples", a.min_samples, b.min_samples);
	ms(w, "outlier base_ejection_time", a.base_ejection_ms, b.base_ejection_ms);
	ms(w, "outlier max_ejection_time", a.max_ejection_ms, b.max_ejection_ms);
	num(w, "outlier max_ejection_percent", a.max_percent, b.max_percent);
}

static void vip_fields(struct what *w, const struct xlb_cfg_vip *a, const struct xlb_cfg_vip *b)
{
	name(w, "mode", xlb_mode_name(a->mode), xlb_mode_name(b->mode));
	name(w, "hash", xlb_hash_name(a->hash), xlb_hash_name(b->hash));
	name(w, "on_empty", xlb_on_empty_name(a->on_empty), xlb_on_empty_name(b->on_empty));
	num(w, "table_size", a->table_size, b->table_size);
	num(w, "panic_threshold", a->panic_percent, b->panic_percent);
	ms(w, "slow_start", a->slow_start_ms, b->slow_start_ms);
	ms(w, "drain_timeout", a->drain_timeout_ms, b->drain_timeout_ms);
	name(w, "announce", xlb_announce_name(a->announce), xlb_announce_name(b->announce));
	name(w, "flow_state", xlb_flow_state_name(a->flow_state),
	     xlb_flow_state_name(b->flow_state));
	ms(w, "handover", xlb_cfg_handover_ms(a), xlb_cfg_handover_ms(b));
	name(w, "syn_retry", xlb_syn_retry_name(a->syn_retry), xlb_syn_retry_name(b->syn_retry));
	outlier(w, a, b);
	check(w, &a->check, &b->check);
}

static void backend_fields(struct what *w, const struct xlb_cfg_backend *a,
			   const struct xlb_cfg_backend *b)
{
	num(w, "weight", a->weight, b->weight);
	name(w, "admin", xlb_admin_name(a->admin), xlb_admin_name(b->admin));
	num(w, "backup", a->backup, b->backup);
	timing(w, "check ", &a->check, &b->check, a->check_set | b->check_set);
}

static int emit(char kind, const struct xlb_cfg_vip *v, const struct xlb_cfg_backend *b,
		const char *what, xlb_cfg_change_fn fn, void *ctx)
{
	struct xlb_cfg_change ch = {.kind = kind, .vip = v, .backend = b};

	if (what)
		snprintf(ch.what, sizeof(ch.what), "%s", what);
	if (fn)
		fn(&ch, ctx);
	return 1;
}

static int backends_diff(const struct xlb_cfg_vip *cur, const struct xlb_cfg_vip *next,
			 xlb_cfg_change_fn fn, void *ctx)
{
	char buf[XLB_CHANGE_WHAT_LEN];
	int n = 0;

	for (size_t i = 0; i < next->nbackends; i++) {
		const struct xlb_cfg_backend *nb = &next->backends[i];
		const struct xlb_cfg_backend *cb = xlb_cfg_find_backend(cur, &nb->addr);
		struct what w = {buf, sizeof(buf), 0};

		buf[0] = 0;
		if (!cb) {
			n += emit('+', next, nb, NULL, fn, ctx);
			continue;
		}
		backend_fields(&w, cb, nb);
		if (w.used)
			n += emit('~', next, nb, buf, fn, ctx);
	}
	for (size_t i = 0; i < cur->nbackends; i++)
		if (!xlb_cfg_find_backend(next, &cur->backends[i].addr))
			n += emit('-', cur, &cur->backends[i], NULL, fn, ctx);
	return n;
}

/* The top-level announce block: "announce off -> table 9641 protocol 250
 * hold 10s", or its fields that change. */
static int announce_diff(const struct xlb_cfg_announce *a, const struct xlb_cfg_announce *b,
			 xlb_cfg_change_fn fn, void *ctx)
{
	char buf[XLB_CHANGE_WHAT_LEN], x[24], y[24];
	struct what w = {buf, sizeof(buf), 0};

	buf[0] = 0;
	if (!a->table != !b->table) {
		const struct xlb_cfg_announce *on = a->table ? a : b;

		dur(on->hold_ms, y, sizeof(y));
		snprintf(x, sizeof(x), "%s", a->table ? "" : "off -> ");
		add(&w, "announce %stable %u protocol %u hold %s%s", x, on->table, on->protocol, y,
		    a->table ? " -> off" : "");
	} else if (a->table) {
		num(&w, "announce table", a->table, b->table);
		num(&w, "announce protocol", a->protocol, b->protocol);
		ms(&w, "announce hold", a->hold_ms, b->hold_ms);
	}
	return w.used ? emit('~', NULL, NULL, buf, fn, ctx) : 0;
}

int xlb_cfg_diff(const struct xlb_cfg *cur, const struct xlb_cfg *next, xlb_cfg_change_fn fn,
		 void *ctx)
{
	char buf[XLB_CHANGE_WHAT_LEN];
	int n = 0;

	if (strcmp(cur->iface, next->iface)) {
		snprintf(buf, sizeof(buf), "interface \"%s\" -> \"%s\"", cur->iface, next->iface);
		n += emit('~', NULL, NULL, buf, fn, ctx);
	}
	if (cur->flow_table_size != next->flow_table_size) {
		snprintf(buf, sizeof(buf), "flow_table_size %u -> %u", xlb_cfg_flow_entries(cur),
			 xlb_cfg_flow_entries(next));
		n += emit('~', NULL, NULL, buf, fn, ctx);
	}
	n += announce_diff(&cur->announce, &next->announce, fn, ctx);
	for (size_t i = 0; i < next->nvips; i++) {
		const struct xlb_cfg_vip *nv = &next->vips[i];
		const struct xlb_cfg_vip *cv = xlb_cfg_find_vip(cur, nv);
		struct what w = {buf, sizeof(buf), 0};

		buf[0] = 0;
		if (!cv) {
			n += emit('+', nv, NULL, NULL, fn, ctx);
			for (size_t j = 0; j < nv->nbackends; j++)
				n += emit('+', nv, &nv->backends[j], NULL, fn, ctx);
			continue;
		}
		vip_fields(&w, cv, nv);
		if (w.used)
			n += emit('~', nv, NULL, buf, fn, ctx);
		n += backends_diff(cv, nv, fn, ctx);
	}
	for (size_t i = 0; i < cur->nvips; i++)
		if (!xlb_cfg_find_vip(next, &cur->vips[i]))
			n += emit('-', &cur->vips[i], NULL, NULL, fn, ctx);
	return n;
}
