/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The flow hash that picks a Maglev slot. It is part of the ABI: every load
 * balancer behind one ECMP group must map a flow to the same slot, and the
 * tests predict the data plane's choice with this same code. Changing the
 * seed or the mixing moves every flow that is not in a flow table.
 *
 * Multiplicative mixing of the key's 32-bit words (read in host order,
 * little-endian on every platform xlb supports) and Murmur3's finaliser.
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include "xlb_abi.h"

#define XLB_HASH_SEED 0x786c6231u /* "xlb1" */

static inline __attribute__((always_inline)) __u32 xlb_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static inline __attribute__((always_inline)) __u32 xlb_hash_final(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* An address folded to 32 bits (IPv4-mapped: the prefix words are constant). */
static inline __attribute__((always_inline)) __u32 xlb_hash_fold(const union xlb_addr *a)
{
	return a->w[0] ^ a->w[1] ^ a->w[2] ^ a->w[3];
}

/*
 * Hash of the client address alone (XLB_HASH_SRC). Every word goes through
 * one multiply and the finaliser mixes the rest: a dozen instructions, not
 * the forty of a full Murmur pass, because this runs on every packet.
 */
static inline __attribute__((always_inline)) __u32 xlb_hash_src(const union xlb_addr *a)
{
	return xlb_hash_final(XLB_HASH_SEED ^ (xlb_hash_fold(a) * 0x9e3779b1u));
}

/* Hash of the 5-tuple (XLB_HASH_5TUPLE); also indexes the flow table. */
static inline __attribute__((always_inline)) __u32 xlb_hash_flow(const struct xlb_flow_key *k)
{
	__u32 h = XLB_HASH_SEED ^ (xlb_hash_fold(&k->saddr) * 0x9e3779b1u);

	h = xlb_rotl32(h, 13) ^ (xlb_hash_fold(&k->daddr) * 0x85ebca77u);
	h = xlb_rotl32(h, 13) ^ (((__u32)k->sport | ((__u32)k->dport << 16)) * 0xc2b2ae3du);
	return xlb_hash_final(h ^ k->proto);
}

/* Map a 32-bit hash onto [0, m) without a division (Lemire's reduction). */
static inline __attribute__((always_inline)) __u32 xlb_hash_slot(__u32 h, __u32 m)
{
	return (__u32)(((__u64)h * m) >> 32);
}

/* Flow-table bucket of a flow hash: other bits than the Maglev slot uses. */
static inline __attribute__((always_inline)) __u32 xlb_hash_bucket(__u32 h, __u32 nbuckets)
{
	return xlb_hash_slot(xlb_rotl32(h, 16), nbuckets);
}

#endif /* XLB_HASH_H */
