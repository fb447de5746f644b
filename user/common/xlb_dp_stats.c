// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What the data plane counts: per-CPU counters, flows, kernel memory. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
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

int xlb_dp_reason_count(struct xlb_dp *dp, __u32 reason, __u64 *out)
{
	return percpu_sum(dp, bpf_map__fd(dp->skel->maps.reason_stats), reason, out, 1);
}

/* Keys a batch read takes at most: bounds its buffer (BATCH_KEYS x CPUs x
 * value) whatever the host's CPU count. */
#define BATCH_KEYS 4096

/*
 * out[i * nv .. i * nv + nv) = key ids[i] of a per-CPU array of nv __u64
 * counters, summed over CPUs. The span of the ids is read with batch
 * lookups (BATCH_KEYS keys a syscall), not one lookup a key: a scrape of
 * 10,000 backends costs a handful of syscalls, not 20,000.
 */
static int percpu_sum_many(struct xlb_dp *dp, int fd, const __u32 *ids, size_t n, __u64 *out,
			   size_t nv)
{
	size_t per_key = (size_t)dp->ncpus * nv, batch;
	__u32 lo = UINT32_MAX, hi = 0, *keys = NULL;
	__u64 *vals = NULL;
	int err = 0;

	memset(out, 0, n * nv * sizeof(__u64));
	for (size_t i = 0; i < n; i++) {
		lo = ids[i] < lo ? ids[i] : lo;
		hi = ids[i] > hi ? ids[i] : hi;
	}
	if (!n)
		return 0;
	/* no bigger than the span: 100 VIPs' counters (outlier detection
	 * reads them every tick) need no buffer for 4,096 keys */
	batch = (size_t)(hi - lo) + 1 < BATCH_KEYS ? (size_t)(hi - lo) + 1 : BATCH_KEYS;
	keys = calloc(batch, sizeof(*keys));
	vals = calloc(batch * per_key, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	/* the batch token of an array is the last key read: the next batch
	 * starts after it (none: from key 0) */
	for (__u64 first = lo; !err && first <= hi;) {
		__u32 prev = (__u32)first - 1, next = 0;
		__u32 count = (__u32)(hi - first + 1 < batch ? hi - first + 1 : batch);

		if (bpf_map_lookup_batch(fd, first ? &prev : NULL, &next, keys, vals, &count,
					 NULL) &&
		    errno != ENOENT) {
			err = -errno;
			break;
		}
		if (!count) {
			err = -ENOENT; /* an id beyond the map */
			break;
		}
		/* the keys come back in order, first .. first + count - 1 */
		for (size_t i = 0; i < n; i++) {
			__u64 k = ids[i] - first;

			if (ids[i] < first || k >= count)
				continue;
			for (int c = 0; c < dp->ncpus; c++)
				for (size_t j = 0; j < nv; j++)
					out[i * nv + j] += vals[k * per_key + (size_t)c * nv + j];
		}
		first += count;
	}
out:
	free(keys);
	free(vals);
	return err;
}

int xlb_dp_vip_stats_many(struct xlb_dp *dp, const __u32 *ids, size_t n, struct xlb_vip_stats *out)
{
	return percpu_sum_many(dp, bpf_map__fd(dp->skel->maps.vip_stats), ids, n, (__u64 *)out,
			       sizeof(*out) / sizeof(__u64));
}

int xlb_dp_backend_stats_many(struct xlb_dp *dp, const __u32 *ids, size_t n,
			      struct xlb_backend_stats *out)
{
	return percpu_sum_many(dp, bpf_map__fd(dp->skel->maps.backend_stats), ids, n, (__u64 *)out,
			       sizeof(*out) / sizeof(__u64));
}

int xlb_dp_backend_syn_stats_many(struct xlb_dp *dp, const __u32 *ids, size_t n,
				  struct xlb_backend_syn_stats *out)
{
	return percpu_sum_many(dp, bpf_map__fd(dp->skel->maps.backend_syn_stats), ids, n,
			       (__u64 *)out, sizeof(*out) / sizeof(__u64));
}

int xlb_dp_reason_counts(struct xlb_dp *dp, __u64 out[XLB_REASON_SLOTS])
{
	__u32 ids[XLB_REASON_SLOTS];

	for (__u32 r = 0; r < XLB_REASON_SLOTS; r++)
		ids[r] = r;
	return percpu_sum_many(dp, bpf_map__fd(dp->skel->maps.reason_stats), ids, XLB_REASON_SLOTS,
			       out, 1);
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
