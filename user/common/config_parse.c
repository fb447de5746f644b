// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The YAML configuration: load a file or a string, and a check's settings
 * from a request. See config.h for the format. Parsing checks each field
 * where it stands (so the message has its line); xlb_cfg_validate()
 * (config_validate.c) then checks what needs the whole config.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <yaml.h>

#include "config_int.h"
#include "maglev.h"
#include "xlb_dp.h"

/* ---- YAML walking ------------------------------------------------------ */

struct walk {
	yaml_document_t *doc;
	const char *name; /* file name for messages */
	struct xlb_err *err;
	size_t nbackends; /* so far, every VIP's (an alias counts each time) */
};

static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static const char *scalar(struct walk *w, yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SCALAR_NODE) {
		xlb_cfg_fail(w->err, "%s:%d: '%s' must be a single value, not a list or a map",
			     w->name, line_of(n), key);
		return NULL;
	}
	/* "\0" in a quoted scalar: C strings would silently cut it there */
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		xlb_cfg_fail(w->err, "%s:%d: '%s' holds a NUL character (\\0); remove it", w->name,
			     line_of(n), key);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static int unsigned_value(struct walk *w, yaml_node_t *n, const char *key, unsigned long max,
			  unsigned long *out)
{
	const char *s = scalar(w, n, key);
	char *end;

	if (!s)
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || *out > max)
		return xlb_cfg_fail(w->err, "%s:%d: %s '%s' is not a whole number from 0 to %lu",
				    w->name, line_of(n), key, s, max);
	return 0;
}

static int addr_value(struct walk *w, yaml_node_t *n, const char *key, union xlb_addr *a,
		      __u8 *family)
{
	const char *s = scalar(w, n, key);
	int fam;

	if (!s)
		return -EINVAL;
	fam = xlb_addr_parse(s, a);
	if (fam < 0)
		return xlb_cfg_fail(w->err, "%s:%d: %s '%s' is not an IPv4 or IPv6 address",
				    w->name, line_of(n), key, s);
	*family = (__u8)fam;
	return 0;
}

static int enum_value(struct walk *w, yaml_node_t *n, const char *key, int (*from)(const char *),
		      const char *choices, __u8 *out)
{
	const char *s = scalar(w, n, key);
	int v;

	if (!s)
		return -EINVAL;
	v = from(s);
	if (v < 0)
		return xlb_cfg_fail(w->err, "%s:%d: %s '%s' is not one of: %s", w->name, line_of(n),
				    key, s, choices);
	*out = (__u8)v;
	return 0;
}

static int proto_from_name(const char *s)
{
	return !strcmp(s, "tcp") ? IPPROTO_TCP : !strcmp(s, "udp") ? IPPROTO_UDP : -1;
}

/* Iterate a mapping's pairs: key string and value node. */
#define FOR_PAIRS(w, map, pair)                                                                    \
	for (yaml_node_pair_t *pair = (map)->data.mapping.pairs.start;                             \
	     pair < (map)->data.mapping.pairs.top; pair++)

static const char *key_name(struct walk *w, yaml_node_pair_t *p)
{
	yaml_node_t *k = yaml_document_get_node(w->doc, p->key);

	if (!k || k->type != YAML_SCALAR_NODE)
		return NULL;
	/* a quoted "address\0x" would read as 'address' in C */
	if (strlen((const char *)k->data.scalar.value) != k->data.scalar.length)
		return NULL;
	return (const char *)k->data.scalar.value;
}

/*
 * A pair's key (NULL, with the error set, when it is not a plain name or it
 * repeats an earlier key of the same map: YAML parsers keep the last one
 * silently, which hides mistakes).
 */
static const char *pair_key(struct walk *w, yaml_node_t *map, yaml_node_pair_t *p,
			    yaml_node_t **value)
{
	yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
	const char *name = key_name(w, p);

	*value = yaml_document_get_node(w->doc, p->value);
	if (!name || !*value) {
		xlb_cfg_fail(w->err, "%s:%d: keys must be plain names", w->name,
			     k ? line_of(k) : 0);
		return NULL;
	}
	for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
		const char *prev = key_name(w, q);

		if (prev && !strcmp(prev, name)) {
			xlb_cfg_fail(w->err,
				     "%s:%d: key '%s' appears twice in the same map; keep one",
				     w->name, line_of(k), name);
			return NULL;
		}
	}
	return name;
}

static int need_map(struct walk *w, yaml_node_t *n, const char *what)
{
	if (n->type != YAML_MAPPING_NODE)
		return xlb_cfg_fail(w->err, "%s:%d: each %s must be a map of 'key: value' lines",
				    w->name, line_of(n), what);
	return 0;
}

static int bool_value(struct walk *w, yaml_node_t *n, const char *key, __u8 *out)
{
	const char *s = scalar(w, n, key);

	if (!s)
		return -EINVAL;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*out = 1;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
		*out = 0;
	else
		return xlb_cfg_fail(w->err, "%s:%d: %s '%s' is not true or false", w->name,
				    line_of(n), key, s);
	return 0;
}

static int duration_value(struct walk *w, yaml_node_t *n, const char *key, __u32 *ms)
{
	const char *s = scalar(w, n, key);

	if (!s)
		return -EINVAL;
	if (xlb_parse_duration_ms(s, ms))
		return xlb_cfg_fail(
			w->err,
			"%s:%d: %s '%s' is not a duration; write it with a unit: 500ms, 2s, "
			"1m (at most 24h)",
			w->name, line_of(n), key, s);
	return 0;
}

