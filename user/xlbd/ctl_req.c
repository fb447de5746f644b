// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Fields of a control request; see ctl_req.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "ctl_req.h"
#include "vipname.h"
#include "xlb_dp.h"

static int only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

json_object *ctl_parse(const char *text, size_t len, const char **verb, struct xlb_err *err)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *req;
	enum json_tokener_error jerr;

	*verb = NULL;
	if (!tok) {
		ctl_bad(err, "out of memory");
		return NULL;
	}
	req = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (req && !only_space(text + json_tokener_get_parse_end(tok),
			       len - json_tokener_get_parse_end(tok))) {
		json_object_put(req); /* more after the object */
		req = NULL;
		jerr = json_tokener_error_parse_unexpected;
	} else if (!req && jerr == json_tokener_continue) {
		jerr = json_tokener_error_parse_eof;
	}
	json_tokener_free(tok);
	if (!req) {
		ctl_bad(err, "request is not JSON: %s", json_tokener_error_desc(jerr));
		return NULL;
	}
	if (!json_object_is_type(req, json_type_object)) {
		ctl_bad(err, "request must be a JSON object with a \"verb\"");
		json_object_put(req);
		return NULL;
	}
	*verb = ctl_str(req, "verb", 1, err);
	if (!*verb) {
		json_object_put(req);
		return NULL;
	}
	return req;
}

int ctl_bad(struct xlb_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *ctl_str(json_object *req, const char *name, int required, struct xlb_err *err)
{
	json_object *v;

	if (!json_object_object_get_ex(req, name, &v)) {
		if (required)
			ctl_bad(err, "field '%s' is missing", name);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		ctl_bad(err, "field '%s' must be a string", name);
		return NULL;
	}
	return json_object_get_string(v);
}

int ctl_uint(json_object *req, const char *name, unsigned long max, unsigned long *out,
	     struct xlb_err *err)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(req, name, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return ctl_bad(err, "field '%s' must be a whole number", name);
	n = json_object_get_int64(v);
	if (n < 0 || (unsigned long)n > max)
		return ctl_bad(err, "field '%s': %lld is not from 0 to %lu", name, (long long)n,
			       max);
	*out = (unsigned long)n;
	return 1;
}

int ctl_enum(json_object *req, const char *name, int (*from)(const char *), const char *choices,
	     __u8 *out, struct xlb_err *err)
{
	const char *s = ctl_str(req, name, 0, err);
	int v;

	if (!s)
		return err->msg[0] ? -EINVAL : 0;
	v = from(s);
	if (v < 0)
		return ctl_bad(err, "field '%s': '%s' is not one of: %s", name, s, choices);
	*out = (__u8)v;
	return 1;
}

int ctl_duration(json_object *req, const char *name, __u32 *ms, struct xlb_err *err)
{
	const char *s = ctl_str(req, name, 0, err);

	if (!s)
		return err->msg[0] ? -EINVAL : 0;
	if (xlb_parse_duration_ms(s, ms))
		return ctl_bad(err, "field '%s': '%s' is not a duration; write 500ms, 2s or 1m",
			       name, s);
	return 1;
}

int ctl_parse_vip_name(const char *s, struct xlb_cfg_vip *v, struct xlb_err *err)
{
	struct xlb_vip_name n;

	memset(v, 0, sizeof(*v));
	if (xlb_vip_name_parse(s, &n))
		return ctl_bad(
			err,
			"field 'vip': '%s' is not ADDRESS:PORT/PROTOCOL, e.g. 10.0.0.10:80/tcp "
			"or [2001:db8::1]:443/udp",
			s);
	v->addr = n.addr;
	v->family = n.family;
	v->port = n.port;
	v->proto = n.proto;
	return 0;
}

int ctl_req_maintenance(json_object *req, int *on, char *vip, size_t len, struct xlb_err *err)
{
	const char *state = ctl_str(req, "state", 1, err), *s;
	struct xlb_cfg_vip key;

	if (!state)
		return -EINVAL;
	if (strcmp(state, "on") && strcmp(state, "off"))
		return ctl_bad(err, "field 'state': not on or off; give {\"state\": \"on\"}");
	*on = !strcmp(state, "on");
	vip[0] = 0;
	s = ctl_str(req, "vip", 0, err);
	if (!s)
		return err->msg[0] ? -EINVAL : 0;
	if (ctl_parse_vip_name(s, &key, err))
		return -EINVAL;
	xlb_cfg_vip_name(&key, vip, len);
	return 0;
}

struct xlb_cfg_vip *ctl_req_vip(json_object *req, struct xlb_cfg *c, struct xlb_err *err)
{
	const char *s = ctl_str(req, "vip", 1, err);
	struct xlb_cfg_vip key = {}, *v;

	if (!s || ctl_parse_vip_name(s, &key, err))
		return NULL;
	v = xlb_cfg_find_vip(c, &key);
	if (!v)
		ctl_bad(err, "no VIP %s; 'xlbctl vip list' shows them", s);
	return v;
}

int ctl_req_addr(json_object *req, union xlb_addr *a, __u8 *family, struct xlb_err *err)
{
	const char *s = ctl_str(req, "address", 1, err);
	int fam;

	if (!s)
		return -EINVAL;
	fam = xlb_addr_parse(s, a);
	if (fam < 0)
		return ctl_bad(err, "field 'address': '%s' is not an IPv4 or IPv6 address", s);
	*family = (__u8)fam;
	return 0;
}
