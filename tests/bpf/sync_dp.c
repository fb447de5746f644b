// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The reconciliation engine (sync.c) against the real data plane, with
 * fault injection (xlb_dp_fail_write): for every N, the Nth map write of a
 * multi-VIP apply fails; after each, every map the agent writes (vips,
 * vip_addrs, each VIP's Maglev table, backends) must be byte-identical to
 * before, the engine's view unchanged, and the apply must then work.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <bpf/bpf.h>

#include "config.h"
#include "env.h"
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

const struct harness_case sync_dp_cases[] = {
	{"sync_rollback_leaves_maps_byte_identical", t_sync_rollback_leaves_maps_byte_identical},
};
const size_t sync_dp_ncases = sizeof(sync_dp_cases) / sizeof(sync_dp_cases[0]);
