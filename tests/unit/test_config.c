// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Configuration parsing and validation: a complete config is understood,
 * defaults apply, a dump parses back to the same config, and every rejected
 * input gets a message that names the place and the fix while the caller's
 * config stays exactly as it was.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "config.h"
#include "config_dump.h"
#include "harness.h"
#include "test_unit.h"
#include "text.h"
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
			  "    syn_retry: same-backend\n"
			  "    outlier:\n"
			  "      window: 5s\n"
			  "      threshold: 60%\n"
			  "      min_samples: 8\n"
			  "      base_ejection_time: 10s\n"
			  "      max_ejection_time: 1m\n"
			  "      max_ejection_percent: 34%\n"
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
	ASSERT_EQ(c.vips[0].syn_retry, XLB_SYN_RETRY_SAME, "syn_retry");
	ASSERT_EQ(c.vips[1].syn_retry, XLB_SYN_RETRY_ANOTHER, "default syn_retry");
	{
		struct xlb_cfg_outlier o = xlb_cfg_outlier_of(&c.vips[0]),
				       u = xlb_cfg_outlier_of(&c.vips[1]);

		ASSERT_EQ(o.state, XLB_OUTLIER_ON, "outlier block: on");
		ASSERT_EQ(o.window_ms, 5000, "outlier window");
		ASSERT_EQ(o.threshold_pct, 60, "outlier threshold");
		ASSERT_EQ(o.min_samples, 8, "outlier min_samples");
		ASSERT_EQ(o.base_ejection_ms, 10000, "outlier base_ejection_time");
		ASSERT_EQ(o.max_ejection_ms, 60000, "outlier max_ejection_time");
		ASSERT_EQ(o.max_percent, 34, "outlier max_ejection_percent");
		ASSERT_EQ(u.state, XLB_OUTLIER_OFF, "a udp VIP: off by default");
	}
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

#define X64 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

/* A VIP template: each rejected case changes one thing. */
#define VIP(body) "vips:\n  - address: 10.0.0.10\n    port: 80\n    protocol: tcp\n" body

