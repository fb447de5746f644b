// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* "name: value" lines of /proc files (jiffies, a map's memlock). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "procfs.h"
#include "test_unit.h"

static int t_procfs_value_of_the_first_line_named(void)
{
	char path[] = "/tmp/xlb-procfs-XXXXXX";
	int fd = mkstemp(path), rc = -1;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f)
		goto out;
	fputs("jiffies_x: 7\nmemlock: none\npos:\t1\nmemlock:\t4096\nmemlock: 5\n"
	      "  jiffies: 9\njiffies: 12\n",
	      f);
	fclose(f);
	if (xlb_proc_value(path, "memlock") != 4096) {
		harness_fail(__FILE__, __LINE__, "memlock: the first line with a number");
		goto out;
	}
	if (xlb_proc_value(path, "jiffies") != 12) {
		harness_fail(__FILE__, __LINE__, "jiffies: only a whole name at a line's start");
		goto out;
	}
	if (xlb_proc_value(path, "rss") != 0 || xlb_proc_value("/nonexistent/x", "pos") != 0) {
		harness_fail(__FILE__, __LINE__, "no such line, no such file: 0");
		goto out;
	}
	rc = 0;
out:
	unlink(path);
	return rc;
}

const struct harness_case procfs_cases[] = {
	{"procfs_value_of_the_first_line_named", t_procfs_value_of_the_first_line_named},
};
const size_t procfs_ncases = sizeof(procfs_cases) / sizeof(procfs_cases[0]);
