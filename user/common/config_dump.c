// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The configuration as text, checked to load back: see config_dump.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_dump.h"

int xlb_cfg_dump_text(const struct xlb_cfg *c, char **text, size_t *len)
{
	FILE *f;
	int ret;

	*text = NULL;
	*len = 0;
	f = open_memstream(text, len);
	if (!f)
		return -errno;
	ret = xlb_cfg_dump(c, f);
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	if (ret) {
		free(*text);
		*text = NULL;
	}
	return ret;
}

int xlb_cfg_dump_checked(const struct xlb_cfg *c, char **text, size_t *len, struct xlb_err *err)
{
	struct xlb_cfg back = {};
	struct xlb_err lerr = {};
	char *again = NULL;
	size_t alen = 0;
	int ret = xlb_cfg_dump_text(c, text, len);

	if (ret) {
		snprintf(err->msg, sizeof(err->msg), "couldn't dump the configuration: %s",
			 strerror(-ret));
		return ret;
	}
	if (xlb_cfg_load_string("dump", *text, &back, &lerr)) {
		snprintf(
			err->msg, sizeof(err->msg),
			"couldn't check the configuration's dump: it does not load again (%.400s); "
			"nothing was written",
			lerr.msg);
		ret = -EINVAL;
	} else if (!xlb_cfg_equal(c, &back)) {
		snprintf(err->msg, sizeof(err->msg),
			 "couldn't check the configuration's dump: it loads again as a different "
			 "configuration; nothing was written");
		ret = -EINVAL;
	} else {
		ret = xlb_cfg_dump_text(&back, &again, &alen);
		if (ret)
			snprintf(err->msg, sizeof(err->msg),
				 "couldn't check the configuration's dump: %s", strerror(-ret));
		else if (alen != *len || memcmp(again, *text, alen)) {
			snprintf(err->msg, sizeof(err->msg),
				 "couldn't check the configuration's dump: dumping it again gives "
				 "other text; nothing was written");
			ret = -EINVAL;
		}
	}
	free(again);
	xlb_cfg_free(&back);
	if (ret) {
		free(*text);
		*text = NULL;
	}
	return ret;
}
