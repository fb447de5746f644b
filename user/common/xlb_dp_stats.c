// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What the data plane counts: per-CPU counters, flows, kernel memory. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "procfs.h"
#include "xlb_dp.h"
#include "xlb_dp_int.h"
#include "xlb.skel.h"

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

int xlb_dp_backend_syn_stats(struct xlb_dp *dp, __u32 id, struct xlb_backend_syn_stats *out)
{
	return percpu_sum(dp, bpf_map__fd(dp->skel->maps.backend_syn_stats), id, (__u64 *)out,
			  sizeof(*out) / sizeof(__u64));
}

int xlb_dp_backend_syn_stats_all(struct xlb_dp *dp, __u32 n, struct xlb_backend_syn_stats *out)
{
	int fd = bpf_map__fd(dp->skel->maps.backend_syn_stats);
	const size_t per = sizeof(*out) / sizeof(__u64);
	__u32 *keys = calloc(n ? n : 1, sizeof(*keys)), batch = 0, done = 0;
	__u64 *vals = calloc((size_t)(n ? n : 1) * dp->ncpus * per, sizeof(__u64));
	int err = keys && vals ? 0 : -ENOMEM;

	memset(out, 0, n * sizeof(*out));
	/* One syscall for many ids (an array map hands keys out in order). */
	while (!err && done < n) {
		__u32 count = n - done;
		LIBBPF_OPTS(bpf_map_batch_opts, o);

		err = neg_errno(bpf_map_lookup_batch(fd, done ? &batch : NULL, &batch, keys + done,
						     vals + (size_t)done * dp->ncpus * per, &count,
						     &o));
		done += count;
		if (err == -ENOENT) /* the map's end */
			err = 0;
		if (!count)
			break;
	}
	for (__u32 i = 0; !err && i < done; i++) {
		__u64 *o = (__u64 *)&out[keys[i] < n ? keys[i] : i];

		for (int c = 0; c < dp->ncpus; c++)
			for (size_t k = 0; k < per; k++)
				o[k] += vals[((size_t)i * dp->ncpus + c) * per + k];
	}
	free(keys);
	free(vals);
	return err;
}

int xlb_dp_reason_count(struct xlb_dp *dp, __u32 reason, __u64 *out)
{
	return percpu_sum(dp, bpf_map__fd(dp->skel->maps.reason_stats), reason, out, 1);
}

/* The kernel's own accounting of a map (what bpftool shows as memlock). */
static __u64 fd_memlock(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return xlb_proc_value(path, "memlock");
}

int xlb_dp_memory(struct xlb_dp *dp, struct xlb_dp_memory *m)
{
	int outer = bpf_map__fd(dp->skel->maps.maglev_tables);
	struct bpf_map *map;

	memset(m, 0, sizeof(*m));
	m->flows = fd_memlock(xlb_dp_flows_fd(dp));
	for (map = bpf_object__next_map(dp->skel->obj, NULL); map;
	     map = bpf_object__next_map(dp->skel->obj, map))
		m->maps += fd_memlock(bpf_map__fd(map));
	for (__u32 k = 0; k < XLB_MAX_VIPS; k++) {
		__u32 id;
		int fd;

		if (bpf_map_lookup_elem(outer, &k, &id))
			continue;
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			continue;
		m->tables += fd_memlock(fd);
		m->ntables++;
		close(fd);
	}
	return 0;
}

__u32 xlb_dp_flow_entries(const struct xlb_dp *dp)
{
	return dp->flow_buckets * XLB_FLOW_WAYS;
}

/* Packets of every VIP id, deleted ones included (their counters stay in the
 * map, so the sum never goes down): one batch read of the per-CPU array. */
static int all_vip_packets(struct xlb_dp *dp, __u64 *out)
{
	size_t nv = sizeof(struct xlb_vip_stats) / sizeof(__u64), per_key = (size_t)dp->ncpus * nv;
	__u32 *keys = calloc(XLB_MAX_VIPS, sizeof(*keys)), out_batch = 0, count = XLB_MAX_VIPS;
	__u64 *vals = calloc((size_t)XLB_MAX_VIPS * per_key, sizeof(*vals));
	int err = 0;

	*out = 0;
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	/* an array map returns every key in one batch; -ENOENT marks the end */
	if (bpf_map_lookup_batch(bpf_map__fd(dp->skel->maps.vip_stats), NULL, &out_batch, keys,
				 vals, &count, NULL) &&
	    errno != ENOENT) {
		err = -errno;
		goto out;
	}
	for (__u32 k = 0; k < count; k++)
		for (int c = 0; c < dp->ncpus; c++)
			*out += vals[k * per_key + (size_t)c * nv +
				     offsetof(struct xlb_vip_stats, packets) / sizeof(__u64)];
out:
	free(keys);
	free(vals);
	return err;
}

int xlb_dp_flow_lookups(struct xlb_dp *dp, struct xlb_dp_flow_lookups *out)
{
	__u64 packets = 0, stateless = 0, taken;
	int err = all_vip_packets(dp, &packets)
			  ?: xlb_dp_reason_count(dp, XLB_R_FLOW_MISS, &out->misses)
			  ?: xlb_dp_reason_count(dp, XLB_R_FLOW_SYN, &out->syns)
			  ?: xlb_dp_reason_count(dp, XLB_R_FLOW_EVICTED, &out->evictions)
			  ?: xlb_dp_reason_count(dp, XLB_R_STATELESS, &stateless);

	if (err)
		return err;
	/* counters read one after another: clamp what a race could tip over;
	 * stateless VIPs' packets never look the flow table up (those a
	 * stateless VIP drops, e.g. with no backend, still count as hits) */
	taken = out->misses + out->syns + stateless;
	out->hits = packets > taken ? packets - taken : 0;
	return 0;
}

int xlb_dp_flow_get(struct xlb_dp *dp, const struct xlb_flow_key *k, struct xlb_flow_entry *e)
{
	__u32 h = xlb_hash_flow(k, &dp->seed), idx = xlb_hash_bucket(h, dp->flow_buckets);
	struct xlb_flow_bucket b;

	if (bpf_map_lookup_elem(xlb_dp_flows_fd(dp), &idx, &b))
		return -errno;
	for (int w = 0; w < XLB_FLOW_WAYS; w++) {
		if (b.tag[w] == (h | 1) && !memcmp(&b.way[w].key, k, sizeof(*k))) {
			*e = b.way[w];
			return 0;
		}
	}
	return -ENOENT;
}
