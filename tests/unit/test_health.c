// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Health state machine and table selection (user/common/health.c). */
#include <string.h>

#include "config.h"
#include "harness.h"
#include "health.h"
#include "test_unit.h"
#include "xlb_abi.h"

static int t_health_rise_and_fall(void)
{
	struct xlb_hstate h;

	xlb_health_init(&h, 0, 0);
	ASSERT_EQ(h.health, XLB_HEALTH_UNKNOWN, "a new backend is unknown");
	ASSERT_EQ(xlb_health_result(&h, 1, 2, 3, 10), -1, "one success is not enough");
	ASSERT_EQ(xlb_health_result(&h, 1, 2, 3, 20), XLB_HEALTH_UP, "rise=2 successes: up");
	ASSERT_EQ(h.up_since_ms, 20, "up since then");
	ASSERT_EQ(xlb_health_result(&h, 0, 2, 3, 30), -1, "one failure");
	ASSERT_EQ(xlb_health_result(&h, 0, 2, 3, 40), -1, "two failures");
	ASSERT_EQ(xlb_health_result(&h, 0, 2, 3, 50), XLB_HEALTH_DOWN, "fall=3 failures: down");
	ASSERT_EQ(h.since_ms, 50, "down since then");
	ASSERT_EQ(xlb_health_result(&h, 1, 2, 3, 60), -1, "one success");
	ASSERT_EQ(xlb_health_result(&h, 1, 2, 3, 70), XLB_HEALTH_UP, "up again");
	xlb_health_init(&h, 0, 0);
	ASSERT_EQ(xlb_health_result(&h, 0, 2, 1, 0), XLB_HEALTH_DOWN, "unknown -> down by fall");
	xlb_health_init(&h, 1, 5);
	ASSERT_EQ(h.health, XLB_HEALTH_UP, "configured to start up");
	ASSERT_EQ(h.up_since_ms, 5, "from the start");
	return 0;
}

/* A changed check starts where the old one was, and moves by rise/fall. */
static int t_health_inherit_keeps_state_not_runs(void)
{
	struct xlb_hstate old, h;

	xlb_health_init(&old, 0, 0);
	xlb_health_result(&old, 1, 2, 3, 10);
	xlb_health_result(&old, 1, 2, 3, 20);
	xlb_health_result(&old, 0, 2, 3, 30); /* one failure under way */
	xlb_health_inherit(&h, &old);
	ASSERT_EQ(h.health, XLB_HEALTH_UP, "up, as the old check was");
	ASSERT_EQ(h.up_since_ms, 20, "no new slow start");
	ASSERT_EQ(h.failures, 0, "the old check's run does not count");
	ASSERT_EQ(xlb_health_result(&h, 0, 2, 3, 40), -1, "one failure of the new check");
	ASSERT_EQ(xlb_health_result(&h, 0, 2, 3, 50), -1, "two");
	ASSERT_EQ(xlb_health_result(&h, 0, 2, 3, 60), XLB_HEALTH_DOWN, "fall=3: down");
	xlb_health_init(&old, 0, 0);
	xlb_health_inherit(&h, &old);
	ASSERT_EQ(h.health, XLB_HEALTH_UNKNOWN, "unknown stays unknown");
	return 0;
}

static int t_health_flapping_never_changes_state(void)
{
	struct xlb_hstate h;

	xlb_health_init(&h, 1, 0);
	for (int i = 0; i < 100; i++) {
		/* fail, fail, ok: never three failures in a row */
		ASSERT_EQ(xlb_health_result(&h, i % 3 == 2, 2, 3, (__u64)i), -1, "no change");
		ASSERT_EQ(h.health, XLB_HEALTH_UP, "still up");
	}
	xlb_health_init(&h, 0, 0);
	xlb_health_result(&h, 0, 2, 1, 0);
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(xlb_health_result(&h, i % 2, 2, 3, (__u64)i), -1,
			  "alternating: stays down");
	return 0;
}

#define UP XLB_HEALTH_UP
#define DOWN_ XLB_HEALTH_DOWN
#define UNK XLB_HEALTH_UNKNOWN
#define EN XLB_ADMIN_ENABLED

static int t_select_admin_and_health(void)
{
	const struct xlb_hsel_in in[] = {
		{EN, UP, 0, 10, 0, 0},
		{EN, DOWN_, 0, 10, 0, 0},
		{EN, UNK, 0, 10, 0, 0},
		{XLB_ADMIN_DRAIN, UP, 0, 10, 0, 0},
		{XLB_ADMIN_DISABLED, UP, 0, 10, 0, 0},
		{XLB_ADMIN_DRAIN, DOWN_, 0, 10, 0, 0},
	};
	const struct xlb_hsel_vip vip = {0, 0};
	struct xlb_hsel_out out[6];

	ASSERT_EQ(xlb_health_select(&vip, in, out, 6, 1000), 0, "no panic");
	ASSERT_EQ(out[0].weight, 10, "up: in with its weight");
	ASSERT_EQ(out[0].state, XLB_BE_ACTIVE, "up: ACTIVE");
	ASSERT_EQ(out[1].weight, 0, "down: out");
	ASSERT_EQ(out[1].state, XLB_BE_DOWN, "down: its flows move");
	ASSERT_EQ(out[2].state, XLB_BE_DOWN, "unknown: no traffic yet");
	ASSERT_EQ(out[3].weight, 0, "drain: out");
	ASSERT_EQ(out[3].state, XLB_BE_DRAINING, "drain: its flows stay");
	ASSERT_EQ(out[4].state, XLB_BE_DOWN, "disabled: DOWN even if healthy");
	ASSERT_EQ(out[5].state, XLB_BE_DOWN, "drained and dead: its flows move");
	return 0;
}

