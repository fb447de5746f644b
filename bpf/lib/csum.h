/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internet checksum over small headers of constant size. The sum is taken
 * over 16-bit words as they lie in memory, so the folded result is stored
 * without a byte swap; constants added to it are converted with bpf_htons.
 */
#ifndef XLB_BPF_CSUM_H
#define XLB_BPF_CSUM_H

#include "common.h"

/* Sum of len bytes (even, compile-time constant) starting at p. */
XLB_INLINE __u32 xlb_csum_add(__u32 sum, const void *p, const int len)
{
	const __u16 *w = p;

#pragma unroll
	for (int i = 0; i < len / 2; i++)
		sum += w[i];
	return sum;
}

XLB_INLINE __u16 xlb_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Pseudo-header sum for TCP/UDP/ICMPv6 over IPv4 or IPv6 (16-byte forms). */
XLB_INLINE __u32 xlb_csum_pseudo(const union xlb_addr *src, const union xlb_addr *dst, __u8 family,
				 __u8 proto, __u32 len)
{
	__u32 sum = bpf_htons(proto) + bpf_htons(len);

	if (family == XLB_AF_INET)
		return xlb_csum_add(xlb_csum_add(sum, &src->w[3], 4), &dst->w[3], 4);
	return xlb_csum_add(xlb_csum_add(sum, src, 16), dst, 16);
}

#endif /* XLB_BPF_CSUM_H */
