// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Fleet determinism (issue #13): hosts behind one ECMP group receive the
 * same changes in different orders (xlbctl edits, `apply -f` of a whole
 * file, restarts that reload running.yaml and adopt the pinned maps), and
 * must still send every new flow to the same backend. The property checked
 * here, through the real reconciler (sync*.c) on a fake data plane that
 * keeps the maps as the kernel would (backend array by id, VIP hash by key,
 * one Maglev table per VIP id):
 *
 *   the same configuration and seed, once every deleted VIP's grace period
 *   has ended and with the same backend health, gives byte-identical
 *   resolved tables, whatever the history that led to it.
 *
 * "Resolved" means each slot is followed through the backend array to what
 * the packet meets: (address, family, mode, state, next-hop MAC), and each
 * VIP entry is compared without its id. Raw ids are NOT compared, on
 * purpose: a backend keeps its id for as long as it is configured (flow
 * entries name it), and a freed id waits XLB_SYNC_ID_QUARANTINE_MS before
 * it is given out again, so two hosts with different histories hold
 * different ids for the same backend. Making ids a function of the config
 * (e.g. rank by address) would renumber the backends of a VIP whenever one
 * is added, orphan every flow entry, and fight the quarantine: not cheap,
 * not safe. Ids are host-local and never reach a hash: the data plane
 * hashes the 5-tuple (or the source address) with the fleet's seed and the
 * VIP's table size (xlb_hash.h), Maglev permutations derive from the
 * backend's address and the seed, never its id or position (maglev.h). One
 * check below asserts that the histories did end with other ids, else it
 * would prove nothing about resolution.
 *
 * The backend records named by no table but not DOWN (draining, a backup
 * standing by, weight 0) are part of the dump too: they decide where
 * established flows go. DOWN records are not: nothing forwards to them,
 * and a host that deleted a backend keeps its record DOWN, one that never
 * had it has none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "harness.h"
#include "sync.h"
#include "test_unit.h"
#include "xlb_dp.h"

/* ---- a fake data plane that keeps the maps ----------------------------- */

#define FD_VIPS 16

struct fdp {
	struct xlb_backend *be; /* XLB_MAX_BACKENDS records, by id */
	struct {
		struct xlb_vip_key k;
		struct xlb_vip_val v;
		__u32 *table;
		int live;
	} vip[FD_VIPS];
	unsigned long writes;
};

static int fd_backend_set(void *ctx, __u32 id, const struct xlb_backend *b)
{
	struct fdp *d = ctx;

	if (id >= XLB_MAX_BACKENDS)
		return -EINVAL;
	d->be[id] = *b;
	d->writes++;
	return 0;
}

static int fd_backend_get(void *ctx, __u32 id, struct xlb_backend *b)
{
	struct fdp *d = ctx;

	if (id >= XLB_MAX_BACKENDS)
		return -EINVAL;
	*b = d->be[id];
	return 0;
}

static int fd_vip_set(void *ctx, const struct xlb_vip_key *k, const struct xlb_vip_val *v,
		      const __u32 *table)
{
	struct fdp *d = ctx;
	int slot = -1;
	__u32 *t;

	for (int i = 0; i < FD_VIPS; i++)
		if (d->vip[i].live && !memcmp(&d->vip[i].k, k, sizeof(*k)))
			slot = i;
	for (int i = 0; slot < 0 && i < FD_VIPS; i++)
		if (!d->vip[i].live)
			slot = i;
	if (slot < 0)
		return -ENOSPC;
	t = malloc(v->table_size * sizeof(*t));
	if (!t)
		return -ENOMEM;
	memcpy(t, table, v->table_size * sizeof(*t));
	free(d->vip[slot].table);
	d->vip[slot].table = t;
	d->vip[slot].k = *k;
	d->vip[slot].v = *v;
	d->vip[slot].live = 1;
	d->writes++;
	return 0;
}

