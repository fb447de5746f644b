// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbd and systemd (notify.h). The watchdog ping comes from the event
 * loop's own tick, nowhere else: it says that the loop turns, so a loop
 * that hangs (the process alive, nothing applied, no check run) is killed
 * and restarted by systemd (xlbd.service: WatchdogSec=). The restart
 * adopts the pinned data plane, so forwarding never stops for it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "agent.h"
#include "log.h"
#include "notify.h"

static __u64 watchdog_ms; /* 0: no watchdog asked for */
static __u64 last_ping_ms;
static char status[160];

/* "forwarding on IFACE: N VIPs, M of K backends in service" */
static void status_line(const struct agent *ag, char *buf, size_t len)
{
	size_t in = 0, all = 0;

	for (size_t i = 0; ag->sync && i < ag->sync->nvips; i++) {
		const struct xlb_sync_vip *v = &ag->sync->vips[i];

		for (size_t j = 0; j < v->nbackends; j++) {
			all++;
			in += v->backends[j].state == XLB_BE_ACTIVE;
		}
	}
	snprintf(buf, len, "forwarding on %s: %zu VIP%s, %zu of %zu backends in service", ag->iface,
		 ag->cfg.nvips, ag->cfg.nvips == 1 ? "" : "s", in, all);
}

void notify_status(const struct agent *ag)
{
	char now[sizeof(status)];

	if (!status[0]) /* before READY=1: that one carries the first */
		return;
	status_line(ag, now, sizeof(now));
	if (!strcmp(now, status))
		return;
	memcpy(status, now, sizeof(status));
	sd_notifyf(0, "STATUS=%s", status);
}

void notify_ready(const struct agent *ag)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000)
		watchdog_ms = usec / 1000;
	status_line(ag, status, sizeof(status));
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	if (watchdog_ms)
		pr_info("systemd watchdog: %llu ms, pinged from the event loop\n",
			(unsigned long long)watchdog_ms);
}

void notify_tick(__u64 now_ms)
{
	if (!watchdog_ms || now_ms - last_ping_ms < watchdog_ms / 2)
		return;
	last_ping_ms = now_ms;
	sd_notify(0, "WATCHDOG=1");
}

void notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* MONOTONIC_USEC: what Type=notify-reload (systemd 253) asks for */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL +
			   (unsigned long long)ts.tv_nsec / 1000);
}

void notify_reloaded(const struct agent *ag)
{
	status_line(ag, status, sizeof(status));
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}
