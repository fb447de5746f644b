// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Configuration parsing and validation: a complete config is understood,
 * defaults apply, a dump parses back to the same config, and every rejected
 * input gets a message that names the place and the fix while the caller's
 * config stays exactly as it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "config.h"
#include "harness.h"
#include "test_unit.h"
#include "xlb_dp.h"

static const char *full = "interface: eth0\n"
			  "vips:\n"
			  "  - address: 10.0.0.10\n"
			  "    port: 80\n"
			  "    protocol: tcp\n"
			  "    mode: ipip\n"
			  "    hash: source\n"
			  "    on_empty: drop\n"
			  "    table_size: 251\n"
			  "    panic_threshold: 50%\n"
			  "    slow_start: 30s\n"
			  "    check:\n"
			  "      type: http\n"
			  "      interval: 1s\n"
			  "      timeout: 500ms\n"
			  "      path: /healthz\n"
			  "      status: \"200,204,300-399\"\n"
			  "      body: \"ok \\\"quoted\\\"\"\n"
			  "    backends:\n"
			  "      - address: 10.1.0.11\n"
			  "        weight: 3\n"
			  "        check_port: 8080\n"
			  "        backup: true\n"
			  "        check:\n"
			  "          interval: 5s\n"
			  "      - address: 2001:db8::12\n"
			  "        admin: drain\n"
			  "    reject_rate: 50\n"
			  "  - address: 2001:db8::10\n"
			  "    port: 0\n"
			  "    protocol: udp\n"
			  "    reject_rate: unlimited\n"
			  "    check:\n"
			  "      type: udp\n"
			  "      port: 53\n"
			  "      send: ping\n"
			  "    backends: []\n"
			  "mtu: 9000\n";

static int t_config_full_example(void)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	char vn[80];

	ASSERT_OK(xlb_cfg_load_string("full.yaml", full, &c, &err), err.msg);
	ASSERT_TRUE(!strcmp(c.iface, "eth0"), "interface");
	ASSERT_EQ(c.nvips, 2, "two VIPs");
	ASSERT_TRUE(!strcmp(xlb_cfg_vip_name(&c.vips[0], vn, sizeof(vn)), "10.0.0.10:80/tcp"),
		    "VIP name");
	ASSERT_EQ(c.vips[0].mode, XLB_MODE_IPIP, "mode");
	ASSERT_EQ(c.vips[0].hash, XLB_HASH_SRC, "hash");
	ASSERT_EQ(c.vips[0].on_empty, XLB_EMPTY_DROP, "on_empty");
	ASSERT_EQ(c.vips[0].table_size, 251, "table_size");
	ASSERT_EQ(c.mtu, 9000, "mtu");
	ASSERT_EQ(c.vips[0].reject_rate, 50, "reject_rate");
	ASSERT_EQ(c.vips[1].reject_rate, XLB_REJECT_RATE_UNLIMITED, "reject_rate unlimited");
	ASSERT_EQ(c.vips[0].nbackends, 2, "two backends");
	ASSERT_EQ(c.vips[0].backends[0].weight, 3, "weight");
	ASSERT_EQ(c.vips[0].backends[0].check.port, 8080, "check_port");
	ASSERT_EQ(c.vips[0].backends[0].line, 20, "backend's line");
	ASSERT_EQ(c.vips[0].panic_percent, 50, "panic_threshold");
	ASSERT_EQ(c.vips[0].slow_start_ms, 30000, "slow_start");
	ASSERT_EQ(c.vips[0].check.type, XLB_CHECK_HTTP, "check type");
	ASSERT_EQ(c.vips[0].check.nranges, 3, "three status ranges");
	ASSERT_EQ(c.vips[0].check.ranges[2].hi, 399, "status range");
	ASSERT_TRUE(!strcmp(c.vips[0].check.body, "ok \"quoted\""), "body with quotes");
	ASSERT_EQ(c.vips[0].backends[0].backup, 1, "backup");
	ASSERT_EQ(c.vips[0].backends[0].check.interval_ms, 5000, "backend's own interval");
	ASSERT_EQ(c.vips[0].backends[0].check.timeout_ms, 500, "VIP's timeout inherited");
	ASSERT_EQ(c.vips[0].backends[1].check.interval_ms, 1000, "VIP's interval inherited");
	ASSERT_EQ(c.vips[0].backends[1].check.rise, XLB_CHECK_DEFAULT_RISE, "default rise");
	ASSERT_EQ(c.vips[0].backends[1].check.port, 0, "VIP's port");
	ASSERT_EQ(c.vips[0].backends[1].family, XLB_AF_INET6, "IPv4 VIP to IPv6 backend (4in6)");
	ASSERT_EQ(c.vips[0].backends[1].weight, 1, "default weight");
	ASSERT_EQ(c.vips[0].backends[1].admin, XLB_ADMIN_DRAIN, "admin");
	ASSERT_EQ(c.vips[0].backends[0].admin, XLB_ADMIN_ENABLED, "default admin");
	ASSERT_TRUE(!strcmp(xlb_cfg_vip_name(&c.vips[1], vn, sizeof(vn)), "[2001:db8::10]:0/udp"),
		    "IPv6 VIP name");
	ASSERT_EQ(c.vips[1].mode, XLB_MODE_DSR, "default mode");
	ASSERT_EQ(c.vips[1].hash, XLB_HASH_5TUPLE, "default hash");
	ASSERT_EQ(c.vips[1].on_empty, XLB_EMPTY_REJECT, "default on_empty");
	ASSERT_EQ(c.vips[1].table_size, XLB_DEFAULT_TABLE_SIZE, "default table_size");
	ASSERT_EQ(c.vips[1].nbackends, 0, "no backends");
	xlb_cfg_free(&c);
	return 0;
}

