/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlb ABI: the one definition of every structure that crosses the boundary
 * between the XDP program and user space. Compiled by clang -target bpf and by
 * the host compiler alike: fixed-width types, byte order in the type name,
 * explicit padding, no bitfields, sizes asserted.
 *
 * Addresses are always 16 bytes. IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d), so one key layout serves both families.
 */
#ifndef XLB_ABI_H
#define XLB_ABI_H

#include <linux/types.h>

#include "xlb_limits.h"

/* A 16-byte address readable as bytes or as four 32-bit words. */
union xlb_addr {
	__u8 b[16];
	__be32 w[4];
};

/* VIP lookup key. port 0 = every port of the address (for proto). */
struct xlb_vip_key {
	union xlb_addr addr;
	__be16 port;
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;
};

enum xlb_mode {
	XLB_MODE_DSR = 0,  /* rewrite MACs, XDP_TX; backend holds the VIP */
	XLB_MODE_IPIP = 1, /* IPIP/IP6IP6/IPv4-in-IPv6 to the backend */
};

enum xlb_hash {
	XLB_HASH_5TUPLE = 0, /* src, dst, ports, proto */
	XLB_HASH_SRC = 1,    /* client address only: client affinity */
};

enum xlb_on_empty {
	XLB_EMPTY_REJECT = 0, /* TCP RST / ICMP port unreachable via XDP_TX */
	XLB_EMPTY_DROP = 1,
	XLB_EMPTY_PASS = 2, /* to the local stack (a "sorry" service) */
};

/*
 * A Maglev table is an array map whose 8-byte values each hold two
 * consecutive slots: array maps round every value up to 8 bytes, so one
 * 4-byte slot per value would waste half the memory. Slot s is
 * value[s / 2].id[s % 2]; the mmap()ed map is a plain __u32 array.
 */
struct xlb_table_pair {
	__u32 id[2];
};

#define XLB_TABLE_VALUES(m) (((m) + 1) / 2)

/* VIP value. */
struct xlb_vip_val {
	__u32 vip_id;	  /* index of the Maglev table and the VIP counters */
	__u32 table_size; /* M: entries of this VIP's Maglev table (prime) */
	__u8 mode;	  /* enum xlb_mode */
	__u8 hash;	  /* enum xlb_hash */
	__u8 on_empty;	  /* enum xlb_on_empty */
	__u8 pad[5];
};

/*
 * Backend state as the data plane sees it. DOWN is 0 so that an unused
 * (zeroed) record is never forwarded to.
 */
enum xlb_backend_state {
	XLB_BE_DOWN = 0,     /* out of the table; its flows move at once */
	XLB_BE_ACTIVE = 1,   /* in the table */
	XLB_BE_DRAINING = 2, /* out of the table; existing flows stay */
};

enum xlb_family {
	XLB_AF_INET = 4,
	XLB_AF_INET6 = 6,
};

/*
 * Backend record, array-indexed by backend id (one per VIP/backend pair).
 * gen changes whenever the agent assigns the id to a different backend; the
 * flow table remembers it, so a flow can never follow a recycled id to
 * another VIP's server.
 */
struct xlb_backend {
	union xlb_addr addr; /* for ipip: outer destination */
	__u8 mac[6];	     /* next-hop MAC toward the backend */
	__u8 family;	     /* enum xlb_family */
	__u8 state;	     /* enum xlb_backend_state */
	__u32 gen;
	__u32 pad;
};

/*
 * Flow-table key: the client-to-VIP 5-tuple. Replies do not cross the load
 * balancer, so one direction is all there is.
 */
struct xlb_flow_key {
	union xlb_addr saddr;
	union xlb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct xlb_flow_val {
	__u32 backend_id;
	__u32 backend_gen;
	__u64 atime_ns; /* UDP only: last seen (coarse clock) */
};

/* Per-CPU counters of one VIP. */
struct xlb_vip_stats {
	__u64 packets; /* every packet matched to the VIP */
	__u64 bytes;
	__u64 no_backend_packets; /* of those: no usable backend (on_empty) */
	__u64 new_flows;	  /* flow-table entries created */
};

/* Per-CPU counters of one backend record: what was forwarded to it. */
struct xlb_backend_stats {
	__u64 packets;
	__u64 bytes;
};

/* Counters of the backend-side decapsulation program (per-CPU array). */
enum xlb_decap_counter {
	XLB_DECAP_IPIP = 0,    /* IPv4 outer stripped */
	XLB_DECAP_IP6 = 1,     /* IPv6 outer stripped */
	XLB_DECAP_PASS = 2,    /* not a tunnel packet: untouched */
	XLB_DECAP_INVALID = 3, /* tunnel packet too short or fragmented */
	XLB_DECAP_COUNTERS = 4,
};

#ifdef __cplusplus
#define XLB_STATIC_ASSERT static_assert
#else
#define XLB_STATIC_ASSERT _Static_assert
#endif
XLB_STATIC_ASSERT(sizeof(union xlb_addr) == 16, "xlb_addr");
XLB_STATIC_ASSERT(sizeof(struct xlb_vip_key) == 20, "xlb_vip_key");
XLB_STATIC_ASSERT(sizeof(struct xlb_table_pair) == 8, "xlb_table_pair");
XLB_STATIC_ASSERT(sizeof(struct xlb_vip_val) == 16, "xlb_vip_val");
XLB_STATIC_ASSERT(sizeof(struct xlb_backend) == 32, "xlb_backend");
XLB_STATIC_ASSERT(sizeof(struct xlb_flow_key) == 40, "xlb_flow_key");
XLB_STATIC_ASSERT(sizeof(struct xlb_flow_val) == 16, "xlb_flow_val");
XLB_STATIC_ASSERT(sizeof(struct xlb_vip_stats) == 32, "xlb_vip_stats");
XLB_STATIC_ASSERT(sizeof(struct xlb_backend_stats) == 16, "xlb_backend_stats");

#endif /* XLB_ABI_H */
