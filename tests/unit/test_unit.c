// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of pure logic (no BPF, no root): the Maglev table builder, the
 * flow hash (here), the configuration (test_config.c) and xlbd's state
 * file (test_state.c, with user/xlbd/state.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test_unit.h"
#include "maglev.h"
#include "maglev_ref.h"
#include "xlb_hash.h"

#define M XLB_DEFAULT_TABLE_SIZE
#define PIN_FLOW 0x6cd2a917u
#define PIN_SRC 0x6701742fu

static __u32 *table_a, *table_b;

static void mk_backends(struct xlb_maglev_backend *b, int n, int first_id)
{
	char name[32];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "10.%d.%d.%d:80", (first_id + i) >> 16,
			 ((first_id + i) >> 8) & 0xff, (first_id + i) & 0xff);
		b[i] = (struct xlb_maglev_backend){
			.key = xlb_maglev_key(name), .id = (__u32)(first_id + i), .weight = 1};
	}
}

static void count(const __u32 *t, __u32 m, __u32 *cnt, __u32 ncnt)
{
	memset(cnt, 0, ncnt * sizeof(*cnt));
	for (__u32 i = 0; i < m; i++)
		if (t[i] < ncnt)
			cnt[t[i]]++;
}

static int t_equal_weights_floor_or_ceil(void)
{
	static const int ns[] = {1, 2, 3, 7, 10, 100, 333, 1000};
	struct xlb_maglev_backend b[1000];
	static __u32 cnt[1001];

	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		int n = ns[k];

		mk_backends(b, n, 1);
		ASSERT_OK(xlb_maglev_build(b, (size_t)n, M, table_a), "build");
		count(table_a, M, cnt, 1001);
		ASSERT_EQ(cnt[0], 0, "no empty slot");
		for (int i = 1; i <= n; i++) {
			ASSERT_TRUE(cnt[i] == M / (__u32)n ||
					    cnt[i] == (M + (__u32)n - 1) / (__u32)n,
				    "every backend holds floor(M/N) or ceil(M/N) slots");
		}
	}
	return 0;
}

static int t_unequal_weights_proportional(void)
{
	static const int ns[] = {2, 5, 10, 100, 1000};
	struct xlb_maglev_backend b[1000];
	static __u32 cnt[1001];

	srand(7);
	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		int n = ns[k];
		double sum = 0;

		mk_backends(b, n, 1);
		for (int i = 0; i < n; i++) {
			b[i].weight = 1 + (__u32)(rand() % 100);
			sum += b[i].weight;
		}
		ASSERT_OK(xlb_maglev_build(b, (size_t)n, M, table_a), "build");
		count(table_a, M, cnt, 1001);
		for (int i = 0; i < n; i++) {
			double want = (double)M * b[i].weight / sum;
			double tol = want * 0.01 > 2 ? want * 0.01 : 2;
			double got = cnt[b[i].id];

			if (got < want - tol || got > want + tol) {
				harness_fail(
					__FILE__, __LINE__,
					"N=%d backend %d weight %u: %.0f slots, want %.1f +- %.1f",
					n, i, b[i].weight, got, want, tol);
				return -1;
			}
		}
	}
	return 0;
}

static int t_weight_zero_out_of_table(void)
{
	struct xlb_maglev_backend b[3];
	__u32 cnt[4];

	mk_backends(b, 3, 1);
	b[1].weight = 0;
	ASSERT_OK(xlb_maglev_build(b, 3, 251, table_a), "build");
	count(table_a, 251, cnt, 4);
	ASSERT_EQ(cnt[2], 0, "weight 0 holds no slot");
	ASSERT_EQ(cnt[1] + cnt[3], 251, "the others hold every slot");
	b[0].weight = b[2].weight = 0;
	ASSERT_OK(xlb_maglev_build(b, 3, 251, table_a), "build all zero");
	count(table_a, 251, cnt, 4);
	ASSERT_EQ(cnt[0], 251, "all weights 0: every slot empty");
	ASSERT_OK(xlb_maglev_build(NULL, 0, 251, table_a), "build none");
	count(table_a, 251, cnt, 4);
	ASSERT_EQ(cnt[0], 251, "no backends: every slot empty");
	return 0;
}

/*
 * Removing 1% of 1000 backends: their own slots (1% of the table) must move;
 * what matters to live flows is how many slots move between backends that
 * stay. The Maglev paper's 2.3% at M=65537 is that collateral figure; the
 * textbook algorithm reproduces it (2.3-2.4%). Asserted: collateral <= 3%.
 */
