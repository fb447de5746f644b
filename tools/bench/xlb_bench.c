// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-bench: cost of the XDP program per packet, against a trivial XDP_TX
 * program measured in the same run.
 *
 * Method (issue #2): BPF_PROG_TEST_RUN with repeat=1, so every call runs the
 * program on a fresh copy of the input (with repeat>1 the kernel re-runs the
 * program on the frame it already rewrote: the wrong path). The kernel-
 * reported duration of each call is averaged over CALLS calls per scenario
 * without the slowest 1% (trimmed_mean: preempted calls), in ROUNDS
 * interleaved rounds so drift hits every scenario alike; the figure printed
 * is the median of the round means. The timer's own cost is in every
 * figure, the baseline's included, so the difference is the cost
 * xlb adds. Prints figures; asserts nothing. Writes the same figures as JSON
 * (argv[1], default build/bench.json).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "maglev.h"
#include "unit/maglev_ref.h"
#include "pkt.h"
#include "sync.h"
#include "xlb_dp.h"
#include "other_build.h"
#include "baseline.skel.h"

#define ROUNDS 5
#define CALLS_PER_ROUND 50000 /* 250,000 calls per scenario */
#define NBACKENDS 16
#define BENCH_M XLB_DEFAULT_TABLE_SIZE
#define SMALL_FLOWS 65536u /* a flow table that stays in the CPU caches */

enum kind {
	K_BASE,	   /* trivial XDP_TX program */
	K_HIT,	   /* established flow: TCP ACK, flow-table hit */
	K_NEWFLOW, /* TCP SYN of a 5-tuple never seen before, every call */
	K_UDPHIT,  /* UDP, flow-table hit */
	K_PASS,	   /* not for a VIP */
	K_SYNDUP,  /* a new flow's SYN again, within 200 ms: a duplicate */
	K_SYNRETX, /* a new flow's SYN again, 250 ms later: retransmitted, rerouted */
};

/* K_SYNDUP: SYNs sent (not measured), then each once more, in batches. */
#define DUP_BATCH 1024
/* K_SYNRETX: SYNs sent (not measured), XLB_SYN_RETRY_MIN_MS and more
 * waited, then each once more; RETX_BATCHES batches a round. 4,096 flows
 * in the 64k-flow table: no bucket overflows, none is evicted meanwhile. */
#define RETX_BATCH 4096
#define RETX_BATCHES 3
#define RETX_WAIT_MS (XLB_SYN_RETRY_MIN_MS + 50)

struct scenario {
	const char *name;
	enum kind kind;
	const char *vip;
	__u16 port;
	__u8 mode;
	int target_ns; /* over baseline; 0 = none */
	int small;     /* run against the 64k-flow table instead of the default */
	struct pb pkt;
	double round_ns[ROUNDS];
	double median, min, max;
	/* the other build (XLB_BENCH_OLD), same rounds */
	double old_round_ns[ROUNDS];
	double old_median, old_min, old_max;
};

static struct scenario sc[] = {
	{.name = "baseline: swap MACs, XDP_TX",
	 .kind = K_BASE,
	 .vip = "10.0.0.10",
	 .port = 80,
	 .mode = 0,
	 .target_ns = 0},
	{.name = "dsr  TCP flow hit    IPv4",
	 .kind = K_HIT,
	 .vip = "10.0.0.10",
	 .port = 80,
	 .mode = XLB_MODE_DSR,
	 .target_ns = 60},
	{.name = "dsr  TCP flow hit    IPv6",
	 .kind = K_HIT,
	 .vip = "fd00::10",
	 .port = 80,
	 .mode = XLB_MODE_DSR,
	 .target_ns = 60},
	{.name = "dsr  UDP flow hit    IPv4",
	 .kind = K_UDPHIT,
	 .vip = "10.0.0.10",
	 .port = 53,
	 .mode = XLB_MODE_DSR,
	 .target_ns = 60},
	{.name = "dsr  TCP new flow    IPv4",
	 .kind = K_NEWFLOW,
	 .vip = "10.0.0.10",
	 .port = 80,
	 .mode = XLB_MODE_DSR,
	 .target_ns = 200},
	{.name = "dsr  TCP new flow    64k tbl",
	 .kind = K_NEWFLOW,
	 .vip = "10.0.0.10",
	 .port = 80,
	 .mode = XLB_MODE_DSR,
	 .target_ns = 200,
	 .small = 1},
	{.name = "ipip TCP flow hit    IPv4",
	 .kind = K_HIT,
	 .vip = "10.0.0.20",
	 .port = 80,
	 .mode = XLB_MODE_IPIP,
	 .target_ns = 60},
	{.name = "ipip TCP flow hit    IPv6",
	 .kind = K_HIT,
	 .vip = "fd00::20",
	 .port = 80,
	 .mode = XLB_MODE_IPIP,
	 .target_ns = 60},
	{.name = "ipip UDP flow hit    IPv4",
	 .kind = K_UDPHIT,
	 .vip = "10.0.0.20",
	 .port = 53,
	 .mode = XLB_MODE_IPIP,
	 .target_ns = 60},
	{.name = "ipip TCP new flow    IPv4",
	 .kind = K_NEWFLOW,
	 .vip = "10.0.0.20",
	 .port = 80,
	 .mode = XLB_MODE_IPIP,
	 .target_ns = 200},
	{.name = "ipip TCP new flow    64k tbl",
	 .kind = K_NEWFLOW,
	 .vip = "10.0.0.20",
	 .port = 80,
	 .mode = XLB_MODE_IPIP,
	 .target_ns = 200,
	 .small = 1},
	{.name = "non-VIP packet: XDP_PASS",
	 .kind = K_PASS,
	 .vip = "10.0.0.99",
	 .port = 80,
	 .mode = 0,
	 .target_ns = 0},
	/* The SYN path of issue #16 (lib/synretry.h) against the 64k table
	 * (next to "dsr TCP new flow 64k tbl": a first SYN) */
	{.name = "dsr  TCP SYN dup <200ms 64k",
	 .kind = K_SYNDUP,
	 .vip = "10.0.0.10",
	 .port = 80,
	 .mode = XLB_MODE_DSR,
	 .target_ns = 0,
	 .small = 1},
	{.name = "dsr  TCP SYN retx->other 64k",
	 .kind = K_SYNRETX,
	 .vip = "10.0.0.10",
	 .port = 80,
	 .mode = XLB_MODE_DSR,
	 .target_ns = 0,
	 .small = 1},
};
#define NSC (sizeof(sc) / sizeof(sc[0]))

static int is_v6(const char *a)
{
	return strchr(a, ':') != NULL;
}

static int is_syn_kind(enum kind k)
{
	return k == K_NEWFLOW || k == K_SYNDUP || k == K_SYNRETX;
}

static void build_pkt(struct scenario *s)
{
	int v6 = is_v6(s->vip);
	__u8 proto = s->kind == K_UDPHIT ? 17 : 6;

	pb_init(&s->pkt);
	pb_eth(&s->pkt, MAC_LB, MAC_ROUTER, 0, v6 ? 0x86dd : 0x0800);
	if (v6)
		pb_ip6(&s->pkt, "2001:db8::1", s->vip, proto, 64, 0, 0);
	else
		pb_ip4(&s->pkt, "192.0.2.1", s->vip, proto, 64, 0, 0x4000, 0);
	if (proto == 17)
		pb_udp(&s->pkt, 40000, s->port);
	else
		pb_tcp(&s->pkt, 40000, s->port, 1, 1, is_syn_kind(s->kind) ? 0x02 : 0x10, 65535);
	pb_payload(&s->pkt, is_syn_kind(s->kind) ? 0 : 64, 1);
	pb_finish(&s->pkt);
}

static int setup_dp(struct xlb_dp *dp)
{
	struct xlb_maglev_backend mb[NBACKENDS];
	__u32 *table = calloc(BENCH_M, sizeof(__u32));
	int err = -ENOMEM;

	if (!table)
		return err;
	for (int i = 0; i < NBACKENDS; i++) {
		struct xlb_backend b = {.state = XLB_BE_ACTIVE, .gen = 1};
		char name[48];

		/* ids 1..16 IPv4 backends, 17..32 the same servers by IPv6 */
		snprintf(name, sizeof(name), "10.1.0.%d", 10 + i);
		xlb_addr_parse(name, &b.addr);
		b.family = XLB_AF_INET;
		memcpy(b.mac, MAC_BACKEND[i % 4], 6);
		err = xlb_dp_backend_set(dp, 1 + i, &b);
		snprintf(name, sizeof(name), "fd00:1::%d", 10 + i);
		xlb_addr_parse(name, &b.addr);
		b.family = XLB_AF_INET6;
		err = err ?: xlb_dp_backend_set(dp, 1 + NBACKENDS + i, &b);
		if (err)
			goto out;
	}
	for (size_t s = 1, vip_id = 1; s < NSC; s++) {
		struct xlb_vip_key k = {.port = htons(sc[s].port),
					.proto = sc[s].kind == K_UDPHIT ? 17 : 6};
		struct xlb_vip_val v = {.table_size = BENCH_M, .mode = sc[s].mode};
		int first = is_v6(sc[s].vip) && sc[s].mode == XLB_MODE_IPIP ? 1 + NBACKENDS : 1;

		if (sc[s].kind == K_PASS || sc[s].small || sc[s].kind == K_SYNDUP ||
		    sc[s].kind == K_SYNRETX)
			continue;
		xlb_addr_parse(sc[s].vip, &k.addr);
		v.vip_id = (__u32)vip_id++;
		for (int i = 0; i < NBACKENDS; i++) {
			char name[32];

			snprintf(name, sizeof(name), "backend-%d", i);
			mb[i] = (struct xlb_maglev_backend){
				.key = xlb_maglev_key(name), .id = (__u32)(first + i), .weight = 1};
		}
		err = xlb_maglev_build(mb, NBACKENDS, BENCH_M, table);
		err = err ?: xlb_dp_vip_set(dp, &k, &v, table);
		if (err && err != -EEXIST)
			goto out;
		err = 0;
	}
out:
	free(table);
	return err;
}

/*
 * Flows never seen before in this run: the n-th has source 198.18.0.0/15
 * (RFC 2544's benchmark range) plus n >> 16, source port n & 0xffff. (One
 * source address, the port alone, wrapped after 65,536 SYNs: the flow of
 * the SYN 65,536 before was still opening, so from then on the "new flow"
 * rows measured retransmitted SYNs, rerouted, lib/synretry.h.)
 */
static __u32 next_flow;

static void set_flow(struct pb *pkt, __u32 n)
{
	size_t l3 = (size_t)pb_find(pkt, PB_IP4), l4 = (size_t)pb_find(pkt, PB_TCP);
	__u32 a = 0xc6120000u + (n >> 16); /* 198.18.0.0 */

	pkt->buf[l3 + 12] = (__u8)(a >> 24);
	pkt->buf[l3 + 13] = (__u8)(a >> 16);
	pkt->buf[l3 + 14] = (__u8)(a >> 8);
	pkt->buf[l3 + 15] = (__u8)a;
	pkt->buf[l4] = (__u8)(n >> 8);
	pkt->buf[l4 + 1] = (__u8)n;
}

/* One call; its kernel-reported duration in ns. */
static __u32 run_one(int prog_fd, const struct pb *pkt)
{
	__u8 out[PB_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt->buf, .data_size_in = (__u32)pkt->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &t)) {
		fprintf(stderr, "xlb-bench: test run failed: %s\n", strerror(errno));
		exit(1);
	}
	return t.duration;
}

