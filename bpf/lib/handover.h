/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The backend side of stateless VIPs (xlb_abi.h enum xlb_flow_state): a
 * packet the load balancer sent here carrying the slot's previous backend
 * as a second ("middle") IP header, lib/forward.h in the LB program:
 *
 *   outer (LB -> this host) | middle (LB -> previous backend) | client packet
 *
 * After the outer header (already trusted by decap_outer), a middle IPIP /
 * IPv6-in-IPv6 header is a carrier only if its source is in the load
 * balancers' prefixes too; anything else after the outer header is decapped
 * as before. For a carrier:
 *  - middle destination is this host (the previous hop is us): both headers
 *    go, the client's packet is passed up (sl_self);
 *  - the client's packet is itself IP-in-IP from an LB prefix: a carrier
 *    inside a carrier, which xlb never sends; dropped (sl_nested);
 *  - a TCP packet without SYN that no local socket owns (no established,
 *    request or time-wait socket; a listener only when the ACK is not a
 *    valid SYN cookie), or a UDP packet no local socket takes: handed on to
 *    the previous backend: only the outer header goes, and the packet,
 *    now plain ipip to the previous backend, leaves with next-hop MACs from
 *    bpf_fib_lookup (sl_handed_on; no route or neighbour: dropped,
 *    sl_fib_failed). It carries one header, so it is never handed on again;
 *  - anything else (a local socket owns it, a SYN, other protocols): both
 *    headers go, passed up (sl_delivered).
 * Socket lookups run in the netns of the receiving device.
 */
#ifndef XLB_BPF_HANDOVER_H
#define XLB_BPF_HANDOVER_H

#include "decap_trust.h"

#define XLB_AF4 2  /* AF_INET: the libc headers do not build for -target bpf */
#define XLB_AF6 10 /* AF_INET6 */

enum xlb_ho_verdict {
	XLB_HO_DELIVER = 0,
	XLB_HO_SELF = 1,
	XLB_HO_HAND_ON = 2,
	XLB_HO_NESTED = 3,
};

/*
 * Is the header at mid (after a trusted outer header whose payload has
 * EtherType `inner`) a carrier's middle header? 1 with its length and the
 * client packet's EtherType, else 0.
 */
XLB_INLINE int xlb_ho_carrier(void *mid, void *end, __be16 inner, __u32 *mlen, __be16 *client)
{
	if (inner == bpf_htons(ETH_P_IP)) {
		struct iphdr *m = mid;

		if ((void *)(m + 1) > end || m->version != 4 || m->ihl != 5 ||
		    m->protocol != IPPROTO_IPIP ||
		    (m->frag_off & bpf_htons(XLB_IP_MF | XLB_IP_OFFSET)) ||
		    !decap_allowed4(m->saddr))
			return 0;
		*mlen = sizeof(*m);
		*client = bpf_htons(ETH_P_IP);
		return 1;
	}
	struct ipv6hdr *m6 = mid;

	if ((void *)(m6 + 1) > end || m6->version != 6 ||
	    (m6->nexthdr != IPPROTO_IPIP && m6->nexthdr != IPPROTO_IPV6) ||
	    !decap_allowed6(&m6->saddr))
		return 0;
	*mlen = sizeof(*m6);
	*client = m6->nexthdr == IPPROTO_IPIP ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
	return 1;
}

/* Does a local TCP socket own this non-SYN segment? tuple_len selects the
 * family; iph/iph_len are for the SYN-cookie check of a listener. */
XLB_INLINE int xlb_ho_tcp_owned(struct xdp_md *ctx, struct bpf_sock_tuple *t, __u32 tuple_len,
				void *iph, __u32 iph_len, struct tcphdr *th)
{
	struct bpf_sock *sk = bpf_skc_lookup_tcp(ctx, t, tuple_len, BPF_F_CURRENT_NETNS, 0);
	int owned;

	if (!sk)
		return 0;
	owned = sk->state != BPF_TCP_LISTEN ||
		!bpf_tcp_check_syncookie(sk, iph, iph_len, th, sizeof(*th));
	bpf_sk_release(sk);
	return owned;
}

XLB_INLINE int xlb_ho_udp_owned(struct xdp_md *ctx, struct bpf_sock_tuple *t, __u32 tuple_len)
{
	struct bpf_sock *sk = bpf_sk_lookup_udp(ctx, t, tuple_len, BPF_F_CURRENT_NETNS, 0);

	if (!sk)
		return 0;
	bpf_sk_release(sk);
	return 1;
}

XLB_INLINE int xlb_ho_client4(struct xdp_md *ctx, struct iphdr *ip, void *end)
{
	struct bpf_sock_tuple t = {};
	__u16 *ports = (void *)(ip + 1);

	if ((void *)(ip + 1) > end)
		return XLB_HO_DELIVER;
	if ((ip->protocol == IPPROTO_IPIP || ip->protocol == IPPROTO_IPV6) &&
	    decap_allowed4(ip->saddr))
		return XLB_HO_NESTED;
	if (ip->ihl != 5 || (ip->frag_off & bpf_htons(XLB_IP_MF | XLB_IP_OFFSET)))
		return XLB_HO_DELIVER;
	t.ipv4.saddr = ip->saddr;
	t.ipv4.daddr = ip->daddr;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *th = (void *)(ip + 1);

		if ((void *)(th + 1) > end || (((__u8 *)th)[13] & XLB_TCP_SYN))
			return XLB_HO_DELIVER;
		t.ipv4.sport = th->source;
		t.ipv4.dport = th->dest;
		return xlb_ho_tcp_owned(ctx, &t, sizeof(t.ipv4), ip, sizeof(*ip), th)
			       ? XLB_HO_DELIVER
			       : XLB_HO_HAND_ON;
	}
	if (ip->protocol == IPPROTO_UDP) {
		if ((void *)(ports + 2) > end)
			return XLB_HO_DELIVER;
		t.ipv4.sport = ports[0];
		t.ipv4.dport = ports[1];
		return xlb_ho_udp_owned(ctx, &t, sizeof(t.ipv4)) ? XLB_HO_DELIVER : XLB_HO_HAND_ON;
	}
	return XLB_HO_DELIVER;
}

