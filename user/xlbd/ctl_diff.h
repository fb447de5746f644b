/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What a change would do, as the control reply's "changes" array: one object
 * per VIP or backend added ("+"), removed ("-") or changed ("~", with the
 * fields old -> new), from cfgdiff.h; a removed VIP or backend also carries
 * the live flows it has now, so `apply --dry-run` says what removing it
 * would cut. Every applied change is also logged, one line each.
 */
#ifndef XLBD_CTL_DIFF_H
#define XLBD_CTL_DIFF_H

#include <json-c/json.h>

#include "config.h"
#include "ctl_query.h"

/* The changes from view->cfg to next (an array; NULL when out of memory). */
json_object *ctl_diff_json(const struct ctl_view *view, const struct xlb_cfg *next);

/* The same from two configurations alone, without reading the data plane
 * (so any thread may build it): NULL when out of memory; an empty array
 * when *removed says something goes (its live flows need ctl_diff_json()
 * in the loop). */
json_object *ctl_diff_json_plain(const struct xlb_cfg *cur, const struct xlb_cfg *next,
				 int *removed);
/* Log each change of the array, one line each: "change: - vip ... (N flows)". */
void ctl_diff_log(json_object *changes, const char *verb);
/* Those lines appended to out (any thread: it logs nothing itself). */
struct strbuf;
void ctl_diff_log_text(json_object *changes, const char *verb, struct strbuf *out);

#endif /* XLBD_CTL_DIFF_H */
