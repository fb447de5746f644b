// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Maglev table builder.
 *
 * What it computes (and must keep computing: every load balancer of a fleet
 * and every release must build byte-identical tables, t_tables_are_pinned
 * holds the builder to that). Each backend of non-zero weight has a
 * permutation of the M slots, offset + j * skip mod M, both from its key and
 * the seed. Backends are ranked by key. In round 1, 2, ... each backend, in
 * rank order, earns `weight` credit and, when its credit reaches the largest
 * weight W, pays W for the first free slot along its permutation, until every
 * slot is taken. As weight <= W, a backend claims at most one slot a round:
 * the one of weight w claims in round R iff floor(R w / W) grew.
 *
 * How it computes it fast (1000 backends, M = 65537: M ln M ~ 730k probes):
 * - Rounds. Backends of one weight claim in the same rounds, so they form a
 *   class, and a heap of classes ordered by their next claiming round yields
 *   each round's claimants without visiting backends that do not claim
 *   (a weight 65535 among weights 1 made a round per slot, each visiting
 *   every backend). With equal weights there is one class, claiming every
 *   round, and a round is a plain pass over the ranks.
 * - Probing. Taken slots are a byte map (M bytes, in L1/L2), never the
 *   table. The cost of a walk is its mispredicted exit, so positions are
 *   tested in groups without a branch per position: two at a time while
 *   most slots are free (the first is usually free), four at a time later.
 *   The group's first free position is picked with masks, not branches.
 * - The tail. With F slots free a walk takes about M/F probes: the last
 *   sqrt(M)/2 slots alone would cost M ln(sqrt(M)/2) probes, 45% of all
 *   at M = 65537. There the builder lists the free slots and computes for
 *   each how many steps the walk needs to reach it, (f - pos) / skip mod M
 *   (skip's inverse, Shoup's modular multiplication), and takes the
 *   nearest: the slot the walk would find, in F multiplications instead of
 *   M/F probes. (Of sqrt(M) / 1, 2, 4 as the threshold, / 2 measured best.)
 * - Working state is a struct of arrays indexed by rank, sorted by a radix
 *   sort; nothing is allocated in the loops.
 */
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

/* mg_nearest packs a distance (< M) and an index (< sqrt(M)) in 32 bits. */
_Static_assert(XLB_MAX_TABLE_SIZE < (1u << 20), "slot distances must fit 20 bits");

/* Backends of one weight: they claim in the same rounds. */
struct mg_class {
	__u64 next; /* next round in which the class claims */
	__u32 weight;
	__u32 first; /* its ranks are members[first .. first + count) */
	__u32 count;
};

struct mg_pair {
	__u64 key;
	__u32 val;
};

struct mg {
	__u32 m;
	__u32 left;	  /* free slots */
	__u32 tail;	  /* free slots at which the tail starts */
	__u32 nfree;	  /* tail: entries of free[] */
	__u8 *used;	  /* [m] 1 = slot taken */
	__u32 *table;	  /* [m] the caller's */
	__u32 *pos;	  /* [rank] next position along the permutation */
	__u32 (*step)[4]; /* [rank] skip, 2 skip, 3 skip, 4 skip, each mod m */
	__u32 *id;	  /* [rank] */
	__u32 *free;	  /* tail: the free slots, unordered */
};

/* pos + d mod m, both below m: a compare instead of a division. */
static inline __u32 mg_add(__u32 pos, __u32 d, __u32 m)
{
	pos += d;
	return pos >= m ? pos - m : pos;
}

/* c ? a : b for c in {0, 1}, without a branch. */
static inline __u32 mg_pick(__u32 c, __u32 a, __u32 b)
{
	return b ^ ((a ^ b) & -c);
}

/* The first free slot from pos along the permutation, two positions a step. */
static inline __u32 mg_walk2(const __u8 *used, __u32 pos, const __u32 *sk, __u32 m)
{
	for (;;) {
		__u32 p1 = mg_add(pos, sk[0], m), t0 = used[pos], t1 = used[p1];

		if (__builtin_expect(!(t0 & t1), 1))
			return mg_pick(t0, p1, pos);
		pos = mg_add(pos, sk[1], m);
	}
}

/* The same, four positions a step. */
static inline __u32 mg_walk4(const __u8 *used, __u32 pos, const __u32 *sk, __u32 m)
{
	for (;;) {
		__u32 p1 = mg_add(pos, sk[0], m), p2 = mg_add(pos, sk[1], m),
		      p3 = mg_add(pos, sk[2], m);
		__u32 t0 = used[pos], t1 = used[p1], t2 = used[p2], t3 = used[p3];

		if (!(t0 & t1 & t2 & t3))
			return mg_pick(t0, mg_pick(t1, mg_pick(t2, p3, p2), p1), pos);
		pos = mg_add(pos, sk[3], m);
	}
}

