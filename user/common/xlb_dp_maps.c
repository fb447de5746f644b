// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Map writes and reads: VIPs, Maglev tables, backends, and the test-only
 * fault hook every write that allocates asks first. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xlb_dp.h"
#include "xlb_dp_int.h"
#include "xlb.skel.h"

/*
 * Every map write that can fail for want of memory (an update, a new inner
 * table) asks here first, so tests can make the Nth one fail. Deletes and
 * the writes that undo a failed step do not ask: they allocate nothing.
 */
static int write_ok(struct xlb_dp *dp)
{
	if (++dp->writes == dp->fail_at) {
		dp->fail_at = 0;
		errno = ENOMEM;
		return -ENOMEM;
	}
	return 0;
}

void xlb_dp_fail_write(struct xlb_dp *dp, unsigned long nth)
{
	dp->fail_at = nth ? dp->writes + nth : 0;
}

unsigned long xlb_dp_writes(const struct xlb_dp *dp)
{
	return dp->writes;
}

/* Values of a table of size slots in a layout (stateless or not). */
static __u32 table_values(__u32 size, int stateless)
{
	return stateless ? XLB_SL_TABLE_VALUES(size) : XLB_TABLE_VALUES(size);
}

/* A new inner table map holding `table` (NULL: every slot "no backend"),
 * in the layout of a stateless VIP (xlb_sl_slots) or of a flow-table one. */
static int table_fd(struct xlb_dp *dp, const __u32 *table, __u32 size, int stateless)
{
	LIBBPF_OPTS(bpf_map_create_opts, mopts, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	size_t bytes = (size_t)table_values(size, stateless) * sizeof(struct xlb_table_slots);
	size_t mapped = (bytes + getpagesize() - 1) & ~((size_t)getpagesize() - 1);
	int fd, err;
	void *mem;

	if (!size || size > XLB_MAX_TABLE_SIZE)
		return -EINVAL;
	for (__u32 i = 0; table && !stateless && i < size; i++)
		if (table[i] >= XLB_MAX_BACKENDS)
			return -EINVAL;
	if (write_ok(dp))
		return -ENOMEM;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_table", sizeof(__u32),
			    sizeof(struct xlb_table_slots), table_values(size, stateless), &mopts);
	if (fd < 0)
		return -errno;
	mem = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		err = -errno;
		close(fd);
		return err;
	}
	/* Slots back to back: the mapping is a plain __u16 array, or one of
	 * {cur, prev}. A fresh array is zero-filled: NULL table = every slot
	 * "no backend" (and no previous hop). */
	for (__u32 i = 0; table && stateless && i < size; i++)
		((struct xlb_sl_slot *)mem)[i] = (struct xlb_sl_slot){
			.cur = (__u16)(table[i] & 0xffff), .prev = (__u16)(table[i] >> 16)};
	for (__u32 i = 0; table && !stateless && i < size; i++)
		((__u16 *)mem)[i] = (__u16)table[i];
	munmap(mem, mapped);
	return fd;
}

static int table_swap(struct xlb_dp *dp, __u32 vip_id, const __u32 *table, __u32 size,
		      int stateless)
{
	int fd, err;

	if (vip_id >= XLB_MAX_VIPS)
		return -EINVAL;
	fd = table_fd(dp, table, size, stateless);
	if (fd < 0)
		return fd;
	err = write_ok(dp)
		      ?: neg_errno(bpf_map_update_elem(bpf_map__fd(dp->skel->maps.maglev_tables),
						       &vip_id, &fd, BPF_ANY));
	close(fd);
	return err;
}

int xlb_dp_table_swap(struct xlb_dp *dp, __u32 vip_id, const __u32 *table, __u32 size)
{
	return table_swap(dp, vip_id, table, size, 0);
}

int xlb_dp_tables_swap(struct xlb_dp *dp, size_t n, const __u32 *vip_ids,
		       const __u32 *const *tables, const __u32 *sizes, const __u8 *flow_states)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bopts, .elem_flags = BPF_ANY);
	int *fds = calloc(n ? n : 1, sizeof(*fds)), err = 0;
	__u32 count = (__u32)n;
	size_t made = 0;

	if (!fds)
		return -ENOMEM;
	for (; made < n; made++) {
		if (vip_ids[made] >= XLB_MAX_VIPS) {
			err = -EINVAL;
			break;
		}
		fds[made] = table_fd(dp, tables[made], sizes[made],
				     flow_states && flow_states[made] == XLB_FLOW_STATELESS);
		if (fds[made] < 0) {
			err = fds[made];
			break;
		}
	}
	/* One update for all: the kernel waits for running programs (an RCU
	 * grace period, 8-16 ms here) once per call, not once per table. */
	if (!err && n)
		err = write_ok(dp)
			      ?: neg_errno(bpf_map_update_batch(
					 bpf_map__fd(dp->skel->maps.maglev_tables), vip_ids, fds,
					 &count, &bopts));
	for (size_t i = 0; i < made; i++)
		close(fds[i]);
	free(fds);
	return err;
}

