// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "seed.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int xlb_seed_parse(const char *hex, struct xlb_hash_seed *out)
{
	struct xlb_hash_seed s = {{0, 0}};
	int n = 0;

	while (isspace((unsigned char)*hex))
		hex++;
	for (; n < 32; n++, hex++) {
		int v = hexval((unsigned char)*hex);

		if (v < 0)
			return -EINVAL;
		s.k[n / 16] = s.k[n / 16] << 4 | (__u64)v;
	}
	while (isspace((unsigned char)*hex))
		hex++;
	if (*hex)
		return -EINVAL;
	*out = s;
	return 0;
}

int xlb_seed_load_file(const char *path, struct xlb_hash_seed *out, struct xlb_err *err)
{
	static const char *hint = "create it with 'od -An -N16 -tx1 /dev/urandom | tr -d \" \\n\" "
				  ">FILE; chmod 600 FILE' (make install does) and copy the same "
				  "file to every load balancer of the fleet";
	char buf[128];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), ret;

	if (fd < 0) {
		ret = -errno;
		snprintf(err->msg, sizeof(err->msg), "couldn't read hash seed file '%s': %s; %s",
			 path, strerror(-ret), hint);
		return ret;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		snprintf(err->msg, sizeof(err->msg),
			 "couldn't use hash seed file '%s': %s; the seed is a secret: 'chmod 600 "
			 "%s'",
			 path, S_ISREG(st.st_mode) ? "group or others may access it" : "not a file",
			 path);
		close(fd);
		return -EPERM;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (!ret) {
		buf[n] = 0;
		ret = xlb_seed_parse(buf, out);
	}
	if (ret)
		snprintf(err->msg, sizeof(err->msg),
			 "couldn't use hash seed file '%s': %s; it must hold 32 hex digits "
			 "(128 bits): %s",
			 path, ret == -EINVAL ? "not 32 hex digits" : strerror(-ret), hint);
	return ret;
}

const char *xlb_seed_source(const struct xlb_cfg *c)
{
	if (c->hash_seed[0])
		return "hash_seed in the configuration";
	return c->hash_seed_file[0] ? c->hash_seed_file : XLB_SEED_FILE;
}

int xlb_seed_resolve(const struct xlb_cfg *c, struct xlb_hash_seed *out, struct xlb_err *err)
{
	if (!c->hash_seed[0])
		return xlb_seed_load_file(xlb_seed_source(c), out, err);
	if (xlb_seed_parse(c->hash_seed, out)) {
		snprintf(err->msg, sizeof(err->msg),
			 "couldn't use hash_seed: not 32 hex digits; fix it in the configuration");
		return -EINVAL;
	}
	return 0;
}