static int t_removing_one_percent_disrupts_little(void)
{
	struct xlb_maglev_backend b[1000];
	__u32 changed = 0, collateral = 0;
	int removed[1001] = {0};

	mk_backends(b, 1000, 1);
	ASSERT_OK(xlb_maglev_build(b, 1000, M, table_a), "build 1000");
	for (int i = 0; i < 10; i++) {
		b[i * 97].weight = 0;
		removed[b[i * 97].id] = 1;
	}
	ASSERT_OK(xlb_maglev_build(b, 1000, M, table_b), "build 990");
	for (__u32 i = 0; i < M; i++) {
		if (table_a[i] == table_b[i])
			continue;
		changed++;
		collateral += !removed[table_a[i]];
		ASSERT_TRUE(!removed[table_b[i]], "no slot names a removed backend");
	}
	printf("    removing 10 of 1000 backends: %.2f%% of %u slots changed, "
	       "%.2f%% between remaining backends\n",
	       100.0 * changed / M, (unsigned int)M, 100.0 * collateral / M);
	ASSERT_TRUE(collateral <= M * 3 / 100, "at most 3% moved between remaining backends");
	ASSERT_TRUE(changed <= M * 4 / 100, "at most 4% changed in all");
	return 0;
}

static int t_order_does_not_matter(void)
{
	struct xlb_maglev_backend b[100], shuffled[100];

	mk_backends(b, 100, 1);
	for (int i = 0; i < 100; i++)
		b[i].weight = 1 + i % 5;
	memcpy(shuffled, b, sizeof(b));
	srand(3);
	for (int i = 99; i > 0; i--) {
		int j = rand() % (i + 1);
		struct xlb_maglev_backend t = shuffled[i];

		shuffled[i] = shuffled[j];
		shuffled[j] = t;
	}
	ASSERT_OK(xlb_maglev_build(b, 100, M, table_a), "build");
	ASSERT_OK(xlb_maglev_build(shuffled, 100, M, table_b), "build shuffled");
	ASSERT_TRUE(!memcmp(table_a, table_b, M * sizeof(__u32)), "byte-identical tables");
	return 0;
}

/*
 * Pinned table: load balancers of different releases behind one ECMP group
 * must build the same table. A change here moves flows between hosts.
 */
static int t_table_is_stable_across_releases(void)
{
	struct xlb_maglev_backend b[5];
	__u64 h = 0xcbf29ce484222325ull;

	mk_backends(b, 5, 1);
	b[3].weight = 3;
	ASSERT_OK(xlb_maglev_build(b, 5, M, table_a), "build");
	for (__u32 i = 0; i < M; i++) {
		h ^= table_a[i];
		h *= 0x100000001b3ull;
	}
	ASSERT_EQ(h, 0x70f9bec90716e16eull, "FNV-1a of the table");
	return 0;
}

/*
 * Pinned tables over the builder's whole input space: one digest per
 * (backends, weights, size, seed). Every load balancer of a fleet and every
 * release during a rolling upgrade must build these same tables, or flows
 * move: a faster builder must reproduce them bit for bit. The digests were
 * computed by the builder of 2026-12 (byte map, four probes per step).
 */
enum pin_w {
	PIN_EQ,
	PIN_RAND100,
	PIN_ONE_HEAVY,
	PIN_HUGE,
	PIN_SOME_ZERO,
	PIN_FEW_HEAVY
};

