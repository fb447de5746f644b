// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-guard keeps CAP_NET_ADMIN (deleting routes) and CAP_BPF (the bpf()
 * calls that open and read the pinned beat record); root's other
 * capabilities go at start. The bounding set shrinks too when the guard
 * may (CAP_SETPCAP; xlb-guard.service bounds it already instead).
 * xlbd's privs.c does the same for its own set; raw capget/capset, as
 * there.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "caps.h"
#include "log.h"

#define KEEP ((1ULL << CAP_NET_ADMIN) | (1ULL << CAP_BPF))

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last < 63 ? last : 63;
}

int guard_caps_drop(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {};
	unsigned long long have, want;
	int err;

	if (syscall(SYS_capget, &h, d)) {
		err = -errno;
		pr_warn("couldn't read xlb-guard's capabilities: %s\n", strerror(errno));
		return err;
	}
	have = d[0].permitted | (unsigned long long)d[1].permitted << 32;
	if ((have & KEEP) != KEEP)
		pr_warn("xlb-guard runs without CAP_NET_ADMIN or CAP_BPF (have %#llx): it may "
			"not be able to read the beat or withdraw routes; run it as root or as "
			"xlb-guard.service does\n",
			have);
	if (have & (1ULL << CAP_SETPCAP)) {
		for (int c = 0; c <= last_cap(); c++) {
			if (KEEP & (1ULL << c) || prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1)
				continue;
			if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0)) {
				err = -errno;
				pr_warn("couldn't drop capability %d from the bounding set: %s\n",
					c, strerror(errno));
				return err;
			}
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) {
		err = -errno;
		pr_warn("couldn't clear the ambient capabilities: %s\n", strerror(errno));
		return err;
	}
	want = have & KEEP;
	d[0].effective = d[0].permitted = (__u32)want;
	d[1].effective = d[1].permitted = (__u32)(want >> 32);
	d[0].inheritable = d[1].inheritable = 0;
	if (syscall(SYS_capset, &h, d)) {
		err = -errno;
		pr_warn("couldn't drop capabilities: %s\n", strerror(errno));
		return err;
	}
	pr_debug("capabilities kept: %#llx (CAP_NET_ADMIN, CAP_BPF)\n", want);
	return 0;
}
