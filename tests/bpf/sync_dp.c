// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The reconciliation engine (sync.c) against the real data plane, with
 * fault injection (xlb_dp_fail_write): for every N, the Nth map write of a
 * multi-VIP apply fails; after each, every map the agent writes (vips,
 * vip_addrs, each VIP's Maglev table, backends) must be byte-identical to
 * before, the engine's view unchanged, and the apply must then work.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <bpf/bpf.h>

#include "config.h"
#include "env.h"
#include "pkt.h"
#include "maglev.h"
#include "sync.h"
#include "sync_dp.h"

/* ---- a dump of the maps, in a canonical order --------------------------- */

struct dump {
	unsigned char *buf;
	size_t len, cap;
};

static int put(struct dump *d, const void *p, size_t n)
{
	if (d->len + n > d->cap) {
		size_t cap = d->cap ? d->cap : 1 << 16;
		void *b;

		while (cap < d->len + n)
			cap *= 2;
		b = realloc(d->buf, cap);
		if (!b)
			return -ENOMEM;
		d->buf = b;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, p, n);
	d->len += n;
	return 0;
}

/* The program's map called name: an fd, or -errno. */
static int map_fd(const char *name)
{
	__u32 ids[32], n = 32;
	struct bpf_prog_info pi = {.nr_map_ids = n, .map_ids = (__u64)(unsigned long)ids};
	__u32 len = sizeof(pi);

	if (bpf_obj_get_info_by_fd(E.prog_fd, &pi, &len))
		return -errno;
	for (__u32 i = 0; i < pi.nr_map_ids && i < n; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &mi, &mlen) && !strcmp(mi.name, name))
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -ENOENT;
}

static int cmp_key(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n);
}

/* Every (key, value) of a hash map, sorted by key. */
static int dump_hash(struct dump *d, const char *name, size_t ksz, size_t vsz)
{
	int fd = map_fd(name), err = 0;
	unsigned char *keys = NULL, k[64], next[64], v[64];
	size_t n = 0;
	void *prev = NULL;

	if (fd < 0)
		return fd;
	while (!err && !bpf_map_get_next_key(fd, prev, next)) {
		void *nk = realloc(keys, (n + 1) * ksz);

		if (!nk) {
			err = -ENOMEM;
			break;
		}
		keys = nk;
		memcpy(keys + n++ * ksz, next, ksz);
		memcpy(k, next, ksz);
		prev = k;
	}
	/* insertion sort: a handful of keys */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && cmp_key(keys + (j - 1) * ksz, keys + j * ksz, ksz) > 0;
		     j--) {
			memcpy(k, keys + j * ksz, ksz);
			memcpy(keys + j * ksz, keys + (j - 1) * ksz, ksz);
			memcpy(keys + (j - 1) * ksz, k, ksz);
		}
	for (size_t i = 0; !err && i < n; i++) {
		err = bpf_map_lookup_elem(fd, keys + i * ksz, v) ? -errno : 0;
		err = err ?: put(d, keys + i * ksz, ksz) ?: put(d, v, vsz);
	}
	free(keys);
	close(fd);
	return err;
}

/* Every VIP id's table: (id, slots, contents) for each one present. */
static int dump_tables(struct dump *d)
{
	int outer = map_fd("maglev_tables"), err = 0;

	if (outer < 0)
		return outer;
	for (__u32 vid = 0; !err && vid < XLB_MAX_VIPS; vid++) {
		struct bpf_map_info mi = {};
		__u32 id, len = sizeof(mi);
		size_t bytes, mapped;
		void *mem;
		int fd;

		if (bpf_map_lookup_elem(outer, &vid, &id))
			continue;
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mi, &len)) {
			err = -EIO;
			break;
		}
		bytes = (size_t)mi.max_entries * mi.value_size;
		mapped = (bytes + getpagesize() - 1) & ~((size_t)getpagesize() - 1);
		mem = mmap(NULL, mapped, PROT_READ, MAP_SHARED, fd, 0);
		if (mem == MAP_FAILED) {
			err = -errno;
		} else {
			err = put(d, &vid, sizeof(vid)) ?: put(d, &mi.max_entries, 4) ?:
				put(d, mem, bytes);
			munmap(mem, mapped);
		}
		close(fd);
	}
	close(outer);
	return err;
}

