// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Shrinking capabilities; see caps.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "caps.h"
#include "log.h"

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

static int caps_get(struct __user_cap_header_struct *h, struct __user_cap_data_struct d[2],
		    const char *who)
{
	if (!syscall(SYS_capget, h, d))
		return 0;
	pr_warn("couldn't read %s's capabilities: %s\n", who, strerror(errno));
	return -errno;
}

int xlb_caps_permitted(const char *who, unsigned long long *permitted)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {};
	int err = caps_get(&h, d, who);

	if (err)
		return err;
	*permitted = d[0].permitted | (unsigned long long)d[1].permitted << 32;
	return 0;
}

int xlb_caps_limit(unsigned long long keep, bool bounding, const char *bset_hint,
		   unsigned long long *kept)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {};
	unsigned long long want;
	int err = caps_get(&h, d, "this process");

	if (err)
		return err;
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which
	 * goes with the capset below. */
	for (int c = 0; bounding && c <= last_cap(); c++) {
		if (keep & (1ULL << c) || prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0)) {
			err = -errno;
			pr_warn("couldn't drop capability %d from the bounding set: %s%s\n", c,
				strerror(errno), bset_hint ? bset_hint : "");
			return err;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) {
		err = -errno;
		pr_warn("couldn't clear the ambient capabilities: %s\n", strerror(errno));
		return err;
	}
	want = keep & (d[0].permitted | (unsigned long long)d[1].permitted << 32);
	d[0].effective = d[0].permitted = (__u32)want;
	d[1].effective = d[1].permitted = (__u32)(want >> 32);
	d[0].inheritable = d[1].inheritable = 0;
	if (syscall(SYS_capset, &h, d)) {
		err = -errno;
		pr_warn("couldn't drop capabilities: %s\n", strerror(errno));
		return err;
	}
	*kept = want;
	return 0;
}
