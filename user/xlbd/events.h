/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlbd's event history: the transitions operators look for (health, admin,
 * data-plane state, VIP serving or empty, panic) and every change made over
 * the control socket with who made it. A bounded ring (the newest
 * EVENTS_MAX); each event is also logged, one line, as it is recorded.
 * `xlbctl events` prints the ring.
 */
#ifndef XLBD_EVENTS_H
#define XLBD_EVENTS_H

#include <linux/types.h>

#define EVENTS_MAX 1024

struct event {
	__u64 wall_ms; /* CLOCK_REALTIME, set when recorded */
	char kind[12]; /* health, admin, state, vip, panic, change */
	char vip[64];
	char backend[64]; /* address (empty for a VIP event) */
	char from[16], to[16];
	char reason[96];
	__u32 duration_us; /* of the check behind it, 0 if none */
	__u8 by_peer;	   /* a control request made it: uid and pid say who */
	__u32 uid;
	__s32 pid;
};

struct events;

struct events *events_new(void);
void events_free(struct events *ev);

/* Record and log one event (wall_ms is set here). */
void event_add(struct events *ev, const struct event *e);
/* The history, oldest first: calls fn for each. */
void events_each(const struct events *ev, void (*fn)(const struct event *e, void *arg), void *arg);

#endif /* XLBD_EVENTS_H */