static int dump_backends(struct dump *d)
{
	int fd = map_fd("backends"), err = 0;
	struct xlb_backend *b = calloc(XLB_MAX_BACKENDS, sizeof(*b));
	__u32 *keys = calloc(XLB_MAX_BACKENDS, sizeof(*keys)), out = 0, count = XLB_MAX_BACKENDS;

	if (fd < 0 || !b || !keys)
		err = fd < 0 ? fd : -ENOMEM;
	else if (bpf_map_lookup_batch(fd, NULL, &out, keys, b, &count, NULL) && errno != ENOENT)
		err = -errno;
	else
		err = count == XLB_MAX_BACKENDS ? put(d, b, count * sizeof(*b)) : -EIO;
	free(b);
	free(keys);
	if (fd >= 0)
		close(fd);
	return err;
}

static int dump_all(struct dump *d)
{
	d->len = 0;
	return dump_hash(d, "vips", sizeof(struct xlb_vip_key), sizeof(struct xlb_vip_val)) ?:
		dump_hash(d, "vip_addrs", sizeof(union xlb_addr), sizeof(__u32)) ?:
		dump_tables(d) ?: dump_backends(d);
}

/* ---- the engine on the loaded data plane -------------------------------- */

static int resolve(void *ctx, const union xlb_addr *a, __u8 mac[6])
{
	(void)ctx;
	memcpy(mac, "\x02\x00\x00\x00\x00", 5);
	mac[5] = a->b[15];
	return 0;
}

static struct xlb_sync *new_sync(void)
{
	struct xlb_sink sink;

	xlb_sync_dp_sink(&sink, E.dp);
	return xlb_sync_new(&sink, resolve, NULL);
}

static int do_apply(struct xlb_sync *s, const char *yaml, __u64 now_ms, struct xlb_err *err)
{
	struct xlb_cfg c = {};
	int ret;

	ret = xlb_cfg_load_string("t.yaml", yaml, &c, err);
	if (ret)
		return ret;
	s->now_ms = now_ms;
	ret = xlb_sync_apply(s, &c, err);
	xlb_cfg_free(&c);
	return ret;
}

/* The engine's view, digested. */
static __u64 view_digest(const struct xlb_sync *s)
{
	__u64 h = xlb_mix64(s->nvips * 31 + s->ngone);

	for (size_t i = 0; i < s->nvips; i++) {
		const struct xlb_sync_vip *v = &s->vips[i];

		h = xlb_mix64(h ^ v->id ^ v->table_fp ^ (__u64)v->nbackends << 40);
		for (size_t j = 0; j < v->nbackends; j++) {
			const struct xlb_sync_backend *b = &v->backends[j];

			h = xlb_mix64(h ^ b->id ^ (__u64)b->gen << 16 ^ (__u64)b->state << 48 ^
				      (__u64)b->weight << 52);
		}
	}
	for (size_t i = 0; i < s->ngone; i++)
		h = xlb_mix64(h ^ s->gone[i].id ^ s->gone[i].until_ms << 20);
	return h;
}

/*
 * Apply yaml with the Nth write failing, for N = 1, 2, ... until it
 * succeeds; after each failure the maps and the view must be as before.
 * Returns the number of failures injected, or -1 (reported).
 */
