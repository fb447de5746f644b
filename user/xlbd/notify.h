/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * systemd's service protocol (sd_notify): readiness, a status line, the
 * watchdog, reloads and the stop. Every call is a no-op when xlbd was not
 * started by systemd (no NOTIFY_SOCKET).
 */
#ifndef XLBD_NOTIFY_H
#define XLBD_NOTIFY_H

#include <linux/types.h>

struct agent;

/* Forwarding runs (program attached, configuration applied): READY=1 with
 * the status line; the watchdog interval is read here (WATCHDOG_USEC). */
void notify_ready(const struct agent *ag);
/* The status line again, sent only when it changed (after an apply). */
void notify_status(const struct agent *ag);
/* From the event loop's tick: WATCHDOG=1 every half watchdog interval. */
void notify_tick(__u64 now_ms);
/* Around a reload (SIGHUP): RELOADING=1, then READY=1 again. */
void notify_reloading(void);
void notify_reloaded(const struct agent *ag);
/* Exiting: STOPPING=1. */
void notify_stopping(void);

#endif
