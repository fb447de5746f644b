// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What an apply would change (cfgdiff.c): the lines an operator reviews with
 * `apply --dry-run` name every VIP and backend added, removed or changed,
 * and every changed field with its old and new value; nothing else.
 */
#include <stdio.h>
#include <string.h>

#include "cfgdiff.h"
#include "harness.h"
#include "test_unit.h"
#include "xlb_dp.h"

static const char *base = "interface: eth0\n"
			  "vips:\n"
			  "  - address: 10.0.0.10\n"
			  "    port: 80\n"
			  "    protocol: tcp\n"
			  "    backends:\n"
			  "      - address: 10.1.0.11\n"
			  "      - address: 10.1.0.12\n"
			  "  - address: 10.0.0.11\n"
			  "    port: 53\n"
			  "    protocol: udp\n"
			  "    check: {type: none}\n"
			  "    backends:\n"
			  "      - address: 10.1.0.21\n";

struct seen {
	char lines[16][600];
	int n;
};

static void collect(const struct xlb_cfg_change *ch, void *ctx)
{
	struct seen *s = ctx;
	char vn[80] = "-", bn[64] = "";

	if (s->n >= 16)
		return;
	if (ch->vip)
		xlb_cfg_vip_name(ch->vip, vn, sizeof(vn));
	if (ch->backend)
		xlb_addr_str(&ch->backend->addr, bn, sizeof(bn));
	snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%c %s%s%s%s%s", ch->kind, vn,
		 *bn ? " " : "", bn, *ch->what ? ": " : "", ch->what);
}

