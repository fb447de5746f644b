/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control verbs that only read: status, stats, events, vip-list,
 * backend-list, config-dump. They see the agent through a ctl_view.
 */
#ifndef XLBD_CTL_QUERY_H
#define XLBD_CTL_QUERY_H

#include <json-c/json.h>

#include "config.h"

struct xlb_sync;
struct xlb_dp;
struct checks;
struct events;
struct announce;
struct flowsweep;

/* What the queries read (pointers into the agent, valid while it runs). */
struct ctl_view {
	const char *iface;
	const char *pin_dir;
	int generic;		   /* generic XDP */
	const int *unresolved;	   /* backends whose next hop is not known yet */
	const struct xlb_cfg *cfg; /* the running configuration */
	const struct xlb_sync *sync;
	struct xlb_dp *dp;
	struct checks *checks;
	const struct outliers *outliers; /* ejection.h */
	const struct events *events;
	const struct announce *announce; /* routes and maintenance (announce.h) */
	const char *config_digest;	 /* cfgdigest.h; "" when unknown */
	struct flowsweep *flows;	 /* flowsweep.h; NULL: count at each request */
};

struct ctl_query;

/* Live flows per backend id from the flow table (calloc'd, XLB_MAX_BACKENDS
 * entries); NULL when unreadable. */
__u32 *ctl_flow_counts(const struct ctl_view *view);
/* gen_by_id[id] = the generation of each backend of sync (a struct
 * xlb_sync; flowsweep_gens_fn's shape). */
void ctl_backend_gens(void *sync, __u32 *gen_by_id);

/* The query verb called name; NULL when there is none. */
const struct ctl_query *ctl_query_find(const char *name);
/* Fill reply: 0, or -errno with err set. */
int ctl_query_run(const struct ctl_query *q, const struct ctl_view *v, json_object *req,
		  json_object *reply, struct xlb_err *err);

#endif /* XLBD_CTL_QUERY_H */
