// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Whole-config checks (xlb_cfg_validate): what a field alone cannot say --
 * duplicates, families the mode cannot carry, limits, a check's settings
 * against its type, text a field cannot carry, exec commands that cannot run.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include "config_int.h"
#include "exec_child.h"
#include "maglev.h"
#include "text.h"
#include "xlb_dp.h"

static int where(const char *name, int line, char *buf, size_t len)
{
	return line ? snprintf(buf, len, "%s:%d: ", name, line) : snprintf(buf, len, "%s", "");
}

static int is_program(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* Is the first word of cmd a program an exec check can run (a path, or
 * in the checks' PATH)? */
static int runnable(const char *cmd, char *prog, size_t len)
{
	size_t n = strcspn(cmd, " \t");
	const char *path = XLB_EXEC_PATH;
	char buf[PATH_MAX];

	snprintf(prog, len, "%.*s", (int)n, cmd);
	if (strchr(prog, '/'))
		return is_program(prog);
	while (*path) {
		size_t d = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)d, path, prog);
		if (d && is_program(buf))
			return 1;
		path += d + (path[d] == ':');
	}
	return 0;
}

static int validate_exec(const struct xlb_cfg_check *c, const char *at, const char *who,
			 struct xlb_err *err)
{
	char prog[XLB_CHECK_STR * 2], ch;

	if (c->type != XLB_CHECK_EXEC)
		return c->shell ? xlb_cfg_fail(err,
					       "%s%s: check shell is for exec checks; remove it",
					       at, who)
				: 0;
	if (!c->command[0])
		return xlb_cfg_fail(err, "%s%s: an exec check needs 'command: PROGRAM [ARGS]'", at,
				    who);
	if (c->shell)
		return 0;
	/* Exec checks run without a shell: a command written for one would
	 * run differently (quotes kept, no pipe...), so it is refused. */
	if (xlb_exec_needs_shell(c->command, &ch))
		return xlb_cfg_fail(
			err,
			"%s%s: check command '%s' uses shell syntax ('%c') but exec checks "
			"run without a shell; add 'shell: true' to the check, or put the "
			"command in a script",
			at, who, c->command, ch == '\n' ? ' ' : ch);
	if (!runnable(c->command, prog, sizeof(prog)))
		return xlb_cfg_fail(
			err,
			"%s%s: check command '%s' is not an executable file (or not in PATH); "
			"give the full path of a program and chmod +x it (checks run with "
			"PATH=%s)",
			at, who, prog, XLB_EXEC_PATH);
	return 0;
}

static int validate_timing(const struct xlb_check_timing *t, const struct xlb_cfg_vip *v,
			   const char *at, const char *who, struct xlb_err *err)
{
	__u32 fast = t->fast_interval_ms ? t->fast_interval_ms : t->interval_ms;
	__u32 shortest = fast < t->interval_ms ? fast : t->interval_ms;

	if (!t->interval_ms)
		return xlb_cfg_fail(err, "%s%s: check interval 0 is not allowed; give e.g. 2s", at,
				    who);
	if (!t->timeout_ms || t->timeout_ms >= shortest)
		return xlb_cfg_fail(
			err,
			"%s%s: check timeout %ums must be above 0 and below the interval "
			"(%ums); lower timeout or raise interval/fast_interval",
			at, who, t->timeout_ms, shortest);
	if (!t->rise || !t->fall)
		return xlb_cfg_fail(err, "%s%s: check rise and fall must be 1 or more", at, who);
	if (t->jitter_pct > 50)
		return xlb_cfg_fail(err, "%s%s: check jitter %u%% is above 50%%", at, who,
				    t->jitter_pct);
	if (!t->port && !v->port && v->check.type != XLB_CHECK_NONE &&
	    v->check.type != XLB_CHECK_EXEC)
		return xlb_cfg_fail(
			err,
			"%s%s: the VIP takes every port (port 0), so the check needs one; "
			"add 'port: N' to the check",
			at, who);
	return 0;
}

static int validate_text(const char *s, enum xlb_text_rule rule, const char *at, const char *who,
			 const char *field, const char *hint, struct xlb_err *err)
{
	char shown[160];
	unsigned int cp;
	size_t bad;

	if (!xlb_text_check(s, rule, &bad))
		return 0;
	xlb_text_escape(s, shown, sizeof(shown));
	if (xlb_utf8_next(s + bad, &cp) < 0)
		return xlb_cfg_fail(
			err,
			"%s%s: %s \"%s\" is not UTF-8 at byte %zu; write the text in UTF-8 "
			"(other characters as escapes like \\u00e9 in a quoted string)",
			at, who, field, shown, bad + 1);
	return xlb_cfg_fail(err,
			    "%s%s: %s \"%s\" holds a character it cannot carry at byte %zu; %s", at,
			    who, field, shown, bad + 1, hint);
}

