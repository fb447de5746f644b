// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlb-guard's decision (silence.h). */
#include "silence.h"

__u64 xlb_silence_age_ms(const struct xlb_beat *b, __u64 now_ns)
{
	return now_ns > b->at_ns ? (now_ns - b->at_ns) / 1000000ULL : 0;
}

__u32 xlb_silence_hold_ms(const struct xlb_beat *b)
{
	return b->hold_ms > XLB_SILENCE_MIN_HOLD_MS ? b->hold_ms : XLB_SILENCE_MIN_HOLD_MS;
}

enum xlb_silence_act xlb_silence_step(struct xlb_silence *s, const struct xlb_beat *b, __u64 now_ns)
{
	int silent;

	if (!b || !b->table) {
		/* no agent, or one that announces nothing: nothing of its to
		 * withdraw; a later silence is a new one */
		s->withdrawn = 0;
		return XLB_SILENCE_NONE;
	}
	silent = xlb_silence_age_ms(b, now_ns) > xlb_silence_hold_ms(b);
	if (silent)
		return s->withdrawn ? XLB_SILENCE_NONE : XLB_SILENCE_WITHDRAW;
	if (s->withdrawn) {
		s->withdrawn = 0;
		return XLB_SILENCE_RESUMED;
	}
	return XLB_SILENCE_NONE;
}
