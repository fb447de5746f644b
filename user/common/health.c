// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Backend health state machine and table selection; see health.h. */
#include "config.h"
#include "health.h"
#include "xlb_abi.h"

void xlb_health_init(struct xlb_hstate *h, int start_up, __u64 now_ms)
{
	*h = (struct xlb_hstate){
		.health = start_up ? XLB_HEALTH_UP : XLB_HEALTH_UNKNOWN,
		.since_ms = now_ms,
		.up_since_ms = start_up ? now_ms : 0,
	};
}

void xlb_health_inherit(struct xlb_hstate *h, const struct xlb_hstate *from)
{
	*h = *from;
	h->successes = 0;
	h->failures = 0;
}

int xlb_health_result(struct xlb_hstate *h, int ok, __u32 rise, __u32 fall, __u64 now_ms)
{
	if (ok) {
		h->failures = 0;
		h->successes++;
		if (h->health != XLB_HEALTH_UP && h->successes >= (rise ? rise : 1)) {
			h->health = XLB_HEALTH_UP;
			h->since_ms = now_ms;
			h->up_since_ms = now_ms;
			return XLB_HEALTH_UP;
		}
	} else {
		h->successes = 0;
		h->failures++;
		if (h->health != XLB_HEALTH_DOWN && h->failures >= (fall ? fall : 1)) {
			h->health = XLB_HEALTH_DOWN;
			h->since_ms = now_ms;
			return XLB_HEALTH_DOWN;
		}
	}
	return -1;
}

const char *xlb_health_name(int health)
{
	return health == XLB_HEALTH_UP ? "up" : health == XLB_HEALTH_DOWN ? "down" : "unknown";
}

/*
 * Weight after slow start: 10% -> 100% over the window in ten steps (so a
 * ramp rebuilds a table ten times, not at every tick), at least 1.
 */
static __u32 ramped(const struct xlb_hsel_vip *vip, const struct xlb_hsel_in *b, __u64 now_ms)
{
	__u64 age, w;

	if (!b->weight || !vip->slow_start_ms || now_ms < b->up_since_ms)
		return b->weight;
	age = now_ms - b->up_since_ms;
	if (age >= vip->slow_start_ms)
		return b->weight;
	w = (__u64)b->weight * (age * 10 / vip->slow_start_ms + 1) / 10;
	return w ? (__u32)w : 1;
}

int xlb_health_select(const struct xlb_hsel_vip *vip, const struct xlb_hsel_in *in,
		      struct xlb_hsel_out *out, size_t n, __u64 now_ms)
{
	size_t enabled = 0, usable = 0, backups_up = 0, in_table = 0, ejected = 0;
	int panic, use_backups;

	for (size_t i = 0; i < n; i++) {
		if (in[i].admin != XLB_ADMIN_ENABLED)
			continue;
		if (in[i].backup) {
			backups_up += in[i].health == XLB_HEALTH_UP;
			continue;
		}
		enabled++;
		usable += in[i].health == XLB_HEALTH_UP;
	}
	/* A healthy backup beats sending traffic to primaries known dead. */
	use_backups = !usable && backups_up;
	panic = !use_backups && vip->panic_percent && enabled &&
		usable * 100 < enabled * vip->panic_percent;
	for (size_t i = 0; i < n; i++) {
		const struct xlb_hsel_in *b = &in[i];
		int up = b->health == XLB_HEALTH_UP, in_tbl;

		if (b->admin == XLB_ADMIN_DISABLED) {
			out[i] = (struct xlb_hsel_out){0, XLB_BE_DOWN};
			continue;
		}
		if (b->admin == XLB_ADMIN_DRAIN) {
			/* out of the table; its flows stay while it is reachable */
			out[i] = (struct xlb_hsel_out){0, up ? XLB_BE_DRAINING : XLB_BE_DOWN};
			continue;
		}
		in_tbl = b->backup ? use_backups && up : up || panic;
		if (in_tbl && up && b->ejected) {
			out[i] = (struct xlb_hsel_out){0, XLB_BE_DRAINING};
			ejected++;
			continue;
		}
		out[i].weight = in_tbl ? ramped(vip, b, now_ms) : 0;
		in_table += out[i].weight > 0;
		/* Out of the table but up (a backup standing by, or one that
		 * served while primaries were down): ACTIVE keeps its flows. */
		out[i].state = in_tbl || up ? XLB_BE_ACTIVE : XLB_BE_DOWN;
	}
	/* Ejection never empties a VIP: put the ejected back. */
	for (size_t i = 0; !in_table && ejected && i < n; i++)
		if (in[i].ejected && out[i].state == XLB_BE_DRAINING &&
		    in[i].admin == XLB_ADMIN_ENABLED)
			out[i] = (struct xlb_hsel_out){ramped(vip, &in[i], now_ms), XLB_BE_ACTIVE};
	return panic;
}