static int fd_vip_del(void *ctx, const struct xlb_vip_key *k)
{
	struct fdp *d = ctx;

	for (int i = 0; i < FD_VIPS; i++) {
		if (d->vip[i].live && !memcmp(&d->vip[i].k, k, sizeof(*k))) {
			d->vip[i].live = 0;
			free(d->vip[i].table);
			d->vip[i].table = NULL;
			d->writes++;
			return 0;
		}
	}
	return -ENOENT;
}

static int fd_find_id(const struct fdp *d, __u32 vip_id)
{
	for (int i = 0; i < FD_VIPS; i++)
		if (d->vip[i].live && d->vip[i].v.vip_id == vip_id)
			return i;
	return -1;
}

static int fd_tables_swap(void *ctx, size_t n, const __u32 *ids, const __u32 *const *tables,
			  const __u32 *sizes, const __u8 *flow_states)
{
	(void)flow_states;
	struct fdp *d = ctx;

	for (size_t i = 0; i < n; i++) {
		int j = fd_find_id(d, ids[i]);

		if (j < 0 || sizes[i] != d->vip[j].v.table_size)
			return -EINVAL;
		memcpy(d->vip[j].table, tables[i], sizes[i] * sizeof(__u32));
		d->writes++;
	}
	return 0;
}

static int fd_table_get(void *ctx, __u32 vip_id, __u32 size, __u32 *table)
{
	struct fdp *d = ctx;
	int j = fd_find_id(d, vip_id);

	if (j < 0 || size != d->vip[j].v.table_size)
		return -ENOENT;
	memcpy(table, d->vip[j].table, size * sizeof(*table));
	return 0;
}

static int fd_resolve(void *ctx, const union xlb_addr *a, __u8 mac[6])
{
	(void)ctx;
	memcpy(mac, "\x02\x00", 2);
	memcpy(mac + 2, &a->b[12], 4);
	return 0;
}

static void fd_clear(struct fdp *d)
{
	for (int i = 0; i < FD_VIPS; i++)
		free(d->vip[i].table);
	memset(d->vip, 0, sizeof(d->vip));
	memset(d->be, 0, XLB_MAX_BACKENDS * sizeof(*d->be));
	d->writes = 0;
}

/* ---- the configuration as a model an operator edits --------------------- */

#define MV 6  /* VIPs */
#define MB 12 /* backends per VIP */

struct mbe {
	char addr[48];
	unsigned weight, admin, backup;
};

struct mvip {
	char addr[48];
	unsigned port, table;
	const char *proto, *mode, *hash;
	struct mbe be[MB];
	int nbe;
};

struct model {
	struct mvip v[MV];
	int nv;
};

static const char *const admin_names[] = {"enabled", "drain", "disabled"};

/* The end state every history reaches: modes, hashes, two table sizes,
 * IPv4 and IPv6, weights (0 too), drain, disable, a backup. */
static const struct model END = {.nv = 3,
				 .v = {
					 {.addr = "10.0.0.10",
					  .port = 80,
					  .proto = "tcp",
					  .mode = "dsr",
					  .hash = "5-tuple",
					  .table = 251,
					  .nbe = 7,
					  .be = {{"10.1.0.1", 1, 0, 0},
						 {"10.1.0.2", 2, 0, 0},
						 {"10.1.0.3", 3, 0, 0},
						 {"10.1.0.4", 1, 1, 0},
						 {"10.1.0.5", 1, 2, 0},
						 {"10.1.0.6", 0, 0, 0},
						 {"10.1.0.7", 1, 0, 1}}},
					 {.addr = "2001:db8::10",
					  .port = 443,
					  .proto = "tcp",
					  .mode = "ipip",
					  .hash = "5-tuple",
					  .table = 509,
					  .nbe = 5,
					  .be = {{"2001:db8:1::1", 5, 0, 0},
						 {"2001:db8:1::2", 1, 0, 0},
						 {"2001:db8:1::3", 1, 1, 0},
						 {"2001:db8:1::4", 2, 0, 0},
						 {"2001:db8:1::5", 1, 2, 0}}},
					 {.addr = "10.0.0.11",
					  .port = 0,
					  .proto = "udp",
					  .mode = "ipip",
					  .hash = "source",
					  .table = 251,
					  .nbe = 4,
					  .be = {{"10.2.0.1", 1, 0, 0},
						 {"10.2.0.2", 1, 0, 0},
						 {"10.2.0.3", 4, 0, 0},
						 {"10.2.0.4", 1, 0, 0}}},
				 }};