/* The measured calls of one round of one program, in ns. */
struct calls {
	__u32 n;
	__u32 ns[CALLS_PER_ROUND + DUP_BATCH];
};

static void put(struct calls *c, __u32 ns)
{
	if (c && c->n < sizeof(c->ns) / sizeof(c->ns[0]))
		c->ns[c->n++] = ns;
}

/* n SYNs of flows first .. first+n-1, into c (NULL: not measured). */
static void run_flows(int prog_fd, struct pb *pkt, __u32 first, __u32 n, struct calls *c)
{
	for (__u32 i = 0; i < n; i++) {
		set_flow(pkt, first + i);
		put(c, run_one(prog_fd, pkt));
	}
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * The round's figure: the mean of its calls without the slowest 1%. On a
 * shared host a call the scheduler preempted takes milliseconds, and one
 * such call weighs in a plain mean of 50,000 as 20 ns on every call: the
 * plain means moved by 100 ns and more from round to round, the trimmed
 * ones by a few. A new flow's own slow calls (a cache or TLB miss, well
 * under a microsecond) are far more than 1% and stay in.
 */
static double trimmed_mean(struct calls *c)
{
	__u32 keep = c->n - c->n / 100;
	__u64 sum = 0;

	qsort(c->ns, c->n, sizeof(c->ns[0]), cmp_u32);
	for (__u32 i = 0; i < keep; i++)
		sum += c->ns[i];
	return keep ? (double)sum / keep : 0;
}

/* Measured calls a round of each kind makes. */
static __u32 round_calls(enum kind k)
{
	return k == K_SYNRETX ? RETX_BATCH * RETX_BATCHES : CALLS_PER_ROUND;
}

/* Calls a program makes before the other takes its turn (XLB_BENCH_OLD). */
#define CHUNK 250

/*
 * One round of a scenario on n (1 or 2) programs: out[k], the mean
 * kernel-reported ns of program k's measured calls. Two programs take
 * turns every CHUNK calls (every batch for the SYN rows), the first one
 * first in even rounds, so load on a shared host weighs on both alike.
 */