/* s^-1 mod m, m prime, 0 < s < m: extended Euclid. */
static __u32 mg_inverse(__u32 s, __u32 m)
{
	long long t = 0, nt = 1;
	__u32 r = m, nr = s;

	while (nr) {
		__u32 q = r / nr, x = r - q * nr;
		long long y = t - (long long)q * nt;

		r = nr;
		nr = x;
		t = nt;
		nt = y;
	}
	return (__u32)(t < 0 ? t + m : t);
}

static void mg_list_free(struct mg *g)
{
	__u32 k = 0, p = 0;

	/* Eight slots at a time: almost all are taken. */
	for (; p + 8 <= g->m; p += 8) {
		__u64 w;

		memcpy(&w, g->used + p, 8);
		if (w == 0x0101010101010101ull)
			continue;
		for (__u32 i = p; i < p + 8; i++)
			if (!g->used[i])
				g->free[k++] = i;
	}
	for (; p < g->m; p++)
		if (!g->used[p])
			g->free[k++] = p;
	g->nfree = k;
}

/*
 * Tail: of the free slots, the one the walk from pos reaches first. Its
 * distance is d = (f - pos) * w mod m with w = skip^-1; Shoup's method gives
 * a * w mod m as a * w - floor(a * wq / 2^32) * m, within [0, 2m), where
 * wq = floor(w 2^32 / m). The smallest d wins; d and the index are packed
 * in one word (d < 2^20, index < 2^12) so the minimum needs no branch.
 */
static __u32 mg_nearest(struct mg *g, __u32 pos, __u32 skip)
{
	__u32 m = g->m, w = mg_inverse(skip, m), best = ~0u, slot;
	__u64 wq = ((__u64)w << 32) / m;

	for (__u32 i = 0; i < g->nfree; i++) {
		__u32 f = g->free[i], a = f >= pos ? f - pos : f + m - pos;
		__u32 q = (__u32)(((__u64)a * wq) >> 32);
		__u32 d = (__u32)((__u64)a * w - (__u64)q * m), k;

		d = d >= m ? d - m : d;
		k = d << 12 | i;
		best = k < best ? k : best;
	}
	best &= 4095;
	slot = g->free[best];
	g->free[best] = g->free[--g->nfree];
	return slot;
}

/* Rank r takes slot p. */
static inline void mg_take(__u8 *used, __u32 *table, __u32 *pos, const __u32 *id,
			   const __u32 (*step)[4], __u32 m, __u32 r, __u32 p)
{
	used[p] = 1;
	table[p] = id[r];
	pos[r] = mg_add(p, step[r][0], m);
}

/*
 * The backends who[0 .. count), in order, each take the first free slot along
 * its permutation, until the table is full. The walk that finds it depends on
 * how full the table is; locals, not g's fields, in the loops: a store
 * through a byte pointer may alias anything, and would make the compiler
 * reload them.
 */
static void mg_claim(struct mg *g, const __u32 *who, __u32 count)
{
	const __u32 m = g->m, (*step)[4] = (const __u32(*)[4])g->step;
	__u32 *table = g->table, *pos = g->pos, *id = g->id, left = g->left, i = 0;
	__u8 *used = g->used;

	for (; i < count && left > m / 2; i++, left--)
		mg_take(used, table, pos, id, step, m, who[i],
			mg_walk2(used, pos[who[i]], step[who[i]], m));
	for (; i < count && left > g->tail; i++, left--)
		mg_take(used, table, pos, id, step, m, who[i],
			mg_walk4(used, pos[who[i]], step[who[i]], m));
	for (; i < count && left; i++, left--) {
		if (!g->nfree)
			mg_list_free(g);
		mg_take(used, table, pos, id, step, m, who[i],
			mg_nearest(g, pos[who[i]], step[who[i]][0]));
	}
	g->left = left;
}

/* LSD radix sort by key, a byte a pass, stable; returns a or tmp, whichever holds the result. */
static struct mg_pair *mg_sort(struct mg_pair *a, struct mg_pair *tmp, size_t n)
{
	for (int sh = 0; sh < 64 && n; sh += 8) {
		size_t cnt[257] = {0};
		struct mg_pair *t;

		for (size_t i = 0; i < n; i++)
			cnt[((a[i].key >> sh) & 0xff) + 1]++;
		if (cnt[((a[0].key >> sh) & 0xff) + 1] == n)
			continue; /* every key has this byte: nothing moves */
		for (int d = 0; d < 256; d++)
			cnt[d + 1] += cnt[d];
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(a[i].key >> sh) & 0xff]++] = a[i];
		t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

