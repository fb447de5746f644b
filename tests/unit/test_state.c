// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The state file (user/xlbd/state.c): mode 0600 whatever the umask, a
 * temporary file of its own (nobody's file at a guessable name is followed
 * or clobbered), nothing left behind, and a dump that would not load again
 * is refused with the old file untouched.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "config.h"
#include "harness.h"
#include "state.h"
#include "test_unit.h"

static char dir[64], path[128], victim[128];

/* Someone's file the tests must not touch. */
static int make_victim(void)
{
	FILE *f = fopen(victim, "w");

	if (!f)
		return -1;
	fputs("precious\n", f);
	return fclose(f);
}

static const char *yaml = "vips:\n"
			  "  - address: 10.0.0.10\n"
			  "    port: 80\n"
			  "    protocol: tcp\n"
			  "    check:\n"
			  "      type: http\n"
			  "      path: /healthz\n"
			  "      body: \"ok\\x7f\\x85\\u2028\"\n"
			  "    backends:\n"
			  "      - address: 10.1.0.1\n";

int state_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/xlb-state-XXXXXX");
	if (!mkdtemp(dir))
		return -errno;
	snprintf(path, sizeof(path), "%s/sub/running.yaml", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	return 0;
}

void state_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (dir[0] && system(cmd))
		fprintf(stderr, "couldn't remove %s\n", dir);
}

/* Files in path's directory other than the state file itself. */
static int strays(void)
{
	char d[160];
	struct dirent *e;
	DIR *dh;
	int n = 0;

	snprintf(d, sizeof(d), "%s/sub", dir);
	dh = opendir(d);
	if (!dh)
		return -1;
	while ((e = readdir(dh)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		     strcmp(e->d_name, "running.yaml");
	closedir(dh);
	return n;
}

static int read_file(const char *p, char *buf, size_t len)
{
	int fd = open(p, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return (int)n;
}

static int t_state_written_0600_and_loads_back(void)
{
	struct xlb_cfg c = {}, back = {};
	struct xlb_err err = {};
	struct stat st, dst;
	mode_t old = umask(0);
	char d[160];
	int ret;

	ASSERT_OK(xlb_cfg_load_string("state.yaml", yaml, &c, &err), err.msg);
	ret = state_write(path, &c, &err);
	umask(old);
	ASSERT_OK(ret, err.msg);
	ASSERT_OK(stat(path, &st), "the state file exists");
	ASSERT_EQ(st.st_mode & 0777, 0600, "mode 0600 even with umask 0");
	snprintf(d, sizeof(d), "%s/sub", dir);
	ASSERT_OK(stat(d, &dst), "its directory was made");
	ASSERT_EQ(dst.st_mode & 0777, 0700, "directory mode 0700");
	ASSERT_EQ(strays(), 0, "no temporary file left behind");
	ASSERT_OK(xlb_cfg_load_file(path, &back, &err), err.msg);
	ASSERT_TRUE(xlb_cfg_equal(&c, &back), "loads back to the same configuration");
	xlb_cfg_free(&c);
	xlb_cfg_free(&back);
	return 0;
}

/* A file or symlink at the name an older xlbd used for its temporary file
 * (running.yaml.tmp) is neither followed nor replaced. */
static int t_state_never_follows_a_placed_file(void)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	char link[160], sub[160], buf[64];

	snprintf(link, sizeof(link), "%s.tmp", path);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	ASSERT_OK(make_victim(), "victim");
	ASSERT_OK(mkdir(sub, 0700), "state directory");
	ASSERT_OK(symlink(victim, link), "symlink at the old temporary name");
	ASSERT_OK(xlb_cfg_load_string("state.yaml", yaml, &c, &err), err.msg);
	ASSERT_OK(state_write(path, &c, &err), err.msg);
	ASSERT_TRUE(read_file(victim, buf, sizeof(buf)) > 0 && !strcmp(buf, "precious\n"),
		    "the symlink's target is untouched");
	ASSERT_OK(unlink(link), "the symlink is still there");
	ASSERT_EQ(strays(), 0, "nothing else left behind");
	xlb_cfg_free(&c);
	return 0;
}

/* A configuration whose dump would not load again is refused: nothing is
 * written, the previous file stays byte for byte. */
static int t_state_refuses_a_dump_that_does_not_load_back(void)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	char before[4096], after[4096];

	ASSERT_OK(xlb_cfg_load_string("state.yaml", yaml, &c, &err), err.msg);
	ASSERT_OK(state_write(path, &c, &err), err.msg);
	ASSERT_TRUE(read_file(path, before, sizeof(before)) > 0, "read it");
	/* not UTF-8: no YAML spelling (only a config built in memory has it) */
	snprintf(c.vips[0].check.body, sizeof(c.vips[0].check.body), "bad\xff");
	ASSERT_EQ(state_write(path, &c, &err), -EINVAL, "refused");
	ASSERT_TRUE(strstr(err.msg, "nothing was written") != NULL, err.msg);
	ASSERT_TRUE(read_file(path, after, sizeof(after)) > 0, "read it again");
	ASSERT_TRUE(!strcmp(before, after), "the previous state file is unchanged");
	ASSERT_EQ(strays(), 0, "no temporary file left behind");
	xlb_cfg_free(&c);
	return 0;
}

/* The temporary file is in the same directory (rename is atomic only
 * within one file system): a directory that cannot be written fails
 * cleanly, naming the file. */
static int t_state_reports_an_unwritable_place(void)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	char p[160];

	ASSERT_OK(make_victim(), "victim");
	snprintf(p, sizeof(p), "%s/running.yaml", victim); /* under a file */
	ASSERT_OK(xlb_cfg_load_string("state.yaml", yaml, &c, &err), err.msg);
	ASSERT_TRUE(state_write(p, &c, &err) < 0, "refused");
	ASSERT_TRUE(strstr(err.msg, "couldn't ") && strstr(err.msg, p), err.msg);
	xlb_cfg_free(&c);
	return 0;
}

const struct harness_case state_cases[] = {
	{"state_written_0600_and_loads_back", t_state_written_0600_and_loads_back},
	{"state_never_follows_a_placed_file", t_state_never_follows_a_placed_file},
	{"state_refuses_a_dump_that_does_not_load_back",
	 t_state_refuses_a_dump_that_does_not_load_back},
	{"state_reports_an_unwritable_place", t_state_reports_an_unwritable_place},
};
const size_t state_ncases = sizeof(state_cases) / sizeof(state_cases[0]);
