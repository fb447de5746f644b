// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-veth-bench: throughput through native XDP on a veth pair (issue #7).
 *
 *   xlb-veth-bench GEN_NETNS GEN_DEV LB_NETNS LB_DEV [JSON]
 *
 * The generator program (bpf/veth_bench.bpf.c) runs under
 * BPF_PROG_TEST_RUN in live-frames mode on GEN_DEV and XDP_TXes each frame
 * to LB_DEV, where either a trivial MAC-swap XDP_TX program (the limit of
 * this pipeline) or xlb with one VIP and 16 backends runs; what comes back
 * to GEN_DEV is counted by the sink program and dropped. Rounds alternate
 * the scenarios so drift hits all alike; each run is a few seconds long
 * (a test run has a fixed setup cost of tens of ms). Prints Mpps, the ratio
 * to the trivial program and the ns each packet costs on top, per round and
 * as a median, with the range of the rounds' ratios. Figures only.
 *
 * On a host shared with other work, XLB_BENCH_CLOCK=cpu divides by this
 * thread's CPU time instead of wall time (see bench_clock), and
 * XLB_BENCH_PAIRED=1 follows each row with a short trivial run that its
 * ratio is taken to (ratio()); XLB_BENCH_ONLY picks rows (wanted()); the "path" rows, which take a
 * stateless packet's path apart step by step (bpf/path_bench.bpf.c), run
 * only when named there.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "maglev.h"
#include "xlb_dp.h"
#include "baseline.skel.h"
#include "ft_bench.skel.h"
#include "path_bench.skel.h"
#include "veth_bench.skel.h"

#define ROUNDS 5
#define REPEAT (1u << 22) /* frames per run: about a second at 4 Mpps */
#define NBACKENDS 16
#define VIP "10.200.0.1"

enum prog {
	TRIVIAL,
	TRIVIAL_IPIP,
	XLB,
	FT_SETASSOC,
	FT_LRU,
	FT_LRU_LISTS,
	FT_LRU_MAPS,
	PATH /* bpf/path_bench.bpf.c, program `bpf` */
};

/* How the bench VIP is set up for an xlb scenario. */
enum vip_kind {
	VIP_DSR = 0, /* dsr, flow table */
	VIP_IPIP,    /* ipip, flow table */
	VIP_SL,	     /* ipip, stateless, no previous hop */
	VIP_SL_PREV, /* ipip, stateless, a previous hop on every slot */
};

struct scenario {
	const char *name;
	enum prog prog;
	__u32 nflows;
	int syn;
	enum vip_kind kind;
	int table; /* xlb: index into table_flows (flow_table_size) */
	double mpps[ROUNDS];
	double hit[ROUNDS]; /* xlb, table mode: flow-table hits / lookups in the run, -1: none */
	const char *bpf;    /* PATH: the program's name */
	double ref[ROUNDS]; /* XLB_BENCH_PAIRED: the trivial program's Mpps right after */
};

/* Flow-table sizes of the xlb instances: the default, then larger ones. */
static const __u32 table_flows[] = {XLB_DEFAULT_FLOW_ENTRIES, 2u << 20, 4u << 20};
#define NTABLES (sizeof(table_flows) / sizeof(table_flows[0]))