static const struct reject_case {
	const char *what, *yaml, *want;
} rejects[] = {
	{"not YAML", "vips: [\n", "bad.yaml:2: not valid YAML"},
	{"top level is a list", "- a\n- b\n", "bad.yaml:1: each configuration must be a map"},
	{"unknown top-level key", "interfaces: eth0\n",
	 "bad.yaml:1: unknown key 'interfaces' at the top level; known keys: interface, "
	 "deleted_vip_grace, hash_seed, hash_seed_file, mtu, flow_table_size, announce, vips"},
	{"flow_table_size below the least", "flow_table_size: 4095\n",
	 "bad.yaml:1: flow_table_size 4095 is outside 4096..67108864 flows (64 bytes of kernel "
	 "memory each: 256 KiB..4 GiB); size it to about twice the concurrent flows"},
	{"flow_table_size above the most", "flow_table_size: 67108865\n",
	 "bad.yaml:1: flow_table_size 67108865 is outside 4096..67108864 flows"},
	{"flow_table_size not a number", "flow_table_size: 1M\n",
	 "bad.yaml:1: flow_table_size '1M' is not a whole number"},
	{"announce table main", "announce: {table: 254}\n",
	 "bad.yaml:1: announce table 254 is not a table xlbd may own: give 1 to 4294967295 but "
	 "not 253, 254 or 255"},
	{"announce table 0", "announce: {table: 0}\n",
	 "bad.yaml:1: announce table 0 is not a table xlbd may own"},
	{"announce table too big", "announce: {table: 4294967296}\n",
	 "bad.yaml:1: announce table '4294967296' is not a whole number from 0 to 4294967295"},
	{"announce protocol of the kernel", "announce: {protocol: 4}\n",
	 "bad.yaml:1: announce protocol 4 is one of the kernel's own (0-4); give 5 to 255"},
	{"announce protocol too big", "announce: {protocol: 256}\n",
	 "bad.yaml:1: announce protocol '256' is not a whole number from 0 to 255"},
	{"announce hold too short", "announce: {hold: 500ms}\n",
	 "bad.yaml:1: announce hold 500ms is out of range; give 1s to 10m"},
	{"announce hold too long", "announce: {hold: 11m}\n",
	 "bad.yaml:1: announce hold 660000ms is out of range; give 1s to 10m"},
	{"announce hold without unit", "announce: {hold: 10}\n",
	 "bad.yaml:1: announce hold '10' is not a duration"},
	{"announce unknown key", "announce: {tabel: 5}\n",
	 "bad.yaml:1: unknown key 'tabel' in 'announce'; known keys: table, protocol, hold"},
	{"announce a list", "announce: [1]\n", "bad.yaml:1: each announce block must be a map"},
	{"VIP announce unknown", VIP("    announce: sometimes\n"),
	 "bad.yaml:5: announce 'sometimes' is not one of: when-usable, always, never"},
	{"VIP flow_state unknown", VIP("    flow_state: none\n"),
	 "bad.yaml:5: flow_state 'none' is not one of: table, stateless"},
	{"stateless dsr VIP", VIP("    flow_state: stateless\n"),
	 "bad.yaml:2: VIP 10.0.0.10:80/tcp: flow_state stateless needs mode ipip (a dsr backend "
	 "cannot hand a packet on to the previous one); set 'mode: ipip' (backends run "
	 "xlb-decap) or 'flow_state: table'"},
	{"handover too short", VIP("    handover: 500ms\n"),
	 "bad.yaml:5: handover 500ms is out of range; give 1s to 24h (default 10m)"},
	{"handover without unit", VIP("    handover: 10\n"),
	 "bad.yaml:5: handover '10' is not a duration"},
	{"deleted_vip_grace without a unit", "deleted_vip_grace: 60\n",
	 "bad.yaml:1: deleted_vip_grace '60' is not a duration; write it with a unit"},
	{"deleted_vip_grace negative", "deleted_vip_grace: -1s\n",
	 "bad.yaml:1: deleted_vip_grace '-1s' is not a duration"},
	{"mtu below IPv6's minimum", "mtu: 1000\n", "bad.yaml:1: mtu 1000 is below 1280"},
	{"mtu too big", "mtu: 70000\n", "bad.yaml:1: mtu '70000' is not a whole number"},
	{"syn_retry unknown", VIP("    syn_retry: retry\n"), "bad.yaml:5: syn_retry 'retry'"},
	{"syn_retry same-backend on a stateless VIP",
	 VIP("    mode: ipip\n    flow_state: stateless\n    syn_retry: same-backend\n"),
	 "syn_retry same-backend has no effect on a stateless VIP"},
	{"outlier unknown key", VIP("    outlier: {treshold: 50%}\n"),
	 "bad.yaml:5: unknown key 'treshold' in 'outlier'; known keys: window, threshold, "
	 "min_samples, base_ejection_time, max_ejection_time, max_ejection_percent"},
	{"outlier not a switch", VIP("    outlier: maybe\n"),
	 "bad.yaml:5: outlier 'maybe' is not true or false"},
	{"outlier window too long", VIP("    outlier: {window: 2m}\n"),
	 "bad.yaml:5: outlier window 120000ms is out of range; give 1s to 60s (default 10s)"},
	{"outlier threshold 0", VIP("    outlier: {threshold: 0%}\n"),
	 "bad.yaml:5: outlier threshold 0% would eject every backend; give 1% to 100%"},
	{"outlier max_ejection_percent 0", VIP("    outlier: {max_ejection_percent: 0}\n"),
	 "bad.yaml:5: outlier max_ejection_percent 0% would eject none; give 1% to 100% "
	 "(default 50%), or 'outlier: off'"},
	{"outlier min_samples 0", VIP("    outlier: {min_samples: 0}\n"),
	 "bad.yaml:5: outlier min_samples 0 would judge a backend on no SYN at all"},
	{"outlier max below base",
	 VIP("    outlier: {base_ejection_time: 1m, max_ejection_time: 30s}\n"),
	 "bad.yaml:2: VIP 10.0.0.10:80/tcp: outlier max_ejection_time 30000ms is below "
	 "base_ejection_time 60000ms; raise it or lower the base"},
	{"outlier on a stateless VIP",
	 VIP("    mode: ipip\n    flow_state: stateless\n    outlier: on\n"),
	 "bad.yaml:2: VIP 10.0.0.10:80/tcp: outlier detection reads retransmitted TCP SYNs from "
	 "the flow table; a stateless VIP has none: remove 'outlier' (or 'outlier: off')"},
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
	{"duration that wraps when multiplied",
	 VIP("    check:\n      interval: 18446744073709552s\n      timeout: 100ms\n"),
	 "bad.yaml:6: check interval '18446744073709552s' is not a duration; write it with a unit"},
	{"duration above 24h", VIP("    slow_start: 1441m\n"),
	 "bad.yaml:5: slow_start '1441m' is not a duration"},
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
	/* text fields: what goes on the wire as a protocol token is visible
	 * ASCII, a command has no control characters (issue #11) */
	{"check path with a space", VIP("    check:\n      type: http\n      path: /a b\n"),
	 "bad.yaml:2: VIP 10.0.0.10:80/tcp: check path \"/a b\" holds a character it cannot "
	 "carry at byte 3; a request path is visible ASCII: percent-encode the rest, e.g. %20"},
	{"check path with DEL", VIP("    check:\n      type: http\n      path: \"/a\\x7f\"\n"),
	 "check path \"/a\\x7f\" holds a character it cannot carry at byte 3"},
	{"check host with CR LF",
	 VIP("    check:\n      type: http\n      host: \"a\\r\\nX-Evil: 1\"\n"),
	 "check host \"a\\r\\nX-Evil: 1\" holds a character it cannot carry at byte 2; a host "
	 "name is visible ASCII"},
	{"check host not ASCII", VIP("    check:\n      type: https\n      host: bücher.example\n"),
	 "check host \"bücher.example\" holds a character it cannot carry at byte 2; a host name "
	 "is "
	 "visible ASCII: write an international name in its xn-- form"},
	{"check command with a newline",
	 VIP("    check:\n      type: exec\n      command: \"/bin/true\\n/bin/false\"\n"),
	 "check command \"/bin/true\\n/bin/false\" holds a character it cannot carry at byte 10; "
	 "write the command on one line"},
	{"check command with a C1 control",
	 VIP("    check:\n      type: exec\n      command: \"/bin/true \\x9b\"\n"),
	 "check command \"/bin/true \\x9b\" holds a character it cannot carry at byte 11"},
	{"interface with a control character", "interface: \"e\\x01th0\"\n",
	 "bad.yaml: interface \"e\\x01th0\" is not a network interface name"},
	{"interface with a colon", "interface: \"eth0:1\"\n",
	 "bad.yaml: interface \"eth0:1\" is not a network interface name (visible ASCII other "
	 "than '/' and ':')"},
	/* tcp send/expect (issue #16) */
	{"send on an http check", VIP("    check:\n      type: http\n      send: x\n"),
	 "VIP 10.0.0.10:80/tcp: check send and expect are for tcp and udp checks, not http; "
	 "remove them or change the type"},
	{"expect on an exec check",
	 VIP("    check:\n      type: exec\n      command: /bin/true\n      expect: x\n"),
	 "check send and expect are for tcp and udp checks, not exec"},
	{"unknown escape in send", VIP("    check:\n      send: a\\qb\n"),
	 "bad.yaml:6: check send: '\\qb' at character 2 is not an escape xlb reads; write "
	 "\\r, \\n, \\t, \\\\ (a backslash) or \\xHH (01 to 7f)"},
	{"\\x00 in send", VIP("    check:\n      send: 'a\\x00'\n"),
	 "bad.yaml:6: check send: '\\x00' at character 2 is not an escape"},
	{"\\xff in expect", VIP("    check:\n      expect: \\xff\n"),
	 "bad.yaml:6: check expect: '\\xff' at character 1 is not an escape"},
	{"\\x with one digit", VIP("    check:\n      expect: a\\x4\n"),
	 "bad.yaml:6: check expect: '\\x4' at character 2 is not an escape"},
	{"backslash at the end", VIP("    check:\n      send: a\\\n"),
	 "bad.yaml:6: check send: '\\' at character 2 is not an escape"},
	{"expect longer than 256 bytes", VIP("    check:\n      expect: " X64 X64 X64 X64 "y\n"),
	 "bad.yaml:6: check expect is longer than 256 characters"},
	/* via (issue #16, checks through the data path) */
	{"via neither backend nor vip", VIP("    check:\n      via: lb\n"),
	 "bad.yaml:6: check via 'lb' is not one of: backend (probes to the backend's address), "
	 "vip"},
	{"via vip on an exec check",
	 VIP("    check:\n      type: exec\n      command: /bin/true\n      via: vip\n"),
	 "check via vip sends the probe to the VIP through the data path, which a exec check "
	 "has no probe for"},
	{"via vip on a none check", VIP("    check:\n      type: none\n      via: vip\n"),
	 "which a none check has no probe for"},
	{"NUL in a string", VIP("    check:\n      type: udp\n      send: \"a\\0b\"\n"),
	 "bad.yaml:7: 'check send' holds a NUL character (\\0); remove it"},
	{"NUL in a key", "vips:\n  - \"address\\0x\": 10.0.0.1\n    port: 80\n    protocol: tcp\n",
	 "bad.yaml:2: keys must be plain names"},
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

/* flow_table_size: absent is the default, a size is rounded up to whole
 * buckets of XLB_FLOW_WAYS (any number of them: no power of two needed),
 * the default written out equals it absent, and a dump loads back equal. */
static int t_config_flow_table_size(void)
{
	struct xlb_cfg c = {}, d = {};
	struct xlb_err err = {};
	char *text = NULL;
	size_t len = 0;

	ASSERT_OK(xlb_cfg_load_string("a", "vips: []\n", &c, &err), err.msg);
	ASSERT_EQ(xlb_cfg_flow_entries(&c), XLB_DEFAULT_FLOW_ENTRIES, "absent: the default");
	ASSERT_OK(xlb_cfg_load_string("b", "flow_table_size: 1048576\n", &d, &err), err.msg);
	ASSERT_TRUE(xlb_cfg_equal(&c, &d), "the default written out equals it absent");
	xlb_cfg_free(&c);
	xlb_cfg_free(&d);
	ASSERT_OK(xlb_cfg_load_string("c", "flow_table_size: 3000001\n", &c, &err), err.msg);
	ASSERT_EQ(xlb_cfg_flow_entries(&c), 3000004, "rounded up to whole buckets");
	ASSERT_OK(xlb_cfg_dump_checked(&c, &text, &len, &err), err.msg);
	ASSERT_TRUE(strstr(text, "flow_table_size: 3000004\n") != NULL, text);
	ASSERT_OK(xlb_cfg_load_string("dump", text, &d, &err), err.msg);
	free(text);
	ASSERT_TRUE(xlb_cfg_equal(&c, &d), "dump loads back equal");
	d.flow_table_size = 4096;
	ASSERT_TRUE(!xlb_cfg_equal(&c, &d), "another size is another config");
	xlb_cfg_free(&c);
	xlb_cfg_free(&d);
	ASSERT_OK(xlb_cfg_load_string("e", "flow_table_size: 4096\n", &c, &err), err.msg);
	ASSERT_EQ(xlb_cfg_flow_entries(&c), 4096, "the least");
	xlb_cfg_free(&c);
	ASSERT_OK(xlb_cfg_load_string("f", "flow_table_size: 67108864\n", &c, &err), err.msg);
	ASSERT_EQ(xlb_cfg_flow_entries(&c), 67108864, "the most");
	xlb_cfg_free(&c);
	return 0;
}

/* The announce block: absent is off (table 0), {} and a bare key are the
 * defaults, every field is read, the per-VIP mode defaults to when-usable;
 * all of it dumps and loads back equal, and a change of any field is a
 * different config (a reload must see it). */
static int t_config_announce_block(void)
{
	static const char *yaml =
		"announce:\n  table: 100\n  protocol: 5\n  hold: 1m\n"
		"vips:\n"
		"  - {address: 10.0.0.1, port: 80, protocol: tcp, announce: never}\n"
		"  - {address: 10.0.0.1, port: 443, protocol: tcp, announce: always}\n"
		"  - {address: 10.0.0.2, port: 80, protocol: tcp}\n";
	struct xlb_cfg c = {}, d = {}, e = {};
	struct xlb_err err = {};
	char *text = NULL;
	size_t len = 0;

	ASSERT_OK(xlb_cfg_load_string("off", "vips: []\n", &c, &err), err.msg);
	ASSERT_EQ(c.announce.table, 0, "absent: off");
	xlb_cfg_free(&c);
	ASSERT_OK(xlb_cfg_load_string("braces", "announce: {}\n", &c, &err), err.msg);
	ASSERT_EQ(c.announce.table, XLB_CFG_DEFAULT_ANNOUNCE_TABLE, "{}: default table");
	ASSERT_EQ(c.announce.protocol, XLB_CFG_DEFAULT_ANNOUNCE_PROTOCOL, "default protocol");
	ASSERT_EQ(c.announce.hold_ms, XLB_CFG_DEFAULT_ANNOUNCE_HOLD_MS, "default hold");
	ASSERT_OK(xlb_cfg_load_string("bare", "announce:\n", &d, &err), err.msg);
	ASSERT_TRUE(xlb_cfg_equal(&c, &d), "a bare 'announce:' is {}");
	xlb_cfg_free(&c);
	xlb_cfg_free(&d);
	ASSERT_OK(xlb_cfg_load_string("set", yaml, &c, &err), err.msg);
	ASSERT_EQ(c.announce.table, 100, "table");
	ASSERT_EQ(c.announce.protocol, 5, "protocol");
	ASSERT_EQ(c.announce.hold_ms, 60000, "hold");
	ASSERT_EQ(c.vips[0].announce, XLB_ANNOUNCE_NEVER, "never");
	ASSERT_EQ(c.vips[1].announce, XLB_ANNOUNCE_ALWAYS, "always");
	ASSERT_EQ(c.vips[2].announce, XLB_ANNOUNCE_WHEN_USABLE, "default when-usable");
	ASSERT_OK(xlb_cfg_dump_checked(&c, &text, &len, &err), err.msg);
	ASSERT_TRUE(strstr(text, "announce:\n  table: 100\n  protocol: 5\n  hold: 60000ms\n") !=
			    NULL,
		    text);
	ASSERT_TRUE(strstr(text, "    announce: never\n") != NULL, text);
	ASSERT_OK(xlb_cfg_load_string("dump", text, &d, &err), err.msg);
	free(text);
	ASSERT_TRUE(xlb_cfg_equal(&c, &d), "dump loads back equal");
	ASSERT_OK(xlb_cfg_copy(&e, &d), "copy");
	e.announce.hold_ms = 2000;
	ASSERT_TRUE(!xlb_cfg_equal(&d, &e), "hold differs");
	e.announce = d.announce;
	e.vips[2].announce = XLB_ANNOUNCE_NEVER;
	ASSERT_TRUE(!xlb_cfg_equal(&d, &e), "a VIP's announce differs");
	e.vips[2].announce = XLB_ANNOUNCE_WHEN_USABLE;
	e.announce = (struct xlb_cfg_announce){};
	ASSERT_TRUE(!xlb_cfg_equal(&d, &e), "off differs");
	ASSERT_OK(xlb_cfg_validate(&e, "e", &err), "off validates");
	e.announce.table = 255;
	ASSERT_EQ(xlb_cfg_validate(&e, "e", &err), -EINVAL, "a request cannot set table 255");
	ASSERT_TRUE(strstr(err.msg, "announce table 255 is the kernel's") != NULL, err.msg);
	xlb_cfg_free(&c);
	xlb_cfg_free(&d);
	xlb_cfg_free(&e);
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

/* `vip set V check {type: tcp}` over an http check: the http settings it
 * did not repeat go with the old type; ones it gives are still checked. */
/*
 * Each text setting of a check holds as much as its field: the parser and
 * validation share one table of them (config_int.h), so a wrong length or
 * place there shows here as a refused fit or an accepted overflow.
 */
static int t_config_check_text_fills_its_field(void)
{
	static const struct {
		const char *key;
		size_t room;
	} fields[] = {{"path", XLB_CHECK_STR},		{"host", XLB_CHECK_STR},
		      {"body", XLB_CHECK_STR},		{"send", XLB_CHECK_SEND_LEN},
		      {"expect", XLB_CHECK_EXPECT_LEN}, {"command", XLB_CHECK_STR * 2}};
	struct xlb_cfg_vip v = {.port = 80, .proto = IPPROTO_TCP};
	struct xlb_err err = {};
	char yaml[XLB_CHECK_SEND_LEN + 64], val[XLB_CHECK_SEND_LEN + 1], want[80];

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		size_t n = fields[i].room - 1;
		const char *got;

		xlb_cfg_check_defaults(&v.check);
		memset(val, 'a', sizeof(val));
		val[0] = '/';
		val[n] = 0;
		snprintf(yaml, sizeof(yaml), "{%s: \"%s\"}", fields[i].key, val);
		ASSERT_OK(xlb_cfg_parse_check(yaml, &v, NULL, &err), err.msg);
		got = !strcmp(fields[i].key, "path")	 ? v.check.path
		      : !strcmp(fields[i].key, "host")	 ? v.check.host
		      : !strcmp(fields[i].key, "body")	 ? v.check.body
		      : !strcmp(fields[i].key, "send")	 ? v.check.send
		      : !strcmp(fields[i].key, "expect") ? v.check.expect
							 : v.check.command;
		ASSERT_EQ(strcmp(got, val), 0, fields[i].key);
		val[n] = 'a';
		val[n + 1] = 0;
		snprintf(yaml, sizeof(yaml), "{%s: \"%s\"}", fields[i].key, val);
		ASSERT_EQ(xlb_cfg_parse_check(yaml, &v, NULL, &err), -EINVAL, fields[i].key);
		snprintf(want, sizeof(want), "check %s is longer than %zu characters",
			 fields[i].key, n);
		ASSERT_TRUE(strstr(err.msg, want) != NULL, err.msg);
	}
	return 0;
}

static int t_config_check_type_change_drops_old_settings(void)
{
	struct xlb_cfg_vip v = {
		.port = 80, .proto = IPPROTO_TCP, .table_size = XLB_DEFAULT_TABLE_SIZE};
	struct xlb_cfg c = {.vips = &v, .nvips = 1};
	struct xlb_err err = {};

	v.family = (__u8)xlb_addr_parse("10.0.0.1", &v.addr);
	xlb_cfg_check_defaults(&v.check);
	ASSERT_OK(xlb_cfg_parse_check("{type: http, path: /hz, status: \"200\", body: ok}", &v,
				      NULL, &err),
		  err.msg);
	ASSERT_OK(xlb_cfg_parse_check("{type: tcp}", &v, NULL, &err), err.msg);
	ASSERT_EQ(v.check.type, XLB_CHECK_TCP, "type");
	ASSERT_TRUE(!v.check.path[0] && !v.check.body[0] && !v.check.nranges, "http settings gone");
	ASSERT_OK(xlb_cfg_validate(&c, "t", &err), err.msg);
	/* http -> https keeps what both use */
	ASSERT_OK(xlb_cfg_parse_check("{type: http, path: /hz}", &v, NULL, &err), err.msg);
	ASSERT_OK(xlb_cfg_parse_check("{type: https}", &v, NULL, &err), err.msg);
	ASSERT_EQ(strcmp(v.check.path, "/hz"), 0, "path kept from http to https");
	/* a setting given with the new type is kept, and refused by validation */
	ASSERT_OK(xlb_cfg_parse_check("{type: tcp, path: /x}", &v, NULL, &err), err.msg);
	ASSERT_NE(xlb_cfg_validate(&c, "t", &err), 0, "tcp check with a path");
	ASSERT_TRUE(strstr(err.msg, "path") != NULL, err.msg);
	return 0;
}

/* Every code point a text field may hold; the payload fields take all of
 * them (what YAML cannot show raw is escaped). */
static const char *escapes =
	"vips:\n"
	"  - address: 10.0.0.10\n"
	"    port: 53\n"
	"    protocol: udp\n"
	"    check:\n"
	"      type: udp\n"
	/* DEL, C1 controls (NEL is a YAML line break), C0 controls */
	"      send: \"a\\x7fb\\x80\\x85\\x9f\\t\\n\\r\\x01\\e\\\"\\\\ \"\n"
	/* line and paragraph separators, BOM, non-characters, astral */
	"      expect: \"\\u2028\\u2029\\ufeff\\ufffe\\uffff\\U0001f600\\xa0é€ #: -\"\n"
	"    backends: []\n"
	"  - address: 10.0.0.11\n"
	"    port: 80\n"
	"    protocol: tcp\n"
	"    check:\n"
	"      type: http\n"
	"      path: \"/a?b=\\\"c\\\"&d=#e'\"\n"
	"      host: \"xn--bcher-kva.example\"\n"
	"      body: \"line1\\nline2\\t\\x7f\\u0090 \"\n"
	"    backends: []\n";

/* A dump holds printable characters and line ends only: libyaml reads it. */
static int dump_is_printable(const char *text)
{
	for (const char *p = text; *p;) {
		unsigned int cp;
		int n = xlb_utf8_next(p, &cp);

		if (n < 0 || (cp != '\n' && !xlb_yaml_printable(cp)))
			return 0;
		p += n;
	}
	return 1;
}

static int t_config_dump_escapes_every_nonprintable(void)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	char *text = NULL;
	size_t len;
	int ok;

	ASSERT_OK(xlb_cfg_load_string("escapes.yaml", escapes, &c, &err), err.msg);
	ASSERT_TRUE(!strcmp(c.vips[0].check.send, "a\x7f"
						  "b\xc2\x80\xc2\x85\xc2\x9f\t\n\r\x01\x1b\"\\ "),
		    "send holds the characters the escapes name");
	ASSERT_OK(xlb_cfg_dump_text(&c, &text, &len), "dump");
	ok = dump_is_printable(text);
	if (!ok)
		harness_fail(__FILE__, __LINE__, "the dump holds a raw control character:\n%s",
			     text);
	free(text);
	text = NULL;
	if (ok && xlb_cfg_dump_checked(&c, &text, &len, &err)) {
		harness_fail(__FILE__, __LINE__, "the dump does not round-trip: %s", err.msg);
		ok = 0;
	}
	free(text);
	xlb_cfg_free(&c);
	return ok ? 0 : -1;
}