static int vip_addr_ref(struct xlb_dp *dp, const union xlb_addr *a, int delta)
{
	int fd = bpf_map__fd(dp->skel->maps.vip_addrs);
	__u32 n = 0;

	if (bpf_map_lookup_elem(fd, a, &n) && errno != ENOENT)
		return -errno;
	n += delta;
	if (!n)
		return neg_errno(bpf_map_delete_elem(fd, a));
	return write_ok(dp) ?: neg_errno(bpf_map_update_elem(fd, a, &n, BPF_ANY));
}

static int vip_valid(const struct xlb_vip_key *key, const struct xlb_vip_val *val)
{
	if (key->pad || (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP))
		return 0;
	if (val->vip_id >= XLB_MAX_VIPS || !val->table_size || val->table_size > XLB_MAX_TABLE_SIZE)
		return 0;
	return val->mode <= XLB_MODE_IPIP && val->hash <= XLB_HASH_SRC &&
	       val->on_empty <= XLB_EMPTY_PASS && val->flow_state <= XLB_FLOW_STATELESS;
}

/*
 * Every write to "vips" goes through these two: after it, the program's
 * per-CPU VIP cache no longer uses what it filed under the old generation
 * (bpf/lib/vip_cache.h). Sequentially consistent, so the map write is
 * visible before the new generation. errno is the map call's.
 */
static void vips_changed(struct xlb_dp *dp)
{
	__atomic_add_fetch(&dp->skel->bss->xlb_vip_gen, 1, __ATOMIC_SEQ_CST);
}

static int vips_update(struct xlb_dp *dp, int fd, const struct xlb_vip_key *key,
		       const struct xlb_vip_val *val, __u64 flags)
{
	int ret = bpf_map_update_elem(fd, key, val, flags);

	vips_changed(dp);
	return ret;
}

static int vips_delete(struct xlb_dp *dp, int fd, const struct xlb_vip_key *key)
{
	int ret = bpf_map_delete_elem(fd, key);

	vips_changed(dp);
	return ret;
}

/*
 * All or nothing: a step that fails takes back the steps before it, so a
 * failed call leaves the VIP as it was (the undo writes allocate nothing).
 * An existing VIP whose table swap fails after its entry changed gets the
 * old entry back; its old table is gone then, and the caller puts it back
 * (xlb_sync rolls the whole apply back).
 */
int xlb_dp_vip_set(struct xlb_dp *dp, const struct xlb_vip_key *key, const struct xlb_vip_val *val,
		   const __u32 *table)
{
	int fd = bpf_map__fd(dp->skel->maps.vips), tfd = bpf_map__fd(dp->skel->maps.maglev_tables);
	int stateless = val->flow_state == XLB_FLOW_STATELESS;
	struct xlb_vip_val old;
	int err, exists;

	if (!vip_valid(key, val))
		return -EINVAL;
	exists = !bpf_map_lookup_elem(fd, key, &old);
	if (!exists || old.vip_id != val->vip_id || val->table_size >= old.table_size) {
		/* Table first: the VIP never points at a missing or smaller table. */
		err = table_swap(dp, val->vip_id, table, val->table_size, stateless);
		if (!err)
			err = write_ok(dp) ?: neg_errno(vips_update(dp, fd, key, val, BPF_ANY));
	} else {
		/* Shrinking: the smaller size first, then the smaller table. */
		err = write_ok(dp) ?: neg_errno(vips_update(dp, fd, key, val, BPF_ANY));
		if (!err) {
			err = table_swap(dp, val->vip_id, table, val->table_size, stateless);
			if (err)
				vips_update(dp, fd, key, &old, BPF_EXIST);
		}
	}
	if (!err && !exists) {
		err = vip_addr_ref(dp, &key->addr, 1);
		if (err)
			vips_delete(dp, fd, key);
	}
	if (err && (!exists || old.vip_id != val->vip_id))
		bpf_map_delete_elem(tfd, &val->vip_id); /* the table under the new id */
	if (err)
		return err;
	if (exists && old.vip_id != val->vip_id)
		bpf_map_delete_elem(tfd, &old.vip_id);
	return 0;
}

