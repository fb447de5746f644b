// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-guard: withdraws a silent xlbd's announcements (issue #13).
 *
 *   xlb-guard [--pin-dir DIR] [--interval MS] [--once]
 *
 * xlbd keeps each VIP it announces as a route in a table of its own, which
 * the BGP daemon exports. Those routes must outlive a restart of the agent
 * (withdrawing them would flap every VIP at each upgrade) but not an agent
 * that stays dead or hangs: IPv4 routes have no expiry, and a unit's
 * ExecStopPost cannot tell a restart from a stop. So this tiny separate
 * process reads the agent's heartbeat (<pin-dir>/beat, beat.h) every
 * interval and, once the last beat is older than the hold time the agent
 * wrote into it, deletes the routes of the table and protocol the beat
 * names (xlb_routes_flush), once. It never adds a route: an agent that
 * beats again announces again by itself. No beat pinned = no agent yet =
 * nothing to do; a beat that disappears after an announcing agent wrote it
 * (xlbd --detach removes the pin dir) leaves that agent's last beat in
 * force.
 *
 * It keeps CAP_NET_ADMIN and CAP_BPF only (caps.c).
 *
 * Exit status: 0 done, 1 runtime failure, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "beat.h"
#include "privs.h"
#include "log.h"
#include "routes.h"
#include "silence.h"

#define DEFAULT_PIN_DIR "/sys/fs/bpf/xlb"
#define DEFAULT_INTERVAL_MS 1000

static void usage(FILE *f)
{
	fprintf(f, "Usage: xlb-guard [--pin-dir DIR] [--interval MS] [--once]\n"
		   "\n"
		   "Withdraw the announcements of an xlbd that went silent. xlbd writes a\n"
		   "heartbeat at every tick into DIR/beat, naming the routing table and route\n"
		   "protocol of the routes it announces and the silence it tolerates (announce:\n"
		   "table, protocol, hold). When the last beat is older than that hold time,\n"
		   "xlb-guard deletes those routes (only that table and protocol), once, and\n"
		   "says so; when beats resume it says that too (the agent announces again by\n"
		   "itself). It never adds a route. Without a beat (no agent yet) it does\n"
		   "nothing; when the beat goes away (xlbd --detach), the last one read counts.\n"
		   "\n"
		   "Options:\n"
		   "  -p, --pin-dir DIR     xlbd's pin directory (default " DEFAULT_PIN_DIR ")\n"
		   "  -i, --interval MS     read the beat every MS milliseconds (default 1000)\n"
		   "  -1, --once            read and act once, print the agent's state, exit\n"
		   "  -l, --log-level LVL   warn, info (default) or debug\n"
		   "  -h, --help            this text\n"
		   "  -V, --version         the version\n"
		   "\n"
		   "It keeps CAP_NET_ADMIN and CAP_BPF only. Exit status: 0 done, 1 runtime\n"
		   "failure, 2 bad usage.\n");
}

static __u64 boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

struct guard {
	const char *pin_dir;
	struct xlb_silence s;
	int read_err;	      /* the last read's error, said once a streak */
	struct xlb_beat last; /* the last beat read (table 0: none yet) */
};