/* Found by fuzz_config: an IPv6 address ending in "::" was dumped plain,
 * and YAML reads "address: 2001:db8::" as a key "2001:db8:". */
static int t_config_dump_of_address_ending_in_colons(void)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	char *text = NULL;
	size_t len;

	ASSERT_OK(xlb_cfg_load_string("colons.yaml",
				      "vips:\n  - address: \"2001:db8::\"\n    port: 80\n"
				      "    protocol: tcp\n    backends:\n      - address: \"::\"\n"
				      "      - address: 2001:db8::1\n",
				      &c, &err),
		  err.msg);
	ASSERT_OK(xlb_cfg_dump_checked(&c, &text, &len, &err), err.msg);
	ASSERT_TRUE(strstr(text, "address: 2001:db8::1\n") != NULL, "others stay plain");
	free(text);
	xlb_cfg_free(&c);
	return 0;
}

/*
 * The fuzzer's property over its seeds (tests/fuzz/corpus/config/, which
 * keeps every input the fuzzer found a bug with): whatever loads, dumps to
 * text that loads to the same configuration and dumps to the same bytes.
 * Runs without clang, under valgrind too.
 */
static int t_config_seed_corpus_round_trips(void)
{
	const char *dir = "tests/fuzz/corpus/config";
	struct dirent *e;
	int loaded = 0, rc = 0;
	DIR *d = opendir(dir);

	if (!d) {
		harness_fail(__FILE__, __LINE__, "couldn't open '%s' (run from the top directory)",
			     dir);
		return -1;
	}
	while (!rc && (e = readdir(d))) {
		struct xlb_cfg c = {};
		struct xlb_err err = {};
		char path[512], *text;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (xlb_cfg_load_file(path, &c, &err))
			continue; /* seeds of rejected input */
		loaded++;
		if (xlb_cfg_dump_checked(&c, &text, &len, &err)) {
			harness_fail(__FILE__, __LINE__, "%s: %s", path, err.msg);
			rc = -1;
		} else {
			free(text);
		}
		xlb_cfg_free(&c);
	}
	closedir(d);
	if (!rc && loaded < 10) {
		harness_fail(__FILE__, __LINE__, "only %d seeds load; want the valid ones", loaded);
		rc = -1;
	}
	return rc;
}

