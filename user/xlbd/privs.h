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
 * 0, or -errno (the sets may then be partly reduced: exit). */
int privs_drop(void);

/* The kept set as a CapEff mask, for messages and tests. */
unsigned long long privs_kept_mask(void);

#endif /* XLBD_PRIVS_H */
