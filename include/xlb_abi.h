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
 * A Maglev table is an array map whose 8-byte values each hold four
 * consecutive slots of 16-bit backend ids (ids stay below XLB_MAX_BACKENDS
 * = 65536). Array maps round every value up to 8 bytes, so one slot per
 * value would take four times the memory; at M = 65537 a table is 128 KiB,
 * and the fewer cache lines a new flow's random slot can land in, the
 * cheaper it is. Slot s is value[s / 4].id[s % 4]; the mmap()ed map is a
 * plain __u16 array.
 */
#define XLB_TABLE_SLOTS_PER_VALUE 4

struct xlb_table_slots {
	__u16 id[XLB_TABLE_SLOTS_PER_VALUE];
};

#define XLB_TABLE_VALUES(m) (((m) + XLB_TABLE_SLOTS_PER_VALUE - 1) / XLB_TABLE_SLOTS_PER_VALUE)

/*
 * Where a VIP keeps what decides a connection's backend (xlb_vip_val
 * .flow_state):
 *  - TABLE: the flow table remembers each flow's backend; the Maglev table
 *    (struct xlb_table_slots) decides only new flows. dsr VIPs use only this.
 *  - STATELESS (ipip only): no flow table at all; every packet reads its
 *    Maglev slot, which holds the slot's current backend and, while the
 *    slot's previous backend may still hold connections, that one too
 *    (struct xlb_sl_slot). A packet that is not a TCP SYN goes to `cur`
 *    carrying `prev` as a second IP header (bpf/lib/forward.h); `cur`'s
 *    decap program hands it on to `prev` when no local socket owns it
 *    (bpf/decap.bpf.c).
 */
enum xlb_flow_state {
	XLB_FLOW_TABLE = 0,
	XLB_FLOW_STATELESS = 1,
};

/*
 * A stateless VIP's Maglev table: the same kind of inner array map as
 * above (8-byte values, the same template map), but each value holds two
 * slots of {current, previous} backend ids. prev is XLB_BACKEND_NONE when
 * the slot has no previous hop (or it equals cur). Slot s is
 * value[s / 2].s[s % 2]; at M = 65537 a table is 256 KiB.
 */
#define XLB_SL_SLOTS_PER_VALUE 2

struct xlb_sl_slot {
	__u16 cur;  /* backend id new connections (and SYNs) go to */
	__u16 prev; /* backend id the slot pointed to before, or XLB_BACKEND_NONE */
};

struct xlb_sl_slots {
	struct xlb_sl_slot s[XLB_SL_SLOTS_PER_VALUE];
};

#define XLB_SL_TABLE_VALUES(m) (((m) + XLB_SL_SLOTS_PER_VALUE - 1) / XLB_SL_SLOTS_PER_VALUE)

/*
 * Features of an XDP program build, beyond what XLB_ABI_VERSION fixes: the
 * program's .rodata variable `xlb_features` (XLB_FEATURES_VAR, a __u32) holds
 * these bits. The pinned maps outlive programs, and a program older than a
 * feature misreads the maps that use it (an old program reads a stateless
 * table as four 16-bit ids per value), so before writing a stateless table
 * an agent checks the program that forwards: the one attached to the
 * pinned link. Read it like hash_seed (user/common/xlb_dp_pin.c,
 * rodata_var()): link -> program id -> its maps -> the .rodata map's BTF
 * -> variable "xlb_features". A program without the variable (-ENODATA) has
 * no feature bit; refuse `flow_state: stateless` until the agent's own
 * program is the one attached (the agent's freshly loaded program always
 * has the bits of the header it was built with). A pinned map would not do:
 * maps are reused across versions, the variable belongs to the program.
 */
#define XLB_FEATURES_VAR "xlb_features"
#define XLB_FEAT_STATELESS (1u << 0) /* reads xlb_vip_val.flow_state, xlb_sl_slots */
#define XLB_FEAT_SYN_RETRY (1u << 1) /* counts backend_syn_stats, reads xlb_backend.syn_retry */

/*
 * on_empty=reject answers at most this many packets per second per VIP
 * (xlb_vip_val.reject_rate 0 means this default). 1000/s is Linux's own
 * default budget for ICMP errors (net.ipv4.icmp_msgs_per_sec): enough for
 * real clients of an empty VIP to fail fast, too little to reflect a flood.
 */