static int fail_every_write(struct xlb_sync *s, const char *yaml, __u64 now_ms)
{
	struct dump before = {}, after = {};
	struct xlb_err err = {};
	__u64 view = view_digest(s);
	int n, ret = -1;

	if (dump_all(&before)) {
		harness_fail(__FILE__, __LINE__, "couldn't dump the maps");
		goto out;
	}
	for (n = 1; n < 400; n++) {
		memset(&err, 0, sizeof(err));
		xlb_dp_fail_write(E.dp, (unsigned long)n);
		ret = do_apply(s, yaml, now_ms, &err);
		xlb_dp_fail_write(E.dp, 0);
		if (!ret)
			break;
		if (ret != -ENOMEM || s->dirty) {
			harness_fail(__FILE__, __LINE__, "write %d failed: %s", n, err.msg);
			goto out;
		}
		if (dump_all(&after) || after.len != before.len ||
		    memcmp(after.buf, before.buf, before.len)) {
			harness_fail(__FILE__, __LINE__,
				     "write %d failed (%s): the maps differ from before", n,
				     err.msg);
			goto out;
		}
		if (view_digest(s) != view) {
			harness_fail(__FILE__, __LINE__, "write %d failed: the view changed", n);
			goto out;
		}
	}
	if (ret)
		harness_fail(__FILE__, __LINE__, "still failing after %d writes: %s", n, err.msg);
	else
		ret = n - 1;
	if (getenv("XLB_DEBUG"))
		fprintf(stderr, "    %d writes failed in turn, each rolled back\n", n - 1);
out:
	free(before.buf);
	free(after.buf);
	return ret;
}

/* What xlbd does at start: learn the view from the maps. */
struct programmed {
	struct xlb_programmed_vip vips[32];
	struct xlb_programmed_backend bes[1024];
	size_t nvips, nbes;
};

static int collect_vip(const struct xlb_vip_key *k, const struct xlb_vip_val *v, void *ctx)
{
	struct programmed *p = ctx;

	if (p->nvips == 32)
		return -E2BIG;
	p->vips[p->nvips++] = (struct xlb_programmed_vip){*k, *v};
	return 0;
}

static int collect_backend(__u32 id, const struct xlb_backend *b, void *ctx)
{
	struct programmed *p = ctx;

	if (p->nbes == 1024)
		return -E2BIG;
	p->bes[p->nbes++] = (struct xlb_programmed_backend){id, *b};
	return 0;
}

static int adopt(struct xlb_sync *s)
{
	struct programmed *p = calloc(1, sizeof(*p));
	int err = p ? 0 : -ENOMEM;

	err = err ?: xlb_dp_for_each_vip(E.dp, collect_vip, p);
	err = err ?: xlb_dp_for_each_backend(E.dp, collect_backend, p);
	err = err ?: xlb_sync_adopt(s, p->vips, p->nvips, p->bes, p->nbes);
	free(p);
	return err;
}

#define V(a, more)                                                                                 \
	"  - address: 10.0.0." #a "\n    port: 80\n    protocol: tcp\n    table_size: 251\n" more  \
	"    backends:\n"
#define B(x) "      - address: 10.1.0." #x "\n"
#define W(x, w) "      - address: 10.1.0." #x "\n        weight: " #w "\n"
#define CFG_A V(10, "") B(1) B(2) B(3) V(11, "") B(4) B(5) V(12, "") B(6)
/* From A: a mode change and backend changes, a deletion (into its grace
 * period), a weight change (a batch swap), a new VIP, a VIP back from its
 * grace period, a grace period that ends. */
#define CFG_B                                                                                      \
	V(10, "    mode: ipip\n")                                                                  \
	B(1) B(2) B(7) V(12, "") W(6, 2) B(8) V(13, "") B(9) B(10) V(14, "") B(11)
/* From B, by an engine that adopted B: every VIP changes or goes. */
#define CFG_C V(10, "") B(1) B(7) V(12, "    on_empty: drop\n") B(6) V(16, "") B(20)