static void run_round2(const int *fd, int n, int round, struct scenario *s, double *out)
{
	const struct timespec wait = {RETX_WAIT_MS / 1000, (RETX_WAIT_MS % 1000) * 1000000L};
	static struct calls c[2];
	__u32 calls = round_calls(s->kind), done = 0, first[2];

	c[0].n = c[1].n = 0;

	for (int t = 0; done < calls; t++) {
		__u32 step = s->kind == K_SYNDUP    ? DUP_BATCH
			     : s->kind == K_SYNRETX ? RETX_BATCH
						    : CHUNK;

		for (int j = 0; j < n; j++) {
			int k = (j + round + t) % n;

			first[k] = next_flow;
			switch (s->kind) {
			case K_NEWFLOW:
				run_flows(fd[k], &s->pkt, first[k], step, &c[k]);
				next_flow += step;
				break;
			case K_SYNDUP:
				run_flows(fd[k], &s->pkt, first[k], step, NULL);
				run_flows(fd[k], &s->pkt, first[k], step, &c[k]);
				next_flow += step;
				break;
			case K_SYNRETX:
				run_flows(fd[k], &s->pkt, first[k], step, NULL);
				next_flow += step;
				break;
			default:
				for (__u32 i = 0; i < step; i++)
					put(&c[k], run_one(fd[k], &s->pkt));
			}
		}
		if (s->kind == K_SYNRETX) {
			nanosleep(&wait, NULL);
			for (int j = 0; j < n; j++) {
				int k = (j + round + t) % n;

				run_flows(fd[k], &s->pkt, first[k], step, &c[k]);
			}
		}
		done += step;
	}
	for (int k = 0; k < n; k++)
		out[k] = trimmed_mean(&c[k]);
}

