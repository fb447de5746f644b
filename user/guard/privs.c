// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-guard keeps CAP_NET_ADMIN (deleting routes) and CAP_BPF (the bpf()
 * calls that open and read the pinned beat record); root's other
 * capabilities go at start. The bounding set shrinks too when the guard
 * may (CAP_SETPCAP; xlb-guard.service bounds it already instead).
 * The calls are user/common/caps.c's, shared with xlbd's privs.c.
 */
#include <stddef.h>
#include <linux/capability.h>

#include "caps.h"
#include "log.h"
#include "privs.h"

#define KEEP ((1ULL << CAP_NET_ADMIN) | (1ULL << CAP_BPF))

int guard_caps_drop(void)
{
	unsigned long long have, kept;
	int err = xlb_caps_permitted("xlb-guard", &have);

	if (err)
		return err;
	if ((have & KEEP) != KEEP)
		pr_warn("xlb-guard runs without CAP_NET_ADMIN or CAP_BPF (have %#llx): it may "
			"not be able to read the beat or withdraw routes; run it as root or as "
			"xlb-guard.service does\n",
			have);
	err = xlb_caps_limit(KEEP, have & (1ULL << CAP_SETPCAP), NULL, &kept);
	if (err)
		return err;
	pr_debug("capabilities kept: %#llx (CAP_NET_ADMIN, CAP_BPF)\n", kept);
	return 0;
}
