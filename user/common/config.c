// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The configuration's small shared core: names of enum values, a check's
 * defaults, durations and status ranges, the VIP's name, and finding,
 * copying, comparing and freeing a configuration. Parsing is in
 * config_parse.c, whole-config checks in config_validate.c, the dump in
 * config_dump.c (config.h says which owns what).
 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "config_int.h"
#include "vipname.h"

int xlb_cfg_fail(struct xlb_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- names ----------------------------------------------------------- */

static const char *const mode_names[] = {[XLB_MODE_DSR] = "dsr", [XLB_MODE_IPIP] = "ipip"};
static const char *const hash_names[] = {[XLB_HASH_5TUPLE] = "5-tuple", [XLB_HASH_SRC] = "source"};
static const char *const empty_names[] = {
	[XLB_EMPTY_REJECT] = "reject", [XLB_EMPTY_DROP] = "drop", [XLB_EMPTY_PASS] = "pass"};

static const char *const admin_names[] = {[XLB_ADMIN_ENABLED] = "enabled",
					  [XLB_ADMIN_DRAIN] = "drain",
					  [XLB_ADMIN_DISABLED] = "disabled"};

static const char *const check_names[] = {
	[XLB_CHECK_TCP] = "tcp", [XLB_CHECK_HTTP] = "http", [XLB_CHECK_HTTPS] = "https",
	[XLB_CHECK_UDP] = "udp", [XLB_CHECK_EXEC] = "exec", [XLB_CHECK_NONE] = "none"};

#define NAME_OF(tab, v) ((v) >= 0 && (size_t)(v) < sizeof(tab) / sizeof(tab[0]) ? tab[v] : "?")

static int index_of(const char *const *tab, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(tab[i], s))
			return (int)i;
	return -1;
}

const char *xlb_mode_name(int mode)
{
	return NAME_OF(mode_names, mode);
}

const char *xlb_hash_name(int hash)
{
	return NAME_OF(hash_names, hash);
}

const char *xlb_on_empty_name(int on_empty)
{
	return NAME_OF(empty_names, on_empty);
}

const char *xlb_admin_name(int admin)
{
	return NAME_OF(admin_names, admin);
}

int xlb_admin_from_name(const char *s)
{
	return index_of(admin_names, 3, s);
}

int xlb_mode_from_name(const char *s)
{
	return index_of(mode_names, 2, s);
}

int xlb_hash_from_name(const char *s)
{
	return index_of(hash_names, 2, s);
}

int xlb_on_empty_from_name(const char *s)
{
	return index_of(empty_names, 3, s);
}

static const char *const announce_names[] = {[XLB_ANNOUNCE_WHEN_USABLE] = "when-usable",
					     [XLB_ANNOUNCE_ALWAYS] = "always",
					     [XLB_ANNOUNCE_NEVER] = "never"};

const char *xlb_announce_name(int announce)
{
	return NAME_OF(announce_names, announce);
}

int xlb_announce_from_name(const char *s)
{
	return index_of(announce_names, 3, s);
}

static const char *const flow_state_names[] = {
	[XLB_FLOW_TABLE] = "table", [XLB_FLOW_STATELESS] = "stateless"};

const char *xlb_flow_state_name(int flow_state)
{
	return NAME_OF(flow_state_names, flow_state);
}

int xlb_flow_state_from_name(const char *s)
{
	return index_of(flow_state_names, 2, s);
}

static const char *const syn_retry_names[] = {
	[XLB_SYN_RETRY_ANOTHER] = "another-backend", [XLB_SYN_RETRY_SAME] = "same-backend"};

const char *xlb_syn_retry_name(int syn_retry)
{
	return NAME_OF(syn_retry_names, syn_retry);
}

int xlb_syn_retry_from_name(const char *s)
{
	return index_of(syn_retry_names, 2, s);
}

__u32 xlb_cfg_handover_ms(const struct xlb_cfg_vip *v)
{
	return v->handover_ms ? v->handover_ms : XLB_CFG_DEFAULT_HANDOVER_MS;
}