static const struct pin_case {
	__u32 n, m;
	enum pin_w w;
	int keyed;
	__u64 digest;
} pin_cases[] = {
	{1, 251, PIN_EQ, 0, 0xd5f475de051069caull},
	{1, 65537, PIN_EQ, 1, 0x40dffb4c7d10b62cull},
	{2, 251, PIN_EQ, 0, 0xc0fbe0e442c444e8ull},
	{3, 251, PIN_HUGE, 0, 0x8e7c6128f0304764ull},
	{250, 251, PIN_EQ, 0, 0xad46d9f8c7485b7aull},
	{251, 251, PIN_RAND100, 0, 0x9d686640c7237ed4ull},
	{300, 251, PIN_EQ, 1, 0x90d32c460a5ac489ull},
	{1000, 251, PIN_SOME_ZERO, 0, 0x250975642e79b8c8ull},
	{5000, 4093, PIN_RAND100, 1, 0x79411363b4d65528ull},
	{10, 65537, PIN_RAND100, 0, 0xac9f6012911bcb4full},
	{100, 65537, PIN_EQ, 1, 0x108978ece31fc8e0ull},
	{1000, 65537, PIN_EQ, 0, 0x4e933700fe592adcull},
	{1000, 65537, PIN_EQ, 1, 0x7eb4c2a89a1da00cull},
	{1000, 65537, PIN_RAND100, 1, 0xee703837e36d60f1ull},
	{1000, 65537, PIN_ONE_HEAVY, 0, 0xcab588cf28dc9c24ull},
	{1000, 65537, PIN_SOME_ZERO, 1, 0x141cff59f331ed18ull},
	{1000, 65537, PIN_FEW_HEAVY, 1, 0x693a9982e80a2db4ull},
	{10000, 65537, PIN_RAND100, 1, 0x9ecd552561f3c175ull},
	{65536, 65537, PIN_EQ, 0, 0x232e30bdd946df4full},
	{17, 131071, PIN_HUGE, 1, 0x41dd6a628570e971ull},
	{1000, 655373, PIN_EQ, 1, 0x11720595f7ea9b2bull},
	{3000, 655373, PIN_RAND100, 0, 0x1207fccbe5c94365ull},
};

static __u32 pin_weight(enum pin_w w, __u32 i)
{
	__u64 r = xlb_mix64(0x77656967687400ull + i);

	switch (w) {
	case PIN_RAND100:
		return 1 + (__u32)(r % 100);
	case PIN_ONE_HEAVY:
		return i == 7 ? 50 : 1;
	case PIN_HUGE: /* credit beyond 32 bits */
		return i % 3 == 0 ? 0xffffffffu : i % 3 == 1 ? 1 : 0x80000001u;
	case PIN_SOME_ZERO:
		return r % 4 == 0 ? 0 : 1 + (__u32)(r % 3);
	case PIN_FEW_HEAVY: /* rounds where a few classes claim */
		return i % 97 == 0 ? 1000 + i : 1;
	default:
		return 1;
	}
}

static int t_tables_are_pinned(void)
{
	const struct xlb_hash_seed seed = {{0x0123456789abcdefull, 0xfedcba9876543210ull}};
	struct xlb_maglev_backend *b = calloc(65536, sizeof(*b));
	__u32 *t = calloc(XLB_MAX_TABLE_SIZE, sizeof(*t));
	int bad = 0;

	if (!b || !t) {
		free(b);
		free(t);
		harness_fail(__FILE__, __LINE__, "couldn't allocate the backends and the table");
		return -1;
	}
	mk_backends(b, 65536, 1);
	for (size_t k = 0; k < sizeof(pin_cases) / sizeof(pin_cases[0]); k++) {
		const struct pin_case *c = &pin_cases[k];
		__u64 h = 0xcbf29ce484222325ull;
		int err;

		for (__u32 i = 0; i < c->n; i++)
			b[i].weight = pin_weight(c->w, i);
		err = xlb_maglev_build_keyed(b, c->n, c->m, c->keyed ? &seed : NULL, t);
		for (__u32 i = 0; i < c->m; i++) {
			h ^= t[i];
			h *= 0x100000001b3ull;
		}
		if (err || h != c->digest) {
			harness_fail(__FILE__, __LINE__,
				     "N=%u M=%u weights %d keyed %d: error %d, digest 0x%016llx, "
				     "want 0x%016llx",
				     c->n, c->m, (int)c->w, c->keyed, err, (unsigned long long)h,
				     (unsigned long long)c->digest);
			bad = 1;
		}
	}
	free(b);
	free(t);
	return bad ? -1 : 0;
}

