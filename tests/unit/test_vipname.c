// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* VIP names (vipname.c): what xlbd and xlbctl both read and print. */
#include <string.h>
#include <netinet/in.h>

#include "harness.h"
#include "test_unit.h"
#include "vipname.h"

static int t_vipname_round_trip(void)
{
	static const char *const good[] = {"10.0.0.10:80/tcp", "[2001:db8::1]:443/udp",
					   "10.0.0.10:0/udp", "[::]:65535/tcp"};
	struct xlb_vip_name n;
	char buf[XLB_VIP_NAME_LEN];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ASSERT_OK(xlb_vip_name_parse(good[i], &n), good[i]);
		ASSERT_EQ(strcmp(xlb_vip_name_str(&n, buf, sizeof(buf)), good[i]), 0, buf);
	}
	ASSERT_OK(xlb_vip_name_parse("[2001:db8::1]:443/udp", &n), "v6");
	ASSERT_EQ(n.family, XLB_AF_INET6, "family");
	ASSERT_EQ(n.port, 443, "port");
	ASSERT_EQ(n.proto, IPPROTO_UDP, "protocol");
	return 0;
}

static int t_vipname_refuses(void)
{
	static const char *const bad[] = {"10.0.0.10:80",
					  "10.0.0.10/tcp",
					  "10.0.0.10:65536/tcp",
					  "10.0.0.10:-1/tcp",
					  "10.0.0.10: 80/tcp",
					  "10.0.0.10:80/sctp",
					  "2001:db8::1:80/tcp",
					  "[2001:db8::1:80/tcp",
					  "host:80/tcp",
					  "",
					  ":80/tcp",
					  "10.0.0.10:+80/tcp"};
	struct xlb_vip_name n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_EQ(xlb_vip_name_parse(bad[i], &n), -22, bad[i]);
	return 0;
}

static int t_vipname_order(void)
{
	/* address (IPv4 first, numerically), port, protocol; garbage last */
	ASSERT_TRUE(xlb_vip_name_cmp("10.0.0.9:80/tcp", "10.0.0.10:80/tcp") < 0, "numeric address");
	ASSERT_TRUE(xlb_vip_name_cmp("10.0.0.10:80/tcp", "[::1]:1/tcp") < 0, "IPv4 first");
	ASSERT_TRUE(xlb_vip_name_cmp("10.0.0.10:8/tcp", "10.0.0.10:80/tcp") < 0, "numeric port");
	ASSERT_TRUE(xlb_vip_name_cmp("10.0.0.10:80/tcp", "10.0.0.10:80/udp") < 0, "tcp first");
	ASSERT_TRUE(xlb_vip_name_cmp("10.0.0.10:80/tcp", "zzz") < 0, "unparsable last");
	ASSERT_EQ(xlb_vip_name_cmp("10.0.0.10:80/tcp", "10.0.0.10:80/tcp"), 0, "equal");
	return 0;
}

const struct harness_case vipname_cases[] = {
	{"vipname_round_trip", t_vipname_round_trip},
	{"vipname_refuses", t_vipname_refuses},
	{"vipname_order", t_vipname_order},
};
const size_t vipname_ncases = sizeof(vipname_cases) / sizeof(vipname_cases[0]);
