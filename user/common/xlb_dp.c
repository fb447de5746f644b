// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "xlb_dp.h"
#include "xlb.skel.h"

struct xlb_dp {
	struct xlb *skel;
	int ncpus;
};

int xlb_dp_open(const struct xlb_dp_opts *opts, struct xlb_dp **out)
{
	struct xlb_dp_opts o = opts ? *opts : (struct xlb_dp_opts){};
	struct xlb_dp *dp;
	int err;

	if (o.encap_vary_bits > 16)
		return -EINVAL;
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus < 0) {
		err = dp->ncpus;
		goto cleanup;
	}
	dp->skel = xlb__open();
	if (!dp->skel) {
		err = -errno;
		pr_warn("couldn't open BPF object 'xlb': %s\n", strerror(-err));
		goto cleanup;
	}
	dp->skel->rodata->udp_idle_timeout_ns =
		o.udp_idle_timeout_ns ? o.udp_idle_timeout_ns : XLB_DEFAULT_UDP_IDLE_NS;
	dp->skel->rodata->encap_src4 = o.encap_src4;
	memcpy((void *)&dp->skel->rodata->encap_src6, &o.encap_src6, sizeof(o.encap_src6));
	dp->skel->rodata->encap_vary_mask = (1u << o.encap_vary_bits) - 1;
	err = bpf_map__set_max_entries(dp->skel->maps.flows,
				       o.flow_entries ? o.flow_entries : XLB_DEFAULT_FLOW_ENTRIES);
	if (err)
		goto cleanup;
	err = xlb__load(dp->skel);
	if (err) {
		pr_warn("couldn't load BPF program 'xlb': %s\n", strerror(-err));
		goto cleanup;
	}
	*out = dp;
	return 0;
cleanup:
	xlb_dp_close(dp);
	return err;
}

void xlb_dp_close(struct xlb_dp *dp)
{
	if (!dp)
		return;
	xlb__destroy(dp->skel);
	free(dp);
}

int xlb_dp_prog_fd(const struct xlb_dp *dp)
{
	return bpf_program__fd(dp->skel->progs.xlb_xdp);
}

int xlb_dp_flows_fd(const struct xlb_dp *dp)
{
	return bpf_map__fd(dp->skel->maps.flows);
}

static int neg_errno(int ret)
{
	return ret < 0 ? -errno : 0;
}

int xlb_dp_table_swap(struct xlb_dp *dp, __u32 vip_id, const __u32 *table, __u32 size)
{
	LIBBPF_OPTS(bpf_map_create_opts, mopts, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	size_t bytes = (size_t)size * sizeof(__u32);
	size_t mapped = (bytes + getpagesize() - 1) & ~((size_t)getpagesize() - 1);
	int fd, err;
	void *mem;

	if (vip_id >= XLB_MAX_VIPS || !size || size > XLB_MAX_TABLE_SIZE)
		return -EINVAL;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_table", sizeof(__u32),
			    sizeof(struct xlb_table_pair), XLB_TABLE_VALUES(size), &mopts);
	if (fd < 0)
		return -errno;
	mem = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	/* Pairs of slots back to back: the mapping is a plain __u32 array. A
	 * fresh array is zero-filled: NULL table = every slot "no backend". */
	if (table)
		memcpy(mem, table, bytes);
	munmap(mem, mapped);
	err = neg_errno(bpf_map_update_elem(bpf_map__fd(dp->skel->maps.maglev_tables), &vip_id,
					    &fd, BPF_ANY));
out:
	close(fd);
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
	return neg_errno(bpf_map_update_elem(fd, a, &n, BPF_ANY));
}

static int vip_valid(const struct xlb_vip_key *key, const struct xlb_vip_val *val)
{
	if (key->pad || (key->proto != 6 && key->proto != 17))
		return 0;
	if (val->vip_id >= XLB_MAX_VIPS || !val->table_size ||
	    val->table_size > XLB_MAX_TABLE_SIZE)
		return 0;
	return val->mode <= XLB_MODE_IPIP && val->hash <= XLB_HASH_SRC &&
	       val->on_empty <= XLB_EMPTY_PASS;
}

