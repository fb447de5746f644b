/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xlb-guard's decision, pure: when a silent agent's announcements go and
 * when it beats again (issue #13; beat.h has the record). */
#ifndef XLB_SILENCE_H
#define XLB_SILENCE_H

#include "beat.h"

/* A hold shorter than this counts as this: the agent beats every 200 ms
 * and the guard looks every second, so a shorter one would withdraw a
 * live agent's routes between two of its beats. */
#define XLB_SILENCE_MIN_HOLD_MS 1000

struct xlb_silence {
	int withdrawn; /* this silence's routes are gone (set by the caller) */
};

enum xlb_silence_act {
	XLB_SILENCE_NONE,     /* nothing to do */
	XLB_SILENCE_WITHDRAW, /* flush the beat's table+protocol, then set withdrawn */
	XLB_SILENCE_RESUMED,  /* the agent beats again after a withdrawal */
};

/* The beat now (NULL: none pinned, i.e. no agent yet) at now_ns
 * (CLOCK_BOOTTIME): silent means older than hold_ms (at least
 * XLB_SILENCE_MIN_HOLD_MS) while announcing (table != 0). WITHDRAW is returned until the caller sets withdrawn, so a
 * failed flush is tried again. */
enum xlb_silence_act xlb_silence_step(struct xlb_silence *s, const struct xlb_beat *b,
				      __u64 now_ns);

/* The hold in force: the beat's, at least XLB_SILENCE_MIN_HOLD_MS. */
__u32 xlb_silence_hold_ms(const struct xlb_beat *b);

/* How long the agent has been silent, in ms (0 when the beat is from the
 * future, e.g. written just now on another CPU). */
__u64 xlb_silence_age_ms(const struct xlb_beat *b, __u64 now_ns);

#endif