static int validate_check(const struct xlb_cfg_vip *v, const char *at, const char *vn,
			  struct xlb_err *err)
{
	const struct xlb_cfg_check *c = &v->check;
	int web = c->type == XLB_CHECK_HTTP || c->type == XLB_CHECK_HTTPS;
	char who[100];

	snprintf(who, sizeof(who), "VIP %s", vn);
	if (c->type > XLB_CHECK_NONE)
		return xlb_cfg_fail(err, "%s%s: unknown check type", at, who);
	for (size_t i = 0; i < xlb_cfg_ncheck_texts; i++) {
		const struct xlb_cfg_check_text *t = &xlb_cfg_check_texts[i];
		char field[32];

		snprintf(field, sizeof(field), "check %s", t->key);
		if (validate_text((const char *)c + t->off, t->rule, at, who, field, t->hint, err))
			return -EINVAL;
	}
	if (!web && (c->path[0] || c->host[0] || c->body[0] || c->nranges))
		return xlb_cfg_fail(
			err,
			"%s%s: check path, host, status and body are for http and https "
			"checks, not %s; remove them or change the type",
			at, who, xlb_check_type_name(c->type));
	if (c->type != XLB_CHECK_UDP && c->type != XLB_CHECK_TCP && (c->send[0] || c->expect[0]))
		return xlb_cfg_fail(
			err,
			"%s%s: check send and expect are for tcp and udp checks, not %s; remove "
			"them or change the type (an http check matches its reply with body)",
			at, who, xlb_check_type_name(c->type));
	if (c->type != XLB_CHECK_EXEC && c->command[0])
		return xlb_cfg_fail(err, "%s%s: check command is for exec checks; set 'type: exec'",
				    at, who);
	if (validate_exec(c, at, who, err))
		return -EINVAL;
	if (c->via > XLB_CHECK_VIA_VIP)
		return xlb_cfg_fail(err, "%s%s: check via must be backend or vip", at, who);
	if (c->via == XLB_CHECK_VIA_VIP && (c->type == XLB_CHECK_EXEC || c->type == XLB_CHECK_NONE))
		return xlb_cfg_fail(
			err,
			"%s%s: check via vip sends the probe to the VIP through the data path, "
			"which a %s check has no probe for; remove 'via: vip' or use a tcp, "
			"http, https or udp check",
			at, who, xlb_check_type_name(c->type));
	for (unsigned int i = 0; i < c->nranges && i < XLB_CHECK_MAX_RANGES; i++)
		if (c->ranges[i].lo < 100 || c->ranges[i].hi > 599 ||
		    c->ranges[i].lo > c->ranges[i].hi)
			return xlb_cfg_fail(err,
					    "%s%s: check status range %u-%u is not within 100-599",
					    at, who, c->ranges[i].lo, c->ranges[i].hi);
	return validate_timing(&c->t, v, at, who, err);
}

/* flow_state and handover (issue #14): stateless needs an encapsulating
 * mode, whose backends run xlb's decap program (it hands packets of
 * connections they do not own on to the previous hop). */
/* issue #16: what a request could set out of range, and what cannot work. */
static int validate_outlier(const struct xlb_cfg_vip *v, const char *at, const char *vn,
			    struct xlb_err *err)
{
	const struct xlb_cfg_outlier *o = &v->outlier;
	struct xlb_cfg_outlier r = xlb_cfg_outlier_of(v);

