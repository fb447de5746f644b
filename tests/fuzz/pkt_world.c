// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pkt_world.h"
#include "maglev.h"
#include "xlb_dp.h"

uint64_t fz_rand(struct fz_rng *r)
{
	/* xorshift64*: fast, and the same stream on every machine for a seed */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

uint32_t fz_below(struct fz_rng *r, uint32_t n)
{
	return (uint32_t)((fz_rand(r) >> 32) % n);
}

struct vip_spec {
	const char *addr;
	__u16 port;
	__u8 proto, mode, hash, on_empty, be_family;
	int pool; /* backends at start */
	__u8 flow_state;
};

/*
 * Every mode, hash and on_empty policy, both families, a port-0 VIP, 4-in-6,
 * and VIPs that start empty (recycled ids may later join them).
 */
static const struct vip_spec SPECS[] = {
	{"10.0.0.10", 80, 6, XLB_MODE_DSR, XLB_HASH_5TUPLE, XLB_EMPTY_REJECT, XLB_AF_INET, FZ_POOL,
	 XLB_FLOW_TABLE},
	{"10.0.0.10", 53, 17, XLB_MODE_IPIP, XLB_HASH_5TUPLE, XLB_EMPTY_REJECT, XLB_AF_INET,
	 FZ_POOL, XLB_FLOW_TABLE},
	{"10.0.0.20", 0, 6, XLB_MODE_IPIP, XLB_HASH_5TUPLE, XLB_EMPTY_DROP, XLB_AF_INET6, FZ_POOL,
	 XLB_FLOW_TABLE},
	{"10.0.0.20", 0, 17, XLB_MODE_DSR, XLB_HASH_SRC, XLB_EMPTY_PASS, XLB_AF_INET, FZ_POOL,
	 XLB_FLOW_TABLE},
	{"fd00::10", 443, 6, XLB_MODE_IPIP, XLB_HASH_5TUPLE, XLB_EMPTY_REJECT, XLB_AF_INET6,
	 FZ_POOL, XLB_FLOW_TABLE},
	{"fd00::10", 53, 17, XLB_MODE_DSR, XLB_HASH_5TUPLE, XLB_EMPTY_REJECT, XLB_AF_INET6, FZ_POOL,
	 XLB_FLOW_TABLE},
	{"fd00::20", 80, 6, XLB_MODE_DSR, XLB_HASH_SRC, XLB_EMPTY_DROP, XLB_AF_INET6, FZ_POOL,
	 XLB_FLOW_TABLE},
	{"10.0.0.30", 80, 6, XLB_MODE_DSR, XLB_HASH_5TUPLE, XLB_EMPTY_REJECT, XLB_AF_INET, 0,
	 XLB_FLOW_TABLE},
	{"10.0.0.30", 53, 17, XLB_MODE_IPIP, XLB_HASH_5TUPLE, XLB_EMPTY_REJECT, XLB_AF_INET, 0,
	 XLB_FLOW_TABLE},
	{"fd00::30", 80, 6, XLB_MODE_IPIP, XLB_HASH_5TUPLE, XLB_EMPTY_REJECT, XLB_AF_INET6, 0,
	 XLB_FLOW_TABLE},
	{"fd00::30", 53, 17, XLB_MODE_DSR, XLB_HASH_5TUPLE, XLB_EMPTY_REJECT, XLB_AF_INET6, 0,
	 XLB_FLOW_TABLE},
	{"10.0.0.31", 80, 6, XLB_MODE_DSR, XLB_HASH_5TUPLE, XLB_EMPTY_PASS, XLB_AF_INET, 0,
	 XLB_FLOW_TABLE},
	/* stateless: slots carry the previous backend after every table change */
	{"10.0.0.40", 80, 6, XLB_MODE_IPIP, XLB_HASH_5TUPLE, XLB_EMPTY_REJECT, XLB_AF_INET, FZ_POOL,
	 XLB_FLOW_STATELESS},
	{"10.0.0.40", 53, 17, XLB_MODE_IPIP, XLB_HASH_SRC, XLB_EMPTY_PASS, XLB_AF_INET6, FZ_POOL,
	 XLB_FLOW_STATELESS},
	{"fd00::40", 0, 6, XLB_MODE_IPIP, XLB_HASH_5TUPLE, XLB_EMPTY_DROP, XLB_AF_INET6, FZ_POOL,
	 XLB_FLOW_STATELESS},
};

#define NSPECS (int)(sizeof(SPECS) / sizeof(SPECS[0]))
/* SPECS[FZ_SAME_BACKEND] (10.0.0.20:0/tcp) has syn_retry same-backend; the
 * other table VIPs the default, another-backend. */
#define FZ_SAME_BACKEND 2

static void fill_vip_kv(const struct fz_vip *v, struct xlb_vip_key *k, struct xlb_vip_val *val)
{
	memset(k, 0, sizeof(*k));
	memset(val, 0, sizeof(*val));
	k->addr = v->addr;
	k->port = htons(v->port);
	k->proto = v->proto;
	val->vip_id = v->id;
	val->table_size = FZ_TABLE;
	val->mode = v->mode;
	val->hash = v->hash;
	val->on_empty = v->on_empty;
	val->flow_state = v->flow_state;
}

/* A stateless table: {cur, prev} per slot, two consecutive 16-bit ids. */
static int put_sl(struct fz_world *w, int vi)
{
	const struct fz_vip *v = &w->vip[vi];
	__u32 sl[2 * FZ_TABLE];

	for (int i = 0; i < FZ_TABLE; i++) {
		sl[2 * i] = v->table[i];
		sl[2 * i + 1] = v->prev[i];
	}
	return xlb_dp_table_swap(w->dp, v->id, sl, 2 * FZ_TABLE);
}

/* The table the agent would build: Maglev over the VIP's ACTIVE backends. */
static int build_table(const struct fz_world *w, int vi, __u32 *table)
{
	struct xlb_maglev_backend mb[FZ_MAX_BE];
	size_t n = 0;

	for (__u32 id = 1; id < FZ_MAX_BE; id++) {
		const struct fz_backend *b = &w->be[id];

		if (b->vip == vi && b->state == XLB_BE_ACTIVE)
			mb[n++] = (struct xlb_maglev_backend){.key = b->key, .id = id, .weight = 1};
	}
	return xlb_maglev_build(mb, n, FZ_TABLE, table);
}

static int put_record(struct fz_world *w, __u32 id)
{
	const struct fz_backend *b = &w->be[id];
	struct xlb_backend r = {.state = b->state, .gen = b->gen, .family = b->family};

	r.addr = b->addr;
	memcpy(r.mac, b->mac, 6);
	if (b->vip >= 0) {
		r.vip_id = (__u16)w->vip[b->vip].id;
		r.mode = w->vip[b->vip].mode;
		r.syn_retry = w->vip[b->vip].syn_retry;
	}
	return xlb_dp_backend_set(w->dp, id, &r);
}

static int put_table(struct fz_world *w, int vi)
{
	__u32 table[FZ_TABLE];
	int err = build_table(w, vi, table);

	if (err)
		return err;
	if (w->vip[vi].flow_state == XLB_FLOW_STATELESS) {
		struct fz_vip *v = &w->vip[vi];

		/* A slot that moves keeps its old backend as previous hop (the
		 * agent would expire it after the handover time). */
		for (int i = 0; i < FZ_TABLE; i++) {
			if (table[i] != v->table[i] && v->table[i] != XLB_BACKEND_NONE)
				v->prev[i] = v->table[i];
			if (v->prev[i] == table[i])
				v->prev[i] = XLB_BACKEND_NONE;
			v->table[i] = table[i];
		}
		return put_sl(w, vi);
	}
	err = xlb_dp_table_swap(w->dp, w->vip[vi].id, table, FZ_TABLE);
	if (!err)
		memcpy(w->vip[vi].table, table, sizeof(table));
	return err;
}

/* A new backend (new address, MAC and generation) under id, for VIP vi. */
static void incarnate(struct fz_world *w, __u32 id, int vi)
{
	struct fz_backend *b = &w->be[id];
	__u32 inc = ++w->next_incarnation;
	char name[32], text[64];

	memset(b, 0, sizeof(*b));
	b->vip = vi;
	b->family = w->vip[vi].be_family;
	b->gen = w->next_gen++;
	b->incarnation = inc;
	b->state = XLB_BE_ACTIVE;
	if (b->family == XLB_AF_INET)
		snprintf(text, sizeof(text), "10.1.%u.%u", (inc >> 8) & 0xff, inc & 0xff);
	else
		snprintf(text, sizeof(text), "fd00:1::%x", inc & 0xffff);
	xlb_addr_parse(text, &b->addr);
	b->mac[0] = 0x02;
	b->mac[1] = 0xbe;
	b->mac[2] = (__u8)(inc >> 8);
	b->mac[3] = (__u8)inc;
	b->mac[4] = 0;
	b->mac[5] = (__u8)id;
	snprintf(name, sizeof(name), "incarnation-%u", inc);
	b->key = xlb_maglev_key(name);
}

int fz_world_init(struct fz_world *w, struct xlb_dp *dp)
{
	__u32 next_id = 1;

	memset(w, 0, sizeof(*w));
	w->dp = dp;
	w->next_gen = 1;
	for (__u32 id = 0; id < FZ_MAX_BE; id++)
		w->be[id].vip = -1;
	for (int i = 0; i < NSPECS; i++) {
		const struct vip_spec *s = &SPECS[i];
		struct fz_vip *v = &w->vip[i];
		struct xlb_vip_key k;
		struct xlb_vip_val val;
		int err;

		xlb_addr_parse(s->addr, &v->addr);
		v->port = s->port;
		v->proto = s->proto;
		v->mode = s->mode;
		v->hash = s->hash;
		v->on_empty = s->on_empty;
		v->be_family = s->be_family;
		v->flow_state = s->flow_state;
		v->syn_retry = i == FZ_SAME_BACKEND ? XLB_SYN_RETRY_SAME : XLB_SYN_RETRY_ANOTHER;
		v->id = (__u32)i + 1;
		snprintf(v->name, sizeof(v->name), "%s%s%s:%u/%s", strchr(s->addr, ':') ? "[" : "",
			 s->addr, strchr(s->addr, ':') ? "]" : "", s->port,
			 s->proto == 6 ? "tcp" : "udp");
		w->nvips = i + 1;
		/* Agent order for a new VIP: records, then table with the VIP entry. */
		for (int j = 0; j < s->pool; j++) {
			incarnate(w, next_id, i);
			err = put_record(w, next_id++);
			if (err)
				return err;
		}
		err = build_table(w, i, v->table);
		fill_vip_kv(v, &k, &val);
		if (v->flow_state == XLB_FLOW_STATELESS)
			err = err ?: xlb_dp_vip_set(dp, &k, &val, NULL) ?: put_sl(w, i);
		else
			err = err ?: xlb_dp_vip_set(dp, &k, &val, v->table);
		if (err) {
			fprintf(stderr, "couldn't program VIP '%s': %s\n", v->name, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int pick_vip(const struct fz_world *w, struct fz_rng *r)
{
	return (int)fz_below(r, (uint32_t)w->nvips);
}

/*
 * One change, in the agent's order (xlb_sync_apply): records going ACTIVE,
 * then tables, then records going DRAINING or DOWN; a removed backend's id
 * is retired DOWN and may be given to a new backend later.
 */
int fz_world_churn(struct fz_world *w, struct fz_rng *r)
{
	__u32 id = 1 + fz_below(r, FZ_MAX_BE - 1);
	struct fz_backend *b = &w->be[id];
	__u32 roll = fz_below(r, 100);
	int vi = b->vip, err;

	w->changes++;
	if (vi < 0) { /* a free id: a new backend (the recycled-id case) */
		vi = pick_vip(w, r);
		incarnate(w, id, vi);
		return put_record(w, id) ?: put_table(w, vi);
	}
	switch (b->state) {
	case XLB_BE_ACTIVE:
		b->state = roll < 40 ? XLB_BE_DRAINING : XLB_BE_DOWN;
		err = put_table(w, vi) ?: put_record(w, id);
		if (!err && roll >= 80) /* removed from the config: id retired */
			b->vip = -1;
		return err;
	case XLB_BE_DRAINING:
		if (roll < 50) {
			b->state = XLB_BE_DOWN;
			return put_record(w, id);
		}
		b->state = XLB_BE_ACTIVE;
		return put_record(w, id) ?: put_table(w, vi);
	default: /* DOWN */
		if (roll < 60) {
			b->state = XLB_BE_ACTIVE;
			return put_record(w, id) ?: put_table(w, vi);
		}
		b->vip = -1; /* retired; it stays DOWN in the map */
		return 0;
	}
}

const struct fz_vip *fz_vip_lookup(const struct fz_world *w, const union xlb_addr *a, __u16 port,
				   __u8 proto)
{
	const struct fz_vip *any = NULL;

	for (int i = 0; i < w->nvips; i++) {
		const struct fz_vip *v = &w->vip[i];

		if (v->proto != proto || memcmp(&v->addr, a, sizeof(*a)))
			continue;
		if (v->port == port)
			return v;
		if (v->port == 0)
			any = v;
	}
	return any;
}

int fz_vip_addr(const struct fz_world *w, const union xlb_addr *a)
{
	for (int i = 0; i < w->nvips; i++)
		if (!memcmp(&w->vip[i].addr, a, sizeof(*a)))
			return 1;
	return 0;
}

__u32 fz_backend_by_mac(const struct fz_world *w, const __u8 *mac)
{
	for (__u32 id = 1; id < FZ_MAX_BE; id++)
		if (w->be[id].incarnation && !memcmp(w->be[id].mac, mac, 6))
			return id;
	return 0;
}

void fz_world_describe(const struct fz_world *w, const struct fz_vip *v, char *buf, size_t len)
{
	static const char *st[] = {"DOWN", "ACTIVE", "DRAINING"};
	size_t off = 0;
	int vi = (int)(v - w->vip);

	buf[0] = 0;
	for (__u32 id = 1; id < FZ_MAX_BE && off < len; id++) {
		const struct fz_backend *b = &w->be[id];

		if (b->vip != vi)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%u:%s/gen%u", off ? " " : "", id,
					b->state < 3 ? st[b->state] : "?", b->gen);
	}
}
