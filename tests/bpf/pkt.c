// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

const __u8 MAC_LB[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const __u8 MAC_ROUTER[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const __u8 MAC_BACKEND[4][6] = {
	{0x02, 0x00, 0x00, 0x00, 0x01, 0x00},
	{0x02, 0x00, 0x00, 0x00, 0x01, 0x01},
	{0x02, 0x00, 0x00, 0x00, 0x01, 0x02},
	{0x02, 0x00, 0x00, 0x00, 0x01, 0x03},
};

static void put16(__u8 *b, __u16 v)
{
	b[0] = v >> 8;
	b[1] = v & 0xff;
}

static void put32(__u8 *b, __u32 v)
{
	put16(b, v >> 16);
	put16(b + 2, v & 0xffff);
}

static __u16 get16(const __u8 *b)
{
	return (__u16)(b[0] << 8 | b[1]);
}

void pb_addr(const char *s, __u8 out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out + 12) == 1) {
		out[10] = out[11] = 0xff;
		return;
	}
	if (inet_pton(AF_INET6, s, out) != 1) {
		fprintf(stderr, "pkt: bad address '%s'\n", s);
		abort();
	}
}

/* Sum in network order as integers: checksum = ~fold(sum), stored big-endian. */
static __u32 sum16(const __u8 *d, size_t len, __u32 s)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += get16(d + i);
	if (len & 1)
		s += d[len - 1] << 8;
	return s;
}

__u16 pb_csum(const void *data, size_t len, __u32 seed)
{
	__u32 s = sum16(data, len, seed);

	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static void *grow(struct pb *p, size_t n)
{
	void *at = p->buf + p->len;

	if (p->len + n > PB_MAX)
		abort();
	memset(at, 0, n);
	p->len += n;
	return at;
}

static void layer(struct pb *p, enum pb_layer t)
{
	if (p->nl == PB_LAYERS)
		abort();
	p->l[p->nl].type = t;
	p->l[p->nl].off = p->len;
	p->nl++;
}

void pb_init(struct pb *p)
{
	memset(p, 0, sizeof(*p));
}

void pb_eth(struct pb *p, const __u8 *dst, const __u8 *src, int vlan, __u16 ethertype)
{
	__u8 *b = grow(p, vlan ? 18 : 14);

	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	if (vlan) {
		put16(b + 12, 0x8100);
		put16(b + 14, (__u16)vlan);
		b += 4;
	}
	put16(b + 12, ethertype);
}

void pb_ip4(struct pb *p, const char *src, const char *dst, __u8 proto, __u8 ttl, __u8 tos,
	    __u16 frag_off, int opt_len)
{
	__u8 a[16];
	__u8 *b;

	layer(p, PB_IP4);
	b = grow(p, 20 + opt_len);
	b[0] = 0x40 | ((20 + opt_len) / 4);
	b[1] = tos;
	put16(b + 6, frag_off);
	b[8] = ttl;
	b[9] = proto;
	pb_addr(src, a);
	memcpy(b + 12, a + 12, 4);
	pb_addr(dst, a);
	memcpy(b + 16, a + 12, 4);
	for (int i = 0; i < opt_len; i++)
		b[20 + i] = 1; /* NOP options */
}

void pb_ip6(struct pb *p, const char *src, const char *dst, __u8 nexthdr, __u8 hop, __u8 tc,
	    __u32 flowlabel)
{
	__u8 *b;

	layer(p, PB_IP6);
	b = grow(p, 40);
	put32(b, 6u << 28 | (__u32)tc << 20 | (flowlabel & 0xfffff));
	b[6] = nexthdr;
	b[7] = hop;
	pb_addr(src, b + 8);
	pb_addr(dst, b + 24);
}

void pb_ext6(struct pb *p, __u8 nexthdr)
{
	__u8 *b;

	layer(p, PB_EXT6);
	b = grow(p, 8);
	b[0] = nexthdr;
	b[1] = 0; /* length in 8-byte units beyond the first */
	b[2] = 1; /* PadN option covering the rest */
	b[3] = 4;
}

void pb_tcp(struct pb *p, __u16 sport, __u16 dport, __u32 seq, __u32 ack, __u8 flags, __u16 window)
{
	__u8 *b;

	layer(p, PB_TCP);
	b = grow(p, 20);
	put16(b, sport);
	put16(b + 2, dport);
	put32(b + 4, seq);
	put32(b + 8, ack);
	b[12] = 5 << 4;
	b[13] = flags;
	put16(b + 14, window);
}

void pb_udp(struct pb *p, __u16 sport, __u16 dport)
{
	__u8 *b;

	layer(p, PB_UDP);
	b = grow(p, 8);
	put16(b, sport);
	put16(b + 2, dport);
}

static void icmp(struct pb *p, enum pb_layer t, __u8 type, __u8 code, __u32 rest)
{
	__u8 *b;

	layer(p, t);
	b = grow(p, 8);
	b[0] = type;
	b[1] = code;
	put32(b + 4, rest);
}

void pb_icmp4(struct pb *p, __u8 type, __u8 code, __u32 rest)
{
	icmp(p, PB_ICMP4, type, code, rest);
}

void pb_icmp6(struct pb *p, __u8 type, __u8 code, __u32 rest)
{
	icmp(p, PB_ICMP6, type, code, rest);
}

void pb_bytes(struct pb *p, const void *data, size_t len)
{
	memcpy(grow(p, len), data, len);
}

void pb_payload(struct pb *p, size_t len, __u8 seed)
{
	__u8 *b = grow(p, len);

	for (size_t i = 0; i < len; i++)
		b[i] = (__u8)(seed + i * 7);
}

int pb_hex(struct pb *p, const char *hex)
{
	size_t n = strlen(hex);
	unsigned int v;

	if (n % 2)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		if (sscanf(hex + i, "%2x", &v) != 1 || !isxdigit((unsigned char)hex[i]) ||
		    !isxdigit((unsigned char)hex[i + 1]))
			return -1;
		*(__u8 *)grow(p, 1) = (__u8)v;
	}
	return 0;
}

