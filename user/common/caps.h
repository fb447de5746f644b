/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shrinking a process's capabilities to a given set, for xlbd (privs.c)
 * and xlb-guard: raw capget/capset and prctl, no libcap (five calls do
 * not need a library). Which set each keeps, and why, is the caller's.
 */
#ifndef XLB_CAPS_H
#define XLB_CAPS_H

#include <stdbool.h>

/* The permitted set now. 0 or -errno (said in the log). */
int xlb_caps_permitted(const char *who, unsigned long long *permitted);

/*
 * Keep only keep & permitted in the effective and permitted sets, nothing
 * inheritable or ambient; with bounding, also drop every other capability
 * from the bounding set (needs CAP_SETPCAP; bset_hint ends that error
 * message). 0 or -errno (said in the log); *kept: the set kept.
 */
int xlb_caps_limit(unsigned long long keep, bool bounding, const char *bset_hint,
		   unsigned long long *kept);

#endif
