/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Milliseconds of the two clocks the agent reads: CLOCK_MONOTONIC for
 * deadlines and intervals, CLOCK_REALTIME for what is shown to people. */
#ifndef XLB_CLOCK_H
#define XLB_CLOCK_H

#include <time.h>
#include <linux/types.h>

static inline __u64 xlb_clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static inline __u64 mono_ms(void)
{
	return xlb_clock_ms(CLOCK_MONOTONIC);
}

static inline __u64 wall_ms(void)
{
	return xlb_clock_ms(CLOCK_REALTIME);
}

#endif
