// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-sl-flood: a SYN flood from 8M distinct sources while 1,000
 * established flows send, after a table change (issue #14), through native
 * XDP on a veth pair; tests/flood/run.sh makes the pair.
 *
 *   xlb-sl-flood GEN_DEV LB_DEV       (both in the caller's namespace)
 *
 * One ipip VIP with 4 backends. Per mode: the 1,000 flows send a packet
 * each (the backend it reaches holds the connection); a fifth backend is
 * added (Maglev moves about 1/5 of the slots to it); 8M SYNs from sources
 * never seen before go through xlb with an ACK of one of the flows every
 * 1,024 frames; then each flow sends once more. A flow moved when one of
 * its packets reached neither its backend nor (stateless) carried it as the
 * previous hop, whose decap the current backend hands the packet on to
 * (bpf/flood_lab.bpf.c watches every packet xlb sends back).
 *
 *  - flow_state table (the same VIP, a 1M-flow table): the flood evicts
 *    the flows, and about 1/5 of the evicted ones are hashed to the new
 *    backend: moved > 0 (which shows the test sees a move);
 *  - flow_state stateless, previous hops as the agent fills them
 *    (user/common/handover.c): nothing to evict, moved == 0, and the flows
 *    of the moved slots reach their backend through the previous hop;
 *  - stateless without previous hops (control, no flood): the flows of the
 *    moved slots move, moved > 0.
 * Exits 1 when any of these does not hold. XLB_FLOOD_SYNS: another flood
 * size (for a quick look; the test is the default).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "handover.h"
#include "log.h"
#include "maglev.h"
#include "xlb_dp.h"
#include "xlb_flood_lab.h"
#include "flood_lab.skel.h"

#define NFLOWS 1000u
#define NBACKENDS 5 /* 4, then one more */
#define PROBE_EVERY 1024u
#define TABLE XLB_DEFAULT_TABLE_SIZE
#define VIP "10.200.0.1"
#define HANDOVER_MS 600000u
#define TRIES 20

enum mode {
	M_TABLE,
	M_SL,
	M_SL_NOPREV,
	M_N
};

static const char *const mode_name[M_N] = {"table", "stateless", "stateless, no prev hops"};

struct result {
	__u32 established;
	__u32 slots_moved;   /* of the Maglev table, by the added backend */
	__u64 syns_sent;     /* by the generator */
	__u64 syns_back;     /* ... that xlb sent on */
	double seconds;	     /* the flood's */
	__u64 probes_during; /* the flows' packets back during the flood */
	__u32 moved_during;  /* flows with a packet that missed their backend */
	__u32 moved_next;    /* ... whose next packet after the flood did */
	__u32 moved;	     /* ... either */
	__u32 via_prev;	     /* flows whose next packet reached it as the previous hop */
	__u64 evicted;	     /* flow-table evictions */
	__u64 missed_table;  /* the flows' packets during the flood that missed it */
};

struct lab {
	struct flood_lab *fl;
	int gen_if, lb_if;
	__u64 flood;
};

static __u32 table4[TABLE], table5[TABLE], entries[TABLE];

static int backend_ip(__u32 id, char *buf, size_t len)
{
	return snprintf(buf, len, "10.201.0.%u", 10 + id) < 0 ? -EINVAL : 0;
}

/* Maglev over backends 1..n (the same keys the agent would use). */
static int build(int n, __u32 *table)
{
	struct xlb_maglev_backend mb[NBACKENDS];
	char name[32];

	for (int i = 0; i < n; i++) {
		backend_ip(1 + (__u32)i, name, sizeof(name));
		mb[i] = (struct xlb_maglev_backend){
			.key = xlb_maglev_key(name), .id = 1 + (__u32)i, .weight = 1};
	}
	return xlb_maglev_build(mb, (size_t)n, TABLE, table);
}

/* Every backend ACTIVE, generation 1 (what the agent tells handover.c). */
static int hop_active(void *ctx, __u32 id, __u32 *gen)
{
	(void)ctx;
	(void)id;
	*gen = 1;
	return XLB_BE_ACTIVE;
}

static void vip_kv(enum mode m, struct xlb_vip_key *k, struct xlb_vip_val *v)
{
	*k = (struct xlb_vip_key){.port = htons(80), .proto = IPPROTO_TCP};
	*v = (struct xlb_vip_val){.vip_id = 1,
				  .table_size = TABLE,
				  .mode = XLB_MODE_IPIP,
				  .flow_state = m == M_TABLE ? XLB_FLOW_TABLE : XLB_FLOW_STATELESS};
	xlb_addr_parse(VIP, &k->addr);
}

/* A fresh data plane (default flow table) with the VIP on backends 1-4. */
static int dp_open(enum mode m, struct xlb_dp **out)
{
	struct xlb_dp_opts o = {.encap_vary_bits = 16,
				.hash_seed = {{0x0123456789abcdefull, 0xfedcba9876543210ull}}};
	struct xlb_vip_key k;
	struct xlb_vip_val v;
	struct xlb_dp *dp;
	char name[32];
	int err;

	inet_pton(AF_INET, "172.16.0.0", &o.encap_src4);
	err = xlb_dp_open(&o, &dp);
	if (err)
		return err;
	err = xlb_dp_nic_set(dp, (const __u8[6]){2, 2, 2, 2, 2, 2}, 0);
	for (__u32 id = 1; !err && id <= NBACKENDS; id++) {
		struct xlb_backend b = {.state = XLB_BE_ACTIVE,
					.gen = 1,
					.vip_id = 1,
					.mode = XLB_MODE_IPIP,
					.family = XLB_AF_INET,
					.mac = {0x02, 0, 0, 0, 0, (__u8)id}};

		backend_ip(id, name, sizeof(name));
		xlb_addr_parse(name, &b.addr);
		err = xlb_dp_backend_set(dp, id, &b);
	}
	vip_kv(m, &k, &v);
	/* a stateless entry: cur | prev << 16, no previous hop yet */
	err = err ?: xlb_dp_vip_set(dp, &k, &v, table4);
	if (err) {
		xlb_dp_close(dp);
		return err;
	}
	*out = dp;
	return 0;
}

/* Backend 5 joins: the new table, with previous hops in mode M_SL. */
static int add_backend(struct xlb_dp *dp, enum mode m, __u32 *with_prev)
{
	struct xlb_handover *h0 = NULL, *h1 = NULL;
	struct xlb_vip_key k;
	struct xlb_vip_val v;
	int err;

	*with_prev = 0;
	if (m == M_TABLE)
		return xlb_dp_table_swap(dp, 1, table5, TABLE);
	memcpy(entries, table5, sizeof(entries));
	if (m == M_SL) {
		/* the agent's two rebuilds: the table it started with, then
		 * the one with backend 5 a second later */
		h0 = xlb_ho_next(NULL, table4, TABLE, 0, HANDOVER_MS, hop_active, NULL);
		h1 = h0 ? xlb_ho_next(h0, table5, TABLE, 1000, HANDOVER_MS, hop_active, NULL)
			: NULL;
		if (!h1) {
			free(h0);
			return -ENOMEM;
		}
		xlb_ho_encode(h1, entries);
		*with_prev = h1->with_prev;
		free(h0);
		free(h1);
	}
	vip_kv(m, &k, &v);
	err = xlb_dp_vip_set(dp, &k, &v, entries);
	return err;
}

static __u64 sunk(struct flood_lab *fl, __u32 what)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v = calloc((size_t)ncpu, sizeof(*v)), sum = 0;

	if (v && !bpf_map_lookup_elem(bpf_map__fd(fl->maps.flood_sunk), &what, v))
		for (int c = 0; c < ncpu; c++)
			sum += v[c];
	free(v);
	return sum;
}

/* `frames` frames from the generator, every probe_every-th an established
 * flow's (1: only those); seconds it took. */
static double gen(struct lab *l, __u64 frames, __u32 probe_every)
{
	unsigned char frame[64] = {0};
	struct xdp_md ctx = {.data_end = sizeof(frame), .ingress_ifindex = (__u32)l->gen_if};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = (__u32)frames,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	struct timespec t0, t1;

	l->fl->bss->probe_every = probe_every;
	l->fl->bss->seq = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (bpf_prog_test_run_opts(bpf_program__fd(l->fl->progs.flood_gen), &o)) {
		fprintf(stderr, "xlb-sl-flood: couldn't run the generator: %s\n", strerror(errno));
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	usleep(20000); /* the last frames land */
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

static int probes_read(struct lab *l, struct flood_probe *p)
{
	int fd = bpf_map__fd(l->fl->maps.flood_probes);

	for (__u32 i = 0; i < NFLOWS; i++)
		if (bpf_map_lookup_elem(fd, &i, &p[i]))
			return -errno;
	return 0;
}

/* The flows send until each has sent one more packet than in `before`
 * (or TRIES rounds: a frame the veth dropped is sent again). */
static int send_each(struct lab *l, const struct flood_probe *before, struct flood_probe *after)
{
	for (int t = 0; t < TRIES; t++) {
		__u32 missing = 0;

		if (gen(l, NFLOWS, 1) < 0 || probes_read(l, after))
			return -EIO;
		for (__u32 i = 0; i < NFLOWS; i++)
			missing += after[i].seen <= before[i].seen;
		if (!missing)
			return 0;
	}
	return -ETIMEDOUT;
}

static const struct flood_probe none[NFLOWS];
static struct flood_probe est[NFLOWS], during[NFLOWS], after[NFLOWS];

static int run_mode(struct lab *l, enum mode m, struct result *r)
{
	struct xlb_dp *dp = NULL;
	int link = -1, err, fd = bpf_map__fd(l->fl->maps.flood_probes);
	struct flood_probe zero = {0};
	__u64 back0, miss0 = 0;

	memset(r, 0, sizeof(*r));
	err = dp_open(m, &dp);
	if (err) {
		fprintf(stderr, "xlb-sl-flood: couldn't load xlb: %s\n", strerror(-err));
		return err;
	}
	link = xlb_xdp_attach(xlb_dp_prog_fd(dp), l->lb_if, 0);
	if (link < 0) {
		fprintf(stderr, "xlb-sl-flood: couldn't attach xlb: %s\n", strerror(-link));
		xlb_dp_close(dp);
		return link;
	}
	for (__u32 i = 0; i < FLOOD_MAX_PROBES && !err; i++)
		err = bpf_map_update_elem(fd, &i, &zero, BPF_ANY) ? -errno : 0;
	/* 1. the flows are established: their first packet names the holder */
	err = err ?: send_each(l, none, est);
	for (__u32 i = 0; !err && i < NFLOWS; i++)
		r->established += est[i].holder != 0;
	/* 2. the table changes */
	err = err ?: add_backend(dp, m, &r->slots_moved);
	for (__u32 i = 0; i < TABLE; i++)
		r->slots_moved += m != M_SL && table4[i] != table5[i];
	/* 3. the flood, the flows' packets among it */
	back0 = sunk(l->fl, FLOOD_SUNK_SYN);
	xlb_dp_reason_count(dp, XLB_R_FLOW_MISS, &miss0);
	l->fl->bss->syns = 0;
	if (!err && m != M_SL_NOPREV) {
		r->seconds = gen(l, l->flood + l->flood / (PROBE_EVERY - 1) + 2, PROBE_EVERY);
		err = r->seconds < 0 ? -EIO : 0;
	}
	r->syns_sent = l->fl->bss->syns;
	r->syns_back = sunk(l->fl, FLOOD_SUNK_SYN) - back0;
	xlb_dp_reason_count(dp, XLB_R_FLOW_MISS, &r->missed_table);
	r->missed_table -= miss0;
	err = err ?: probes_read(l, during);
	/* 4. each flow's next packet */
	err = err ?: send_each(l, during, after);
	for (__u32 i = 0; !err && i < NFLOWS; i++) {
		r->probes_during += during[i].seen - est[i].seen;
		r->moved_during += during[i].missed > 0;
		r->moved_next += after[i].missed > during[i].missed;
		r->moved += after[i].missed > 0;
		r->via_prev += after[i].via_prev > during[i].via_prev;
	}
	if (err)
		fprintf(stderr, "xlb-sl-flood: %s: %s\n", mode_name[m], strerror(-err));
	xlb_dp_reason_count(dp, XLB_R_FLOW_EVICTED, &r->evicted);
	close(link);
	xlb_dp_close(dp);
	return err;
}

/* The figures side by side, one column a mode. */
static void report(const struct lab *l, const struct result *r)
{
	printf("SYN flood of %llu distinct sources while %u established flows send (an ACK\n"
	       "every %u frames), after a backend joined 4 (native XDP on a veth pair):\n",
	       (unsigned long long)l->flood, NFLOWS, PROBE_EVERY);
	printf("  %-44s %12s %12s %14s\n", "", mode_name[M_TABLE], mode_name[M_SL], "no prev hops");
#define ROW(label, fmt, expr)                                                                      \
	do {                                                                                       \
		printf("  %-44s", label);                                                          \
		for (int m = 0; m < M_N; m++)                                                      \
			printf(m == M_N - 1 ? " %14" fmt : " %12" fmt, expr);                      \
		printf("\n");                                                                      \
	} while (0)
	ROW("established flows", "u", r[m].established);
	ROW("Maglev slots moved to the new backend", "u", r[m].slots_moved);
	ROW("SYNs through xlb", "llu", (unsigned long long)r[m].syns_back);
	ROW("  new connections a second (M)", ".2f",
	    r[m].seconds > 0 ? (double)r[m].syns_back / r[m].seconds / 1e6 : 0.0);
	ROW("flow-table evictions", "llu", (unsigned long long)r[m].evicted);
	ROW("the flows' packets during the flood", "llu", (unsigned long long)r[m].probes_during);
	ROW("  ... that missed the flow table (evicted)", "llu",
	    (unsigned long long)r[m].missed_table);
	ROW("flows moved during the flood", "u", r[m].moved_during);
	ROW("flows moved at their next packet", "u", r[m].moved_next);
	ROW("flows moved (any packet)", "u", r[m].moved);
	ROW("next packet reached it via the previous hop", "u", r[m].via_prev);
#undef ROW
	printf("  (the last column is a control without a flood: it shows that a move\n"
	       "   of a stateless flow is seen)\n");
}

/* What must hold; each failure is printed. */
static int verdict(const struct lab *l, const struct result *r)
{
	int bad = 0;

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "xlb-sl-flood: FAIL: %s\n", what);                         \
			bad = 1;                                                                   \
		}                                                                                  \
	} while (0)
	for (int m = 0; m < M_N; m++)
		CHECK(r[m].established == NFLOWS, "every flow established");
	for (int m = M_TABLE; m <= M_SL; m++) {
		CHECK(r[m].syns_sent >= l->flood, "the whole flood generated");
		CHECK(r[m].syns_back >= l->flood / 2, "at least half the flood went through xlb");
		CHECK(r[m].probes_during >= NFLOWS, "the flows sent during the flood");
	}
	CHECK(r[M_TABLE].evicted > 0, "table: the flood evicts flows");
	CHECK(r[M_TABLE].moved > 0, "table: flows moved (the test sees a move)");
	CHECK(r[M_SL].moved == 0, "stateless: no flow moved");
	CHECK(r[M_SL].evicted == 0, "stateless: nothing evicted");
	CHECK(r[M_SL].via_prev > 0, "stateless: flows of moved slots reached their backend "
				    "through the previous hop");
	CHECK(r[M_SL_NOPREV].moved > 0, "stateless without previous hops: flows moved");
#undef CHECK
	return bad;
}

