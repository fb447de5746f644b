// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlb-guard's decision (user/common/silence.c): withdraw once per silence,
 * only while announcing, only past the hold time; say when beats resume. */
#include "harness.h"
#include "silence.h"
#include "test_unit.h"

#define MS 1000000ULL

static int t_silence_withdraws_once_past_hold(void)
{
	struct xlb_beat b = {
		.at_ns = 1000 * MS, .pid = 7, .hold_ms = 1500, .table = 9641, .protocol = 250};
	struct xlb_silence s = {};

	ASSERT_EQ(xlb_silence_step(&s, NULL, 5000 * MS), XLB_SILENCE_NONE, "no beat: no agent");
	ASSERT_EQ(xlb_silence_step(&s, &b, 1200 * MS), XLB_SILENCE_NONE, "fresh");
	ASSERT_EQ(xlb_silence_step(&s, &b, 2500 * MS), XLB_SILENCE_NONE, "exactly hold: still");
	ASSERT_EQ(xlb_silence_step(&s, &b, 2501 * MS), XLB_SILENCE_WITHDRAW, "past hold");
	ASSERT_EQ(xlb_silence_step(&s, &b, 2600 * MS), XLB_SILENCE_WITHDRAW,
		  "again until the caller says the flush worked");
	s.withdrawn = 1;
	ASSERT_EQ(xlb_silence_step(&s, &b, 9000 * MS), XLB_SILENCE_NONE, "once per silence");
	b.at_ns = 9000 * MS;
	ASSERT_EQ(xlb_silence_step(&s, &b, 9100 * MS), XLB_SILENCE_RESUMED, "beats again");
	ASSERT_EQ(s.withdrawn, 0, "a later silence is a new one");
	ASSERT_EQ(xlb_silence_step(&s, &b, 9200 * MS), XLB_SILENCE_NONE, "said once");
	ASSERT_EQ(xlb_silence_step(&s, &b, 10600 * MS), XLB_SILENCE_WITHDRAW, "silent again");
	s.withdrawn = 0;
	b.hold_ms = 0; /* a hold below the floor: a live agent is not withdrawn */
	ASSERT_EQ(xlb_silence_step(&s, &b, 9900 * MS), XLB_SILENCE_NONE, "hold 0: 900 ms is fine");
	ASSERT_EQ(xlb_silence_step(&s, &b, 10001 * MS), XLB_SILENCE_WITHDRAW, "hold 0: 1 s");
	b.table = 0;
	ASSERT_EQ(xlb_silence_step(&s, &b, 99000 * MS), XLB_SILENCE_NONE,
		  "not announcing: nothing to withdraw");
	b.at_ns = 100000 * MS;
	ASSERT_EQ(xlb_silence_age_ms(&b, 99000 * MS), 0, "a beat from the future is fresh");
	return 0;
}

const struct harness_case silence_cases[] = {
	{"silence_withdraws_once_past_hold", t_silence_withdraws_once_past_hold},
};
const size_t silence_ncases = sizeof(silence_cases) / sizeof(silence_cases[0]);