static double run_round(int prog_fd, struct scenario *s)
{
	double v;

	run_round2(&prog_fd, 1, 0, s, &v);
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define MAGLEV_RUNS 21

struct maglev_fig {
	unsigned int n, m;
	double median_ms, min_ms;
	double max_ms, book_ms; /* builds only: the slowest, the book's median */
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int fixed_mac(void *ctx, const union xlb_addr *a, __u8 mac[6])
{
	(void)ctx;
	memset(mac, 2, 6);
	mac[5] = a->b[15];
	return 0;
}

/*
 * From a change request to the swapped table: one backend's weight changes
 * in a VIP of N backends at M = 65537; the engine diffs, rebuilds that
 * table, creates the new inner map, fills it and swaps it in (xlbd adds
 * the validation and the fsync of its state file to this).
 */
static int bench_change(struct xlb_dp *dp, struct maglev_fig *fig, size_t nfig)
{
	static const unsigned int ns[] = {10, 100, 1000};
	struct xlb_sink sink;
	size_t k = 0;

	xlb_sync_dp_sink(&sink, dp);

	printf("Change to swapped table (one weight changes), median (best) of %d:\n", MAGLEV_RUNS);
	printf("%8s %8s %14s\n", "backends", "M", "ms");
	for (size_t ni = 0; ni < 3 && k < nfig; ni++, k++) {
		struct xlb_cfg_backend *b = calloc(ns[ni], sizeof(*b));
		struct xlb_cfg_vip vip = {.family = XLB_AF_INET,
					  .port = 8000 + (__u16)ni,
					  .proto = IPPROTO_TCP,
					  .table_size = 65537,
					  .backends = b,
					  .nbackends = ns[ni]};
		struct xlb_cfg cfg = {.vips = &vip, .nvips = 1};
		struct xlb_sync *s = xlb_sync_new(&sink, fixed_mac, NULL);
		struct xlb_err err = {};
		double t[MAGLEV_RUNS];

		if (!b || !s) {
			free(b);
			xlb_sync_free(s);
			return -ENOMEM;
		}
		xlb_addr_parse("10.0.0.200", &vip.addr);
		for (unsigned int i = 0; i < ns[ni]; i++) {
			char a[32];

			snprintf(a, sizeof(a), "10.2.%u.%u", i >> 8, i & 255);
			xlb_addr_parse(a, &b[i].addr);
			b[i].family = XLB_AF_INET;
			b[i].weight = 1;
		}
		if (xlb_sync_apply(s, &cfg, &err))
			fprintf(stderr, "xlb-bench: %s\n", err.msg);
		for (int r = 0; r < MAGLEV_RUNS; r++) {
			double t0;

			b[0].weight = 2 + (__u32)(r & 1); /* a real change every time */
			t0 = now_ms();
			xlb_sync_apply(s, &cfg, &err);
			t[r] = now_ms() - t0;
		}
		qsort(t, MAGLEV_RUNS, sizeof(double), cmp_double);
		fig[k] = (struct maglev_fig){ns[ni], 65537, t[MAGLEV_RUNS / 2], t[0], 0, 0};
		printf("%8u %8u %7.3f (%.3f)\n", ns[ni], 65537u, fig[k].median_ms, fig[k].min_ms);
		cfg.nvips = 0; /* take the VIP out again */
		xlb_sync_apply(s, &cfg, &err);
		xlb_sync_free(s);
		free(b);
	}
	printf("Most of it is the kernel waiting for an RCU grace period after the map-of-maps\n"
	       "update (so no packet can still use the old table when the swap returns), not the\n"
	       "build.\n\n");
	return (int)k;
}

/* Maglev table build time on this CPU (median and best of MAGLEV_RUNS). */
/* ---- scale and memory (issue #7) --------------------------------------- */

struct scale_fig {
	char what[40];
	double hit_ns, new_ns; /* over the baseline */
};

/* Medians over ROUNDS of: baseline, flow hit, new flow (64k-flow table). */
static void measure_scale(struct xlb_dp *dp, struct baseline *base, struct scale_fig *fig)
{
	struct scenario *b = &sc[0], *hit = &sc[1], *nf = &sc[5];
	double vb[ROUNDS], vh[ROUNDS], vn[ROUNDS];
	__u8 out[PB_MAX];
	struct pb syn = hit->pkt;
	int l4 = pb_find(&syn, PB_TCP);
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = syn.buf, .data_size_in = (__u32)syn.len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	syn.buf[l4 + 13] = 0x02; /* the hit's flow, entered against this table */
	bpf_prog_test_run_opts(xlb_dp_prog_fd(dp), &t);
	for (int r = 0; r < ROUNDS; r++) {
		vb[r] = run_round(bpf_program__fd(base->progs.xlb_baseline), b);
		vh[r] = run_round(xlb_dp_prog_fd(dp), hit);
		vn[r] = run_round(xlb_dp_prog_fd(dp), nf);
	}
	qsort(vb, ROUNDS, sizeof(double), cmp_double);
	qsort(vh, ROUNDS, sizeof(double), cmp_double);
	qsort(vn, ROUNDS, sizeof(double), cmp_double);
	fig->hit_ns = vh[ROUNDS / 2] - vb[ROUNDS / 2];
	fig->new_ns = vn[ROUNDS / 2] - vb[ROUNDS / 2];
}

/* The measured VIP (10.0.0.10:80, id 1) over backends 100 .. 100+n-1. */
static int table_of(struct xlb_dp *dp, __u32 n, __u32 m)
{
	struct xlb_maglev_backend *mb = calloc(n, sizeof(*mb));
	__u32 *table = calloc(m, sizeof(*table));
	struct xlb_vip_key k = {.port = htons(80), .proto = 6};
	struct xlb_vip_val v = {.vip_id = 1, .table_size = m, .mode = XLB_MODE_DSR};
	int err = mb && table ? 0 : -ENOMEM;

	for (__u32 i = 0; !err && i < n; i++) {
		struct xlb_backend b = {
			.state = XLB_BE_ACTIVE, .gen = 1, .vip_id = 1, .family = XLB_AF_INET};
		char name[32];

		snprintf(name, sizeof(name), "10.2.%u.%u", i >> 8, i & 255);
		xlb_addr_parse(name, &b.addr);
		memcpy(b.mac, MAC_BACKEND[i % 4], 6);
		err = xlb_dp_backend_set(dp, 100 + i, &b);
		mb[i] = (struct xlb_maglev_backend){
			.key = xlb_maglev_key(name), .id = 100 + i, .weight = 1};
	}
	xlb_addr_parse("10.0.0.10", &k.addr);
	err = err ?: xlb_maglev_build(mb, n, m, table);
	err = err ?: xlb_dp_vip_set(dp, &k, &v, table);
	free(mb);
	free(table);
	return err;
}

/* VIPs 10.50.x.y:80 (ids from 1000, M=251) until there are `upto` extra. */
static int more_vips(struct xlb_dp *dp, __u32 from, __u32 upto)
{
	__u32 table[251] = {0};

	for (__u32 i = 0; i < 251; i++)
		table[i] = 1; /* backend 1 of setup_dp: any valid id */
	for (__u32 i = from; i < upto; i++) {
		struct xlb_vip_key k = {.port = htons(80), .proto = 6};
		struct xlb_vip_val v = {.vip_id = 1000 + i, .table_size = 251};
		char name[32];
		int err;

		snprintf(name, sizeof(name), "10.50.%u.%u", i >> 8, i & 255);
		xlb_addr_parse(name, &k.addr);
		err = xlb_dp_vip_set(dp, &k, &v, table);
		if (err)
			return err;
	}
	return 0;
}

static int bench_scale(struct xlb_dp *dp, struct baseline *base, struct scale_fig *fig)
{
	static const __u32 vips[] = {0, 100, 10000}, bes[] = {10, 1000, 10000};
	int n = 0, err = 0;

	for (size_t i = 0; !err && i < 3; i++) {
		err = more_vips(dp, i ? vips[i - 1] : 0, vips[i]);
		snprintf(fig[n].what, sizeof(fig[n].what), "+%u VIPs", vips[i]);
		if (!err)
			measure_scale(dp, base, &fig[n++]);
	}
	for (size_t i = 0; !err && i < 3; i++) {
		err = table_of(dp, bes[i], BENCH_M);
		snprintf(fig[n].what, sizeof(fig[n].what), "%u backends in the VIP", bes[i]);
		if (!err)
			measure_scale(dp, base, &fig[n++]);
	}
	return err ? err : n;
}

/* The sizing of issue #7: 4M flows, 512 VIPs at M=65537, 4,096 backends. */
static int bench_memory(struct xlb_dp_memory *mem, __u64 *per_flow, __u64 *per_table)
{
	struct xlb_dp_opts o = {.flow_entries = 4u << 20};
	__u32 *table = calloc(65537, sizeof(*table));
	struct xlb_dp *dp = NULL;
	int err = table ? xlb_dp_open(&o, &dp) : -ENOMEM;

	for (__u32 i = 0; !err && i < 4096; i++) {
		struct xlb_backend b = {.state = XLB_BE_ACTIVE,
					.gen = 1,
					.vip_id = 1 + i / 8,
					.family = XLB_AF_INET};
		char name[32];

		snprintf(name, sizeof(name), "10.3.%u.%u", i >> 8, i & 255);
		xlb_addr_parse(name, &b.addr);
		err = xlb_dp_backend_set(dp, 1 + i, &b);
	}
	for (__u32 v = 0; !err && v < 512; v++) {
		struct xlb_vip_key k = {.port = htons(80), .proto = 6};
		struct xlb_vip_val val = {.vip_id = 1 + v, .table_size = 65537};
		char name[32];

		for (__u32 s = 0; s < 65537; s++)
			table[s] = 1 + v * 8 + s % 8;
		snprintf(name, sizeof(name), "10.60.%u.%u", v >> 8, v & 255);
		xlb_addr_parse(name, &k.addr);
		err = xlb_dp_vip_set(dp, &k, &val, table);
	}
	err = err ?: xlb_dp_memory(dp, mem);
	*per_flow = mem->flows / (4u << 20);
	*per_table = mem->ntables ? mem->tables / mem->ntables : 0;
	free(table);
	xlb_dp_close(dp);
	return err;
}

/* CPU time of this thread: a build is pure computation, and on a shared host
 * wall time would add the time other work held the CPU. */
static double cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/*
 * Maglev table builds: the builder and, alternating with it build by build so
 * drift hits both alike, the book's algorithm (tests/unit/maglev_ref.c), the
 * same table computed plainly: their ratio is the builder's own speed-up,
 * whatever the host's speed in this run.
 */
static int bench_maglev(struct maglev_fig *fig, size_t nfig)
{
	static const unsigned int ns[] = {10, 100, 1000, 10000}, ms[] = {65537, 655373};
	struct xlb_maglev_backend *b = calloc(10000, sizeof(*b));
	__u32 *table = calloc(655373, sizeof(__u32)), *book = calloc(655373, sizeof(__u32));
	size_t k = 0;

	if (!b || !table || !book) {
		free(b);
		free(table);
		free(book);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < 10000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "10.%u.%u.%u:80", 1 + (i >> 16), (i >> 8) & 255,
			 i & 255);
		b[i] = (struct xlb_maglev_backend){
			.key = xlb_maglev_key(name), .id = i + 1, .weight = 1};
	}
	printf("Maglev table build, CPU time of one thread, median (range) of %d builds,\n"
	       "alternating with the book's algorithm:\n",
	       MAGLEV_RUNS);
	printf("%8s %8s %24s %8s %8s %8s\n", "backends", "M", "ms", "target", "book ms", "ratio");
	for (size_t mi = 0; mi < 2; mi++) {
		for (size_t ni = 0; ni < 4 && k < nfig; ni++, k++) {
			double t[MAGLEV_RUNS], tb[MAGLEV_RUNS];
			char range[32];
			int same = 1;

			for (int r = 0; r < MAGLEV_RUNS; r++) {
				double t0 = cpu_ms();

				xlb_maglev_build(b, ns[ni], ms[mi], table);
				t[r] = cpu_ms() - t0;
				t0 = cpu_ms();
				maglev_ref_build(b, ns[ni], ms[mi], NULL, book);
				tb[r] = cpu_ms() - t0;
				same &= !memcmp(table, book, ms[mi] * sizeof(*table));
			}
			qsort(t, MAGLEV_RUNS, sizeof(double), cmp_double);
			qsort(tb, MAGLEV_RUNS, sizeof(double), cmp_double);
			fig[k] = (struct maglev_fig){ns[ni],
						     ms[mi],
						     t[MAGLEV_RUNS / 2],
						     t[0],
						     t[MAGLEV_RUNS - 1],
						     tb[MAGLEV_RUNS / 2]};
			snprintf(range, sizeof(range), "%.3f (%.3f-%.3f)", fig[k].median_ms,
				 fig[k].min_ms, fig[k].max_ms);
			printf("%8u %8u %24s %8s %8.3f %8.2f%s\n", ns[ni], ms[mi], range,
			       ns[ni] == 1000 && ms[mi] == 65537
				       ? (fig[k].median_ms <= 1.0 ? "1 met" : "1 MISSED")
				       : "-",
			       fig[k].book_ms, fig[k].median_ms / fig[k].book_ms,
			       same ? "" : "  TABLES DIFFER");
		}
	}
	printf("\n");
	free(b);
	free(table);
	free(book);
	return (int)k;
}

/* A build of xlb.bpf.o from a file, on both data planes' maps. */
struct other {
	struct bpf_object *obj, *obj_small;
	int fd, fd_small;
};

static int other_load(const char *path, struct xlb_dp *dp, struct xlb_dp *dp_small, struct other *o)
{
	o->obj = xlb_other_open(path, "xlb_xdp", xlb_dp_prog_fd(dp), &o->fd);
	o->obj_small =
		o->obj ? xlb_other_open(path, "xlb_xdp", xlb_dp_prog_fd(dp_small), &o->fd_small)
		       : NULL;
	if (o->obj_small)
		return 0;
	fprintf(stderr, "xlb-bench: couldn't load the build '%s': %s\n", path, strerror(errno));
	return -1;
}

static void other_close(struct other *o)
{
	bpf_object__close(o->obj);
	bpf_object__close(o->obj_small);
}

/* The SYN path's reasons, to show each row took the path it names. */
struct syn_check {
	__u64 dup, retx, rerouted; /* the 64k-table program (the SYN rows) */
	__u64 retx_big;		   /* the default-table program: new flows only */
};

static void syn_read(struct xlb_dp *dp, struct xlb_dp *dp_small, struct syn_check *c)
{
	memset(c, 0, sizeof(*c));
	xlb_dp_reason_count(dp_small, XLB_R_SYN_DUPLICATE, &c->dup);
	xlb_dp_reason_count(dp_small, XLB_R_SYN_RETRANSMIT, &c->retx);
	xlb_dp_reason_count(dp_small, XLB_R_SYN_REROUTED, &c->rerouted);
	xlb_dp_reason_count(dp, XLB_R_SYN_RETRANSMIT, &c->retx_big);
}

static void syn_print(const struct syn_check *a, const struct syn_check *b, int other)
{
	__u64 dup = 0, retx = 0;

	for (size_t s = 0; s < NSC; s++) {
		__u32 n = sc[s].kind == K_SYNDUP
				  ? (CALLS_PER_ROUND + DUP_BATCH - 1) / DUP_BATCH * DUP_BATCH
				  : round_calls(sc[s].kind);

		if (sc[s].kind == K_SYNDUP)
			dup += (__u64)n * ROUNDS;
		if (sc[s].kind == K_SYNRETX)
			retx += (__u64)n * ROUNDS;
	}
	printf("\nSYN rows took their path (reason counters of this build%s): syn_duplicate "
	       "%llu of %llu,\nsyn_retransmit %llu and syn_rerouted %llu of %llu; retransmits "
	       "among the new flows %llu (0).\n",
	       other ? "; the other shares the map" : "", (unsigned long long)(b->dup - a->dup),
	       (unsigned long long)dup, (unsigned long long)(b->retx - a->retx),
	       (unsigned long long)(b->rerouted - a->rerouted), (unsigned long long)retx,
	       (unsigned long long)(b->retx_big - a->retx_big));
}

/* Median (and range) of the per-round differences this build - the other. */
static double paired_diff(const struct scenario *s, double *min, double *max)
{
	double d[ROUNDS];

	for (int r = 0; r < ROUNDS; r++)
		d[r] = s->round_ns[r] - s->old_round_ns[r];
	qsort(d, ROUNDS, sizeof(double), cmp_double);
	if (min)
		*min = d[0];
	if (max)
		*max = d[ROUNDS - 1];
	return d[ROUNDS / 2];
}

static void print_other(const char *name, const struct xlb_prog_size *size,
			const struct xlb_prog_size *old)
{
	printf("\nThe same rounds, this build against %s (its program on the same maps,\n"
	       "the two taking turns every %d calls): over the baseline, and this - other as\n"
	       "the median (range) of the %d per-round differences.\n",
	       name, CHUNK, ROUNDS);
	printf("%-30s %10s %10s %10s %15s\n", "scenario", "this", "other", "this-other", "range");
	for (size_t s = 1; s < NSC; s++) {
		double lo, hi, d = paired_diff(&sc[s], &lo, &hi);
		char range[32];

		snprintf(range, sizeof(range), "%+.0f..%+.0f", lo, hi);
		printf("%-30s %+10.1f %+10.1f %+10.1f %15s\n", sc[s].name,
		       sc[s].median - sc[0].median, sc[s].old_median - sc[0].median, d, range);
	}
	printf("%-30s %10u %10u %+10d\n", "instructions (xlated)", size->xlated_insns,
	       old->xlated_insns, (int)size->xlated_insns - (int)old->xlated_insns);
	printf("%-30s %10u %10u %+10d\n", "machine code bytes (jited)", size->jited_bytes,
	       old->jited_bytes, (int)size->jited_bytes - (int)old->jited_bytes);
	printf("%-30s %10u %10u %+10d\n", "instructions verified", size->verified_insns,
	       old->verified_insns, (int)size->verified_insns - (int)old->verified_insns);
}

/* ---- the memory floor of a dsr hit (issue #15) ------------------------ */

/*
 * The dsr hit rows again, xlb beside bpf/hit_floor.bpf.c (the loads and
 * stores of a hit, none of its decisions) in the same rounds, each round
 * after a baseline round. over[k]: median ns over the baseline, k = 0 the
 * floor, 1 xlb; diff: median (range) of the per-round xlb - floor.
 */
struct floor_fig {
	const char *name;
	double over[2], diff, diff_min, diff_max;
};

/* build/bpf/hit_floor.bpf.o beside this binary's build/tools/, or
 * XLB_BENCH_FLOOR. */
static void floor_path(char *out, size_t len)
{
	const char *env = getenv("XLB_BENCH_FLOOR");
	char exe[4096];
	ssize_t n;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	if (strrchr(exe, '/'))
		*strrchr(exe, '/') = 0;
	snprintf(out, len, "%s/../bpf/hit_floor.bpf.o", exe);
}

/*
 * The touch rows: bpf/hit_floor.bpf.c's xlb_touch loads one entry of each
 * memory the frame's bytes 60-61 name (XLB_TOUCH_* there), the same code for
 * every row. Cold: repeat=1, every call a system call of its own, as in
 * the rows above; warm: repeat=100, the kernel runs the program 100 times
 * in one call and reports the mean, so only the first run of each call
 * starts cold. Each figure: median over rounds of the per-round difference
 * to no touch at all, ns per run.
 */
#define TOUCH_BITS 9
#define TOUCH_ROWS (TOUCH_BITS + 2)
#define TOUCH_AT 60
#define TOUCH_COLD_CALLS 10000
#define TOUCH_WARM_CALLS 500
#define TOUCH_WARM_REPEAT 100

static const char *const touch_name[TOUCH_ROWS] = {
	"none (MAC swap)",
	"map nic (MAC check)",
	".bss (VIP cache)",
	".rodata (hash seed)",
	"jiffies",
	"vip_stats, incremented",
	"flows (a bucket)",
	"backends",
	"backend_stats, incremented",
	"CPU number (VIP cache row)",
	"all nine",
};

struct touch_fig {
	double cold, warm; /* ns over "none"; row 0: ns over the baseline */
};

static __u32 touch_call(int fd, const struct pb *pkt, __u32 repeat)
{
	__u8 out[PB_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt->buf, .data_size_in = (__u32)pkt->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &t)) {
		fprintf(stderr, "xlb-bench: test run failed: %s\n", strerror(errno));
		exit(1);
	}
	return t.duration;
}

