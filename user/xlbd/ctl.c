// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbd's control socket. One JSON object a connection, ended by a newline;
 * one JSON reply: {"ok": true, ...} or {"ok": false, "error": "..."}.
 *
 *   {"verb": "vip-add", "vip": "10.0.0.10:80/tcp", "mode": "dsr"}
 *
 * Verbs: status, stats, events, vip-list, vip-add, vip-set, vip-del, backend-list,
 * backend-add, backend-set, backend-del, backend-drain, backend-enable,
 * backend-disable, apply (a whole YAML config), detach (remove the program
 * and everything pinned, then exit),
 * config-dump, reload. Every change is made on a copy of the running
 * configuration, validated in full, applied as a diff and persisted before
 * the reply; a rejected request changes nothing. Garbage (not JSON, not an
 * object, truncated, over 64 KiB, unknown verb) gets an error reply.
 *
 * A client gets 200 ms to send its request, so a stuck client cannot hold
 * the event loop for long.
 */
#include <errno.h>
#include <time.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <json-c/json.h>

#include "agent.h"
#include "log.h"
#include "maglev.h"

#define CTL_MAX_REQUEST 65536
#define CTL_READ_MS 200

static int bad(struct xlb_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct xlb_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- request fields ----------------------------------------------------- */

static const char *str_field(json_object *req, const char *name, int required, struct xlb_err *err)
{
	json_object *v;

	if (!json_object_object_get_ex(req, name, &v)) {
		if (required)
			bad(err, "field '%s' is missing", name);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		bad(err, "field '%s' must be a string", name);
		return NULL;
	}
	return json_object_get_string(v);
}

/* Unsigned field: 1 = present (*out set), 0 = absent, -EINVAL = bad. */
static int uint_field(json_object *req, const char *name, unsigned long max, unsigned long *out,
		      struct xlb_err *err)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(req, name, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return bad(err, "field '%s' must be a whole number", name);
	n = json_object_get_int64(v);
	if (n < 0 || (unsigned long)n > max)
		return bad(err, "field '%s': %lld is not from 0 to %lu", name, (long long)n, max);
	*out = (unsigned long)n;
	return 1;
}

static int enum_field(json_object *req, const char *name, int (*from)(const char *),
		      const char *choices, __u8 *out, struct xlb_err *err)
{
	const char *s = str_field(req, name, 0, err);
	int v;

	if (!s)
		return err->msg[0] ? -EINVAL : 0;
	v = from(s);
	if (v < 0)
		return bad(err, "field '%s': '%s' is not one of: %s", name, s, choices);
	*out = (__u8)v;
	return 1;
}

/* "10.0.0.10:80/tcp" or "[2001:db8::1]:443/udp" */
static int parse_vip_name(const char *s, struct xlb_cfg_vip *v, struct xlb_err *err)
{
	char buf[128], *addr = buf, *port, *proto, *end;
	unsigned long p;

	memset(v, 0, sizeof(*v));
	if (strlen(s) >= sizeof(buf))
		goto fail;
	strcpy(buf, s);
	proto = strrchr(buf, '/');
	port = strrchr(buf, ':');
	if (!proto || !port || port > proto)
		goto fail;
	*proto++ = 0;
	*port++ = 0;
	if (*addr == '[') {
		addr++;
		if (port - 2 < addr || port[-2] != ']')
			goto fail;
		port[-2] = 0;
	}
	p = strtoul(port, &end, 10);
	if (!*port || *end || p > 65535)
		goto fail;
	memset(v, 0, sizeof(*v));
	if (xlb_addr_parse(addr, &v->addr) < 0)
		goto fail;
	v->family = xlb_addr_is_v4(&v->addr) ? XLB_AF_INET : XLB_AF_INET6;
	v->port = (__u16)p;
	if (!strcmp(proto, "tcp"))
		v->proto = IPPROTO_TCP;
	else if (!strcmp(proto, "udp"))
		v->proto = IPPROTO_UDP;
	else
		goto fail;
	return 0;
fail:
	return bad(err,
		   "field 'vip': '%s' is not ADDRESS:PORT/PROTOCOL, e.g. 10.0.0.10:80/tcp or "
		   "[2001:db8::1]:443/udp",
		   s);
}

/* The request's VIP in c; NULL with err set if absent or malformed. */
static struct xlb_cfg_vip *req_vip(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	const char *s = str_field(req, "vip", 1, err);
	struct xlb_cfg_vip key = {}, *v;

	if (!s || parse_vip_name(s, &key, err))
		return NULL;
	v = xlb_cfg_find_vip(c, &key);
	if (!v)
		bad(err, "no VIP %s; 'xlbctl vip list' shows them", s);
	return v;
}

static int duration_field(json_object *req, const char *name, __u32 *ms, struct xlb_err *err)
{
	const char *s = str_field(req, name, 0, err);

	if (!s)
		return err->msg[0] ? -EINVAL : 0;
	if (xlb_parse_duration_ms(s, ms))
		return bad(err, "field '%s': '%s' is not a duration; write 500ms, 2s or 1m", name,
			   s);
	return 1;
}

/* "check": settings as a YAML or JSON map, e.g. "{type: http, path: /}". */
static int check_field(json_object *req, struct xlb_cfg_vip *v, struct xlb_cfg_backend *b,
		       struct xlb_err *err)
{
	json_object *o;

	if (!json_object_object_get_ex(req, "check", &o))
		return 0;
	return xlb_cfg_parse_check(json_object_is_type(o, json_type_string)
					   ? json_object_get_string(o)
					   : json_object_to_json_string(o),
				   v, b, err);
}

/* VIP settings present in the request, onto v. */
static int vip_settings(json_object *req, struct xlb_cfg_vip *v, struct xlb_err *err)
{
	unsigned long n = 0;
	int r;

	if (duration_field(req, "slow_start", &v->slow_start_ms, err) < 0 ||
	    duration_field(req, "drain_timeout", &v->drain_timeout_ms, err) < 0 ||
	    check_field(req, v, NULL, err))
		return -EINVAL;
	r = uint_field(req, "panic_threshold", 100, &n, err);
	if (r < 0)
		return r;
	if (r)
		v->panic_percent = (__u32)n;

	if (enum_field(req, "mode", xlb_mode_from_name, "dsr, ipip", &v->mode, err) < 0 ||
	    enum_field(req, "hash", xlb_hash_from_name, "5-tuple, source", &v->hash, err) < 0 ||
	    enum_field(req, "on_empty", xlb_on_empty_from_name, "reject, drop, pass", &v->on_empty,
		       err) < 0)
		return -EINVAL;
	r = uint_field(req, "table_size", 0xffffffffUL, &n, err);
	if (r < 0)
		return r;
	if (r) {
		if (!xlb_maglev_size_ok((__u32)n))
			return bad(err,
				   "field 'table_size': %lu is not one of the allowed primes "
				   "(251, 509, 1021, ..., 65537, ..., 655373)",
				   n);
		v->table_size = (__u32)n;
	}
	return 0;
}

static int backend_settings(json_object *req, struct xlb_cfg_vip *v, struct xlb_cfg_backend *b,
			    struct xlb_err *err)
{
	unsigned long n = 0;
	json_object *o;
	int r = uint_field(req, "weight", XLB_CFG_MAX_WEIGHT, &n, err);

	if (r < 0)
		return r;
	if (r)
		b->weight = (__u32)n;
	r = uint_field(req, "check_port", 65535, &n, err);
	if (r < 0)
		return r;
	if (r && !n)
		return bad(err, "field 'check_port': 0 is not a port");
	if (r) {
		b->check.port = (__u16)n;
		b->check_set |= XLB_CHK_SET_PORT;
	}
	if (json_object_object_get_ex(req, "backup", &o)) {
		if (!json_object_is_type(o, json_type_boolean))
			return bad(err, "field 'backup' must be true or false");
		b->backup = (__u8)json_object_get_boolean(o);
	}
	return check_field(req, v, b, err);
}

static int req_addr(json_object *req, union xlb_addr *a, __u8 *family, struct xlb_err *err)
{
	const char *s = str_field(req, "address", 1, err);
	int fam;

	if (!s)
		return -EINVAL;
	fam = xlb_addr_parse(s, a);
	if (fam < 0)
		return bad(err, "field 'address': '%s' is not an IPv4 or IPv6 address", s);
	*family = (__u8)fam;
	return 0;
}

/* ---- verbs that change the configuration (on a copy) ------------------- */

static int do_vip_add(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	const char *name = str_field(req, "vip", 1, err);
	struct xlb_cfg_vip v = {}, *grown;

	if (!name || parse_vip_name(name, &v, err))
		return -EINVAL;
	if (xlb_cfg_find_vip(c, &v))
		return bad(err, "VIP %s exists; change it with 'xlbctl vip set'", name);
	v.table_size = XLB_DEFAULT_TABLE_SIZE;
	xlb_cfg_check_defaults(&v.check);
	if (vip_settings(req, &v, err))
		return -EINVAL;
	grown = realloc(c->vips, (c->nvips + 1) * sizeof(*c->vips));
	if (!grown)
		return -ENOMEM;
	c->vips = grown;
	c->vips[c->nvips++] = v;
	return 0;
}

static int do_vip_set(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	struct xlb_cfg_vip *v = req_vip(req, c, err);

	return v ? vip_settings(req, v, err) : -EINVAL;
}

static int do_vip_del(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	struct xlb_cfg_vip *v = req_vip(req, c, err);
	size_t i;

	if (!v)
		return -EINVAL;
	i = (size_t)(v - c->vips);
	free(v->backends);
	memmove(v, v + 1, (c->nvips - i - 1) * sizeof(*v));
	c->nvips--;
	return 0;
}

static int do_backend_add(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	struct xlb_cfg_vip *v = req_vip(req, c, err);
	struct xlb_cfg_backend b = {.weight = 1}, *grown;
	char a[INET6_ADDRSTRLEN];

	if (!v || req_addr(req, &b.addr, &b.family, err) || backend_settings(req, v, &b, err))
		return -EINVAL;
	if (xlb_cfg_find_backend(v, &b.addr))
		return bad(err,
			   "backend %s is in that VIP already; change it with 'xlbctl backend "
			   "set'",
			   xlb_addr_str(&b.addr, a, sizeof(a)));
	grown = realloc(v->backends, (v->nbackends + 1) * sizeof(*v->backends));
	if (!grown)
		return -ENOMEM;
	v->backends = grown;
	v->backends[v->nbackends++] = b;
	return 0;
}

/* The request's backend (and its VIP in *vip_out); NULL with err set. */
static struct xlb_cfg_backend *req_backend(json_object *req, struct xlb_cfg *c,
					   struct xlb_cfg_vip **vip_out, struct xlb_err *err)
{
	struct xlb_cfg_vip *v = req_vip(req, c, err);
	struct xlb_cfg_backend *b;
	union xlb_addr a = {};
	char s[INET6_ADDRSTRLEN];
	__u8 fam = 0;

	if (!v || req_addr(req, &a, &fam, err))
		return NULL;
	*vip_out = v;
	b = xlb_cfg_find_backend(v, &a);
	if (!b)
		bad(err, "no backend %s in that VIP; 'xlbctl backend list' shows them",
		    xlb_addr_str(&a, s, sizeof(s)));
	return b;
}

static int do_backend_set(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	struct xlb_cfg_vip *v;
	struct xlb_cfg_backend *b = req_backend(req, c, &v, err);

	return b ? backend_settings(req, v, b, err) : -EINVAL;
}

static int set_admin(json_object *req, struct xlb_cfg *c, struct xlb_err *err, __u8 admin)
{
	struct xlb_cfg_vip *v;
	struct xlb_cfg_backend *b = req_backend(req, c, &v, err);

	if (!b)
		return -EINVAL;
	b->admin = admin;
	return 0;
}

static int do_backend_drain(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	return set_admin(req, c, err, XLB_ADMIN_DRAIN);
}

static int do_backend_enable(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	return set_admin(req, c, err, XLB_ADMIN_ENABLED);
}

static int do_backend_disable(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	return set_admin(req, c, err, XLB_ADMIN_DISABLED);
}

static int do_backend_del(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	struct xlb_cfg_vip *v;
	struct xlb_cfg_backend *b = req_backend(req, c, &v, err);

	if (!b)
		return -EINVAL;
	memmove(b, b + 1, (size_t)(v->backends + v->nbackends - b - 1) * sizeof(*b));
	v->nbackends--;
	return 0;
}

static int do_apply_yaml(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	const char *yaml = str_field(req, "yaml", 1, err);
	struct xlb_cfg next = {};
	char iface[IF_NAMESIZE];

	if (!yaml || xlb_cfg_load_string("request", yaml, &next, err))
		return -EINVAL;
	memcpy(iface, c->iface, sizeof(iface));
	xlb_cfg_free(c);
	*c = next;
	memcpy(c->iface, iface, sizeof(iface)); /* moving needs a restart */
	return 0;
}

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
	return o;
}

