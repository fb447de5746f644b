/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet builder for fixtures: append headers layer by layer, then
 * pb_finish() fills every length and checksum, innermost first. Its
 * checksum code is independent of the data plane's, so a fixture's expected
 * bytes check the XDP program rather than repeat it.
 */
#ifndef XLB_TEST_PKT_H
#define XLB_TEST_PKT_H

#include <stddef.h>
#include <linux/types.h>

#define PB_MAX 2048
#define PB_LAYERS 8

enum pb_layer {
	PB_IP4,
	PB_IP6,
	PB_TCP,
	PB_UDP,
	PB_ICMP4,
	PB_ICMP6,
	PB_EXT6,
};

struct pb {
	__u8 buf[PB_MAX];
	size_t len;
	int nl;
	struct {
		enum pb_layer type;
		size_t off;
	} l[PB_LAYERS];
};

extern const __u8 MAC_LB[6];	 /* the load balancer's NIC */
extern const __u8 MAC_ROUTER[6]; /* where client traffic comes from */
extern const __u8 MAC_BACKEND[4][6];

void pb_init(struct pb *p);
void pb_eth(struct pb *p, const __u8 *dst, const __u8 *src, int vlan, __u16 ethertype);
/* frag_off in host order (flags | offset); opt_len a multiple of 4, <= 40 */
void pb_ip4(struct pb *p, const char *src, const char *dst, __u8 proto, __u8 ttl, __u8 tos,
	    __u16 frag_off, int opt_len);
void pb_ip6(struct pb *p, const char *src, const char *dst, __u8 nexthdr, __u8 hop, __u8 tc,
	    __u32 flowlabel);
void pb_ext6(struct pb *p, __u8 nexthdr); /* an 8-byte extension header */
void pb_tcp(struct pb *p, __u16 sport, __u16 dport, __u32 seq, __u32 ack, __u8 flags, __u16 window);
void pb_udp(struct pb *p, __u16 sport, __u16 dport);
void pb_icmp4(struct pb *p, __u8 type, __u8 code, __u32 rest);
void pb_icmp6(struct pb *p, __u8 type, __u8 code, __u32 rest);
void pb_bytes(struct pb *p, const void *data, size_t len);
void pb_payload(struct pb *p, size_t len, __u8 seed);
void pb_finish(struct pb *p);
/* Append bytes written as hex (a fuzzer reproducer); 0, or -1 on a bad digit. */
int pb_hex(struct pb *p, const char *hex);

/* Offset of the first layer of a type, or -1. */
int pb_find(const struct pb *p, enum pb_layer type);

/* Parse an address (IPv4 or IPv6) into 16 bytes, IPv4-mapped; aborts on error. */
void pb_addr(const char *s, __u8 out[16]);

/* The one's complement sum helpers the builder uses. */
__u16 pb_csum(const void *data, size_t len, __u32 seed);

#endif /* XLB_TEST_PKT_H */