static __u64 book_rng(__u64 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * Property: on random inputs (sizes, N from 1 to beyond M, weights equal,
 * random, huge, zero, a few heavy ones, seeds, now and then a duplicate key
 * or id 0) the builder returns what the book's algorithm returns, table
 * and error alike (tests/unit/maglev_ref.c).
 */
static int t_same_table_as_the_book(void)
{
	struct xlb_maglev_backend *b = calloc(20000, sizeof(*b));
	__u32 *t = calloc(XLB_MAX_TABLE_SIZE, sizeof(*t)), *want = calloc(XLB_MAX_TABLE_SIZE, 4);
	__u64 x = 0x9e3779b97f4a7c15ull;
	int bad = 0;

	if (!b || !t || !want) {
		free(b);
		free(t);
		free(want);
		harness_fail(__FILE__, __LINE__, "couldn't allocate the backends and the tables");
		return -1;
	}
	for (int k = 0; k < 60 && !bad; k++) {
		__u32 m = xlb_maglev_sizes[book_rng(&x) % (k % 15 ? 9 : xlb_maglev_nsizes)];
		__u64 form = book_rng(&x) % 5, wk = book_rng(&x) % 7;
		size_t n = form == 0   ? 1 + book_rng(&x) % 3
			   : form == 1 ? 1 + book_rng(&x) % 100
			   : form == 2 ? 1 + book_rng(&x) % 2000
			   : form == 3 ? m - 2 + book_rng(&x) % 5
				       : 1 + book_rng(&x) % (2 * m);
		const struct xlb_hash_seed seed = {{book_rng(&x), book_rng(&x)}};
		double sum = 0, wmax = 0;
		int e1, e2;

		n = n > 20000 ? 20000 : n;
		mk_backends(b, (int)n, 1);
		for (size_t i = 0; i < n; i++) {
			__u64 r = book_rng(&x);

			b[i].weight = wk == 0	? 1
				      : wk == 1 ? 1 + (__u32)(r % 100)
				      : wk == 2 ? (__u32)r
				      : wk == 3 ? (__u32)(r % 4)
				      : wk == 4 ? (i % 97 == 0 ? 1000 + (__u32)i : 1)
				      : wk == 5 ? (i == n / 2 ? 65535 : 1)
						: 7;
		}
		/* The book visits every backend each round: keep its work bounded. */
		for (size_t i = 0; i < n; i++) {
			sum += b[i].weight;
			wmax = b[i].weight > wmax ? b[i].weight : wmax;
		}
		if (sum && (double)m * wmax / sum * n > 2e6)
			for (size_t i = 0; i < n; i++)
				b[i].weight = 1;
		if (n > 1 && k % 31 == 7)
			b[n - 1].key = b[0].key;
		if (k % 37 == 11)
			b[n / 2].id = XLB_BACKEND_NONE;
		e1 = maglev_ref_build(b, n, m, k & 1 ? &seed : NULL, want);
		e2 = xlb_maglev_build_keyed(b, n, m, k & 1 ? &seed : NULL, t);
		if (e1 != e2 || memcmp(t, want, m * sizeof(*t))) {
			harness_fail(
				__FILE__, __LINE__,
				"input %d: N=%zu M=%u weights %d: error %d, want %d; tables %s", k,
				n, m, (int)wk, e2, e1,
				memcmp(t, want, m * sizeof(*t)) ? "differ" : "agree");
			bad = 1;
		}
	}
	free(b);
	free(t);
	free(want);
	return bad ? -1 : 0;
}

static int t_rejects_bad_input(void)
{
	struct xlb_maglev_backend b[2];

	mk_backends(b, 2, 1);
	ASSERT_EQ(xlb_maglev_build(b, 2, 65536, table_a), -EINVAL, "size not prime");
	ASSERT_EQ(xlb_maglev_build(b, 2, 257, table_a), -EINVAL, "prime not in the list");
	b[1].key = b[0].key;
	ASSERT_EQ(xlb_maglev_build(b, 2, 251, table_a), -EINVAL, "duplicate identity");
	mk_backends(b, 2, 1);
	b[0].id = XLB_BACKEND_NONE;
	ASSERT_EQ(xlb_maglev_build(b, 2, 251, table_a), -EINVAL, "id 0 is reserved");
	for (size_t i = 0; i < xlb_maglev_nsizes; i++)
		ASSERT_TRUE(xlb_maglev_size_ok(xlb_maglev_sizes[i]), "listed sizes accepted");
	return 0;
}

/* Pinned values: a change here moves live flows between ECMP'd hosts. */
static int t_flow_hash_is_stable(void)
{
	const struct xlb_hash_seed seed = {{0x0011223344556677ull, 0x8899aabbccddeeffull}};
	struct xlb_flow_key k = {.sport = 0x3930, .dport = 0x5000, .proto = 6};

	k.saddr.w[2] = k.daddr.w[2] = 0xffff0000;
	k.saddr.w[3] = 0x010200c0; /* 192.0.2.1 in memory order */
	k.daddr.w[3] = 0x0a00000a; /* 10.0.0.10 */
	ASSERT_EQ(xlb_hash_flow(&k, &seed), PIN_FLOW, "5-tuple hash of a fixed flow");
	ASSERT_EQ(xlb_hash_src(&k.saddr, &seed), PIN_SRC, "source hash of a fixed address");
	ASSERT_EQ(xlb_hash_slot(0xffffffffu, 65537), 65536, "slot of the largest hash");
	ASSERT_EQ(xlb_hash_slot(0, 65537), 0, "slot of hash 0");
	return 0;
}

/* Another seed, other slots: a client cannot compute them without the seed. */
static int t_seed_changes_slots(void)
{
	const struct xlb_hash_seed a = {{1, 2}}, b = {{1, 3}}, c = {{0x100000000ull, 2}};
	struct xlb_flow_key k = {.dport = 0x5000, .proto = 6};
	int same_b = 0, same_c = 0, same_src = 0;

	k.saddr.w[2] = k.daddr.w[2] = 0xffff0000;
	k.daddr.w[3] = 0x0a00000a;
	for (__u32 i = 0; i < 1000; i++) {
		__u32 sa, sb, sc;

		k.saddr.w[3] = 0x010200c0 + (i << 24);
		k.sport = (__be16)(1024 + i);
		sa = xlb_hash_slot(xlb_hash_flow(&k, &a), M);
		sb = xlb_hash_slot(xlb_hash_flow(&k, &b), M);
		sc = xlb_hash_slot(xlb_hash_flow(&k, &c), M);
		same_b += sa == sb;
		same_c += sa == sc;
		same_src += xlb_hash_slot(xlb_hash_src(&k.saddr, &a), M) ==
			    xlb_hash_slot(xlb_hash_src(&k.saddr, &b), M);
	}
	/* Independent slots agree 1000/65537 times on average: 0 or 1. */
	ASSERT_TRUE(same_b <= 2, "a different high seed word gives different slots");
	ASSERT_TRUE(same_c <= 2, "a different low seed word gives different slots");
	ASSERT_TRUE(same_src <= 2, "the source hash depends on the seed too");
	return 0;
}

/* Another seed, another table; the same seed, the same table. */
static int t_seed_changes_table(void)
{
	const struct xlb_hash_seed a = {{1, 2}}, b = {{1, 3}};
	struct xlb_maglev_backend be[8];
	__u32 moved = 0;

	mk_backends(be, 8, 1);
	ASSERT_OK(xlb_maglev_build_keyed(be, 8, M, &a, table_a), "build seed a");
	ASSERT_OK(xlb_maglev_build_keyed(be, 8, M, &a, table_b), "build seed a again");
	ASSERT_TRUE(!memcmp(table_a, table_b, M * sizeof(__u32)), "same seed, same table");
	ASSERT_OK(xlb_maglev_build_keyed(be, 8, M, &b, table_b), "build seed b");
	for (__u32 i = 0; i < M; i++)
		moved += table_a[i] != table_b[i];
	/* Unrelated tables of 8 backends differ in about 7/8 of the slots. */
	ASSERT_TRUE(moved > M / 2, "another seed permutes the slots anew");
	ASSERT_OK(xlb_maglev_build(be, 8, M, table_b), "build unkeyed");
	ASSERT_OK(xlb_maglev_build_keyed(be, 8, M, NULL, table_a), "build with a NULL seed");
	ASSERT_TRUE(!memcmp(table_a, table_b, M * sizeof(__u32)), "NULL is the zero seed");
	return 0;
}

/*
 * The XOR fold gave a ^ (0,0,x,x) the fold of a for every x: one /64 held
 * 2^32 addresses hashing alike. The multiply fold keeps them apart.
 */
static int t_ipv6_fold_does_not_collide(void)
{
	const struct xlb_hash_seed seed = {{0x0011223344556677ull, 0x8899aabbccddeeffull}};
	union xlb_addr a = {.w = {0x00000120, 0x0000b80d, 0x11111111, 0x22222222}}, b = a;
	__u32 h = xlb_hash_src(&a, &seed), same_hash = 0, same_fold = 0;

	for (__u32 x = 1; x <= 100000; x++) {
		b.w[2] = a.w[2] ^ (x * 0x9e3779b1u);
		b.w[3] = a.w[3] ^ (x * 0x9e3779b1u);
		ASSERT_EQ(a.w[0] ^ a.w[1] ^ a.w[2] ^ a.w[3], b.w[0] ^ b.w[1] ^ b.w[2] ^ b.w[3],
			  "the XOR fold of both is the same");
		same_fold += xlb_hash_fold(&a, &seed) == xlb_hash_fold(&b, &seed);
		same_hash += xlb_hash_src(&b, &seed) == h;
	}
	ASSERT_EQ(same_fold, 0, "inside one /64 the fold is injective");
	ASSERT_TRUE(same_hash <= 1, "source hashes collide no more than at random");
	return 0;
}

#define CASE(fn)                                                                                   \
	{                                                                                          \
		&(#fn)[2], fn                                                                      \
	}

static const struct harness_case cases[] = {
	CASE(t_equal_weights_floor_or_ceil), CASE(t_unequal_weights_proportional),
	CASE(t_weight_zero_out_of_table),    CASE(t_removing_one_percent_disrupts_little),
	CASE(t_order_does_not_matter),	     CASE(t_table_is_stable_across_releases),
	CASE(t_tables_are_pinned),	     CASE(t_same_table_as_the_book),
	CASE(t_rejects_bad_input),	     CASE(t_flow_hash_is_stable),
	CASE(t_seed_changes_slots),	     CASE(t_seed_changes_table),
	CASE(t_ipv6_fold_does_not_collide),
};

int main(int argc, char **argv)
{
	int rc;

	table_a = calloc(M, sizeof(__u32));
	table_b = calloc(M, sizeof(__u32));
	if (!table_a || !table_b)
		return 1;
	rc = harness_run("test-unit maglev", cases, sizeof(cases) / sizeof(cases[0]),
			 argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit config", config_cases, config_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit strbuf", strbuf_cases, strbuf_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit metrics", metrics_cases, metrics_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit vipname", vipname_cases, vipname_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit diff", diff_cases, diff_ncases, argc > 1 ? argv[1] : NULL,
			  NULL, NULL);
	rc |= harness_run("test-unit health", health_cases, health_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit outlier", outlier_cases, outlier_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit ejection", ejection_cases, ejection_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit sync", sync_cases, sync_ncases, argc > 1 ? argv[1] : NULL,
			  sync_setup, sync_teardown);
	rc |= harness_run("test-unit handover", handover_cases, handover_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit digest", digest_cases, digest_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit fleet", fleet_cases, fleet_ncases, argc > 1 ? argv[1] : NULL,
			  NULL, NULL);
	rc |= harness_run("test-unit seed", seed_cases, seed_ncases, argc > 1 ? argv[1] : NULL,
			  NULL, NULL);
	rc |= harness_run("test-unit probe", probe_cases, probe_ncases, argc > 1 ? argv[1] : NULL,
			  probe_setup, probe_teardown);
	rc |= harness_run("test-unit probe tcp", probe_tcp_cases, probe_tcp_ncases,
			  argc > 1 ? argv[1] : NULL, probe_tcp_setup, probe_tcp_teardown);
	rc |= harness_run("test-unit prober", prober_cases, prober_ncases,
			  argc > 1 ? argv[1] : NULL, prober_setup, prober_teardown);
	rc |= harness_run("test-unit probe ring", probe_ring_cases, probe_ring_ncases,
			  argc > 1 ? argv[1] : NULL, probe_ring_setup, probe_ring_teardown);
	rc |= harness_run("test-unit probe syn", probe_syn_cases, probe_syn_ncases,
			  argc > 1 ? argv[1] : NULL, probe_syn_setup, probe_syn_teardown);
	rc |= harness_run("test-unit state", state_cases, state_ncases, argc > 1 ? argv[1] : NULL,
			  state_setup, state_teardown);
	rc |= harness_run("test-unit procfs", procfs_cases, procfs_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit announce", announce_cases, announce_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit routes", routes_cases, routes_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit nexthop", nexthop_cases, nexthop_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit beat", beat_cases, beat_ncases, argc > 1 ? argv[1] : NULL,
			  NULL, NULL);
	rc |= harness_run("test-unit silence", silence_cases, silence_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	rc |= harness_run("test-unit jsonw", jsonw_cases, jsonw_ncases, argc > 1 ? argv[1] : NULL,
			  NULL, NULL);
	rc |= harness_run("test-unit ctlconn", ctlconn_cases, ctlconn_ncases,
			  argc > 1 ? argv[1] : NULL, NULL, NULL);
	free(table_a);
	free(table_b);
	return rc;
}
