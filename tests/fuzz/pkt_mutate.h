/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The fuzzer's packets: a corpus of well-formed frames of the kinds the
 * fixtures build (v4/v6 TCP/UDP to VIPs, VLAN, ICMP errors quoting VIP
 * flows, IPIP, options, fragments, extension headers, other traffic),
 * addressed to every MAC kind, built by the fixtures' packet builder (which
 * fills lengths and checksums); and mutations of them.
 */
#ifndef XLB_FUZZ_PKT_MUTATE_H
#define XLB_FUZZ_PKT_MUTATE_H

#include <stddef.h>

#include "pkt_world.h"
#include "pkt.h"

/* Frames go to this NIC (MAC_LB), to FZ_MAC_OTHER, to broadcast, to multicast. */
extern const __u8 FZ_MAC_OTHER[6]; /* another host's unicast MAC */

/* A random well-formed frame; *kind names its corpus kind. */
void fz_base(struct fz_rng *r, const struct fz_world *w, struct pb *p, const char **kind);

/*
 * Base i of the truncation sweep (each is then cut at every offset); returns
 * 0, or -1 when i is past the last one.
 */
int fz_sweep_base(int i, const struct fz_world *w, struct pb *p, const char **kind);

/*
 * Zero or more mutations in place (buf holds up to cap bytes); their names
 * are appended to desc.
 */
void fz_mutate(struct fz_rng *r, __u8 *buf, size_t *len, size_t cap, char *desc, size_t dlen);

#endif /* XLB_FUZZ_PKT_MUTATE_H */
