// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The control verbs that change the configuration; see ctl_change.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ctl_change.h"
#include "ctl_req.h"
#include "maglev.h"
#include "xlb_dp.h"

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

/* "outlier": off, on, or a map of settings (as a string or an object). */
static int outlier_field(json_object *req, struct xlb_cfg_vip *v, struct xlb_err *err)
{
	json_object *o;

	if (!json_object_object_get_ex(req, "outlier", &o))
		return 0;
	return xlb_cfg_parse_outlier(json_object_is_type(o, json_type_string)
					     ? json_object_get_string(o)
					     : json_object_to_json_string(o),
				     v, err);
}

/* VIP settings present in the request, onto v. */
static int vip_settings(json_object *req, struct xlb_cfg_vip *v, struct xlb_err *err)
{
	unsigned long n = 0;
	int r;

	if (ctl_duration(req, "slow_start", &v->slow_start_ms, err) < 0 ||
	    ctl_duration(req, "drain_timeout", &v->drain_timeout_ms, err) < 0 ||
	    check_field(req, v, NULL, err) || outlier_field(req, v, err))
		return -EINVAL;
	r = ctl_uint(req, "panic_threshold", 100, &n, err);
	if (r < 0)
		return r;
	if (r)
		v->panic_percent = (__u32)n;

	if (ctl_enum(req, "mode", xlb_mode_from_name, "dsr, ipip", &v->mode, err) < 0 ||
	    ctl_enum(req, "hash", xlb_hash_from_name, "5-tuple, source", &v->hash, err) < 0 ||
	    ctl_enum(req, "on_empty", xlb_on_empty_from_name, "reject, drop, pass", &v->on_empty,
		     err) < 0 ||
	    ctl_enum(req, "announce", xlb_announce_from_name, "when-usable, always, never",
		     &v->announce, err) < 0 ||
	    ctl_enum(req, "flow_state", xlb_flow_state_from_name, "table, stateless",
		     &v->flow_state, err) < 0 ||
	    ctl_enum(req, "syn_retry", xlb_syn_retry_from_name, "another-backend, same-backend",
		     &v->syn_retry, err) < 0)
		return -EINVAL;
	/* as the file has it: 0 in the struct means "the default", so a
	 * given 0s must be refused here, not taken for the default */
	r = ctl_duration(req, "handover", &v->handover_ms, err);
	if (r < 0)
		return r;
	if (r &&
	    (v->handover_ms < XLB_CFG_MIN_HANDOVER_MS || v->handover_ms > XLB_CFG_MAX_HANDOVER_MS))
		return ctl_bad(
			err, "field 'handover': %ums is out of range; give 1s to 24h (default 10m)",
			v->handover_ms);
	r = ctl_uint(req, "table_size", 0xffffffffUL, &n, err);
	if (r < 0)
		return r;
	if (r) {
		if (!xlb_maglev_size_ok((__u32)n))
			return ctl_bad(err,
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
	int r = ctl_uint(req, "weight", XLB_CFG_MAX_WEIGHT, &n, err);

	if (r < 0)
		return r;
	if (r)
		b->weight = (__u32)n;
	r = ctl_uint(req, "check_port", 65535, &n, err);
	if (r < 0)
		return r;
	if (r && !n)
		return ctl_bad(err, "field 'check_port': 0 is not a port");
	if (r) {
		b->check.port = (__u16)n;
		b->check_set |= XLB_CHK_SET_PORT;
	}
	if (json_object_object_get_ex(req, "backup", &o)) {
		if (!json_object_is_type(o, json_type_boolean))
			return ctl_bad(err, "field 'backup' must be true or false");
		b->backup = (__u8)json_object_get_boolean(o);
	}
	return check_field(req, v, b, err);
}

/* ---- verbs that change the configuration (on a copy) ------------------- */

static int do_vip_add(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	const char *name = ctl_str(req, "vip", 1, err);
	struct xlb_cfg_vip v = {}, *grown;

	if (!name || ctl_parse_vip_name(name, &v, err))
		return -EINVAL;
	if (xlb_cfg_find_vip(c, &v))
		return ctl_bad(err, "VIP %s exists; change it with 'xlbctl vip set'", name);
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
	struct xlb_cfg_vip *v = ctl_req_vip(req, c, err);

	return v ? vip_settings(req, v, err) : -EINVAL;
}

static int do_vip_del(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	struct xlb_cfg_vip *v = ctl_req_vip(req, c, err);
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
	struct xlb_cfg_vip *v = ctl_req_vip(req, c, err);
	struct xlb_cfg_backend b = {.weight = 1}, *grown;
	char a[INET6_ADDRSTRLEN];

	if (!v || ctl_req_addr(req, &b.addr, &b.family, err) || backend_settings(req, v, &b, err))
		return -EINVAL;
	if (xlb_cfg_find_backend(v, &b.addr))
		return ctl_bad(err,
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
	struct xlb_cfg_vip *v = ctl_req_vip(req, c, err);
	struct xlb_cfg_backend *b;
	union xlb_addr a = {};
	char s[INET6_ADDRSTRLEN];
	__u8 fam = 0;

	if (!v || ctl_req_addr(req, &a, &fam, err))
		return NULL;
	*vip_out = v;
	b = xlb_cfg_find_backend(v, &a);
	if (!b)
		ctl_bad(err, "no backend %s in that VIP; 'xlbctl backend list' shows them",
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
	const char *yaml = ctl_str(req, "yaml", 1, err);
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

/* ---- the trust rule ------------------------------------------------------ */

/* The same program: everything but the timing (and start_up) is equal. */
static int same_program(const struct xlb_cfg_check *a, const struct xlb_cfg_check *b)
{
	struct xlb_cfg_check x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	memset(&x.t, 0, sizeof(x.t));
	memset(&y.t, 0, sizeof(y.t));
	x.start_up = y.start_up = 0;
	return !memcmp(&x, &y, sizeof(x));
}

/* Only root defines exec checks or changes what they run. */
static int exec_rule(const struct ctl_peer *peer, const struct xlb_cfg *cur,
		     const struct xlb_cfg *next, struct xlb_err *err)
{
	char vn[80];

	if (peer->uid == 0)
		return 0;
	for (size_t i = 0; i < next->nvips; i++) {
		const struct xlb_cfg_vip *v = &next->vips[i], *old;

		if (v->check.type != XLB_CHECK_EXEC)
			continue;
		old = xlb_cfg_find_vip(cur, v);
		if (old && old->check.type == XLB_CHECK_EXEC &&
		    same_program(&old->check, &v->check))
			continue;
		ctl_bad(err,
			"couldn't change VIP '%s': only root may define or change an exec check "
			"over the control socket (this request comes from uid %u); put the check "
			"in the configuration file, or have root send it",
			xlb_cfg_vip_name(v, vn, sizeof(vn)), (unsigned int)peer->uid);
		return -EPERM;
	}
	return 0;
}

/* ---- the verbs ------------------------------------------------------------ */

struct ctl_change {
	const char *name;
	int (*make)(json_object *req, struct xlb_cfg *c, struct xlb_err *err);
};

// clang-format off
static const struct ctl_change verbs[] = {
	{ "vip-add",         do_vip_add },
	{ "vip-set",         do_vip_set },
	{ "vip-del",         do_vip_del },
	{ "backend-add",     do_backend_add },
	{ "backend-set",     do_backend_set },
	{ "backend-del",     do_backend_del },
	{ "backend-drain",   do_backend_drain },
	{ "backend-enable",  do_backend_enable },
	{ "backend-disable", do_backend_disable },
	{ "apply",           do_apply_yaml },
};
// clang-format on

const struct ctl_change *ctl_change_find(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

int ctl_change_make(const struct ctl_change *verb, json_object *req, const struct ctl_peer *peer,
		    const struct xlb_cfg *cur, struct xlb_cfg *next, struct xlb_err *err)
{
	int ret = xlb_cfg_copy(next, cur);

	if (ret) {
		ctl_bad(err, "couldn't copy the running configuration: %s", strerror(-ret));
		memset(next, 0, sizeof(*next));
		return ret;
	}
	ret = verb->make(req, next, err);
	for (size_t i = 0; !ret && i < next->nvips; i++)
		xlb_cfg_resolve_checks(&next->vips[i]);
	if (!ret)
		ret = exec_rule(peer, cur, next, err);
	if (!ret)
		ret = xlb_cfg_validate(next, "request", err);
	if (ret) {
		if (!err->msg[0])
			ctl_bad(err, "%s", strerror(-ret));
		xlb_cfg_free(next);
		memset(next, 0, sizeof(*next));
	}
	return ret;
}
