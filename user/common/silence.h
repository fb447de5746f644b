/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xlb-guard's decision, pure: when a silent agent's announcements go and
 * when it beats again (issue #13; beat.h has the record). */
#ifndef XLB_SILENCE_H
#define XLB_SILENCE_H

#include "beat.h"

struct xlb_silence {
	int withdrawn; /* this silence's routes are gone (set by the caller) */
};

enum xlb_silence_act {
	XLB_SILENCE_NONE,     /* nothing to do */
	XLB_SILENCE_WITHDRAW, /* flush the beat's table+protocol, then set withdrawn */
	XLB_SILENCE_RESUMED,  /* the agent beats again after a withdrawal */
};

/* The beat now (NULL: none pinned, i.e. no agent yet) at now_ns
 * (CLOCK_BOOTTIME): silent means older than hold_ms while announcing
 * (table != 0). WITHDRAW is returned until the caller sets withdrawn, so a
 * failed flush is tried again. */
enum xlb_silence_act xlb_silence_step(struct xlb_silence *s, const struct xlb_beat *b,
				      __u64 now_ns);

/* How long the agent has been silent, in ms (0 when the beat is from the
 * future, e.g. written just now on another CPU). */
__u64 xlb_silence_age_ms(const struct xlb_beat *b, __u64 now_ns);

#endif