/* A configuration built in memory (not from YAML) with a byte that is not
 * UTF-8: validation refuses it, and so does the round-trip check. */
static int t_config_refuses_text_that_is_not_utf8(void)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	char *text = (char *)"unset";
	size_t len;

	ASSERT_OK(xlb_cfg_load_string("escapes.yaml", escapes, &c, &err), err.msg);
	snprintf(c.vips[0].check.expect, sizeof(c.vips[0].check.expect), "ok\xff");
	ASSERT_EQ(xlb_cfg_validate(&c, "request", &err), -EINVAL, "validation refuses it");
	ASSERT_TRUE(strstr(err.msg, "check expect \"ok\\xff\" is not UTF-8 at byte 3") != NULL,
		    err.msg);
	ASSERT_EQ(xlb_cfg_dump_checked(&c, &text, &len, &err), -EINVAL, "no dump to persist");
	ASSERT_TRUE(text == NULL, "no text on refusal");
	ASSERT_TRUE(strstr(err.msg, "nothing was written") != NULL, err.msg);
	xlb_cfg_free(&c);
	return 0;
}

/* Setting a shorter text over a longer one leaves the same bytes as a
 * fresh load: the configs compare equal, so nothing looks changed. */
static int t_config_shorter_text_over_longer_compares_equal(void)
{
	struct xlb_cfg a = {}, b = {};
	struct xlb_err err = {};
	const char *y = VIP("    check:\n      type: http\n      path: /a-long-path\n");
	const char *z = VIP("    check:\n      type: http\n      path: /x\n");

	ASSERT_OK(xlb_cfg_load_string("a.yaml", y, &a, &err), err.msg);
	ASSERT_OK(xlb_cfg_load_string("b.yaml", z, &b, &err), err.msg);
	ASSERT_OK(xlb_cfg_parse_check("{path: /x}", &a.vips[0], NULL, &err), err.msg);
	ASSERT_TRUE(xlb_cfg_equal(&a, &b), "path set to /x equals a fresh /x");
	xlb_cfg_free(&a);
	xlb_cfg_free(&b);
	return 0;
}