/* What random histories may add besides END's VIPs and backends. */
static const struct mvip EXTRA_VIP = {.addr = "10.0.0.12",
				      .port = 53,
				      .proto = "udp",
				      .mode = "dsr",
				      .hash = "5-tuple",
				      .table = 251};
static const char *const EXTRA_BE4[] = {"10.9.0.1", "10.9.0.2", "10.9.0.3", "10.9.0.4"};
static const char *const EXTRA_BE6[] = {"2001:db8:9::1", "2001:db8:9::2"};

static int render(const struct model *m, char **out)
{
	size_t len = 0;
	FILE *f = open_memstream(out, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "vips:%s\n", m->nv ? "" : " []");
	for (int i = 0; i < m->nv; i++) {
		const struct mvip *v = &m->v[i];

		fprintf(f,
			"  - address: \"%s\"\n    port: %u\n    protocol: %s\n    mode: %s\n"
			"    hash: %s\n    table_size: %u\n",
			v->addr, v->port, v->proto, v->mode, v->hash, v->table);
		if (v->port == 0)
			fprintf(f, "    check: {type: none}\n");
		if (v->nbe)
			fprintf(f, "    backends:\n");
		for (int j = 0; j < v->nbe; j++)
			fprintf(f,
				"      - address: \"%s\"\n        weight: %u\n        admin: %s\n"
				"        backup: %s\n",
				v->be[j].addr, v->be[j].weight, admin_names[v->be[j].admin],
				v->be[j].backup ? "true" : "false");
	}
	return fclose(f) ? -EIO : 0;
}

/* ---- one load balancer: its maps, its agent, its clock ------------------ */

static const struct xlb_hash_seed SEED = {{0x243f6a8885a308d3ull, 0x13198a2e03707344ull}};

struct host {
	struct fdp dp;
	struct xlb_sync *s;
	__u64 now_ms;
	struct model m; /* the running configuration */
};

struct programmed {
	struct xlb_programmed_vip vips[FD_VIPS];
	struct xlb_programmed_backend *bes;
	size_t nvips, nbes;
};

/* What xlbd does at start on pinned maps (main.c adopt()). */
static int adopt(struct host *h)
{
	struct programmed p = {.bes = calloc(XLB_MAX_BACKENDS, sizeof(*p.bes))};
	int err;

	if (!p.bes)
		return -ENOMEM;
	for (int i = 0; i < FD_VIPS; i++)
		if (h->dp.vip[i].live)
			p.vips[p.nvips++] =
				(struct xlb_programmed_vip){h->dp.vip[i].k, h->dp.vip[i].v};
	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++)
		if (h->dp.be[id].gen) /* never set: all zero */
			p.bes[p.nbes++] = (struct xlb_programmed_backend){id, h->dp.be[id]};
	err = xlb_sync_adopt(h->s, p.vips, p.nvips, p.bes, p.nbes);
	free(p.bes);
	return err;
}

/* (Re)start the agent: on the maps as they are (adopt), or on fresh ones. */
static int boot(struct host *h, int fresh_maps)
{
	struct xlb_sink sink = {.ctx = &h->dp,
				.backend_set = fd_backend_set,
				.vip_set = fd_vip_set,
				.vip_del = fd_vip_del,
				.tables_swap = fd_tables_swap,
				.backend_get = fd_backend_get,
				.table_get = fd_table_get};

	xlb_sync_free(h->s);
	if (!h->dp.be)
		h->dp.be = calloc(XLB_MAX_BACKENDS, sizeof(*h->dp.be));
	if (!h->dp.be)
		return -ENOMEM;
	if (fresh_maps)
		fd_clear(&h->dp);
	h->s = xlb_sync_new(&sink, fd_resolve, NULL);
	if (!h->s)
		return -ENOMEM;
	h->s->seed = SEED;
	return fresh_maps ? 0 : adopt(h);
}

