// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "xlb_hash.h"
#include "xlb_limits.h"

const __u32 xlb_maglev_sizes[] = {
	251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65537, 131071, 262139, 524287, 655373,
};
const size_t xlb_maglev_nsizes = sizeof(xlb_maglev_sizes) / sizeof(xlb_maglev_sizes[0]);

int xlb_maglev_size_ok(__u32 m)
{
	for (size_t i = 0; i < xlb_maglev_nsizes; i++)
		if (xlb_maglev_sizes[i] == m)
			return 1;
	return 0;
}

__u64 xlb_mix64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

__u64 xlb_maglev_key(const char *s)
{
	/* FNV-1a, then mixed: stable across hosts and releases. */
	__u64 h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return xlb_mix64(h);
}

struct mg_state {
	struct xlb_maglev_backend b;
	__u32 pos;     /* next permutation position: (offset + j*skip) mod m */
	__u32 skip[4]; /* skip, 2 skip, 3 skip, 4 skip, each mod m; skip in [1, m) */
	__u64 credit;
};

/* pos + skip mod m, both below m: a compare instead of a division. */
static inline __u32 mg_next(__u32 pos, __u32 skip, __u32 m)
{
	pos += skip;
	return pos >= m ? pos - m : pos;
}

static int cmp_key(const void *a, const void *b)
{
	const struct mg_state *x = a, *y = b;

	if (x->b.key != y->b.key)
		return x->b.key < y->b.key ? -1 : 1;
	return 0;
}

/*
 * Occupied slots are tracked in a byte map (64 KiB at M = 65537): the
 * probing, M ln M probes in all, then tests one byte per probe (two
 * instructions; a bitmap took six) and never touches the table itself.
 */
static inline int mg_taken(const __u8 *used, __u32 pos)
{
	return used[pos];
}

/*
 * The backend's next free slot along its permutation. Four positions are
 * tested per step, each computed from the step's start, so the chain of
 * dependent modular additions is a quarter as long (the build's critical
 * path); the slot found is the same as probing one by one.
 */
static inline __u32 mg_probe(const struct mg_state *s, const __u8 *used, __u32 m)
{
	__u32 pos = s->pos;

	for (;;) {
		__u32 p1 = mg_next(pos, s->skip[0], m), p2 = mg_next(pos, s->skip[1], m),
		      p3 = mg_next(pos, s->skip[2], m);

		if (!mg_taken(used, pos))
			return pos;
		if (!mg_taken(used, p1))
			return p1;
		if (!mg_taken(used, p2))
			return p2;
		if (!mg_taken(used, p3))
			return p3;
		pos = mg_next(pos, s->skip[3], m);
	}
}

int xlb_maglev_build(const struct xlb_maglev_backend *b, size_t n, __u32 m, __u32 *table)
{
	return xlb_maglev_build_keyed(b, n, m, NULL, table);
}

int xlb_maglev_build_keyed(const struct xlb_maglev_backend *b, size_t n, __u32 m,
			   const struct xlb_hash_seed *seed, __u32 *table)
{
	const struct xlb_hash_seed zero = {{0, 0}}, *s = seed ? seed : &zero;
	struct mg_state *st;
	size_t live = 0;
	__u64 wmax = 0;
	__u8 *used;
	__u32 filled = 0;

	if (!xlb_maglev_size_ok(m) || m < 2)
		return -EINVAL;
	for (size_t i = 0; i < m; i++)
		table[i] = XLB_BACKEND_NONE;
	st = calloc(n ? n : 1, sizeof(*st));
	used = calloc(m, sizeof(*used));
	if (!st || !used) {
		free(st);
		free(used);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (b[i].id == XLB_BACKEND_NONE) {
			free(st);
			free(used);
			return -EINVAL;
		}
		if (!b[i].weight)
			continue;
		st[live].b = b[i];
		/* The seed enters before the mix: a bijection of an unknown input. */
		st[live].pos = (__u32)(xlb_mix64(b[i].key ^ s->k[0] ^ 0x6f66667365740000ull) % m);
		st[live].skip[0] =
			(__u32)(xlb_mix64(b[i].key ^ s->k[1] ^ 0x736b697000000000ull) % (m - 1)) +
			1;
		for (int k = 1; k < 4; k++)
			st[live].skip[k] = mg_next(st[live].skip[k - 1], st[live].skip[0], m);
		if (b[i].weight > wmax)
			wmax = b[i].weight;
		live++;
	}
	/* Order by identity so the input order never matters. */
	qsort(st, live, sizeof(*st), cmp_key);
	for (size_t i = 1; i < live; i++) {
		if (st[i].b.key == st[i - 1].b.key) {
			free(st);
			free(used);
			return -EINVAL;
		}
	}
	while (live && filled < m) {
		for (size_t i = 0; i < live && filled < m; i++) {
			struct mg_state *s = &st[i];

			s->credit += s->b.weight;
			while (s->credit >= wmax && filled < m) {
				s->credit -= wmax;
				s->pos = mg_probe(s, used, m);
				used[s->pos] = 1;
				table[s->pos] = s->b.id;
				s->pos = mg_next(s->pos, s->skip[0], m);
				filled++;
			}
		}
	}
	free(st);
	free(used);
	return 0;
}
