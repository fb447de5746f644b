// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The announce table (user/common/routes.c) against the real kernel, in a
 * private network namespace of a forked child (skipped where unsharing is
 * not permitted), next to routes it must never touch: the same table with
 * another protocol, the same protocol in another table.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>

#include "harness.h"
#include "routes.h"
#include "test_unit.h"

#define T 9641	    /* > 255: the table travels in RTA_TABLE */
#define P 250	    /* xlb's default protocol */
#define OTHER_T 100 /* < 256: the table fits rtm_table */
#define SKIP 77

static struct xlb_route mk(const char *s)
{
	struct xlb_route r = {};

	if (strchr(s, ':')) {
		r.family = XLB_AF_INET6;
		inet_pton(AF_INET6, s, r.addr.b);
	} else {
		r.family = XLB_AF_INET;
		r.addr.w[2] = htonl(0xffff);
		inet_pton(AF_INET, s, &r.addr.w[3]);
	}
	return r;
}

static int has(const struct xlb_route *v, int n, const char *s)
{
	struct xlb_route r = mk(s);

	for (int i = 0; i < n; i++)
		if (v[i].family == r.family && !memcmp(&v[i].addr, &r.addr, sizeof(r.addr)))
			return 1;
	return 0;
}

/* In the child's own namespace: loopback up (routes via a down device
 * are refused), then the checks. */
static int lo_up(void)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!rc)
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return rc ? -errno : 0;
}

static int sh(const char *cmd)
{
	return system(cmd) == 0 ? 0 : -1;
}

static int routes_body(void)
{
	struct xlb_route v[8], a4 = mk("192.0.2.10"), a6 = mk("2001:db8::10"),
			       held = mk("192.0.2.30");

	ASSERT_OK(lo_up(), "loopback up");
	/* foreign routes: another protocol in our table, ours in another */
	ASSERT_OK(sh("ip route add 192.0.2.20/32 dev lo table 9641 proto 251 && "
		     "ip route add 192.0.2.30/32 dev lo table 9641 proto 251 && "
		     "ip -6 route add 2001:db8::20/128 dev lo table 9641 proto static && "
		     "ip route add 192.0.2.21/32 dev lo table 100 proto 250 && "
		     "ip -6 route add 2001:db8::21/128 dev lo table 100 proto 250"),
		  "foreign routes");

	ASSERT_EQ(xlb_routes_list(T, P, v, 8), 0, "no route of ours yet");
	ASSERT_OK(xlb_route_set(T, P, &a4, true), "add v4");
	ASSERT_OK(xlb_route_set(T, P, &a6, true), "add v6");
	ASSERT_OK(xlb_route_set(T, P, &a4, true), "add v4 again: idempotent");
	ASSERT_OK(xlb_route_set(T, P, &a6, true), "add v6 again: idempotent");
	ASSERT_EQ(xlb_routes_list(T, P, v, 8), 2, "list: only table+protocol");
	ASSERT_TRUE(has(v, 2, "192.0.2.10") && has(v, 2, "2001:db8::10"), "list: both families");
	ASSERT_EQ(xlb_routes_list(T, P, v, 1), 2, "list: the count beyond max");
	ASSERT_OK(
		sh("ip route show table 9641 proto 250 | grep -q '^192.0.2.10 dev lo scope link'"),
		"the route as `ip route add ADDR/32 dev lo` makes it");

	/* a foreign route holding the key is not taken over */
	ASSERT_EQ(xlb_route_set(T, P, &held, true), -EEXIST, "foreign route on the same key");
	ASSERT_EQ(xlb_routes_list(T, 251, v, 8), 2, "the foreign protocol's routes, unchanged");
	ASSERT_TRUE(has(v, 2, "192.0.2.30"), "the foreign route keeps its protocol");

	ASSERT_OK(xlb_route_set(T, P, &a4, false), "delete v4");
	ASSERT_OK(xlb_route_set(T, P, &a4, false), "delete absent v4: fine");
	ASSERT_OK(xlb_route_set(T, P, &held, false),
		  "delete: a foreign protocol's route is absent");
	ASSERT_EQ(xlb_routes_list(T, 251, v, 8), 2, "deleting never touched the foreign route");
	ASSERT_EQ(xlb_routes_list(T, P, v, 8), 1, "v6 left");
	ASSERT_OK(xlb_route_set(T, P, &a4, true), "add v4 back");

	/* a protocol change: each of ours replaced in place, and back */
	ASSERT_OK(xlb_route_replace(T, 252, &a4), "replace v4 with protocol 252");
	ASSERT_OK(xlb_route_replace(T, 252, &a6), "replace v6 with protocol 252");
	ASSERT_EQ(xlb_routes_list(T, P, v, 8), 0, "none left under the old protocol");
	ASSERT_EQ(xlb_routes_list(T, 252, v, 8), 2, "both under the new one");
	ASSERT_OK(sh("[ $(ip -6 route show table 9641 | grep -c '^2001:db8::10 ') = 1 ]"),
		  "one v6 route, not two");
	ASSERT_OK(xlb_route_replace(T, P, &a4) ?: xlb_route_replace(T, P, &a6), "and back");
	ASSERT_EQ(xlb_routes_list(T, 252, v, 8), 0, "none left under 252");

	ASSERT_EQ(xlb_routes_flush(T, P), 2, "flush: both of ours");
	ASSERT_EQ(xlb_routes_list(T, P, v, 8), 0, "flushed");
	ASSERT_EQ(xlb_routes_flush(T, P), 0, "flush again: nothing");
	ASSERT_EQ(xlb_routes_list(T, 251, v, 8), 2, "same table, other protocol: kept");
	ASSERT_EQ(xlb_routes_list(T, 4 /* static */, v, 8), 1, "same table, static v6: kept");
	ASSERT_EQ(xlb_routes_list(OTHER_T, P, v, 8), 2, "same protocol, other table: kept");
	ASSERT_TRUE(has(v, 2, "192.0.2.21") && has(v, 2, "2001:db8::21"), "both families kept");
	ASSERT_OK(xlb_route_set(T, P, &a6, false), "delete absent v6: fine");
	ASSERT_EQ(xlb_routes_list(4242, P, v, 8), 0, "a table that does not exist: empty");
	ASSERT_EQ(xlb_route_set(0, P, &a4, true), -EINVAL, "table 0 is refused");
	return 0;
}

static int t_routes_table_and_protocol_only(void)
{
	pid_t pid;
	int st;

	fflush(stdout); /* the child must not print what we buffered */
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (unshare(CLONE_NEWNET))
			_exit(SKIP);
		_exit(routes_body() ? 1 : 0);
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

const struct harness_case routes_cases[] = {
	{"routes_table_and_protocol_only", t_routes_table_and_protocol_only},
};
const size_t routes_ncases = sizeof(routes_cases) / sizeof(routes_cases[0]);