static int percent_value(struct walk *w, yaml_node_t *n, const char *key, unsigned long max,
			 __u32 *out)
{
	const char *s = scalar(w, n, key);
	char *end;
	unsigned long u;

	if (!s)
		return -EINVAL;
	errno = 0;
	u = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || errno || (*end && strcmp(end, "%")) || u > max)
		return xlb_cfg_fail(w->err, "%s:%d: %s '%s' is not a percentage from 0%% to %lu%%",
				    w->name, line_of(n), key, s, max);
	*out = (__u32)u;
	return 0;
}

static int string_value(struct walk *w, yaml_node_t *n, const char *key, char *out, size_t len)
{
	const char *s = scalar(w, n, key);

	if (!s)
		return -EINVAL;
	if (strlen(s) >= len)
		return xlb_cfg_fail(w->err, "%s:%d: %s is longer than %zu characters", w->name,
				    line_of(n), key, len - 1);
	/* all of out: configs compare bytewise, and a shorter value set
	 * over a longer one must not leave its tail behind */
	memset(out, 0, len);
	memcpy(out, s, strlen(s));
	return 0;
}

/*
 * One timing field of a check (VIP or backend): 1 when key is one, 0 when
 * it is not a timing key, -EINVAL when its value is bad.
 */
static int timing_field(struct walk *w, const char *key, yaml_node_t *v, struct xlb_check_timing *t,
			__u8 *set)
{
	unsigned long u;
	int bit;

	if (!strcmp(key, "interval"))
		bit = duration_value(w, v, "check interval", &t->interval_ms)
			      ?: XLB_CHK_SET_INTERVAL;
	else if (!strcmp(key, "fast_interval"))
		bit = duration_value(w, v, "check fast_interval", &t->fast_interval_ms)
			      ?: XLB_CHK_SET_FAST;
	else if (!strcmp(key, "timeout"))
		bit = duration_value(w, v, "check timeout", &t->timeout_ms) ?: XLB_CHK_SET_TIMEOUT;
	else if (!strcmp(key, "rise") || !strcmp(key, "fall")) {
		int rise = key[0] == 'r';

		if (unsigned_value(w, v, rise ? "check rise" : "check fall", 1000, &u))
			return -EINVAL;
		if (!u)
			return xlb_cfg_fail(
				w->err,
				"%s:%d: check %s 0 would never change the state; use 1 or more "
				"(default %d)",
				w->name, line_of(v), key,
				rise ? XLB_CHECK_DEFAULT_RISE : XLB_CHECK_DEFAULT_FALL);
		*(rise ? &t->rise : &t->fall) = (__u32)u;
		bit = rise ? XLB_CHK_SET_RISE : XLB_CHK_SET_FALL;
	} else if (!strcmp(key, "jitter"))
		bit = percent_value(w, v, "check jitter", 50, &t->jitter_pct) ?: XLB_CHK_SET_JITTER;
	else if (!strcmp(key, "port")) {
		if (unsigned_value(w, v, "check port", 65535, &u))
			return -EINVAL;
		if (!u)
			return xlb_cfg_fail(
				w->err,
				"%s:%d: check port 0 is not a port; leave it out to check the "
				"VIP's port",
				w->name, line_of(v));
		t->port = (__u16)u;
		bit = XLB_CHK_SET_PORT;
	} else
		return 0;
	if (bit < 0)
		return bit;
	if (set)
		*set |= (__u8)bit;
	return 1;
}

static int parse_backend_check(struct walk *w, yaml_node_t *n, struct xlb_cfg_backend *b)
{
	if (need_map(w, n, "backend check"))
		return -EINVAL;
	FOR_PAIRS(w, n, p)
	{
		yaml_node_t *v;
		const char *key = pair_key(w, n, p, &v);
		int r;

		if (!key)
			return -EINVAL;
		r = timing_field(w, key, v, &b->check, &b->check_set);
		if (r < 0)
			return r;
		if (!r)
			return xlb_cfg_fail(
				w->err,
				"%s:%d: '%s' cannot be set per backend; a backend's check can "
				"override: interval, fast_interval, timeout, rise, fall, jitter, "
				"port (set the rest in the VIP's check)",
				w->name, line_of(v), key);
	}
	return 0;
}

/* 1 when key is a text setting (*ret: 0, or -EINVAL for a bad value), else 0. */
/*
 * A payload or a match (send, expect) with its C escapes (\r \n \t \\
 * \xHH) decoded, so `send: PING\r\n` sends what it says in every YAML
 * style: a double-quoted scalar has them decoded by YAML already (the same
 * escapes, the same meaning), any other style is decoded here.
 */
