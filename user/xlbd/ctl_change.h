/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control verbs that change the configuration: vip-add, vip-set,
 * vip-del, backend-add, backend-set, backend-del, backend-drain,
 * backend-enable, backend-disable, apply (a whole YAML config).
 *
 * Pure: a change is made on a copy of the running configuration, its checks
 * resolved, the trust rule applied and the result validated in full; no
 * socket, no data plane. The caller applies and persists the result. A
 * refused change leaves the running configuration untouched.
 *
 * Trust rule: only root peers (uid 0) may define an exec check or change
 * what one runs (the configuration file may too). Anyone allowed on the
 * socket (--socket-group) may change everything else, including an exec
 * check's timing, and may remove exec checks.
 */
#ifndef XLBD_CTL_CHANGE_H
#define XLBD_CTL_CHANGE_H

#include <json-c/json.h>

#include "config.h"
#include "ctl_req.h"

struct ctl_change;

/* The change verb called name; NULL when there is none. */
const struct ctl_change *ctl_change_find(const char *name);

/* The change req asks for, made on a copy of cur into *next: 0, or -errno
 * with err set and *next empty. cur is never modified. Free *next with
 * xlb_cfg_free(). */
int ctl_change_make(const struct ctl_change *verb, json_object *req, const struct ctl_peer *peer,
		    const struct xlb_cfg *cur, struct xlb_cfg *next, struct xlb_err *err);

#endif /* XLBD_CTL_CHANGE_H */