/* A VIP without backends has no backend array: copying it copies nothing
 * (memcpy from NULL, even of 0 bytes, is undefined; UBSan checks). */
static int t_config_copy_of_vip_without_backends(void)
{
	struct xlb_cfg_vip v = {.table_size = XLB_DEFAULT_TABLE_SIZE};
	struct xlb_cfg src = {.vips = &v, .nvips = 1}, dst = {};

	ASSERT_OK(xlb_cfg_copy(&dst, &src), "copy");
	ASSERT_EQ(dst.vips[0].nbackends, 0, "no backends");
	ASSERT_TRUE(dst.vips[0].backends != NULL, "an array of its own");
	ASSERT_TRUE(xlb_cfg_equal(&dst, &src), "equal");
	xlb_cfg_free(&dst);
	return 0;
}

/*
 * YAML aliases: 6 KB naming one VIP of 300 backends 250 times asked for
 * 75000 backends (a 64 KB request: 8 million, 485 MB and 12 s of parsing
 * before validation refused it). Refused while parsing, before allocating.
 */
static int t_config_alias_amplification_refused_early(void)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	size_t len = 64 * 1024, used;
	char *y = malloc(len);
	int rc;

	ASSERT_TRUE(y != NULL, "malloc");
	used = (size_t)snprintf(y, len,
				"vips:\n  - &v {address: 10.0.0.1, port: 80, protocol: "
				"tcp, backends: [");
	for (int i = 0; i < 300; i++)
		used += (size_t)snprintf(y + used, len - used, "%s{address: 10.1.%d.%d}",
					 i ? ", " : "", i / 250, i % 250);
	used += (size_t)snprintf(y + used, len - used, "]}\n");
	for (int i = 0; i < 250; i++)
		used += (size_t)snprintf(y + used, len - used, "  - *v\n");
	rc = xlb_cfg_load_string("bomb.yaml", y, &c, &err);
	free(y);
	ASSERT_EQ(rc, -EINVAL, "refused");
	ASSERT_TRUE(strstr(err.msg, "bomb.yaml:2: more than 65535 backends in all (an alias "
				    "such as '*name' counts each time it is used)") != NULL,
		    err.msg);
	return 0;
}

