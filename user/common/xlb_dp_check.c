// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The probe path of checks through the VIP (bpf/check_out.bpf.c): load it
 * next to the XDP program, sharing its backend records, attach it to the
 * NIC's tc egress, and record probe sockets for it; see xlb_dp.h.
 *
 * Attached with a tcx link (kernel 6.6+), not a clsact qdisc with a
 * cls_bpf filter: a link is pinned and adopted exactly like the XDP one (a
 * restarted xlbd swaps the program in the pinned link, no gap), leaves the
 * host's qdiscs alone, and runs before and independent of other tc
 * programs. libbpf 1.1 (Debian 12) and its uapi headers predate tcx, so
 * the attach type and link type are spelled here with the kernel's
 * numbers, which are ABI and never change.
 *
 * The probe map ("check_socks") is not pinned: its entries live only as
 * long as a probe, and a restarted xlbd starts its own probes, so the map
 * a new program brings is as good as the old one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "xlb_dp.h"
#include "xlb_dp_int.h"
#include "xlb.skel.h"
#include "check_out.skel.h"

#define XLB_BPF_TCX_EGRESS 47	 /* enum bpf_attach_type BPF_TCX_EGRESS */
#define XLB_BPF_LINK_TYPE_TCX 11 /* enum bpf_link_type BPF_LINK_TYPE_TCX */

int xlb_dp_check_open(struct xlb_dp *dp, const struct xlb_dp_opts *o)
{
	struct check_out *c = check_out__open();
	int err;

	if (!c)
		return -errno;
	c->rodata->encap_src4 = o->encap_src4;
	memcpy((void *)&c->rodata->encap_src6, &o->encap_src6, sizeof(o->encap_src6));
	c->rodata->encap_vary_mask = (1u << o->encap_vary_bits) - 1;
	err = bpf_map__reuse_fd(c->maps.backends, bpf_map__fd(dp->skel->maps.backends));
	err = err ?: check_out__load(c);
	if (err) {
		pr_warn("couldn't load BPF program 'check_out' (checks via the VIP): %s\n",
			strerror(-err));
		check_out__destroy(c);
		return err;
	}
	dp->chk = c;
	return 0;
}

static int tcx_attach(int prog_fd, int ifindex)
{
	int fd = bpf_link_create(prog_fd, ifindex, (enum bpf_attach_type)XLB_BPF_TCX_EGRESS, NULL);

	return fd < 0 ? -errno : fd;
}

int xlb_dp_check_attach(struct xlb_dp *dp, int ifindex)
{
	int prog_fd, fd, err;
	char path[256];

	if (!dp->chk)
		return -EOPNOTSUPP;
	if (dp->chk_link_fd >= 0)
		return -EALREADY;
	prog_fd = bpf_program__fd(dp->chk->progs.xlb_check_out);
	snprintf(path, sizeof(path), "%s/check_link", dp->pin_dir);
	fd = dp->pin_dir[0] ? bpf_obj_get(path) : -1;
	if (fd >= 0) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);

		/* tcx's link info starts with its ifindex, where xdp's does:
		 * the 6.1 uapi header knows only the latter's name. */
		if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != XLB_BPF_LINK_TYPE_TCX ||
		    (int)info.xdp.ifindex != ifindex) {
			/* Another interface's (the program moved): let it go. */
			close(fd);
			if (unlink(path)) {
				err = -errno;
				pr_warn("couldn't remove the tc link pinned at '%s': %s\n", path,
					strerror(-err));
				return err;
			}
		} else if (bpf_link_update(fd, prog_fd, NULL)) {
			err = -errno;
			pr_warn("couldn't update the tc link pinned at '%s': %s\n", path,
				strerror(-err));
			close(fd);
			return err;
		} else {
			dp->chk_link_fd = fd;
			return 0;
		}
	}
	fd = tcx_attach(prog_fd, ifindex);
	if (fd < 0) {
		pr_warn("couldn't attach the probe path (tc egress) to interface %d: %s; checks "
			"with 'via: vip' fail until it is (it needs kernel 6.6 or newer)\n",
			ifindex, strerror(-fd));
		return fd;
	}
	if (dp->pin_dir[0] && bpf_obj_pin(fd, path)) {
		err = -errno;
		pr_warn("couldn't pin the tc link at '%s': %s\n", path, strerror(-err));
		close(fd);
		return err;
	}
	dp->chk_link_fd = fd;
	return 0;
}

void xlb_dp_check_close(struct xlb_dp *dp)
{
	if (dp->chk_link_fd >= 0)
		close(dp->chk_link_fd); /* a pinned link stays attached */
	dp->chk_link_fd = -1;
	check_out__destroy(dp->chk);
	dp->chk = NULL;
}

int xlb_dp_check_ready(const struct xlb_dp *dp)
{
	return dp->chk && dp->chk_link_fd >= 0;
}

int xlb_dp_check_sock_set(struct xlb_dp *dp, const struct xlb_check_key *k, __u32 id)
{
	if (!dp->chk)
		return -EOPNOTSUPP;
	return bpf_map_update_elem(bpf_map__fd(dp->chk->maps.check_socks), k, &id, BPF_ANY) ? -errno
											    : 0;
}

int xlb_dp_check_sock_del(struct xlb_dp *dp, const struct xlb_check_key *k)
{
	if (!dp->chk)
		return -ENOENT;
	return bpf_map_delete_elem(bpf_map__fd(dp->chk->maps.check_socks), k) ? -errno : 0;
}

int xlb_dp_check_prog_fd(const struct xlb_dp *dp)
{
	return dp->chk ? bpf_program__fd(dp->chk->progs.xlb_check_out) : -1;
}
