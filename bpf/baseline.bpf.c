// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark baseline and lab helper programs.
 *
 * xlb_baseline: the least an XDP forwarder can do. Swaps the MAC
 * addresses and returns XDP_TX. `make bench` reports xlb's cost as the
 * difference over this program measured in the same run.
 *
 * xlb_baseline_ipip: the least an IPv4-in-IPv4 encapsulating forwarder
 * does: one outer header (fixed addresses, the inner length, its checksum)
 * in front of the packet, then the MAC swap. The veth bench's floor for
 * ipip VIPs: what is left between xlb and it is xlb's own work.
 */
#include "lib/common.h"
#include "lib/csum.h"
#include "lib/swap.h"

SEC("xdp")
int xlb_baseline(struct xdp_md *ctx)
{
	return xlb_swap_macs_tx(ctx);
}

SEC("xdp")
int xlb_baseline_ipip(struct xdp_md *ctx)
{
	struct iphdr h = {.version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_IPIP};
	void *data, *end;
	struct iphdr *inner;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(h)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	inner = data + sizeof(struct ethhdr) + sizeof(h);
	if ((void *)(inner + 1) > end)
		return XDP_DROP;
	__builtin_memmove(data, data + sizeof(h), sizeof(struct ethhdr));
	h.tot_len = bpf_htons(bpf_ntohs(inner->tot_len) + sizeof(h));
	h.saddr = bpf_htonl(0x0a640001);
	h.daddr = bpf_htonl(0x0a640002);
	h.check = xlb_csum_fold(xlb_csum_add(0, &h, sizeof(h)));
	__builtin_memcpy(data + sizeof(struct ethhdr), &h, sizeof(h));
	return xlb_swap_macs_tx(ctx);
}

/*
 * Lab helper: XDP_PASS for the bridge-side peer of a veth whose other end
 * sends with XDP_TX (veth drops such frames unless the peer runs XDP).
 */
SEC("xdp")
int xlb_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