/* One round: out[row] = trimmed mean ns per run of `calls` calls, rows
 * taking turns every `chunk` calls (a load spike on a shared host then
 * falls on every row alike). */
static void touch_round(int fd, int base_fd, struct pb *pkt, __u32 calls, __u32 repeat, __u32 chunk,
			double *out, double *base)
{
	static struct calls c[TOUCH_ROWS + 1];

	for (int k = 0; k <= TOUCH_ROWS; k++)
		c[k].n = 0;
	for (__u32 done = 0; done < calls; done += chunk) {
		for (int k = 0; k <= TOUCH_ROWS; k++) {
			int f = k == TOUCH_ROWS ? base_fd : fd;

			__u32 bits = k == TOUCH_ROWS - 1 ? (1u << TOUCH_BITS) - 1
				     : k		 ? 1u << (k - 1)
							 : 0;

			pkt->buf[TOUCH_AT] = (__u8)bits;
			pkt->buf[TOUCH_AT + 1] = (__u8)(bits >> 8);
			for (__u32 i = 0; i < chunk && done + i < calls; i++)
				put(&c[k], touch_call(f, pkt, repeat));
		}
	}
	for (int k = 0; k < TOUCH_ROWS; k++)
		out[k] = trimmed_mean(&c[k]);
	*base = trimmed_mean(&c[TOUCH_ROWS]);
}

