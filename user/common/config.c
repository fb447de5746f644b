// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * YAML configuration: parse, validate, dump. See config.h for the format.
 * Parsing checks each field where it stands (so the message has its line);
 * xlb_cfg_validate() then checks what needs the whole config.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <yaml.h>

#include "config.h"
#include "maglev.h"
#include "xlb_dp.h"

static int fail(struct xlb_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct xlb_err *err, const char *fmt, ...)
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

const char *xlb_cfg_vip_name(const struct xlb_cfg_vip *v, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	xlb_addr_str(&v->addr, a, sizeof(a));
	snprintf(buf, len, v->family == XLB_AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s", a, v->port,
		 v->proto == IPPROTO_UDP ? "udp" : "tcp");
	return buf;
}

/* ---- YAML walking ------------------------------------------------------ */

struct walk {
	yaml_document_t *doc;
	const char *name; /* file name for messages */
	struct xlb_err *err;
};

static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static const char *scalar(struct walk *w, yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SCALAR_NODE) {
		fail(w->err, "%s:%d: '%s' must be a single value, not a list or a map", w->name,
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
		return fail(w->err, "%s:%d: %s '%s' is not a whole number from 0 to %lu", w->name,
			    line_of(n), key, s, max);
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
		return fail(w->err, "%s:%d: %s '%s' is not an IPv4 or IPv6 address", w->name,
			    line_of(n), key, s);
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
		return fail(w->err, "%s:%d: %s '%s' is not one of: %s", w->name, line_of(n), key, s,
			    choices);
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

	return k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : NULL;
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
		fail(w->err, "%s:%d: keys must be plain names", w->name, k ? line_of(k) : 0);
		return NULL;
	}
	for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
		const char *prev = key_name(w, q);

		if (prev && !strcmp(prev, name)) {
			fail(w->err, "%s:%d: key '%s' appears twice in the same map; keep one",
			     w->name, line_of(k), name);
			return NULL;
		}
	}
	return name;
}

static int need_map(struct walk *w, yaml_node_t *n, const char *what)
{
	if (n->type != YAML_MAPPING_NODE)
		return fail(w->err, "%s:%d: each %s must be a map of 'key: value' lines", w->name,
			    line_of(n), what);
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
			if (unsigned_value(w, v, "check_port", 65535, &u))
				return -EINVAL;
			if (!u)
				return fail(w->err,
					    "%s:%d: check_port 0 is not a port; leave it out to "
					    "check the VIP's port",
					    w->name, line_of(v));
			b->check_port = (__u16)u;
		} else {
			return fail(w->err,
				    "%s:%d: unknown key '%s' in a backend; known keys: address, "
				    "weight, check_port, admin",
				    w->name, line_of(v), key);
		}
	}
	if (!have_addr)
		return fail(w->err, "%s:%d: backend has no address; add 'address: <IP>'", w->name,
			    b->line);
	return 0;
}

static int parse_backends(struct walk *w, yaml_node_t *n, struct xlb_cfg_vip *vip)
{
	size_t count;

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(w->err, "%s:%d: 'backends' must be a list ('- address: ...' lines)",
			    w->name, line_of(n));
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (vip->backends) /* pair_key() refuses a second 'backends' already */
		return -EINVAL;
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
			return fail(w->err,
				    "%s:%d: table_size %lu is not one of the allowed primes: 251, "
				    "509, 1021, 2039, 4093, 8191, 16381, 32749, 65537, 131071, "
				    "262139, 524287, 655373",
				    w->name, line_of(v), u);
		vip->table_size = (__u32)u;
		return 0;
	}
	if (!strcmp(key, "backends"))
		return parse_backends(w, v, vip);
	return fail(w->err,
		    "%s:%d: unknown key '%s' in a VIP; known keys: address, port, protocol, mode, "
		    "hash, on_empty, table_size, backends",
		    w->name, line_of(v), key);
}

