// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's heartbeat record (user/common/beat.c) in a pin directory of
 * its own under /sys/fs/bpf (skipped where bpffs or BPF maps are not to
 * be had): absent, written, rewritten in place, and a foreign map pinned
 * under its name refused rather than misread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <bpf/bpf.h>

#include "beat.h"
#include "harness.h"
#include "test_unit.h"

#define BPFFS_MAGIC 0xcafe4a11

static char dir[64], pin[96];

static void cleanup(void)
{
	unlink(pin);
	rmdir(dir);
}

static int t_beat_write_read_reuse_refuse(void)
{
	struct xlb_beat b = {.at_ns = 123456789012ULL,
			     .pid = 4242,
			     .hold_ms = 10000,
			     .table = 9641,
			     .protocol = 250},
			got = {};
	struct statfs st;
	struct stat s1, s2;
	int fd, rc = -1;

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/xlb-unit-beat-%d", (int)getpid());
	snprintf(pin, sizeof(pin), "%s/beat", dir);
	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPFFS_MAGIC || mkdir(dir, 0700)) {
		printf("    no bpffs at /sys/fs/bpf: skipped\n");
		return 0;
	}
	if (xlb_beat_read(dir, &got) != -ENOENT) {
		harness_fail(__FILE__, __LINE__, "no beat yet: -ENOENT");
		goto out;
	}
	if (xlb_beat_write(dir, &b) == -EPERM) {
		printf("    no BPF maps for us here: skipped\n");
		rc = 0;
		goto out;
	}
	if (xlb_beat_read(dir, &got) || memcmp(&got, &b, sizeof(b)) || stat(pin, &s1)) {
		harness_fail(__FILE__, __LINE__, "the beat written reads back, pinned as beat");
		goto out;
	}
	b.at_ns += 200000000ULL;
	b.table = 0;
	if (xlb_beat_write(dir, &b) || xlb_beat_read(dir, &got) || memcmp(&got, &b, sizeof(b)) ||
	    stat(pin, &s2) || s1.st_ino != s2.st_ino) {
		harness_fail(__FILE__, __LINE__, "a second beat rewrites the same pinned map");
		goto out;
	}
	/* another layout under the name: refused both ways, left in place */
	unlink(pin);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, sizeof(b) + 8, 1, NULL);
	if (fd < 0 || bpf_obj_pin(fd, pin)) {
		harness_fail(__FILE__, __LINE__, "pin a map of another layout");
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if (xlb_beat_write(dir, &b) != -EPROTO || xlb_beat_read(dir, &got) != -EPROTO ||
	    access(pin, F_OK)) {
		harness_fail(__FILE__, __LINE__, "a beat map of another layout: -EPROTO, kept");
		goto out;
	}
	rc = 0;
out:
	cleanup();
	return rc;
}

const struct harness_case beat_cases[] = {
	{"beat_write_read_reuse_refuse", t_beat_write_read_reuse_refuse},
};
const size_t beat_ncases = sizeof(beat_cases) / sizeof(beat_cases[0]);
