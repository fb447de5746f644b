/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xlb-guard's least privilege: CAP_NET_ADMIN and CAP_BPF, nothing else. */
#ifndef XLB_GUARD_PRIVS_H
#define XLB_GUARD_PRIVS_H

/* Keep only what the guard uses (effective, permitted and, when it may
 * shrink it, bounding); nothing inheritable or ambient. 0 or -errno. */
int guard_caps_drop(void);

#endif