int main(int argc, char **argv)
{
	struct result r[M_N];
	struct lab l = {.flood = 1u << 23};
	const char *s = getenv("XLB_FLOOD_SYNS");
	int sink, err = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: xlb-sl-flood GEN_DEV LB_DEV\n");
		return 2;
	}
	if (s && *s)
		l.flood = strtoull(s, NULL, 0);
	xlb_log_libbpf();
	l.gen_if = (int)if_nametoindex(argv[1]);
	l.lb_if = (int)if_nametoindex(argv[2]);
	if (!l.gen_if || !l.lb_if) {
		fprintf(stderr, "xlb-sl-flood: couldn't find interface '%s': %s\n",
			l.gen_if ? argv[2] : argv[1], strerror(errno));
		return 1;
	}
	if (build(NBACKENDS - 1, table4) || build(NBACKENDS, table5)) {
		fprintf(stderr, "xlb-sl-flood: couldn't build the Maglev tables\n");
		return 1;
	}
	l.fl = flood_lab__open_and_load();
	if (!l.fl) {
		fprintf(stderr, "xlb-sl-flood: couldn't load the generator: %s\n", strerror(errno));
		return 1;
	}
	inet_pton(AF_INET, VIP, &l.fl->bss->vip);
	l.fl->bss->vip_port = htons(80);
	l.fl->bss->probes = NFLOWS;
	memset(l.fl->bss->dst_mac, 0x02, 6);
	memset(l.fl->bss->src_mac, 0x04, 6);
	sink = xlb_xdp_attach(bpf_program__fd(l.fl->progs.flood_sink), l.gen_if, 0);
	if (sink < 0) {
		fprintf(stderr, "xlb-sl-flood: couldn't attach the sink to '%s': %s\n", argv[1],
			strerror(-sink));
		flood_lab__destroy(l.fl);
		return 1;
	}
	for (int m = 0; m < M_N && !err; m++)
		err = run_mode(&l, (enum mode)m, &r[m]);
	if (!err) {
		report(&l, r);
		err = verdict(&l, r);
	}
	close(sink);
	flood_lab__destroy(l.fl);
	return err ? 1 : 0;
}
