// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's heartbeat record for the e2e cases (tests/e2e/
 * cases_fleet_agent.sh): write one as an agent of a given age would, or
 * read the one pinned.
 *
 *   xlb-lab-beat write PIN_DIR AGE_MS HOLD_MS TABLE PROTOCOL [PID]
 *   xlb-lab-beat read PIN_DIR   ->  "pid P age_ms A hold_ms H table T protocol R"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "beat.h"

static __u64 boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct xlb_beat b = {};
	__u64 now = boot_ns();
	int err;

	if (argc >= 7 && !strcmp(argv[1], "write")) {
		b.at_ns = now - strtoull(argv[3], NULL, 0) * 1000000ULL;
		b.hold_ms = (__u32)strtoul(argv[4], NULL, 0);
		b.table = (__u32)strtoul(argv[5], NULL, 0);
		b.protocol = (__u8)strtoul(argv[6], NULL, 0);
		b.pid = argc > 7 ? (__u32)strtoul(argv[7], NULL, 0) : (__u32)getpid();
		err = xlb_beat_write(argv[2], &b);
	} else if (argc == 3 && !strcmp(argv[1], "read")) {
		err = xlb_beat_read(argv[2], &b);
		if (!err)
			printf("pid %u age_ms %llu hold_ms %u table %u protocol %u\n", b.pid,
			       (unsigned long long)(now > b.at_ns ? (now - b.at_ns) / 1000000 : 0),
			       b.hold_ms, b.table, b.protocol);
	} else {
		fprintf(stderr, "usage: xlb-lab-beat write PIN_DIR AGE_MS HOLD_MS TABLE PROTOCOL "
				"[PID]\n       xlb-lab-beat read PIN_DIR\n");
		return 2;
	}
	if (err)
		fprintf(stderr, "xlb-lab-beat: %s: %s\n", argv[1], strerror(-err));
	return err ? 1 : 0;
}
