/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlb limits: every size the data plane and the agent must agree on.
 *
 * Map sizes here are the compiled-in maxima. The flow table's size is the one
 * a deployment sizes to its traffic, so the loader may change it before load
 * (xlb_dp_opts.flow_entries); everything else is fixed by this header.
 */
#ifndef XLB_LIMITS_H
#define XLB_LIMITS_H

/* VIPs: key space of the VIP hash and of the outer Maglev map. */
#define XLB_MAX_VIPS 16384

/*
 * Backend records. A record is one (VIP, backend) pair, so a server behind
 * three VIPs uses three records and has per-VIP state and counters. Id 0 is
 * never assigned: a zero table entry means "no backend". Ids fit 16 bits
 * (Maglev slots store them so).
 */
#define XLB_MAX_BACKENDS 65536
#define XLB_BACKEND_NONE 0

/*
 * Flow-table capacity (flows), config key flow_table_size: 64 bytes of kernel
 * memory each (a 256-byte bucket of XLB_FLOW_WAYS). Any whole number of
 * buckets works: the bucket of a hash is a multiply-shift (xlb_hash_bucket),
 * not a mask, so the size need not be a power of two. Sizing: with n flows
 * all active in turn, a bucket holds Poisson(4n/size) of them and those in
 * buckets of 5 or more miss every time, so the hit rate is
 * P(Poisson(4n/size) <= 3): 47% at size = n (measured 47.2% with 1M flows
 * in the default table), 87% at 2n, 98% at 4n (README "Flow table size").
 */
#define XLB_DEFAULT_FLOW_ENTRIES (1u << 20)
#define XLB_MIN_FLOW_ENTRIES 4096u
#define XLB_MAX_FLOW_ENTRIES (1u << 26)
#define XLB_FLOW_ENTRY_BYTES 64

/* Maglev table size: prime. 65537 gives < 1% imbalance up to ~650 backends. */
#define XLB_DEFAULT_TABLE_SIZE 65537
#define XLB_MAX_TABLE_SIZE 655373

/* Reason/event counter slots (see xlb_counters.h). */
#define XLB_REASON_SLOTS 64

/* UDP flows idle longer than this are re-hashed (loader may override). */
#define XLB_DEFAULT_UDP_IDLE_MS 30000
/* TCP flows closed by the client (FIN or RST) and idle longer than this are
 * re-hashed (loader may override; bpf/lib/select.h says why 10 s). */
#define XLB_DEFAULT_CLOSED_IDLE_MS 10000

/* A flow's access time is rewritten at most this often (cacheline writes). */
#define XLB_ATIME_GRANULARITY_MS 250
/* A TCP flow idle this long without a client FIN or RST no longer counts as
 * a live flow of its backend (IPVS's default for established TCP). */
#define XLB_FLOW_LIVE_TCP_IDLE_S 900

/*
 * A SYN of a flow still opening counts as the client's retransmission only
 * this long after the SYN before it; sooner, it is a duplicate (the network
 * copied it, or a client sent two) and goes where the first went. Clients
 * retransmit a SYN after their initial RTO: 1 s on Linux (RFC 6298), 3 s on
 * older stacks (RFC 1122), at least 200 ms (TCP_RTO_MIN) even where a
 * data-centre stack lowers it; duplicates arrive within microseconds to a
 * few milliseconds. 200 ms lies between, a multiple of every HZ's jiffy.
 */
#define XLB_SYN_RETRY_MIN_MS 200
/* Maglev slots after the flow's own that a retransmitted SYN's second
 * chance looks through for another ACTIVE backend (a bounded loop, run only
 * for retransmitted SYNs): with two equal backends every 16 slots hold both
 * but for 1 time in 2^15. */
#define XLB_SYN_RETRY_SCAN 16

#endif /* XLB_LIMITS_H */
