// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbd's event history; see events.h. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "events.h"
#include "log.h"

struct events {
	struct event ring[EVENTS_MAX];
	size_t n; /* total ever recorded */
};

struct events *events_new(void)
{
	return calloc(1, sizeof(struct events));
}

void events_free(struct events *ev)
{
	free(ev);
}

void event_add(struct events *ev, const struct event *e)
{
	struct event *slot = &ev->ring[ev->n++ % EVENTS_MAX];
	char ts[32], who[48] = "";
	time_t sec;
	struct tm tm;

	*slot = *e;
	slot->wall_ms = wall_ms();
	sec = (time_t)(slot->wall_ms / 1000);
	gmtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (e->by_peer)
		snprintf(who, sizeof(who), " uid=%u pid=%d", e->uid, e->pid);
	pr_info("event ts=%s.%03uZ kind=%s vip=%s%s%s from=%s to=%s reason=\"%s\" "
		"check_ms=%.1f%s\n",
		ts, (unsigned int)(slot->wall_ms % 1000), e->kind, e->vip,
		e->backend[0] ? " backend=" : "", e->backend, e->from, e->to, e->reason,
		e->duration_us / 1000.0, who);
}

void events_each(const struct events *ev, void (*fn)(const struct event *e, void *arg), void *arg)
{
	size_t first = ev->n > EVENTS_MAX ? ev->n - EVENTS_MAX : 0;

	for (size_t i = first; i < ev->n; i++)
		fn(&ev->ring[i % EVENTS_MAX], arg);
}