static int do_vip_list(struct agent *ag, json_object *req, json_object *reply, struct xlb_err *err)
{
	json_object *arr = json_object_new_array();

	(void)req;
	(void)err;
	for (size_t i = 0; i < ag->sync->nvips; i++) {
		const struct xlb_sync_vip *sv = &ag->sync->vips[i];

		json_object_array_add(arr, vip_json(&sv->cfg, sv));
	}
	json_object_object_add(reply, "vips", arr);
	return 0;
}

/* Live flows per backend id from the flow table; NULL when unreadable. */
static __u32 *flow_counts(struct agent *ag)
{
	__u32 *gen = calloc(XLB_MAX_BACKENDS, sizeof(*gen));
	__u32 *cnt = calloc(XLB_MAX_BACKENDS, sizeof(*cnt));

	for (size_t i = 0; gen && i < ag->sync->nvips; i++)
		for (size_t j = 0; j < ag->sync->vips[i].nbackends; j++)
			gen[ag->sync->vips[i].backends[j].id] = ag->sync->vips[i].backends[j].gen;
	if (!gen || !cnt || xlb_dp_flow_count(ag->dp, gen, cnt, XLB_FLOW_LIVE_TCP_IDLE_S)) {
		free(cnt);
		cnt = NULL;
	}
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

/* One backend as list and status show it. */
static json_object *backend_json(struct agent *ag, const struct xlb_sync_vip *sv,
				 const struct xlb_sync_backend *b, const __u32 *flows, int detail)
{
	json_object *o = json_object_new_object();
	char vn[80], a[INET6_ADDRSTRLEN], mac[24], buf[32];
	struct check_view cv;

	checks_view(ag->checks, &sv->cfg, &b->cfg, &cv);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", b->mac[0], b->mac[1], b->mac[2],
		 b->mac[3], b->mac[4], b->mac[5]);
	add_str(o, "vip", xlb_cfg_vip_name(&sv->cfg, vn, sizeof(vn)));
	add_str(o, "address", xlb_addr_str(&b->cfg.addr, a, sizeof(a)));
	add_int(o, "weight", b->cfg.weight);
	add_int(o, "effective_weight", b->weight);
	add_str(o, "admin", xlb_admin_name(b->cfg.admin));
	add_str(o, "health", xlb_health_name(cv.checked ? cv.health : b->health));
	add_str(o, "state", state_name(b->state));
	json_object_object_add(o, "backup", json_object_new_boolean(b->cfg.backup));
	if (flows)
		add_int(o, "flows", flows[b->id]);
	add_str(o, "mac", mac);
	add_str(o, "next_hop", xlb_nh_strerror(b->resolve_err));
	add_int(o, "id", b->id);
	if (!detail)
		return o;
	add_int(o, "since", (int64_t)(cv.since_ms / 1000));
	add_str(o, "for", age(cv.since_ms, buf, sizeof(buf)));
	add_str(o, "check", xlb_check_type_name(sv->cfg.check.type));
	add_int(o, "check_port", b->cfg.check.port ? b->cfg.check.port : sv->cfg.port);
	add_str(o, "last_result", !cv.last_ms ? "none" : cv.last.ok ? "ok" : "fail");
	add_str(o, "last_reason", cv.last.reason);
	add_int(o, "last_check", (int64_t)(cv.last_ms / 1000));
	json_object_object_add(o, "last_duration_ms",
			       json_object_new_double(cv.last.duration_us / 1000.0));
	return o;
}

