// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* SHA-256 from FIPS 180-4 (sections 4.1.2, 4.2.2, 5.1.1, 5.3.3, 6.2); see sha256.h. */
#include <string.h>

#include "sha256.h"

/* 4.2.2: the first 32 bits of the fractional parts of the cube roots of
 * the first 64 primes. */
static const __u32 K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static inline __u32 rotr(__u32 x, int n)
{
	return (x >> n) | (x << (32 - n));
}

/* 4.1.2 */
static inline __u32 ch(__u32 x, __u32 y, __u32 z)
{
	return (x & y) ^ (~x & z);
}

static inline __u32 maj(__u32 x, __u32 y, __u32 z)
{
	return (x & y) ^ (x & z) ^ (y & z);
}

static inline __u32 big_sigma0(__u32 x)
{
	return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22);
}

static inline __u32 big_sigma1(__u32 x)
{
	return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25);
}

static inline __u32 small_sigma0(__u32 x)
{
	return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3);
}

static inline __u32 small_sigma1(__u32 x)
{
	return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10);
}

void xlb_sha256_init(struct xlb_sha256 *c)
{
	/* 5.3.3: the first 32 bits of the fractional parts of the square
	 * roots of the first 8 primes. */
	static const __u32 h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(c->h, h0, sizeof(h0));
	c->bytes = 0;
	c->nblock = 0;
}

/* 6.2.2: one 512-bit block into the hash value. */
static void compress(__u32 h[8], const __u8 *p)
{
	__u32 w[64], a, b, cc, d, e, f, g, hh;

	for (int t = 0; t < 16; t++)
		w[t] = (__u32)p[4 * t] << 24 | (__u32)p[4 * t + 1] << 16 |
		       (__u32)p[4 * t + 2] << 8 | p[4 * t + 3];
	for (int t = 16; t < 64; t++)
		w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) + w[t - 16];
	a = h[0], b = h[1], cc = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int t = 0; t < 64; t++) {
		__u32 t1 = hh + big_sigma1(e) + ch(e, f, g) + K[t] + w[t];
		__u32 t2 = big_sigma0(a) + maj(a, b, cc);

		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = cc;
		cc = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += cc, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void xlb_sha256_update(struct xlb_sha256 *c, const void *data, size_t len)
{
	const __u8 *p = data;

	if (!len)
		return; /* data may be NULL then */
	c->bytes += len;
	if (c->nblock) {
		size_t take = 64 - c->nblock < len ? 64 - c->nblock : len;

		memcpy(c->block + c->nblock, p, take);
		c->nblock += take;
		p += take;
		len -= take;
		if (c->nblock < 64)
			return;
		compress(c->h, c->block);
		c->nblock = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		compress(c->h, p);
	memcpy(c->block, p, len);
	c->nblock = len;
}

void xlb_sha256_final(struct xlb_sha256 *c, __u8 out[XLB_SHA256_LEN])
{
	__u64 bits = c->bytes * 8;

	/* 5.1.1: a 1 bit, zeros up to 56 bytes mod 64, the length in bits. */
	c->block[c->nblock++] = 0x80;
	if (c->nblock > 56) {
		memset(c->block + c->nblock, 0, 64 - c->nblock);
		compress(c->h, c->block);
		c->nblock = 0;
	}
	memset(c->block + c->nblock, 0, 56 - c->nblock);
	for (int i = 0; i < 8; i++)
		c->block[56 + i] = (__u8)(bits >> (56 - 8 * i));
	compress(c->h, c->block);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (__u8)(c->h[i] >> 24);
		out[4 * i + 1] = (__u8)(c->h[i] >> 16);
		out[4 * i + 2] = (__u8)(c->h[i] >> 8);
		out[4 * i + 3] = (__u8)c->h[i];
	}
	memset(c, 0, sizeof(*c));
}

void xlb_sha256(const void *data, size_t len, __u8 out[XLB_SHA256_LEN])
{
	struct xlb_sha256 c;

	xlb_sha256_init(&c);
	xlb_sha256_update(&c, data, len);
	xlb_sha256_final(&c, out);
}