static double median_of(double *v)
{
	qsort(v, ROUNDS, sizeof(double), cmp_double);
	return v[ROUNDS / 2];
}

static void touch_rows(int fd, int base_fd, const struct pb *hit, struct touch_fig *fig)
{
	double cold[ROUNDS][TOUCH_ROWS], warm[ROUNDS][TOUCH_ROWS], bc[ROUNDS], bw[ROUNDS];
	struct pb pkt = *hit;

	if (pkt.len <= TOUCH_AT + 1)
		return;
	for (int r = 0; r < ROUNDS; r++) {
		touch_round(fd, base_fd, &pkt, TOUCH_COLD_CALLS, 1, CHUNK, cold[r], &bc[r]);
		touch_round(fd, base_fd, &pkt, TOUCH_WARM_CALLS, TOUCH_WARM_REPEAT, 5, warm[r],
			    &bw[r]);
	}
	for (int k = 0; k < TOUCH_ROWS; k++) {
		double dc[ROUNDS], dw[ROUNDS];

		for (int r = 0; r < ROUNDS; r++) {
			dc[r] = cold[r][k] - (k ? cold[r][0] : bc[r]);
			dw[r] = warm[r][k] - (k ? warm[r][0] : bw[r]);
		}
		fig[k].cold = median_of(dc);
		fig[k].warm = median_of(dw);
	}
	printf("\nWhat a first touch costs: xlb_touch loads one entry of each memory a hit "
	       "reads,\nthe same code for every row (the frame says which). ns per run over "
	       "no touch,\nmedian of %d rounds; cold: one run per call (as every row above), "
	       "warm: %d runs\nper call. The first row is over the baseline program.\n",
	       ROUNDS, TOUCH_WARM_REPEAT);
	printf("%-30s %10s %10s\n", "touch", "cold", "warm");
	for (int k = 0; k < TOUCH_ROWS; k++)
		printf("%-30s %+10.1f %+10.1f\n", touch_name[k], fig[k].cold, fig[k].warm);
}

static int floor_rows(int this_fd, int base_fd, struct floor_fig *fig, int max,
		      struct touch_fig *touch)
{
	struct bpf_object *obj;
	char path[4200];
	int fd, n = 0;