XLB_INLINE int xlb_ho_client6(struct xdp_md *ctx, struct ipv6hdr *ip6, void *end)
{
	struct bpf_sock_tuple t = {};
	__u16 *ports = (void *)(ip6 + 1);

	if ((void *)(ip6 + 1) > end)
		return XLB_HO_DELIVER;
	if ((ip6->nexthdr == IPPROTO_IPIP || ip6->nexthdr == IPPROTO_IPV6) &&
	    decap_allowed6(&ip6->saddr))
		return XLB_HO_NESTED;
	__builtin_memcpy(t.ipv6.saddr, &ip6->saddr, 16);
	__builtin_memcpy(t.ipv6.daddr, &ip6->daddr, 16);
	if (ip6->nexthdr == IPPROTO_TCP) {
		struct tcphdr *th = (void *)(ip6 + 1);

		if ((void *)(th + 1) > end || (((__u8 *)th)[13] & XLB_TCP_SYN))
			return XLB_HO_DELIVER;
		t.ipv6.sport = th->source;
		t.ipv6.dport = th->dest;
		return xlb_ho_tcp_owned(ctx, &t, sizeof(t.ipv6), ip6, sizeof(*ip6), th)
			       ? XLB_HO_DELIVER
			       : XLB_HO_HAND_ON;
	}
	if (ip6->nexthdr == IPPROTO_UDP) {
		if ((void *)(ports + 2) > end)
			return XLB_HO_DELIVER;
		t.ipv6.sport = ports[0];
		t.ipv6.dport = ports[1];
		return xlb_ho_udp_owned(ctx, &t, sizeof(t.ipv6)) ? XLB_HO_DELIVER : XLB_HO_HAND_ON;
	}
	return XLB_HO_DELIVER;
}

/* What to do with a carrier whose middle header (mlen bytes) is at mid. */
XLB_INLINE int xlb_ho_decide(struct xdp_md *ctx, void *mid, void *end, __u32 mlen, __be16 client)
{
	if (mlen == sizeof(struct iphdr)) {
		struct iphdr *m = mid;

		if ((void *)(m + 1) > end)
			return XLB_HO_DELIVER;
		if (decap_is_local4(m->daddr))
			return XLB_HO_SELF;
		return xlb_ho_client4(ctx, (void *)(m + 1), end);
	}
	struct ipv6hdr *m6 = mid;

	if ((void *)(m6 + 1) > end)
		return XLB_HO_DELIVER;
	if (decap_is_local6(&m6->daddr))
		return XLB_HO_SELF;
	if (client == bpf_htons(ETH_P_IP))
		return xlb_ho_client4(ctx, (void *)(m6 + 1), end);
	return xlb_ho_client6(ctx, (void *)(m6 + 1), end);
}

/*
 * Route toward the middle header's destination: 0 with f's MACs and
 * ifindex filled, else -1 (no route, no resolved neighbour, or forwarding
 * off on the receiving interface: bpf_fib_lookup refuses every lookup
 * then, even an output one, so a backend that hands on needs
 * net.ipv4/ipv6.conf.<nic>.forwarding=1). A forwarding lookup (from the
 * receiving interface) rather than an output one: the route may leave by
 * another interface (bpf_redirect).
 */
XLB_INLINE int xlb_ho_route(struct xdp_md *ctx, void *mid, void *end, __u32 mlen,
			    struct bpf_fib_lookup *f)
{
	if (mlen == sizeof(struct iphdr)) {
		struct iphdr *m = mid;

		if ((void *)(m + 1) > end)
			return -1;
		f->family = XLB_AF4;
		f->tos = m->tos;
		f->l4_protocol = m->protocol;
		f->tot_len = bpf_ntohs(m->tot_len);
		f->ipv4_src = m->saddr;
		f->ipv4_dst = m->daddr;
	} else {
		struct ipv6hdr *m6 = mid;

		if ((void *)(m6 + 1) > end)
			return -1;
		f->family = XLB_AF6;
		f->flowinfo = *(__be32 *)m6 & bpf_htonl(0x0fffffff);
		f->l4_protocol = m6->nexthdr;
		f->tot_len = bpf_ntohs(m6->payload_len) + sizeof(*m6);
		__builtin_memcpy(f->ipv6_src, &m6->saddr, 16);
		__builtin_memcpy(f->ipv6_dst, &m6->daddr, 16);
	}
	f->ifindex = ctx->ingress_ifindex;
	return bpf_fib_lookup(ctx, f, sizeof(*f), 0);
}

#endif /* XLB_BPF_HANDOVER_H */
