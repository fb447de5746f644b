// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Reason names and help, generated from the one X-macro list. */
#include <stddef.h>

#include "xlb_dp.h"

struct reason_info {
	const char *name;
	const char *help;
	int kind;
};

static const struct reason_info reasons[XLB_REASON_SLOTS] = {
#define XLB_REASON_INFO(id, e, nm, k, h) [id] = {.name = nm, .help = h, .kind = k},
	XLB_REASONS(XLB_REASON_INFO)
#undef XLB_REASON_INFO
};

const char *xlb_reason_name(__u32 id)
{
	return id < XLB_REASON_SLOTS ? reasons[id].name : NULL;
}

const char *xlb_reason_help(__u32 id)
{
	return id < XLB_REASON_SLOTS ? reasons[id].help : NULL;
}

int xlb_reason_kind(__u32 id)
{
	return id < XLB_REASON_SLOTS && reasons[id].name ? reasons[id].kind : -1;
}
