/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlbd's capabilities after setup (privs.c has the list and, for each,
 * the operation that needs it).
 */
#ifndef XLBD_PRIVS_H
#define XLBD_PRIVS_H

/* Keep only the capabilities xlbd needs from here on, in the effective
 * and permitted sets and the bounding set; none inheritable or ambient.
 * Call once setup is done (program loaded and attached, sockets bound).
 * net_admin: also keep CAP_NET_ADMIN (the configuration announces).
 * 0, or -errno (the sets may then be partly reduced: exit). */
int privs_drop(int net_admin);

/* The kept set as a CapEff mask, for messages and tests; net_admin: the
 * configuration announces (routes need CAP_NET_ADMIN). */
unsigned long long privs_kept_mask(int net_admin);

#endif /* XLBD_PRIVS_H */
