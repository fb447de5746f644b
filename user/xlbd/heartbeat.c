// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's heartbeat, written at every tick of the event loop: xlb-guard
 * withdraws this host's announcements once it stops (README "Running a
 * fleet"). The tick is the loop's own timer, so a loop that hangs stops
 * beating even though the process lives.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "beat.h"
#include "heartbeat.h"
#include "log.h"
#include "routes.h"

void agent_beat(const char *pin_dir, const struct xlb_cfg_announce *a)
{
	static int failing;
	struct xlb_beat b = {.pid = (__u32)getpid(),
			     .hold_ms = a->hold_ms,
			     .table = a->table,
			     .protocol = a->protocol};
	struct timespec now;
	int err;

	clock_gettime(CLOCK_BOOTTIME, &now);
	b.at_ns = (__u64)now.tv_sec * 1000000000ULL + (__u64)now.tv_nsec;
	err = xlb_beat_write(pin_dir, &b);
	if (err && !failing)
		pr_warn("couldn't write the heartbeat '%s/beat': %s; while it fails, xlb-guard "
			"takes this agent for dead and withdraws its announcements after hold_ms\n",
			pin_dir, strerror(-err));
	else if (!err && failing)
		pr_info("heartbeat '%s/beat' written again\n", pin_dir);
	failing = err != 0;
}

int agent_beat_withdraw(const char *pin_dir)
{
	struct xlb_beat b;
	int err = xlb_beat_read(pin_dir, &b);

	if (err == -ENOENT || (!err && (!b.table || !b.protocol)))
		return 0;
	return err ?: xlb_routes_flush(b.table, b.protocol);
}
