// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-check-out: health-check probes through the VIP (check `via: vip`,
 * README "Health checks"). A check that goes to the backend's own address
 * passes on a backend that lost its VIP (no loopback address, arp_ignore
 * missing, no decap), while every client sent there hangs. A probe through
 * the VIP reaches the backend exactly as client packets do, so it fails
 * exactly when they would.
 *
 * How a probe gets here: xlbd opens the probe socket, binds it to the
 * load balancer's NIC (SO_BINDTODEVICE, no capability needed for a first
 * binding) and to a local port of its own (bind to port 0), records
 * {VIP, check port, local port, protocol} -> backend id in "check_socks",
 * and connects to the VIP. The kernel routes the VIP out of the NIC by the
 * host's own routes (the default route through the router, on a load
 * balancer whose data NIC carries it): xlb adds no route and marks nothing.
 * Why a key from the packet rather than a socket mark (SO_MARK): setting a
 * mark needs CAP_NET_RAW or CAP_NET_ADMIN, which xlbd drops after setup;
 * bind() to an ephemeral port needs nothing, and the key is in every
 * packet the socket sends, so fixtures drive it with plain packets.
 *
 * This program, on the NIC's tc egress (a tcx link, pinned next to the XDP
 * link and adopted the same way), looks each outgoing IPv4/IPv6 TCP or UDP
 * packet up by that key:
 *  - no entry: untouched (TC_ACT_UNSPEC: the next program, if any, decides);
 *  - dsr backend: destination MAC := the backend's next hop (the source is
 *    already the NIC's); the IP packet is untouched, addressed to the VIP;
 *  - ipip backend: an outer IPv4 or IPv6 header to the backend is pushed in
 *    front (bpf_skb_adjust_room with the encap flags, so checksum offload
 *    and GSO still work), from the same encap prefix as the XDP program's
 *    (low bits from the probe's port and address, as for a client), so the
 *    backend's decap allow-list accepts it; destination MAC as for dsr;
 *  - an entry whose backend record is unusable (never set, a family ipip
 *    cannot carry) or an encapsulation that fails: dropped (TC_ACT_SHOT).
 *    Left as it is, the probe would reach the VIP through the router, i.e.
 *    some load balancer and any backend, and pass for the wrong one.
 * Backend state is not looked at: a DOWN backend is probed like any other,
 * that is how it comes back.
 *
 * The reply comes from the VIP straight to the load balancer's address
 * (dsr and ipip backends answer directly), is not for a VIP, so xlb's XDP
 * program passes it, and reaches the probe socket.
 *
 * Only packets the host sends leave through egress: client traffic that
 * the XDP program forwards (XDP_TX) never passes here.
 */
#include "lib/common.h"
#include "lib/csum.h"

#ifndef TC_ACT_UNSPEC
#define TC_ACT_UNSPEC (-1)
#define TC_ACT_SHOT 2
#endif

/* Set by the loader before load: the XDP program's encap prefixes. */
const volatile __be32 encap_src4 = 0;
const volatile union xlb_addr encap_src6 = {};
const volatile __u32 encap_vary_mask = 0xffff; /* host order, <= 0xffff */

/* Probe key -> backend id (struct xlb_check_key), written by xlbd per probe. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, struct xlb_check_key);
	__type(value, __u32);
} check_socks SEC(".maps");

/* The XDP program's backend records (reused from it by the loader). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_backend);
} backends SEC(".maps");

struct probe {
	struct xlb_check_key key;
	__be32 src_low; /* low word of the source address (for the encap source) */
	__u32 l3_len;	/* IP header + payload */
	__u8 family;
	__u8 tos;
	__u8 df;
	__u8 pad;
};

/* 1 when the frame is an IPv4/IPv6 TCP/UDP packet p describes, else 0. */
XLB_INLINE int parse(struct __sk_buff *skb, struct probe *p)
{
	struct ethhdr eth;
	__be16 ports[2];
	__u32 l4;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)))
		return 0;
	if (eth.h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, sizeof(eth), &ip, sizeof(ip)))
			return 0;
		/* A probe's packets carry no options and are never fragments. */
		if (ip.ihl != 5 || (ip.frag_off & bpf_htons(XLB_IP_MF | XLB_IP_OFFSET)))
			return 0;
		p->family = XLB_AF_INET;
		p->key.proto = ip.protocol;
		p->key.vip.w[2] = bpf_htonl(0xffff);
		p->key.vip.w[3] = ip.daddr;
		p->src_low = ip.saddr;
		p->tos = ip.tos;
		p->df = !!(ip.frag_off & bpf_htons(XLB_IP_DF));
		l4 = sizeof(eth) + sizeof(ip);
	} else if (eth.h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, sizeof(eth), &ip6, sizeof(ip6)))
			return 0;
		p->family = XLB_AF_INET6;
		p->key.proto = ip6.nexthdr;
		__builtin_memcpy(&p->key.vip, &ip6.daddr, sizeof(p->key.vip));
		p->src_low = ip6.saddr.in6_u.u6_addr32[3];
		p->tos = (__u8)((ip6.priority << 4) | (ip6.flow_lbl[0] >> 4));
		l4 = sizeof(eth) + sizeof(ip6);
	} else {
		return 0;
	}
	if (p->key.proto != IPPROTO_TCP && p->key.proto != IPPROTO_UDP)
		return 0;
	if (bpf_skb_load_bytes(skb, l4, ports, sizeof(ports)))
		return 0;
	p->key.sport = ports[0];
	p->key.vport = ports[1];
	p->l3_len = skb->len - sizeof(eth);
	return 1;
}