	if (o->state > XLB_OUTLIER_ON || o->threshold_pct > 100 || o->max_percent > 100 ||
	    o->min_samples > XLB_CFG_MAX_OUTLIER_MIN_SAMPLES ||
	    (o->window_ms && (o->window_ms < XLB_CFG_MIN_OUTLIER_WINDOW_MS ||
			      o->window_ms > XLB_CFG_MAX_OUTLIER_WINDOW_MS)) ||
	    (o->base_ejection_ms && o->base_ejection_ms < XLB_CFG_MIN_OUTLIER_EJECTION_MS) ||
	    o->base_ejection_ms > XLB_CFG_MAX_OUTLIER_EJECTION_MS ||
	    (o->max_ejection_ms && o->max_ejection_ms < XLB_CFG_MIN_OUTLIER_EJECTION_MS) ||
	    o->max_ejection_ms > XLB_CFG_MAX_OUTLIER_EJECTION_MS)
		return xlb_cfg_fail(err,
				    "%sVIP %s: outlier settings out of range: window 1s..60s, "
				    "threshold and max_ejection_percent 1%%..100%%, "
				    "base/max_ejection_time 1s..24h",
				    at, vn);
	if (o->max_ejection_ms && o->max_ejection_ms < r.base_ejection_ms)
		return xlb_cfg_fail(err,
				    "%sVIP %s: outlier max_ejection_time %ums is below "
				    "base_ejection_time %ums; raise it or lower the base",
				    at, vn, o->max_ejection_ms, r.base_ejection_ms);
	if (o->state == XLB_OUTLIER_ON && r.state == XLB_OUTLIER_OFF)
		return xlb_cfg_fail(err,
				    "%sVIP %s: outlier detection reads retransmitted TCP SYNs "
				    "from the flow table; a %s VIP has none: remove 'outlier' "
				    "(or 'outlier: off')",
				    at, vn, v->proto != IPPROTO_TCP ? "udp" : "stateless");
	return 0;
}

static int validate_flow_state(const struct xlb_cfg_vip *v, const char *at, const char *vn,
			       struct xlb_err *err)
{
	if (v->flow_state > XLB_FLOW_STATELESS)
		return xlb_cfg_fail(err, "%sVIP %s: flow_state must be table or stateless", at, vn);
	if (v->flow_state == XLB_FLOW_STATELESS && v->mode != XLB_MODE_IPIP)
		return xlb_cfg_fail(
			err,
			"%sVIP %s: flow_state stateless needs mode ipip (a %s backend cannot "
			"hand a packet on to the previous one); set 'mode: ipip' (backends run "
			"xlb-decap) or 'flow_state: table'",
			at, vn, xlb_mode_name(v->mode));
	if (v->handover_ms &&
	    (v->handover_ms < XLB_CFG_MIN_HANDOVER_MS || v->handover_ms > XLB_CFG_MAX_HANDOVER_MS))
		return xlb_cfg_fail(err,
				    "%sVIP %s: handover %ums is out of range; give 1s to 24h "
				    "(default 10m)",
				    at, vn, v->handover_ms);
	return 0;
}

static int validate_vip(const struct xlb_cfg_vip *v, const char *name, struct xlb_err *err)
{
	char at[300], vn[80], bn[INET6_ADDRSTRLEN], who[200];

	xlb_cfg_vip_name(v, vn, sizeof(vn));
	if (v->proto != IPPROTO_TCP && v->proto != IPPROTO_UDP)
		return xlb_cfg_fail(err, "VIP %s: protocol must be tcp or udp", vn);
	if (v->mode > XLB_MODE_IPIP || v->hash > XLB_HASH_SRC || v->on_empty > XLB_EMPTY_PASS)
		return xlb_cfg_fail(err, "VIP %s: unknown mode, hash or on_empty", vn);
	if (!xlb_maglev_size_ok(v->table_size))
		return xlb_cfg_fail(err, "VIP %s: table_size %u is not one of the allowed primes",
				    vn, v->table_size);
	if (v->panic_percent > 100)
		return xlb_cfg_fail(err, "VIP %s: panic_threshold %u%% is above 100%%", vn,
				    v->panic_percent);
	if (v->announce > XLB_ANNOUNCE_NEVER)
		return xlb_cfg_fail(
			err,
			"VIP %s: announce must be when-usable, always or never (default "
			"when-usable)",
			vn);
	where(name, v->line, at, sizeof(at));
	if (validate_flow_state(v, at, vn, err))
		return -EINVAL;
	if (v->syn_retry > XLB_SYN_RETRY_SAME)
		return xlb_cfg_fail(
			err, "%sVIP %s: syn_retry must be another-backend or same-backend", at, vn);
	/* issue #16: only a flow entry remembers a SYN */
	if (v->syn_retry && v->flow_state == XLB_FLOW_STATELESS)
		return xlb_cfg_fail(
			err,
			"%sVIP %s: syn_retry same-backend has no effect on a stateless "
			"VIP (no flow entry remembers its SYN); remove syn_retry or use "
			"'flow_state: table'",
			at, vn);
	if (validate_outlier(v, at, vn, err))
		return -EINVAL;
	if (validate_check(v, at, vn, err))
		return -EINVAL;
	for (size_t i = 0; i < v->nbackends; i++) {
		const struct xlb_cfg_backend *b = &v->backends[i];

		where(name, b->line, at, sizeof(at));
		xlb_addr_str(&b->addr, bn, sizeof(bn));
		if (v->mode == XLB_MODE_IPIP && v->family == XLB_AF_INET6 &&
		    b->family == XLB_AF_INET)
			return xlb_cfg_fail(
				err,
				"%sbackend %s of VIP %s: ipip cannot carry an IPv6 VIP to an "
				"IPv4 backend; give the backend's IPv6 address",
				at, bn, vn);
		if (b->weight > XLB_CFG_MAX_WEIGHT)
			return xlb_cfg_fail(err, "%sbackend %s of VIP %s: weight %u is above %d",
					    at, bn, vn, b->weight, XLB_CFG_MAX_WEIGHT);
		snprintf(who, sizeof(who), "backend %s of VIP %s", bn, vn);
		if (validate_timing(&b->check, v, at, who, err))
			return -EINVAL;
		for (size_t j = 0; j < i; j++) {
			if (!memcmp(&v->backends[j].addr, &b->addr, sizeof(b->addr)))
				return xlb_cfg_fail(
					err,
					"%sbackend %s appears twice in VIP %s (first at line "
					"%d); list it once",
					at, bn, vn, v->backends[j].line);
		}
	}
	return 0;
}