#define XLB_DEFAULT_REJECT_RATE 1000
#define XLB_REJECT_RATE_UNLIMITED 0xffffffffu

/* VIP value. */
struct xlb_vip_val {
	__u32 vip_id;	  /* index of the Maglev table and the VIP counters */
	__u32 table_size; /* M: entries of this VIP's Maglev table (prime) */
	__u8 mode;	  /* enum xlb_mode */
	__u8 hash;	  /* enum xlb_hash */
	__u8 on_empty;	  /* enum xlb_on_empty */
	__u8 flow_state;  /* enum xlb_flow_state; was padding (0 = TABLE) */
	/* on_empty=reject replies per second, summed over CPUs (each CPU has
	 * its own bucket of reject_rate / online CPUs); 0: the default,
	 * XLB_REJECT_RATE_UNLIMITED: no limit. */
	__u32 reject_rate;
};

/*
 * The NIC the program is attached to: one entry (key 0) of the "nic" array
 * map, set by the loader at attach and kept current by the agent. Frames
 * whose destination MAC is not `mac` pass untouched; forwarded and rejected
 * frames carry `mac` as source. An all-zero `mac` (never set) matches no
 * frame: the program touches nothing until it knows which frames are its
 * own. `mtu` is the IP MTU toward the backends for ipip (outer header
 * included); 0 = no check.
 */
#define XLB_MIN_MTU 1280 /* IPv6's minimum link MTU */
#define XLB_MAX_MTU 65535