static void host_free(struct host *h)
{
	xlb_sync_free(h->s);
	if (h->dp.be)
		fd_clear(&h->dp);
	free(h->dp.be);
	memset(h, 0, sizeof(*h));
}

/* Apply the host's model (as xlbd applies an edited or loaded config). */
static int apply(struct host *h, __u64 after_ms)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	char *yaml = NULL;
	int ret = render(&h->m, &yaml);

	h->now_ms += after_ms;
	if (!ret && xlb_cfg_load_string("fleet.yaml", yaml, &c, &err)) {
		harness_fail(__FILE__, __LINE__, "config: %s\n%s", err.msg, yaml);
		ret = -EINVAL;
	}
	if (!ret) {
		h->s->now_ms = h->now_ms;
		ret = xlb_sync_apply(h->s, &c, &err);
		if (ret)
			harness_fail(__FILE__, __LINE__, "apply: %s", err.msg);
	}
	xlb_cfg_free(&c);
	free(yaml);
	return ret;
}

/* ---- what a packet meets, in a canonical order -------------------------- */

struct buf {
	unsigned char *p;
	size_t len, cap;
	int bad; /* a table names a record that cannot serve it */
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1 << 16;
		void *q;

		while (cap < b->len + n)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q) {
			b->bad = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* A record as a packet meets it: no id, no generation, no VIP id. */
static void put_record(struct buf *b, const struct xlb_backend *r)
{
	put(b, &r->addr, sizeof(r->addr));
	put(b, r->mac, sizeof(r->mac));
	put(b, &r->family, 1);
	put(b, &r->state, 1);
	put(b, &r->mode, 1);
}

static int cmp_addr(const void *a, const void *b)
{
	return memcmp(&((const struct xlb_backend *)a)->addr,
		      &((const struct xlb_backend *)b)->addr, sizeof(union xlb_addr));
}

/* resolved: slots followed to their records; else the raw tables (ids). */
static void dump(const struct fdp *d, struct buf *b, int resolved)
{
	int order[FD_VIPS], n = 0;

	b->len = 0;
	b->bad = 0;
	for (int i = 0; i < FD_VIPS; i++)
		if (d->vip[i].live)
			order[n++] = i;
	for (int i = 1; i < n; i++) /* by key: insertion sort of a handful */
		for (int j = i; j > 0 && memcmp(&d->vip[order[j - 1]].k, &d->vip[order[j]].k,
						sizeof(struct xlb_vip_key)) > 0;
		     j--) {
			int t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int i = 0; i < n; i++) {
		const typeof(d->vip[0]) *v = &d->vip[order[i]];
		struct xlb_vip_val val = v->v;
		struct xlb_backend live[MB * 2], none = {};
		size_t nlive = 0;

		val.vip_id = 0;
		put(b, &v->k, sizeof(v->k));
		put(b, &val, sizeof(val));
		for (__u32 s = 0; s < v->v.table_size; s++) {
			__u32 id = v->table[s];
			const struct xlb_backend *r = id ? &d->be[id] : &none;

			if (!resolved) {
				put(b, &id, sizeof(id));
				continue;
			}
			if (id && (r->vip_id != v->v.vip_id || r->state != XLB_BE_ACTIVE))
				b->bad = 1;
			put_record(b, r);
		}
		if (!resolved)
			continue;
		for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++)
			if (d->be[id].gen && d->be[id].vip_id == v->v.vip_id &&
			    d->be[id].state != XLB_BE_DOWN && nlive < MB * 2)
				live[nlive++] = d->be[id];
		qsort(live, nlive, sizeof(live[0]), cmp_addr);
		for (size_t j = 0; j < nlive; j++)
			put_record(b, &live[j]);
	}
}