// clang-format off
static struct scenario sc[] = {
	{.name = "trivial XDP_TX (MAC swap)", .prog = TRIVIAL,      .nflows = 1},
	{.name = "xlb, 1 flow",               .prog = XLB,          .nflows = 1},
	{.name = "xlb, 1,000 flows",          .prog = XLB,          .nflows = 1000},
	{.name = "xlb, 1,000,000 flows",      .prog = XLB,          .nflows = 1000000},
	{.name = "xlb, 1M flows, 2M table",   .prog = XLB,          .nflows = 1000000, .table = 1},
	{.name = "xlb, 1M flows, 4M table",   .prog = XLB,          .nflows = 1000000, .table = 2},
	{.name = "xlb, SYN flood (16M srcs)", .prog = XLB,          .nflows = 16000000, .syn = 1},
	/* ipip: flow table vs stateless (issue #14), the same encapsulation */
	{.name = "trivial ipip encap + XDP_TX", .prog = TRIVIAL_IPIP, .nflows = 1},
	{.name = "ipip table, 1 flow",        .prog = XLB, .nflows = 1,       .kind = VIP_IPIP},
	{.name = "ipip table, 1M flows",      .prog = XLB, .nflows = 1000000, .kind = VIP_IPIP},
	{.name = "stateless, 1 flow",         .prog = XLB, .nflows = 1,       .kind = VIP_SL},
	{.name = "stateless, 1k flows",       .prog = XLB, .nflows = 1000,    .kind = VIP_SL},
	{.name = "stateless, 1M flows",       .prog = XLB, .nflows = 1000000, .kind = VIP_SL},
	{.name = "stateless+prev, 1 flow",    .prog = XLB, .nflows = 1,       .kind = VIP_SL_PREV},
	{.name = "stateless+prev, 1k flows",  .prog = XLB, .nflows = 1000,    .kind = VIP_SL_PREV},
	{.name = "stateless+prev, 1M flows",  .prog = XLB, .nflows = 1000000, .kind = VIP_SL_PREV},
	/* the flow table alone (+ MAC swap), four designs */
	{.name = "set-assoc array, 1k",       .prog = FT_SETASSOC,  .nflows = 1000},
	{.name = "set-assoc array, 1M",       .prog = FT_SETASSOC,  .nflows = 1000000},
	{.name = "LRU hash, 1k",              .prog = FT_LRU,       .nflows = 1000},
	{.name = "LRU hash, 1M",              .prog = FT_LRU,       .nflows = 1000000},
	{.name = "LRU per-CPU lists, 1k",     .prog = FT_LRU_LISTS, .nflows = 1000},
	{.name = "LRU per-CPU lists, 1M",     .prog = FT_LRU_LISTS, .nflows = 1000000},
	{.name = "LRU map per CPU, 1k",       .prog = FT_LRU_MAPS,  .nflows = 1000},
	{.name = "LRU map per CPU, 1M",       .prog = FT_LRU_MAPS,  .nflows = 1000000},
	/* where a stateless packet's time goes (bpf/path_bench.bpf.c): run
	 * only when XLB_BENCH_ONLY names them ("path 1:", "path 1M:", "path") */
#define PATH_ROW(n, label, what, bpf_prog) \
	{.name = "path " label ": " what, .prog = PATH, .nflows = n, .kind = VIP_SL, .bpf = bpf_prog}
#define PATH_ROWS(n, label)                                        \
	PATH_ROW(n, label, "full",               "pb_full"),       \
	PATH_ROW(n, label, "no MAC check",       "pb_no_mac"),     \
	PATH_ROW(n, label, "fixed parse",        "pb_fast_parse"), \
	PATH_ROW(n, label, "no VIP lookup",      "pb_no_vip"),     \
	PATH_ROW(n, label, "VIP map, no cache",  "pb_vip_map"),    \
	PATH_ROW(n, label, "cheap hash",         "pb_cheap_hash"), \
	PATH_ROW(n, label, "no VIP stats",       "pb_no_vstats"),  \
	PATH_ROW(n, label, "no backend stats",   "pb_no_bstats"),  \
	PATH_ROW(n, label, "no reason count",    "pb_no_reason"),  \
	PATH_ROW(n, label, "no counters",        "pb_no_stats"),   \
	PATH_ROW(n, label, "no Maglev",          "pb_no_maglev"),  \
	PATH_ROW(n, label, "no backend lookup",  "pb_no_backend"), \
	PATH_ROW(n, label, "no PMTU check",      "pb_no_pmtu"),    \
	PATH_ROW(n, label, "none of these",      "pb_none")
	PATH_ROWS(1, "1"),
	PATH_ROWS(1000000, "1M"),
};
// clang-format on
#define NSC (sizeof(sc) / sizeof(sc[0]))

