// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Counters read many at once (xlb_dp_*_many, a scrape's batch reads) give
 * what one read per id gives: per-CPU values summed, across the batches'
 * boundaries, ids in any order, repeated or far apart.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "env.h"
#include "stats_dp.h"
#include "xlb_dp.h"

/* The loaded program's map called name (the kernel keeps 15 characters of
 * it): an fd, or -errno. */
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

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &mi, &mlen) &&
		    !strncmp(mi.name, name, sizeof(mi.name) - 1))
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -ENOENT;
}

/* Key id of a per-CPU map of nv counters: counter j on CPU c = id * 1000 +
 * c * 10 + j + 1, so every sum tells which values went into it. */
static int fill(int fd, __u32 id, int ncpus, size_t nv)
{
	__u64 *v = calloc((size_t)ncpus * nv, sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	for (int c = 0; c < ncpus; c++)
		for (size_t j = 0; j < nv; j++)
			v[(size_t)c * nv + j] = (__u64)id * 1000 + (__u64)c * 10 + j + 1;
	err = bpf_map_update_elem(fd, &id, v, BPF_ANY) ? -errno : 0;
	free(v);
	return err;
}

static __u64 want(__u32 id, int ncpus, size_t j)
{
	__u64 s = 0;

	for (int c = 0; c < ncpus; c++)
		s += (__u64)id * 1000 + (__u64)c * 10 + j + 1;
	return s;
}

/* Backend ids on both sides of the batches' 4096-key boundaries, the
 * map's last key, unordered and repeated; 7 and 8 never written (zero). */
static const __u32 BE_IDS[] = {4097, 1, 4095, 4096, 65535, 9000, 1, 7, 8192, 8};
#define NBE (sizeof(BE_IDS) / sizeof(BE_IDS[0]))

static int written(__u32 id)
{
	return id != 7 && id != 8;
}

static const __u32 VIP_IDS[] = {16383, 0, 2};
#define NVIP (sizeof(VIP_IDS) / sizeof(VIP_IDS[0]))

/* Write the counters the test reads back: 0, or -1. */
static int seed(int ncpus)
{
	static const char *const names[] = {"backend_stats", "backend_syn_stats", "vip_stats",
					    "reason_stats"};
	int fd[4], rc = -1;

	for (int k = 0; k < 4; k++)
		fd[k] = map_fd(names[k]);
	if (fd[0] < 0 || fd[1] < 0 || fd[2] < 0 || fd[3] < 0)
		goto out;
	for (size_t i = 0; i < NBE; i++)
		if (written(BE_IDS[i]) &&
		    (fill(fd[0], BE_IDS[i], ncpus, 2) || fill(fd[1], BE_IDS[i], ncpus, 4)))
			goto out;
	for (size_t i = 0; i < NVIP; i++)
		if (fill(fd[2], VIP_IDS[i], ncpus, sizeof(struct xlb_vip_stats) / sizeof(__u64)))
			goto out;
	if (fill(fd[3], 5, ncpus, 1) || fill(fd[3], XLB_REASON_SLOTS - 1, ncpus, 1))
		goto out;
	rc = 0;
out:
	for (int k = 0; k < 4; k++)
		if (fd[k] >= 0)
			close(fd[k]);
	return rc;
}

static int t_stats_many_match_one_by_one(void)
{
	int ncpus = libbpf_num_possible_cpus();
	struct xlb_backend_stats st[NBE];
	struct xlb_backend_syn_stats sy[NBE];
	struct xlb_vip_stats vst[NVIP];
	__u64 reasons[XLB_REASON_SLOTS];
	const __u32 bad[2] = {3, XLB_MAX_BACKENDS};

	ASSERT_TRUE(ncpus > 0, "possible CPUs");
	ASSERT_OK(seed(ncpus), "write the counters");
	ASSERT_OK(xlb_dp_backend_stats_many(E.dp, BE_IDS, NBE, st), "backend stats, batched");
	ASSERT_OK(xlb_dp_backend_syn_stats_many(E.dp, BE_IDS, NBE, sy), "syn stats, batched");
	for (size_t i = 0; i < NBE; i++) {
		__u32 id = BE_IDS[i];
		struct xlb_backend_stats one = env_backend_stats(id);
		struct xlb_backend_syn_stats sone = env_backend_syn_stats(id);

		ASSERT_EQ(st[i].packets, written(id) ? want(id, ncpus, 0) : 0, "packets summed");
		ASSERT_EQ(st[i].bytes, written(id) ? want(id, ncpus, 1) : 0, "bytes summed");
		ASSERT_EQ(sy[i].syn_rerouted, written(id) ? want(id, ncpus, 2) : 0, "syn_rerouted");
		ASSERT_MEM(&st[i], sizeof(st[i]), &one, sizeof(one), "as one read gives");
		ASSERT_MEM(&sy[i], sizeof(sy[i]), &sone, sizeof(sone), "as one read gives (syn)");
	}
	ASSERT_OK(xlb_dp_vip_stats_many(E.dp, VIP_IDS, NVIP, vst), "VIP stats, batched");
	for (size_t i = 0; i < NVIP; i++) {
		struct xlb_vip_stats one = env_vip_stats(VIP_IDS[i]);

		ASSERT_EQ(vst[i].packets, want(VIP_IDS[i], ncpus, 0), "VIP packets summed");
		ASSERT_MEM(&vst[i], sizeof(vst[i]), &one, sizeof(one), "VIP as one read gives");
	}
	ASSERT_OK(xlb_dp_reason_counts(E.dp, reasons), "every reason, batched");
	for (__u32 r = 0; r < XLB_REASON_SLOTS; r++)
		ASSERT_EQ(reasons[r], env_reason(r), "a reason as one read gives");
	ASSERT_EQ(reasons[5], want(5, ncpus, 0), "reason 5 summed");
	ASSERT_EQ(reasons[XLB_REASON_SLOTS - 1], want(XLB_REASON_SLOTS - 1, ncpus, 0),
		  "the last reason slot");
	/* nothing asked: nothing read; an id beyond the map: refused */
	ASSERT_OK(xlb_dp_backend_stats_many(E.dp, BE_IDS, 0, st), "no ids");
	ASSERT_EQ(xlb_dp_backend_stats_many(E.dp, bad, 2, st), -ENOENT, "id past the map");
	return 0;
}

const struct harness_case stats_dp_cases[] = {
	{"stats_many_match_one_by_one", t_stats_many_match_one_by_one},
};
const size_t stats_dp_ncases = sizeof(stats_dp_cases) / sizeof(stats_dp_cases[0]);
