// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbd's outlier ejection (user/xlbd/ejection.c) over a made-up data plane:
 * a sync view built by hand, SYN and VIP counters the test moves, ticks at
 * the agent's 200 ms. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "checks.h"
#include "ejection.h"
#include "events.h"
#include "harness.h"
#include "test_unit.h"
#include "maglev.h"

#define EJ_VIPS 3 /* 0 and 1: outlier on; 2: off */
#define EJ_BES 4  /* backends a VIP */
#define EJ_TICK 200

/* ejection.c asks the checks; the VIPs here have none (type none). */
int checks_check_now(struct checks *c, const struct xlb_cfg_vip *v, const struct xlb_cfg_backend *b,
		     __u64 hurry_till_ms)
{
	(void)c;
	(void)v;
	(void)b;
	(void)hurry_till_ms;
	return -ENOENT;
}

void checks_view(struct checks *c, const struct xlb_cfg_vip *v, const struct xlb_cfg_backend *b,
		 struct check_view *out)
{
	(void)c;
	(void)v;
	(void)b;
	memset(out, 0, sizeof(*out));
}

struct world {
	struct agent ag;
	struct xlb_sync *s;
	struct xlb_sync_vip vips[EJ_VIPS];
	struct xlb_sync_backend be[EJ_VIPS][EJ_BES];
	struct xlb_backend_syn_stats syn[EJ_VIPS * EJ_BES];
	struct xlb_vip_stats vst[EJ_VIPS];
	unsigned int syn_reads, vip_reads;
	__u64 now;
};

static int w_syn(void *ctx, const __u32 *ids, size_t n, struct xlb_backend_syn_stats *out)
{
	struct world *w = ctx;

	w->syn_reads++;
	for (size_t i = 0; i < n; i++)
		out[i] = ids[i] < EJ_VIPS * EJ_BES ? w->syn[ids[i]]
						   : (struct xlb_backend_syn_stats){};
	return 0;
}

static int w_vip(void *ctx, const __u32 *ids, size_t n, struct xlb_vip_stats *out)
{
	struct world *w = ctx;

	w->vip_reads++;
	for (size_t i = 0; i < n; i++)
		out[i] = ids[i] < EJ_VIPS ? w->vst[ids[i]] : (struct xlb_vip_stats){};
	return 0;
}

/* Static: an assertion's early return leaves it reachable, not leaked (the
 * next w_init() frees what it holds). */
static struct world the_world;

static int w_init(struct world *w)
{
	outliers_free(w->ag.outliers);
	events_free(w->ag.events);
	free(w->s);
	memset(w, 0, sizeof(*w));
	w->s = calloc(1, sizeof(*w->s));
	w->ag.events = events_new();
	if (!w->s || !w->ag.events)
		return -ENOMEM;
	for (__u32 v = 0; v < EJ_VIPS; v++) {
		struct xlb_sync_vip *sv = &w->vips[v];

		sv->id = v;
		sv->cfg.family = XLB_AF_INET;
		sv->cfg.addr.w[2] = htonl(0xffff);
		sv->cfg.addr.w[3] = htonl(0x0a000001 + v);
		sv->cfg.port = 80;
		sv->cfg.proto = IPPROTO_TCP;
		sv->cfg.check.type = XLB_CHECK_NONE;
		sv->cfg.outlier.state = v == 2 ? XLB_OUTLIER_OFF : XLB_OUTLIER_ON;
		sv->cfg.outlier.base_ejection_ms = 2000;
		sv->backends = w->be[v];
		sv->nbackends = EJ_BES;
		for (__u32 j = 0; j < EJ_BES; j++) {
			struct xlb_sync_backend *b = &w->be[v][j];

			b->id = v * EJ_BES + j;
			b->cfg.family = XLB_AF_INET;
			b->cfg.addr.w[2] = htonl(0xffff);
			b->cfg.addr.w[3] = htonl(0x0a640000 + b->id);
			b->cfg.admin = XLB_ADMIN_ENABLED;
			b->state = XLB_BE_ACTIVE;
			b->health = XLB_HEALTH_UP;
			b->weight = 1;
		}
	}
	w->s->vips = w->vips;
	w->s->nvips = EJ_VIPS;
	w->ag.sync = w->s;
	w->ag.outliers = outliers_new(&w->ag);
	if (!w->ag.outliers)
		return -ENOMEM;
	outliers_set_reader(w->ag.outliers,
			    &(struct outliers_reader){.ctx = w, .syn = w_syn, .vip = w_vip});
	w->now = 1000000;
	return 0;
}

