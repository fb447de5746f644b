// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Throughput benchmark through real veths (issue #7, tools/bench/veth.sh).
 *
 * xlb_gen runs under BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on
 * the generator's veth: it writes a whole TCP ACK to the VIP (veth hands
 * its pages to the receiver and the test run reuses them, so every field
 * is rewritten each time) and returns XDP_TX, which sends the frame to the
 * LB's end of the pair. nflows flows are cycled: flow i has source
 * 10.(i>>16 & 255).(i>>8 & 255).(i & 255), port 1024 + (i & 0x7fff); with
 * `syn` set the frames are SYNs (every one a new connection for xlb).
 *
 * xlb_sink, attached to the generator's veth, counts what the LB sends
 * back with XDP_TX and drops it.
 */
#include "lib/common.h"
#include "lib/gen_frame.h"

__u32 nflows = 1; /* set between runs */
__u32 syn;	  /* 1: SYNs (a flood of new connections), 0: ACKs */
__u32 base;	  /* flow numbers start here */
__u32 vip = 0;	  /* network order */
__u8 dst_mac[6];
__u8 src_mac[6];
__u64 seq; /* frames generated */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sunk SEC(".maps");

#define FRAME_LEN 64

SEC("xdp")
int xlb_gen(struct xdp_md *ctx)
{
	__u32 i = base + (__u32)(seq++ % (nflows ? nflows : 1));
	struct xlb_gen_tcp g = {
		.dst_mac = dst_mac,
		.src_mac = src_mac,
		.saddr = bpf_htonl(0x0a000000 | (i & 0xffffff)),
		.daddr = vip,
		.sport = bpf_htons(1024 + (i & 0x7fff)),
		.dport = bpf_htons(80),
		.seq = i,
		.ack_seq = syn ? 0 : 1,
		.syn = !!syn,
	};

	return xlb_gen_tcp_frame(ctx, &g, FRAME_LEN);
}

SEC("xdp")
int xlb_sink(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *n = bpf_map_lookup_elem(&sunk, &k);

	(void)ctx;
	if (n)
		(*n)++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
