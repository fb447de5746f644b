/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internals shared by the pieces of the data-plane handle (xlb_dp.c,
 * xlb_dp_pin.c, xlb_dp_nic.c, xlb_dp_maps.c, xlb_dp_stats.c): not for use
 * outside xlb_dp*.c. The public interface is xlb_dp.h.
 */
#ifndef XLB_DP_INT_H
#define XLB_DP_INT_H

#include <errno.h>

#include "xlb_dp.h"
#include "xlb_hash.h"

struct xlb;	  /* the skeleton (xlb.skel.h), included where its maps are used */
struct check_out; /* the probe path's skeleton (check_out.skel.h, xlb_dp_check.c) */

struct xlb_dp {
	struct xlb *skel;
	int ncpus;
	__u32 flow_buckets;
	char pin_dir[200];     /* empty: nothing pinned */
	int adopted;	       /* the maps were found pinned and reused */
	int link_fd;	       /* XDP link, -1 before xlb_dp_attach() */
	unsigned long writes;  /* map writes counted by write_ok() */
	unsigned long fail_at; /* test-only: this write fails (0: none) */
	struct xlb_hash_seed seed;
	int ifindex;	       /* the interface whose MAC and MTU the "nic" map holds */
	__u32 mtu;	       /* configured ipip MTU, 0: the NIC's */
	struct check_out *chk; /* probes through the VIP; NULL: not loaded */
	int chk_link_fd;       /* its tc egress link, -1 before attach (or without) */
};

/* 0, or -errno for a libbpf call's negative return. */
static inline int neg_errno(int ret)
{
	return ret < 0 ? -errno : 0;
}

/* ---- xlb_dp_pin.c --------------------------------------------------------- */

/* Pin every map under dp->pin_dir, reusing pinned ones; -ESTALE when the
 * pinned flow table has another size than *flow_buckets. */
int xlb_dp_setup_pins(struct xlb_dp *dp, __u32 *flow_buckets);
/* 0 if what is pinned at pin_dir hashes with want (or nothing runs there). */
int xlb_dp_same_seed(const char *pin_dir, const struct xlb_hash_seed *want);

/* ---- xlb_dp_nic.c --------------------------------------------------------- */

/* Write the "nic" entry for ifindex; 1 if it changed, 0 if not, or -errno. */
int xlb_dp_nic_from_link(struct xlb_dp *dp, int ifindex);

/* ---- xlb_dp_check.c ------------------------------------------------------- */

/* Load the probe path's program next to dp's (its backends map): 0, or
 * -errno (the caller goes on without it: probes through the VIP fail). */
int xlb_dp_check_open(struct xlb_dp *dp, const struct xlb_dp_opts *o);
/* Attach it to ifindex's tc egress (adopting a pinned link): 0 or -errno. */
int xlb_dp_check_attach(struct xlb_dp *dp, int ifindex);
void xlb_dp_check_close(struct xlb_dp *dp);

#endif