static int payload_value(struct walk *w, yaml_node_t *n, const char *key, char *out, size_t len)
{
	const char *s = scalar(w, n, key);
	char buf[4096];
	size_t bad = 0;
	int r;

	if (!s)
		return -EINVAL;
	if (n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
		return string_value(w, n, key, out, len);
	r = xlb_text_unescape(s, buf, len < sizeof(buf) ? len : sizeof(buf), &bad);
	if (r == -E2BIG)
		return xlb_cfg_fail(w->err, "%s:%d: %s is longer than %zu characters", w->name,
				    line_of(n), key, len - 1);
	if (r)
		return xlb_cfg_fail(w->err,
				    "%s:%d: %s: '%.4s' at character %zu is not an escape xlb "
				    "reads; write \\r, \\n, \\t, \\\\ (a backslash) or \\xHH "
				    "(01 to 7f)",
				    w->name, line_of(n), key, s + bad, bad + 1);
	memset(out, 0, len);
	memcpy(out, buf, strlen(buf));
	return 0;
}

static int check_string(struct walk *w, const char *key, yaml_node_t *v, struct xlb_cfg_check *c,
			int *ret)
{
	char what[32];

	for (size_t i = 0; i < xlb_cfg_ncheck_texts; i++) {
		const struct xlb_cfg_check_text *t = &xlb_cfg_check_texts[i];

		if (strcmp(key, t->key))
			continue;
		snprintf(what, sizeof(what), "check %s", key);
		if (!strcmp(key, "send") || !strcmp(key, "expect"))
			*ret = payload_value(w, v, what, (char *)c + t->off, t->len);
		else
			*ret = string_value(w, v, what, (char *)c + t->off, t->len);
		if (!*ret && !strcmp(key, "path") && c->path[0] != '/')
			*ret = xlb_cfg_fail(w->err, "%s:%d: check path '%s' must start with '/'",
					    w->name, line_of(v), c->path);
		return 1;
	}
	*ret = 0;
	return 0;
}

/* The fields of a VIP's check, on c (which holds the defaults or more). */
static int parse_check_fields(struct walk *w, yaml_node_t *n, struct xlb_cfg_check *c)
{
	if (need_map(w, n, "check"))
		return -EINVAL;
	FOR_PAIRS(w, n, p)
	{
		yaml_node_t *v;
		const char *key = pair_key(w, n, p, &v), *s;
		int r;

		if (!key)
			return -EINVAL;
		r = timing_field(w, key, v, &c->t, NULL);
		if (r < 0)
			return r;
		if (r)
			continue;
		if (!strcmp(key, "type")) {
			if (enum_value(w, v, "check type", xlb_check_type_from_name,
				       "tcp, http, https, udp, exec, none", &c->type))
				return -EINVAL;
		} else if (!strcmp(key, "start")) {
			s = scalar(w, v, "check start");
			if (!s)
				return -EINVAL;
			if (strcmp(s, "unknown") && strcmp(s, "up"))
				return xlb_cfg_fail(
					w->err,
					"%s:%d: check start '%s' is not one of: unknown, up",
					w->name, line_of(v), s);
			c->start_up = s[0] == 'u' && s[1] == 'p';
		} else if (!strcmp(key, "via")) {
			s = scalar(w, v, "check via");
			if (!s)
				return -EINVAL;
			if (strcmp(s, "backend") && strcmp(s, "vip"))
				return xlb_cfg_fail(
					w->err,
					"%s:%d: check via '%s' is not one of: backend (probes to "
					"the backend's address), vip (probes to the VIP through "
					"the data path)",
					w->name, line_of(v), s);
			c->via = !strcmp(s, "vip") ? XLB_CHECK_VIA_VIP : XLB_CHECK_VIA_BACKEND;
		} else if (!strcmp(key, "tls_verify")) {
			if (bool_value(w, v, "check tls_verify", &c->tls_verify))
				return -EINVAL;
		} else if (!strcmp(key, "shell")) {
			if (bool_value(w, v, "check shell", &c->shell))
				return -EINVAL;
		} else if (!strcmp(key, "status")) {
			s = scalar(w, v, "check status");
			if (!s)
				return -EINVAL;
			if (xlb_parse_status_ranges(s, c))
				return xlb_cfg_fail(
					w->err,
					"%s:%d: check status '%s' is not a list of HTTP codes "
					"and ranges from 100 to 599, e.g. \"200-299,301\" (at "
					"most %d)",
					w->name, line_of(v), s, XLB_CHECK_MAX_RANGES);
		} else if (check_string(w, key, v, c, &r)) {
			if (r)
				return r;
		} else {
			return xlb_cfg_fail(
				w->err,
				"%s:%d: unknown key '%s' in a check; known keys: type, interval, "
				"fast_interval, timeout, rise, fall, jitter, port, start, via, "
				"path, "
				"host, status, body, tls_verify, send, expect, command, shell",
				w->name, line_of(v), key);
		}
	}
	return 0;
}

static int parse_backend(struct walk *w, yaml_node_t *n, struct xlb_cfg_backend *b)
{
	int have_addr = 0;

	if (need_map(w, n, "backend"))
		return -EINVAL;
	*b = (struct xlb_cfg_backend){.weight = 1, .line = line_of(n)};
	FOR_PAIRS(w, n, p)
	{
		yaml_node_t *v;
		const char *key = pair_key(w, n, p, &v);
		unsigned long u;

		if (!key)
			return -EINVAL;
		if (!strcmp(key, "address")) {
			if (addr_value(w, v, "backend address", &b->addr, &b->family))
				return -EINVAL;
			have_addr = 1;
		} else if (!strcmp(key, "weight")) {
			if (unsigned_value(w, v, "weight", XLB_CFG_MAX_WEIGHT, &u))
				return -EINVAL;
			b->weight = (__u32)u;
		} else if (!strcmp(key, "admin")) {
			if (enum_value(w, v, "admin", xlb_admin_from_name,
				       "enabled, drain, disabled", &b->admin))
				return -EINVAL;
		} else if (!strcmp(key, "check_port")) {
			if (timing_field(w, "port", v, &b->check, &b->check_set) < 0)
				return -EINVAL;
		} else if (!strcmp(key, "backup")) {
			if (bool_value(w, v, "backup", &b->backup))
				return -EINVAL;
		} else if (!strcmp(key, "check")) {
			if (parse_backend_check(w, v, b))
				return -EINVAL;
		} else {
			return xlb_cfg_fail(
				w->err,
				"%s:%d: unknown key '%s' in a backend; known keys: address, "
				"weight, admin, backup, check, check_port",
				w->name, line_of(v), key);
		}
	}
	if (!have_addr)
		return xlb_cfg_fail(w->err, "%s:%d: backend has no address; add 'address: <IP>'",
				    w->name, b->line);
	return 0;
}

static int parse_backends(struct walk *w, yaml_node_t *n, struct xlb_cfg_vip *vip)
{
	size_t count;

	if (n->type != YAML_SEQUENCE_NODE)
		return xlb_cfg_fail(w->err,
				    "%s:%d: 'backends' must be a list ('- address: ...' lines)",
				    w->name, line_of(n));
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (vip->backends) /* pair_key() refuses a second 'backends' already */
		return -EINVAL;
	/* Before allocating: YAML aliases reuse a list in many VIPs, so a few
	 * kilobytes could otherwise ask for millions of backends. */
	if (count > XLB_MAX_BACKENDS - 1 - w->nbackends)
		return xlb_cfg_fail(
			w->err,
			"%s:%d: more than %d backends in all (an alias such as '*name' counts "
			"each time it is used); split the configuration over several LB hosts",
			w->name, line_of(n), XLB_MAX_BACKENDS - 1);
	w->nbackends += count;
	vip->backends = calloc(count ? count : 1, sizeof(*vip->backends));
	if (!vip->backends)
		return -ENOMEM;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		if (parse_backend(w, yaml_document_get_node(w->doc, *it),
				  &vip->backends[vip->nbackends]))
			return -EINVAL;
		vip->nbackends++;
	}
	return 0;
}