static int t_sync_rollback_leaves_maps_byte_identical(void)
{
	struct xlb_sync *s = new_sync(), *s2 = NULL;
	struct xlb_err err = {};
	unsigned long writes;
	int rc = -1, n;

	if (!s)
		return -1;
	if (do_apply(s, "deleted_vip_grace: 60s\nvips:\n" CFG_A V(14, "") B(11) V(15, "") B(12), 0,
		     &err) ||
	    do_apply(s, "vips:\n" CFG_A V(14, "") B(11), 0, &err) ||
	    do_apply(s, "vips:\n" CFG_A, 30000, &err)) { /* .15 gone until 60 s, .14 until 90 s */
		harness_fail(__FILE__, __LINE__, "setting up: %s", err.msg);
		goto out;
	}
	n = fail_every_write(s, "vips:\n" CFG_B, 60000);
	if (n < 0)
		goto out;
	if (n < 20) {
		harness_fail(__FILE__, __LINE__, "only %d writes: the apply did less than meant",
			     n);
		goto out;
	}
	if (s->ngone != 1 || s->nvips != 4) {
		harness_fail(__FILE__, __LINE__, "after the apply: %zu VIPs, %zu deleted", s->nvips,
			     s->ngone);
		goto out;
	}
	/* A restarted agent: its view comes from the maps (tables it never
	 * built are read back for a rollback). */
	s2 = new_sync();
	if (!s2 || adopt(s2)) {
		harness_fail(__FILE__, __LINE__, "couldn't adopt the maps");
		goto out;
	}
	writes = xlb_dp_writes(E.dp);
	if (do_apply(s2, "vips:\n" CFG_B, 100000, &err) || xlb_dp_writes(E.dp) != writes) {
		harness_fail(__FILE__, __LINE__, "adopted, the same config: %lu writes (%s)",
			     xlb_dp_writes(E.dp) - writes, err.msg);
		goto out;
	}
	n = fail_every_write(s2, "vips:\n" CFG_C, 100000);
	if (n < 0)
		goto out;
	if (n < 8) {
		harness_fail(__FILE__, __LINE__, "only %d writes after adoption", n);
		goto out;
	}
	rc = 0;
out:
	xlb_sync_free(s);
	xlb_sync_free(s2);
	return rc;
}

/* ---- two hosts of a fleet: the same packets leave both alike ------------ */

#define FLEET_FLOWS 200
#define FV(a, port, more)                                                                          \
	"  - address: " a "\n    port: " #port "\n    protocol: tcp\n    table_size: 251\n" more   \
	"    backends:\n"
#define FB(a, more) "      - address: " a "\n" more
/* Three VIPs (DSR, ipip 4in4, ipip 6in6): weights, a drain, a disabled one. */
#define FLEET_END                                                                                  \
	"deleted_vip_grace: 0s\nvips:\n" FV("10.0.0.20", 80, "") FB("10.1.0.1", "")                \
		FB("10.1.0.2", "        weight: 3\n") FB("10.1.0.3", "        admin: drain\n")     \
			FB("10.1.0.4", "") FV("10.0.0.21", 443, "    mode: ipip\n")                \
				FB("10.1.0.5", "") FB("10.1.0.6", "        admin: disabled\n")     \
					FB("10.1.0.7", "        weight: 2\n")                      \
						FV("fd00::22", 80, "    mode: ipip\n")             \
							FB("fd00:1::1", "") FB("fd00:1::2", "")
/* The same, written in another order. */
#define FLEET_END_REORDERED                                                                        \
	"deleted_vip_grace: 0s\nvips:\n" FV("fd00::22", 80, "    mode: ipip\n")                    \
		FB("fd00:1::2", "") FB("fd00:1::1", "") FV("10.0.0.21", 443, "    mode: ipip\n")   \
			FB("10.1.0.7", "        weight: 2\n")                                      \
				FB("10.1.0.6", "        admin: disabled\n") FB("10.1.0.5", "")     \
					FV("10.0.0.20", 80, "") FB("10.1.0.4", "")                 \
						FB("10.1.0.3", "        admin: drain\n")           \
							FB("10.1.0.2", "        weight: 3\n")      \
								FB("10.1.0.1", "")
/* On the way: extras that take ids, other weights and states. */
#define FLEET_CHURN_1                                                                              \
	"deleted_vip_grace: 0s\nvips:\n" FV("10.0.0.23", 80, "") FB("10.9.0.1", "")                \
		FB("10.9.0.2", "") FV("10.0.0.21", 443, "    mode: ipip\n") FB("10.9.0.3", "")     \
			FB("10.1.0.7", "") FB("10.1.0.6", "") FV("10.0.0.20", 80, "")              \
				FB("10.1.0.4", "") FB("10.9.0.4", "") FB("10.1.0.3", "")
