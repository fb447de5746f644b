/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlbd's health checking: which probes exist, when each runs, what their
 * results do to backend health. Transitions go to the event history
 * (events.h).
 *
 * - One target a distinct check: (backend address, check port, what the
 *   check does). A backend listed by several VIPs with the same check is
 *   probed once, on the timing of the first VIP that lists it; its health
 *   is shared. Changing a check's timing keeps the target and its health;
 *   changing what it does (type, path, port, a backend's port override...)
 *   makes a new target, which takes over the health of the target that
 *   (VIP, backend) had (its own results then move it by rise/fall), so
 *   editing a check never takes a healthy backend out. A new backend
 *   starts from `start` (unknown by default).
 * - Schedule: a min-heap of due times behind one timerfd (absolute,
 *   CLOCK_MONOTONIC), so 10,000 targets cost nothing between their checks.
 *   The next check is due one interval (+/- jitter) after the previous was
 *   due, not after it finished; while a target is between states (some
 *   successes while not up, some failures while not down) its
 *   fast_interval applies. A new target is first checked within the first
 *   interval, spread at random so thousands do not start together.
 * - Restart: a backend that the adopted data plane had in service starts
 *   `up`, so restarting xlbd moves no flow while its checks warm up.
 * - Results go through the rise/fall state machine (health.h); a change of
 *   health is logged and recorded once per VIP that uses the target, and
 *   makes the agent apply at once.
 */
#ifndef XLBD_CHECKS_H
#define XLBD_CHECKS_H

#include <linux/types.h>

#include "health.h"
#include "probe.h"
#include "sync.h"

struct agent;
struct checks;

struct checks *checks_new(struct agent *ag);
void checks_free(struct checks *c);

/* Fds for the agent's epoll: the schedule's timer and the prober. */
int checks_timer_fd(const struct checks *c);
int checks_prober_fd(const struct checks *c);
void checks_on_timer(struct checks *c);
void checks_on_prober(struct checks *c);

/* Remember which backends the adopted data plane had in service. */
void checks_adopted_up(struct checks *c, const union xlb_addr *addrs, size_t n);

/* Make the targets match the running configuration (after an apply). */
int checks_sync(struct checks *c, const struct xlb_cfg *cfg);

/* xlb_sync's health callbacks (ctx: struct checks): the VIP's (its check
 * digested once), then each backend's. */
void checks_health_vip(void *ctx, const struct xlb_sync_vip *v);
void checks_health(void *ctx, const struct xlb_sync_vip *v, const struct xlb_sync_backend *b,
		   struct xlb_hsel_in *in);

/* What status shows about one backend's check. */
struct check_view {
	int checked;	    /* a target exists */
	__u8 health;	    /* enum xlb_health */
	__u64 since_ms;	    /* CLOCK_REALTIME of the last health change */
	__u64 last_ms;	    /* CLOCK_REALTIME of the last result, 0 if none */
	__u64 changes;	    /* health transitions so far */
	__u64 last_mono_ms; /* CLOCK_MONOTONIC of the last result, 0 if none */
	struct xlb_probe_result last;
};

void checks_view(struct checks *c, const struct xlb_cfg_vip *v, const struct xlb_cfg_backend *b,
		 struct check_view *out);

/*
 * Check (VIP, backend) now (unless a probe runs), then at its fast_interval
 * until hurry_till_ms (CLOCK_MONOTONIC): outlier ejection wants to know soon.
 * -ENOENT: it has no check (type none).
 */
int checks_check_now(struct checks *c, const struct xlb_cfg_vip *v, const struct xlb_cfg_backend *b,
		     __u64 hurry_till_ms);

/* Schedule lateness over the recent checks, in microseconds. */
void checks_lateness(const struct checks *c, __u32 *p50_us, __u32 *p99_us, __u32 *n);
unsigned int checks_targets(const struct checks *c);

/* Compare a new sync view with the one before and record VIP-level and
 * admin transitions (nothing usable / recovered, panic, drain...). */
void checks_note_apply(struct checks *c, const struct xlb_sync *s);

#endif /* XLBD_CHECKS_H */
