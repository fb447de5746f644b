// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * SHA-256 on the standard's test vectors (FIPS 180-4 examples, as NIST
 * publishes them) and split at every boundary; the configuration digest:
 * the same config in any order digests alike, what decides forwarding
 * (weights, admin states, the seed...) changes it, host-local keys do not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgdigest.h"
#include "config.h"
#include "harness.h"
#include "sha256.h"
#include "test_unit.h"

static void hex(const __u8 *md, char *out)
{
	for (int i = 0; i < XLB_SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int vector(const char *msg, const char *want)
{
	__u8 md[XLB_SHA256_LEN];
	char got[2 * XLB_SHA256_LEN + 1];

	xlb_sha256(msg, strlen(msg), md);
	hex(md, got);
	ASSERT_MEM(got, strlen(got), want, strlen(want), msg);
	return 0;
}

static int t_sha256_vectors(void)
{
	struct xlb_sha256 c;
	__u8 md[XLB_SHA256_LEN];
	char got[2 * XLB_SHA256_LEN + 1], a[1000];
	static const char *million_a =
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

	if (vector("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") ||
	    vector("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") ||
	    vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") ||
	    vector("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnop"
		   "qklmnopqrlmnopqrsmnopqrstnopqrstu",
		   "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"))
		return -1;
	memset(a, 'a', sizeof(a));
	xlb_sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		xlb_sha256_update(&c, a, sizeof(a));
	xlb_sha256_final(&c, md);
	hex(md, got);
	ASSERT_MEM(got, strlen(got), million_a, strlen(million_a), "a million 'a'");
	return 0;
}

/* The padding's edges (one block or two): lengths 55, 56, 63, 64, 119,
 * 120, 200 of msg[i] = 7i + 3, digests from another implementation
 * (Python's hashlib). */
static const struct {
	size_t len;
	const char *want;
} EDGES[] = {
	{55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
	{56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
	{63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
	{64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
	{119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
	{120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
	{200, "2c7e18c942ef065b526a2d4e5546283749cd3ddfb51d8fc71f42717363685f46"},
};

/* Input fed in two pieces, split anywhere, hashes as in one: the partial
 * block and the padding at every length up to 200. */
static int t_sha256_any_split(void)
{
	__u8 msg[200], one[XLB_SHA256_LEN], two[XLB_SHA256_LEN];
	char got[2 * XLB_SHA256_LEN + 1];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (__u8)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(EDGES) / sizeof(EDGES[0]); i++) {
		xlb_sha256(msg, EDGES[i].len, one);
		hex(one, got);
		ASSERT_MEM(got, strlen(got), EDGES[i].want, strlen(EDGES[i].want), "padding edge");
	}
	for (size_t len = 0; len <= sizeof(msg); len++) {
		xlb_sha256(msg, len, one);
		for (size_t cut = 0; cut <= len; cut++) {
			struct xlb_sha256 c;

			xlb_sha256_init(&c);
			xlb_sha256_update(&c, msg, cut);
			xlb_sha256_update(&c, msg + cut, len - cut);
			xlb_sha256_final(&c, two);
			ASSERT_MEM(two, sizeof(two), one, sizeof(one), "split input");
		}
	}
	return 0;
}

/* ---- the configuration digest ------------------------------------------- */

static const struct xlb_hash_seed SEED = {{0x0011223344556677ull, 0x8899aabbccddeeffull}};

#define VIP4                                                                                       \
	"  - address: 10.0.0.10\n    port: 80\n    protocol: tcp\n    table_size: 251\n"           \
	"    check: {type: http, path: /healthz, interval: 3s}\n    backends:\n"                   \
	"      - address: 10.1.0.1\n        weight: 2\n"                                           \
	"      - address: 10.1.0.2\n        admin: drain\n"                                        \
	"      - address: 10.1.0.3\n"
#define VIP4_REORDERED                                                                             \
	"  - address: 10.0.0.10\n    port: 80\n    protocol: tcp\n    table_size: 251\n"           \
	"    check: {type: http, path: /healthz, interval: 3s}\n    backends:\n"                   \
	"      - address: 10.1.0.3\n"                                                              \
	"      - address: 10.1.0.1\n        weight: 2\n"                                           \
	"      - address: 10.1.0.2\n        admin: drain\n"
#define VIP6                                                                                       \
	"  - address: 2001:db8::10\n    port: 443\n    protocol: tcp\n    mode: ipip\n"            \
	"    backends:\n      - address: 2001:db8:1::1\n      - address: 2001:db8:1::2\n"
#define VIPUDP                                                                                     \
	"  - address: 10.0.0.10\n    port: 80\n    protocol: udp\n    check: {type: none}\n"       \
	"    backends:\n      - address: 10.1.0.9\n"

/* VIP6 with a tcp check that sends and expects (issue #16) */
#define VIP6_CHECK(send, expect)                                                                   \
	"  - address: 2001:db8::10\n    port: 443\n    protocol: tcp\n    mode: ipip\n"            \
	"    check: {type: tcp, send: '" send "', expect: '" expect "'}\n"                         \
	"    backends:\n      - address: 2001:db8:1::1\n      - address: 2001:db8:1::2\n"

/* VIP6 with its check through the VIP (issue #16) */
#define VIP6_VIA                                                                                   \
	"  - address: 2001:db8::10\n    port: 443\n    protocol: tcp\n    mode: ipip\n"            \
	"    check: {via: vip}\n"                                                                  \
	"    backends:\n      - address: 2001:db8:1::1\n      - address: 2001:db8:1::2\n"

static const char *const BASE = "interface: eth0\nvips:\n" VIP4 VIP6 VIPUDP;

static int digest_of(const char *yaml, const struct xlb_hash_seed *seed, char out[17])
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	int ret = xlb_cfg_load_string("d.yaml", yaml, &c, &err);

	if (ret)
		harness_fail(__FILE__, __LINE__, "config: %s", err.msg);
	ret = ret ?: xlb_cfg_digest(&c, seed, out);
	xlb_cfg_free(&c);
	return ret;
}

static int t_digest_ignores_order_and_host_keys(void)
{
	char base[17], d[17];
	struct xlb_cfg c = {};
	struct xlb_err err = {};

	ASSERT_OK(digest_of(BASE, &SEED, base), "digest");
	ASSERT_EQ(strlen(base), 16, "16 hex digits");
	ASSERT_EQ(strspn(base, "0123456789abcdef"), 16, "lowercase hex");
	ASSERT_OK(digest_of("interface: eth0\nvips:\n" VIPUDP VIP6 VIP4_REORDERED, &SEED, d),
		  "digest");
	ASSERT_MEM(d, 16, base, 16, "VIPs and backends in another order");
	ASSERT_OK(digest_of("interface: bond0\nvips:\n" VIP4 VIP6 VIPUDP, &SEED, d), "digest");
	ASSERT_MEM(d, 16, base, 16, "another interface");
	ASSERT_OK(digest_of("interface: eth0\nhash_seed_file: /srv/seed\nvips:\n" VIP4 VIP6 VIPUDP,
			    &SEED, d),
		  "digest");
	ASSERT_MEM(d, 16, base, 16, "the same seed from another file");
	/* the flow table's size is host-local: new flows take the Maglev
	 * table whatever the size, so hosts of other sizes pick alike */
	ASSERT_OK(digest_of("interface: eth0\nflow_table_size: 4194304\nvips:\n" VIP4 VIP6 VIPUDP,
			    &SEED, d),
		  "digest");
	ASSERT_MEM(d, 16, base, 16, "another flow_table_size");
	/* the announce block is host-local (another table, protocol, hold
	 * on each host is fine); set directly: its parsing is separate */
	ASSERT_OK(xlb_cfg_load_string("d.yaml", BASE, &c, &err), err.msg);
	c.announce = (struct xlb_cfg_announce){.table = 100, .protocol = 99, .hold_ms = 3000};
	ASSERT_OK(xlb_cfg_digest(&c, &SEED, d), "digest");
	xlb_cfg_free(&c);
	ASSERT_MEM(d, 16, base, 16, "another announce table, protocol, hold");
	return 0;
}

/* A restart reloads the running configuration from the state file, which
 * xlb_cfg_dump() wrote: the digest must survive the round trip. */
static int t_digest_survives_dump_and_parse(void)
{
	struct xlb_cfg c = {}, d = {};
	struct xlb_err err = {};
	char *text = NULL;
	size_t len = 0;
	char before[17], after[17];
	FILE *f = open_memstream(&text, &len);
	int ret;

	ASSERT_TRUE(f != NULL, "open_memstream");
	ret = xlb_cfg_load_string("d.yaml", BASE, &c, &err) ?: xlb_cfg_dump(&c, f);
	fclose(f);
	ret = ret ?: xlb_cfg_load_string("dumped.yaml", text, &d, &err);
	ret = ret ?: xlb_cfg_digest(&c, &SEED, before) ?: xlb_cfg_digest(&d, &SEED, after);
	xlb_cfg_free(&c);
	xlb_cfg_free(&d);
	free(text);
	ASSERT_OK(ret, err.msg);
	ASSERT_MEM(after, 16, before, 16, "digest after dump and parse");
	return 0;
}

/* Each of these changes where some flow goes (or whether it is checked). */
static int t_digest_sees_what_forwards(void)
{
	static const struct {
		const char *what, *yaml;
	} changed[] = {
		{"a weight", "vips:\n" VIP4 VIP6 VIPUDP "        weight: 3\n"},
		{"drain", "vips:\n" VIP4 VIP6 VIPUDP "        admin: drain\n"},
		{"disable", "vips:\n" VIP4 VIP6 VIPUDP "        admin: disabled\n"},
		{"backup", "vips:\n" VIP4 VIP6 VIPUDP "        backup: true\n"},
		{"a backend more", "vips:\n" VIP4 VIP6 VIPUDP "      - address: 10.1.0.8\n"},
		{"a check's port", "vips:\n" VIP4 VIP6 VIPUDP "        check: {port: 81}\n"},
		{"mtu", "mtu: 1400\nvips:\n" VIP4 VIP6 VIPUDP},
		{"deleted_vip_grace", "deleted_vip_grace: 5s\nvips:\n" VIP4 VIP6 VIPUDP},
		{"a VIP fewer", "vips:\n" VIP4 VIP6},
		{"a tcp check's send and expect",
		 "vips:\n" VIP4 VIPUDP VIP6_CHECK("PING\\r\\n", "+PONG")},
		{"a tcp check's send", "vips:\n" VIP4 VIPUDP VIP6_CHECK("PING\\n", "")},
		{"a tcp check's expect", "vips:\n" VIP4 VIPUDP VIP6_CHECK("", "+PONG")},
		{"a check via the VIP", "vips:\n" VIP4 VIP6_VIA VIPUDP},
	};
	struct xlb_hash_seed other = SEED;
	char base[17], d[17];
	struct xlb_cfg c = {};
	struct xlb_err err = {};

	ASSERT_OK(digest_of(BASE, &SEED, base), "digest");
	for (size_t i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
		ASSERT_OK(digest_of(changed[i].yaml, &SEED, d), changed[i].what);
		ASSERT_TRUE(memcmp(d, base, 16), changed[i].what);
	}
	/* a payload that differs by one byte is another check */
	ASSERT_OK(digest_of("vips:\n" VIP4 VIPUDP VIP6_CHECK("PING\\r\\n", "+PONG"), &SEED, base),
		  "digest");
	ASSERT_OK(digest_of("vips:\n" VIP4 VIPUDP VIP6_CHECK("PING\\n", "+PONG"), &SEED, d),
		  "digest");
	ASSERT_TRUE(memcmp(d, base, 16), "send PING\\r\\n or PING\\n");
	ASSERT_OK(digest_of(BASE, &SEED, base), "digest");
	other.k[1] ^= 1ull << 40;
	ASSERT_OK(digest_of(BASE, &other, d), "digest");
	ASSERT_TRUE(memcmp(d, base, 16), "another seed");
	/* VIP fields set directly: each its own change */
	for (int f = 0; f < 10; f++) {
		ASSERT_OK(xlb_cfg_load_string("d.yaml", BASE, &c, &err), err.msg);
		switch (f) {
		case 0:
			c.vips[0].mode = XLB_MODE_IPIP;
			break;
		case 1:
			c.vips[0].hash = XLB_HASH_SRC;
			break;
		case 2:
			c.vips[0].table_size = 509;
			break;
		case 3:
			c.vips[0].on_empty = XLB_EMPTY_DROP;
			break;
		case 4:
			c.vips[0].announce = XLB_ANNOUNCE_NEVER;
			break;
		case 5:
			c.vips[0].panic_percent = 50;
			break;
		case 6:
			c.vips[0].check.t.interval_ms = 5000;
			break;
		case 7:
			snprintf(c.vips[0].check.path, sizeof(c.vips[0].check.path), "/ready");
			break;
		case 8:
			c.vips[0].flow_state = XLB_FLOW_STATELESS;
			break;
		case 9:
			c.vips[0].handover_ms = 30000;
			break;
		}
		ASSERT_OK(xlb_cfg_digest(&c, &SEED, d), "digest");
		xlb_cfg_free(&c);
		ASSERT_TRUE(memcmp(d, base, 16), "a VIP field");
	}
	/* handover written as its default runs the same: the same digest */
	ASSERT_OK(xlb_cfg_load_string("d.yaml", BASE, &c, &err), err.msg);
	c.vips[0].handover_ms = XLB_CFG_DEFAULT_HANDOVER_MS;
	ASSERT_OK(xlb_cfg_digest(&c, &SEED, d), "digest");
	xlb_cfg_free(&c);
	ASSERT_TRUE(!memcmp(d, base, 16), "handover: 10m is the default");
	return 0;
}

/*
 * Pinned: hosts of different releases in one fleet compare digests, so
 * the canonical text must not change by accident (a change here makes a
 * mixed fleet alert until every host runs the new release).
 */
static int t_digest_is_stable_across_releases(void)
{
	char d[17];

	ASSERT_OK(digest_of(BASE, &SEED, d), "digest");
	ASSERT_MEM(d, 16, "80f068d92277ac0c", 16, "digest of BASE");
	return 0;
}

const struct harness_case digest_cases[] = {
	{"sha256_vectors", t_sha256_vectors},
	{"sha256_any_split", t_sha256_any_split},
	{"digest_ignores_order_and_host_keys", t_digest_ignores_order_and_host_keys},
	{"digest_survives_dump_and_parse", t_digest_survives_dump_and_parse},
	{"digest_sees_what_forwards", t_digest_sees_what_forwards},
	{"digest_is_stable_across_releases", t_digest_is_stable_across_releases},
};
const size_t digest_ncases = sizeof(digest_cases) / sizeof(digest_cases[0]);
