// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * SYN flood against established flows through native XDP on a veth pair
 * (issue #14, tests/flood/): generator and observer for xlb-sl-flood.
 *
 * flood_gen runs under BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES
 * on the generator's veth and XDP_TXes each frame to the LB's end, where
 * xlb runs. Frame n is an ACK of established flow (n / probe_every) %
 * probes when probe_every divides n (probe_every 1: nothing but those),
 * else a SYN from a source never used before: flood flow `syns`.
 *   established flow p: 192.168.(p >> 8).(p & 255), port 1024 + p
 *   flood flow i:       10.(i >> 16 & 255).(i >> 8 & 255).(i & 255),
 *                       port 1024 + (i & 0x7fff)   (16M distinct sources)
 * Each frame is written whole: veth hands its pages to the receiver and the
 * test run reuses them.
 *
 * flood_sink, on the generator's veth, sees what xlb sent back (ipip:
 * outer header to the current backend, for stateless VIPs a second one to
 * the previous hop) and drops it. For an established flow's packet it
 * records where the packet reaches: the first one names the backend that
 * holds the connection; each later one reaches it when it is the outer
 * destination, or the previous hop carried along (the current backend's
 * decap hands the packet on to it when it owns no socket of the flow), and
 * misses it otherwise: the flow moved.
 */
#include "lib/common.h"
#include "lib/gen_frame.h"
#include "xlb_flood_lab.h"

#define FRAME_LEN 64

__u32 vip;	   /* network order */
__u16 vip_port;	   /* network order */
__u32 probes;	   /* established flows 0 .. probes-1 */
__u32 probe_every; /* 0: no established flow's packets */
__u8 dst_mac[6];
__u8 src_mac[6];
__u64 seq;  /* frames generated */
__u64 syns; /* SYNs generated */

/* Per established flow. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOOD_MAX_PROBES);
	__type(key, __u32);
	__type(value, struct flood_probe);
} flood_probes SEC(".maps");

/* Frames that came back, by enum flood_sunk. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FLOOD_SUNK_N);
	__type(key, __u32);
	__type(value, __u64);
} flood_sunk SEC(".maps");

SEC("xdp")
int flood_gen(struct xdp_md *ctx)
{
	__u64 n = seq++;
	int probe = probe_every && probes && n % probe_every == 0;
	struct xlb_gen_tcp g = {
		.dst_mac = dst_mac, .src_mac = src_mac, .daddr = vip, .dport = vip_port};

	if (probe) {
		__u32 p = (__u32)(n / probe_every % probes);

		g.saddr = bpf_htonl(0xc0a80000 | (p & 0xffff));
		g.sport = bpf_htons((__u16)(1024 + p));
		g.seq = 1000;
		g.ack_seq = 1;
	} else {
		__u32 i = (__u32)syns++;

		g.saddr = bpf_htonl(0x0a000000 | (i & 0xffffff));
		g.sport = bpf_htons((__u16)(1024 + (i & 0x7fff)));
		g.seq = (__u32)n;
		g.syn = 1;
	}
	return xlb_gen_tcp_frame(ctx, &g, FRAME_LEN);
}

static __always_inline void count(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&flood_sunk, &what);

	if (n)
		(*n)++;
}

/* Where an established flow's packet reaches (see the top). */
static __always_inline void observe(__u32 p, __u32 cur, __u32 prev)
{
	struct flood_probe *r = bpf_map_lookup_elem(&flood_probes, &p);

	if (!r)
		return;
	if (!r->holder)
		r->holder = cur;
	else if (cur == r->holder)
		__sync_fetch_and_add(&r->direct, 1);
	else if (prev && prev == r->holder)
		__sync_fetch_and_add(&r->via_prev, 1);
	else
		__sync_fetch_and_add(&r->missed, 1);
	r->cur = cur;
	r->prev = prev;
	__sync_fetch_and_add(&r->seen, 1);
}

SEC("xdp")
int flood_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *outer = (void *)(eth + 1), *in;
	struct tcphdr *th;
	__u32 cur, prev = 0, src;

	/* xlb writes 20-byte outer headers: IPIP, then IPIP again (the
	 * previous hop's) or the client's packet */
	if ((void *)(outer + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    outer->protocol != IPPROTO_IPIP)
		goto other;
	cur = outer->daddr;
	in = outer + 1;
	if ((void *)(in + 1) > end)
		goto other;
	if (in->protocol == IPPROTO_IPIP) {
		prev = in->daddr;
		in++;
		if ((void *)(in + 1) > end)
			goto other;
	}
	th = (void *)(in + 1);
	if (in->protocol != IPPROTO_TCP || in->ihl != 5 || (void *)(th + 1) > end)
		goto other;
	if (th->syn) {
		count(FLOOD_SUNK_SYN);
		return XDP_DROP;
	}
	src = bpf_ntohl(in->saddr);
	if (src >> 16 != 0xc0a8 || (src & 0xffff) >= FLOOD_MAX_PROBES)
		goto other;
	observe(src & 0xffff, cur, prev);
	count(FLOOD_SUNK_PROBE);
	return XDP_DROP;
other:
	count(FLOOD_SUNK_OTHER);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