#define FLEET_CHURN_2                                                                              \
	"deleted_vip_grace: 0s\nvips:\n" FV("10.0.0.20", 80, "") FB("10.1.0.3", "")                \
		FB("10.9.0.4", "        admin: drain\n") FB("10.1.0.1", "") FB("10.1.0.2", "")     \
			FV("fd00::22", 80, "") FB("fd00:1::9", "") FB("fd00:1::1", "")             \
				FV("10.0.0.21", 443, "    mode: ipip\n")                           \
					FB("10.1.0.5", "        weight: 9\n") FB("10.1.0.7", "")

/* Every frame XDP sends for FLEET_FLOWS new TCP flows to each VIP (all
 * XDP_TX: no flow may find no backend), one after the other in out. */
static int fleet_send(__u8 *out, size_t each)
{
	static const struct {
		const char *vip, *client_fmt;
		__u16 port;
	} vips[] = {{"10.0.0.20", "192.0.2.%d", 80},
		    {"10.0.0.21", "198.18.%d.7", 443},
		    {"fd00::22", "2001:db8:c::%x", 80}};

	for (size_t v = 0; v < sizeof(vips) / sizeof(vips[0]); v++) {
		for (int i = 0; i < FLEET_FLOWS; i++) {
			__u8 *o = out + (v * FLEET_FLOWS + (size_t)i) * each;
			size_t len = 0;
			char client[64];
			struct pb p;
			int six = strchr(vips[v].vip, ':') != NULL;

			snprintf(client, sizeof(client), vips[v].client_fmt, 1 + i % 200);
			pb_init(&p);
			pb_eth(&p, MAC_LB, MAC_ROUTER, 0, six ? 0x86dd : 0x0800);
			if (six)
				pb_ip6(&p, client, vips[v].vip, 6, 61, 0, 0);
			else
				pb_ip4(&p, client, vips[v].vip, 6, 61, 0, 0x4000, 0);
			pb_tcp(&p, (__u16)(20000 + i * 13), vips[v].port, 1000, 0, 0x02, 65535);
			pb_finish(&p);
			memset(o, 0, each);
			if (env_run(E.prog_fd, p.buf, p.len, o, &len) != XDP_TX || len > each) {
				harness_fail(__FILE__, __LINE__, "flow %d to %s: not forwarded", i,
					     vips[v].vip);
				return -1;
			}
		}
	}
	return 0;
}

/* The ids a view gave its VIPs and backends, by address: 1 if any differs. */
static int other_ids(const struct xlb_sync *a, const struct xlb_sync *b)
{
	for (size_t i = 0; i < a->nvips; i++) {
		const struct xlb_sync_vip *x = &a->vips[i], *y = NULL;

		for (size_t j = 0; j < b->nvips; j++)
			if (!memcmp(&b->vips[j].cfg.addr, &x->cfg.addr, sizeof(x->cfg.addr)))
				y = &b->vips[j];
		if (!y || y->id != x->id)
			return 1;
		for (size_t k = 0; k < x->nbackends; k++)
			for (size_t l = 0; l < y->nbackends; l++)
				if (!memcmp(&x->backends[k].cfg.addr, &y->backends[l].cfg.addr,
					    sizeof(union xlb_addr)) &&
				    x->backends[k].id != y->backends[l].id)
					return 1;
	}
	return 0;
}

/*
 * Host A is given the end state at once; host B (fresh maps) reaches it
 * through churn, the id quarantine, a restart that adopts its pinned maps
 * and a file in another order. Every new flow to every VIP must leave both
 * as the same bytes: same backend, same encapsulation. Their ids differ
 * (checked), and nothing host-local enters the flow hash (xlb_hash.h).
 */
