/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Checks through the VIP (`check: {via: vip}`, issue #16) leave this host
 * addressed to the VIP and are steered to the backend by the check_out
 * program on the NIC's egress (xlb_dp_check.c). That needs this host to
 * route the VIP out of the NIC xlb is attached to: with no such route the
 * probes never reach the program, every check fails and the VIP empties.
 * A configuration with such a VIP is refused as a whole, naming the VIP,
 * where this host routes it, and the fix (at start, reload and apply).
 */
#ifndef XLBD_VIA_ROUTE_H
#define XLBD_VIA_ROUTE_H

#include "config.h"

struct agent;

int via_routes_ok(const struct agent *ag, const struct xlb_cfg *next, struct xlb_err *err);

#endif /* XLBD_VIA_ROUTE_H */
