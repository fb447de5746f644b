// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What this host announces; see announce_plan.h. */
#include <string.h>

#include "announce_plan.h"

int xlb_ann_decide(int on, int attached, const struct xlb_ann_vip *v)
{
	if (!on)
		return XLB_ANN_OFF;
	if (v->mode == XLB_ANNOUNCE_NEVER)
		return XLB_ANN_NEVER;
	if (!attached)
		return XLB_ANN_DETACHED;
	if (v->maintenance)
		return XLB_ANN_MAINTENANCE;
	if (v->mode == XLB_ANNOUNCE_ALWAYS)
		return XLB_ANN_ALWAYS;
	if (v->usable)
		return XLB_ANN_USABLE;
	return v->pending ? XLB_ANN_PENDING : XLB_ANN_NO_USABLE;
}

int xlb_ann_wants(int why)
{
	return why == XLB_ANN_USABLE || why == XLB_ANN_ALWAYS ? 1 : why == XLB_ANN_PENDING ? -1 : 0;
}

const char *xlb_ann_why_text(int why)
{
	switch (why) {
	case XLB_ANN_USABLE:
		return "a usable backend";
	case XLB_ANN_ALWAYS:
		return "announce always";
	case XLB_ANN_PENDING:
		return "health not known yet (kept as it was)";
	case XLB_ANN_OFF:
		return "announcing off (no announce block)";
	case XLB_ANN_NEVER:
		return "announce never";
	case XLB_ANN_DETACHED:
		return "program not attached";
	case XLB_ANN_MAINTENANCE:
		return "maintenance";
	case XLB_ANN_NO_USABLE:
		return "no usable backend";
	}
	return "no VIP on this address";
}

int xlb_route_equal(const struct xlb_route *a, const struct xlb_route *b)
{
	return a->family == b->family && !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

static int present_in(const struct xlb_route *r, const struct xlb_route *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (xlb_route_equal(r, &set[i]))
			return 1;
	return 0;
}

/* What the VIPs of address r say together: 1, 0, -1 (as in xlb_ann_wants),
 * and the decision that speaks for them in *why (-1: no VIP has r). */
static int address_wants(const struct xlb_ann_vip *v, const int *why, size_t n,
			 const struct xlb_route *r, int *out_why)
{
	int w = 0;

	*out_why = -1;
	for (size_t i = 0; i < n; i++) {
		int x;

		if (!xlb_route_equal(&v[i].route, r))
			continue;
		x = xlb_ann_wants(why[i]);
		if (*out_why < 0 || (x == 1 && w != 1) || (x == -1 && w == 0))
			*out_why = why[i];
		if (x == 1)
			w = 1;
		else if (x == -1 && w == 0)
			w = -1;
	}
	return w;
}

void xlb_ann_plan(const struct xlb_ann_vip *v, const int *why, size_t n,
		  const struct xlb_route *present, size_t np, struct xlb_route *add, int *add_why,
		  size_t *nadd, struct xlb_route *del, int *del_why, size_t *ndel)
{
	*nadd = *ndel = 0;
	for (size_t i = 0; i < n; i++) {
		int w;

		if (present_in(&v[i].route, present, np) || present_in(&v[i].route, add, *nadd))
			continue;
		if (address_wants(v, why, n, &v[i].route, &w) == 1) {
			add_why[*nadd] = w;
			add[(*nadd)++] = v[i].route;
		}
	}
	for (size_t i = 0; i < np; i++) {
		int w;

		if (present_in(&present[i], del, *ndel))
			continue;
		if (!address_wants(v, why, n, &present[i], &w)) {
			del_why[*ndel] = w;
			del[(*ndel)++] = present[i];
		}
	}
}
