/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The packet fuzzer's invariants (the list is in pkt_fuzz.c): what one
 * packet's verdict and output must be, and what the counters must read.
 * Failures are reported with a reproducer: seed, packet index, the frame
 * as hex (pb_hex() turns it into a fixture's packet).
 */
#ifndef XLB_FUZZ_PKT_CHECK_H
#define XLB_FUZZ_PKT_CHECK_H

#include <stdio.h>

#include "pkt.h"
#include "pkt_model.h"
#include "pkt_world.h"

enum inv {
	INV_VERDICT,
	INV_PASS_UNCHANGED,
	INV_NOT_OURS,
	INV_BACKEND_DOWN,
	INV_BACKEND_POOL,
	INV_BACKEND_CHOICE,
	INV_VIP_VERDICT,
	INV_OUTPUT,
	INV_COUNTERS,
	INV_N,
};

extern const char *const fz_inv_name[INV_N];

struct opts {
	unsigned long long packets;
	unsigned long long seed;
	unsigned churn_every; /* mean packets between backend changes */
	unsigned check_every; /* packets between counter checks */
	int max_reports;
	int mode; /* -1 legacy, 0 auto, 1 intended */
	const char *replay;
};

/* What the counters must read, accumulated from the verdicts seen. */
struct tally {
	__u64 vip_packets[FZ_MAX_VIPS + 1], vip_bytes[FZ_MAX_VIPS + 1];
	__u64 vip_no_backend[FZ_MAX_VIPS + 1], vip_new_flows[FZ_MAX_VIPS + 1];
	__u64 be_packets[FZ_MAX_BE], be_bytes[FZ_MAX_BE];
	__u64 drops, rst, unreach, icmp_fwd, no_backend_pass, flow_gone, flow_evicted, too_big;
	__u64 sl, sl_prev; /* stateless forwards, of those carrying a previous hop */
};

struct fuzz {
	struct opts o;
	struct fz_world w;
	struct fz_model_opts m;
	struct tally t;
	const struct xlb_flow_bucket *flows;
	__u32 nbuckets;
	size_t flows_len;
	int rate_limited_id; /* reason id of "reject_rate_limited", 0: absent */
	int too_big_id;	     /* reason id of "encap_too_big", 0: absent */
	__u64 rate_limited_seen;
	/* this packet */
	unsigned long long idx;
	const char *kind;
	char muts[128];
	/* results */
	unsigned long long failures[INV_N];
	unsigned long long relaxed[FZ_RELAX_N];
	unsigned long long verdicts[5];
	unsigned long long too_short; /* frames below 14 bytes, not run */
	/* how deep the packets went: forwarded dsr/ipip, of those to a
	 * DRAINING backend; answers; on_empty drops and passes */
	unsigned long long fwd_dsr, fwd_ipip, fwd_draining, answers, empty_drop, empty_pass;
	unsigned long long syn_retx, syn_second_chance; /* expected of SYNs of opening flows */
	unsigned long long too_big_answered, too_big_dropped;
	int reports;
	struct {
		enum inv inv;
		const char *tag;
	} seen[64];
	int nseen;
	unsigned long long window_failures; /* per-packet failures since the last counter check */
	/* the last packet's result, for --replay */
	int last_verdict;
	__u8 last_out[PB_MAX + 64];
	size_t last_len;
	struct fz_cls last_cls;
};

/* Run one frame through the program and check it. */
void fz_one(struct fuzz *fz, const __u8 *in, size_t in_len);
/* Every counter against the tally; from: the first packet since the last check. */
void fz_check_counters(struct fuzz *fz, unsigned long long from);

void fz_hex(FILE *f, const __u8 *b, size_t len);
const char *fz_verdict_name(int v);

#endif /* XLB_FUZZ_PKT_CHECK_H */
