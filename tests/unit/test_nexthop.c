// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The next-hop resolver (user/common/nexthop*.c) against the real kernel, in
 * a private network namespace of a forked child (skipped where unsharing is
 * not permitted): what its change events re-resolve, and what not.
 *
 *   xa 10.1.0.1/24 --veth-- xb    neighbours 10.1.0.2, 10.1.0.3 (permanent)
 *   10.2.0.0/24 and 10.3.0.0/24 via 10.1.0.2
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>

#include "harness.h"
#include "nexthop.h"
#include "test_unit.h"

#define SKIP 77

static const __u8 MAC2[6] = {2, 0, 0, 0, 0, 2}, MAC3[6] = {2, 0, 0, 0, 0, 3},
		  MAC22[6] = {2, 0, 0, 0, 0, 0x22};

static union xlb_addr a4(const char *s)
{
	union xlb_addr a = {};

	a.w[2] = htonl(0xffff);
	inet_pton(AF_INET, s, &a.w[3]);
	return a;
}

static int sh(const char *cmd)
{
	return system(cmd) == 0 ? 0 : -1;
}

static int lab(void)
{
	return sh("ip link set lo up && ip link add xa type veth peer name xb && "
		  "ip link set xa up && ip link set xb up && ip addr add 10.1.0.1/24 dev xa && "
		  "ip neigh add 10.1.0.2 lladdr 02:00:00:00:00:02 dev xa nud permanent && "
		  "ip neigh add 10.1.0.3 lladdr 02:00:00:00:00:03 dev xa nud permanent && "
		  "ip route add 10.2.0.0/24 via 10.1.0.2 && ip route add 10.3.0.0/24 via 10.1.0.2");
}

/* The three backends resolved once more; their MACs into m. */
static int resolve3(struct xlb_nh *nh, __u8 m[3][6])
{
	static const char *const be[3] = {"10.2.0.5", "10.3.0.5", "10.1.0.2"};

	for (int i = 0; i < 3; i++) {
		union xlb_addr a = a4(be[i]);
		int err = xlb_nh_resolve(nh, &a, m[i]);

		if (err)
			return err;
	}
	return 0;
}

static __u64 lookups(const struct xlb_nh *nh)
{
	return xlb_nh_stats(nh)->route_lookups;
}

static int events_body(struct xlb_nh *nh)
{
	__u8 m[3][6];
	__u64 l0;

	ASSERT_OK(lab(), "the lab");
	ASSERT_TRUE(xlb_nh_events_open(nh) >= 0, "event socket");
	ASSERT_OK(xlb_nh_refresh(nh), "first refresh");
	ASSERT_EQ(xlb_nh_stats(nh)->neigh_dumps, 1, "the first refresh reads the table");
	ASSERT_OK(resolve3(nh, m), "resolve");
	ASSERT_MEM(m[0], 6, MAC2, 6, "10.2.0.5 via 10.1.0.2");
	ASSERT_MEM(m[2], 6, MAC2, 6, "10.1.0.2 direct");
	ASSERT_EQ(lookups(nh), 3, "one route lookup a backend");
	ASSERT_OK(xlb_nh_refresh(nh) ?: resolve3(nh, m), "again");
	ASSERT_EQ(lookups(nh), 3, "known routes are not asked again");

	/* a route change for one backend's prefix: that backend only */
	ASSERT_OK(sh("ip route replace 10.2.0.0/24 via 10.1.0.3"), "move 10.2.0.0/24");
	ASSERT_TRUE(xlb_nh_events_read(nh) > 0, "the change counts");
	l0 = lookups(nh);
	ASSERT_OK(xlb_nh_refresh(nh) ?: resolve3(nh, m), "resolve after the change");
	ASSERT_EQ(lookups(nh) - l0, 1, "only 10.2.0.5 is looked up again");
	ASSERT_MEM(m[0], 6, MAC3, 6, "10.2.0.5 now via 10.1.0.3");
	ASSERT_MEM(m[1], 6, MAC2, 6, "10.3.0.5 unchanged");

	/* a prefix that holds no backend (a BGP daemon's churn): nothing */
	ASSERT_OK(sh("ip route add 192.168.0.0/16 via 10.1.0.2 && "
		     "ip route add 10.2.1.0/24 via 10.1.0.3 && ip route del 192.168.0.0/16"),
		  "unrelated routes");
	ASSERT_EQ(xlb_nh_events_read(nh), 0, "unrelated routes change nothing");
	l0 = lookups(nh);
	ASSERT_OK(xlb_nh_refresh(nh) ?: resolve3(nh, m), "resolve after them");
	ASSERT_EQ(lookups(nh) - l0, 0, "no lookup for unrelated routes");

	/* a more specific route for one backend, and an IPv6 route that
	 * would cover the mapped IPv4 range: the first moves 10.1.0.2 only */
	ASSERT_OK(sh("ip route add 10.1.0.2/32 dev xa && ip -6 route add ::/1 dev xa"),
		  "a /32 and ::/1");
	ASSERT_TRUE(xlb_nh_events_read(nh) > 0, "the /32 counts");
	l0 = lookups(nh);
	ASSERT_OK(xlb_nh_refresh(nh) ?: resolve3(nh, m), "resolve after the /32");
	ASSERT_EQ(lookups(nh) - l0, 1, "only 10.1.0.2 is looked up again");

	/* a neighbour's new MAC: seen from its event, no dump */
	ASSERT_OK(sh("ip neigh replace 10.1.0.2 lladdr 02:00:00:00:00:22 dev xa nud permanent"),
		  "new MAC");
	ASSERT_TRUE(xlb_nh_events_read(nh) > 0, "a new MAC counts");
	l0 = lookups(nh);
	ASSERT_OK(xlb_nh_refresh(nh) ?: resolve3(nh, m), "resolve after the new MAC");
	ASSERT_MEM(m[1], 6, MAC22, 6, "10.3.0.5 via the new MAC");
	ASSERT_MEM(m[2], 6, MAC22, 6, "10.1.0.2's new MAC");
	ASSERT_EQ(xlb_nh_stats(nh)->neigh_dumps, 1, "no dump for it");
	ASSERT_EQ(lookups(nh) - l0, 0, "nor route lookups");
	/* the same MAC in another usable state changes no answer */
	ASSERT_OK(sh("ip neigh replace 10.1.0.2 lladdr 02:00:00:00:00:22 dev xa nud stale"),
		  "stale, same MAC");
	ASSERT_EQ(xlb_nh_events_read(nh), 0, "reachable -> stale with the same MAC: nothing");
	ASSERT_OK(sh("ip neigh del 10.1.0.3 dev xa"), "10.1.0.3 gone");
	ASSERT_TRUE(xlb_nh_events_read(nh) > 0, "a deleted neighbour counts");
	ASSERT_EQ(resolve3(nh, m), -EAGAIN, "10.2.0.5's next hop is resolving again");
	return 0;
}