static void w_free(struct world *w)
{
	outliers_free(w->ag.outliers);
	events_free(w->ag.events);
	free(w->s);
	memset(w, 0, sizeof(*w));
}

/* n first SYNs to backend j of VIP v, r of them sent again (no answer). */
static void w_syns(struct world *w, __u32 v, __u32 j, __u64 n, __u64 r)
{
	struct xlb_backend_syn_stats *c = &w->syn[v * EJ_BES + j];

	c->syn += n + r;
	c->syn_retransmits += r;
	w->vst[v].packets += n + r;
}

static int w_tick(struct world *w)
{
	w->now += EJ_TICK;
	return outliers_tick(w->ag.outliers, w->now);
}

/* What status shows of every backend, folded (the time left of an
 * ejection is the real clock's: left out). */
static __u64 w_fold(const struct world *w, __u64 h)
{
	for (__u32 v = 0; v < EJ_VIPS; v++)
		for (__u32 j = 0; j < EJ_BES; j++) {
			struct outlier_view ov;

			outliers_view(w->ag.outliers, &w->vips[v], &w->be[v][j], &ov);
			h = xlb_mix64(h ^ ov.on ^ (__u64)ov.ejected << 8 ^ ov.ejections << 16);
			h = xlb_mix64(h ^ ov.why.outlier ^ (__u64)ov.why.ratio_pct << 8 ^
				      (__u64)ov.why.peers_pct << 24 ^ (__u64)ov.why.span_ms << 40);
			h = xlb_mix64(h ^ ov.why.first ^ ov.why.retr << 32);
		}
	return h;
}

/*
 * Traffic, quiet, a black hole, quiet again, traffic: backend 1 of VIP 0
 * goes silent at tick 45 and is ejected (three times in all: it comes back
 * after 2 s, no check, and is still silent), and the VIPs go quiet. Every tick, what status
 * shows of every backend is folded into one digest: the one this
 * scenario gave before xlbd learned to skip idle VIPs (the shortcut must
 * judge exactly as the full reads did).
 */
static int t_ejection_judges_as_before(void)
{
	struct world *w = &the_world;
	__u64 h = 0;
	int ejected_at = -1, back_at = -1, changes = 0;

	ASSERT_OK(w_init(w), "world");
	for (int t = 0; t < 200; t++) {
		struct outlier_view ov;
		int busy = (t >= 10 && t < 30) || (t >= 40 && t < 80) || t >= 150;

		for (__u32 v = 0; busy && v < 2; v++)
			for (__u32 j = 0; j < EJ_BES; j++)
				w_syns(w, v, j, 2 + (t + j) % 3,
				       v == 0 && j == 1 && t >= 45 && t < 80 ? 3 : 0);
		if (t == 100) /* one SYN on an idle VIP */
			w_syns(w, 1, 2, 1, 0);
		changes += w_tick(w);
		outliers_view(w->ag.outliers, &w->vips[0], &w->be[0][1], &ov);
		if (ov.ejected && ejected_at < 0)
			ejected_at = t;
		if (!ov.ejected && ejected_at >= 0 && back_at < 0)
			back_at = t;
		h = w_fold(w, h);
	}
	ASSERT_EQ(ejected_at, 45, "the black hole ejected at tick");
	ASSERT_EQ(back_at, 55, "back after base_ejection_time (2 s)");
	/* ejected, back, ejected again while silent, ... */
	ASSERT_EQ(changes, 6, "ticks that asked for an apply (ejections, readmissions)");
	ASSERT_EQ(h, 0x275ef0c174fa4a54ULL, "what status showed, tick by tick");
	w_free(w);
	return 0;
}

const struct harness_case ejection_cases[] = {
	{"ejection_judges_as_before", t_ejection_judges_as_before},
};
const size_t ejection_ncases = sizeof(ejection_cases) / sizeof(ejection_cases[0]);