static int do_backend_list(struct agent *ag, json_object *req, json_object *reply,
			   struct xlb_err *err)
{
	const char *only = str_field(req, "vip", 0, err);
	json_object *arr = json_object_new_array();
	__u32 *flows;
	char vn[80];

	if (!only && err->msg[0]) {
		json_object_put(arr);
		return -EINVAL;
	}
	flows = flow_counts(ag);
	for (size_t i = 0; i < ag->sync->nvips; i++) {
		const struct xlb_sync_vip *sv = &ag->sync->vips[i];

		xlb_cfg_vip_name(&sv->cfg, vn, sizeof(vn));
		if (only && strcmp(only, vn))
			continue;
		for (size_t j = 0; j < sv->nbackends; j++)
			json_object_array_add(arr,
					      backend_json(ag, sv, &sv->backends[j], flows, 0));
	}
	free(flows);
	json_object_object_add(reply, "backends", arr);
	return 0;
}

static int do_status(struct agent *ag, json_object *req, json_object *reply, struct xlb_err *err)
{
	json_object *vips = json_object_new_array(), *bes = json_object_new_array();
	__u32 *flows = flow_counts(ag), p50, p99, n;
	size_t nb = 0;

	(void)req;
	(void)err;
	for (size_t i = 0; i < ag->sync->nvips; i++) {
		const struct xlb_sync_vip *sv = &ag->sync->vips[i];
		json_object *o = vip_json(&sv->cfg, sv);
		__u32 total = 0;

		for (size_t j = 0; j < sv->nbackends; j++) {
			json_object_array_add(bes,
					      backend_json(ag, sv, &sv->backends[j], flows, 1));
			total += flows ? flows[sv->backends[j].id] : 0;
		}
		nb += sv->nbackends;
		add_int(o, "in_table", sv->in_table);
		add_str(o, "serving", sv->in_table ? "yes" : "no: on_empty applies");
		json_object_object_add(o, "panic", json_object_new_boolean(sv->panic));
		if (flows)
			add_int(o, "flows", total);
		json_object_array_add(vips, o);
	}
	free(flows);
	checks_lateness(ag->checks, &p50, &p99, &n);
	add_str(reply, "interface", ag->iface);
	add_str(reply, "xdp_mode", ag->generic ? "generic" : "native");
	add_int(reply, "vips", (int64_t)ag->sync->nvips);
	add_int(reply, "backends", (int64_t)nb);
	add_int(reply, "unresolved_next_hops", ag->unresolved);
	add_str(reply, "pin_dir", ag->pin_dir);
	add_int(reply, "check_targets", checks_targets(ag->checks));
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
	json_object_array_add(arg, o);
}