/* Diff base against base with `edit` (a string replaced once) applied. */
static int diff_edit(const char *from, const char *to, struct seen *s)
{
	char next[2048];
	const char *at = strstr(base, from);
	struct xlb_cfg a = {}, b = {};
	struct xlb_err err = {};
	int n = -1;

	if (!at)
		return -1;
	snprintf(next, sizeof(next), "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
	if (!xlb_cfg_load_string("a", base, &a, &err) && !xlb_cfg_load_string("b", next, &b, &err))
		n = xlb_cfg_diff(&a, &b, collect, s);
	else
		fprintf(stderr, "    %s\n", err.msg);
	xlb_cfg_free(&a);
	xlb_cfg_free(&b);
	return n;
}

static int t_diff_same_config_changes_nothing(void)
{
	struct seen s = {};

	ASSERT_EQ(diff_edit("eth0", "eth0", &s), 0, "changes between equal configs");
	return 0;
}

static int t_diff_backend_fields(void)
{
	struct seen s = {};

	ASSERT_EQ(diff_edit("      - address: 10.1.0.12\n",
			    "      - address: 10.1.0.12\n        weight: 3\n        admin: drain\n",
			    &s),
		  1, "one change");
	ASSERT_EQ(strcmp(s.lines[0],
			 "~ 10.0.0.10:80/tcp 10.1.0.12: weight 1 -> 3, admin enabled -> drain"),
		  0, s.lines[0]);
	return 0;
}

static int t_diff_backends_added_and_removed(void)
{
	struct seen s = {};

	ASSERT_EQ(diff_edit("      - address: 10.1.0.12\n", "      - address: 10.1.0.13\n", &s), 2,
		  "two changes");
	ASSERT_EQ(strcmp(s.lines[0], "+ 10.0.0.10:80/tcp 10.1.0.13"), 0, s.lines[0]);
	ASSERT_EQ(strcmp(s.lines[1], "- 10.0.0.10:80/tcp 10.1.0.12"), 0, s.lines[1]);
	return 0;
}

static int t_diff_vip_removed_once_added_with_backends(void)
{
	struct seen s = {};

	/* the UDP VIP moves to port 54: one VIP removed, one added */
	ASSERT_EQ(diff_edit("port: 53", "port: 54", &s), 3, "changes");
	ASSERT_EQ(strcmp(s.lines[0], "+ 10.0.0.11:54/udp"), 0, s.lines[0]);
	ASSERT_EQ(strcmp(s.lines[1], "+ 10.0.0.11:54/udp 10.1.0.21"), 0, s.lines[1]);
	ASSERT_EQ(strcmp(s.lines[2], "- 10.0.0.11:53/udp"), 0, s.lines[2]);
	return 0;
}

static int t_diff_check_and_vip_settings(void)
{
	struct seen s = {};

	ASSERT_EQ(diff_edit("    check: {type: none}\n",
			    "    on_empty: drop\n    check: {type: http, path: /hz, interval: "
			    "500ms, timeout: 200ms}\n",
			    &s),
		  1, "one change");
	ASSERT_EQ(strcmp(s.lines[0],
			 "~ 10.0.0.11:53/udp: on_empty reject -> drop, check type none -> "
			 "http, check interval 2s -> 500ms, check timeout 1s -> 200ms, check path "
			 "\"\" -> \"/hz\""),
		  0, s.lines[0]);
	return 0;
}

static int t_diff_backend_check_override(void)
{
	struct seen s = {};

	ASSERT_EQ(diff_edit("      - address: 10.1.0.12\n",
			    "      - address: 10.1.0.12\n        check: {interval: 5s}\n", &s),
		  1, "one change");
	ASSERT_EQ(strcmp(s.lines[0], "~ 10.0.0.10:80/tcp 10.1.0.12: check interval 2s -> 5s"), 0,
		  s.lines[0]);
	return 0;
}

/* A tcp check that starts talking: its payload shows escaped, as the dump
 * spells it, so a CR LF cannot split the line of an apply or an event. */
static int t_diff_tcp_send_expect_escaped(void)
{
	struct seen s = {};

	ASSERT_EQ(diff_edit("    protocol: tcp\n",
			    "    protocol: tcp\n    check: {send: PING\\r\\n, expect: +PONG}\n",
			    &s),
		  1, "one change");
	ASSERT_EQ(strcmp(s.lines[0], "~ 10.0.0.10:80/tcp: check send \"\" -> \"PING\\r\\n\", "
				     "check expect \"\" -> \"+PONG\""),
		  0, s.lines[0]);
	return 0;
}

static int t_diff_check_via(void)
{
	struct seen s = {};

	ASSERT_EQ(
		diff_edit("    protocol: tcp\n", "    protocol: tcp\n    check: {via: vip}\n", &s),
		1, "one change");
	ASSERT_EQ(strcmp(s.lines[0], "~ 10.0.0.10:80/tcp: check via backend -> vip"), 0,
		  s.lines[0]);
	return 0;
}

static int t_diff_interface(void)
{
	struct seen s = {};

	ASSERT_EQ(diff_edit("eth0", "eth1", &s), 1, "one change");
	ASSERT_EQ(strcmp(s.lines[0], "~ -: interface \"eth0\" -> \"eth1\""), 0, s.lines[0]);
	return 0;
}

static int t_diff_flow_table_size(void)
{
	struct seen s = {};

	ASSERT_EQ(diff_edit("interface: eth0\n", "interface: eth0\nflow_table_size: 4194304\n", &s),
		  1, "one change");
	ASSERT_EQ(strcmp(s.lines[0], "~ -: flow_table_size 1048576 -> 4194304"), 0, s.lines[0]);
	return 0;
}

/* The announce block going on, changing, and a VIP's announce mode. */
static int t_diff_announce(void)
{
	struct seen s = {};

	ASSERT_EQ(diff_edit("interface: eth0\n", "interface: eth0\nannounce: {}\n", &s), 1, "on");
	ASSERT_EQ(strcmp(s.lines[0], "~ -: announce off -> table 9641 protocol 250 hold 10s"), 0,
		  s.lines[0]);
	s.n = 0;
	ASSERT_EQ(diff_edit("    port: 53\n", "    port: 53\n    announce: never\n", &s), 1, "VIP");
	ASSERT_EQ(strcmp(s.lines[0], "~ 10.0.0.11:53/udp: announce when-usable -> never"), 0,
		  s.lines[0]);
	return 0;
}

/* A VIP's flow_state and handover (issue #14). */
static int t_diff_flow_state(void)
{
	struct seen s = {};

	ASSERT_EQ(diff_edit("    port: 80\n",
			    "    port: 80\n    mode: ipip\n    flow_state: stateless\n"
			    "    handover: 30s\n",
			    &s),
		  1, "one VIP changes");
	ASSERT_TRUE(strstr(s.lines[0], "flow_state table -> stateless") != NULL, s.lines[0]);
	ASSERT_TRUE(strstr(s.lines[0], "handover 600s -> 30s") != NULL, s.lines[0]);
	return 0;
}

const struct harness_case diff_cases[] = {
	{"diff_flow_state", t_diff_flow_state},
	{"diff_announce", t_diff_announce},
	{"diff_same_config_changes_nothing", t_diff_same_config_changes_nothing},
	{"diff_backend_fields", t_diff_backend_fields},
	{"diff_backends_added_and_removed", t_diff_backends_added_and_removed},
	{"diff_vip_removed_once_added_with_backends", t_diff_vip_removed_once_added_with_backends},
	{"diff_check_and_vip_settings", t_diff_check_and_vip_settings},
	{"diff_backend_check_override", t_diff_backend_check_override},
	{"diff_interface", t_diff_interface},
	{"diff_check_via", t_diff_check_via},
	{"diff_tcp_send_expect_escaped", t_diff_tcp_send_expect_escaped},
	{"diff_flow_table_size", t_diff_flow_table_size},
};
const size_t diff_ncases = sizeof(diff_cases) / sizeof(diff_cases[0]);