/* One look at the beat; 0, or -errno when something could not be done. */
static int check(struct guard *g, int verbose)
{
	struct xlb_beat b = {};
	__u64 now = boot_ns();
	int err = xlb_beat_read(g->pin_dir, &b), n;

	if (err && err != -ENOENT) {
		if (err != g->read_err)
			pr_warn("couldn't read the beat '%s/beat': %s\n", g->pin_dir,
				strerror(-err));
		g->read_err = err;
		return err;
	}
	if (g->read_err == -ENOENT && !err)
		pr_info("agent found: pid %u beats in '%s/beat'\n", b.pid, g->pin_dir);
	else if (g->read_err && !err)
		pr_info("the beat '%s/beat' reads again\n", g->pin_dir);
	/*
	 * Gone after we saw an agent announce (xlbd --detach, or someone
	 * removed the pin dir): its routes may still be there, attracting
	 * traffic that nothing forwards any more. Its last beat counts: the
	 * silence goes on from there.
	 */
	if (err == -ENOENT && g->last.table) {
		if (g->read_err != err)
			pr_warn("the beat '%s/beat' is gone; the agent's last one counts (pid %u, "
				"table %u)\n",
				g->pin_dir, g->last.pid, g->last.table);
		b = g->last;
		g->read_err = err;
		err = 0;
	} else {
		g->read_err = err;
	}
	if (!err)
		g->last = b;
	switch (xlb_silence_step(&g->s, err ? NULL : &b, now)) {
	case XLB_SILENCE_WITHDRAW:
		n = xlb_routes_flush(b.table, b.protocol);
		if (n < 0) {
			pr_warn("couldn't withdraw the routes of table %u (protocol %u) of the "
				"silent agent (pid %u): %s; trying again in an interval\n",
				b.table, b.protocol, b.pid, strerror(-n));
			return n;
		}
		g->s.withdrawn = 1;
		pr_warn("agent silent for %.1fs (pid %u): withdrew %d routes from table %u "
			"(protocol %u)\n",
			(double)xlb_silence_age_ms(&b, now) / 1000, b.pid, n, b.table, b.protocol);
		break;
	case XLB_SILENCE_RESUMED:
		pr_warn("agent beats again (pid %u): it announces again by itself\n", b.pid);
		break;
	case XLB_SILENCE_NONE:
		break;
	}
	if (!verbose)
		return 0;
	if (err)
		printf("no agent beat under %s: nothing to guard\n", g->pin_dir);
	else
		printf("agent pid %u: last beat %.1fs ago, hold %.1fs, table %u protocol %u: %s\n",
		       b.pid, (double)xlb_silence_age_ms(&b, now) / 1000,
		       (double)xlb_silence_hold_ms(&b) / 1000, b.table, b.protocol,
		       !b.table ? "not announcing"
		       : xlb_silence_age_ms(&b, now) > xlb_silence_hold_ms(&b)
			       ? "silent, routes withdrawn"
			       : "alive");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pin-dir", required_argument, NULL, 'p'},
		{"interval", required_argument, NULL, 'i'},
		{"once", no_argument, NULL, '1'},
		{"log-level", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{},
	};
	struct guard g = {.pin_dir = DEFAULT_PIN_DIR};
	long interval = DEFAULT_INTERVAL_MS;
	int c, once = 0;
	char *end;

	xlb_log_level = XLB_LOG_INFO;
	while ((c = getopt_long(argc, argv, "p:i:1l:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			g.pin_dir = optarg;
			break;
		case 'i':
			errno = 0;
			interval = strtol(optarg, &end, 10);
			if (errno || *end || interval < 10 || interval > 60000) {
				fprintf(stderr,
					"xlb-guard: --interval '%s': give milliseconds "
					"from 10 to 60000\n",
					optarg);
				return 2;
			}
			break;
		case '1':
			once = 1;
			break;
		case 'l':
			if (!strcmp(optarg, "warn"))
				xlb_log_level = XLB_LOG_WARN;
			else if (!strcmp(optarg, "info"))
				xlb_log_level = XLB_LOG_INFO;
			else if (!strcmp(optarg, "debug"))
				xlb_log_level = XLB_LOG_DEBUG;
			else {
				fprintf(stderr,
					"xlb-guard: --log-level '%s': use warn, info or debug\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xlb-guard " XLB_VERSION "\n");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xlb-guard: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (guard_caps_drop())
		return 1;
	if (once)
		return check(&g, 1) ? 1 : 0;
	pr_info("guarding the agent's announcements: beat '%s/beat' read every %ld ms\n", g.pin_dir,
		interval);
	for (;;) {
		struct timespec ts = {.tv_sec = interval / 1000,
				      .tv_nsec = (interval % 1000) * 1000000L};

		check(&g, 0);
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
}
