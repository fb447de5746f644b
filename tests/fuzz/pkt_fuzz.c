// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pkt_fuzz: random and mutated packets through the real XDP program
 * (BPF_PROG_TEST_RUN), with invariants checked after every packet
 * (issue #12, "Fuzzing in the suite"):
 *
 *  pass-unchanged   every XDP_PASS leaves the frame byte-identical;
 *  not-ours-passes  a frame not for a VIP, or not for this NIC's MAC,
 *                   is passed;
 *  backend-down     nothing is forwarded to a DOWN backend;
 *  backend-pool     ...nor to one outside the VIP's pool (decoded from the
 *                   output: dsr = destination MAC, ipip = outer address);
 *  backend-choice   a SYN goes where the VIP's Maglev table says, other
 *                   packets there or to their flow's backend (DRAINING
 *                   only for a flow it already had);
 *  vip-verdict      a VIP packet is forwarded when a backend is usable,
 *                   otherwise handled by the VIP's on_empty policy;
 *  output-format    XDP_TX frames have consistent lengths, valid
 *                   checksums, this NIC's source MAC, and an encapsulated
 *                   frame carries the input's IP packet byte for byte;
 *  counters         VIP, backend and reason counters add up to the
 *                   verdicts seen.
 *
 * Backends change state under it as the agent changes them (pkt_world.c).
 * The checks are in pkt_check.c, the frames in pkt_mutate.c, what the
 * fuzzer expects of a frame in pkt_model.c. Options: --packets N, --seed S,
 * --replay HEX, see usage().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "env.h"
#include "pkt_check.h"
#include "pkt_mutate.h"

/* ---- the data plane's state, read where the XDP program reads it ------- */

static int map_by_name(int prog_fd, const char *needle)
{
	__u32 ids[64], len;
	struct bpf_prog_info pi;

	memset(&pi, 0, sizeof(pi));
	pi.nr_map_ids = 64;
	pi.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(pi);
	if (bpf_obj_get_info_by_fd(prog_fd, &pi, &len))
		return -1;
	for (__u32 i = 0; i < pi.nr_map_ids && i < 64; i++) {
		struct bpf_map_info mi;
		int fd = bpf_map_get_fd_by_id(ids[i]);

		memset(&mi, 0, sizeof(mi));
		len = sizeof(mi);
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &mi, &len) && !strcmp(mi.name, needle))
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -1;
}

/*
 * The NIC map (issue #12: the NIC's MAC and MTU, set at attach). Until the
 * data plane has it, the invariants that depend on it are relaxed.
 */
static void detect_nic(struct fuzz *fz)
{
	int fd = map_by_name(E.prog_fd, "nic");
	__u8 val[256] = {0};
	__u32 key = 0, mtu;

	memcpy(fz->m.nic, MAC_LB, 6);
	if (fd < 0) {
		printf("pkt_fuzz: no NIC map in the data plane (issue #12 not in yet): "
		       "NIC-MAC invariant skipped\n");
		return;
	}
	/* Read as bytes (struct xlb_nic: mac[6], pad[2], __u32 mtu), so this
	 * builds before the ABI has the struct. */
	if (bpf_map_lookup_elem(fd, &key, val) || memcmp(val, MAC_LB, 6)) {
		printf("pkt_fuzz: the NIC map does not hold the fixtures' MAC; NIC-MAC invariant "
		       "relaxed\n");
	} else {
		fz->m.nic_mac = 1;
		memcpy(&mtu, val + 8, sizeof(mtu));
		fz->m.mtu = mtu;
		printf("pkt_fuzz: NIC map: MAC checked, ipip MTU %u\n", mtu);
	}
	fz->m.intended = 1;
	close(fd);
}

