/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * /metrics and /healthz (libmicrohttpd, its own thread).
 *
 * A scrape never blocks the event loop and never sees a half-updated
 * state: the HTTP thread asks the loop (an eventfd in its epoll) for a
 * snapshot of what is configured and how each backend stands; the loop
 * builds it between two events and hands it over under a mutex
 * (metrics_snap.h: a few words a backend, no text, no map read; flows per
 * backend are the background sweep's, flowsweep.h). Counters are then read
 * by the HTTP thread straight from the per-CPU maps (batched syscalls, no
 * agent state) and the text written there (metrics_text.h, label text
 * cached across scrapes), so a slow scrape costs the loop only the copy.
 * Label sets come from the snapshot: bounded by the configured VIPs and
 * backends, and a deleted backend's series are gone at the next scrape.
 * Only the first scrape after a quiet spell (no sweep pass yet) counts the
 * flow table itself, on the HTTP thread.
 *
 * /healthz answers 200 while the loop has ticked within the last 5 s,
 * 503 otherwise.
 */
#ifndef XLBD_METRICS_H
#define XLBD_METRICS_H

#include <linux/types.h>

#include "counters.h" /* what the loop counts, rendered here */

struct agent;
struct metrics;

#define METRICS_DEFAULT "127.0.0.1:9641"

/* Parse "ADDR:PORT" / "[ADDR]:PORT" / "off"; start serving. 0, -errno. */
int metrics_start(struct agent *ag, const char *listen, struct metrics **out);
void metrics_stop(struct metrics *m);

/* The eventfd the loop polls: a scrape waits for a snapshot. */
int metrics_fd(const struct metrics *m);
void metrics_on_request(struct metrics *m);
/* The loop is alive (each tick). */
void metrics_heartbeat(struct metrics *m);

#endif /* XLBD_METRICS_H */