int pb_find(const struct pb *p, enum pb_layer type)
{
	for (int i = 0; i < p->nl; i++)
		if (p->l[i].type == type)
			return (int)p->l[i].off;
	return -1;
}

/* Pseudo-header sum from the nearest IP layer before layer i. */
static __u32 pseudo(const struct pb *p, int i, __u8 proto, size_t len)
{
	for (int j = i - 1; j >= 0; j--) {
		const __u8 *ip = p->buf + p->l[j].off;

		if (p->l[j].type == PB_IP4)
			return sum16(ip + 12, 8, proto + (__u32)len);
		if (p->l[j].type == PB_IP6)
			return sum16(ip + 8, 32, proto + (__u32)len);
	}
	abort();
}

void pb_finish(struct pb *p)
{
	for (int i = p->nl - 1; i >= 0; i--) {
		__u8 *b = p->buf + p->l[i].off;
		size_t len = p->len - p->l[i].off;

		switch (p->l[i].type) {
		case PB_IP4:
			put16(b + 2, (__u16)len);
			put16(b + 10, 0);
			put16(b + 10, pb_csum(b, (b[0] & 0xf) * 4, 0));
			break;
		case PB_IP6:
			put16(b + 4, (__u16)(len - 40));
			break;
		case PB_TCP:
			put16(b + 16, 0);
			put16(b + 16, pb_csum(b, len, pseudo(p, i, 6, len)));
			break;
		case PB_UDP:
			put16(b + 4, (__u16)len);
			put16(b + 6, 0);
			put16(b + 6, pb_csum(b, len, pseudo(p, i, 17, len)));
			if (get16(b + 6) == 0)
				put16(b + 6, 0xffff);
			break;
		case PB_ICMP4:
			put16(b + 2, 0);
			put16(b + 2, pb_csum(b, len, 0));
			break;
		case PB_ICMP6:
			put16(b + 2, 0);
			put16(b + 2, pb_csum(b, len, pseudo(p, i, 58, len)));
			break;
		case PB_EXT6:
			break;
		}
	}
}