int xlb_dp_vip_set(struct xlb_dp *dp, const struct xlb_vip_key *key,
		   const struct xlb_vip_val *val, const __u32 *table)
{
	int fd = bpf_map__fd(dp->skel->maps.vips);
	struct xlb_vip_val old;
	int err, exists;

	if (!vip_valid(key, val))
		return -EINVAL;
	exists = !bpf_map_lookup_elem(fd, key, &old);
	if (!exists || old.vip_id != val->vip_id || val->table_size >= old.table_size) {
		/* Table first: the VIP never points at a missing or smaller table. */
		err = xlb_dp_table_swap(dp, val->vip_id, table, val->table_size);
		if (!err)
			err = neg_errno(bpf_map_update_elem(fd, key, val, BPF_ANY));
	} else {
		/* Shrinking: the smaller size first, then the smaller table. */
		err = neg_errno(bpf_map_update_elem(fd, key, val, BPF_ANY));
		if (!err)
			err = xlb_dp_table_swap(dp, val->vip_id, table, val->table_size);
	}
	if (err)
		return err;
	if (!exists)
		return vip_addr_ref(dp, &key->addr, 1);
	if (old.vip_id != val->vip_id)
		bpf_map_delete_elem(bpf_map__fd(dp->skel->maps.maglev_tables), &old.vip_id);
	return 0;
}

int xlb_dp_vip_del(struct xlb_dp *dp, const struct xlb_vip_key *key)
{
	int fd = bpf_map__fd(dp->skel->maps.vips);
	struct xlb_vip_val old;
	int err;

	if (bpf_map_lookup_elem(fd, key, &old))
		return -errno;
	if (bpf_map_delete_elem(fd, key))
		return -errno;
	err = vip_addr_ref(dp, &key->addr, -1);
	bpf_map_delete_elem(bpf_map__fd(dp->skel->maps.maglev_tables), &old.vip_id);
	return err;
}

int xlb_dp_backend_set(struct xlb_dp *dp, __u32 id, const struct xlb_backend *b)
{
	if (id == XLB_BACKEND_NONE || id >= XLB_MAX_BACKENDS)
		return -EINVAL;
	return neg_errno(bpf_map_update_elem(bpf_map__fd(dp->skel->maps.backends), &id, b,
					     BPF_ANY));
}

int xlb_dp_backend_get(struct xlb_dp *dp, __u32 id, struct xlb_backend *b)
{
	return neg_errno(bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.backends), &id, b));
}

/* Sum a per-CPU value of n __u64 counters. */
static int percpu_sum(struct xlb_dp *dp, int fd, __u32 key, __u64 *out, size_t n)
{
	__u64 *vals = calloc((size_t)dp->ncpus * n, sizeof(__u64));
	int err;

	if (!vals)
		return -ENOMEM;
	err = neg_errno(bpf_map_lookup_elem(fd, &key, vals));
	memset(out, 0, n * sizeof(__u64));
	for (int c = 0; !err && c < dp->ncpus; c++)
		for (size_t i = 0; i < n; i++)
			out[i] += vals[c * n + i];
	free(vals);
	return err;
}

int xlb_dp_vip_stats(struct xlb_dp *dp, __u32 vip_id, struct xlb_vip_stats *out)
{
	return percpu_sum(dp, bpf_map__fd(dp->skel->maps.vip_stats), vip_id, (__u64 *)out,
			  sizeof(*out) / sizeof(__u64));
}

int xlb_dp_backend_stats(struct xlb_dp *dp, __u32 id, struct xlb_backend_stats *out)
{
	return percpu_sum(dp, bpf_map__fd(dp->skel->maps.backend_stats), id, (__u64 *)out,
			  sizeof(*out) / sizeof(__u64));
}

int xlb_dp_reason_count(struct xlb_dp *dp, __u32 reason, __u64 *out)
{
	return percpu_sum(dp, bpf_map__fd(dp->skel->maps.reason_stats), reason, out, 1);
}

int xlb_dp_flow_get(struct xlb_dp *dp, const struct xlb_flow_key *k, struct xlb_flow_val *v)
{
	return neg_errno(bpf_map_lookup_elem(xlb_dp_flows_fd(dp), k, v));
}
