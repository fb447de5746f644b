// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The kernel's clock as the data plane sees it: jiffies and HZ. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <time.h>
#include <zlib.h>

#include "log.h"
#include "procfs.h"
#include "xlb_dp.h"

/* CONFIG_HZ from a kernel config file (gzip or plain), 0 if absent. */
static unsigned int hz_from_config(const char *path)
{
	gzFile f = gzopen(path, "r");
	unsigned int hz = 0;
	char line[256];

	if (!f)
		return 0;
	while (gzgets(f, line, sizeof(line)))
		if (sscanf(line, "CONFIG_HZ=%u", &hz) == 1)
			break;
	gzclose(f);
	return hz;
}

/* Jiffies from /proc/timer_list, 0 if unreadable. */
static unsigned long long timer_list_jiffies(void)
{
	return xlb_proc_value("/proc/timer_list", "jiffies");
}

unsigned int xlb_kernel_hz(void)
{
	static unsigned int hz;
	static const unsigned int known[] = {100, 250, 300, 1000};
	struct timespec d = {0, 200 * 1000 * 1000};
	unsigned long long j0, j1;
	char path[300];
	struct utsname u;

	if (hz)
		return hz;
	hz = hz_from_config("/proc/config.gz");
	if (!hz && !uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		hz = hz_from_config(path);
	}
	if (hz)
		return hz;
	/* Measure: jiffies advanced over 200 ms, rounded to a known HZ. */
	j0 = timer_list_jiffies();
	nanosleep(&d, NULL);
	j1 = timer_list_jiffies();
	hz = 250;
	if (j0 && j1 > j0) {
		unsigned int best = 0;

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!best || llabs((long long)(j1 - j0) * 5 - known[i]) <
					     llabs((long long)(j1 - j0) * 5 - best))
				best = known[i];
		hz = best;
	} else {
		pr_warn("couldn't determine the kernel's HZ: assuming 250\n");
	}
	return hz;
}

unsigned long long xlb_kernel_jiffies(void)
{
	return timer_list_jiffies();
}