/* ---- histories ---------------------------------------------------------- */

static unsigned rng_state;

static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 8) % n;
}

static void shuffle_model(struct model *m)
{
	for (int i = m->nv - 1; i > 0; i--) {
		int j = (int)rnd((unsigned)i + 1);
		struct mvip t = m->v[i];

		m->v[i] = m->v[j];
		m->v[j] = t;
	}
	for (int i = 0; i < m->nv; i++)
		for (int k = m->v[i].nbe - 1; k > 0; k--) {
			int j = (int)rnd((unsigned)k + 1);
			struct mbe t = m->v[i].be[k];

			m->v[i].be[k] = m->v[i].be[j];
			m->v[i].be[j] = t;
		}
}

static int find_vip(const struct model *m, const char *addr)
{
	for (int i = 0; i < m->nv; i++)
		if (!strcmp(m->v[i].addr, addr))
			return i;
	return -1;
}

static int find_be(const struct mvip *v, const char *addr)
{
	for (int j = 0; j < v->nbe; j++)
		if (!strcmp(v->be[j].addr, addr))
			return j;
	return -1;
}

static void del_vip(struct model *m, int i)
{
	memmove(&m->v[i], &m->v[i + 1], (size_t)(m->nv - i - 1) * sizeof(m->v[0]));
	m->nv--;
}

static void del_be(struct mvip *v, int j)
{
	memmove(&v->be[j], &v->be[j + 1], (size_t)(v->nbe - j - 1) * sizeof(v->be[0]));
	v->nbe--;
}

/* A VIP of END (or the extra one) with its settings, without backends. */
static struct mvip bare(const struct mvip *v)
{
	struct mvip b = *v;

	b.nbe = 0;
	return b;
}

/* A backend the VIP may have: one of END's or an extra of its family. */
static struct mbe some_backend(const struct mvip *v)
{
	int end = find_vip(&END, v->addr), v6 = strchr(v->addr, ':') != NULL;
	struct mbe b = {.weight = rnd(4), .admin = rnd(3), .backup = rnd(5) == 0};

	if (end >= 0 && rnd(3)) {
		const struct mvip *e = &END.v[end];

		snprintf(b.addr, sizeof(b.addr), "%s", e->be[rnd((unsigned)e->nbe)].addr);
	} else {
		snprintf(b.addr, sizeof(b.addr), "%s", v6 ? EXTRA_BE6[rnd(2)] : EXTRA_BE4[rnd(4)]);
	}
	return b;
}

/*
 * One random change, as xlbctl makes it, applied after a random pause
 * (under or over the id quarantine); now and then the agent restarts on its
 * pinned maps and reloads what it ran.
 */
static int random_step(struct host *h)
{
	struct model *m = &h->m;
	unsigned op = rnd(10);
	__u64 pause = rnd(4) ? 100 : 2500;

	if (op == 0 && m->nv < MV) { /* vip add */
		const struct mvip *src = rnd(4) ? &END.v[rnd((unsigned)END.nv)] : &EXTRA_VIP;

		if (find_vip(m, src->addr) < 0)
			m->v[m->nv++] = bare(src);
	} else if (op == 1 && m->nv) { /* vip del */
		del_vip(m, (int)rnd((unsigned)m->nv));
	} else if (op == 2 && m->nv) { /* vip set: mode, table size */
		struct mvip *v = &m->v[rnd((unsigned)m->nv)];

		v->mode = rnd(2) ? "dsr" : "ipip";
		v->table = rnd(2) ? 251 : 509;
	} else if (op <= 4 && m->nv) { /* backend add */
		struct mvip *v = &m->v[rnd((unsigned)m->nv)];
		struct mbe b = some_backend(v);

		if (v->nbe < MB && find_be(v, b.addr) < 0)
			v->be[v->nbe++] = b;
	} else if (op == 5 && m->nv) { /* backend del */
		struct mvip *v = &m->v[rnd((unsigned)m->nv)];

		if (v->nbe)
			del_be(v, (int)rnd((unsigned)v->nbe));
	} else if (op <= 7 && m->nv) { /* backend set weight / drain / enable / disable */
		struct mvip *v = &m->v[rnd((unsigned)m->nv)];

		if (v->nbe) {
			struct mbe *b = &v->be[rnd((unsigned)v->nbe)];

			if (rnd(2))
				b->weight = rnd(5);
			else
				b->admin = rnd(3);
		}
	} else if (op == 8) { /* apply -f of the same file, reordered */
		shuffle_model(m);
	} else if (op == 9) { /* restart: adopt the pinned maps, reload running.yaml */
		if (boot(h, 0))
			return -1;
	}
	return apply(h, pause);
}