static int parse_vip(struct walk *w, yaml_node_t *n, struct xlb_cfg_vip *vip)
{
	int seen = 0;

	if (need_map(w, n, "VIP"))
		return -EINVAL;
	*vip = (struct xlb_cfg_vip){.table_size = XLB_DEFAULT_TABLE_SIZE, .line = line_of(n)};
	FOR_PAIRS(w, n, p)
	{
		yaml_node_t *v;
		const char *key = pair_key(w, n, p, &v);

		if (!key || parse_vip_field(w, key, v, vip, &seen))
			return -EINVAL;
	}
	if (!(seen & 1))
		return fail(w->err, "%s:%d: VIP has no address; add 'address: <IP>'", w->name,
			    vip->line);
	if (!(seen & 2))
		return fail(w->err,
			    "%s:%d: VIP has no port; add 'port: <0-65535>' (0 = every port)",
			    w->name, vip->line);
	if (!(seen & 4))
		return fail(w->err, "%s:%d: VIP has no protocol; add 'protocol: tcp' or 'udp'",
			    w->name, vip->line);
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
				return fail(w->err,
					    "%s:%d: interface '%s' is not a network interface name "
					    "(1 to %zu characters, no '/' or space)",
					    w->name, line_of(v), s, sizeof(c->iface) - 1);
			snprintf(c->iface, sizeof(c->iface), "%s", s);
		} else if (!strcmp(key, "vips")) {
			size_t n;

			if (v->type != YAML_SEQUENCE_NODE)
				return fail(w->err,
					    "%s:%d: 'vips' must be a list ('- address: ...')",
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
			return fail(w->err,
				    "%s:%d: unknown key '%s' at the top level; known keys: "
				    "interface, vips",
				    w->name, line_of(v), key);
		}
	}
	return 0;
}