struct xlb_cfg_outlier xlb_cfg_outlier_of(const struct xlb_cfg_vip *v)
{
	struct xlb_cfg_outlier o = v->outlier;
	int can = v->proto == IPPROTO_TCP && v->flow_state == XLB_FLOW_TABLE;

#define OR_DEFAULT(f, d) o.f = o.f ? o.f : (d)
	OR_DEFAULT(window_ms, XLB_CFG_DEFAULT_OUTLIER_WINDOW_MS);
	OR_DEFAULT(threshold_pct, XLB_CFG_DEFAULT_OUTLIER_THRESHOLD);
	OR_DEFAULT(min_samples, XLB_CFG_DEFAULT_OUTLIER_MIN_SAMPLES);
	OR_DEFAULT(base_ejection_ms, XLB_CFG_DEFAULT_OUTLIER_BASE_MS);
	OR_DEFAULT(max_ejection_ms, XLB_CFG_DEFAULT_OUTLIER_MAX_MS);
	OR_DEFAULT(max_percent, XLB_CFG_DEFAULT_OUTLIER_MAX_PERCENT);
#undef OR_DEFAULT
	if (o.max_ejection_ms < o.base_ejection_ms) /* only the base was set */
		o.max_ejection_ms = o.base_ejection_ms;
	o.state = o.state == XLB_OUTLIER_OFF || !can ? XLB_OUTLIER_OFF : XLB_OUTLIER_ON;
	return o;
}

int xlb_cfg_announce_table_ok(__u32 t)
{
	return t && t != 253 && t != 254 && t != 255;
}

const char *xlb_check_type_name(int type)
{
	return NAME_OF(check_names, type);
}

int xlb_check_type_from_name(const char *s)
{
	return index_of(check_names, 6, s);
}

static const char *const via_names[] = {"backend", "vip"};

const char *xlb_check_via_name(int via)
{
	return NAME_OF(via_names, via);
}

/* ---- checks: defaults, durations, status ranges ----------------------- */

void xlb_cfg_check_defaults(struct xlb_cfg_check *c)
{
	memset(c, 0, sizeof(*c)); /* the config compares checks bytewise */
	*c = (struct xlb_cfg_check){
		.type = XLB_CHECK_TCP,
		.tls_verify = 1,
		.t = {.interval_ms = XLB_CHECK_DEFAULT_INTERVAL_MS,
		      .timeout_ms = XLB_CHECK_DEFAULT_TIMEOUT_MS,
		      .rise = XLB_CHECK_DEFAULT_RISE,
		      .fall = XLB_CHECK_DEFAULT_FALL,
		      .jitter_pct = XLB_CHECK_DEFAULT_JITTER},
	};
}

void xlb_cfg_resolve_checks(struct xlb_cfg_vip *v)
{
	const struct xlb_check_timing *d = &v->check.t;

	for (size_t i = 0; i < v->nbackends; i++) {
		struct xlb_cfg_backend *b = &v->backends[i];
		struct xlb_check_timing *t = &b->check;
		__u8 m = b->check_set;

		t->interval_ms = m & XLB_CHK_SET_INTERVAL ? t->interval_ms : d->interval_ms;
		t->fast_interval_ms =
			m & XLB_CHK_SET_FAST ? t->fast_interval_ms : d->fast_interval_ms;
		t->timeout_ms = m & XLB_CHK_SET_TIMEOUT ? t->timeout_ms : d->timeout_ms;
		t->rise = m & XLB_CHK_SET_RISE ? t->rise : d->rise;
		t->fall = m & XLB_CHK_SET_FALL ? t->fall : d->fall;
		t->jitter_pct = m & XLB_CHK_SET_JITTER ? t->jitter_pct : d->jitter_pct;
		t->port = m & XLB_CHK_SET_PORT ? t->port : d->port;
	}
}