static int enter(const char *netns)
{
	int fd = open(netns, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return err;
}

/* The VIP (10.200.0.1:80, 16 backends) as the scenario wants it. */
static int setup_xlb(struct xlb_dp *dp, enum vip_kind kind)
{
	struct xlb_maglev_backend mb[NBACKENDS];
	struct xlb_vip_key k = {.port = htons(80), .proto = 6};
	struct xlb_vip_val v = {.vip_id = 1,
				.table_size = XLB_DEFAULT_TABLE_SIZE,
				.mode = kind == VIP_DSR ? XLB_MODE_DSR : XLB_MODE_IPIP,
				.flow_state = kind >= VIP_SL ? XLB_FLOW_STATELESS : XLB_FLOW_TABLE};
	__u32 *table = calloc(XLB_DEFAULT_TABLE_SIZE, sizeof(*table));
	__u32 *sl = calloc(2 * XLB_DEFAULT_TABLE_SIZE, sizeof(*sl));
	int err = table && sl ? 0 : -ENOMEM;

	for (int i = 0; !err && i < NBACKENDS; i++) {
		struct xlb_backend b = {.state = XLB_BE_ACTIVE,
					.gen = 1,
					.vip_id = 1,
					.mode = v.mode,
					.family = XLB_AF_INET,
					.mac = {0x02, 0, 0, 0, 0, (__u8)i}};
		char name[32];

		snprintf(name, sizeof(name), "10.201.0.%d", 10 + i);
		xlb_addr_parse(name, &b.addr);
		err = xlb_dp_backend_set(dp, 1 + (__u32)i, &b);
		mb[i] = (struct xlb_maglev_backend){
			.key = xlb_maglev_key(name), .id = 1 + (__u32)i, .weight = 1};
	}
	xlb_addr_parse(VIP, &k.addr);
	err = err ?: xlb_maglev_build(mb, NBACKENDS, XLB_DEFAULT_TABLE_SIZE, table);
	if (err || kind < VIP_SL) {
		err = err ?: xlb_dp_vip_set(dp, &k, &v, table);
		free(table);
		free(sl);
		return err;
	}
	/* {cur, prev} per slot: two consecutive ids (xlb_abi.h xlb_sl_slots) */
	for (__u32 i = 0; i < XLB_DEFAULT_TABLE_SIZE; i++) {
		sl[2 * i] = table[i];
		sl[2 * i + 1] = kind == VIP_SL_PREV ? table[i] % NBACKENDS + 1 : XLB_BACKEND_NONE;
	}
	err = xlb_dp_vip_set(dp, &k, &v, NULL)
		      ?: xlb_dp_table_swap(dp, 1, sl, 2 * XLB_DEFAULT_TABLE_SIZE);
	free(table);
	free(sl);
	return err;
}

/* One LRU map per CPU behind the outer array (index 0 came with the object). */
static int fill_percpu_maps(struct ft_bench *ft)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int ncpu = libbpf_num_possible_cpus();

	for (__u32 c = 1; c < (__u32)ncpu && c < 64; c++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "ft_inner",
					sizeof(struct xlb_flow_key), 8, XLB_DEFAULT_FLOW_ENTRIES,
					&o);
		int err;

		if (fd < 0)
			return -errno;
		err = bpf_map_update_elem(bpf_map__fd(ft->maps.ft_percpu), &c, &fd, BPF_ANY);
		close(fd);
		if (err)
			return -errno;
	}
	return 0;
}

static int prog_fd(const struct scenario *s, struct xlb_dp *dp, struct baseline *bl,
		   struct ft_bench *ft, struct path_bench *pb)
{
	switch (s->prog) {
	case TRIVIAL:
		return bpf_program__fd(bl->progs.xlb_baseline);
	case TRIVIAL_IPIP:
		return bpf_program__fd(bl->progs.xlb_baseline_ipip);
	case XLB:
		return xlb_dp_prog_fd(dp);
	case FT_SETASSOC:
		return bpf_program__fd(ft->progs.ft_setassoc);
	case FT_LRU:
		return bpf_program__fd(ft->progs.ft_lru_shared);
	case FT_LRU_LISTS:
		return bpf_program__fd(ft->progs.ft_lru_percpu_lists);
	case FT_LRU_MAPS:
		return bpf_program__fd(ft->progs.ft_lru_percpu_maps);
	case PATH:
		return bpf_program__fd(bpf_object__find_program_by_name(pb->obj, s->bpf));
	}
	return -1;
}

/*
 * XLB_BENCH_ONLY=TEXT[|TEXT...]: the rows whose name has one of the texts
 * (and the trivial program, every ratio's reference). Unset: every row but
 * the path rows.
 */
static int wanted(const struct scenario *s, const char *only)
{
	if (s->prog == TRIVIAL)
		return 1;
	if (!only)
		return s->prog != PATH;
	for (const char *t = only; *t;) {
		const char *bar = strchr(t, '|');
		size_t n = bar ? (size_t)(bar - t) : strlen(t);

		if (n && memmem(s->name, strlen(s->name), t, n))
			return 1;
		t += n + (bar != NULL);
	}
	return 0;
}

