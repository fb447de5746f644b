// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What this host announces (announce_plan.h): each VIP's decision in its
 * order of precedence, one route per address whatever the number of VIPs
 * on it, a VIP whose health is still unknown keeps what is there (no
 * withdrawal after a restart before a verdict), and only the difference
 * to the routes present is added or removed. Maintenance (announce.h) is
 * written before it is taken, read back by the next agent, and a file
 * the agent cannot read counts as maintenance of the host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "announce.h"
#include "announce_plan.h"
#include "events.h"
#include "harness.h"
#include "test_unit.h"
#include "xlb_dp.h"

static struct xlb_ann_vip vip(const char *addr, __u8 mode, __u8 usable, __u8 pending)
{
	struct xlb_ann_vip v = {.mode = mode, .usable = usable, .pending = pending};

	v.route.family = (__u8)xlb_addr_parse(addr, &v.route.addr);
	return v;
}

static int t_announce_decision_order(void)
{
	struct xlb_ann_vip v = vip("10.0.0.1", XLB_ANNOUNCE_WHEN_USABLE, 1, 0);

	ASSERT_EQ(xlb_ann_decide(0, 1, &v), XLB_ANN_OFF, "no announce block: off");
	ASSERT_EQ(xlb_ann_decide(1, 1, &v), XLB_ANN_USABLE, "usable");
	ASSERT_EQ(xlb_ann_decide(1, 0, &v), XLB_ANN_DETACHED, "detached beats usable");
	v.maintenance = 1;
	ASSERT_EQ(xlb_ann_decide(1, 1, &v), XLB_ANN_MAINTENANCE, "maintenance beats usable");
	v.mode = XLB_ANNOUNCE_ALWAYS;
	ASSERT_EQ(xlb_ann_decide(1, 1, &v), XLB_ANN_MAINTENANCE, "maintenance beats always");
	v.maintenance = 0;
	v.usable = 0;
	ASSERT_EQ(xlb_ann_decide(1, 1, &v), XLB_ANN_ALWAYS, "always while empty");
	v.mode = XLB_ANNOUNCE_NEVER;
	v.usable = 1;
	ASSERT_EQ(xlb_ann_decide(1, 1, &v), XLB_ANN_NEVER, "never");
	v.mode = XLB_ANNOUNCE_WHEN_USABLE;
	v.usable = 0;
	v.pending = 1;
	ASSERT_EQ(xlb_ann_decide(1, 1, &v), XLB_ANN_PENDING, "unknown health: pending");
	v.pending = 0;
	ASSERT_EQ(xlb_ann_decide(1, 1, &v), XLB_ANN_NO_USABLE, "verdict: no usable backend");
	ASSERT_EQ(xlb_ann_wants(XLB_ANN_PENDING), -1, "pending keeps");
	ASSERT_EQ(xlb_ann_wants(XLB_ANN_ALWAYS), 1, "always announces");
	ASSERT_EQ(xlb_ann_wants(XLB_ANN_NO_USABLE), 0, "empty withdraws");
	return 0;
}

/* Two VIPs on 10.0.0.1 (one usable, one not), one on 10.0.0.2 (empty,
 * present: goes), one on 10.0.0.3 (pending and present: stays), one on
 * 10.0.0.4 (pending, absent: not added), a stale 10.0.0.9 (goes), and
 * 2001:db8::1 always (added). 10.0.0.1 is added once. */
static int t_announce_plan_is_the_difference(void)
{
	struct xlb_ann_vip v[] = {
		vip("10.0.0.1", XLB_ANNOUNCE_WHEN_USABLE, 0, 0),
		vip("10.0.0.1", XLB_ANNOUNCE_WHEN_USABLE, 1, 0),
		vip("10.0.0.2", XLB_ANNOUNCE_WHEN_USABLE, 0, 0),
		vip("10.0.0.3", XLB_ANNOUNCE_WHEN_USABLE, 0, 1),
		vip("10.0.0.4", XLB_ANNOUNCE_WHEN_USABLE, 0, 1),
		vip("2001:db8::1", XLB_ANNOUNCE_ALWAYS, 0, 0),
		vip("10.0.0.1", XLB_ANNOUNCE_ALWAYS, 0, 0),
	};
	struct xlb_route present[3], add[7], del[3];
	int why[7], add_why[7], del_why[3];
	size_t n = sizeof(v) / sizeof(v[0]), nadd, ndel;
	char a[64];

	present[0] = vip("10.0.0.2", 0, 0, 0).route;
	present[1] = vip("10.0.0.3", 0, 0, 0).route;
	present[2] = vip("10.0.0.9", 0, 0, 0).route;
	for (size_t i = 0; i < n; i++)
		why[i] = xlb_ann_decide(1, 1, &v[i]);
	xlb_ann_plan(v, why, n, present, 3, add, add_why, &nadd, del, del_why, &ndel);
	ASSERT_EQ(nadd, 2, "two adds");
	ASSERT_TRUE(xlb_route_equal(&add[0], &v[0].route), xlb_addr_str(&add[0].addr, a, 64));
	ASSERT_EQ(add_why[0], XLB_ANN_USABLE, "for its usable VIP");
	ASSERT_TRUE(xlb_route_equal(&add[1], &v[5].route), xlb_addr_str(&add[1].addr, a, 64));
	ASSERT_EQ(ndel, 2, "two withdrawals");
	ASSERT_TRUE(xlb_route_equal(&del[0], &present[0]), "10.0.0.2 withdrawn");
	ASSERT_EQ(del_why[0], XLB_ANN_NO_USABLE, "because it has no usable backend");
	ASSERT_TRUE(xlb_route_equal(&del[1], &present[2]), "the stale route withdrawn");
	ASSERT_EQ(del_why[1], -1, "no VIP there");
	/* maintenance of every VIP: all go, nothing comes */
	for (size_t i = 0; i < n; i++) {
		v[i].maintenance = 1;
		why[i] = xlb_ann_decide(1, 1, &v[i]);
	}
	xlb_ann_plan(v, why, n, present, 3, add, add_why, &nadd, del, del_why, &ndel);
	ASSERT_EQ(nadd, 0, "nothing added in maintenance");
	ASSERT_EQ(ndel, 3, "every route withdrawn, the pending one too");
	ASSERT_EQ(del_why[1], XLB_ANN_MAINTENANCE, "because of maintenance");
	return 0;
}