/* A VIP's `outlier:` (config.h): off, on, or a block of settings. */
static int outlier_field(struct walk *w, const char *key, yaml_node_t *v, struct xlb_cfg_outlier *o)
{
	unsigned long u;
	__u32 *ms = !strcmp(key, "window")		 ? &o->window_ms
		    : !strcmp(key, "base_ejection_time") ? &o->base_ejection_ms
		    : !strcmp(key, "max_ejection_time")	 ? &o->max_ejection_ms
							 : NULL;
	char what[64];

	snprintf(what, sizeof(what), "outlier %s", key);
	if (ms) {
		__u32 lo = ms == &o->window_ms ? XLB_CFG_MIN_OUTLIER_WINDOW_MS
					       : XLB_CFG_MIN_OUTLIER_EJECTION_MS;
		__u32 hi = ms == &o->window_ms ? XLB_CFG_MAX_OUTLIER_WINDOW_MS
					       : XLB_CFG_MAX_OUTLIER_EJECTION_MS;

		if (duration_value(w, v, what, ms))
			return -EINVAL;
		if (*ms < lo || *ms > hi)
			return xlb_cfg_fail(w->err, "%s:%d: %s %ums is out of range; give %s",
					    w->name, line_of(v), what, *ms,
					    ms == &o->window_ms ? "1s to 60s (default 10s)"
								: "1s to 24h");
		return 0;
	}
	if (!strcmp(key, "threshold") || !strcmp(key, "max_ejection_percent")) {
		__u32 *pct = key[0] == 't' ? &o->threshold_pct : &o->max_percent;

		if (percent_value(w, v, what, 100, pct))
			return -EINVAL;
		if (!*pct)
			return xlb_cfg_fail(w->err,
					    "%s:%d: %s 0%% would %s; give 1%% to 100%% (default "
					    "50%%), or 'outlier: off'",
					    w->name, line_of(v), what,
					    key[0] == 't' ? "eject every backend" : "eject none");
		return 0;
	}
	if (!strcmp(key, "min_samples")) {
		if (unsigned_value(w, v, what, XLB_CFG_MAX_OUTLIER_MIN_SAMPLES, &u))
			return -EINVAL;
		if (!u)
			return xlb_cfg_fail(w->err,
					    "%s:%d: outlier min_samples 0 would judge a backend on "
					    "no SYN at all; give 1 or more (default 5)",
					    w->name, line_of(v));
		o->min_samples = (__u32)u;
		return 0;
	}
	return xlb_cfg_fail(w->err,
			    "%s:%d: unknown key '%s' in 'outlier'; known keys: window, threshold, "
			    "min_samples, base_ejection_time, max_ejection_time, "
			    "max_ejection_percent",
			    w->name, line_of(v), key);
}

static int parse_outlier(struct walk *w, yaml_node_t *n, struct xlb_cfg_outlier *o)
{
	*o = (struct xlb_cfg_outlier){.state = XLB_OUTLIER_ON};
	if (n->type == YAML_SCALAR_NODE) {
		__u8 on = 1;

		if (n->data.scalar.length && bool_value(w, n, "outlier", &on))
			return -EINVAL;
		o->state = on ? XLB_OUTLIER_ON : XLB_OUTLIER_OFF;
		return 0;
	}
	if (need_map(w, n, "outlier block (or off / on)"))
		return -EINVAL;
	FOR_PAIRS(w, n, p)
	{
		yaml_node_t *v;
		const char *key = pair_key(w, n, p, &v);

		if (!key || outlier_field(w, key, v, o))
			return -EINVAL;
	}
	return 0;
}