	floor_path(path, sizeof(path));
	obj = xlb_other_open(path, "xlb_hit_floor", this_fd, &fd);
	if (!obj) {
		printf("\nFloor rows skipped: couldn't load '%s': %s\n", path, strerror(errno));
		return 0;
	}
	for (size_t s = 1; s < NSC && n < max; s++) {
		double b[ROUNDS], f[ROUNDS], t[ROUNDS], d[ROUNDS];
		int fds[2] = {fd, this_fd};
		__u8 out[PB_MAX];
		LIBBPF_OPTS(bpf_test_run_opts, one, .data_in = sc[s].pkt.buf,
			    .data_size_in = (__u32)sc[s].pkt.len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		if ((sc[s].kind != K_HIT && sc[s].kind != K_UDPHIT) || sc[s].mode != XLB_MODE_DSR ||
		    sc[s].small)
			continue;
		/* the floor finds the flow xlb forwards: else it measured a drop */
		if (bpf_prog_test_run_opts(fd, &one) || one.retval != XDP_TX) {
			printf("\nFloor row '%s' skipped: the floor did not forward its flow\n",
			       sc[s].name);
			continue;
		}
		for (int r = 0; r < ROUNDS; r++) {
			double v[2];

			b[r] = run_round(base_fd, &sc[0]);
			run_round2(fds, 2, r, &sc[s], v);
			f[r] = v[0] - b[r];
			t[r] = v[1] - b[r];
			d[r] = v[1] - v[0];
		}
		qsort(f, ROUNDS, sizeof(double), cmp_double);
		qsort(t, ROUNDS, sizeof(double), cmp_double);
		qsort(d, ROUNDS, sizeof(double), cmp_double);
		fig[n] = (struct floor_fig){.name = sc[s].name,
					    .over = {f[ROUNDS / 2], t[ROUNDS / 2]},
					    .diff = d[ROUNDS / 2],
					    .diff_min = d[0],
					    .diff_max = d[ROUNDS - 1]};
		n++;
	}
	{
		struct bpf_program *tp = bpf_object__find_program_by_name(obj, "xlb_touch");

		if (tp)
			touch_rows(bpf_program__fd(tp), base_fd, &sc[1].pkt, touch);
	}
	bpf_object__close(obj);
	if (!n)
		return 0;
	printf("\nThe memory floor of a dsr hit: bpf/hit_floor.bpf.c makes a hit's loads and "
	       "stores\n(parse, VIP cache, hash, VIP counters, flow bucket, backend, backend "
	       "counters,\nMAC rewrite) and none of its decisions, on the same maps and flow, "
	       "in the same\nrounds: over the baseline, and xlb - floor per round, median "
	       "(range).\n");
	printf("%-30s %10s %10s %10s %15s\n", "scenario", "floor", "xlb", "xlb-floor", "range");
	for (int k = 0; k < n; k++) {
		char range[32];

		snprintf(range, sizeof(range), "%+.0f..%+.0f", fig[k].diff_min, fig[k].diff_max);
		printf("%-30s %+10.1f %+10.1f %+10.1f %15s\n", fig[k].name, fig[k].over[0],
		       fig[k].over[1], fig[k].diff, range);
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *json = argc > 1 ? argv[1] : "build/bench.json";
	/* XLB_BENCH_ONLY=packets: the per-packet rows alone (no Maglev builds,
	 * table swaps, scale or memory), for quick paired runs */
	const char *only = getenv("XLB_BENCH_ONLY");
	int packets_only = only && !strcmp(only, "packets");
	/* XLB_BENCH_OLD=FILE (tools/bench/build_old.sh): an earlier build of
	 * xlb.bpf.o on the same maps, run right beside this one every round;
	 * XLB_BENCH_THIS=FILE: measure that build instead of this one (two
	 * earlier builds against each other) */
	const char *old_path = getenv("XLB_BENCH_OLD"), *old_name = getenv("XLB_BENCH_OLD_NAME");
	const char *this_path = getenv("XLB_BENCH_THIS");
	struct other old = {}, other_this = {};
	struct xlb_prog_size size = {}, old_size = {};
	int this_fd, this_fd_small, old_obj;
	struct syn_check syn_before, syn_after;
	struct xlb_dp_opts o = {.encap_vary_bits = 16};
	struct baseline *base = NULL;
	struct xlb_dp *dp = NULL, *dp_small = NULL;
	struct maglev_fig mfig[8], cfig[3];
	struct floor_fig ffig[4];
	struct touch_fig tfig[TOUCH_ROWS] = {};
	int nmfig, ncfig = 0, nffig = 0;
	FILE *f;
	int err;

	cpu_set_t cpus;

	/* One CPU for the whole run: no migration between rounds. */
	CPU_ZERO(&cpus);
	CPU_SET(sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	xlb_log_libbpf();
	nmfig = packets_only ? 0 : bench_maglev(mfig, 8);
	/* XLB_BENCH_ONLY=maglev: the builds alone (no BPF, no root), no JSON. */
	if (only && !strcmp(only, "maglev"))
		return nmfig > 0 ? 0 : 1;
	inet_pton(AF_INET, "172.16.0.0", &o.encap_src4);
	xlb_addr_parse("fd00:ffff::", &o.encap_src6);
	err = xlb_dp_open(&o, &dp);
	if (!err) {
		o.flow_entries = SMALL_FLOWS;
		err = xlb_dp_open(&o, &dp_small);
	}
	/* The bench packets are sent to MAC_LB (what attach reads from the NIC). */
	err = err ?: xlb_dp_nic_set(dp, MAC_LB, 0) ?: xlb_dp_nic_set(dp_small, MAC_LB, 0);
	if (err) {
		fprintf(stderr, "xlb-bench: couldn't load the data plane: %s\n", strerror(-err));
		return 1;
	}
	base = baseline__open_and_load();
	ncfig = packets_only ? 0 : bench_change(dp_small, cfig, 3);
	if (!base || setup_dp(dp) || setup_dp(dp_small)) {
		fprintf(stderr, "xlb-bench: couldn't set up: %s\n", strerror(errno));
		goto cleanup;
	}
	this_fd = xlb_dp_prog_fd(dp);
	this_fd_small = xlb_dp_prog_fd(dp_small);
	old_obj = old_path && *old_path;
	if (old_obj) {
		old_name = old_name && *old_name ? old_name : old_path;
		if (other_load(old_path, dp, dp_small, &old))
			goto cleanup;
		xlb_prog_size(old.fd, &old_size);
	}
	if (this_path && *this_path) {
		if (other_load(this_path, dp, dp_small, &other_this))
			goto cleanup;
		this_fd = other_this.fd;
		this_fd_small = other_this.fd_small;
		printf("This build: %s\n", this_path);
	}
	xlb_prog_size(this_fd, &size);
	for (size_t s = 0; s < NSC; s++) {
		__u8 out[PB_MAX];

		build_pkt(&sc[s]);
		if (sc[s].kind == K_HIT || sc[s].kind == K_UDPHIT) {
			/* Establish the flow: a SYN (TCP) or the first datagram. */
			struct pb syn = sc[s].pkt;
			int l4 = pb_find(&syn, PB_TCP);
			LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = syn.buf,
				    .data_size_in = (__u32)syn.len, .data_out = out,
				    .data_size_out = sizeof(out), .repeat = 1);

			if (l4 >= 0)
				syn.buf[l4 + 13] = 0x02;
			bpf_prog_test_run_opts(this_fd, &t);
		}
	}

	printf("xlb data plane, BPF_PROG_TEST_RUN, repeat=1, %d calls per scenario in %d "
	       "interleaved rounds,\nmedian of round means (each without its slowest 1%% of "
	       "calls); %d backends, Maglev M=%d, one CPU.\n\n",
	       ROUNDS * CALLS_PER_ROUND, ROUNDS, NBACKENDS, BENCH_M);
	syn_read(dp, dp_small, &syn_before);
	for (int r = 0; r < ROUNDS; r++) {
		for (size_t s = 0; s < NSC; s++) {
			int fd[2] = {sc[s].kind == K_BASE
					     ? bpf_program__fd(base->progs.xlb_baseline)
				     : sc[s].small ? this_fd_small
						   : this_fd,
				     sc[s].small ? old.fd_small : old.fd};
			double v[2] = {0, 0};

			run_round2(fd, old_obj && sc[s].kind != K_BASE ? 2 : 1, r, &sc[s], v);
			sc[s].round_ns[r] = v[0];
			sc[s].old_round_ns[r] = v[1];
		}
	}
	syn_read(dp, dp_small, &syn_after);

	printf("%-30s %10s %13s %12s %8s\n", "scenario", "ns/packet", "rounds", "over base",
	       "target");
	for (size_t s = 0; s < NSC; s++) {
		double v[ROUNDS];

		memcpy(v, sc[s].round_ns, sizeof(v));
		qsort(v, ROUNDS, sizeof(double), cmp_double);
		sc[s].median = v[ROUNDS / 2];
		sc[s].min = v[0];
		sc[s].max = v[ROUNDS - 1];
		memcpy(v, sc[s].old_round_ns, sizeof(v));
		qsort(v, ROUNDS, sizeof(double), cmp_double);
		sc[s].old_median = v[ROUNDS / 2];
		sc[s].old_min = v[0];
		sc[s].old_max = v[ROUNDS - 1];
	}
	for (size_t s = 0; s < NSC; s++) {
		double over = sc[s].median - sc[0].median;

		char spread[32];

		snprintf(spread, sizeof(spread), "%.0f-%.0f", sc[s].min, sc[s].max);
		if (s == 0)
			printf("%-30s %10.1f %13s %12s %8s\n", sc[s].name, sc[s].median, spread,
			       "-", "-");
		else if (sc[s].target_ns)
			printf("%-30s %10.1f %13s %+12.1f %8d %s\n", sc[s].name, sc[s].median,
			       spread, over, sc[s].target_ns,
			       over <= sc[s].target_ns ? "met" : "MISSED");
		else
			printf("%-30s %10.1f %13s %+12.1f %8s\n", sc[s].name, sc[s].median, spread,
			       over, "-");
	}
	syn_print(&syn_before, &syn_after, old_obj);
	if (old_obj)
		print_other(old_name, &size, &old_size);
	else
		printf("\nProgram: %u instructions (xlated), %u bytes of machine code, %u "
		       "instructions verified.\n",
		       size.xlated_insns, size.jited_bytes, size.verified_insns);
	nffig = floor_rows(this_fd, bpf_program__fd(base->progs.xlb_baseline), ffig, 4, tfig);
	printf("\nNew flows write a random bucket of the flow table (64 bytes a flow): with the "
	       "default\n%u-flow table (%u MiB) that is a cache and TLB miss on this machine, "
	       "with a %u-flow\ntable mostly not. Flow hits reuse one hot flow.\n",
	       XLB_DEFAULT_FLOW_ENTRIES, XLB_DEFAULT_FLOW_ENTRIES * 64 >> 20, SMALL_FLOWS);
	printf("\nFor scale (not measured here): Katran measured the same way on a similar "
	       "machine\ncosts about +125 ns (flow hit) and +560 ns (new flow) over an empty "
	       "program.\n");

	struct scale_fig sfig[6];
	struct xlb_dp_memory mem = {};
	__u64 per_flow = 0, per_table = 0;
	int nsfig = packets_only ? 0 : bench_scale(dp_small, base, sfig);

	if (!packets_only) {
		printf("\nScale: cost over the baseline as VIPs and backends grow (64k-flow "
		       "table)\n");
		printf("%-30s %14s %14s\n", "", "flow hit ns", "new flow ns");
	}
	for (int k = 0; k < nsfig; k++)
		printf("%-30s %14.1f %14.1f\n", sfig[k].what, sfig[k].hit_ns, sfig[k].new_ns);
	if (nsfig < 0)
		printf("  (couldn't set up: %s)\n", strerror(-nsfig));
	if (!packets_only && !bench_memory(&mem, &per_flow, &per_table)) {
		printf("\nMemory, the kernel's accounting (memlock, as bpftool shows it), for 4M "
		       "flows,\n512 VIPs at M=65537 and 4,096 backends:\n");
		printf("  %-40s %llu bytes\n", "per tracked flow", (unsigned long long)per_flow);
		printf("  %-40s %llu KiB\n", "per VIP table (M=65537)",
		       (unsigned long long)per_table >> 10);
		printf("  %-40s %llu MiB (%llu MiB the flow table, %llu MiB tables)\n", "in all",
		       (unsigned long long)(mem.maps + mem.tables) >> 20,
		       (unsigned long long)mem.flows >> 20, (unsigned long long)mem.tables >> 20);
	}

	f = fopen(json, "w");
	if (f) {
		fprintf(f,
			"{\n  \"method\": \"BPF_PROG_TEST_RUN repeat=1, median of %d rounds "
			"of %d calls\",\n  \"scenarios\": [\n",
			ROUNDS, CALLS_PER_ROUND);
		for (size_t s = 0; s < NSC; s++) {
			fprintf(f,
				"    {\"name\": \"%s\", \"ns\": %.1f, \"min_ns\": %.1f, "
				"\"max_ns\": %.1f, \"over_baseline_ns\": %.1f, \"target_ns\": "
				"%d",
				sc[s].name, sc[s].median, sc[s].min, sc[s].max,
				sc[s].median - sc[0].median, sc[s].target_ns);
			if (old_obj && s)
				fprintf(f,
					", \"other_ns\": %.1f, \"other_over_baseline_ns\": %.1f, "
					"\"diff_ns\": %.1f",
					sc[s].old_median, sc[s].old_median - sc[0].median,
					paired_diff(&sc[s], NULL, NULL));
			fprintf(f, "}%s\n", s + 1 < NSC ? "," : "");
		}
		fprintf(f,
			"  ],\n  \"program\": {\"xlated_insns\": %u, \"jited_bytes\": %u, "
			"\"verified_insns\": %u},\n",
			size.xlated_insns, size.jited_bytes, size.verified_insns);
		if (old_obj)
			fprintf(f,
				"  \"other\": {\"name\": \"%s\", \"xlated_insns\": %u, "
				"\"jited_bytes\": %u, \"verified_insns\": %u},\n",
				old_name, old_size.xlated_insns, old_size.jited_bytes,
				old_size.verified_insns);
		fprintf(f, "  \"hit_floor\": [\n");
		for (int k = 0; k < nffig; k++)
			fprintf(f,
				"    {\"name\": \"%s\", \"floor_over_baseline_ns\": %.1f, "
				"\"xlb_over_baseline_ns\": %.1f, \"xlb_minus_floor_ns\": %.1f, "
				"\"min_ns\": %.1f, \"max_ns\": %.1f}%s\n",
				ffig[k].name, ffig[k].over[0], ffig[k].over[1], ffig[k].diff,
				ffig[k].diff_min, ffig[k].diff_max, k + 1 < nffig ? "," : "");
		fprintf(f, "  ],\n  \"first_touch\": [\n");
		for (int k = 0; nffig && k < TOUCH_ROWS; k++)
			fprintf(f,
				"    {\"touch\": \"%s\", \"cold_ns\": %.1f, \"warm_ns\": %.1f}%s\n",
				touch_name[k], tfig[k].cold, tfig[k].warm,
				k + 1 < TOUCH_ROWS ? "," : "");
		fprintf(f, "  ],\n  \"maglev_build\": [\n");
		for (int k = 0; k < nmfig; k++)
			fprintf(f,
				"    {\"backends\": %u, \"m\": %u, \"median_ms\": %.3f, "
				"\"min_ms\": %.3f, \"max_ms\": %.3f, \"book_median_ms\": %.3f}%s\n",
				mfig[k].n, mfig[k].m, mfig[k].median_ms, mfig[k].min_ms,
				mfig[k].max_ms, mfig[k].book_ms, k + 1 < nmfig ? "," : "");
		fprintf(f, "  ],\n  \"change_to_swap\": [\n");
		for (int k = 0; k < ncfig; k++)
			fprintf(f,
				"    {\"backends\": %u, \"m\": %u, \"median_ms\": %.3f, "
				"\"min_ms\": %.3f}%s\n",
				cfig[k].n, cfig[k].m, cfig[k].median_ms, cfig[k].min_ms,
				k + 1 < ncfig ? "," : "");
		fprintf(f, "  ],\n  \"scale\": [\n");
		for (int k = 0; k < nsfig; k++)
			fprintf(f, "    {\"what\": \"%s\", \"hit_ns\": %.1f, \"new_ns\": %.1f}%s\n",
				sfig[k].what, sfig[k].hit_ns, sfig[k].new_ns,
				k + 1 < nsfig ? "," : "");
		fprintf(f,
			"  ],\n  \"memory\": {\"per_flow_bytes\": %llu, \"per_table_bytes\": %llu, "
			"\"total_bytes\": %llu}\n}\n",
			(unsigned long long)per_flow, (unsigned long long)per_table,
			(unsigned long long)(mem.maps + mem.tables));
		fclose(f);
		printf("figures written to %s\n", json);
	}
	err = 0;
cleanup:
	other_close(&old);
	other_close(&other_this);
	baseline__destroy(base);
	xlb_dp_close(dp);
	xlb_dp_close(dp_small);
	return err ? 1 : 0;
}
