// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The data plane: load the program, pin its maps, attach it; see xlb_dp.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "xlb_dp.h"
#include "xlb_dp_int.h"
#include "xlb.skel.h"

/* Milliseconds to jiffies, rounded up, at least `floor` jiffies. */
static __u32 ms_to_jiffies(__u32 ms, unsigned int hz, __u32 floor)
{
	__u64 j = ((__u64)ms * hz + 999) / 1000;

	return j > floor ? (__u32)j : floor;
}

int xlb_dp_open(const struct xlb_dp_opts *opts, struct xlb_dp **out)
{
	struct xlb_dp_opts o = opts ? *opts : (struct xlb_dp_opts){};
	unsigned int hz, flows;
	__u32 gran;
	struct xlb_dp *dp;
	int err;

	if (o.encap_vary_bits > 16 || (o.pin_dir && strlen(o.pin_dir) >= 200))
		return -EINVAL;
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->link_fd = -1;
	dp->chk_link_fd = -1;
	if (o.pin_dir)
		snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", o.pin_dir);
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
	hz = xlb_kernel_hz();
	flows = o.flow_entries ? o.flow_entries : XLB_DEFAULT_FLOW_ENTRIES;
	dp->flow_buckets = (flows + XLB_FLOW_WAYS - 1) / XLB_FLOW_WAYS;
	if (dp->pin_dir[0]) {
		err = xlb_dp_setup_pins(dp, &dp->flow_buckets)
			      ?: xlb_dp_same_seed(dp->pin_dir, &o.hash_seed);
		if (err)
			goto cleanup;
	}
	dp->skel->rodata->flow_buckets = dp->flow_buckets;
	/* The access time moves once a granule, so no idle bound is shorter
	 * (select.h asks the bounds only once a flow's age passes it). */
	gran = XLB_ATIME_GRANULARITY_MS * hz / 1000;
	dp->skel->rodata->atime_gran_jiffies = gran;
	dp->skel->rodata->udp_idle_jiffies =
		ms_to_jiffies(o.udp_idle_ms ?: XLB_DEFAULT_UDP_IDLE_MS, hz, gran);
	dp->skel->rodata->closed_idle_jiffies =
		ms_to_jiffies(o.closed_idle_ms ?: XLB_DEFAULT_CLOSED_IDLE_MS, hz, gran);
	dp->skel->rodata->syn_retry_min_jiffies =
		o.syn_retry_min_ms == XLB_SYN_RETRY_MIN_NONE
			? 0
			: (o.syn_retry_min_ms ? o.syn_retry_min_ms : XLB_SYN_RETRY_MIN_MS) * hz /
				  1000;
	dp->skel->rodata->encap_src4 = o.encap_src4;
	memcpy((void *)&dp->skel->rodata->encap_src6, &o.encap_src6, sizeof(o.encap_src6));
	dp->skel->rodata->encap_vary_mask = (1u << o.encap_vary_bits) - 1;
	memcpy((void *)&dp->skel->rodata->hash_seed, &o.hash_seed, sizeof(o.hash_seed));
	dp->seed = o.hash_seed;
	dp->skel->rodata->reject_cpus = xlb_dp_reject_cpus();
	err = bpf_map__set_max_entries(dp->skel->maps.flows, dp->flow_buckets);
	if (err)
		goto cleanup;
	err = xlb__load(dp->skel);
	if (err) {
		pr_warn("couldn't load BPF program 'xlb': %s%s\n", strerror(-err),
			dp->adopted ? " (maps pinned by an incompatible version? detach first)"
				    : "");
		goto cleanup;
	}
	/* Without it checks through the VIP fail; everything else works. */
	xlb_dp_check_open(dp, &o);
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
	if (dp->link_fd >= 0)
		close(dp->link_fd); /* a pinned link stays attached */
	xlb_dp_check_close(dp);
	xlb__destroy(dp->skel);
	free(dp);
}

int xlb_dp_prog_fd(const struct xlb_dp *dp)
{
	return bpf_program__fd(dp->skel->progs.xlb_xdp);
}

unsigned int xlb_dp_reject_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned int)n : 1;
}

int xlb_xdp_attach(int prog_fd, int ifindex, int generic)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo,
		    .flags = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);

	return fd < 0 ? -errno : fd;
}

int xlb_dp_adopted(const struct xlb_dp *dp)
{
	return dp->adopted;
}

int xlb_dp_attach(struct xlb_dp *dp, int ifindex, int generic)
{
	int prog_fd = xlb_dp_prog_fd(dp), fd, err;
	char path[256];

	if (dp->link_fd >= 0)
		return -EALREADY;
	snprintf(path, sizeof(path), "%s/link", dp->pin_dir);
	fd = dp->pin_dir[0] ? bpf_obj_get(path) : -1;
	if (fd >= 0) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);

		/* Adopt: swap the running program for ours, no gap in forwarding. */
		if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_LINK_TYPE_XDP ||
		    (int)info.xdp.ifindex != ifindex) {
			pr_warn("couldn't adopt the XDP link pinned at '%s': it is attached to "
				"interface %u, not %d; detach first\n",
				path, info.xdp.ifindex, ifindex);
			close(fd);
			return -EEXIST;
		}
		err = xlb_dp_nic_from_link(dp, ifindex);
		if (err < 0) {
			close(fd);
			return err;
		}
		dp->ifindex = ifindex;
		if (bpf_link_update(fd, prog_fd, NULL)) {
			err = -errno;

			pr_warn("couldn't update the XDP link pinned at '%s': %s\n", path,
				strerror(-err));
			close(fd);
			return err;
		}
		dp->link_fd = fd;
		xlb_dp_check_attach(dp, ifindex); /* failing: checks via the VIP fail */
		return 0;
	}
	/* The program's NIC before it sees a frame. */
	err = xlb_dp_nic_from_link(dp, ifindex);
	if (err < 0)
		return err;
	dp->ifindex = ifindex;
	fd = xlb_xdp_attach(prog_fd, ifindex, generic);
	if (fd < 0)
		return fd;
	if (dp->pin_dir[0] && bpf_obj_pin(fd, path)) {
		err = -errno;

		pr_warn("couldn't pin the XDP link at '%s': %s\n", path, strerror(-err));
		close(fd);
		return err;
	}
	dp->link_fd = fd;
	xlb_dp_check_attach(dp, ifindex); /* failing: checks via the VIP fail */
	return 0;
}

int xlb_dp_flows_fd(const struct xlb_dp *dp)
{
	return bpf_map__fd(dp->skel->maps.flows);
}
