/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlbd's control requests: one JSON object in, one JSON object out,
 * {"ok": true, ...} or {"ok": false, "error": "..."}.
 *
 *   {"verb": "vip-add", "vip": "10.0.0.10:80/tcp", "mode": "dsr"}
 *
 * Verbs: the queries (ctl_query.h: status, stats, events, vip-list,
 * backend-list, config-dump), the changes (ctl_change.h: vip-add|set|del,
 * backend-add|set|del|drain|enable|disable, apply), reload (the
 * configuration file again) and detach (remove the program and everything
 * pinned, then exit). A change is made on a copy of the running
 * configuration, validated in full, applied as a diff and persisted before
 * the reply; a refused one changes nothing. Each change is recorded in the
 * event history with who asked (uid, pid).
 *
 * A change or reload replies with "changes" (ctl_diff.h: what it changed,
 * with the live flows of whatever it removed) and logs them; with
 * "dry_run": true it only replies what it would change, and changes
 * nothing.
 *
 * "keep_open": true in a request keeps the connection open for the next
 * one; otherwise it is closed after the reply (the transport: ctl_conn.h).
 */
#ifndef XLBD_CTL_H
#define XLBD_CTL_H

#include <stddef.h>

#include "ctl_query.h"
#include "ctl_req.h"

struct events;

/* The agent as the verbs need it (filled by the event loop's owner). */
struct ctl_agent {
	void *ctx;
	struct ctl_view view;  /* what queries read */
	struct events *events; /* changes are recorded here */
	/* Make next the running configuration: apply, persist. On success
	 * *next is taken over (left empty). 0, or -errno with err set. */
	int (*apply)(void *ctx, struct xlb_cfg *next, struct xlb_err *err);
	/* The configuration file as it is now (the running interface kept):
	 * 0, or -errno with err set. */
	int (*load_file)(void *ctx, struct xlb_cfg *next, struct xlb_err *err);
	/* Make next, loaded from the file, the running configuration: as
	 * apply, counted as a reload. */
	int (*reload)(void *ctx, struct xlb_cfg *next, struct xlb_err *err);
	/* Optional: start a reload that is answered later (read and checked
	 * off the loop, reload.h): 0, and the reply comes from
	 * ctl_reload_reply() to peer->ticket; or -errno with err set, answered
	 * now. Without it a reload is load_file then reload, in the loop. */
	int (*reload_start)(void *ctx, const struct ctl_peer *peer, int dry, struct xlb_err *err);
	/* Remove the data plane and exit once the reply is out. */
	void (*detach)(void *ctx);
	/* Maintenance on or off, of the host (vip NULL) or one VIP:
	 * persisted, then applied. 0, or -errno with err set. */
	int (*maintenance)(void *ctx, const char *vip, int on, struct xlb_err *err);
};

/* One request (len bytes, its newline excluded) from peer: the reply
 * (malloc'd, no newline; NULL only when out of memory). *keep_open: the
 * client asked to send another request on the connection. */
char *ctl_handle(struct ctl_agent *a, const struct ctl_peer *peer, const char *text, size_t len,
		 int *keep_open);

/* The reply to a reload answered later, as ctl_handle() would have given it:
 * ret and err its outcome, changes (taken over; NULL: none) what it changed
 * or, dry, would change; applied: the running configuration changed (it is
 * recorded; the caller logs the changes, once for all its requests).
 * Malloc'd, NULL only when out of memory. */
char *ctl_reload_reply(struct ctl_agent *a, const struct ctl_peer *peer, int dry, int applied,
		       json_object *changes, int ret, const struct xlb_err *err);

#endif /* XLBD_CTL_H */
