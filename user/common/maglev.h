/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016), weighted.
 *
 * Pure logic: no BPF, no sockets, so unit tests run it without root.
 *
 * Deterministic: the table depends only on the set of (key, id, weight)
 * triples, not on their order, and on the fleet's secret seed, so every
 * load balancer given the same VIPs, backends and seed builds
 * byte-identical tables and ECMP can send a flow to any of them. The seed
 * keys each backend's permutation (offset and skip): without it, a client
 * knowing the backend addresses cannot compute which slots each owns.
 *
 * Weights: in each round a backend earns `weight` credit and claims one slot
 * per `max weight` of credit, so it ends with M*w/sum(w) slots, give or take
 * one. Weight 0 keeps a backend out of the table.
 */
#ifndef XLB_MAGLEV_H
#define XLB_MAGLEV_H

#include <stddef.h>
#include <linux/types.h>

struct xlb_maglev_backend {
	__u64 key;    /* stable identity (e.g. hash of "address:port") */
	__u32 id;     /* value written into the table (backend id, != 0) */
	__u32 weight; /* 0 = out of the table */
};

/* Table sizes a VIP may use: primes, roughly doubling. */
extern const __u32 xlb_maglev_sizes[];
extern const size_t xlb_maglev_nsizes;

/* 1 if m is one of xlb_maglev_sizes. */
int xlb_maglev_size_ok(__u32 m);

struct xlb_hash_seed;

/*
 * Fill table[0..m) with backend ids, permutations keyed by seed (NULL: the
 * all-zero seed, for tests and benches). Backends with weight 0 are skipped; with
 * none left every slot is XLB_BACKEND_NONE. Returns 0 or -EINVAL (m not an
 * allowed size, duplicate key, id 0) or -ENOMEM.
 */
int xlb_maglev_build_keyed(const struct xlb_maglev_backend *b, size_t n, __u32 m,
			   const struct xlb_hash_seed *seed, __u32 *table);
/* The same with the all-zero seed. */
int xlb_maglev_build(const struct xlb_maglev_backend *b, size_t n, __u32 m, __u32 *table);

/* MurmurHash3's 64-bit finaliser: a bijection with good avalanche. */
__u64 xlb_mix64(__u64 x);

/* 64-bit identity of a string, for xlb_maglev_backend.key. */
__u64 xlb_maglev_key(const char *s);

#endif /* XLB_MAGLEV_H */
