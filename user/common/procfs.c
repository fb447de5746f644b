// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Numbers from "name: value" lines of /proc files; see procfs.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

unsigned long long xlb_proc_value(const char *path, const char *name)
{
	FILE *f = fopen(path, "r");
	size_t len = strlen(name);
	unsigned long long v = 0;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *end;

		if (strncmp(line, name, len) || line[len] != ':')
			continue;
		v = strtoull(line + len + 1, &end, 10);
		if (end != line + len + 1)
			break;
	}
	fclose(f);
	return v;
}