static int parse_vip_field(struct walk *w, const char *key, yaml_node_t *v, struct xlb_cfg_vip *vip,
			   int *seen)
{
	unsigned long u;

	if (!strcmp(key, "address")) {
		*seen |= 1;
		return addr_value(w, v, "VIP address", &vip->addr, &vip->family);
	}
	if (!strcmp(key, "port")) {
		*seen |= 2;
		if (unsigned_value(w, v, "port", 65535, &u))
			return -EINVAL;
		vip->port = (__u16)u;
		return 0;
	}
	if (!strcmp(key, "protocol")) {
		*seen |= 4;
		return enum_value(w, v, "protocol", proto_from_name, "tcp, udp", &vip->proto);
	}
	if (!strcmp(key, "mode"))
		return enum_value(w, v, "mode", xlb_mode_from_name, "dsr, ipip", &vip->mode);
	if (!strcmp(key, "hash"))
		return enum_value(w, v, "hash", xlb_hash_from_name, "5-tuple, source", &vip->hash);
	if (!strcmp(key, "on_empty"))
		return enum_value(w, v, "on_empty", xlb_on_empty_from_name, "reject, drop, pass",
				  &vip->on_empty);
	if (!strcmp(key, "table_size")) {
		if (unsigned_value(w, v, "table_size", 0xffffffffUL, &u))
			return -EINVAL;
		if (!xlb_maglev_size_ok((__u32)u))
			return xlb_cfg_fail(
				w->err,
				"%s:%d: table_size %lu is not one of the allowed primes: 251, "
				"509, 1021, 2039, 4093, 8191, 16381, 32749, 65537, 131071, "
				"262139, 524287, 655373",
				w->name, line_of(v), u);
		vip->table_size = (__u32)u;
		return 0;
	}
	if (!strcmp(key, "announce"))
		return enum_value(w, v, "announce", xlb_announce_from_name,
				  "when-usable, always, never", &vip->announce);
	if (!strcmp(key, "flow_state"))
		return enum_value(w, v, "flow_state", xlb_flow_state_from_name, "table, stateless",
				  &vip->flow_state);
	if (!strcmp(key, "syn_retry"))
		return enum_value(w, v, "syn_retry", xlb_syn_retry_from_name,
				  "another-backend, same-backend", &vip->syn_retry);
	if (!strcmp(key, "outlier"))
		return parse_outlier(w, v, &vip->outlier);
	if (!strcmp(key, "handover")) {
		if (duration_value(w, v, "handover", &vip->handover_ms))
			return -EINVAL;
		if (vip->handover_ms < XLB_CFG_MIN_HANDOVER_MS ||
		    vip->handover_ms > XLB_CFG_MAX_HANDOVER_MS)
			return xlb_cfg_fail(w->err,
					    "%s:%d: handover %ums is out of range; give 1s to 24h "
					    "(default 10m)",
					    w->name, line_of(v), vip->handover_ms);
		return 0;
	}
	if (!strcmp(key, "backends"))
		return parse_backends(w, v, vip);
	if (!strcmp(key, "check"))
		return parse_check_fields(w, v, &vip->check);
	if (!strcmp(key, "panic_threshold"))
		return percent_value(w, v, "panic_threshold", 100, &vip->panic_percent);
	if (!strcmp(key, "slow_start"))
		return duration_value(w, v, "slow_start", &vip->slow_start_ms);
	if (!strcmp(key, "drain_timeout"))
		return duration_value(w, v, "drain_timeout", &vip->drain_timeout_ms);
	if (!strcmp(key, "reject_rate")) {
		const char *r = scalar(w, v, "reject_rate");

		if (r && !strcmp(r, "unlimited")) {
			vip->reject_rate = XLB_REJECT_RATE_UNLIMITED;
			return 0;
		}
		if (unsigned_value(w, v, "reject_rate", XLB_REJECT_RATE_UNLIMITED - 1, &u))
			return -EINVAL;
		if (!u)
			return xlb_cfg_fail(
				w->err,
				"%s:%d: reject_rate 0 would answer nothing: use 'on_empty: "
				"drop', or a rate in replies per second, or 'unlimited'",
				w->name, line_of(v));
		vip->reject_rate = (__u32)u;
		return 0;
	}
	return xlb_cfg_fail(
		w->err,
		"%s:%d: unknown key '%s' in a VIP; known keys: address, port, protocol, mode, "
		"hash, on_empty, table_size, panic_threshold, slow_start, drain_timeout, "
		"reject_rate, announce, flow_state, handover, syn_retry, outlier, check, "
		"backends",
		w->name, line_of(v), key);
}

static int parse_vip(struct walk *w, yaml_node_t *n, struct xlb_cfg_vip *vip)
{
	int seen = 0;

	if (need_map(w, n, "VIP"))
		return -EINVAL;
	*vip = (struct xlb_cfg_vip){.table_size = XLB_DEFAULT_TABLE_SIZE, .line = line_of(n)};
	xlb_cfg_check_defaults(&vip->check);
	FOR_PAIRS(w, n, p)
	{
		yaml_node_t *v;
		const char *key = pair_key(w, n, p, &v);

		if (!key || parse_vip_field(w, key, v, vip, &seen))
			return -EINVAL;
	}
	if (!(seen & 1))
		return xlb_cfg_fail(w->err, "%s:%d: VIP has no address; add 'address: <IP>'",
				    w->name, vip->line);
	if (!(seen & 2))
		return xlb_cfg_fail(
			w->err, "%s:%d: VIP has no port; add 'port: <0-65535>' (0 = every port)",
			w->name, vip->line);
	if (!(seen & 4))
		return xlb_cfg_fail(w->err,
				    "%s:%d: VIP has no protocol; add 'protocol: tcp' or 'udp'",
				    w->name, vip->line);
	xlb_cfg_resolve_checks(vip);
	return 0;
}

/*
 * hash_seed (32 hex digits) or hash_seed_file (an absolute path): the
 * fleet's secret, resolved by the agent at start (seed.h). A bad seed is
 * described by its length only: the value is a secret and goes to no log.
 */
