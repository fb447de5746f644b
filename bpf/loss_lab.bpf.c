// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test lab only (tests/e2e/cases_outlier.sh): drop every 100th packet that
 * passes a tc hook, a deterministic 1% loss on a kernel without netem.
 * Attached with `tc filter add ... bpf da obj loss_lab.bpf.o sec tc` on a
 * client's link, once per direction (each load counts its own packets).
 * loss_count[0] counts packets, [1] those dropped.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define LOSS_EVERY 100

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} loss_count SEC(".maps");

SEC("tc")
int loss(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 *n = bpf_map_lookup_elem(&loss_count, &k), *d;

	(void)skb;
	if (!n || __sync_fetch_and_add(n, 1) % LOSS_EVERY != LOSS_EVERY - 1)
		return TC_ACT_OK;
	k = 1;
	d = bpf_map_lookup_elem(&loss_count, &k);
	if (d)
		__sync_fetch_and_add(d, 1);
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