/*
 * What each text field of a check may hold, read by the parser (where it
 * goes, how long) and by validation (what it may hold). What goes on the
 * wire as a protocol token (an HTTP request path, a Host header and TLS
 * name) is visible ASCII, so nothing can split or smuggle a request line;
 * a command line holds no control characters; payloads and matches may hold
 * any text (the dump escapes what YAML cannot show).
 */
const struct xlb_cfg_check_text xlb_cfg_check_texts[] = {
	{"path", offsetof(struct xlb_cfg_check, path), XLB_CHECK_STR, XLB_TEXT_VISIBLE,
	 "a request path is visible ASCII: percent-encode the rest, e.g. %20 for a space"},
	{"host", offsetof(struct xlb_cfg_check, host), XLB_CHECK_STR, XLB_TEXT_VISIBLE,
	 "a host name is visible ASCII: write an international name in its xn-- form"},
	{"command", offsetof(struct xlb_cfg_check, command), XLB_CHECK_STR * 2, XLB_TEXT_NO_CONTROL,
	 "write the command on one line, without control characters"},
	{"body", offsetof(struct xlb_cfg_check, body), XLB_CHECK_STR, XLB_TEXT_UTF8, ""},
	{"send", offsetof(struct xlb_cfg_check, send), XLB_CHECK_SEND_LEN, XLB_TEXT_UTF8, ""},
	{"expect", offsetof(struct xlb_cfg_check, expect), XLB_CHECK_EXPECT_LEN, XLB_TEXT_UTF8, ""},
};
const size_t xlb_cfg_ncheck_texts = sizeof(xlb_cfg_check_texts) / sizeof(xlb_cfg_check_texts[0]);

int xlb_parse_duration_ms(const char *s, __u32 *ms)
{
	unsigned long long n, mult;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		mult = 1;
	else if (!strcmp(end, "s"))
		mult = 1000;
	else if (!strcmp(end, "m"))
		mult = 60000;
	else if (!*end && n == 0)
		mult = 0;
	else
		return -EINVAL;
	/* compared before multiplying: 18446744073709552s wraps to 384 ms */
	if (mult && n > 24ULL * 3600 * 1000 / mult)
		return -EINVAL;
	*ms = (__u32)(n * mult);
	return 0;
}

int xlb_parse_status_ranges(const char *s, struct xlb_cfg_check *c)
{
	struct xlb_status_range r[XLB_CHECK_MAX_RANGES];
	unsigned int n = 0;

	while (*s) {
		unsigned long lo, hi;
		char *end;

		if (n == XLB_CHECK_MAX_RANGES || *s < '0' || *s > '9')
			return -EINVAL;
		lo = strtoul(s, &end, 10);
		hi = lo;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return -EINVAL;
			hi = strtoul(end + 1, &end, 10);
		}
		if (lo < 100 || hi > 599 || lo > hi || (*end && *end != ','))
			return -EINVAL;
		r[n++] = (struct xlb_status_range){(__u16)lo, (__u16)hi};
		s = *end ? end + 1 : end;
		if (*end && !*s)
			return -EINVAL; /* a trailing comma */
	}
	if (!n)
		return -EINVAL;
	memcpy(c->ranges, r, n * sizeof(r[0]));
	c->nranges = (__u8)n;
	return 0;
}

const char *xlb_cfg_vip_name(const struct xlb_cfg_vip *v, char *buf, size_t len)
{
	struct xlb_vip_name n = {
		.addr = v->addr, .family = v->family, .port = v->port, .proto = v->proto};

	return xlb_vip_name_str(&n, buf, len);
}

/* ---- find, copy, compare ---------------------------------------------- */

int xlb_cfg_same_vip(const struct xlb_cfg_vip *a, const struct xlb_cfg_vip *b)
{
	return !memcmp(&a->addr, &b->addr, sizeof(a->addr)) && a->port == b->port &&
	       a->proto == b->proto;
}

