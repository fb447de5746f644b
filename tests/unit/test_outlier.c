// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Outlier detection from retransmitted SYNs (user/common/outlier.c) and
 * ejection in the table selection (user/common/health.c). */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "harness.h"
#include "health.h"
#include "outlier.h"
#include "test_unit.h"
#include "xlb_abi.h"

#define NB 50 /* a 10 s window: 50 buckets of 200 ms */
#define BMS 200

struct lab {
	struct xlb_ol_win w[4];
	struct xlb_ol_be b[4];
	struct xlb_ol_verdict v[4];
	size_t n;
	__u64 rng;
};

static void lab_init(struct lab *l, size_t n)
{
	memset(l, 0, sizeof(*l));
	l->n = n;
	l->rng = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < n; i++) {
		xlb_ol_win_init(&l->w[i], NB);
		l->b[i] = (struct xlb_ol_be){.win = &l->w[i], .peer = 1, .judge = 1};
	}
}

static __u32 rnd(struct lab *l, __u32 n)
{
	l->rng ^= l->rng << 13;
	l->rng ^= l->rng >> 7;
	l->rng ^= l->rng << 17;
	return (__u32)(l->rng % n);
}

static size_t judge(struct lab *l)
{
	return xlb_ol_judge(l->b, l->n, 50, 5, BMS, l->v);
}

/* 50 connections a second over three backends: ~3 first SYNs a bucket
 * each; backend 0 goes silent at bucket 0: from bucket 5 (1 s, Linux's
 * first retransmission) its clients send each SYN again. */
static int t_outlier_black_hole_found_within_a_second(void)
{
	struct lab l;
	int found_at = -1;

	lab_init(&l, 3);
	for (int t = 0; t < NB; t++) /* a healthy window before */
		for (size_t i = 0; i < 3; i++)
			xlb_ol_win_push(&l.w[i], 3 + rnd(&l, 2), 0);
	ASSERT_EQ(judge(&l), 0, "healthy: nobody");
	for (int t = 0; t < 30 && found_at < 0; t++) {
		__u32 first0 = 3 + rnd(&l, 2);

		xlb_ol_win_push(&l.w[0], first0, t >= 5 ? 3 : 0);
		for (size_t i = 1; i < 3; i++)
			xlb_ol_win_push(&l.w[i], 3 + rnd(&l, 2), 0);
		if (judge(&l)) {
			ASSERT_EQ(l.v[0].outlier, 1, "the silent one");
			ASSERT_EQ(l.v[1].outlier + l.v[2].outlier, 0, "not its peers");
			found_at = t;
		}
	}
	ASSERT_TRUE(found_at >= 5 && found_at <= 7,
		    "found 0-2 buckets (<= 400 ms) after the first retransmissions, at %d");
	ASSERT_TRUE(l.v[0].ratio_pct >= 50 && l.v[0].peers_pct == 0, "ratio %u peers %u");
	ASSERT_TRUE(l.v[0].span_ms < 2000, "by a short span: %u ms");
	/* The whole window alone would still call it healthy (diluted). */
	__u64 f = 0, r = 0;

	for (int k = 0; k < NB; k++) {
		f += l.w[0].first[k];
		r += l.w[0].retr[k];
	}
	ASSERT_TRUE(r * 100 / f < 50, "the whole window's ratio is below the threshold: %llu/%llu");
	return 0;
}

/* Loss on the clients' side: every backend loses 2% of its SYNs (or
 * SYN-ACKs) at random, for a minute: nobody is ejected. */
static int t_outlier_client_loss_ejects_nobody(void)
{
	struct lab l;

	lab_init(&l, 3);
	for (int t = 0; t < 300; t++) {
		for (size_t i = 0; i < 3; i++) {
			__u32 f = 3 + rnd(&l, 2), r = 0;

			for (__u32 k = 0; k < f; k++)
				r += rnd(&l, 100) < 2;
			xlb_ol_win_push(&l.w[i], f, r);
		}
		ASSERT_EQ(judge(&l), 0, "nobody ejected for loss");
	}
	return 0;
}

