/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The configuration digest (issue #13): 16 hex digits that load balancers
 * of one ECMP fleet share exactly when they forward alike. xlbd shows it in
 * `xlbctl status` (config_digest) and as xlb_config_digest{digest} in
 * /metrics, so an alert fires when the hosts of a fleet disagree.
 *
 * It is the first 64 bits of SHA-256 over a canonical text of the running
 * configuration:
 *  - independent of order: VIPs sorted by (family, address, port,
 *    protocol), each VIP's backends by (family, address);
 *  - without what is host-local: `interface`, the `announce:` block's
 *    table, protocol and hold, `flow_table_size` (how many flows this host
 *    remembers: new flows take the Maglev table whatever the size, so
 *    hosts with other sizes still pick the same backend for every flow), where the seed comes from (hash_seed_file or
 *    inline) and the source lines;
 *  - with every field that decides forwarding: modes, hashing, on_empty
 *    and its rate, table sizes, panic, slow start, drain timeout, weights,
 *    admin states, backups, the health checks (they decide what is in the
 *    tables), the per-VIP announce mode, mtu, deleted_vip_grace;
 *  - and the value of the fleet's hash seed: hosts with other seeds hash
 *    flows to other slots. SHA-256 keeps the seed secret: the digest
 *    reveals nothing usable about it (128 secret bits), and the canonical
 *    text holding it never leaves cfgdigest.c.
 *
 * Backends' check timings are taken as resolved (struct xlb_cfg_backend.check,
 * complete after parsing and xlb_cfg_resolve_checks()), so a timing written
 * on the VIP or repeated on a backend digests alike.
 *
 * Pure logic: no BPF, no sockets.
 */
#ifndef XLB_CFGDIGEST_H
#define XLB_CFGDIGEST_H

#include "config.h"
#include "xlb_hash.h"

#define XLB_CFG_DIGEST_LEN 17 /* 16 hex digits and a NUL */

/* The digest of c under seed, as 16 lowercase hex digits: 0, or -ENOMEM. */
int xlb_cfg_digest(const struct xlb_cfg *c, const struct xlb_hash_seed *seed,
		   char out[XLB_CFG_DIGEST_LEN]);

#endif /* XLB_CFGDIGEST_H */
