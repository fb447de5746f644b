/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Backend health and the policy that turns admin state x health x slow
 * start into what a VIP's table holds (issue #4). Pure logic, times in ms
 * passed in by the caller, so unit tests drive every transition.
 *
 * Health: a new backend is `unknown` (or `up` when configured so); `rise`
 * consecutive successes make it `up`, `fall` consecutive failures make it
 * `down`. A result that agrees with the current state resets the other
 * counter, so flapping around the thresholds never changes the state until
 * a full run of `rise` or `fall` results agrees.
 *
 * Selection for one VIP (xlb_health_select):
 *  - usable primary: admin enabled and health up;
 *  - backups enter the table only while no primary is usable (and leave it
 *    when one is again; their flows stay);
 *  - panic (threshold > 0): when usable primaries are fewer than
 *    threshold % of enabled primaries, every enabled primary is put back
 *    (an overloaded half-dead pool beats one that sheds all its load onto
 *    the survivors), whatever its health - unless a healthy backup can
 *    serve instead because no primary is usable at all;
 *  - slow start: for `slow_start_ms` after coming up, a backend's weight
 *    ramps from 10% to 100% in ten equal steps (never below 1);
 *  - data-plane state: admin disabled or health down/unknown (and not put
 *    back by panic) -> DOWN, its flows move; admin drain -> DRAINING, its
 *    flows stay; otherwise ACTIVE (in the table, or a backup standing by);
 *  - ejected by outlier detection (issue #16, xlbd's outlier.c), up and
 *    enabled: DRAINING, out of the table for new flows while its flows stay
 *    (and a retransmitted SYN's second chance never picks it); it still
 *    counts as usable for panic. Should the table be empty otherwise, the
 *    ejected backends are put back: ejection never empties a VIP.
 */
#ifndef XLB_HEALTH_H
#define XLB_HEALTH_H

#include <stddef.h>
#include <linux/types.h>

enum xlb_health {
	XLB_HEALTH_UNKNOWN = 0,
	XLB_HEALTH_UP = 1,
	XLB_HEALTH_DOWN = 2,
};

struct xlb_hstate {
	__u8 health;	   /* enum xlb_health */
	__u32 successes;   /* consecutive */
	__u32 failures;	   /* consecutive */
	__u64 since_ms;	   /* when health last changed */
	__u64 up_since_ms; /* when it last came up (slow start) */
};

/* Start a backend's health: unknown, or up when start_up is set. */
void xlb_health_init(struct xlb_hstate *h, int start_up, __u64 now_ms);

/*
 * A check that changed what it does (type, path, port...) takes over the
 * health of the one it replaces: the same health, since and up_since (no
 * new slow start), and empty runs, so its own results move it only after a
 * full run of `rise` or `fall` agree.
 */
void xlb_health_inherit(struct xlb_hstate *h, const struct xlb_hstate *from);

/*
 * Record one check result. Returns the new health if it changed, else -1.
 */
int xlb_health_result(struct xlb_hstate *h, int ok, __u32 rise, __u32 fall, __u64 now_ms);

const char *xlb_health_name(int health);

/* One backend as the selection sees it. */
struct xlb_hsel_in {
	__u8 admin;  /* enum xlb_admin (config.h) */
	__u8 health; /* enum xlb_health */
	__u8 backup; /* only used while no primary is usable */
	__u32 weight;
	__u64 up_since_ms;
	__u8 ejected; /* by outlier detection */
};

struct xlb_hsel_out {
	__u32 weight; /* effective weight in the table, 0 = out */
	__u8 state;   /* enum xlb_backend_state for the data plane */
};

struct xlb_hsel_vip {
	__u32 panic_percent; /* 0 = no panic mode */
	__u32 slow_start_ms; /* 0 = off */
};

/* Fill out[i] for every backend; returns 1 when the VIP is in panic. */
int xlb_health_select(const struct xlb_hsel_vip *vip, const struct xlb_hsel_in *in,
		      struct xlb_hsel_out *out, size_t n, __u64 now_ms);

#endif /* XLB_HEALTH_H */