/*
 * Deep nesting: libyaml's scanner spends time in proportion to the depth
 * on every token, so 32 KB of '[' kept the loader (and xlbd's event loop,
 * for a request) busy for seconds. Refused at the limit, in a file, a
 * string and a check's settings.
 */
static int t_config_deep_nesting_refused_early(void)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	enum {
		n = 16000
	};
	static char y[2 * n + 16]; /* static: a failed ASSERT returns early */
	struct xlb_cfg_vip v = {.port = 80, .proto = IPPROTO_TCP};

	memcpy(y, "vips: ", 6);
	memset(y + 6, '[', n);
	memset(y + 6 + n, ']', n);
	y[6 + 2 * n] = 0;
	ASSERT_EQ(xlb_cfg_load_string("deep.yaml", y, &c, &err), -EINVAL, "refused");
	ASSERT_TRUE(strstr(err.msg, "deep.yaml:1: lists and maps nested deeper than 32 levels") !=
			    NULL,
		    err.msg);
	xlb_cfg_check_defaults(&v.check);
	ASSERT_EQ(xlb_cfg_parse_check(y + 6, &v, NULL, &err), -EINVAL, "check refused");
	ASSERT_TRUE(strstr(err.msg, "nested deeper than 32 levels") != NULL, err.msg);
	return 0;
}

/* UTF-8 decoding refuses what YAML would refuse. */
static int t_text_utf8_and_quoting(void)
{
	static const char *bad[] = {"\x80",	    "\xc0\x80",		"\xe0\x80\x80",
				    "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80",
				    "\xc3",	    "\xe2\x82"};
	char *text = NULL, buf[8];
	size_t len = 0, off;
	unsigned int cp;
	FILE *f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_EQ(xlb_utf8_next(bad[i], &cp), -1, bad[i]);
	ASSERT_EQ(xlb_utf8_next("\xf0\x9f\x98\x80", &cp), 4, "four bytes");
	ASSERT_EQ(cp, 0x1f600, "U+1F600");
	ASSERT_EQ(xlb_text_check("ab\tc", XLB_TEXT_NO_CONTROL, &off), 0, "tab in a command");
	ASSERT_EQ(xlb_text_check("a\xe2\x80\xa8", XLB_TEXT_NO_CONTROL, &off), -EINVAL, "U+2028");
	ASSERT_EQ(off, 1, "its offset");
	f = open_memstream(&text, &len);
	ASSERT_TRUE(f != NULL, "memstream");
	xlb_yaml_quote(f, "\"\\\x7f\xc2\x85\xe2\x80\xa9\xf0\x9f\x98\x80\xff");
	fclose(f);
	ASSERT_TRUE(!strcmp(text, "\"\\\"\\\\\\x7f\\x85\\u2029\xf0\x9f\x98\x80\\xff\""), text);
	free(text);
	ASSERT_TRUE(!strcmp(xlb_text_escape("a\nbcdef", buf, sizeof(buf)), "a\\nbcde"),
		    "escaped for messages, cut to fit");
	return 0;
}