static int t_sync_fleet_hosts_send_flows_alike(void)
{
	const size_t each = 256, n = 3 * FLEET_FLOWS;
	__u8 *a = calloc(n, each), *b = calloc(n, each);
	struct xlb_sync *s1 = new_sync(), *s2 = NULL;
	struct xlb_err err = {};
	int rc = -1, diff = -1;

	if (!a || !b || !s1)
		goto out;
	s1->seed = ENV_SEED;
	if (do_apply(s1, FLEET_END, 0, &err) || fleet_send(a, each))
		goto fail;
	/* host B: a fresh data plane */
	env_close();
	if (env_open(0))
		goto fail;
	s2 = new_sync();
	if (!s2)
		goto out;
	s2->seed = ENV_SEED;
	if (do_apply(s2, FLEET_CHURN_1, 0, &err) || do_apply(s2, FLEET_CHURN_2, 100, &err) ||
	    do_apply(s2, "deleted_vip_grace: 0s\nvips: []\n", 200, &err) ||
	    do_apply(s2, FLEET_CHURN_1, 3000, &err) || do_apply(s2, FLEET_END, 3100, &err))
		goto fail;
	xlb_sync_free(s2);
	s2 = new_sync(); /* restarted: adopts what is pinned */
	if (!s2 || adopt(s2)) {
		harness_fail(__FILE__, __LINE__, "couldn't adopt the maps");
		goto out;
	}
	s2->seed = ENV_SEED;
	if (do_apply(s2, FLEET_END_REORDERED, 5000, &err) || fleet_send(b, each))
		goto fail;
	for (size_t i = 0; i < n && diff < 0; i++)
		if (memcmp(a + i * each, b + i * each, each))
			diff = (int)i;
	if (diff >= 0) {
		harness_fail(__FILE__, __LINE__, "flow %d of VIP %d left the hosts differently",
			     diff % FLEET_FLOWS, diff / FLEET_FLOWS);
		harness_hexdiff(b + (size_t)diff * each, 80, a + (size_t)diff * each, 80);
		goto out;
	}
	if (!other_ids(s1, s2)) {
		harness_fail(__FILE__, __LINE__,
			     "host B ended on host A's ids: nothing was tested");
		goto out;
	}
	rc = 0;
	goto out;
fail:
	harness_fail(__FILE__, __LINE__, "%s", err.msg[0] ? err.msg : "setting up failed");
out:
	xlb_sync_free(s1);
	xlb_sync_free(s2);
	free(a);
	free(b);
	return rc;
}

/* ---- stateless VIPs (issue #14) on the real maps ------------------------ */

#define SV(a, more)                                                                                \
	"  - address: 10.0.0." #a "\n    port: 80\n    protocol: tcp\n    table_size: 251\n"       \
	"    mode: ipip\n    flow_state: stateless\n" more "    backends:\n"

/* The VIP entry with this address's last octet, and its table as
 * xlb_dp_table_get() reads it back; -errno. */
static int sl_table(__u8 octet, struct xlb_vip_val *val, __u32 *table)
{
	struct xlb_vip_key k = {.port = htons(80), .proto = IPPROTO_TCP};
	int fd = map_fd("vips"), err;

	if (fd < 0)
		return fd;
	xlb_addr_parse("10.0.0.0", &k.addr);
	k.addr.b[15] = octet;
	err = bpf_map_lookup_elem(fd, &k, val) ? -errno : 0;
	close(fd);
	return err ?: xlb_dp_table_get(E.dp, val->vip_id, val->table_size, table);
}

/*
 * A stateless VIP's table holds {cur, prev} pairs, written and read back
 * in that layout; adding a backend gives the moved slots their previous
 * hop; every failed write of that apply, of a restarted engine's, and of
 * a flow_state change (a new VIP id) leaves the maps byte-identical; a
 * restarted engine adopts the hops and writes nothing for the same config.
 */