static int parse_seed_key(struct walk *w, const char *key, yaml_node_t *v, struct xlb_cfg *c)
{
	const char *s = scalar(w, v, key);
	int file = !strcmp(key, "hash_seed_file");

	if (!s)
		return -EINVAL;
	if (file ? c->hash_seed[0] : c->hash_seed_file[0])
		return xlb_cfg_fail(w->err,
				    "%s:%d: give either hash_seed or hash_seed_file, not both",
				    w->name, line_of(v));
	if (file && (s[0] != '/' || strlen(s) >= sizeof(c->hash_seed_file)))
		return xlb_cfg_fail(
			w->err,
			"%s:%d: hash_seed_file must be an absolute path below %zu characters, "
			"e.g. /etc/xlb/hash_seed",
			w->name, line_of(v), sizeof(c->hash_seed_file));
	if (!file && (strlen(s) != 32 || strspn(s, "0123456789abcdefABCDEF") != 32))
		return xlb_cfg_fail(
			w->err,
			"%s:%d: hash_seed must be 32 hex digits (128 bits), this one has %zu "
			"characters%s; make one with 'od -An -N16 -tx1 /dev/urandom | tr -d "
			"\" \\n\"', or use hash_seed_file",
			w->name, line_of(v), strlen(s),
			strspn(s, "0123456789abcdefABCDEF") == strlen(s) ? "" : " (not all hex)");
	snprintf(file ? c->hash_seed_file : c->hash_seed,
		 file ? sizeof(c->hash_seed_file) : sizeof(c->hash_seed), "%s", s);
	return 0;
}

/*
 * The top-level `announce:` block (issue #13): present (even `{}`) turns
 * announcing on with the defaults for what it leaves out. The ranges are
 * xlb_cfg_validate()'s; here each value gets its line.
 */
static int parse_announce(struct walk *w, yaml_node_t *n, struct xlb_cfg_announce *a)
{
	unsigned long u;

	*a = (struct xlb_cfg_announce){.table = XLB_CFG_DEFAULT_ANNOUNCE_TABLE,
				       .protocol = XLB_CFG_DEFAULT_ANNOUNCE_PROTOCOL,
				       .hold_ms = XLB_CFG_DEFAULT_ANNOUNCE_HOLD_MS};
	if (n->type == YAML_SCALAR_NODE && !n->data.scalar.length)
		return 0; /* "announce:" alone: the defaults, as {} */
	if (need_map(w, n, "announce block"))
		return -EINVAL;
	FOR_PAIRS(w, n, p)
	{
		yaml_node_t *v;
		const char *key = pair_key(w, n, p, &v);

		if (!key)
			return -EINVAL;
		if (!strcmp(key, "table")) {
			if (unsigned_value(w, v, "announce table", 0xffffffffUL, &u))
				return -EINVAL;
			if (!xlb_cfg_announce_table_ok((__u32)u))
				return xlb_cfg_fail(
					w->err,
					"%s:%d: announce table %lu is not a table xlbd may own: "
					"give 1 to 4294967295 but not 253, 254 or 255 (the "
					"kernel's default, main and local tables), e.g. %d",
					w->name, line_of(v), u, XLB_CFG_DEFAULT_ANNOUNCE_TABLE);
			a->table = (__u32)u;
		} else if (!strcmp(key, "protocol")) {
			if (unsigned_value(w, v, "announce protocol", 255, &u))
				return -EINVAL;
			if (u < XLB_CFG_MIN_ANNOUNCE_PROTOCOL)
				return xlb_cfg_fail(
					w->err,
					"%s:%d: announce protocol %lu is one of the kernel's own "
					"(0-4); give 5 to 255, e.g. %d",
					w->name, line_of(v), u, XLB_CFG_DEFAULT_ANNOUNCE_PROTOCOL);
			a->protocol = (__u8)u;
		} else if (!strcmp(key, "hold")) {
			if (duration_value(w, v, "announce hold", &a->hold_ms))
				return -EINVAL;
			if (a->hold_ms < XLB_CFG_MIN_ANNOUNCE_HOLD_MS ||
			    a->hold_ms > XLB_CFG_MAX_ANNOUNCE_HOLD_MS)
				return xlb_cfg_fail(w->err,
						    "%s:%d: announce hold %ums is out of range; "
						    "give 1s to 10m (default 10s)",
						    w->name, line_of(v), a->hold_ms);
		} else {
			return xlb_cfg_fail(w->err,
					    "%s:%d: unknown key '%s' in 'announce'; known keys: "
					    "table, protocol, hold",
					    w->name, line_of(v), key);
		}
	}
	return 0;
}

/* flow_table_size: flows, rounded up to whole buckets; the default is 0. */
static int parse_flow_table_size(struct walk *w, yaml_node_t *v, __u32 *out)
{
	unsigned long u;

	if (unsigned_value(w, v, "flow_table_size", (unsigned long)-1, &u))
		return -EINVAL;
	if (u < XLB_MIN_FLOW_ENTRIES || u > XLB_MAX_FLOW_ENTRIES)
		return xlb_cfg_fail(w->err,
				    "%s:%d: flow_table_size %lu is outside %u..%u flows (%u bytes "
				    "of kernel memory each: %u KiB..%u GiB); size it to about "
				    "twice the concurrent flows",
				    w->name, line_of(v), u, XLB_MIN_FLOW_ENTRIES,
				    XLB_MAX_FLOW_ENTRIES, XLB_FLOW_ENTRY_BYTES,
				    XLB_MIN_FLOW_ENTRIES * XLB_FLOW_ENTRY_BYTES / 1024,
				    (unsigned)((unsigned long long)XLB_MAX_FLOW_ENTRIES *
						       XLB_FLOW_ENTRY_BYTES >>
					       30));
	u = (u + XLB_FLOW_WAYS - 1) / XLB_FLOW_WAYS * XLB_FLOW_WAYS;
	*out = u == XLB_DEFAULT_FLOW_ENTRIES ? 0 : (__u32)u;
	return 0;
}