static int load(yaml_parser_t *parser, const char *name, struct xlb_cfg *out, struct xlb_err *err)
{
	struct xlb_cfg c = {};
	yaml_document_t doc;
	struct walk w = {.doc = &doc, .name = name, .err = err};
	int ret;

	if (!yaml_parser_load(parser, &doc)) {
		ret = fail(err, "%s:%zu: not valid YAML: %s", name, parser->problem_mark.line + 1,
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

int xlb_cfg_load_file(const char *path, struct xlb_cfg *out, struct xlb_err *err)
{
	yaml_parser_t parser;
	FILE *f = fopen(path, "r");
	int ret;

	if (!f) {
		ret = -errno;
		fail(err, "couldn't open config '%s': %s", path, strerror(-ret));
		return ret;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	ret = load(&parser, path, out, err);
	fclose(f);
	return ret;
}

int xlb_cfg_load_string(const char *name, const char *yaml, struct xlb_cfg *out,
			struct xlb_err *err)
{
	yaml_parser_t parser;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, strlen(yaml));
	return load(&parser, name, out, err);
}

/* ---- whole-config checks ---------------------------------------------- */

static int same_vip(const struct xlb_cfg_vip *a, const struct xlb_cfg_vip *b)
{
	return !memcmp(&a->addr, &b->addr, sizeof(a->addr)) && a->port == b->port &&
	       a->proto == b->proto;
}

struct xlb_cfg_vip *xlb_cfg_find_vip(const struct xlb_cfg *c, const struct xlb_cfg_vip *key)
{
	for (size_t i = 0; i < c->nvips; i++)
		if (same_vip(&c->vips[i], key))
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

static int where(const char *name, int line, char *buf, size_t len)
{
	return line ? snprintf(buf, len, "%s:%d: ", name, line) : snprintf(buf, len, "%s", "");
}

static int validate_vip(const struct xlb_cfg_vip *v, const char *name, struct xlb_err *err)
{
	char at[300], vn[80], bn[INET6_ADDRSTRLEN];

	xlb_cfg_vip_name(v, vn, sizeof(vn));
	if (v->proto != IPPROTO_TCP && v->proto != IPPROTO_UDP)
		return fail(err, "VIP %s: protocol must be tcp or udp", vn);
	if (v->mode > XLB_MODE_IPIP || v->hash > XLB_HASH_SRC || v->on_empty > XLB_EMPTY_PASS)
		return fail(err, "VIP %s: unknown mode, hash or on_empty", vn);
	if (!xlb_maglev_size_ok(v->table_size))
		return fail(err, "VIP %s: table_size %u is not one of the allowed primes", vn,
			    v->table_size);
	for (size_t i = 0; i < v->nbackends; i++) {
		const struct xlb_cfg_backend *b = &v->backends[i];

		where(name, b->line, at, sizeof(at));
		xlb_addr_str(&b->addr, bn, sizeof(bn));
		if (v->mode == XLB_MODE_IPIP && v->family == XLB_AF_INET6 &&
		    b->family == XLB_AF_INET)
			return fail(err,
				    "%sbackend %s of VIP %s: ipip cannot carry an IPv6 VIP to an "
				    "IPv4 backend; give the backend's IPv6 address",
				    at, bn, vn);
		if (b->weight > XLB_CFG_MAX_WEIGHT)
			return fail(err, "%sbackend %s of VIP %s: weight %u is above %d", at, bn,
				    vn, b->weight, XLB_CFG_MAX_WEIGHT);
		for (size_t j = 0; j < i; j++) {
			if (!memcmp(&v->backends[j].addr, &b->addr, sizeof(b->addr)))
				return fail(err,
					    "%sbackend %s appears twice in VIP %s (first at line "
					    "%d); list it once",
					    at, bn, vn, v->backends[j].line);
		}
	}
	return 0;
}

int xlb_cfg_validate(const struct xlb_cfg *c, const char *name, struct xlb_err *err)
{
	size_t total = 0;
	char at[300], vn[80];

	if (c->nvips >= XLB_MAX_VIPS)
		return fail(err, "%s: %zu VIPs; at most %d", name, c->nvips, XLB_MAX_VIPS - 1);
	for (size_t i = 0; i < c->nvips; i++) {
		const struct xlb_cfg_vip *v = &c->vips[i];

		if (validate_vip(v, name, err))
			return -EINVAL;
		total += v->nbackends;
		for (size_t j = 0; j < i; j++) {
			if (!same_vip(&c->vips[j], v))
				continue;
			where(name, v->line, at, sizeof(at));
			return fail(err, "%sVIP %s is defined twice (first at line %d); merge them",
				    at, xlb_cfg_vip_name(v, vn, sizeof(vn)), c->vips[j].line);
		}
	}
	if (total >= XLB_MAX_BACKENDS)
		return fail(err, "%s: %zu backends in all; at most %d", name, total,
			    XLB_MAX_BACKENDS - 1);
	return 0;
}

/* ---- dump, copy, compare ---------------------------------------------- */

int xlb_cfg_dump(const struct xlb_cfg *c, FILE *f)
{
	char a[INET6_ADDRSTRLEN];

	if (c->iface[0])
		fprintf(f, "interface: %s\n", c->iface);
	fprintf(f, "vips:%s\n", c->nvips ? "" : " []");
	for (size_t i = 0; i < c->nvips; i++) {
		const struct xlb_cfg_vip *v = &c->vips[i];

		fprintf(f, "  - address: %s\n", xlb_addr_str(&v->addr, a, sizeof(a)));
		fprintf(f, "    port: %u\n", v->port);
		fprintf(f, "    protocol: %s\n", v->proto == IPPROTO_UDP ? "udp" : "tcp");
		fprintf(f, "    mode: %s\n", xlb_mode_name(v->mode));
		fprintf(f, "    hash: %s\n", xlb_hash_name(v->hash));
		fprintf(f, "    on_empty: %s\n", xlb_on_empty_name(v->on_empty));
		fprintf(f, "    table_size: %u\n", v->table_size);
		fprintf(f, "    backends:%s\n", v->nbackends ? "" : " []");
		for (size_t j = 0; j < v->nbackends; j++) {
			const struct xlb_cfg_backend *b = &v->backends[j];

			fprintf(f, "      - address: %s\n", xlb_addr_str(&b->addr, a, sizeof(a)));
			fprintf(f, "        weight: %u\n", b->weight);
			if (b->check_port)
				fprintf(f, "        check_port: %u\n", b->check_port);
			if (b->admin)
				fprintf(f, "        admin: %s\n", xlb_admin_name(b->admin));
		}
	}
	return ferror(f) ? -EIO : 0;
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
		memcpy(v->backends, src->vips[i].backends, nb * sizeof(*v->backends));
		c.nvips++;
	}
	*dst = c;
	return 0;
}

static int backend_equal(const struct xlb_cfg_backend *a, const struct xlb_cfg_backend *b)
{
	return !memcmp(&a->addr, &b->addr, sizeof(a->addr)) && a->weight == b->weight &&
	       a->check_port == b->check_port && a->admin == b->admin;
}

int xlb_cfg_equal(const struct xlb_cfg *a, const struct xlb_cfg *b)
{
	if (strcmp(a->iface, b->iface) || a->nvips != b->nvips)
		return 0;
	for (size_t i = 0; i < a->nvips; i++) {
		const struct xlb_cfg_vip *x = &a->vips[i], *y = &b->vips[i];

		if (!same_vip(x, y) || x->mode != y->mode || x->hash != y->hash ||
		    x->on_empty != y->on_empty || x->table_size != y->table_size ||
		    x->nbackends != y->nbackends)
			return 0;
		for (size_t j = 0; j < x->nbackends; j++)
			if (!backend_equal(&x->backends[j], &y->backends[j]))
				return 0;
	}
	return 1;
}

void xlb_cfg_free(struct xlb_cfg *c)
{
	for (size_t i = 0; i < c->nvips; i++)
		free(c->vips[i].backends);
	free(c->vips);
	memset(c, 0, sizeof(*c));
}