/* Map `name`'s fd among those prog_fd uses, or -ENOENT. */
static int prog_map_fd(int prog_fd, const char *name)
{
	__u32 ids[64], len;
	struct bpf_prog_info pi = {.nr_map_ids = 64, .map_ids = (__u64)(unsigned long)ids};

	len = sizeof(pi);
	if (bpf_obj_get_info_by_fd(prog_fd, &pi, &len))
		return -errno;
	for (__u32 i = 0; i < pi.nr_map_ids && i < 64; i++) {
		struct bpf_map_info mi = {};
		int fd = bpf_map_get_fd_by_id(ids[i]);

		len = sizeof(mi);
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &mi, &len) &&
		    !strncmp(mi.name, name, sizeof(mi.name) - 1))
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -ENOENT;
}

/* The path programs (bpf/path_bench.bpf.c) on dp's maps, with dp's .rodata. */
static struct path_bench *path_open(struct xlb_dp *dp, const struct xlb_dp_opts *o)
{
	struct path_bench *pb = path_bench__open();
	struct bpf_map *m;
	int err = pb ? 0 : -errno;

	bpf_object__for_each_map(m, pb ? pb->obj : NULL)
	{
		int fd;

		if (err || bpf_map__is_internal(m))
			continue;
		fd = prog_map_fd(xlb_dp_prog_fd(dp), bpf_map__name(m));
		err = fd < 0 ? fd : bpf_map__reuse_fd(m, fd);
		if (fd >= 0)
			close(fd);
	}
	if (!err) {
		pb->rodata->flow_buckets = XLB_DEFAULT_FLOW_ENTRIES / XLB_FLOW_WAYS;
		pb->rodata->encap_src4 = o->encap_src4;
		pb->rodata->encap_vary_mask = (1u << o->encap_vary_bits) - 1;
		memcpy((void *)&pb->rodata->hash_seed, &o->hash_seed, sizeof(o->hash_seed));
		pb->rodata->reject_cpus = xlb_dp_reject_cpus();
		err = path_bench__load(pb);
	}
	if (err) {
		fprintf(stderr, "xlb-veth-bench: couldn't load the path programs: %s\n",
			strerror(-err));
		path_bench__destroy(pb);
		return NULL;
	}
	return pb;
}

static __u64 sunk(struct veth_bench *vb)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v = calloc((size_t)ncpu, sizeof(*v)), sum = 0;
	__u32 key = 0;

	if (v && !bpf_map_lookup_elem(bpf_map__fd(vb->maps.sunk), &key, v))
		for (int c = 0; c < ncpu; c++)
			sum += v[c];
	free(v);
	return sum;
}

static double run_n(struct veth_bench *vb, int gen_ifindex, __u32 repeat);