static int parse_root(struct walk *w, yaml_node_t *root, struct xlb_cfg *c)
{
	if (!root)
		return 0; /* an empty file: no interface, no VIPs */
	if (need_map(w, root, "configuration"))
		return -EINVAL;
	FOR_PAIRS(w, root, p)
	{
		yaml_node_t *v;
		const char *key = pair_key(w, root, p, &v), *s;

		if (!key)
			return -EINVAL;
		if (!strcmp(key, "interface")) {
			s = scalar(w, v, "interface");
			if (!s)
				return -EINVAL;
			if (!*s || strlen(s) >= sizeof(c->iface) || strchr(s, '/') ||
			    strchr(s, ' '))
				return xlb_cfg_fail(
					w->err,
					"%s:%d: interface '%s' is not a network interface name "
					"(1 to %zu characters, no '/' or space)",
					w->name, line_of(v), s, sizeof(c->iface) - 1);
			snprintf(c->iface, sizeof(c->iface), "%s", s);
		} else if (!strcmp(key, "deleted_vip_grace")) {
			if (duration_value(w, v, key, &c->deleted_vip_grace_ms))
				return -EINVAL;
		} else if (!strcmp(key, "hash_seed") || !strcmp(key, "hash_seed_file")) {
			if (parse_seed_key(w, key, v, c))
				return -EINVAL;
		} else if (!strcmp(key, "mtu")) {
			unsigned long u;

			if (unsigned_value(w, v, "mtu", XLB_MAX_MTU, &u))
				return -EINVAL;
			if (u < XLB_MIN_MTU)
				return xlb_cfg_fail(
					w->err,
					"%s:%d: mtu %lu is below 1280, the least IPv6 allows; "
					"leave it out to use the interface's own",
					w->name, line_of(v), u);
			c->mtu = (__u32)u;
		} else if (!strcmp(key, "flow_table_size")) {
			if (parse_flow_table_size(w, v, &c->flow_table_size))
				return -EINVAL;
		} else if (!strcmp(key, "announce")) {
			if (parse_announce(w, v, &c->announce))
				return -EINVAL;
		} else if (!strcmp(key, "vips")) {
			size_t n;

			if (v->type != YAML_SEQUENCE_NODE)
				return xlb_cfg_fail(
					w->err, "%s:%d: 'vips' must be a list ('- address: ...')",
					w->name, line_of(v));
			n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
			if (c->vips) /* pair_key() refuses a second 'vips' already */
				return -EINVAL;
			c->vips = calloc(n ? n : 1, sizeof(*c->vips));
			if (!c->vips)
				return -ENOMEM;
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				if (parse_vip(w, yaml_document_get_node(w->doc, *it),
					      &c->vips[c->nvips])) {
					/* not counted yet, so free its backends here */
					free(c->vips[c->nvips].backends);
					return -EINVAL;
				}
				c->nvips++;
			}
		} else {
			return xlb_cfg_fail(
				w->err,
				"%s:%d: unknown key '%s' at the top level; known keys: "
				"interface, deleted_vip_grace, hash_seed, hash_seed_file, mtu, "
				"flow_table_size, announce, vips",
				w->name, line_of(v), key);
		}
	}
	return 0;
}

/*
 * How deep maps and lists may nest: a configuration needs 6 (root, vips, a
 * VIP, backends, a backend, its check). libyaml's scanner spends time in
 * proportion to the depth on every token, so 64 KB of '[' took seconds;
 * this pass over the events stops at the limit, after a bounded look-ahead.
 * Syntax errors are left to the loader, which reports them with the line.
 */
#define CFG_MAX_DEPTH 32

static int check_depth(const char *name, const char *yaml, size_t len, struct xlb_err *err)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, ret = 0, end = 0;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
	while (!end && !ret && yaml_parser_parse(&p, &ev)) {
		if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
			if (++depth > CFG_MAX_DEPTH)
				ret = xlb_cfg_fail(
					err,
					"%s:%zu: lists and maps nested deeper than %d levels; a "
					"configuration needs 6",
					name, ev.start_mark.line + 1, CFG_MAX_DEPTH);
		} else if (ev.type == YAML_SEQUENCE_END_EVENT ||
			   ev.type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return ret;
}

static int load(yaml_parser_t *parser, const char *name, struct xlb_cfg *out, struct xlb_err *err)
{
	struct xlb_cfg c = {.deleted_vip_grace_ms = XLB_CFG_DEFAULT_DELETED_VIP_GRACE_MS};
	yaml_document_t doc;
	struct walk w = {.doc = &doc, .name = name, .err = err};
	int ret;

	if (!yaml_parser_load(parser, &doc)) {
		ret = xlb_cfg_fail(err, "%s:%zu: not valid YAML: %s", name,
				   parser->problem_mark.line + 1,
				   parser->problem ? parser->problem : "syntax error");
		yaml_parser_delete(parser);
		return ret;
	}
	ret = parse_root(&w, yaml_document_get_root_node(&doc), &c);
	yaml_document_delete(&doc);
	yaml_parser_delete(parser);
	if (!ret)
		ret = xlb_cfg_validate(&c, name, err);
	if (ret) {
		xlb_cfg_free(&c);
		return ret;
	}
	*out = c;
	return 0;
}