static int do_events(struct agent *ag, json_object *req, json_object *reply, struct xlb_err *err)
{
	json_object *arr = json_object_new_array();

	(void)req;
	(void)err;
	events_each(ag->checks, event_json, arr);
	json_object_object_add(reply, "events", arr);
	return 0;
}

static int do_stats(struct agent *ag, json_object *req, json_object *reply, struct xlb_err *err)
{
	json_object *vips = json_object_new_array(), *bes = json_object_new_array(),
		    *reasons = json_object_new_object();
	char vn[80], a[INET6_ADDRSTRLEN];

	(void)req;
	(void)err;
	for (size_t i = 0; i < ag->sync->nvips; i++) {
		const struct xlb_sync_vip *sv = &ag->sync->vips[i];
		struct xlb_vip_stats vs = {};
		json_object *o = json_object_new_object();

		xlb_dp_vip_stats(ag->dp, sv->id, &vs);
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
			json_object *bo = json_object_new_object();

			xlb_dp_backend_stats(ag->dp, b->id, &bs);
			json_object_object_add(bo, "vip", json_object_new_string(vn));
			json_object_object_add(
				bo, "address",
				json_object_new_string(xlb_addr_str(&b->cfg.addr, a, sizeof(a))));
			json_object_object_add(bo, "packets",
					       json_object_new_int64((int64_t)bs.packets));
			json_object_object_add(bo, "bytes",
					       json_object_new_int64((int64_t)bs.bytes));
			json_object_array_add(bes, bo);
		}
	}
	for (__u32 r = 1; r < XLB_REASON_SLOTS; r++) {
		__u64 n = 0;

		if (xlb_reason_name(r) && !xlb_dp_reason_count(ag->dp, r, &n))
			json_object_object_add(reasons, xlb_reason_name(r),
					       json_object_new_int64((int64_t)n));
	}
	json_object_object_add(reply, "vips", vips);
	json_object_object_add(reply, "backends", bes);
	json_object_object_add(reply, "reasons", reasons);
	return 0;
}

