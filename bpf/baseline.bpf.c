// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark baseline and lab helper programs.
 *
 * xlb_baseline: the least an XDP forwarder can do. Swaps the MAC
 * addresses and returns XDP_TX. `make bench` reports xlb's cost as the
 * difference over this program measured in the same run.
 */
#include "lib/common.h"
#include "lib/swap.h"

SEC("xdp")
int xlb_baseline(struct xdp_md *ctx)
{
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