/*
 * A request that changes a check's type drops the settings of the old type
 * that the new one has no use for and that the request did not set again:
 * `check {type: tcp}` over an http check means a tcp check, not "path is for
 * http checks". A setting the request does give is kept, and validation
 * refuses it if the new type cannot use it.
 */
static void drop_other_type_settings(struct xlb_cfg_check *c, const struct xlb_cfg_check *old)
{
	int http = c->type == XLB_CHECK_HTTP || c->type == XLB_CHECK_HTTPS;

	if (c->type == old->type)
		return;
#define DROP_STR(field, keep)                                                                      \
	do {                                                                                       \
		if (!(keep) && !strcmp(c->field, old->field))                                      \
			memset(c->field, 0, sizeof(c->field));                                     \
	} while (0)
	DROP_STR(path, http);
	DROP_STR(host, http);
	DROP_STR(body, http);
	DROP_STR(send, c->type == XLB_CHECK_UDP || c->type == XLB_CHECK_TCP);
	DROP_STR(expect, c->type == XLB_CHECK_UDP || c->type == XLB_CHECK_TCP);
	DROP_STR(command, c->type == XLB_CHECK_EXEC);
#undef DROP_STR
	if (!http && c->nranges == old->nranges &&
	    !memcmp(c->ranges, old->ranges, sizeof(c->ranges))) {
		c->nranges = 0;
		memset(c->ranges, 0, sizeof(c->ranges));
	}
	if (c->type != XLB_CHECK_HTTPS && c->tls_verify == old->tls_verify)
		c->tls_verify = 1;
	if ((c->type == XLB_CHECK_EXEC || c->type == XLB_CHECK_NONE) && c->via == old->via)
		c->via = XLB_CHECK_VIA_BACKEND; /* nothing to send through the VIP */
}

/* A request's YAML (or JSON) snippet through one of the walks above. */
struct snippet {
	struct xlb_cfg_vip *v;
	struct xlb_cfg_backend *b;
	struct xlb_cfg_check *c;
	struct xlb_cfg_outlier *o;
};

static int parse_snippet(const char *what, const char *example, const char *yaml,
			 struct snippet *sn, struct xlb_err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct walk w = {.doc = &doc, .name = what, .err = err};
	yaml_node_t *root;
	int ret;

	if (check_depth(what, yaml, strlen(yaml), err))
		return -EINVAL;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, strlen(yaml));
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_parser_delete(&parser);
		return xlb_cfg_fail(err, "%s: not valid YAML; give %s", what, example);
	}
	root = yaml_document_get_root_node(&doc);
	if (!root)
		ret = xlb_cfg_fail(err, "%s: empty; give %s", what, example);
	else if (sn->o)
		ret = parse_outlier(&w, root, sn->o);
	else if (sn->b)
		ret = parse_backend_check(&w, root, sn->b);
	else
		ret = parse_check_fields(&w, root, sn->c);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

int xlb_cfg_parse_check(const char *yaml, struct xlb_cfg_vip *v, struct xlb_cfg_backend *b,
			struct xlb_err *err)
{
	struct xlb_cfg_check c = v->check;
	struct xlb_cfg_backend nb = b ? *b : (struct xlb_cfg_backend){};
	struct snippet sn = {.v = v, .b = b ? &nb : NULL, .c = &c};
	int ret = parse_snippet("check", "settings like {type: http, path: /}", yaml, &sn, err);

	if (ret)
		return ret;
	if (b) {
		*b = nb;
	} else {
		drop_other_type_settings(&c, &v->check);
		v->check = c;
	}
	xlb_cfg_resolve_checks(v);
	return 0;
}

int xlb_cfg_parse_outlier(const char *yaml, struct xlb_cfg_vip *v, struct xlb_err *err)
{
	struct xlb_cfg_outlier o = {};
	struct snippet sn = {.v = v, .o = &o};
	int ret =
		parse_snippet("outlier", "off, on, or settings like {window: 10s, threshold: 50%}",
			      yaml, &sn, err);

	if (!ret)
		v->outlier = o;
	return ret;
}

/* len bytes of YAML (a NUL among them is the loader's to refuse). */
static int load_buffer(const char *name, const char *yaml, size_t len, struct xlb_cfg *out,
		       struct xlb_err *err)
{
	yaml_parser_t parser;

	if (check_depth(name, yaml, len, err))
		return -EINVAL;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	return load(&parser, name, out, err);
}

int xlb_cfg_load_file(const char *path, struct xlb_cfg *out, struct xlb_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r"), *m;
	char chunk[4096];
	size_t n;
	int ret = 0;

	if (!f) {
		ret = -errno;
		xlb_cfg_fail(err, "couldn't open config '%s': %s", path, strerror(-ret));
		return ret;
	}
	m = open_memstream(&buf, &len); /* read whole: the loader makes two passes */
	while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (fwrite(chunk, 1, n, m) != n)
			ret = -ENOMEM;
	if (!m || ferror(f))
		ret = -(errno ?: EIO);
	if (m && fclose(m) && !ret)
		ret = -ENOMEM;
	fclose(f);
	if (ret)
		xlb_cfg_fail(err, "couldn't read config '%s': %s", path, strerror(-ret));
	else
		ret = load_buffer(path, buf, len, out, err);
	free(buf);
	return ret;
}

int xlb_cfg_load_string(const char *name, const char *yaml, struct xlb_cfg *out,
			struct xlb_err *err)
{
	return load_buffer(name, yaml, strlen(yaml), out, err);
}