/*
 * Bring the host to END by single edits in a random order (what an operator
 * types), each applied on its own.
 */
static int converge_by_edits(struct host *h)
{
	struct model *m = &h->m;

	for (int i = m->nv - 1; i >= 0; i--)
		if (find_vip(&END, m->v[i].addr) < 0) {
			del_vip(m, i);
			if (apply(h, 100))
				return -1;
		}
	for (int k = 0, rot = (int)rnd(3); k < END.nv; k++) {
		const struct mvip *e = &END.v[(k + rot) % END.nv];

		if (find_vip(m, e->addr) < 0) {
			m->v[m->nv++] = bare(e);
			if (apply(h, 100))
				return -1;
		}
	}
	for (int i = 0; i < m->nv; i++) {
		struct mvip *v = &m->v[i];
		const struct mvip *e = &END.v[find_vip(&END, v->addr)];

		if (strcmp(v->mode, e->mode) || v->table != e->table) {
			v->mode = e->mode;
			v->table = e->table;
			if (apply(h, 100))
				return -1;
		}
		for (int j = v->nbe - 1; j >= 0; j--)
			if (find_be(e, v->be[j].addr) < 0) {
				del_be(v, j);
				if (apply(h, rnd(2) ? 100 : 2500))
					return -1;
			}
		for (int n = 0, rot = (int)rnd(4); n < e->nbe; n++) { /* missing ones */
			const struct mbe *eb = &e->be[(n + rot) % e->nbe];

			if (find_be(v, eb->addr) < 0) {
				struct mbe b = *eb;

				b.weight = 1;
				b.admin = XLB_ADMIN_ENABLED;
				v->be[v->nbe++] = b;
				if (apply(h, 100))
					return -1;
			}
		}
		for (int j = 0; j < v->nbe; j++) { /* then weights and admin states */
			struct mbe *b = &v->be[j];
			const struct mbe *eb = &e->be[find_be(e, b->addr)];

			if (memcmp(b, eb, sizeof(*b))) {
				*b = *eb;
				if (apply(h, 100))
					return -1;
			}
		}
	}
	return 0;
}

/* Grace periods of deleted VIPs end at the first apply after them. */
static int settle(struct host *h)
{
	return apply(h, XLB_CFG_DEFAULT_DELETED_VIP_GRACE_MS + 1000);
}

/* The reference: a fresh host given END at once. */
static int reference(struct buf *resolved, struct buf *raw)
{
	struct host h = {};
	int ret = boot(&h, 1);

	h.m = END;
	ret = ret ?: apply(&h, 0);
	if (!ret) {
		dump(&h.dp, resolved, 1);
		dump(&h.dp, raw, 0);
	}
	host_free(&h);
	return ret;
}

/* Compare a host's maps with the reference; count histories with other ids. */
static int same_as_reference(struct host *h, const struct buf *ref, const struct buf *ref_raw,
			     int *other_ids, const char *what)
{
	struct buf b = {};
	int rc = 0;

	dump(&h->dp, &b, 1);
	if (b.bad || b.len != ref->len || memcmp(b.p, ref->p, ref->len)) {
		harness_fail(
			__FILE__, __LINE__,
			"%s: the resolved tables differ from a fresh host's (%zu vs %zu bytes%s)",
			what, b.len, ref->len, b.bad ? ", a slot names an unusable record" : "");
		rc = -1;
	}
	dump(&h->dp, &b, 0);
	*other_ids += b.len != ref_raw->len || memcmp(b.p, ref_raw->p, ref_raw->len);
	free(b.p);
	return rc;
}