struct xlb_nic {
	__u8 mac[6];
	__u8 pad[2];
	__u32 mtu;
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

/*
 * What a VIP does with a client's retransmitted SYN (a SYN of a flow still
 * opening on its backend, bpf/lib/synretry.h): send it to another ACTIVE
 * backend of the VIP (the default: 0, what records written before the
 * field existed hold), or where the Maglev table says, as every SYN.
 */
enum xlb_syn_retry {
	XLB_SYN_RETRY_ANOTHER = 0, /* "another-backend": a second chance elsewhere */
	XLB_SYN_RETRY_SAME = 1,	   /* "same-backend": counted, not moved */
};

enum xlb_family {
	XLB_AF_INET = 4,
	XLB_AF_INET6 = 6,
};

/*
 * Backend record, array-indexed by backend id: one per (VIP, backend) pair,
 * so state and counters are per VIP. It carries its VIP's id and mode, so a
 * flow-table hit forwards without looking the VIP up again; the agent keeps
 * them in step with the VIP (and marks a deleted VIP's backends DOWN).
 * gen changes whenever the agent gives the id to a different backend; the
 * flow table remembers it, so a flow never follows a recycled id.
 */
struct xlb_backend {
	union xlb_addr addr; /* for ipip: outer destination */
	__u8 mac[6];	     /* next-hop MAC toward the backend */
	__u8 family;	     /* enum xlb_family */
	__u8 state;	     /* enum xlb_backend_state */
	__u32 gen;
	__u16 vip_id;	/* the VIP this record serves */
	__u8 mode;	/* that VIP's enum xlb_mode */
	__u8 syn_retry; /* that VIP's enum xlb_syn_retry; was padding (0 = ANOTHER) */
};

/*
 * The client-to-VIP 5-tuple. Replies do not cross the load balancer.
 * 8-byte aligned: the data plane compares keys five 64-bit words at a time,
 * and the verifier rejects misaligned stack access.
 */
struct xlb_flow_key {
	union xlb_addr saddr;
	union xlb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
} __attribute__((aligned(8)));

/*
 * Flow table: a set-associative cache in one array map, XLB_FLOW_WAYS flows
 * per bucket, least recently used way evicted. Lookups and inserts are plain
 * loads and stores of the XDP program: no helper call, no lock. Concurrent
 * writers to one bucket may lose an entry (the flow is then re-hashed, to
 * the same backend unless the table changed) but never forward a packet by
 * a torn entry: `check` binds key hash, backend and generation, and a
 * mismatch reads as a miss. README "Flow table" has the figures behind it.
 */
#define XLB_FLOW_WAYS 4

/*
 * xlb_flow_entry.flags. Bit 0 is what releases before issue #16 called
 * `closed` (and they read any non-zero value as closed): an xlbd of such a
 * release counts a flow still in its handshake as closed. Only flows
 * caught between SYN and the client's next packet while programs change
 * are affected, so this kept the ABI version (README "Upgrades").
 */
#define XLB_FLOW_CLOSED 0x1u  /* the client sent a FIN or RST: not counted as a live flow */
#define XLB_FLOW_OPENING 0x2u /* made by the client's SYN; no other client packet since */

struct xlb_flow_entry {
	struct xlb_flow_key key;
	__u32 backend_id;
	__u32 backend_gen;
	__u32 check; /* xlb_flow_check(hash, backend_id, backend_gen) */
	__u32 flags; /* XLB_FLOW_CLOSED | XLB_FLOW_OPENING */
};

/*
 * 256 bytes, so every bucket starts a cache line: line 0 holds what picks a
 * way (tags) and what picks a victim (access times), so a new flow's insert
 * reads one line and writes one or two, and a hit reads two.
 */
struct xlb_flow_bucket {
	__u32 tag[XLB_FLOW_WAYS];   /* flow hash | 1 per used way, 0 = free */
	__u32 atime[XLB_FLOW_WAYS]; /* jiffies (low 32 bits) of the last packet, coarse */
	struct xlb_flow_entry way[XLB_FLOW_WAYS];
};

static inline __u32 xlb_flow_check(__u32 hash, __u32 backend_id, __u32 gen)
{
	return hash ^ (backend_id * 0x9e3779b1u) ^ (gen * 0x85ebca77u);
}

/* Per-CPU counters of one VIP. */
struct xlb_vip_stats {
	__u64 packets; /* every packet matched to the VIP */
	__u64 bytes;
	__u64 no_backend_packets; /* of those: no usable backend (on_empty) */
	__u64 new_flows;	  /* flows entered into the flow table */
};

/* Per-CPU counters of one backend record: what was forwarded to it. */
struct xlb_backend_stats {
	__u64 packets;
	__u64 bytes;
};

/*
 * Per-CPU SYN counters of one backend record (map backend_syn_stats, its
 * own map so that struct xlb_backend_stats and the pins of earlier
 * releases keep their layout). Monotonic: outlier detection reads them
 * every tick and works on differences (bpf/lib/synretry.h).
 */
struct xlb_backend_syn_stats {
	__u64 syn; /* TCP SYNs (no ACK) forwarded to it: each attempt, retries included */
	__u64 syn_retransmits; /* SYNs of flows still opening on it: the client got no answer */
	__u64 syn_rerouted;    /* of those, sent to another backend (syn_retry another-backend) */
	__u64 pad;	       /* reserved (issue #16: client data retransmissions) */
};

/* Counters of the backend-side decapsulation program (per-CPU array).
 * Ids are ABI: append, never renumber (XLB_DECAP_COUNTERS is the count). */
enum xlb_decap_counter {
	XLB_DECAP_IPIP = 0,	   /* IPv4 outer stripped */
	XLB_DECAP_IP6 = 1,	   /* IPv6 outer stripped */
	XLB_DECAP_PASS = 2,	   /* not a tunnel packet: untouched */
	XLB_DECAP_INVALID = 3,	   /* tunnel packet too short or fragmented */
	XLB_DECAP_FOREIGN_SRC = 4, /* outer source outside the allowed prefixes: dropped */
	XLB_DECAP_NOT_LOCAL = 5,   /* outer destination not this host's: dropped */
	/* Stateless VIPs: a second (middle) IP header from an allowed source
	 * names the previous hop (include "xlb_flow_state"). */
	XLB_DECAP_SL_DELIVERED = 6,  /* carrier: passed up here (socket, SYN, or UDP) */
	XLB_DECAP_SL_SELF = 7,	     /* carrier naming this host as previous hop: passed up */
	XLB_DECAP_SL_HANDED_ON = 8,  /* carrier: no local socket, sent on to the previous hop */
	XLB_DECAP_SL_FIB_FAILED = 9, /* carrier: no route/neighbour to the previous hop: dropped */
	XLB_DECAP_SL_NESTED = 10,    /* carrier inside a carrier (would loop): dropped */
	XLB_DECAP_COUNTERS = 11,
};

/* Keys of the decap allow-lists (LPM tries): prefix length, then the
 * network-order address. */
struct xlb_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct xlb_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

#ifdef __cplusplus
#define XLB_STATIC_ASSERT static_assert
#else
#define XLB_STATIC_ASSERT _Static_assert
#endif
XLB_STATIC_ASSERT(sizeof(union xlb_addr) == 16, "xlb_addr");
XLB_STATIC_ASSERT(sizeof(struct xlb_vip_key) == 20, "xlb_vip_key");
XLB_STATIC_ASSERT(sizeof(struct xlb_table_slots) == 8, "xlb_table_slots");
XLB_STATIC_ASSERT(sizeof(struct xlb_sl_slot) == 4, "xlb_sl_slot");
XLB_STATIC_ASSERT(sizeof(struct xlb_sl_slots) == 8,
		  "xlb_sl_slots: same value size as xlb_table_slots");
XLB_STATIC_ASSERT(sizeof(struct xlb_vip_val) == 16, "xlb_vip_val");
/*
 * A health-check probe sent through the VIP (check `via: vip`): xlbd
 * records each probe socket, by what its packets carry, with the backend
 * id the probe is for (map "check_socks", value __u32 id); the tc egress
 * program bpf/check_out.bpf.c delivers a packet that matches one to that
 * backend the way the XDP program delivers client packets. A probe socket
 * holds its local port alone (bound before it connects), so no other
 * socket sends with the same key.
 */
struct xlb_check_key {
	union xlb_addr vip; /* the probe's destination, 16-byte form */
	__be16 vport;	    /* its destination port (the check port) */
	__be16 sport;	    /* the probe socket's local port */
	__u8 proto;	    /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 pad[3];
};

XLB_STATIC_ASSERT(sizeof(struct xlb_nic) == 12, "xlb_nic");
XLB_STATIC_ASSERT(sizeof(struct xlb_check_key) == 24, "xlb_check_key");
XLB_STATIC_ASSERT(sizeof(struct xlb_backend) == 32, "xlb_backend");
XLB_STATIC_ASSERT(sizeof(struct xlb_flow_key) == 40, "xlb_flow_key");
XLB_STATIC_ASSERT(sizeof(struct xlb_flow_entry) == 56, "xlb_flow_entry");
XLB_STATIC_ASSERT(sizeof(struct xlb_flow_bucket) == 256, "xlb_flow_bucket");
XLB_STATIC_ASSERT(sizeof(struct xlb_vip_stats) == 32, "xlb_vip_stats");
XLB_STATIC_ASSERT(sizeof(struct xlb_backend_stats) == 16, "xlb_backend_stats");
XLB_STATIC_ASSERT(sizeof(struct xlb_backend_syn_stats) == 32, "xlb_backend_syn_stats");
XLB_STATIC_ASSERT(sizeof(struct xlb_lpm4_key) == 8, "xlb_lpm4_key");
XLB_STATIC_ASSERT(sizeof(struct xlb_lpm6_key) == 20, "xlb_lpm6_key");

/*
 * Version of what xlbd pins (every map's key, value, type and meaning).
 * Bump it with any such change: an xlbd refuses pins of another version
 * instead of misreading them (user/common/abi_pin.c, README "Upgrades").
 * Pins from before the version existed count as version 1.
 */
#define XLB_ABI_VERSION 1
#define XLB_ABI_MAGIC 0x786c6261 /* "xlba" */

/* The one value of the pinned array "abi": which version pinned the maps. */
struct xlb_abi_info {
	__u32 magic;	    /* XLB_ABI_MAGIC */
	__u32 version;	    /* XLB_ABI_VERSION of the xlbd that pinned them */
	char pinned_by[24]; /* "xlbd 0.4.0", for messages */
};
XLB_STATIC_ASSERT(sizeof(struct xlb_abi_info) == 32, "xlb_abi_info");

#endif /* XLB_ABI_H */