static int t_sync_stateless_tables_roll_back_and_adopt(void)
{
	struct xlb_sync *s = new_sync(), *s2 = NULL;
	__u32 before[251], after[251];
	struct xlb_vip_val val = {}, val2 = {};
	struct xlb_err err = {};
	unsigned long writes;
	int rc = -1, moved = 0, n;

	if (!s)
		return -1;
	if (do_apply(s, "vips:\n" SV(20, "") B(1) B(2) B(3) V(21, "") B(4), 0, &err) ||
	    sl_table(20, &val, before)) {
		harness_fail(__FILE__, __LINE__, "setting up: %s", err.msg);
		goto out;
	}
	n = fail_every_write(s, "vips:\n" SV(20, "") B(1) B(2) B(3) B(5) V(21, "") B(4), 1000);
	if (n < 0 || sl_table(20, &val2, after))
		goto out;
	for (int i = 0; i < 251; i++) {
		if ((after[i] & 0xffff) == (before[i] & 0xffff)) {
			if (after[i] >> 16) {
				harness_fail(__FILE__, __LINE__, "slot %d: a hop but not moved", i);
				goto out;
			}
			continue;
		}
		moved++;
		if (after[i] >> 16 != (before[i] & 0xffff)) {
			harness_fail(__FILE__, __LINE__, "slot %d: hop %u, had %u", i,
				     after[i] >> 16, before[i] & 0xffff);
			goto out;
		}
	}
	if (val2.flow_state != XLB_FLOW_STATELESS || moved < 40) {
		harness_fail(__FILE__, __LINE__, "flow_state %u, %d slots moved", val2.flow_state,
			     moved);
		goto out;
	}
	s2 = new_sync();
	if (!s2 || adopt(s2)) {
		harness_fail(__FILE__, __LINE__, "couldn't adopt the maps");
		goto out;
	}
	writes = xlb_dp_writes(E.dp);
	if (do_apply(s2, "vips:\n" SV(20, "") B(1) B(2) B(3) B(5) V(21, "") B(4), 2000, &err) ||
	    xlb_dp_writes(E.dp) != writes || sl_table(20, &val2, before) ||
	    memcmp(before, after, sizeof(after))) {
		harness_fail(__FILE__, __LINE__, "adopted, the same config: %lu writes (%s)",
			     xlb_dp_writes(E.dp) - writes, err.msg);
		goto out;
	}
	/* both VIPs change flow_state: 21 at once (a new id, the other layout);
	 * 20 still has previous hops, so it stays stateless, same id, until
	 * they end (handover.h "Switching"), then it switches */
	n = fail_every_write(
		s2, "vips:\n" V(20, "    mode: ipip\n") B(1) B(2) B(3) B(5) SV(21, "") B(4), 3000);
	if (n < 0 || sl_table(20, &val2, after) || val2.flow_state != XLB_FLOW_STATELESS ||
	    val2.vip_id != val.vip_id || sl_table(21, &val2, after) ||
	    val2.flow_state != XLB_FLOW_STATELESS) {
		harness_fail(__FILE__, __LINE__, "after the flow_state changes");
		goto out;
	}
	/* the first apply after the handover ends the hops, the next switches */
	if (do_apply(s2, "vips:\n" V(20, "    mode: ipip\n") B(1) B(2) B(3) B(5) SV(21, "") B(4),
		     3000 + 11 * 60 * 1000, &err) ||
	    do_apply(s2, "vips:\n" V(20, "    mode: ipip\n") B(1) B(2) B(3) B(5) SV(21, "") B(4),
		     3200 + 11 * 60 * 1000, &err) ||
	    sl_table(20, &val2, after) || val2.flow_state != XLB_FLOW_TABLE ||
	    val2.vip_id == val.vip_id) {
		harness_fail(__FILE__, __LINE__, "the hops ended: VIP 20 flow_state %u id %u (%s)",
			     val2.flow_state, val2.vip_id, err.msg);
		goto out;
	}
	rc = 0;
out:
	xlb_sync_free(s);
	xlb_sync_free(s2);
	return rc;
}

const struct harness_case sync_dp_cases[] = {
	{"sync_stateless_tables_roll_back_and_adopt", t_sync_stateless_tables_roll_back_and_adopt},
	{"sync_rollback_leaves_maps_byte_identical", t_sync_rollback_leaves_maps_byte_identical},
	{"sync_fleet_hosts_send_flows_alike", t_sync_fleet_hosts_send_flows_alike},
};
const size_t sync_dp_ncases = sizeof(sync_dp_cases) / sizeof(sync_dp_cases[0]);
