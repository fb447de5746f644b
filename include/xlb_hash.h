/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The flow hash that picks a Maglev slot. It is part of the ABI: every load
 * balancer behind one ECMP group must map a flow to the same slot, and the
 * tests predict the data plane's choice with this same code. Changing the
 * seed or the mixing moves every flow that is not in a flow table.
 *
 * Murmur3's 32-bit block mix and finaliser over the key's 32-bit words read in
 * host order (little-endian on every platform xlb supports).
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include "xlb_abi.h"

#define XLB_HASH_SEED 0x786c6231u /* "xlb1" */

static inline __attribute__((always_inline)) __u32 xlb_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static inline __attribute__((always_inline)) __u32 xlb_hash_mix(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51u;
	k = xlb_rotl32(k, 15);
	k *= 0x1b873593u;
	h ^= k;
	h = xlb_rotl32(h, 13);
	return h * 5 + 0xe6546b64u;
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

/* Hash of the client address alone (XLB_HASH_SRC). */
static inline __attribute__((always_inline)) __u32 xlb_hash_src(const union xlb_addr *a)
{
	__u32 h = XLB_HASH_SEED;

	h = xlb_hash_mix(h, a->w[0]);
	h = xlb_hash_mix(h, a->w[1]);
	h = xlb_hash_mix(h, a->w[2]);
	h = xlb_hash_mix(h, a->w[3]);
	return xlb_hash_final(h ^ 16);
}

/* Hash of the 5-tuple (XLB_HASH_5TUPLE). */
static inline __attribute__((always_inline)) __u32 xlb_hash_flow(const struct xlb_flow_key *k)
{
	__u32 h = XLB_HASH_SEED;

	h = xlb_hash_mix(h, k->saddr.w[0]);
	h = xlb_hash_mix(h, k->saddr.w[1]);
	h = xlb_hash_mix(h, k->saddr.w[2]);
	h = xlb_hash_mix(h, k->saddr.w[3]);
	h = xlb_hash_mix(h, k->daddr.w[0]);
	h = xlb_hash_mix(h, k->daddr.w[1]);
	h = xlb_hash_mix(h, k->daddr.w[2]);
	h = xlb_hash_mix(h, k->daddr.w[3]);
	h = xlb_hash_mix(h, (__u32)k->sport | ((__u32)k->dport << 16));
	h = xlb_hash_mix(h, k->proto);
	return xlb_hash_final(h ^ 40);
}

/* Map a 32-bit hash onto [0, m) without a division (Lemire's reduction). */
static inline __attribute__((always_inline)) __u32 xlb_hash_slot(__u32 h, __u32 m)
{
	return (__u32)(((__u64)h * m) >> 32);
}

#endif /* XLB_HASH_H */
