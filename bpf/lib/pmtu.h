/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Path MTU for ipip (step 6, before encapsulating). The outer header adds
 * olen = 20 (IPv4) or 40 (IPv6) bytes; a packet with ip_len + olen above
 * the MTU (map "nic": configured per interface, default the NIC's own MTU
 * read at attach; 0 = no check) would not fit the link, and XDP cannot
 * fragment. As Katran does, the client is told, so its path MTU discovery
 * shrinks its packets; the inner (client's) family decides the answer:
 *  - IPv4 with DF (also IPv4 in IPv6): ICMP destination unreachable,
 *    fragmentation needed (type 3 code 4) with next-hop MTU = MTU - olen,
 *    quoting the IP header and the first 8 bytes of data (RFC 792, 1191);
 *  - IPv6: ICMPv6 packet too big (type 2 code 0) with MTU = MTU - olen,
 *    quoting as much of the packet as fits a 1280-byte reply (RFC 4443
 *    2.4(c)): always 1232 bytes, as the packet is longer than MTU - olen
 *    and the MTU is at least 1280;
 *  both from the VIP, TTL/hop limit 64, out of the NIC (XDP_TX), counted
 *  encap_too_big.
 *  - IPv4 without DF: dropped, counted encap_too_big_drop. The sender asked
 *    routers to fragment, which XDP cannot do; sending the frame anyway only
 *    moves the drop to the driver, uncounted; and a fragmentation-needed
 *    answer to a packet without DF is not defined (RFC 1191 sends it only
 *    for DF). Such senders (PMTU discovery off) should keep packets below
 *    MTU - olen or the backend leg's MTU should be raised.
 *  - ICMP errors and packets from broadcast/multicast sources are never
 *    answered (RFC 1122): dropped, counted encap_too_big_drop.
 * A stateless VIP's packets may carry a second header (the previous hop,
 * lib/forward.h); the budget always counts it (olen = 40 or 80), with or
 * without a previous hop, so a client's path MTU does not shrink only while
 * its slot is handed over (and its packets never get dropped then).
 * Replies are not rate-limited: each is no larger than the packet that
 * caused it, so a flood gains no amplification, and throttling them would
 * black-hole real clients' large packets.
 */
#ifndef XLB_BPF_PMTU_H
#define XLB_BPF_PMTU_H

#include "reject.h"

#define XLB_ICMP_FRAG_NEEDED 4
#define XLB_IPV6_MIN_MTU 1280
/* What of the packet an ICMPv6 error of at most 1280 bytes can quote. */
#define XLB_PTB_QUOTE (XLB_IPV6_MIN_MTU - sizeof(struct ipv6hdr) - sizeof(struct icmp6hdr))

XLB_INLINE int xlb_pmtu(struct xdp_md *ctx, struct xlb_pkt *p, const struct xlb_backend *be,
			int stateless)
{
	__u32 olen = be->family == XLB_AF_INET6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	const struct xlb_nic *nic = xlb_nic();
	__u32 mtu = nic ? nic->mtu : 0;
	int ret;

	if (stateless)
		olen *= 2;
	if (!mtu || p->ip_len + olen <= mtu)
		return XLB_CONTINUE;
	if (p->icmp_err || (p->family == XLB_AF_INET && !p->df) || !xlb_answerable(ctx, p))
		return -XLB_R_ENCAP_TOO_BIG_DROP;
	if (p->family == XLB_AF_INET)
		ret = xlb_icmp4_reply(ctx, p, ICMP_DEST_UNREACH, XLB_ICMP_FRAG_NEEDED,
				      bpf_htonl(mtu - olen));
	else
		ret = xlb_icmp6_reply(ctx, p, ICMPV6_PKT_TOOBIG, 0, bpf_htonl(mtu - olen),
				      XLB_PTB_QUOTE);
	if (ret == XDP_TX)
		p->reason = XLB_R_ENCAP_TOO_BIG;
	return ret;
}

#endif /* XLB_BPF_PMTU_H */