static int do_config_dump(struct agent *ag, json_object *req, json_object *reply,
			  struct xlb_err *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)req;
	if (!f || xlb_cfg_dump(&ag->cfg, f)) {
		if (f)
			fclose(f);
		free(text);
		return bad(err, "couldn't print the configuration");
	}
	fclose(f);
	json_object_object_add(reply, "yaml", json_object_new_string(text));
	free(text);
	return 0;
}

static int do_detach(struct agent *ag, json_object *req, json_object *reply, struct xlb_err *err)
{
	(void)req;
	(void)reply;
	(void)err;
	ag->detach = 1; /* after the reply: unpin, close, exit */
	return 0;
}

static int do_reload(struct agent *ag, json_object *req, json_object *reply, struct xlb_err *err)
{
	(void)req;
	(void)reply;
	return agent_reload(ag, err);
}

/* ---- dispatch ---------------------------------------------------------- */

struct verb {
	const char *name;
	/* read-only verbs */
	int (*read)(struct agent *ag, json_object *req, json_object *reply, struct xlb_err *err);
	/* changes, made on a copy of the running configuration */
	int (*change)(json_object *req, struct xlb_cfg *c, struct xlb_err *err);
};

/* One verb a line: */
// clang-format off
static const struct verb verbs[] = {
	{ "status",          do_status,       NULL },
	{ "stats",           do_stats,        NULL },
	{ "vip-list",        do_vip_list,     NULL },
	{ "backend-list",    do_backend_list, NULL },
	{ "events",          do_events,       NULL },
	{ "config-dump",     do_config_dump,  NULL },
	{ "reload",          do_reload,       NULL },
	{ "detach",          do_detach,       NULL },
	{ "vip-add",         NULL,            do_vip_add },
	{ "vip-set",         NULL,            do_vip_set },
	{ "vip-del",         NULL,            do_vip_del },
	{ "backend-add",     NULL,            do_backend_add },
	{ "backend-set",     NULL,            do_backend_set },
	{ "backend-del",     NULL,            do_backend_del },
	{ "backend-drain",   NULL,            do_backend_drain },
	{ "backend-enable",  NULL,            do_backend_enable },
	{ "backend-disable", NULL,            do_backend_disable },
	{ "apply",           NULL,            do_apply_yaml },
};
// clang-format on