/* Min-heap of class indices by next claiming round. */
static void mg_heap_down(__u32 *h, __u32 n, const struct mg_class *c, __u32 i)
{
	for (;;) {
		__u32 l = 2 * i + 1, s = i, t;

		if (l < n && c[h[l]].next < c[h[s]].next)
			s = l;
		if (l + 1 < n && c[h[l + 1]].next < c[h[s]].next)
			s = l + 1;
		if (s == i)
			return;
		t = h[i];
		h[i] = h[s];
		h[s] = t;
		i = s;
	}
}

/* The first round after `round` in which a class of weight w claims. */
static __u64 mg_next_round(__u64 round, __u32 w, __u32 wmax)
{
	__u64 claimed = round * w / wmax;

	return ((claimed + 1) * wmax + w - 1) / w;
}

struct mg_rounds {
	struct mg_class *cls;
	__u32 ncls;
	__u32 *heap;		     /* [ncls] */
	__u32 *members;		     /* [n] ranks grouped by class, ascending in each */
	__u32 *cls_of;		     /* [n] rank -> class */
	__u8 *claims;		     /* [ncls] 1 = claims this round */
	__u32 *list;		     /* [n] this round's claimants */
	struct mg_pair *pairs, *tmp; /* [n] each, sort space */
	__u32 n, wmax;
};

/*
 * This round's claimants in rank order from the k classes popped into
 * heap[ncls - k .. ncls): one class's members as they are; many, by a
 * branch-free pass over all ranks; few, sorted.
 */
static const __u32 *mg_claimants(struct mg_rounds *rd, __u32 k, __u32 *count)
{
	__u32 total = 0, c;

	if (k == 1) {
		c = rd->heap[rd->ncls - 1];
		*count = rd->cls[c].count;
		return rd->members + rd->cls[c].first;
	}
	for (__u32 i = rd->ncls - k; i < rd->ncls; i++)
		total += rd->cls[rd->heap[i]].count;
	if (total * 8 >= rd->n) {
		__u32 j = 0;

		for (__u32 i = rd->ncls - k; i < rd->ncls; i++)
			rd->claims[rd->heap[i]] = 1;
		for (__u32 r = 0; r < rd->n; r++) {
			rd->list[j] = r;
			j += rd->claims[rd->cls_of[r]];
		}
		for (__u32 i = rd->ncls - k; i < rd->ncls; i++)
			rd->claims[rd->heap[i]] = 0;
		*count = j;
		return rd->list;
	} else {
		struct mg_pair *sorted;
		__u32 j = 0;

		for (__u32 i = rd->ncls - k; i < rd->ncls; i++) {
			const struct mg_class *x = &rd->cls[rd->heap[i]];

			for (__u32 e = 0; e < x->count; e++, j++)
				rd->pairs[j] = (struct mg_pair){rd->members[x->first + e], 0};
		}
		sorted = mg_sort(rd->pairs, rd->tmp, j);
		for (__u32 i = 0; i < j; i++)
			rd->list[i] = (__u32)sorted[i].key;
		*count = j;
		return rd->list;
	}
}

static void mg_fill(struct mg *g, struct mg_rounds *rd)
{
	__u32 live = rd->ncls;

	for (__u32 c = 0; c < rd->ncls; c++)
		rd->heap[c] = c;
	for (__u32 c = rd->ncls / 2; c-- > 0;)
		mg_heap_down(rd->heap, rd->ncls, rd->cls, c);
	while (g->left) {
		__u64 round = rd->cls[rd->heap[0]].next;
		const __u32 *who;
		__u32 k = 0, count;

		/* Pop the round's classes to the end of the heap array. */
		while (live && rd->cls[rd->heap[0]].next == round) {
			__u32 c = rd->heap[0];

			rd->heap[0] = rd->heap[--live];
			rd->heap[live] = c;
			mg_heap_down(rd->heap, live, rd->cls, 0);
			k++;
		}
		who = mg_claimants(rd, k, &count);
		mg_claim(g, who, count);
		/* Push them back with their next round. */
		for (; k; k--) {
			__u32 i = live++, c = rd->heap[i];

			rd->cls[c].next = mg_next_round(round, rd->cls[c].weight, rd->wmax);
			while (i && rd->cls[rd->heap[(i - 1) / 2]].next > rd->cls[c].next) {
				rd->heap[i] = rd->heap[(i - 1) / 2];
				i = (i - 1) / 2;
			}
			rd->heap[i] = c;
		}
	}
}

static __u32 mg_isqrt(__u32 x)
{
	__u32 r = 1;

	while ((r + 1) * (r + 1) <= x)
		r++;
	return r;
}