static int map_flows(struct fuzz *fz)
{
	int fd = xlb_dp_flows_fd(E.dp);
	struct bpf_map_info mi;
	__u32 len = sizeof(mi);
	void *m;

	memset(&mi, 0, sizeof(mi));
	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		return -errno;
	fz->nbuckets = mi.max_entries;
	fz->flows_len = (size_t)mi.max_entries * sizeof(struct xlb_flow_bucket);
	m = mmap(NULL, fz->flows_len, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	fz->flows = m;
	return 0;
}

/*
 * The packet's flow-table entry before it runs: 1 found (in *e), 0 absent;
 * *full: every way of its bucket is taken (a new flow evicts one).
 */
/* ---- driver -------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: pkt_fuzz [--packets N] [--seed S] [--churn-every N] [--check-every N]\n"
		"                [--max-reports N] [--intended | --legacy] [--replay HEX]\n"
		"  --packets N      packets to run (default 200000)\n"
		"  --seed S         random seed (default: from the clock, printed)\n"
		"  --churn-every N  mean packets between backend state changes (default 500)\n"
		"  --check-every N  packets between counter checks (default 8192)\n"
		"  --intended       check the issue #12 rules even without the NIC map\n"
		"  --legacy         relax them even with it\n"
		"  --replay HEX     run one frame against the initial state and check it\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	o->packets = 200000;
	o->seed = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 20);
	o->churn_every = 500;
	o->check_every = 8192;
	o->max_reports = 12;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--intended")) {
			o->mode = 1;
			continue;
		}
		if (!strcmp(a, "--legacy")) {
			o->mode = -1;
			continue;
		}
		if (!v) {
			usage();
			return -1;
		}
		i++;
		if (!strcmp(a, "--packets"))
			o->packets = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--seed"))
			o->seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--churn-every"))
			o->churn_every = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--check-every"))
			o->check_every = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--max-reports"))
			o->max_reports = atoi(v);
		else if (!strcmp(a, "--replay"))
			o->replay = v;
		else {
			usage();
			return -1;
		}
	}
	if (!o->check_every)
		o->check_every = 1;
	return 0;
}

static void summary(const struct fuzz *fz, double secs)
{
	unsigned long long fails = 0;
	__u64 new_flows = 0;

	for (int i = 0; i <= FZ_MAX_VIPS; i++)
		new_flows += fz->t.vip_new_flows[i];

	printf("pkt_fuzz: %llu packets, seed %llu, %.1f s: PASS %llu DROP %llu TX %llu; "
	       "%llu backend changes\n",
	       fz->idx, fz->o.seed, secs, fz->verdicts[XDP_PASS], fz->verdicts[XDP_DROP],
	       fz->verdicts[XDP_TX], (unsigned long long)fz->w.changes);
	printf("  forwarded: dsr %llu, ipip %llu (to DRAINING backends %llu); answered %llu; "
	       "on_empty drop %llu, pass %llu\n",
	       fz->fwd_dsr, fz->fwd_ipip, fz->fwd_draining, fz->answers, fz->empty_drop,
	       fz->empty_pass);
	printf("  flows: new %llu, evicted %llu, found with their backend gone %llu\n",
	       (unsigned long long)new_flows, (unsigned long long)fz->t.flow_evicted,
	       (unsigned long long)fz->t.flow_gone);
	printf("  SYNs of flows still opening (retransmissions): %llu, of those sent to a second "
	       "backend %llu\n",
	       fz->syn_retx, fz->syn_second_chance);
	printf("  stateless: forwarded %llu, of those carrying a previous hop %llu\n",
	       (unsigned long long)fz->t.sl, (unsigned long long)fz->t.sl_prev);
	if (fz->m.mtu)
		printf("  too big for MTU %u with the outer header: answered %llu, dropped %llu\n",
		       fz->m.mtu, fz->too_big_answered, fz->too_big_dropped);
	if (fz->too_short)
		printf("  %llu frames under 14 bytes not run (the kernel's test run refuses "
		       "them)\n",
		       fz->too_short);
	for (int r = 1; r < FZ_RELAX_N; r++)
		if (fz->relaxed[r])
			printf("  relaxed (data plane predates it): \"%s\" on %llu packets\n",
			       fz_relax_name[r], fz->relaxed[r]);
	for (int i = 0; i < INV_N; i++) {
		if (!fz->failures[i])
			continue;
		fails += fz->failures[i];
		printf("  FAILED %-15s %llu times\n", fz_inv_name[i], fz->failures[i]);
	}
	printf("pkt_fuzz: %s\n", fails ? "FAILED" : "all invariants held");
}

static int replay(struct fuzz *fz)
{
	struct pb p;

	pb_init(&p);
	if (pb_hex(&p, fz->o.replay)) {
		fprintf(stderr, "couldn't read the frame '%s': not an even run of hex digits\n",
			fz->o.replay);
		return 2;
	}
	fz->kind = "replay";
	fz_one(fz, p.buf, p.len);
	printf("replay: model: %s\nreplay: %s, %zu bytes: ", fz->last_cls.why,
	       fz_verdict_name(fz->last_verdict), fz->last_len);
	fz_hex(stdout, fz->last_out, fz->last_len);
	printf("\n");
	fz->idx = 1;
	fz_check_counters(fz, 0);
	summary(fz, 0);
	return fz->reports ? 1 : 0;
}

static int run(struct fuzz *fz)
{
	struct fz_rng r = {.s = fz->o.seed * 0x9e3779b97f4a7c15ull + 1};
	unsigned long long last_check = 0;
	struct timespec t0, t1;
	int sweep = 0, cut = 0;
	struct pb base, p;
	const char *kind = "";

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (fz->idx = 0; fz->idx < fz->o.packets; fz->idx++) {
		size_t len;

		fz->muts[0] = 0;
		if (fz->idx && fz_below(&r, fz->o.churn_every) == 0 && fz_world_churn(&fz->w, &r)) {
			fprintf(stderr, "couldn't change a backend: %s\n", strerror(errno));
			return 2;
		}
		/* First every well-formed base cut at every offset, then random. */
		if (sweep >= 0 && cut == 0 && fz_sweep_base(sweep, &fz->w, &base, &kind))
			sweep = -1;
		if (sweep >= 0) {
			fz->kind = kind;
			len = (size_t)cut;
			memcpy(p.buf, base.buf, len);
			snprintf(fz->muts, sizeof(fz->muts), "cut at %d", cut);
			if ((size_t)++cut > base.len) {
				cut = 0;
				sweep++;
			}
		} else {
			fz_base(&r, &fz->w, &base, &fz->kind);
			len = base.len;
			memcpy(p.buf, base.buf, len);
			fz_mutate(&r, p.buf, &len, PB_MAX, fz->muts, sizeof(fz->muts));
		}
		fz_one(fz, p.buf, len);
		if (fz->idx + 1 - last_check >= fz->o.check_every) {
			fz_check_counters(fz, last_check);
			last_check = fz->idx + 1;
		}
	}
	fz_check_counters(fz, last_check);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	summary(fz, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return fz->reports || fz->failures[INV_COUNTERS] ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct fuzz fz;
	int ret;

	if (parse_opts(argc, argv, &fz.o))
		return 2;
	/* Flows never expire during a run (UDP ones, TCP ones the client
	 * closed): the flow table is read as is; every SYN of a flow still
	 * opening is a retransmission, whatever the clock says (the model
	 * cannot read the data plane's jiffies). */
	env_syn_retry_min_ms = XLB_SYN_RETRY_MIN_NONE;
	if (env_open_idle(3600u * 1000u, 3600u * 1000u))
		return 2;
	ret = fz_world_init(&fz.w, E.dp) ?: map_flows(&fz);
	if (ret) {
		fprintf(stderr, "couldn't set up the fuzzer's data plane: %s\n", strerror(-ret));
		env_close();
		return 2;
	}
	for (__u32 id = 1; id < XLB_REASON_SLOTS; id++) {
		const char *n = xlb_reason_name(id);

		if (n && !strcmp(n, "reject_rate_limited"))
			fz.rate_limited_id = (int)id;
		if (n && !strcmp(n, "encap_too_big"))
			fz.too_big_id = (int)id;
	}
	detect_nic(&fz);
	/* The issue #12 data plane (it counts encap_too_big) has the map: not
	 * finding it would relax the checks silently. */
	if (fz.too_big_id && !fz.m.intended) {
		fprintf(stderr, "couldn't find the data plane's map 'nic' (this NIC's MAC and MTU) "
				"although it counts encap_too_big: see detect_nic()\n");
		munmap((void *)fz.flows, fz.flows_len);
		env_close();
		return 2;
	}
	if (fz.o.mode) { /* forced: the frames' NIC is MAC_LB either way */
		fz.m.intended = fz.o.mode > 0;
		fz.m.nic_mac = fz.o.mode > 0;
		printf("pkt_fuzz: %s: issue #12 invariants %s\n",
		       fz.o.mode > 0 ? "--intended" : "--legacy",
		       fz.o.mode > 0 ? "all checked" : "relaxed");
	}
	if (!fz.m.intended)
		printf("pkt_fuzz: relaxed until the data plane has them (--intended checks them): "
		       "%s; %s\n",
		       fz_relax_name[FZ_RELAX_ICMP_DST], fz_relax_name[FZ_RELAX_MALFORMED]);
	if (!fz.o.replay)
		printf("pkt_fuzz: seed %llu, %llu packets\n", fz.o.seed, fz.o.packets);
	ret = fz.o.replay ? replay(&fz) : run(&fz);
	munmap((void *)fz.flows, fz.flows_len);
	env_close();
	return ret;
}