/* Everybody retransmits alike (the clients' link, a SYN flood): the peers'
 * rule ejects nobody; one clearly worse than the rest is. */
static int t_outlier_peers_rule(void)
{
	struct lab l;

	lab_init(&l, 3);
	for (int t = 0; t < NB; t++)
		for (size_t i = 0; i < 3; i++)
			xlb_ol_win_push(&l.w[i], 10, 6);
	ASSERT_EQ(judge(&l), 0, "all at 60%: nobody");
	lab_init(&l, 3);
	for (int t = 0; t < NB; t++) {
		xlb_ol_win_push(&l.w[0], 10, 10);
		xlb_ol_win_push(&l.w[1], 10, 5);
		xlb_ol_win_push(&l.w[2], 10, 5);
	}
	ASSERT_EQ(judge(&l), 0, "100% against peers at 50%: not below half");
	lab_init(&l, 3);
	for (int t = 0; t < NB; t++) {
		xlb_ol_win_push(&l.w[0], 10, 10);
		xlb_ol_win_push(&l.w[1], 10, 4);
		xlb_ol_win_push(&l.w[2], 10, 5);
	}
	ASSERT_EQ(judge(&l), 1, "peers pooled at 45%: below half of 100%");
	ASSERT_EQ(l.v[0].peers_pct, 45, "the peers' pooled ratio");
	l.b[1].peer = 0; /* out of service: not a peer */
	ASSERT_EQ(judge(&l), 0, "without it the peers are at 50%");
	lab_init(&l, 4);
	for (int t = 0; t < NB; t++) { /* two of four silent */
		xlb_ol_win_push(&l.w[0], 10, 10);
		xlb_ol_win_push(&l.w[1], 10, 10);
		xlb_ol_win_push(&l.w[2], 10, 0);
		xlb_ol_win_push(&l.w[3], 10, 0);
	}
	ASSERT_EQ(judge(&l), 2, "two silent of four: both (peers pooled at 33%)");
	ASSERT_TRUE(l.v[0].outlier && l.v[1].outlier, "the silent two");
	return 0;
}

static int t_outlier_min_samples_and_judge(void)
{
	struct lab l;

	lab_init(&l, 2);
	xlb_ol_win_push(&l.w[0], 4, 4);
	xlb_ol_win_push(&l.w[1], 4, 0);
	ASSERT_EQ(judge(&l), 0, "4 SYNs: below min_samples 5");
	ASSERT_EQ(l.v[0].ratio_pct, 0, "not judged at all");
	xlb_ol_win_push(&l.w[0], 1, 0);
	xlb_ol_win_push(&l.w[1], 1, 0);
	ASSERT_EQ(judge(&l), 1, "5 SYNs over two buckets, 4 retransmitted");
	ASSERT_EQ(l.v[0].ratio_pct, 80, "80%");
	ASSERT_EQ(l.v[0].span_ms, 2 * BMS, "over two buckets");
	ASSERT_EQ(l.v[0].first, 5, "its counts over that span");
	ASSERT_EQ(l.v[0].retr, 4, "its counts over that span");
	l.b[0].judge = 0; /* ejected already */
	ASSERT_EQ(judge(&l), 0, "not judged again while ejected");
	ASSERT_EQ(xlb_ol_judge(l.b, 2, 90, 5, BMS, l.v), 0, "below a 90% threshold");
	return 0;
}

