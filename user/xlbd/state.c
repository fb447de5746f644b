// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The state file (running.yaml): what xlbd restores at its next start, so
 * it must always load again and never be half written.
 *
 * The dump is loaded back before anything touches the disk (a dump that
 * does not give the same configuration is refused, see config_dump.h).
 * It goes to a temporary file of a unique name in the same directory
 * (mkostemp: created 0600 and O_EXCL, so nobody's pre-placed file or
 * symlink is followed, and O_CLOEXEC, so no check program inherits it),
 * is fsynced, renamed over the old file, and the directory is fsynced:
 * after a crash at any point the file holds the old or the new
 * configuration, whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "config_dump.h"
#include "state.h"

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fail(struct xlb_err *err, int ret, const char *what, const char *path)
{
	snprintf(err->msg, sizeof(err->msg),
		 "couldn't %s state file '%.300s': %s; the previous state file is unchanged", what,
		 path, strerror(-ret));
	return ret;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int state_write(const char *path, const struct xlb_cfg *cfg, struct xlb_err *err)
{
	char *text;
	size_t len;
	int ret = xlb_cfg_dump_checked(cfg, &text, &len, err);

	if (ret)
		return ret;
	ret = state_write_text(path, text, len, err);
	free(text);
	return ret;
}

int state_write_text(const char *path, const char *text, size_t len, struct xlb_err *err)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *slash;
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return fail(err, -ENAMETOOLONG, "name", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = 0; /* a file in / */
	else if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	if (mkdir(dir, 0700) && errno != EEXIST)
		return fail(err, -errno, "create the directory of", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fail(err, -errno, "create a temporary file for", path);
	ret = write_all(fd, text, len);
	if (!ret && fchmod(fd, 0600)) /* mkostemp's mode, said out loud */
		ret = -errno;
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (ret) {
		fail(err, ret, "write", tmp);
		unlink(tmp);
		return ret;
	}
	if (rename(tmp, path)) {
		ret = fail(err, -errno, "replace", path);
		unlink(tmp);
		return ret;
	}
	sync_dir(dir);
	return 0;
}