/* flow_state and handover (issue #14): table and the 10-minute handover
 * by default, both read, dumped so that they load back equal, compared
 * (a reload sees a change), and a request-built stateless dsr VIP is
 * refused by validation too (naming the field and the fix). */
static int t_config_flow_state(void)
{
	static const char *yaml = "vips:\n"
				  "  - {address: 10.0.0.1, port: 80, protocol: tcp, mode: ipip, "
				  "flow_state: stateless,\n"
				  "     handover: 30s}\n"
				  "  - {address: 10.0.0.1, port: 443, protocol: tcp, mode: ipip, "
				  "flow_state: stateless}\n"
				  "  - {address: 10.0.0.2, port: 80, protocol: tcp}\n";
	struct xlb_cfg c = {}, d = {}, e = {};
	struct xlb_err err = {};
	char *text = NULL;
	size_t len = 0;

	ASSERT_OK(xlb_cfg_load_string("set", yaml, &c, &err), err.msg);
	ASSERT_EQ(c.vips[0].flow_state, XLB_FLOW_STATELESS, "stateless");
	ASSERT_EQ(c.vips[0].handover_ms, 30000, "handover");
	ASSERT_EQ(xlb_cfg_handover_ms(&c.vips[1]), XLB_CFG_DEFAULT_HANDOVER_MS, "default 10m");
	ASSERT_EQ(XLB_CFG_DEFAULT_HANDOVER_MS, 600000, "10 minutes");
	ASSERT_EQ(c.vips[2].flow_state, XLB_FLOW_TABLE, "default table");
	ASSERT_OK(xlb_cfg_dump_checked(&c, &text, &len, &err), err.msg);
	ASSERT_TRUE(strstr(text, "    flow_state: stateless\n    handover: 30000ms\n") != NULL,
		    text);
	ASSERT_OK(xlb_cfg_load_string("dump", text, &d, &err), err.msg);
	free(text);
	ASSERT_TRUE(xlb_cfg_equal(&c, &d), "dump loads back equal");
	ASSERT_OK(xlb_cfg_copy(&e, &d), "copy");
	e.vips[0].handover_ms = 60000;
	ASSERT_TRUE(!xlb_cfg_equal(&d, &e), "handover differs");
	e.vips[0].handover_ms = 30000;
	e.vips[1].flow_state = XLB_FLOW_TABLE;
	ASSERT_TRUE(!xlb_cfg_equal(&d, &e), "flow_state differs");
	ASSERT_OK(xlb_cfg_validate(&e, "e", &err), "table validates");
	e.vips[2].flow_state = XLB_FLOW_STATELESS; /* a dsr VIP */
	ASSERT_EQ(xlb_cfg_validate(&e, "e", &err), -EINVAL, "stateless dsr refused");
	ASSERT_TRUE(strstr(err.msg, "set 'mode: ipip'") != NULL, err.msg);
	e.vips[2].flow_state = XLB_FLOW_TABLE;
	e.vips[2].handover_ms = 999;
	ASSERT_EQ(xlb_cfg_validate(&e, "e", &err), -EINVAL, "handover below 1s refused");
	xlb_cfg_free(&c);
	xlb_cfg_free(&d);
	xlb_cfg_free(&e);
	return 0;
}

/*
 * tcp send/expect (issue #16): escapes mean the same in every YAML style
 * (xlb decodes plain, single-quoted and block scalars; YAML double-quoted
 * ones), the limits count decoded bytes, the dump loads back to the same
 * bytes, and a request that changes the type drops them unless the new
 * type uses them.
 */
static int t_config_tcp_send_expect(void)
{
	static const char *styles[] = {
		"{type: tcp, send: PING\\r\\n\\x21\\t\\\\, expect: +PONG}",
		"{type: tcp, send: 'PING\\r\\n\\x21\\t\\\\', expect: '+PONG'}",
		"{type: tcp, send: \"PING\\r\\n\\x21\\t\\\\\", expect: \"+PONG\"}",
		"type: tcp\nsend: |-\n  PING\\r\\n\\x21\\t\\\\\nexpect: +PONG\n",
	};
	struct xlb_cfg_vip v = {
		.port = 6379, .proto = IPPROTO_TCP, .table_size = XLB_DEFAULT_TABLE_SIZE};
	struct xlb_cfg c = {.vips = &v, .nvips = 1}, d = {};
	struct xlb_cfg_check before;
	struct xlb_err err = {};
	char yaml[4200], *text = NULL;
	size_t len;

	v.family = (__u8)xlb_addr_parse("10.0.0.1", &v.addr);
	for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
		xlb_cfg_check_defaults(&v.check);
		ASSERT_OK(xlb_cfg_parse_check(styles[i], &v, NULL, &err), err.msg);
		ASSERT_EQ(strcmp(v.check.send, "PING\r\n!\t\\"), 0, styles[i]);
		ASSERT_EQ(strcmp(v.check.expect, "+PONG"), 0, styles[i]);
		ASSERT_OK(xlb_cfg_validate(&c, "t", &err), err.msg);
	}
	/* the dump loads back to the same bytes */
	ASSERT_OK(xlb_cfg_dump_checked(&c, &text, &len, &err), err.msg);
	ASSERT_OK(xlb_cfg_load_string("dump", text, &d, &err), err.msg);
	ASSERT_TRUE(xlb_cfg_equal(&c, &d), "dump loads back equal");
	xlb_cfg_free(&d);
	free(text);
	/* a refused escape changes nothing */
	before = v.check;
	ASSERT_EQ(xlb_cfg_parse_check("{send: 'x\\y'}", &v, NULL, &err), -EINVAL, "refused");
	ASSERT_TRUE(strstr(err.msg, "check send: '\\y' at character 2") != NULL, err.msg);
	ASSERT_TRUE(!memcmp(&before, &v.check, sizeof(before)), "unchanged");
	/* 1024 bytes written as 4096 characters of escapes fit; 1025 do not */
	strcpy(yaml, "{send: ");
	for (int i = 0; i < 1024; i++)
		strcat(yaml, "\\x41");
	ASSERT_OK(xlb_cfg_parse_check(strcat(yaml, "}"), &v, NULL, &err), err.msg);
	ASSERT_EQ(strlen(v.check.send), 1024, "1024 bytes");
	strcpy(strrchr(yaml, '}'), "B}");
	ASSERT_EQ(xlb_cfg_parse_check(yaml, &v, NULL, &err), -EINVAL, "1025 bytes");
	ASSERT_TRUE(strstr(err.msg, "check send is longer than 1024 characters") != NULL, err.msg);
	/* tcp -> udp keeps them (both use them), tcp -> http drops them */
	ASSERT_OK(xlb_cfg_parse_check("{type: tcp, send: PING, expect: PONG}", &v, NULL, &err),
		  err.msg);
	ASSERT_OK(xlb_cfg_parse_check("{type: udp}", &v, NULL, &err), err.msg);
	ASSERT_TRUE(!strcmp(v.check.send, "PING") && !strcmp(v.check.expect, "PONG"), "udp keeps");
	ASSERT_OK(xlb_cfg_parse_check("{type: http}", &v, NULL, &err), err.msg);
	ASSERT_TRUE(!v.check.send[0] && !v.check.expect[0], "http drops");
	ASSERT_OK(xlb_cfg_validate(&c, "t", &err), err.msg);
	return 0;
}