/* ---- cases -------------------------------------------------------------- */

/*
 * Scripted histories: CLI edits from nothing, in reverse order; churn that
 * frees ids and reuses them after the quarantine; a restart that adopts;
 * a restart on fresh maps; an apply -f of the file in another order.
 */
static int t_fleet_scripted_histories_same_tables(void)
{
	struct buf ref = {}, ref_raw = {};
	struct host h = {};
	int other_ids = 0, rc = -1;

	if (reference(&ref, &ref_raw) || boot(&h, 1))
		goto out;
	/* 1. xlbctl from an empty config: VIPs and backends in reverse order,
	 * each first enabled with weight 1, then set. */
	for (int i = END.nv - 1; i >= 0; i--) {
		h.m.v[h.m.nv++] = bare(&END.v[i]);
		if (apply(&h, 100))
			goto out;
	}
	for (int i = 0; i < END.nv; i++) {
		const struct mvip *e = &END.v[END.nv - 1 - i];
		struct mvip *v = &h.m.v[i];

		for (int j = e->nbe - 1; j >= 0; j--) {
			v->be[v->nbe] = e->be[j];
			v->be[v->nbe].weight = 1;
			v->be[v->nbe++].admin = XLB_ADMIN_ENABLED;
			if (apply(&h, 100))
				goto out;
		}
		for (int j = 0; j < v->nbe; j++) {
			v->be[j] = e->be[e->nbe - 1 - j];
			if (apply(&h, 100))
				goto out;
		}
	}
	if (settle(&h) || same_as_reference(&h, &ref, &ref_raw, &other_ids, "CLI edits"))
		goto out;
	/* 2. Churn: extras added and removed, ids freed, the quarantine
	 * passes, the extras come back on recycled ids, then go again. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < h.m.nv; i++) {
			struct mvip *v = &h.m.v[i];
			int v6 = strchr(v->addr, ':') != NULL;

			v->be[v->nbe++] = (struct mbe){.weight = 2};
			snprintf(v->be[v->nbe - 1].addr, sizeof(v->be[0].addr), "%s",
				 v6 ? EXTRA_BE6[round] : EXTRA_BE4[round]);
			if (apply(&h, 100))
				goto out;
		}
		for (int i = 0; i < h.m.nv; i++) {
			h.m.v[i].nbe--;
			h.m.v[i].be[0].admin = (h.m.v[i].be[0].admin + 1) % 3; /* a toggle ... */
			if (apply(&h, 100))
				goto out;
			h.m.v[i].be[0].admin = (h.m.v[i].be[0].admin + 2) % 3; /* ... and back */
			if (apply(&h, 100))
				goto out;
		}
		h.m.v[h.m.nv++] = bare(&EXTRA_VIP);
		if (apply(&h, 100))
			goto out;
		h.m.nv--;
		if (apply(&h, XLB_SYNC_ID_QUARANTINE_MS + 500))
			goto out;
	}
	if (settle(&h) || same_as_reference(&h, &ref, &ref_raw, &other_ids, "churn"))
		goto out;
	/* 3. Restart on the pinned maps, reload running.yaml (this order). */
	if (boot(&h, 0) || apply(&h, 100) ||
	    same_as_reference(&h, &ref, &ref_raw, &other_ids, "restart, adopted"))
		goto out;
	/* 4. apply -f of the same file in another order. */
	rng_state = 7;
	shuffle_model(&h.m);
	if (apply(&h, 100) || same_as_reference(&h, &ref, &ref_raw, &other_ids, "apply -f"))
		goto out;
	/* 5. Restart on fresh maps (e.g. after a reboot), shuffled file. */
	shuffle_model(&h.m);
	if (boot(&h, 1) || apply(&h, 100) ||
	    same_as_reference(&h, &ref, &ref_raw, &other_ids, "restart, fresh maps"))
		goto out;
	/* The histories must have ended on other ids than the reference, or
	 * this proves nothing about resolving them. */
	if (other_ids < 2)
		harness_fail(__FILE__, __LINE__, "only %d histories ended on other ids", other_ids);
	else
		rc = 0;
