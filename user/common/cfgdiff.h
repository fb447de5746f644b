/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What applying one configuration over another would change, in the terms
 * an operator reviews before saying yes: VIPs and backends added, removed
 * and changed (with each changed field, old -> new). `xlbctl apply
 * --dry-run` and `reload --dry-run` print it; every apply logs it.
 *
 * Pure logic: no BPF, no sockets. VIPs are matched by address, port and
 * protocol, backends by address within their VIP.
 */
#ifndef XLB_CFGDIFF_H
#define XLB_CFGDIFF_H

#include "config.h"

#define XLB_CHANGE_WHAT_LEN 512

struct xlb_cfg_change {
	char kind; /* '+' added, '-' removed, '~' changed */
	/* The VIP (of the new config for + and ~, of the old one for -);
	 * NULL for a change of a top-level setting (the interface). */
	const struct xlb_cfg_vip *vip;
	/* NULL: the VIP itself. A removed VIP's backends go with it and are
	 * not listed one by one. */
	const struct xlb_cfg_backend *backend;
	char what[XLB_CHANGE_WHAT_LEN]; /* '~': "weight 1 -> 3, admin enabled -> drain" */
};

typedef void (*xlb_cfg_change_fn)(const struct xlb_cfg_change *ch, void *ctx);

/*
 * Call fn for every difference from cur to next: top-level settings, then
 * the VIPs of next in order (added or changed, each followed by its
 * backends' changes), then the VIPs that next removes. Returns the number of
 * changes (0: applying next changes nothing).
 */
int xlb_cfg_diff(const struct xlb_cfg *cur, const struct xlb_cfg *next, xlb_cfg_change_fn fn,
		 void *ctx);

#endif /* XLB_CFGDIFF_H */