/* The XDP program's per-flow value, with the probe as the client. */
XLB_INLINE __u32 vary(const struct probe *p)
{
	__u32 a = bpf_ntohl(p->src_low);

	return (bpf_ntohs(p->key.sport) ^ (a & 0xffff) ^ (a >> 16)) & encap_vary_mask;
}

XLB_INLINE int push_outer4(struct __sk_buff *skb, const struct probe *p,
			   const struct xlb_backend *be)
{
	struct iphdr h = {
		.version = 4,
		.ihl = 5,
		.tos = p->tos,
		.tot_len = bpf_htons(p->l3_len + sizeof(h)),
		.frag_off = p->df ? bpf_htons(XLB_IP_DF) : 0,
		.ttl = XLB_TTL,
		.protocol = IPPROTO_IPIP,
		.saddr = encap_src4 | bpf_htonl(vary(p)),
		.daddr = be->addr.w[3],
	};
	__be16 proto = bpf_htons(ETH_P_IP);

	h.check = xlb_csum_fold(xlb_csum_add(0, &h, sizeof(h)));
	if (bpf_skb_adjust_room(skb, sizeof(h), BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4))
		return -1;
	if (bpf_skb_store_bytes(skb, sizeof(struct ethhdr), &h, sizeof(h), 0) ||
	    bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto), &proto, sizeof(proto), 0))
		return -1;
	return 0;
}

XLB_INLINE int push_outer6(struct __sk_buff *skb, const struct probe *p,
			   const struct xlb_backend *be)
{
	struct ipv6hdr h = {};
	__be16 proto = bpf_htons(ETH_P_IPV6);
	__u32 v = vary(p);

	*(__be32 *)&h = bpf_htonl((6u << 28) | ((__u32)p->tos << 20) | v);
	h.payload_len = bpf_htons(p->l3_len);
	h.nexthdr = p->family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	h.hop_limit = XLB_TTL;
	h.saddr.in6_u.u6_addr32[0] = encap_src6.w[0];
	h.saddr.in6_u.u6_addr32[1] = encap_src6.w[1];
	h.saddr.in6_u.u6_addr32[2] = encap_src6.w[2];
	h.saddr.in6_u.u6_addr32[3] = encap_src6.w[3] | bpf_htonl(v);
	__builtin_memcpy(&h.daddr, &be->addr, sizeof(h.daddr));
	/* IPV6 on an IPv4 skb also switches skb->protocol to the outer one. */
	if (bpf_skb_adjust_room(skb, sizeof(h), BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV6))
		return -1;
	if (bpf_skb_store_bytes(skb, sizeof(struct ethhdr), &h, sizeof(h), 0) ||
	    bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto), &proto, sizeof(proto), 0))
		return -1;
	return 0;
}

SEC("tc")
int xlb_check_out(struct __sk_buff *skb)
{
	const struct xlb_backend *be;
	struct probe p = {};
	__u32 *id;

	if (!parse(skb, &p))
		return TC_ACT_UNSPEC;
	id = bpf_map_lookup_elem(&check_socks, &p.key);
	if (!id)
		return TC_ACT_UNSPEC;
	be = bpf_map_lookup_elem(&backends, id);
	if (!be || !be->family)
		return TC_ACT_SHOT; /* a record never set: nowhere to send it */
	if (be->mode == XLB_MODE_IPIP) {
		if (be->family == XLB_AF_INET6) {
			if (push_outer6(skb, &p, be))
				return TC_ACT_SHOT;
		} else if (p.family == XLB_AF_INET) {
			if (push_outer4(skb, &p, be))
				return TC_ACT_SHOT;
		} else {
			return TC_ACT_SHOT; /* IPv6 in IPv4: refused by the config */
		}
	} else if (be->mode != XLB_MODE_DSR) {
		return TC_ACT_SHOT;
	}
	if (bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_dest), be->mac, ETH_ALEN, 0))
		return TC_ACT_SHOT;
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