/* via: default backend, vip for tcp/http/https/udp, dumped only when set,
 * loads back equal, and a change of type to exec drops it. */
static int t_config_check_via(void)
{
	struct xlb_cfg_vip v = {
		.port = 80, .proto = IPPROTO_TCP, .table_size = XLB_DEFAULT_TABLE_SIZE};
	struct xlb_cfg c = {.vips = &v, .nvips = 1}, d = {};
	static const char *const types[] = {"tcp", "http", "https", "udp"};
	struct xlb_err err = {};
	char yaml[80], *text = NULL;
	size_t len;

	v.family = (__u8)xlb_addr_parse("10.0.0.1", &v.addr);
	xlb_cfg_check_defaults(&v.check);
	ASSERT_EQ(v.check.via, XLB_CHECK_VIA_BACKEND, "default: the backend's address");
	ASSERT_OK(xlb_cfg_dump_checked(&c, &text, &len, &err), err.msg);
	ASSERT_TRUE(!strstr(text, "via:"), "the default is not dumped");
	free(text);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(yaml, sizeof(yaml), "{type: %s, via: vip}", types[i]);
		ASSERT_OK(xlb_cfg_parse_check(yaml, &v, NULL, &err), err.msg);
		ASSERT_EQ(v.check.via, XLB_CHECK_VIA_VIP, yaml);
		ASSERT_OK(xlb_cfg_validate(&c, "t", &err), err.msg);
	}
	ASSERT_OK(xlb_cfg_dump_checked(&c, &text, &len, &err), err.msg);
	ASSERT_TRUE(strstr(text, "      via: vip\n") != NULL, text);
	ASSERT_OK(xlb_cfg_load_string("dump", text, &d, &err), err.msg);
	ASSERT_TRUE(xlb_cfg_equal(&c, &d), "dump loads back equal");
	ASSERT_EQ(d.vips[0].check.via, XLB_CHECK_VIA_VIP, "via vip loaded back");
	xlb_cfg_free(&d);
	free(text);
	/* a timing change keeps it; type exec drops it (it has no probe to send) */
	ASSERT_OK(xlb_cfg_parse_check("{interval: 5s}", &v, NULL, &err), err.msg);
	ASSERT_EQ(v.check.via, XLB_CHECK_VIA_VIP, "kept");
	ASSERT_OK(xlb_cfg_parse_check("{type: none}", &v, NULL, &err), err.msg);
	ASSERT_EQ(v.check.via, XLB_CHECK_VIA_BACKEND, "type none drops via vip");
	ASSERT_OK(xlb_cfg_validate(&c, "t", &err), err.msg);
	ASSERT_OK(xlb_cfg_parse_check("{type: tcp, via: backend}", &v, NULL, &err), err.msg);
	ASSERT_EQ(v.check.via, XLB_CHECK_VIA_BACKEND, "via backend");
	return 0;
}

const struct harness_case config_cases[] = {
	{"config_check_via", t_config_check_via},
	{"config_tcp_send_expect", t_config_tcp_send_expect},
	{"config_flow_state", t_config_flow_state},
	{"config_dump_escapes_every_nonprintable", t_config_dump_escapes_every_nonprintable},
	{"config_dump_of_address_ending_in_colons", t_config_dump_of_address_ending_in_colons},
	{"config_seed_corpus_round_trips", t_config_seed_corpus_round_trips},
	{"config_refuses_text_that_is_not_utf8", t_config_refuses_text_that_is_not_utf8},
	{"config_shorter_text_over_longer_compares_equal",
	 t_config_shorter_text_over_longer_compares_equal},
	{"config_copy_of_vip_without_backends", t_config_copy_of_vip_without_backends},
	{"config_alias_amplification_refused_early", t_config_alias_amplification_refused_early},
	{"config_deep_nesting_refused_early", t_config_deep_nesting_refused_early},
	{"text_utf8_and_quoting", t_text_utf8_and_quoting},
	{"config_full_example", t_config_full_example},
	{"config_check_text_fills_its_field", t_config_check_text_fills_its_field},
	{"config_check_type_change_drops_old_settings",
	 t_config_check_type_change_drops_old_settings},
	{"config_dump_parses_back", t_config_dump_parses_back},
	{"config_empty_file_is_empty_config", t_config_empty_file_is_empty_config},
	{"config_rejects_each_bad_input", t_config_rejects_each_bad_input},
	{"config_missing_file", t_config_missing_file},
	{"config_announce_block", t_config_announce_block},
	{"config_flow_table_size", t_config_flow_table_size},
};
const size_t config_ncases = sizeof(config_cases) / sizeof(config_cases[0]);