static char adir[64] = "";

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* What the maintenance case works on; freed by its wrapper whatever the
 * assertions do. */
static struct {
	struct xlb_cfg cfg;
	struct xlb_sync *s;
	struct events *ev;
	struct announce *a, *b;
	char path[128];
} m;

static int maintenance_persists(void)
{
	struct xlb_err err = {};
	char text[512] = "";
	const char *names[4];
	__u64 since;
	FILE *f;

	m.a = announce_new(m.ev, NULL, adir);
	ASSERT_TRUE(m.a != NULL, "new");
	ASSERT_EQ(announce_host_maintenance(m.a, &since), 0, "no file: not in maintenance");
	ASSERT_EQ(announce_maintenance(m.a, &m.cfg, m.s, "10.0.0.9:80/tcp", 1, &err), -ENOENT,
		  "unknown VIP refused");
	ASSERT_TRUE(strstr(err.msg, "no such VIP") != NULL, err.msg);
	ASSERT_TRUE(access(m.path, F_OK) != 0, "a refused request wrote nothing");
	ASSERT_OK(announce_maintenance(m.a, &m.cfg, m.s, "10.0.0.1:80/tcp", 1, &err), err.msg);
	ASSERT_OK(announce_maintenance(m.a, &m.cfg, m.s, NULL, 1, &err), err.msg);
	f = fopen(m.path, "r");
	ASSERT_TRUE(f != NULL, "written");
	if (fread(text, 1, sizeof(text) - 1, f) == 0)
		text[0] = 0;
	fclose(f);
	ASSERT_TRUE(strstr(text, "\nhost ") && strstr(text, "\nvip 10.0.0.1:80/tcp "), text);
	m.b = announce_new(m.ev, NULL, adir); /* the next agent */
	ASSERT_TRUE(m.b != NULL, "again");
	ASSERT_EQ(announce_host_maintenance(m.b, &since), 1, "host maintenance restored");
	ASSERT_TRUE(since > 1700000000000ULL, "with when it was set");
	ASSERT_EQ(announce_maintenance_vips(m.b, names, 4), 1, "one VIP restored");
	ASSERT_TRUE(!strcmp(names[0], "10.0.0.1:80/tcp"), names[0]);
	announce_free(m.b);
	m.b = NULL;
	ASSERT_OK(announce_maintenance(m.a, &m.cfg, m.s, NULL, 0, &err), err.msg);
	m.b = announce_new(m.ev, NULL, adir);
	ASSERT_TRUE(m.b != NULL, "once more");
	ASSERT_EQ(announce_host_maintenance(m.b, &since) + announce_maintenance_vips(m.b, names, 4),
		  0, "off ends every maintenance, persisted");
	announce_free(m.b);
	m.b = NULL;
	/* a file the agent cannot read: withdrawing is the side to err on */
	ASSERT_OK(write_file(m.path, "host soon\n"), "garbage");
	m.b = announce_new(m.ev, NULL, adir);
	ASSERT_TRUE(m.b != NULL, "over garbage");
	ASSERT_EQ(announce_host_maintenance(m.b, &since), 1, "unreadable: host maintenance");
	return 0;
}

static int t_announce_maintenance_persists(void)
{
	static const char *yaml = "vips:\n  - {address: 10.0.0.1, port: 80, protocol: tcp}\n";
	struct xlb_err err = {};
	int rc = -1;

	memset(&m, 0, sizeof(m));
	snprintf(adir, sizeof(adir), "/tmp/xlb-announce.XXXXXX");
	m.s = calloc(1, sizeof(*m.s));
	m.ev = events_new();
	if (m.s && m.ev && mkdtemp(adir) && !xlb_cfg_load_string("c", yaml, &m.cfg, &err)) {
		snprintf(m.path, sizeof(m.path), "%s/maintenance", adir);
		rc = maintenance_persists();
		unlink(m.path);
		rmdir(adir);
	} else {
		harness_fail(__FILE__, __LINE__, "setup: %s", err.msg);
	}
	announce_free(m.a);
	announce_free(m.b);
	events_free(m.ev);
	free(m.s);
	xlb_cfg_free(&m.cfg);
	return rc;
}

const struct harness_case announce_cases[] = {
	{"announce_maintenance_persists", t_announce_maintenance_persists},
	{"announce_decision_order", t_announce_decision_order},
	{"announce_plan_is_the_difference", t_announce_plan_is_the_difference},
};
const size_t announce_ncases = sizeof(announce_cases) / sizeof(announce_cases[0]);