static int change(struct agent *ag, const struct verb *v, json_object *req, struct xlb_err *err)
{
	struct xlb_cfg next;
	int ret = xlb_cfg_copy(&next, &ag->cfg);

	if (ret)
		return ret;
	ret = v->change(req, &next, err);
	for (size_t i = 0; !ret && i < next.nvips; i++)
		xlb_cfg_resolve_checks(&next.vips[i]);
	if (!ret)
		ret = xlb_cfg_validate(&next, "request", err);
	if (!ret && agent_apply(ag, &next)) {
		bad(err, "the data plane refused the change; nothing else changed");
		ret = -EIO;
	}
	xlb_cfg_free(&next); /* empty when agent_apply took it over */
	if (!ret)
		ret = agent_persist(ag, err);
	return ret;
}

static json_object *handle(struct agent *ag, const char *buf, size_t len)
{
	json_object *reply = json_object_new_object(), *req = NULL;
	enum json_tokener_error jerr;
	struct xlb_err err = {};
	const char *name = NULL;
	const struct verb *v = NULL;
	int ret = -EINVAL;

	if (len > CTL_MAX_REQUEST) {
		bad(&err, "request larger than %d bytes", CTL_MAX_REQUEST);
		goto out;
	}
	req = json_tokener_parse_verbose(buf, &jerr);
	if (!req) {
		bad(&err, "request is not JSON: %s", json_tokener_error_desc(jerr));
		goto out;
	}
	if (!json_object_is_type(req, json_type_object)) {
		bad(&err, "request must be a JSON object with a \"verb\"");
		goto out;
	}
	name = str_field(req, "verb", 1, &err);
	if (!name)
		goto out;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, name))
			v = &verbs[i];
	if (!v) {
		bad(&err, "unknown verb '%s'", name);
		goto out;
	}
	ret = v->read ? v->read(ag, req, reply, &err) : change(ag, v, req, &err);
	if (!ret && v->change)
		pr_info("control: %s done\n", name);