static int t_outlier_window_and_counts(void)
{
	struct xlb_ol_win w;
	__u32 nb, bms;

	xlb_ol_geometry(10000, &nb, &bms);
	ASSERT_TRUE(nb == 50 && bms == 200, "10 s: 50 x 200 ms (%u x %u)");
	xlb_ol_geometry(1000, &nb, &bms);
	ASSERT_TRUE(nb == 5 && bms == 200, "1 s: 5 x 200 ms (%u x %u)");
	xlb_ol_geometry(60000, &nb, &bms);
	ASSERT_TRUE(nb == 50 && bms == 1200, "60 s: 50 x 1.2 s (%u x %u)");
	xlb_ol_win_init(&w, 5);
	for (int t = 0; t < 5; t++)
		xlb_ol_win_push(&w, 10, 10);
	for (int t = 0; t < 5; t++) /* the old buckets leave the window */
		xlb_ol_win_push(&w, 10, 0);
	for (int k = 0; k < 5; k++)
		ASSERT_EQ(w.retr[k], 0, "the old buckets slid out");
	ASSERT_EQ(xlb_ol_first_syns(10, 0, 0), 10, "no retries");
	ASSERT_EQ(xlb_ol_first_syns(10, 4, 4), 10, "retries sent elsewhere: all first");
	ASSERT_EQ(xlb_ol_first_syns(10, 4, 0), 6, "same-backend: 4 of 10 were retries");
	ASSERT_EQ(xlb_ol_first_syns(2, 4, 0), 0, "never below 0");
	ASSERT_EQ(xlb_ol_cap(3, 50), 1, "3 backends, 50%: one");
	ASSERT_EQ(xlb_ol_cap(1, 50), 0, "never the only one");
	ASSERT_EQ(xlb_ol_cap(10, 100), 10, "100%: all");
	ASSERT_EQ(xlb_ol_ejection_ms(30000, 300000, 1), 30000, "first: base");
	ASSERT_EQ(xlb_ol_ejection_ms(30000, 300000, 3), 90000, "third in a row: 3 x base");
	ASSERT_EQ(xlb_ol_ejection_ms(30000, 300000, 100), 300000, "at most max");
	return 0;
}

#define EN XLB_ADMIN_ENABLED
#define UP XLB_HEALTH_UP
#define DN XLB_HEALTH_DOWN

static int t_select_ejected(void)
{
	struct xlb_hsel_in in[3] = {
		{EN, UP, 0, 1, 0, 1},
		{EN, UP, 0, 1, 0, 0},
		{EN, UP, 0, 1, 0, 0},
	};
	const struct xlb_hsel_vip vip = {0, 0}, panic = {50, 0};
	struct xlb_hsel_out out[3];

	ASSERT_EQ(xlb_health_select(&panic, in, out, 3, 0), 0, "no panic: ejected counts usable");
	ASSERT_TRUE(out[0].weight == 0 && out[0].state == XLB_BE_DRAINING,
		    "ejected: out of the table, its flows stay (%u %u)");
	ASSERT_TRUE(out[1].weight == 1 && out[1].state == XLB_BE_ACTIVE, "the others serve");
	in[1].health = in[2].health = DN;
	xlb_health_select(&vip, in, out, 3, 0);
	ASSERT_TRUE(out[0].weight == 1 && out[0].state == XLB_BE_ACTIVE,
		    "the others down: the ejected one is put back (%u %u)");
	in[0].health = DN;
	xlb_health_select(&vip, in, out, 3, 0);
	ASSERT_EQ(out[0].state, XLB_BE_DOWN, "ejected and down: DOWN");
	in[0].health = UP;
	in[0].admin = XLB_ADMIN_DRAIN;
	xlb_health_select(&vip, in, out, 3, 0);
	ASSERT_TRUE(out[0].weight == 0 && out[0].state == XLB_BE_DRAINING,
		    "drained by the operator: stays out even when alone");
	return 0;
}

/* The judgement as first written (each span summed from the buckets, per
 * backend and again for the pool): the one-pass version must agree. */
static void ref_sum(const struct xlb_ol_win *w, __u32 span, __u64 *f, __u64 *r)
{
	*f = *r = 0;
	for (__u32 k = 0; k < span && k < w->nb; k++) {
		__u32 at = (w->head + w->nb - k) % w->nb;

		*f += w->first[at];
		*r += w->retr[at];
	}
}

