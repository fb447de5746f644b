/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The least an XDP forwarder does: swap the MAC addresses and send the
 * frame back out (XDP_TX). The benchmarks' reference program, and the tail
 * of the flow-table comparison programs.
 */
#ifndef XLB_BPF_SWAP_H
#define XLB_BPF_SWAP_H

#include "common.h"

XLB_INLINE int xlb_swap_macs_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 tmp[ETH_ALEN];

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
	return XDP_TX;
}

#endif /* XLB_BPF_SWAP_H */