/* The safety net: route changes no event told of are found a slice a tick. */
static int tick_body(struct xlb_nh *nh)
{
	__u8 m[3][6];
	__u64 l0;
	int changed = 0;

	ASSERT_OK(lab(), "the lab");
	ASSERT_TRUE(xlb_nh_events_open(nh) >= 0, "event socket");
	ASSERT_OK(xlb_nh_refresh(nh) ?: resolve3(nh, m), "resolve");
	ASSERT_OK(sh("ip route replace 10.3.0.0/24 via 10.1.0.3"), "move 10.3.0.0/24");
	/* the event is not read: as if it were lost */
	l0 = lookups(nh);
	for (int t = 0; t < 8; t++) {
		changed += xlb_nh_tick(nh, 256);
		ASSERT_TRUE(lookups(nh) - l0 <= 1, "one slot a tick (256 slots, 256 ticks)");
	}
	for (int t = 8; t < 256; t++)
		changed += xlb_nh_tick(nh, 256);
	ASSERT_EQ(lookups(nh) - l0, 3, "each known route asked once in a pass");
	ASSERT_EQ(changed, 1, "the moved route is found");
	ASSERT_OK(resolve3(nh, m), "resolve");
	ASSERT_MEM(m[1], 6, MAC3, 6, "10.3.0.5 via 10.1.0.3");

	/* lost events: everything read again, and right */
	{
		int fd = xlb_nh_events_open(nh), small = 1;
		char cmd[64];
		FILE *b = fopen("/tmp/xlb-nh-batch", "w");

		ASSERT_TRUE(fd >= 0 && b, "a second event socket, a batch file");
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		for (int i = 0; i < 400; i++) {
			snprintf(cmd, sizeof(cmd), "route add 172.16.%d.0/24 via 10.1.0.2\n",
				 i % 250);
			fputs(i < 250 ? cmd : "", b);
		}
		fputs("route replace 10.3.0.0/24 via 10.1.0.2\n", b);
		fclose(b);
		ASSERT_OK(sh("ip -batch /tmp/xlb-nh-batch"), "a burst of routes");
		unlink("/tmp/xlb-nh-batch");
		ASSERT_TRUE(xlb_nh_events_read(nh) > 0, "lost events count");
		ASSERT_TRUE(xlb_nh_stats(nh)->events_lost > 0, "and are counted");
		ASSERT_OK(xlb_nh_refresh(nh) ?: resolve3(nh, m), "resolve after the loss");
		ASSERT_EQ(xlb_nh_stats(nh)->neigh_dumps, 2, "the table read again");
		ASSERT_MEM(m[1], 6, MAC2, 6, "10.3.0.5 back via 10.1.0.2");
	}
	return 0;
}

static int in_netns(int (*body)(struct xlb_nh *nh))
{
	pid_t pid;
	int st;

	fflush(stdout); /* the child must not print what we buffered */
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		struct xlb_nh *nh;
		int rc;

		if (unshare(CLONE_NEWNET))
			_exit(SKIP);
		nh = xlb_nh_new();
		rc = nh ? body(nh) : -1;
		xlb_nh_free(nh);
		_exit(rc ? 1 : 0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
		harness_fail(__FILE__, __LINE__, "the namespaced child died");
		return -1;
	}
	if (WEXITSTATUS(st) == SKIP) {
		printf("    no private network namespace here: skipped\n");
		return 0;
	}
	ASSERT_EQ(WEXITSTATUS(st), 0, "the checks in the namespaced child");
	return 0;
}

static int t_nexthop_events_touch_only_what_they_change(void)
{
	return in_netns(events_body);
}

static int t_nexthop_tick_finds_missed_changes(void)
{
	return in_netns(tick_body);
}

const struct harness_case nexthop_cases[] = {
	{"nexthop_events_touch_only_what_they_change",
	 t_nexthop_events_touch_only_what_they_change},
	{"nexthop_tick_finds_missed_changes", t_nexthop_tick_finds_missed_changes},
};
const size_t nexthop_ncases = sizeof(nexthop_cases) / sizeof(nexthop_cases[0]);