static int t_config_dump_parses_back(void)
{
	struct xlb_cfg a = {}, b = {};
	struct xlb_err err = {};
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc = -1;

	if (xlb_cfg_load_string("full.yaml", full, &a, &err))
		return -1;
	f = open_memstream(&text, &len);
	if (f && !xlb_cfg_dump(&a, f)) {
		fclose(f);
		f = NULL;
		if (!xlb_cfg_load_string("dump", text, &b, &err) && xlb_cfg_equal(&a, &b))
			rc = 0;
		else
			harness_fail(__FILE__, __LINE__, "dump did not parse back: %s\n%s", err.msg,
				     text);
	}
	if (f)
		fclose(f);
	free(text);
	xlb_cfg_free(&a);
	xlb_cfg_free(&b);
	return rc;
}

static int t_config_empty_file_is_empty_config(void)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};

	ASSERT_OK(xlb_cfg_load_string("empty.yaml", "", &c, &err), err.msg);
	ASSERT_EQ(c.nvips, 0, "no VIPs");
	xlb_cfg_free(&c);
	return 0;
}

/* A VIP template: each rejected case changes one thing. */
#define VIP(body) "vips:\n  - address: 10.0.0.10\n    port: 80\n    protocol: tcp\n" body

static const struct reject_case {
	const char *what, *yaml, *want;
} rejects[] = {
	{"not YAML", "vips: [\n", "bad.yaml:2: not valid YAML"},
	{"top level is a list", "- a\n- b\n", "bad.yaml:1: each configuration must be a map"},
	{"unknown top-level key", "interfaces: eth0\n",
	 "bad.yaml:1: unknown key 'interfaces' at the top level; known keys: interface, mtu, vips"},
	{"mtu below IPv6's minimum", "mtu: 1000\n", "bad.yaml:1: mtu 1000 is below 1280"},
	{"mtu too big", "mtu: 70000\n", "bad.yaml:1: mtu '70000' is not a whole number"},
	{"reject_rate 0", VIP("    reject_rate: 0\n"),
	 "bad.yaml:5: reject_rate 0 would answer nothing: use 'on_empty: drop'"},
	{"reject_rate not a number", VIP("    reject_rate: fast\n"),
	 "bad.yaml:5: reject_rate 'fast' is not a whole number"},
	{"interface name too long", "interface: abcdefghijklmnopq\n",
	 "bad.yaml:1: interface 'abcdefghijklmnopq' is not a network interface name"},
	{"vips not a list", "vips: 10.0.0.1\n", "bad.yaml:1: 'vips' must be a list"},
	{"VIP not a map", "vips:\n  - 10.0.0.1\n", "bad.yaml:2: each VIP must be a map"},
	{"unknown VIP key", VIP("    prot: tcp\n"), "bad.yaml:5: unknown key 'prot' in a VIP"},
	{"bad VIP address", "vips:\n  - address: 10.0.0.300\n    port: 80\n    protocol: tcp\n",
	 "bad.yaml:2: VIP address '10.0.0.300' is not an IPv4 or IPv6 address"},
	{"port too big", "vips:\n  - address: 10.0.0.10\n    port: 70000\n    protocol: tcp\n",
	 "bad.yaml:3: port '70000' is not a whole number from 0 to 65535"},
	{"negative port", "vips:\n  - address: 10.0.0.10\n    port: -1\n    protocol: tcp\n",
	 "bad.yaml:3: port '-1' is not a whole number from 0 to 65535"},
	{"port is a list", "vips:\n  - address: 10.0.0.10\n    port: [80]\n    protocol: tcp\n",
	 "bad.yaml:3: 'port' must be a single value"},
	{"unknown protocol", "vips:\n  - address: 10.0.0.10\n    port: 80\n    protocol: sctp\n",
	 "bad.yaml:4: protocol 'sctp' is not one of: tcp, udp"},
	{"unknown mode", VIP("    mode: nat\n"), "bad.yaml:5: mode 'nat' is not one of: dsr, ipip"},
	{"unknown hash", VIP("    hash: random\n"),
	 "bad.yaml:5: hash 'random' is not one of: 5-tuple, source"},
	{"unknown on_empty", VIP("    on_empty: ignore\n"),
	 "bad.yaml:5: on_empty 'ignore' is not one of: reject, drop, pass"},
	{"table size not prime", VIP("    table_size: 65536\n"),
	 "bad.yaml:5: table_size 65536 is not one of the allowed primes"},
	{"table size prime but not listed", VIP("    table_size: 257\n"),
	 "bad.yaml:5: table_size 257 is not one of the allowed primes"},
	{"VIP without address", "vips:\n  - port: 80\n    protocol: tcp\n",
	 "bad.yaml:2: VIP has no address; add 'address: <IP>'"},
	{"VIP without port", "vips:\n  - address: 10.0.0.10\n    protocol: tcp\n",
	 "bad.yaml:2: VIP has no port"},
	{"VIP without protocol", "vips:\n  - address: 10.0.0.10\n    port: 80\n",
	 "bad.yaml:2: VIP has no protocol; add 'protocol: tcp' or 'udp'"},
	{"backends not a list", VIP("    backends: 10.1.0.1\n"),
	 "bad.yaml:5: 'backends' must be a list"},
	{"unknown backend key",
	 VIP("    backends:\n      - address: 10.1.0.1\n        wieght: 2\n"),
	 "bad.yaml:7: unknown key 'wieght' in a backend; known keys: address, weight, admin, "
	 "backup, check, check_port"},
	{"bad backend address", VIP("    backends:\n      - address: backend-1\n"),
	 "bad.yaml:6: backend address 'backend-1' is not an IPv4 or IPv6 address"},
	{"backend without address", VIP("    backends:\n      - weight: 2\n"),
	 "bad.yaml:6: backend has no address"},
	{"weight too big", VIP("    backends:\n      - address: 10.1.0.1\n        weight: 70000\n"),
	 "bad.yaml:7: weight '70000' is not a whole number from 0 to 65535"},
	{"weight not a number",
	 VIP("    backends:\n      - address: 10.1.0.1\n        weight: heavy\n"),
	 "bad.yaml:7: weight 'heavy' is not a whole number"},
	{"unknown admin state",
	 VIP("    backends:\n      - address: 10.1.0.1\n        admin: off\n"),
	 "bad.yaml:7: admin 'off' is not one of: enabled, drain, disabled"},
	{"check_port 0", VIP("    backends:\n      - address: 10.1.0.1\n        check_port: 0\n"),
	 "bad.yaml:7: check port 0 is not a port"},
	/* health checks (issue #4) */
	{"check timeout not below interval",
	 VIP("    check:\n      interval: 1s\n      timeout: 1s\n"),
	 "bad.yaml:2: VIP 10.0.0.10:80/tcp: check timeout 1000ms must be above 0 and below the "
	 "interval (1000ms)"},
	{"backend timeout override not below interval",
	 VIP("    backends:\n      - address: 10.1.0.1\n        check:\n          timeout: 3s\n"),
	 "bad.yaml:6: backend 10.1.0.1 of VIP 10.0.0.10:80/tcp: check timeout 3000ms must be"},
	{"check rise 0", VIP("    check:\n      rise: 0\n"),
	 "bad.yaml:6: check rise 0 would never change the state; use 1 or more"},
	{"check fall 0", VIP("    check:\n      fall: 0\n"),
	 "bad.yaml:6: check fall 0 would never change the state"},
	{"unknown check type", VIP("    check:\n      type: icmp\n"),
	 "bad.yaml:6: check type 'icmp' is not one of: tcp, http, https, udp, exec, none"},
	{"malformed status range", VIP("    check:\n      type: http\n      status: 200-\n"),
	 "bad.yaml:7: check status '200-' is not a list of HTTP codes and ranges"},
	{"status range backwards", VIP("    check:\n      type: http\n      status: 399-200\n"),
	 "bad.yaml:7: check status '399-200' is not a list"},
	{"status out of range", VIP("    check:\n      type: http\n      status: 200,99\n"),
	 "bad.yaml:7: check status '200,99' is not a list"},
	{"exec command missing",
	 VIP("    check:\n      type: exec\n      command: /nonexistent/chk\n"),
	 "VIP 10.0.0.10:80/tcp: check command '/nonexistent/chk' is not an executable file"},
	{"exec command not executable",
	 VIP("    check:\n      type: exec\n      command: /etc/passwd\n"),
	 "check command '/etc/passwd' is not an executable file"},
	{"exec command not in PATH",
	 VIP("    check:\n      type: exec\n      command: no-such-chk --x\n"),
	 "check command 'no-such-chk' is not an executable file (or not in PATH)"},
	{"exec without command", VIP("    check:\n      type: exec\n"),
	 "an exec check needs 'command: PROGRAM [ARGS]'"},
	{"path on a tcp check", VIP("    check:\n      path: /health\n"),
	 "check path, host, status and body are for http and https checks, not tcp"},
	{"duration without unit", VIP("    check:\n      interval: 2\n"),
	 "bad.yaml:6: check interval '2' is not a duration; write it with a unit: 500ms, 2s, 1m"},
	{"jitter above 50%", VIP("    check:\n      jitter: 60%\n"),
	 "bad.yaml:6: check jitter '60%' is not a percentage from 0% to 50%"},
	{"unknown check key", VIP("    check:\n      intervall: 2s\n"),
	 "bad.yaml:6: unknown key 'intervall' in a check"},
	{"type not overridable per backend",
	 VIP("    backends:\n      - address: 10.1.0.1\n        check:\n          type: http\n"),
	 "bad.yaml:8: 'type' cannot be set per backend"},
	{"port-0 VIP needs a check port",
	 "vips:\n  - address: 10.0.0.10\n    port: 0\n    protocol: tcp\n",
	 "VIP 10.0.0.10:0/tcp: the VIP takes every port (port 0), so the check needs one"},
	{"panic above 100%", VIP("    panic_threshold: 150\n"),
	 "bad.yaml:5: panic_threshold '150' is not a percentage from 0% to 100%"},
	{"backup not a bool",
	 VIP("    backends:\n      - address: 10.1.0.1\n        backup: maybe\n"),
	 "bad.yaml:7: backup 'maybe' is not true or false"},
	{"duplicate backend",
	 VIP("    backends:\n      - address: 10.1.0.1\n      - address: 10.1.0.1\n"),
	 "bad.yaml:7: backend 10.1.0.1 appears twice in VIP 10.0.0.10:80/tcp (first at line 6)"},
	{"duplicate VIP", VIP("  - address: 10.0.0.10\n    port: 80\n    protocol: tcp\n"),
	 "bad.yaml:5: VIP 10.0.0.10:80/tcp is defined twice (first at line 2); merge them"},
	{"ipip IPv6 VIP to IPv4 backend",
	 "vips:\n  - address: 2001:db8::10\n    port: 80\n    protocol: tcp\n    mode: ipip\n"
	 "    backends:\n      - address: 10.1.0.1\n",
	 "bad.yaml:7: backend 10.1.0.1 of VIP [2001:db8::10]:80/tcp: ipip cannot carry an IPv6 "
	 "VIP to an IPv4 backend"},
};