struct xlb_cfg_vip *xlb_cfg_find_vip(const struct xlb_cfg *c, const struct xlb_cfg_vip *key)
{
	for (size_t i = 0; i < c->nvips; i++)
		if (xlb_cfg_same_vip(&c->vips[i], key))
			return &c->vips[i];
	return NULL;
}

struct xlb_cfg_backend *xlb_cfg_find_backend(const struct xlb_cfg_vip *v, const union xlb_addr *a)
{
	for (size_t i = 0; i < v->nbackends; i++)
		if (!memcmp(&v->backends[i].addr, a, sizeof(*a)))
			return &v->backends[i];
	return NULL;
}

int xlb_cfg_copy(struct xlb_cfg *dst, const struct xlb_cfg *src)
{
	struct xlb_cfg c = *src;

	c.vips = calloc(src->nvips ? src->nvips : 1, sizeof(*c.vips));
	if (!c.vips)
		return -ENOMEM;
	c.nvips = 0;
	for (size_t i = 0; i < src->nvips; i++) {
		struct xlb_cfg_vip *v = &c.vips[i];
		size_t nb = src->vips[i].nbackends;

		*v = src->vips[i];
		v->backends = calloc(nb ? nb : 1, sizeof(*v->backends));
		if (!v->backends) {
			xlb_cfg_free(&c);
			return -ENOMEM;
		}
		if (nb) /* memcpy from a NULL array is undefined even for 0 bytes */
			memcpy(v->backends, src->vips[i].backends, nb * sizeof(*v->backends));
		c.nvips++;
	}
	*dst = c;
	return 0;
}

static int backend_equal(const struct xlb_cfg_backend *a, const struct xlb_cfg_backend *b)
{
	return !memcmp(&a->addr, &b->addr, sizeof(a->addr)) && a->weight == b->weight &&
	       a->admin == b->admin && a->backup == b->backup && a->check_set == b->check_set &&
	       !memcmp(&a->check, &b->check, sizeof(a->check));
}

int xlb_cfg_equal(const struct xlb_cfg *a, const struct xlb_cfg *b)
{
	if (strcmp(a->iface, b->iface) || a->mtu != b->mtu || a->nvips != b->nvips ||
	    a->flow_table_size != b->flow_table_size ||
	    a->deleted_vip_grace_ms != b->deleted_vip_grace_ms ||
	    a->announce.table != b->announce.table ||
	    a->announce.protocol != b->announce.protocol ||
	    a->announce.hold_ms != b->announce.hold_ms)
		return 0;
	for (size_t i = 0; i < a->nvips; i++) {
		const struct xlb_cfg_vip *x = &a->vips[i], *y = &b->vips[i];

		if (!xlb_cfg_same_vip(x, y) || x->mode != y->mode || x->hash != y->hash ||
		    x->on_empty != y->on_empty || x->table_size != y->table_size ||
		    x->reject_rate != y->reject_rate || x->nbackends != y->nbackends ||
		    x->panic_percent != y->panic_percent || x->slow_start_ms != y->slow_start_ms ||
		    x->drain_timeout_ms != y->drain_timeout_ms || x->announce != y->announce ||
		    x->flow_state != y->flow_state || x->handover_ms != y->handover_ms ||
		    x->syn_retry != y->syn_retry ||
		    memcmp(&x->outlier, &y->outlier, sizeof(x->outlier)) ||
		    memcmp(&x->check, &y->check, sizeof(x->check)))
			return 0;
		for (size_t j = 0; j < x->nbackends; j++)
			if (!backend_equal(&x->backends[j], &y->backends[j]))
				return 0;
	}
	return 1;
}

__u32 xlb_cfg_flow_entries(const struct xlb_cfg *c)
{
	return c->flow_table_size ? c->flow_table_size : XLB_DEFAULT_FLOW_ENTRIES;
}

void xlb_cfg_free(struct xlb_cfg *c)
{
	for (size_t i = 0; i < c->nvips; i++)
		free(c->vips[i].backends);
	free(c->vips);
	memset(c, 0, sizeof(*c));
}
