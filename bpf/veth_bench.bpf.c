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
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th = (void *)(ip + 1);
	__u32 i, sum = 0;
	__u16 *w;

	if ((void *)(th + 1) > end)
		return XDP_DROP;
	i = base + (__u32)(seq++ % (nflows ? nflows : 1));
	__builtin_memcpy(eth->h_dest, dst_mac, 6);
	__builtin_memcpy(eth->h_source, src_mac, 6);
	eth->h_proto = bpf_htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(FRAME_LEN - sizeof(*eth));
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->check = 0;
	ip->saddr = bpf_htonl(0x0a000000 | (i & 0xffffff));
	ip->daddr = vip;
	w = (__u16 *)ip;
#pragma unroll
	for (int k = 0; k < 10; k++)
		sum += w[k];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = (__u16)~sum;
	__builtin_memset(th, 0, sizeof(*th));
	th->source = bpf_htons(1024 + (i & 0x7fff));
	th->dest = bpf_htons(80);
	th->seq = bpf_htonl(i);
	th->ack_seq = syn ? 0 : bpf_htonl(1);
	th->doff = 5;
	th->ack = !syn;
	th->syn = !!syn;
	th->window = bpf_htons(512);
	return XDP_TX;
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
