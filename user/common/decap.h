/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The backend-side decapsulation program's trust maps (bpf/decap.bpf.c):
 * which outer sources it accepts (the load balancers' encapsulation
 * prefixes, LPM tries) and which outer destinations (this host's
 * addresses). Used by xlb-decap and the fixtures.
 */
#ifndef XLB_DECAP_H
#define XLB_DECAP_H

#include <stddef.h>

#include "xlb_abi.h"

struct xlb_prefix {
	union xlb_addr addr; /* IPv4 mapped */
	__u8 family;	     /* XLB_AF_INET or XLB_AF_INET6 */
	__u8 len;	     /* 0..32 or 0..128 */
};

/*
 * "172.16.0.0/16", "fd00:ffff::/112", or an address (a host prefix). Host
 * bits must be zero. 0, or -EINVAL with why[] saying what is wrong.
 */
int xlb_prefix_parse(const char *s, struct xlb_prefix *p, char *why, size_t why_len);
/* "172.16.0.0/16"; buf needs 50 bytes. */
const char *xlb_prefix_str(const struct xlb_prefix *p, char *buf, size_t len);

/* Allow outer sources in p (fd4/fd6: the decap_allow4/6 maps). */
int xlb_decap_allow(int fd4, int fd6, const struct xlb_prefix *p);
/* Accept tunnel packets addressed to a (fd: the decap_local map). */
int xlb_decap_local(int fd, const union xlb_addr *a);

/* What is in the maps: up to max entries each; returns the count or -errno. */
int xlb_decap_allowed(int fd4, int fd6, struct xlb_prefix *out, size_t max);
int xlb_decap_locals(int fd, union xlb_addr *out, size_t max);

/* Counter names, by enum xlb_decap_counter. */
const char *xlb_decap_counter_name(__u32 id);

#endif /* XLB_DECAP_H */