static __u32 ref_pct(__u64 num, __u64 den)
{
	return !den ? (num ? 100 : 0) : num >= den ? 100 : (__u32)(num * 100 / den);
}

static void ref_judge(const struct xlb_ol_be *b, size_t n, __u32 thr, __u32 min,
		      struct xlb_ol_verdict *out)
{
	__u32 nb = 0;

	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		nb = b[i].win->nb > nb ? b[i].win->nb : nb;
	}
	for (__u32 span = 1; span; span = span >= nb ? 0 : span * 2 < nb ? span * 2 : nb) {
		__u64 pf = 0, pr = 0, f, r;

		for (size_t i = 0; i < n; i++)
			if (b[i].peer) {
				ref_sum(b[i].win, span, &f, &r);
				pf += f;
				pr += r;
			}
		for (size_t i = 0; i < n; i++) {
			__u32 ratio, peers;

			if (out[i].outlier || !b[i].judge)
				continue;
			ref_sum(b[i].win, span, &f, &r);
			if (f < min)
				continue;
			ratio = ref_pct(r, f);
			peers = b[i].peer ? ref_pct(pr - r, pf - f) : ref_pct(pr, pf);
			if (ratio < out[i].ratio_pct)
				continue;
			out[i] = (struct xlb_ol_verdict){
				ratio >= thr && peers * 2 < ratio, ratio, peers, span * BMS, f, r};
		}
	}
}

/* Random windows (lengths differing after a window change), flags and
 * thresholds: verdicts identical to the reference, field by field. */
static int t_outlier_judge_matches_reference(void)
{
	struct lab l;
	struct xlb_ol_verdict want[4];

	lab_init(&l, 4);
	for (int round = 0; round < 2000; round++) {
		__u32 thr = 10 + rnd(&l, 90), min = 1 + rnd(&l, 8);

		for (size_t i = 0; i < 4; i++) {
			xlb_ol_win_init(&l.w[i], 1 + rnd(&l, round % 3 ? NB : 9));
			for (__u32 t = rnd(&l, 2 * NB); t; t--) {
				__u32 f = rnd(&l, 6);

				xlb_ol_win_push(&l.w[i], f, rnd(&l, 3) ? rnd(&l, f + 2) : 0);
			}
			l.b[i].peer = rnd(&l, 4) != 0;
			l.b[i].judge = rnd(&l, 4) != 0;
		}
		ref_judge(l.b, 4, thr, min, want);
		xlb_ol_judge(l.b, 4, thr, min, BMS, l.v);
		for (size_t i = 0; i < 4; i++)
			if (memcmp(&want[i], &l.v[i], sizeof(want[i]))) {
				fprintf(stderr,
					"round %d backend %zu: outlier %u/%u ratio %u/%u peers "
					"%u/%u span %u/%u\n",
					round, i, l.v[i].outlier, want[i].outlier, l.v[i].ratio_pct,
					want[i].ratio_pct, l.v[i].peers_pct, want[i].peers_pct,
					l.v[i].span_ms, want[i].span_ms);
				return -1;
			}
	}
	return 0;
}

const struct harness_case outlier_cases[] = {
	{"outlier_black_hole_found_within_a_second", t_outlier_black_hole_found_within_a_second},
	{"outlier_client_loss_ejects_nobody", t_outlier_client_loss_ejects_nobody},
	{"outlier_peers_rule", t_outlier_peers_rule},
	{"outlier_min_samples_and_judge", t_outlier_min_samples_and_judge},
	{"outlier_window_and_counts", t_outlier_window_and_counts},
	{"select_ejected", t_select_ejected},
	{"outlier_judge_matches_reference", t_outlier_judge_matches_reference},
};
const size_t outlier_ncases = sizeof(outlier_cases) / sizeof(outlier_cases[0]);