static int t_select_backup_only_while_no_primary(void)
{
	struct xlb_hsel_in in[] = {
		{EN, UP, 0, 5, 0, 0},
		{EN, UP, 1, 5, 0, 0},
	};
	const struct xlb_hsel_vip vip = {50, 0};
	struct xlb_hsel_out out[2];

	xlb_health_select(&vip, in, out, 2, 0);
	ASSERT_EQ(out[1].weight, 0, "backup out while a primary is up");
	ASSERT_EQ(out[1].state, XLB_BE_ACTIVE, "standing by");
	in[0].health = DOWN_;
	ASSERT_EQ(xlb_health_select(&vip, in, out, 2, 0), 0, "a healthy backup: no panic");
	ASSERT_EQ(out[1].weight, 5, "backup in");
	ASSERT_EQ(out[0].weight, 0, "dead primary not put back");
	in[0].health = UP;
	xlb_health_select(&vip, in, out, 2, 0);
	ASSERT_EQ(out[1].weight, 0, "primary back: backup out again");
	ASSERT_EQ(out[1].state, XLB_BE_ACTIVE, "its flows stay");
	return 0;
}

static int t_select_panic_threshold(void)
{
	struct xlb_hsel_in in[4] = {
		{EN, UP, 0, 1, 0, 0},
		{EN, DOWN_, 0, 1, 0, 0},
		{EN, DOWN_, 0, 1, 0, 0},
		{EN, UP, 0, 1, 0, 0},
	};
	const struct xlb_hsel_vip vip = {50, 0};
	struct xlb_hsel_out out[4];

	ASSERT_EQ(xlb_health_select(&vip, in, out, 4, 0), 0, "2 of 4 is not below 50%");
	ASSERT_EQ(out[1].weight, 0, "down stays out");
	in[3].health = DOWN_;
	ASSERT_EQ(xlb_health_select(&vip, in, out, 4, 0), 1, "1 of 4 is below 50%: panic");
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(out[i].weight, 1, "every enabled primary back in");
		ASSERT_EQ(out[i].state, XLB_BE_ACTIVE, "and ACTIVE");
	}
	in[0].health = DOWN_;
	ASSERT_EQ(xlb_health_select(&vip, in, out, 4, 0), 1, "none up: still panic (fail open)");
	const struct xlb_hsel_vip off = {0, 0};

	ASSERT_EQ(xlb_health_select(&off, in, out, 4, 0), 0, "threshold 0: no panic");
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(out[i].weight, 0, "empty: the VIP's on_empty applies");
	return 0;
}

static int t_select_slow_start_ramp(void)
{
	struct xlb_hsel_in in[2] = {
		{EN, UP, 0, 100, 1000, 0},
		{EN, UP, 0, 1, 1000, 0},
	};
	const struct xlb_hsel_vip vip = {0, 10000};
	struct xlb_hsel_out out[2];

	xlb_health_select(&vip, in, out, 2, 1000);
	ASSERT_EQ(out[0].weight, 10, "just up: 10%");
	ASSERT_EQ(out[1].weight, 1, "never below 1");
	xlb_health_select(&vip, in, out, 2, 6000);
	ASSERT_EQ(out[0].weight, 60, "half way: the sixth tenth, 60%");
	xlb_health_select(&vip, in, out, 2, 1999);
	ASSERT_EQ(out[0].weight, 10, "steps of a tenth of the window");
	xlb_health_select(&vip, in, out, 2, 10999);
	ASSERT_EQ(out[0].weight, 100, "last step: 100%");
	xlb_health_select(&vip, in, out, 2, 11000);
	ASSERT_EQ(out[0].weight, 100, "window over: 100%");
	const struct xlb_hsel_vip off = {0, 0};

	xlb_health_select(&off, in, out, 2, 1000);
	ASSERT_EQ(out[0].weight, 100, "slow start off: full weight at once");
	return 0;
}

const struct harness_case health_cases[] = {
	{"health_rise_and_fall", t_health_rise_and_fall},
	{"health_flapping_never_changes_state", t_health_flapping_never_changes_state},
	{"health_inherit_keeps_state_not_runs", t_health_inherit_keeps_state_not_runs},
	{"select_admin_and_health", t_select_admin_and_health},
	{"select_backup_only_while_no_primary", t_select_backup_only_while_no_primary},
	{"select_panic_threshold", t_select_panic_threshold},
	{"select_slow_start_ramp", t_select_slow_start_ramp},
};
const size_t health_ncases = sizeof(health_cases) / sizeof(health_cases[0]);