int xlb_maglev_build(const struct xlb_maglev_backend *b, size_t n, __u32 m, __u32 *table)
{
	return xlb_maglev_build_keyed(b, n, m, NULL, table);
}

int xlb_maglev_build_keyed(const struct xlb_maglev_backend *b, size_t n, __u32 m,
			   const struct xlb_hash_seed *seed, __u32 *table)
{
	const struct xlb_hash_seed zero = {{0, 0}}, *s = seed ? seed : &zero;
	struct mg g = {.m = m, .left = m, .table = table};
	struct mg_rounds rd = {0};
	struct mg_pair *sorted;
	size_t live = 0, nl;
	int equal = 1;
	char *mem;
	int err = -EINVAL;

	if (!xlb_maglev_size_ok(m) || m < 2)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (b[i].id == XLB_BACKEND_NONE)
			goto empty;
		live += b[i].weight != 0;
	}
	if (!live) {
		err = 0;
		goto empty;
	}
	nl = live;
	g.tail = mg_isqrt(m) / 2; /* < 4096: mg_nearest packs an index in 12 bits */
	/* One block; every part is a multiple of 8 bytes or ends it. */
	mem = malloc(nl * (2 * sizeof(struct mg_pair) + sizeof(struct mg_class) + sizeof(*g.step) +
			   7 * sizeof(__u32)) +
		     (g.tail + 1) * sizeof(__u32) + nl + m);
	if (!mem) {
		err = -ENOMEM;
		goto empty;
	}
	rd.pairs = (struct mg_pair *)mem;
	rd.tmp = rd.pairs + nl;
	rd.cls = (struct mg_class *)(rd.tmp + nl);
	g.step = (__u32(*)[4])(rd.cls + nl);
	g.pos = (__u32 *)(g.step + nl);
	g.id = g.pos + nl;
	rd.heap = g.id + nl;
	rd.members = rd.heap + nl;
	rd.cls_of = rd.members + nl;
	rd.list = rd.cls_of + nl;
	g.free = rd.list + nl;
	rd.claims = (__u8 *)(g.free + g.tail + 1);
	g.used = rd.claims + nl;
	memset(g.used, 0, m);
	memset(rd.claims, 0, nl);

	/* Rank by key: the input order never matters. */
	live = 0;
	for (size_t i = 0; i < n; i++)
		if (b[i].weight)
			rd.pairs[live++] = (struct mg_pair){b[i].key, (__u32)i};
	sorted = mg_sort(rd.pairs, rd.tmp, live);
	for (size_t r = 0; r < live; r++) {
		const struct xlb_maglev_backend *x = &b[sorted[r].val];

		if (r && sorted[r].key == sorted[r - 1].key) {
			free(mem);
			goto empty; /* duplicate identity */
		}
		/* The seed enters before the mix: a bijection of an unknown input. */
		g.pos[r] = (__u32)(xlb_mix64(x->key ^ s->k[0] ^ 0x6f66667365740000ull) % m);
		g.step[r][0] =
			(__u32)(xlb_mix64(x->key ^ s->k[1] ^ 0x736b697000000000ull) % (m - 1)) + 1;
		for (int k = 1; k < 4; k++)
			g.step[r][k] = mg_add(g.step[r][k - 1], g.step[r][0], m);
		g.id[r] = x->id;
	}
	/* Weight classes: ranks grouped by weight, ascending in each (stable sort). */
	for (size_t r = 0; r < live; r++) {
		rd.pairs[r] = (struct mg_pair){b[sorted[r].val].weight, (__u32)r};
		equal &= rd.pairs[r].key == rd.pairs[0].key;
	}
	sorted = equal ? rd.pairs : mg_sort(rd.pairs, rd.tmp, live);
	for (size_t i = 0; i < live; i++) {
		if (!i || sorted[i].key != sorted[i - 1].key)
			rd.cls[rd.ncls++] = (struct mg_class){.weight = (__u32)sorted[i].key,
							      .first = (__u32)i};
		rd.cls[rd.ncls - 1].count++;
		rd.members[i] = sorted[i].val;
		rd.cls_of[sorted[i].val] = rd.ncls - 1;
	}
	rd.n = (__u32)live;
	rd.wmax = rd.cls[rd.ncls - 1].weight;
	for (__u32 c = 0; c < rd.ncls; c++)
		rd.cls[c].next = mg_next_round(0, rd.cls[c].weight, rd.wmax);
	mg_fill(&g, &rd);
	free(mem);
	return 0;
empty:
	for (__u32 i = 0; i < m; i++)
		table[i] = XLB_BACKEND_NONE;
	return err;
}