/* The flow table's entry for generator flow i (xlb_gen's numbering). */
static int flow_backend(struct xlb_dp *dp, __u32 i, __u32 *backend)
{
	struct xlb_flow_key k = {
		.sport = htons((__u16)(1024 + (i & 0x7fff))), .dport = htons(80), .proto = 6};
	struct xlb_flow_entry e;
	char a[32];

	snprintf(a, sizeof(a), "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
	xlb_addr_parse(a, &k.saddr);
	xlb_addr_parse(VIP, &k.daddr);
	if (xlb_dp_flow_get(dp, &k, &e))
		return -ENOENT;
	*backend = e.backend_id;
	return 0;
}

#define ESTABLISHED 1000u
#define FLOOD (1u << 23) /* SYNs: eight times what the flow table holds */

/*
 * Established flows under a SYN flood that fills the flow table: which are
 * still in it, and where their next packet goes.
 */
static void flood_test(struct veth_bench *vb, struct xlb_dp *dp, int gen_if, const char *lb_ns,
		       const char *gen_ns, int lb_if, FILE *json)
{
	__u32 before[ESTABLISHED], after, kept = 0, same = 0, known = 0;
	double mpps;
	int link;

	enter(lb_ns);
	link = xlb_xdp_attach(xlb_dp_prog_fd(dp), lb_if, 0);
	enter(gen_ns);
	if (link < 0)
		return;
	vb->data->nflows = ESTABLISHED;
	vb->bss->base = 0;
	vb->bss->syn = 0;
	vb->bss->seq = 0;
	run_n(vb, gen_if, ESTABLISHED * 4);
	for (__u32 i = 0; i < ESTABLISHED; i++)
		known += !flow_backend(dp, i, &before[i]);
	vb->data->nflows = 0x7fffffff;
	vb->bss->base = 1000000;
	vb->bss->syn = 1;
	vb->bss->seq = 0;
	mpps = run_n(vb, gen_if, FLOOD);
	for (__u32 i = 0; i < ESTABLISHED; i++)
		kept += !flow_backend(dp, i, &after) && after == before[i];
	vb->data->nflows = ESTABLISHED;
	vb->bss->base = 0;
	vb->bss->syn = 0;
	vb->bss->seq = 0;
	run_n(vb, gen_if, ESTABLISHED);
	for (__u32 i = 0; i < ESTABLISHED; i++)
		same += !flow_backend(dp, i, &after) && after == before[i];
	close(link);
	printf("\nSYN flood of %u new connections from distinct sources (flow table: %u):\n", FLOOD,
	       XLB_DEFAULT_FLOW_ENTRIES);
	printf("  new connections handled            %.2f M/s\n", mpps);
	printf("  established flows (idle during it) %u in the table before\n", known);
	printf("  ... still in the table after       %u\n", kept);
	printf("  ... on the same backend after their next packet: %u of %u\n", same, ESTABLISHED);
	printf("  (an evicted flow is hashed again by Maglev; with the same backends the\n"
	       "   table is the same, so it lands where it was)\n");
	if (json)
		fprintf(json,
			", \"syn_flood\": {\"new_flows_mpps\": %.3f, \"established\": %u, "
			"\"kept_in_table\": %u, \"same_backend\": %u}",
			mpps, known, kept, same);
}

/* XLB_BENCH_CLOCK=cpu: per packet CPU time of this thread (the generator,
 * and the LB's veth NAPI, which runs in its softirq) instead of wall time:
 * steadier on a loaded host. */
static clockid_t bench_clock = CLOCK_MONOTONIC;

/* One run: `repeat` frames from the generator; Mpps that came back. */
static double run_n(struct veth_bench *vb, int gen_ifindex, __u32 repeat)
{
	unsigned char frame[64] = {0};
	struct xdp_md ctx = {.data_end = sizeof(frame), .ingress_ifindex = (__u32)gen_ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	struct timespec t0, t1;
	__u64 before = sunk(vb), after;
	double s;

	clock_gettime(bench_clock, &t0);
	if (bpf_prog_test_run_opts(bpf_program__fd(vb->progs.xlb_gen), &o)) {
		fprintf(stderr, "xlb-veth-bench: test run: %s\n", strerror(errno));
		return 0;
	}
	clock_gettime(bench_clock, &t1);
	usleep(20000); /* the last frames land */
	after = sunk(vb);
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	return (double)(after - before) / s / 1e6;
}

/*
 * XLB_BENCH_PAIRED=1: each row's run is followed by a short run of the
 * trivial program, and the row's ratio in a round is to that run: load
 * that comes and goes within a round then hits both sides of the ratio.
 */
static int paired;

/* Row s's ratio to the trivial program in round r (0: not run). */
static double ratio(size_t s, int r)
{
	double ref = paired && s ? sc[s].ref[r] : sc[0].mpps[r];

	return ref > 0 ? sc[s].mpps[r] / ref : 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v)
{
	double s[ROUNDS];

	memcpy(s, v, sizeof(s));
	qsort(s, ROUNDS, sizeof(s[0]), cmp);
	return s[ROUNDS / 2];
}

static double median_ratio(size_t s)
{
	double q[ROUNDS];

	for (int r = 0; r < ROUNDS; r++)
		q[r] = ratio(s, r);
	return median(q);
}

/* The ipip rows against the trivial encapsulating program: xlb's own work. */
static void ipip_floor(void)
{
	double floor = 0, qf = 0, base = median(sc[0].mpps);

	for (size_t s = 0; s < NSC; s++)
		if (sc[s].prog == TRIVIAL_IPIP) {
			floor = median(sc[s].mpps);
			qf = median_ratio(s);
		}
	if (floor <= 0 || qf <= 0 || base <= 0)
		return;
	printf("\n  ipip rows against the trivial ipip program (%.2f Mpps):\n", floor);
	for (size_t s = 0; s < NSC; s++) {
		double m = median(sc[s].mpps), q = median_ratio(s);

		/* both ratios to the trivial program: the ns apart at its rate */
		if (((sc[s].prog == XLB && sc[s].kind != VIP_DSR) || sc[s].prog == PATH) && q > 0)
			printf("  %-28s %8.2f %8.2f %12.1f\n", sc[s].name, m, q / qf,
			       1e3 / (q * base) - 1e3 / (qf * base));
	}
}

int main(int argc, char **argv)
{
	struct veth_bench *vb = NULL;
	struct baseline *bl = NULL;
	struct ft_bench *ft = NULL;
	struct path_bench *pb = NULL;
	struct xlb_dp *dp = NULL, *dps[NTABLES] = {0};
	struct xlb_dp_opts dopts = {0};
	int gen_if, lb_if, sink_link = -1, err;
	const char *json = argc > 5 ? argv[5] : "build/bench-veth.json";
	/* XLB_BENCH_ONLY=TEXT[|TEXT]: only the scenarios whose name has a TEXT
	 * (wanted()), no SYN-flood test */
	const char *only = getenv("XLB_BENCH_ONLY");
	const char *clock_env = getenv("XLB_BENCH_CLOCK"), *paired_env = getenv("XLB_BENCH_PAIRED");
	FILE *f;

	if (argc < 5) {
		fprintf(stderr, "usage: xlb-veth-bench GEN_NETNS GEN_DEV LB_NETNS LB_DEV [JSON]\n");
		return 2;
	}
	xlb_log_libbpf();
	if (clock_env && !strcmp(clock_env, "cpu"))
		bench_clock = CLOCK_THREAD_CPUTIME_ID;
	paired = paired_env && !strcmp(paired_env, "1");
	/* the data plane is loaded in the LB's namespace and attached there */
	err = enter(argv[3]);
	lb_if = (int)if_nametoindex(argv[4]);
	for (size_t t = 0; !err && t < NTABLES; t++) {
		dopts.flow_entries = table_flows[t];
		err = xlb_dp_open(&dopts, &dps[t]);
		/* the generator's frames go to 02:02:02:02:02:02 (dst_mac below) */
		err = err ?: xlb_dp_nic_set(dps[t], (const __u8[6]){2, 2, 2, 2, 2, 2}, 0);
		err = err ?: setup_xlb(dps[t], VIP_DSR);
	}
	dp = dps[0];
	bl = baseline__open_and_load();
	vb = veth_bench__open_and_load();
	ft = ft_bench__open_and_load();
	err = err ?: (ft ? fill_percpu_maps(ft) : -ENOENT);
	dopts.flow_entries = 0;
	pb = err ? NULL : path_open(dp, &dopts);
	if (err || !lb_if || !bl || !vb || !ft || !pb) {
		fprintf(stderr, "xlb-veth-bench: setup failed (%s)\n",
			strerror(err ? -err : errno));
		return 1;
	}
	err = enter(argv[1]);
	gen_if = (int)if_nametoindex(argv[2]);
	sink_link = gen_if ? xlb_xdp_attach(bpf_program__fd(vb->progs.xlb_sink), gen_if, 0) : -1;
	if (err || sink_link < 0) {
		fprintf(stderr, "xlb-veth-bench: couldn't attach the sink to '%s'\n", argv[2]);
		return 1;
	}
	inet_pton(AF_INET, VIP, &vb->bss->vip);
	memset(vb->bss->dst_mac, 0x02, 6);
	memset(vb->bss->src_mac, 0x04, 6);

	printf("Throughput through native XDP on a veth pair (one CPU per run, %u frames a run)\n",
	       REPEAT);
	for (int r = 0; r < ROUNDS; r++) {
		for (size_t s = 0; s < NSC; s++) {
			struct xlb_dp *sdp = dps[sc[s].table];
			struct xlb_dp_flow_lookups l0 = {0}, l1 = {0};
			int link;

			sc[s].hit[r] = -1;
			if (!wanted(&sc[s], only))
				continue;
			enter(argv[3]);
			if ((sc[s].prog == XLB || sc[s].prog == PATH) &&
			    (setup_xlb(sdp, sc[s].kind) ||
			     xlb_dp_backend_get(sdp, 1, &pb->bss->bench_be))) {
				fprintf(stderr, "xlb-veth-bench: couldn't set the VIP up\n");
				return 1;
			}
			pb->bss->bench_vip =
				(struct xlb_vip_val){.vip_id = 1,
						     .table_size = XLB_DEFAULT_TABLE_SIZE,
						     .mode = XLB_MODE_IPIP,
						     .flow_state = XLB_FLOW_STATELESS};
			link = xlb_xdp_attach(prog_fd(&sc[s], sdp, bl, ft, pb), lb_if, 0);
			enter(argv[1]);
			if (link < 0) {
				fprintf(stderr, "xlb-veth-bench: attach to '%s': %s\n", argv[4],
					strerror(-link));
				return 1;
			}
			vb->data->nflows = sc[s].nflows;
			vb->bss->syn = (__u32)sc[s].syn;
			vb->bss->base = 0;
			vb->bss->seq = 0;
			if (sc[s].prog != TRIVIAL && sc[s].prog != PATH && sc[s].nflows > 1 &&
			    !sc[s].syn)
				run_n(vb, gen_if, REPEAT); /* a warm-up pass: the flows are known */
			if (sc[s].prog == XLB && sc[s].kind < VIP_SL && !sc[s].syn &&
			    !xlb_dp_flow_lookups(sdp, &l0))
				sc[s].hit[r] = 0;
			sc[s].mpps[r] = run_n(vb, gen_if, REPEAT);
			if (paired && s) {
				close(link);
				enter(argv[3]);
				link = xlb_xdp_attach(prog_fd(&sc[0], sdp, bl, ft, pb), lb_if, 0);
				enter(argv[1]);
				vb->data->nflows = 1;
				sc[s].ref[r] = link < 0 ? 0 : run_n(vb, gen_if, REPEAT / 4);
			}
			if (sc[s].hit[r] == 0 && !xlb_dp_flow_lookups(sdp, &l1) &&
			    l1.hits + l1.misses > l0.hits + l0.misses)
				sc[s].hit[r] = (double)(l1.hits - l0.hits) /
					       (double)(l1.hits + l1.misses - l0.hits - l0.misses);
			close(link);
		}
		printf("  round %d:", r + 1);
		for (size_t s = 0; s < NSC; s++)
			if (wanted(&sc[s], only))
				printf(" %.2f", sc[s].mpps[r]);
		printf(" Mpps\n");
	}
	double base = median(sc[0].mpps);

	printf("\n  %-28s %8s %8s %12s %16s %7s\n", "scenario (median)", "Mpps", "ratio",
	       "+ns/packet", "ratio range", "hit %");
	for (size_t s = 0; s < NSC; s++) {
		double m = median(sc[s].mpps), h = median(sc[s].hit), lo = 1e9, hi = 0;
		double mq = median_ratio(s);

		/* each round's ratio to that round's trivial run (paired: the run after) */
		for (int r = 0; r < ROUNDS; r++) {
			double q = ratio(s, r);

			lo = q < lo ? q : lo;
			hi = q > hi ? q : hi;
		}
		if (!wanted(&sc[s], only))
			continue;
		if (sc[s].prog == FT_SETASSOC && sc[s - 1].prog == XLB)
			printf("  flow table alone (+ MAC swap):\n");
		printf("  %-28s %8.2f %8.2f %12.1f %11.2f-%.2f", sc[s].name, m, mq,
		       mq > 0 && base > 0 ? 1e3 / (mq * base) - 1e3 / base : 0, lo, hi);
		if (h >= 0)
			printf(" %7.1f", 100 * h);
		printf("\n");
	}
	printf("  targets: ratio >= 0.90 with 1 and 1,000 flows, >= 0.80 with 1,000,000\n");
	ipip_floor();
	f = fopen(json, "w");
	if (f) {
		fprintf(f, "{\"veth\": [");
		for (size_t s = 0; s < NSC; s++)
			fprintf(f,
				"%s{\"scenario\": \"%s\", \"mpps\": %.3f, \"ratio\": %.3f, "
				"\"hit_rate\": %.3f}",
				s ? ", " : "", sc[s].name, median(sc[s].mpps), median_ratio(s),
				median(sc[s].hit));
		fprintf(f, "]");
	}
	enter(argv[3]);
	if (!only && !setup_xlb(dp, VIP_DSR))
		flood_test(vb, dp, gen_if, argv[3], argv[1], lb_if, f);
	if (f) {
		fprintf(f, "}\n");
		fclose(f);
	}
	close(sink_link);
	for (size_t t = 0; t < NTABLES; t++)
		xlb_dp_close(dps[t]);
	veth_bench__destroy(vb);
	ft_bench__destroy(ft);
	path_bench__destroy(pb);
	baseline__destroy(bl);
	return 0;
}