int xlb_dp_vip_del(struct xlb_dp *dp, const struct xlb_vip_key *key)
{
	int fd = bpf_map__fd(dp->skel->maps.vips);
	struct xlb_vip_val old;
	int err;

	if (bpf_map_lookup_elem(fd, key, &old))
		return -errno;
	if (vips_delete(dp, fd, key))
		return -errno;
	err = vip_addr_ref(dp, &key->addr, -1);
	if (err) { /* all or nothing: the entry comes back */
		vips_update(dp, fd, key, &old, BPF_NOEXIST);
		return err;
	}
	bpf_map_delete_elem(bpf_map__fd(dp->skel->maps.maglev_tables), &old.vip_id);
	return 0;
}

int xlb_dp_backend_set(struct xlb_dp *dp, __u32 id, const struct xlb_backend *b)
{
	static const struct xlb_backend unset; /* what an id never set holds */

	if (id == XLB_BACKEND_NONE || id >= XLB_MAX_BACKENDS || b->state > XLB_BE_DRAINING ||
	    (b->family != XLB_AF_INET && b->family != XLB_AF_INET6 &&
	     memcmp(b, &unset, sizeof(unset))) ||
	    b->vip_id >= XLB_MAX_VIPS || b->mode > XLB_MODE_IPIP ||
	    b->syn_retry > XLB_SYN_RETRY_SAME)
		return -EINVAL;
	return write_ok(dp)
		       ?: neg_errno(bpf_map_update_elem(bpf_map__fd(dp->skel->maps.backends), &id,
							b, BPF_ANY));
}

int xlb_dp_for_each_vip(struct xlb_dp *dp,
			int (*cb)(const struct xlb_vip_key *k, const struct xlb_vip_val *v,
				  void *ctx),
			void *ctx)
{
	int fd = bpf_map__fd(dp->skel->maps.vips), err;
	struct xlb_vip_key k, next;
	struct xlb_vip_val v;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue; /* deleted meanwhile */
		err = cb(&k, &v, ctx);
		if (err)
			return err;
	}
	return errno == ENOENT ? 0 : -errno;
}

int xlb_dp_for_each_backend(struct xlb_dp *dp,
			    int (*cb)(__u32 id, const struct xlb_backend *b, void *ctx), void *ctx)
{
	enum {
		BATCH = 4096
	};
	int fd = bpf_map__fd(dp->skel->maps.backends), err = 0;
	struct xlb_backend *vals = calloc(BATCH, sizeof(*vals));
	__u32 *keys = calloc(BATCH, sizeof(*keys)), in = 0, out = 0;
	void *in_batch = NULL;

	if (!vals || !keys) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 count = BATCH;
		int ret = bpf_map_lookup_batch(fd, in_batch, &out, keys, vals, &count, NULL);

		if (ret && errno != ENOENT) {
			err = -errno;
			break;
		}
		for (__u32 i = 0; i < count && !err; i++)
			if (vals[i].gen) /* never set: all zero */
				err = cb(keys[i], &vals[i], ctx);
		if (ret || err)
			break; /* ENOENT: that was the last batch */
		in = out;
		in_batch = &in;
	}
out:
	free(vals);
	free(keys);
	return err;
}

int xlb_dp_backend_get(struct xlb_dp *dp, __u32 id, struct xlb_backend *b)
{
	return neg_errno(bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.backends), &id, b));
}

int xlb_dp_table_get(struct xlb_dp *dp, __u32 vip_id, __u32 size, __u32 *table)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), map_id;
	int fd, err = 0, stateless;
	size_t bytes, mapped;
	void *mem;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.maglev_tables), &vip_id, &map_id))
		return -errno;
	fd = bpf_map_get_fd_by_id(map_id);
	if (fd < 0)
		return -errno;
	/* The layout shows in the length: a stateless table has two slots a
	 * value, a flow-table VIP's four (sizes are primes >= 251). */
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    (info.max_entries != XLB_TABLE_VALUES(size) &&
	     info.max_entries != XLB_SL_TABLE_VALUES(size))) {
		close(fd);
		return -EINVAL; /* not a table of this size */
	}
	stateless = info.max_entries == XLB_SL_TABLE_VALUES(size);
	bytes = (size_t)info.max_entries * sizeof(struct xlb_table_slots);
	mapped = (bytes + getpagesize() - 1) & ~((size_t)getpagesize() - 1);
	mem = mmap(NULL, mapped, PROT_READ, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		err = -errno;
	} else {
		for (__u32 i = 0; i < size; i++)
			table[i] =
				stateless ? ((const struct xlb_sl_slot *)mem)[i].cur |
						    (__u32)((const struct xlb_sl_slot *)mem)[i].prev
							    << 16
					  : ((const __u16 *)mem)[i];
		munmap(mem, mapped);
	}
	close(fd);
	return err;
}