static int t_config_rejects_each_bad_input(void)
{
	struct xlb_cfg before = {}, c;
	struct xlb_err err;

	ASSERT_OK(xlb_cfg_load_string("full.yaml", full, &before, &err), err.msg);
	for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		const struct reject_case *r = &rejects[i];
		int rc;

		ASSERT_OK(xlb_cfg_copy(&c, &before), "copy");
		memset(&err, 0, sizeof(err));
		rc = xlb_cfg_load_string("bad.yaml", r->yaml, &c, &err);
		if (rc != -EINVAL || !strstr(err.msg, r->want) || !xlb_cfg_equal(&c, &before)) {
			harness_fail(__FILE__, __LINE__,
				     "%s: rc %d, message '%s', want it to contain '%s'%s", r->what,
				     rc, err.msg, r->want,
				     xlb_cfg_equal(&c, &before) ? "" : "; the config changed");
			xlb_cfg_free(&c);
			xlb_cfg_free(&before);
			return -1;
		}
		xlb_cfg_free(&c);
	}
	xlb_cfg_free(&before);
	return 0;
}

static int t_config_missing_file(void)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};

	ASSERT_EQ(xlb_cfg_load_file("/nonexistent/xlb.yaml", &c, &err), -ENOENT, "rc");
	ASSERT_TRUE(strstr(err.msg, "couldn't open config '/nonexistent/xlb.yaml'") != NULL,
		    err.msg);
	return 0;
}

const struct harness_case config_cases[] = {
	{"config_full_example", t_config_full_example},
	{"config_dump_parses_back", t_config_dump_parses_back},
	{"config_empty_file_is_empty_config", t_config_empty_file_is_empty_config},
	{"config_rejects_each_bad_input", t_config_rejects_each_bad_input},
	{"config_missing_file", t_config_missing_file},
};
const size_t config_ncases = sizeof(config_cases) / sizeof(config_cases[0]);
