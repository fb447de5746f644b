/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared by every step of the XDP program: includes, the parsed-packet
 * context and the return convention.
 *
 * Return convention of every step: a value >= 0 is a final XDP verdict,
 * a negative value is -(drop reason id), and XLB_CONTINUE hands the packet
 * to the next step. Only the exit point in xlb.bpf.c counts drop reasons.
 */
#ifndef XLB_BPF_COMMON_H
#define XLB_BPF_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlb_abi.h"
#include "xlb_counters.h"
#include "xlb_hash.h"

#define XLB_INLINE static __always_inline

#define XLB_CONTINUE 1000

/* TCP flag bits, byte 13 of the TCP header. */
#define XLB_TCP_FIN 0x01
#define XLB_TCP_SYN 0x02
#define XLB_TCP_RST 0x04
#define XLB_TCP_ACK 0x10

#define XLB_IP_MF 0x2000
#define XLB_IP_DF 0x4000
#define XLB_IP_OFFSET 0x1fff

#define XLB_TTL 64

/*
 * ICMPv4 header: <linux/icmp.h> pulls in libc's socket headers through
 * <linux/if.h>, which do not build for -target bpf, so it is spelled here.
 */
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 rest; /* unused / pointer / next-hop MTU */
};

#define ICMP_DEST_UNREACH 3
#define ICMP_PORT_UNREACH 3
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12

/* 802.1Q tag as it follows the MAC addresses (the uapi has no such type). */
struct xlb_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* What the parser learned about a packet; filled once, read by every step. */
struct xlb_pkt {
	struct xlb_flow_key key; /* client -> VIP, also for ICMP errors */
	__u32 len;		 /* frame length, for byte counters */
	__u32 l2_len;		 /* 14, or 18 with an 802.1Q tag */
	__u32 ip_len;		 /* outer IP length (header + payload) */
	__u8 family;		 /* outer family: XLB_AF_INET or XLB_AF_INET6 */
	__u8 tos;		 /* outer TOS / traffic class */
	__u8 tcp_flags;
	__u8 icmp_err; /* key was read from an ICMP error's quote, reversed */
	__u8 df;       /* IPv4 don't-fragment bit was set */
	__u8 anomaly;  /* drop reason if the destination is a VIP address */
	__u8 reason;   /* non-drop reason counted at exit (TX, PASS) */
	__u8 pad;
};

/*
 * L2 header length for packet offsets. Verifier workaround: p->l2_len is 14
 * or 18 when written, but once the context struct lives on the stack the
 * verifier (kernel 6.18, clang 14 output) reloads it as an unbounded u32, and
 * a packet pointer plus an unbounded offset never gets a usable range after
 * a bounds check ("R3 offset is outside of the packet"). The mask restores a
 * bound; it costs one AND.
 */
XLB_INLINE __u32 xlb_l2_len(const struct xlb_pkt *p)
{
	return p->l2_len & 0x1f;
}

/* A TCP SYN without ACK: a client opening a connection. */
XLB_INLINE int xlb_is_syn(const struct xlb_pkt *p)
{
	return p->key.proto == IPPROTO_TCP &&
	       (p->tcp_flags & (XLB_TCP_SYN | XLB_TCP_ACK)) == XLB_TCP_SYN;
}

/* Store an IPv4 address as IPv4-mapped IPv6. */
XLB_INLINE void xlb_addr_set4(union xlb_addr *a, __be32 v4)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = bpf_htonl(0x0000ffff);
	a->w[3] = v4;
}

/*
 * 16 bytes of an address in the packet, as four 4-byte loads: through
 * __builtin_memcpy from a pointer of unknown alignment clang 14 loaded it a
 * byte at a time and shifted the bytes together (about 90 instructions for
 * an IPv6 packet's two addresses, the most of what an IPv6 packet cost over
 * an IPv4 one). Packet access needs no alignment on x86-64 and arm64.
 */
XLB_INLINE void xlb_addr_copy(union xlb_addr *dst, const void *src)
{
	const __u32 *w = src;

	dst->w[0] = w[0];
	dst->w[1] = w[1];
	dst->w[2] = w[2];
	dst->w[3] = w[3];
}

#endif /* XLB_BPF_COMMON_H */
