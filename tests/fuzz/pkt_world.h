/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The packet fuzzer's world: the VIPs and backends it programs into a real
 * data plane, and a copy of what it programmed, so every output can be
 * checked against what was there when the packet ran. Backend states change
 * the way the agent changes them (user/common/xlb_dp.h "Update ordering"):
 * records ACTIVE before the tables that name them, tables without a backend
 * before it turns DRAINING or DOWN; a retired id comes back as another
 * backend with a new generation.
 */
#ifndef XLB_FUZZ_PKT_WORLD_H
#define XLB_FUZZ_PKT_WORLD_H

#include <stdint.h>

#include "xlb_abi.h"

#define FZ_TABLE 251   /* Maglev table size of every VIP: small, prime */
#define FZ_MAX_VIPS 16 /* VIP ids 1..15 */
#define FZ_MAX_BE 64   /* backend ids 1..63 */
#define FZ_POOL 6      /* backend ids per VIP at start */
#define FZ_ENCAP_SRC4 "172.16.0.0"
#define FZ_ENCAP_SRC6 "fd00:ffff::"

struct xlb_dp;

struct fz_rng {
	uint64_t s;
};

uint64_t fz_rand(struct fz_rng *r);
/* Uniform in [0, n); n > 0. */
uint32_t fz_below(struct fz_rng *r, uint32_t n);

struct fz_vip {
	char name[48];
	union xlb_addr addr;
	__u16 port; /* host order; 0 = every port */
	__u8 proto, mode, hash, on_empty;
	__u8 be_family;	 /* family of the backends it gets (ipip: outer family) */
	__u8 flow_state; /* enum xlb_flow_state */
	__u8 syn_retry;	 /* enum xlb_syn_retry, stamped on its backends' records */
	__u32 id;
	__u32 table[FZ_TABLE]; /* as last programmed (stateless: each slot's cur) */
	__u32 prev[FZ_TABLE];  /* stateless: each slot's previous backend, or 0 */
};

struct fz_backend {
	union xlb_addr addr;
	__u8 mac[6];
	__u8 family;
	__u8 state; /* enum xlb_backend_state as programmed */
	__u32 gen;
	int vip;   /* index into fz_world.vip; -1: id not given out */
	__u64 key; /* Maglev identity of this incarnation */
	__u32 incarnation;
};

struct fz_world {
	struct xlb_dp *dp;
	struct fz_vip vip[FZ_MAX_VIPS];
	int nvips;
	struct fz_backend be[FZ_MAX_BE]; /* index = backend id; 0 unused */
	__u32 next_gen;
	__u32 next_incarnation;
	__u64 changes; /* state changes applied */
};

/* Program the fixed set of VIPs and their pools into w->dp. */
int fz_world_init(struct fz_world *w, struct xlb_dp *dp);
/* One agent-like change (drain, down, enable, recycle) of a random backend. */
int fz_world_churn(struct fz_world *w, struct fz_rng *r);

/* The VIP for {address, port, proto} (port-0 entry as fallback), or NULL. */
const struct fz_vip *fz_vip_lookup(const struct fz_world *w, const union xlb_addr *a, __u16 port,
				   __u8 proto);
/* 1 when some VIP lives on address a. */
int fz_vip_addr(const struct fz_world *w, const union xlb_addr *a);
/* Backend id currently owning this MAC, or 0. */
__u32 fz_backend_by_mac(const struct fz_world *w, const __u8 *mac);
/* Text of the states of a VIP's pool, for reports. */
void fz_world_describe(const struct fz_world *w, const struct fz_vip *v, char *buf, size_t len);

#endif /* XLB_FUZZ_PKT_WORLD_H */
