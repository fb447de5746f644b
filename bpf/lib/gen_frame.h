/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The live-frames generators' frame (bench and lab programs, never the
 * data plane): a whole Ethernet + IPv4 + TCP frame of `len` bytes written
 * in place, every field each time (veth hands its pages to the receiver and
 * the test run reuses them), IPv4 checksum computed, TCP checksum left 0
 * (xlb does not verify it).
 */
#ifndef XLB_BPF_GEN_FRAME_H
#define XLB_BPF_GEN_FRAME_H

#include "common.h"
#include "csum.h"

struct xlb_gen_tcp {
	const __u8 *dst_mac, *src_mac;
	__be32 saddr, daddr;
	__be16 sport, dport;
	__u32 seq, ack_seq; /* host order */
	int syn;	    /* 1: a SYN, 0: an ACK */
};

/* XDP_DROP when the frame is shorter than the three headers, else XDP_TX. */
XLB_INLINE int xlb_gen_tcp_frame(struct xdp_md *ctx, const struct xlb_gen_tcp *g, __u16 len)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th = (void *)(ip + 1);

	if ((void *)(th + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, g->dst_mac, 6);
	__builtin_memcpy(eth->h_source, g->src_mac, 6);
	eth->h_proto = bpf_htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(len - sizeof(*eth));
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->check = 0;
	ip->saddr = g->saddr;
	ip->daddr = g->daddr;
	ip->check = xlb_csum_fold(xlb_csum_add(0, ip, sizeof(*ip)));
	__builtin_memset(th, 0, sizeof(*th));
	th->source = g->sport;
	th->dest = g->dport;
	th->seq = bpf_htonl(g->seq);
	th->ack_seq = bpf_htonl(g->ack_seq);
	th->doff = 5;
	th->ack = !g->syn;
	th->syn = !!g->syn;
	th->window = bpf_htons(512);
	return XDP_TX;
}

#endif