/* The top-level announce block (table 0: absent, nothing else may be set);
 * the same ranges as the parser's, for configs built by requests. */
static int validate_announce(const struct xlb_cfg_announce *a, const char *name,
			     struct xlb_err *err)
{
	if (!a->table)
		return a->protocol || a->hold_ms
			       ? xlb_cfg_fail(err,
					      "%s: announce protocol or hold without a table; give "
					      "'announce: {table: N}' or remove the block",
					      name)
			       : 0;
	if (!xlb_cfg_announce_table_ok(a->table))
		return xlb_cfg_fail(err,
				    "%s: announce table %u is the kernel's (253 default, 254 main, "
				    "255 local); give another, e.g. %d",
				    name, a->table, XLB_CFG_DEFAULT_ANNOUNCE_TABLE);
	if (a->protocol < XLB_CFG_MIN_ANNOUNCE_PROTOCOL)
		return xlb_cfg_fail(
			err,
			"%s: announce protocol %u is one of the kernel's own (0-4); give "
			"5 to 255, e.g. %d",
			name, a->protocol, XLB_CFG_DEFAULT_ANNOUNCE_PROTOCOL);
	if (a->hold_ms < XLB_CFG_MIN_ANNOUNCE_HOLD_MS || a->hold_ms > XLB_CFG_MAX_ANNOUNCE_HOLD_MS)
		return xlb_cfg_fail(err, "%s: announce hold %ums is out of range; give 1s to 10m",
				    name, a->hold_ms);
	return 0;
}

int xlb_cfg_validate(const struct xlb_cfg *c, const char *name, struct xlb_err *err)
{
	size_t total = 0, bad;
	char at[300], vn[80];

	if (c->nvips >= XLB_MAX_VIPS)
		return xlb_cfg_fail(err, "%s: %zu VIPs; at most %d", name, c->nvips,
				    XLB_MAX_VIPS - 1);
	if (xlb_text_check(c->iface, XLB_TEXT_VISIBLE, &bad) || strpbrk(c->iface, "/:"))
		return xlb_cfg_fail(
			err,
			"%s: interface \"%s\" is not a network interface name (visible ASCII "
			"other than '/' and ':'); give the name 'ip link' shows",
			name, xlb_text_escape(c->iface, vn, sizeof(vn)));
	if (validate_announce(&c->announce, name, err))
		return -EINVAL;
	for (size_t i = 0; i < c->nvips; i++) {
		const struct xlb_cfg_vip *v = &c->vips[i];

		if (validate_vip(v, name, err))
			return -EINVAL;
		total += v->nbackends;
		for (size_t j = 0; j < i; j++) {
			if (!xlb_cfg_same_vip(&c->vips[j], v))
				continue;
			where(name, v->line, at, sizeof(at));
			return xlb_cfg_fail(
				err, "%sVIP %s is defined twice (first at line %d); merge them", at,
				xlb_cfg_vip_name(v, vn, sizeof(vn)), c->vips[j].line);
		}
	}
	if (total >= XLB_MAX_BACKENDS)
		return xlb_cfg_fail(err, "%s: %zu backends in all; at most %d", name, total,
				    XLB_MAX_BACKENDS - 1);
	return 0;
}
