/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The flow hash that picks a flow-table bucket and a Maglev slot, keyed by
 * the fleet's secret seed. It is part of the ABI: every load balancer behind
 * one ECMP group must map a flow to the same slot, so they share the seed,
 * and the tests predict the data plane's choice with this same code.
 *
 * Why a secret: with a public seed a client computes offline which source
 * ports land on the backend it wants, or which flow-table bucket a victim's
 * flow uses (and evicts it with a few spoofed SYNs). Keyed, the mapping
 * cannot be computed without the seed. This is not a cryptographic PRF: it
 * removes offline prediction and every seed-independent collision family,
 * at a cost of a few ns (README "Performance").
 *
 * The seed is 128 bits, k[0] and k[1]: the 32 hex digits of the
 * configuration, first 16 digits = k[0]. Multipliers are the seed words
 * forced odd (odd multipliers are bijections mod 2^64).
 *
 * Addresses are folded to 64 bits by a multiply, not by XOR of their words:
 * XOR let one /64 produce 2^32 addresses with one fold (change two words by
 * the same value). Here fold(a) = (hi ^ k1) * K0 + lo, where hi and lo are
 * the address's two 64-bit halves; inside one /64 (hi fixed) the fold is
 * injective, and across prefixes a collision needs (hi - hi') * K0 = lo' - lo, which
 * depends on the secret K0.
 *
 * Changing the seed or the mixing moves every flow that is not in a flow
 * table, and orphans the flow table's entries (their buckets derive from
 * the hash): README "Hash seed" says what xlbd does about it.
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include "xlb_abi.h"

/* The fleet's secret (configuration: hash_seed or hash_seed_file). */
struct xlb_hash_seed {
	__u64 k[2];
};

static inline __attribute__((always_inline)) __u32 xlb_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

/* Murmur3's 32-bit finaliser: a bijection with full avalanche. */
static inline __attribute__((always_inline)) __u32 xlb_hash_final(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* 64 bits down to 32, then the finaliser. */
static inline __attribute__((always_inline)) __u32 xlb_hash_final64(__u64 x)
{
	return xlb_hash_final((__u32)x ^ (__u32)(x >> 32));
}

/* An address's two halves as 64-bit words (host order of the 32-bit words). */
static inline __attribute__((always_inline)) __u64 xlb_addr_hi(const union xlb_addr *a)
{
	return (__u64)a->w[0] << 32 | a->w[1];
}

static inline __attribute__((always_inline)) __u64 xlb_addr_lo(const union xlb_addr *a)
{
	return (__u64)a->w[2] << 32 | a->w[3];
}

/* An address folded to 64 bits under the seed (see the comment above). */
static inline __attribute__((always_inline)) __u64 xlb_hash_fold(const union xlb_addr *a,
								 const struct xlb_hash_seed *s)
{
	return (xlb_addr_hi(a) ^ s->k[1]) * (s->k[0] | 1) + xlb_addr_lo(a);
}

/* Hash of the client address alone (XLB_HASH_SRC). */
static inline __attribute__((always_inline)) __u32 xlb_hash_src(const union xlb_addr *a,
								const struct xlb_hash_seed *s)
{
	return xlb_hash_final64(xlb_hash_fold(a, s) * (s->k[1] | 1));
}

/*
 * Hash of the 5-tuple (XLB_HASH_5TUPLE); also picks the flow-table bucket:
 * fold(saddr) * m + fold(daddr) + ports and protocol, then the finaliser.
 * Written out so that the four multiplies are independent (fold(saddr) * m
 * distributed; K0 * m depends on the seed only): one multiply of latency
 * before the finaliser, less than the unkeyed hash had.
 */
static inline __attribute__((always_inline)) __u32 xlb_hash_flow(const struct xlb_flow_key *k,
								 const struct xlb_hash_seed *s)
{
	__u64 k0 = s->k[0] | 1, m = s->k[1] | 1;
	__u64 h = (xlb_addr_hi(&k->saddr) ^ s->k[1]) * (k0 * m) + xlb_addr_lo(&k->saddr) * m +
		  (xlb_addr_hi(&k->daddr) ^ s->k[1]) * k0 + xlb_addr_lo(&k->daddr);

	h += (__u64)k->sport | (__u64)k->dport << 16 | (__u64)k->proto << 32;
	return xlb_hash_final64(h);
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
