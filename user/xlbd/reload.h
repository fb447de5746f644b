/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reloads read and checked off the event loop (issue #15).
 *
 * A reload of 10,000 backends cost the loop about 130 ms of CPU in one
 * stretch, and the health checks due meanwhile started that much late.
 * Reading and validating the file, the diff the reply carries, the config
 * digest and the state file's text (dumped and loaded back to check it)
 * are most of it and need nothing the loop owns: a worker thread makes
 * them from the file and its own copy of the running configuration. The
 * loop then does what only it may, in two turns between which it serves
 * checks, scrapes and clients again:
 *   1. the checks against what runs (flow table size, announce, stateless,
 *      via routes), the apply (sync.h: diff, Maglev builds, each VIP's
 *      table swapped whole) and the health checks' table;
 *   2. the state file written from the prepared text, then the replies.
 *
 * Semantics as before: a refused file, or an apply that fails, changes
 * nothing (the worker touches no state; a state text that would not load
 * back now refuses the reload before the apply, instead of after it); the
 * reply comes once the state file holds the new configuration. Requests
 * that come while a reload is being read join the next one, which reads
 * the file again: each sees the file as it was when it asked, or later.
 * A dry run is answered once the file is read and diffed. When the running
 * configuration changed meanwhile (a CLI change), or something goes (the
 * reply counts the live flows of what goes, from the flow table), the
 * diff is made again in the loop.
 */
#ifndef XLBD_RELOAD_H
#define XLBD_RELOAD_H

#include "ctl_req.h"

struct reload;
struct agent;
struct ctl_agent;

/* ctl: how replies are built (ctl_reload_reply); NULL on out of memory. */
struct reload *reload_new(struct agent *ag, struct ctl_agent *ctl);
/* Waits for a worker that runs (tens of ms); no reply is sent any more. */
void reload_free(struct reload *r);
/* For the loop's epoll: readable when a reload has a step to take. */
int reload_fd(const struct reload *r);
/* A reload asked for by peer (answered later, to peer->ticket), or by
 * SIGHUP (peer NULL: systemd hears when it is done). 0, or -errno with err
 * set (e.g. no -c FILE), answered now. */
int reload_start(struct reload *r, const struct ctl_peer *peer, int dry, struct xlb_err *err);
/* Take the next step (the loop, when reload_fd() is readable). */
void reload_on_event(struct reload *r);

#endif /* XLBD_RELOAD_H */