out:
	host_free(&h);
	free(ref.p);
	free(ref_raw.p);
	return rc;
}

/* Random histories (seeded): 60 random edits, restarts and reorders, then
 * single edits or one apply -f to END, perhaps a restart. */
static int t_fleet_random_histories_same_tables(void)
{
	struct buf ref = {}, ref_raw = {};
	int other_ids = 0, rc = -1;
	char what[64];

	if (reference(&ref, &ref_raw))
		goto out;
	for (unsigned walk = 1; walk <= 24; walk++) {
		struct host h = {};
		int ret;

		rng_state = walk * 2654435761u;
		ret = boot(&h, 1);
		for (int i = 0; !ret && i < 60; i++)
			ret = random_step(&h);
		if (!ret && walk % 3 == 0) { /* apply -f END in some order */
			h.m = END;
			shuffle_model(&h.m);
			ret = apply(&h, 100);
		} else if (!ret) {
			ret = converge_by_edits(&h);
		}
		if (!ret && walk % 4 == 1)
			ret = boot(&h, 0) ?: apply(&h, 100);
		ret = ret ?: settle(&h);
		snprintf(what, sizeof(what), "random history %u", walk);
		ret = ret ?: same_as_reference(&h, &ref, &ref_raw, &other_ids, what);
		host_free(&h);
		if (ret)
			goto out;
	}
	if (other_ids < 12)
		harness_fail(__FILE__, __LINE__, "only %d of 24 histories ended on other ids",
			     other_ids);
	else
		rc = 0;
out:
	free(ref.p);
	free(ref_raw.p);
	return rc;
}

/* The comparison itself can fail: a weight, a drain, the seed all show. */
static int t_fleet_dump_sees_differences(void)
{
	struct buf ref = {}, ref_raw = {}, b = {};
	struct host h = {};
	int rc = -1, n = 0;

	if (reference(&ref, &ref_raw) || boot(&h, 1))
		goto out;
	h.m = END;
	h.m.v[0].be[0].weight = 2;
	if (apply(&h, 100))
		goto out;
	dump(&h.dp, &b, 1);
	n += b.len == ref.len && !memcmp(b.p, ref.p, ref.len);
	h.m = END;
	h.m.v[2].be[1].admin = XLB_ADMIN_DRAIN;
	if (apply(&h, 100))
		goto out;
	dump(&h.dp, &b, 1);
	n += b.len == ref.len && !memcmp(b.p, ref.p, ref.len);
	h.m = END;
	if (boot(&h, 1))
		goto out;
	h.s->seed.k[1] ^= 1;
	if (apply(&h, 100))
		goto out;
	dump(&h.dp, &b, 1);
	n += b.len == ref.len && !memcmp(b.p, ref.p, ref.len);
	if (n)
		harness_fail(__FILE__, __LINE__,
			     "%d of a weight, a drain, another seed left the dump as it was", n);
	else
		rc = 0;
out:
	host_free(&h);
	free(ref.p);
	free(ref_raw.p);
	free(b.p);
	return rc;
}

const struct harness_case fleet_cases[] = {
	{"fleet_scripted_histories_same_tables", t_fleet_scripted_histories_same_tables},
	{"fleet_random_histories_same_tables", t_fleet_random_histories_same_tables},
	{"fleet_dump_sees_differences", t_fleet_dump_sees_differences},
};
const size_t fleet_ncases = sizeof(fleet_cases) / sizeof(fleet_cases[0]);
