// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet's hash seed: the configuration keys are validated with messages
 * that name the field and the fix (and never echo the secret), a seed file
 * must be private and hold 32 hex digits, and the seed stays out of dumps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "config.h"
#include "harness.h"
#include "seed.h"
#include "test_unit.h"

#define HEX "00112233445566778899aabbccddeeff"

static int t_seed_parse(void)
{
	struct xlb_hash_seed s;

	ASSERT_OK(xlb_seed_parse(" " HEX "\n", &s), "32 hex digits, white space around");
	ASSERT_EQ(s.k[0], 0x0011223344556677ull, "first 16 digits: k[0]");
	ASSERT_EQ(s.k[1], 0x8899aabbccddeeffull, "last 16 digits: k[1]");
	ASSERT_OK(xlb_seed_parse("00112233445566778899AABBCCDDEEFF", &s), "upper case");
	ASSERT_EQ(xlb_seed_parse("0011", &s), -EINVAL, "too short");
	ASSERT_EQ(xlb_seed_parse(HEX "0", &s), -EINVAL, "too long");
	ASSERT_EQ(xlb_seed_parse("0011223344556677 8899aabbccddeeff", &s), -EINVAL, "a space");
	ASSERT_EQ(xlb_seed_parse("g0112233445566778899aabbccddeeff", &s), -EINVAL, "not hex");
	return 0;
}

static int rejected(const char *yaml, const char *want_in_msg, const char *secret)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};

	ASSERT_EQ(xlb_cfg_load_string("s.yaml", yaml, &c, &err), -EINVAL, yaml);
	ASSERT_TRUE(strstr(err.msg, want_in_msg) != NULL, err.msg);
	ASSERT_TRUE(!secret || !strstr(err.msg, secret), "the message does not echo the seed");
	return 0;
}

static int t_seed_config_keys(void)
{
	struct xlb_cfg c = {}, d = {};
	struct xlb_err err = {};
	struct xlb_hash_seed s;
	char *dump = NULL;
	size_t len = 0;
	FILE *f;

	ASSERT_OK(xlb_cfg_load_string("s.yaml", "hash_seed: " HEX "\nvips: []\n", &c, &err),
		  err.msg);
	ASSERT_OK(xlb_seed_resolve(&c, &s, &err), err.msg);
	ASSERT_EQ(s.k[1], 0x8899aabbccddeeffull, "inline seed resolved");
	f = open_memstream(&dump, &len);
	ASSERT_TRUE(f != NULL, "memstream");
	xlb_cfg_dump(&c, f);
	fclose(f);
	ASSERT_TRUE(!strstr(dump, "8899"), "the seed stays out of dumps (state, config dump)");
	ASSERT_OK(xlb_cfg_load_string("dump", dump, &d, &err), err.msg);
	ASSERT_TRUE(xlb_cfg_equal(&c, &d), "the dump parses back to an equal config");
	free(dump);
	xlb_cfg_free(&c);
	xlb_cfg_free(&d);
	ASSERT_OK(rejected("hash_seed: 0011223344556677\n", "hash_seed must be 32 hex digits",
			   "0011223344556677"),
		  "");
	ASSERT_OK(rejected("hash_seed: x0112233445566778899aabbccddeeff\n", "not all hex",
			   "x0112233"),
		  "");
	ASSERT_OK(rejected("hash_seed: " HEX "\nhash_seed_file: /etc/xlb/s\n",
			   "either hash_seed or hash_seed_file", NULL),
		  "");
	ASSERT_OK(rejected("hash_seed_file: seed\n", "absolute path", NULL), "");
	return 0;
}

static int t_seed_file(void)
{
	char path[] = "/tmp/xsd2-seed-XXXXXX";
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	struct xlb_hash_seed s;
	int fd = mkstemp(path);

	ASSERT_TRUE(fd >= 0, "temp file");
	ASSERT_TRUE(write(fd, HEX "\n", 33) == 33, "write");
	close(fd);
	snprintf(c.hash_seed_file, sizeof(c.hash_seed_file), "%s", path);
	ASSERT_OK(xlb_seed_resolve(&c, &s, &err), err.msg);
	ASSERT_EQ(s.k[0], 0x0011223344556677ull, "the file's seed");
	chmod(path, 0644);
	ASSERT_EQ(xlb_seed_resolve(&c, &s, &err), -EPERM, "a readable seed file is refused");
	ASSERT_TRUE(strstr(err.msg, "chmod 600") != NULL, err.msg);
	chmod(path, 0600);
	truncate(path, 20);
	ASSERT_EQ(xlb_seed_resolve(&c, &s, &err), -EINVAL, "a short seed file is refused");
	ASSERT_TRUE(strstr(err.msg, "32 hex digits") != NULL, err.msg);
	unlink(path);
	ASSERT_EQ(xlb_seed_resolve(&c, &s, &err), -ENOENT, "a missing seed file");
	ASSERT_TRUE(strstr(err.msg, "every load balancer of the fleet") != NULL, err.msg);
	ASSERT_TRUE(!strcmp(xlb_seed_source(&(struct xlb_cfg){}), XLB_SEED_FILE),
		    "no key: the default file");
	return 0;
}

const struct harness_case seed_cases[] = {
	{"seed_parse", t_seed_parse},
	{"seed_config_keys", t_seed_config_keys},
	{"seed_file", t_seed_file},
};
const size_t seed_ncases = sizeof(seed_cases) / sizeof(seed_cases[0]);
