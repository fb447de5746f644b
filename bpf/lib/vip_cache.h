/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Step 2, faster: a per-CPU cache in front of the "vips" hash map
 * (xlb_vip_lookup in lib/select.h). The hash map lookup (jhash of the
 * 20-byte key, bucket walk, key compare: a function call) was the largest
 * single step of a stateless packet, about 15 ns of ~55 (README
 * "Performance"); a hit here is a few loads and one 20-byte compare.
 *
 * Each CPU has XLB_VIP_CACHE_SLOTS direct-mapped entries {key, value, gen,
 * tick} in this program's .bss (not a map of its own: it is never pinned,
 * a new program starts with an empty cache, and the pinned maps' layout
 * check does not see it). Only VIPs are cached, never "not a VIP".
 *
 * An entry is used only if
 *  - its gen is xlb_vip_gen: the loader adds one to xlb_vip_gen (through
 *    the skeleton's mmap of .bss, a full barrier) after every write to
 *    "vips" (user/common/xlb_dp_maps.c, the only writer), and a packet
 *    reads xlb_vip_gen before it looks the map up, so what it caches is at
 *    least as new as the generation it files it under; and
 *  - it was filled in this jiffy. This bounds how long anything else can
 *    go unseen to one tick (1-10 ms): a writer that does not bump (an
 *    older xlbd over these pins during a downgrade, bpftool by hand), this
 *    program while a newer one's agent applies its config before
 *    replacing it (it bumps its own program's generation), and load/load
 *    reordering on weakly ordered CPUs.
 * CPUs numbered XLB_VIP_CACHE_CPUS and above use the hash map directly.
 */
#ifndef XLB_BPF_VIP_CACHE_H
#define XLB_BPF_VIP_CACHE_H

#include "select.h"

#define XLB_VIP_CACHE_CPUS 256
#define XLB_VIP_CACHE_SLOTS 16 /* a power of two */

struct xlb_vip_cache_ent {
	struct xlb_vip_key key;
	__u32 pad;
	struct xlb_vip_val val;
	__u64 gen;
	__u64 tick; /* bpf_jiffies64() when filled */
} __attribute__((aligned(64)));

/* Bumped by the loader after every write to "vips" (xlb_dp_vips_changed). */
volatile __u64 xlb_vip_gen;
/* One cache line per entry, no line shared between CPUs; static: not in
 * the skeleton, nothing outside the program reads it. */
static struct xlb_vip_cache_ent xlb_vip_cache[XLB_VIP_CACHE_CPUS][XLB_VIP_CACHE_SLOTS];

XLB_INLINE __u32 xlb_vip_cache_slot(const struct xlb_vip_key *k)
{
	__u32 h = k->addr.w[0] ^ k->addr.w[1] ^ k->addr.w[2] ^ k->addr.w[3] ^
		  ((__u32)k->port << 8) ^ k->proto;

	return (h * 0x9e3779b1u) >> 28; /* 16 slots */
}

XLB_INLINE int xlb_vip_key_eq(const struct xlb_vip_key *a, const struct xlb_vip_key *b)
{
	const __u32 *x = (const void *)a, *y = (const void *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

/* The packet's VIP, as xlb_vip_lookup() finds it, or NULL. */
XLB_INLINE struct xlb_vip_val *xlb_vip_find(struct xlb_pkt *p)
{
	struct xlb_vip_key vk = {
		.addr = p->key.daddr,
		.port = p->key.dport,
		.proto = p->key.proto,
	};
	__u32 cpu = bpf_get_smp_processor_id();
	struct xlb_vip_cache_ent *e;
	struct xlb_vip_val *vip;
	__u64 gen, now;

	if (cpu >= XLB_VIP_CACHE_CPUS)
		return xlb_vip_lookup(p);
	e = &xlb_vip_cache[cpu][xlb_vip_cache_slot(&vk) & (XLB_VIP_CACHE_SLOTS - 1)];
	gen = xlb_vip_gen; /* before the map: see above */
	now = bpf_jiffies64();
	if (e->gen == gen && e->tick == now && xlb_vip_key_eq(&e->key, &vk))
		return &e->val;
	vip = xlb_vip_lookup(p);
	if (vip) {
		/* A program preempted on its CPU (PREEMPT_RT) must not leave a
		 * valid-looking entry half written: invalid first, valid last. */
		e->tick = 0;
		asm volatile("" ::: "memory");
		e->key = vk;
		e->val = *vip;
		e->gen = gen;
		asm volatile("" ::: "memory");
		e->tick = now;
	}
	return vip;
}

#endif /* XLB_BPF_VIP_CACHE_H */
