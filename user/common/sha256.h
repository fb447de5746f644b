/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * SHA-256 (FIPS 180-4), written for xlb from the standard: the config
 * digest (cfgdigest.h) needs a hash that does not reveal the fleet's seed
 * it covers, and libxlb links no crypto library for one hash of a few
 * kilobytes per apply. Not constant time, not for secrets that an
 * attacker can time; incremental: init, update any number of times, final.
 *
 * Pure logic: no BPF, no sockets.
 */
#ifndef XLB_SHA256_H
#define XLB_SHA256_H

#include <stddef.h>
#include <linux/types.h>

#define XLB_SHA256_LEN 32

struct xlb_sha256 {
	__u32 h[8];	/* the running hash value H(i) */
	__u64 bytes;	/* message length so far */
	__u8 block[64]; /* a partial block waiting for more input */
	size_t nblock;
};

void xlb_sha256_init(struct xlb_sha256 *c);
void xlb_sha256_update(struct xlb_sha256 *c, const void *data, size_t len);
/* Pads, writes the 32-byte digest (big endian, as the standard prints it). */
void xlb_sha256_final(struct xlb_sha256 *c, __u8 out[XLB_SHA256_LEN]);

/* One call for a whole message. */
void xlb_sha256(const void *data, size_t len, __u8 out[XLB_SHA256_LEN]);

#endif /* XLB_SHA256_H */