out:
	if (ret && !err.msg[0])
		bad(&err, "%s", strerror(-ret));
	json_object_object_add(reply, "ok", json_object_new_boolean(!ret));
	if (ret)
		json_object_object_add(reply, "error", json_object_new_string(err.msg));
	json_object_put(req);
	return reply;
}

/*
 * Read one request: up to a newline, EOF, or the deadline. Past the size
 * limit the rest is read and dropped (until the newline, EOF or deadline),
 * so the client is still listening when the error reply comes.
 */
static ssize_t read_request(int fd, char *buf, size_t cap, int *complete)
{
	size_t len = 0, dropped = 0;
	char sink[4096];

	*complete = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char *to = len < cap ? buf + len : sink;
		size_t room = len < cap ? cap - len : sizeof(sink);
		ssize_t n;

		if (poll(&p, 1, CTL_READ_MS) <= 0)
			break;
		n = read(fd, to, room);
		if (n <= 0)
			break;
		if (to == sink)
			dropped += (size_t)n;
		else
			len += (size_t)n;
		if (memchr(to, '\n', (size_t)n)) {
			*complete = 1;
			break;
		}
	}
	return (ssize_t)(len + (dropped ? 1 : 0)); /* > cap-1 means too large */
}

void ctl_serve(struct agent *ag, int listen_fd)
{
	struct timeval tv = {.tv_sec = 1};
	char *buf = malloc(CTL_MAX_REQUEST + 2);
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC), complete;
	json_object *reply;
	const char *out;
	ssize_t len;

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	len = read_request(fd, buf, CTL_MAX_REQUEST + 1, &complete);
	if (len > CTL_MAX_REQUEST + 1)
		len = CTL_MAX_REQUEST + 1;
	buf[len] = 0;
	if (len > CTL_MAX_REQUEST) {
		reply = handle(ag, buf, (size_t)len);
	} else if (!complete) {
		reply = json_object_new_object();
		json_object_object_add(reply, "ok", json_object_new_boolean(0));
		json_object_object_add(reply, "error",
				       json_object_new_string(len ? "truncated request: no newline"
								  : "empty request"));
	} else {
		reply = handle(ag, buf, (size_t)len);
	}
	out = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	if (write(fd, out, strlen(out)) < 0 || write(fd, "\n", 1) < 0)
		pr_debug("control: client went away before the reply\n");
	json_object_put(reply);
	close(fd);
	free(buf);
}

/* 0600 root only; with --socket-group, 0660 and that group. */
static int set_access(struct agent *ag)
{
	struct group *g;

	if (!ag->socket_group)
		return chmod(ag->socket_path, 0600);
	g = getgrnam(ag->socket_group);
	if (!g) {
		pr_warn("--socket-group: no group '%s'\n", ag->socket_group);
		errno = ENOENT;
		return -1;
	}
	return chown(ag->socket_path, 0, g->gr_gid) || chmod(ag->socket_path, 0660);
}

int ctl_listen(struct agent *ag)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)], *slash;
	int fd;

	if (strlen(ag->socket_path) >= sizeof(sa.sun_path)) {
		pr_warn("control socket path '%s' is too long\n", ag->socket_path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, ag->socket_path);
	strcpy(dir, ag->socket_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(ag->socket_path); /* a stale socket of an earlier xlbd */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || set_access(ag) || listen(fd, 16)) {
		int err = -errno;

		pr_warn("couldn't listen on control socket '%s': %s\n", ag->socket_path,
			strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}
