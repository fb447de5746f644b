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
 * Options: --packets N, --seed S, --replay HEX, see usage().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/if_ether.h>

#include "env.h"
#include "pkt_model.h"
#include "pkt_mutate.h"
#include "xlb_hash.h"

enum inv {
	INV_VERDICT,
	INV_PASS_UNCHANGED,
	INV_NOT_OURS,
	INV_BACKEND_DOWN,
	INV_BACKEND_POOL,
	INV_BACKEND_CHOICE,
	INV_VIP_VERDICT,
	INV_OUTPUT,
	INV_COUNTERS,
	INV_N,
};

static const char *const inv_name[INV_N] = {
	"verdict",	  "pass-unchanged", "not-ours-passes", "backend-down", "backend-pool",
	"backend-choice", "vip-verdict",    "output-format",   "counters",
};

struct opts {
	unsigned long long packets;
	unsigned long long seed;
	unsigned churn_every; /* mean packets between backend changes */
	unsigned check_every; /* packets between counter checks */
	int max_reports;
	int mode; /* -1 legacy, 0 auto, 1 intended */
	const char *replay;
};

/* What the counters must read, accumulated from the verdicts seen. */
struct tally {
	__u64 vip_packets[FZ_MAX_VIPS + 1], vip_bytes[FZ_MAX_VIPS + 1];
	__u64 vip_no_backend[FZ_MAX_VIPS + 1], vip_new_flows[FZ_MAX_VIPS + 1];
	__u64 be_packets[FZ_MAX_BE], be_bytes[FZ_MAX_BE];
	__u64 drops, rst, unreach, icmp_fwd, no_backend_pass, flow_gone, flow_evicted, too_big;
};

struct fuzz {
	struct opts o;
	struct fz_world w;
	struct fz_model_opts m;
	struct tally t;
	const struct xlb_flow_bucket *flows;
	__u32 nbuckets;
	size_t flows_len;
	int rate_limited_id; /* reason id of "reject_rate_limited", 0: absent */
	int too_big_id;	     /* reason id of "encap_too_big", 0: absent */
	__u64 rate_limited_seen;
	/* this packet */
	unsigned long long idx;
	const char *kind;
	char muts[128];
	/* results */
	unsigned long long failures[INV_N];
	unsigned long long relaxed[FZ_RELAX_N];
	unsigned long long verdicts[5];
	unsigned long long too_short; /* frames below 14 bytes, not run */
	/* how deep the packets went: forwarded dsr/ipip, of those to a
	 * DRAINING backend; answers; on_empty drops and passes */
	unsigned long long fwd_dsr, fwd_ipip, fwd_draining, answers, empty_drop, empty_pass;
	unsigned long long too_big_answered, too_big_dropped;
	int reports;
	struct {
		enum inv inv;
		const char *tag;
	} seen[64];
	int nseen;
	unsigned long long window_failures; /* per-packet failures since the last counter check */
	/* the last packet's result, for --replay */
	int last_verdict;
	__u8 last_out[PB_MAX + 64];
	size_t last_len;
	struct fz_cls last_cls;
};

static void hex(FILE *f, const __u8 *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", b[i]);
}

static const char *verdict_name(int v)
{
	static const char *n[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"};

	return v >= 0 && v < 5 ? n[v] : "verdict?";
}

/* The reproducer: seed, index, packet as hex, the invariant and why. */
static void report(struct fuzz *fz, enum inv inv, const struct fz_cls *c, const __u8 *in,
		   size_t in_len, int verdict, const __u8 *out, size_t out_len, const char *what)
{
	char pool[512] = "";

	const char *tag = c && c->tag ? c->tag : "";
	int seen = 0;

	fz->failures[inv]++;
	fz->window_failures++;
	/* One report per invariant and case: the first is the reproducer. */
	for (int i = 0; i < fz->nseen; i++)
		seen += fz->seen[i].inv == inv && !strcmp(fz->seen[i].tag, tag);
	if (seen || fz->reports >= fz->o.max_reports)
		return;
	fz->seen[fz->nseen].inv = inv;
	fz->seen[fz->nseen++].tag = tag;
	fz->reports++;
	fprintf(stderr, "\nFAIL [%s%s%s] packet %llu of seed %llu (%s%s%s)\n", inv_name[inv],
		tag[0] ? "/" : "", tag, fz->idx, fz->o.seed, fz->kind,
		fz->muts[0] ? "; mutated: " : "", fz->muts);
	fprintf(stderr, "  broken: %s\n", what);
	if (c)
		fprintf(stderr, "  model: %s%s%s\n", c->why, c->relax ? "; relaxed: " : "",
			c->relax ? fz_relax_name[c->relax] : "");
	if (!in)
		return;
	fprintf(stderr, "  verdict: %s\n", verdict_name(verdict));
	fprintf(stderr, "  input  (%zu bytes): ", in_len);
	hex(stderr, in, in_len);
	if (out) {
		fprintf(stderr, "\n  output (%zu bytes): ", out_len);
		hex(stderr, out, out_len);
	}
	if (c && c->vip) {
		fz_world_describe(&fz->w, c->vip, pool, sizeof(pool));
		fprintf(stderr, "\n  VIP %s pool (id:state/gen): %s", c->vip->name, pool);
	}
	if (!fz->o.replay) {
		fprintf(stderr, "\n  reproduce: pkt_fuzz --seed %llu --packets %llu", fz->o.seed,
			fz->idx + 1);
		fprintf(stderr, "\n  replay alone (initial state): pkt_fuzz --replay ");
		hex(stderr, in, in_len);
	}
	fprintf(stderr, "\n  fixture: pb_init(&p); pb_hex(&p, \"");
	hex(stderr, in, in_len);
	fprintf(stderr, "\");\n");
}

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
static int flow_entry(const struct fuzz *fz, const struct xlb_flow_key *k, __u32 h,
		      struct xlb_flow_entry *e, int *full)
{
	const struct xlb_flow_bucket *b = &fz->flows[xlb_hash_bucket(h, fz->nbuckets)];

	*full = 1;
	for (int w = 0; w < XLB_FLOW_WAYS; w++)
		*full &= b->tag[w] != 0;
	for (int w = 0; w < XLB_FLOW_WAYS; w++) {
		if (b->tag[w] == (h | 1) && !memcmp(&b->way[w].key, k, sizeof(*k))) {
			*e = b->way[w];
			return 1;
		}
	}
	return 0;
}

/*
 * The data plane's flow hash, which picks the flow-table bucket and the
 * Maglev slot. Issue #12 keys it with the fleet's seed (struct
 * xlb_hash_seed; fixtures load ENV_SEED); before that it is unkeyed
 * (XLB_HASH_SEED). Drop the unkeyed half once the keyed hash is in.
 */
static __u32 hash_flow(const struct xlb_flow_key *k)
{
#ifdef XLB_HASH_SEED
	return xlb_hash_flow(k);
#else
	return xlb_hash_flow(k, &ENV_SEED);
#endif
}

static __u32 hash_src(const union xlb_addr *a)
{
#ifdef XLB_HASH_SEED
	return xlb_hash_src(a);
#else
	return xlb_hash_src(a, &ENV_SEED);
#endif
}

static __u64 reason(__u32 id)
{
	return env_reason(id);
}

/* ---- one packet ---------------------------------------------------------- */

struct expect {
	__u32 fwd;	 /* the backend it must be forwarded to, 0: none usable */
	int found;	 /* its flow was in the flow table */
	int full;	 /* its bucket is full */
	const char *how; /* why that backend */
};

static void expect_vip(struct fuzz *fz, const struct fz_cls *c, struct expect *x)
{
	const struct fz_vip *v = c->vip;
	struct xlb_flow_entry e;
	__u32 h = hash_flow(&c->key), slot, tid;
	int syn = c->key.proto == 6 && !c->icmp_err && (c->tcp_flags & 0x12) == 0x02;

	slot = xlb_hash_slot(v->hash == XLB_HASH_SRC ? hash_src(&c->key.saddr) : h, FZ_TABLE);
	tid = v->table[slot];
	memset(x, 0, sizeof(*x));
	x->found = flow_entry(fz, &c->key, h, &e, &x->full);
	if (!syn && x->found && e.check == xlb_flow_check(h, e.backend_id, e.backend_gen)) {
		if (e.backend_id < FZ_MAX_BE && fz->w.be[e.backend_id].gen == e.backend_gen &&
		    fz->w.be[e.backend_id].state != XLB_BE_DOWN &&
		    fz->w.be[e.backend_id].incarnation) {
			x->fwd = e.backend_id;
			x->how = "its flow's backend";
			return;
		}
		fz->t.flow_gone++; /* DOWN or recycled: re-hashed */
	}
	if (tid != XLB_BACKEND_NONE && fz->w.be[tid].state == XLB_BE_ACTIVE) {
		x->fwd = tid;
		x->how = syn ? "Maglev slot (a SYN)" : "Maglev slot";
	}
}

static int same(const __u8 *a, size_t al, const __u8 *b, size_t bl)
{
	return al == bl && !memcmp(a, b, al);
}

static void check_forward(struct fuzz *fz, const struct fz_cls *c, const struct expect *x,
			  const __u8 *in, size_t in_len, const __u8 *out, size_t out_len)
{
	__u32 id = fz_backend_by_mac(&fz->w, out);
	const struct fz_backend *be = &fz->w.be[id];
	char why[256];
	int vi = (int)(c->vip - fz->w.vip);

	if (!id) {
		report(fz, INV_BACKEND_POOL, c, in, in_len, XDP_TX, out, out_len,
		       "forwarded to a MAC no backend has now (a recycled id's old backend?)");
		return;
	}
	if (be->state == XLB_BE_DOWN) {
		snprintf(why, sizeof(why), "forwarded to backend %u, which is DOWN", id);
		report(fz, INV_BACKEND_DOWN, c, in, in_len, XDP_TX, out, out_len, why);
		return;
	}
	if (be->vip != vi) {
		snprintf(why, sizeof(why), "forwarded to backend %u, not in the pool of VIP %s", id,
			 c->vip->name);
		report(fz, INV_BACKEND_POOL, c, in, in_len, XDP_TX, out, out_len, why);
		return;
	}
	if (id != x->fwd) {
		snprintf(why, sizeof(why), "forwarded to backend %u (%s), want %u (%s)", id,
			 be->state == XLB_BE_DRAINING ? "DRAINING" : "ACTIVE", x->fwd,
			 x->fwd ? x->how : "none usable: on_empty");
		report(fz, INV_BACKEND_CHOICE, c, in, in_len, XDP_TX, out, out_len, why);
		return;
	}
	if (fz_check_forward(&fz->w, c, in, in_len, out, out_len, id,
			     fz->m.nic_mac ? fz->m.nic : NULL, why, sizeof(why))) {
		report(fz, INV_OUTPUT, c, in, in_len, XDP_TX, out, out_len, why);
		return;
	}
	fz->t.be_packets[id]++;
	fz->t.be_bytes[id] += in_len;
	fz->fwd_dsr += c->vip->mode == XLB_MODE_DSR;
	fz->fwd_ipip += c->vip->mode == XLB_MODE_IPIP;
	fz->fwd_draining += be->state == XLB_BE_DRAINING;
	if (c->icmp_err)
		fz->t.icmp_fwd++;
}

/*
 * RFC 1122 3.2.2: no error about a frame from a link-layer group address or
 * an IP source that names no single host (the data plane drops those).
 */
static int odd_source(const struct fz_cls *c, const __u8 *in)
{
	const __u8 *a = c->key.saddr.b;
	static const __u8 zero[16];

	if (in[6] & 1)
		return 1;
	if (c->family == 4)
		return !memcmp(a + 12, zero, 4) || (a[12] & 0xf0) == 0xe0 ||
		       (a[12] == 0xff && a[13] == 0xff && a[14] == 0xff && a[15] == 0xff);
	return a[0] == 0xff || !memcmp(a, zero, 16);
}

/* No usable backend: the VIP's on_empty policy. */
static void check_on_empty(struct fuzz *fz, const struct fz_cls *c, const __u8 *in, size_t in_len,
			   int verdict, const __u8 *out, size_t out_len)
{
	const struct fz_vip *v = c->vip;
	int unanswerable = c->icmp_err || (c->key.proto == 6 && (c->tcp_flags & 0x04));
	char why[256];
	int r;

	fz->t.vip_no_backend[v->id]++;
	if (odd_source(c, in)) {
		if (fz->m.intended)
			unanswerable = 1;
		else if (verdict == XDP_DROP)
			return; /* main answers them; the issue #12 data plane drops them */
	}

	if (v->on_empty == XLB_EMPTY_PASS) {
		if (verdict != XDP_PASS)
			report(fz, INV_VIP_VERDICT, c, in, in_len, verdict, out, out_len,
			       "no usable backend, on_empty=pass, but not passed");
		else
			fz->t.no_backend_pass++, fz->empty_pass++;
		return;
	}
	if (v->on_empty == XLB_EMPTY_DROP || (unanswerable && verdict == XDP_DROP)) {
		if (verdict != XDP_DROP)
			report(fz, INV_VIP_VERDICT, c, in, in_len, verdict, out, out_len,
			       unanswerable ? "no usable backend, a RST/ICMP error, not dropped"
					    : "no usable backend, on_empty=drop, not dropped");
		else
			fz->empty_drop++;
		return;
	}
	if (verdict == XDP_DROP && fz->rate_limited_id) {
		__u64 now = reason((__u32)fz->rate_limited_id);

		if (now > fz->rate_limited_seen) {
			fz->rate_limited_seen = now;
			return;
		}
	}
	if (verdict != XDP_TX || unanswerable) {
		report(fz, INV_VIP_VERDICT, c, in, in_len, verdict, out, out_len,
		       unanswerable ? "answered a RST or an ICMP error"
				    : "no usable backend, on_empty=reject, but no answer");
		return;
	}
	r = fz_check_reply(c, in, in_len, out, out_len, fz->m.nic_mac ? fz->m.nic : NULL, why,
			   sizeof(why));
	if (r < 0) {
		report(fz, INV_OUTPUT, c, in, in_len, verdict, out, out_len, why);
	} else if (r == FZ_REPLY_TOOBIG) {
		report(fz, INV_VIP_VERDICT, c, in, in_len, verdict, out, out_len,
		       "a too-big answer where a reject was due");
	} else {
		fz->answers++;
		fz->t.rst += r == FZ_REPLY_RST;
		fz->t.unreach += r == FZ_REPLY_UNREACH;
	}
}

/* Outer header size of an ipip forward to backend id, 0 for dsr. */
static __u32 encap_len(const struct fuzz *fz, const struct fz_cls *c, __u32 id)
{
	if (c->vip->mode != XLB_MODE_IPIP)
		return 0;
	return fz->w.be[id].family == XLB_AF_INET6 ? 40 : 20;
}

/* An ipip packet that no longer fits the MTU with its outer header. */
static int too_big(const struct fuzz *fz, const struct fz_cls *c, const struct expect *x)
{
	__u32 olen = encap_len(fz, c, x->fwd);

	return olen && fz->m.mtu && c->ip_len + olen > fz->m.mtu;
}

/*
 * Path MTU (issue #12): the client learns the MTU left for it (ICMP
 * fragmentation needed / ICMPv6 packet too big, from the VIP); an IPv4
 * packet without DF, an ICMP error or an odd source is dropped.
 */
static void check_too_big(struct fuzz *fz, const struct fz_cls *c, const struct expect *x,
			  const __u8 *in, size_t in_len, int verdict, const __u8 *out,
			  size_t out_len)
{
	__u32 olen = encap_len(fz, c, x->fwd), want = fz->m.mtu - olen;
	int df = c->family == 6 || (in[c->l2 + 6] & 0x40);
	const __u8 *l4 = out + c->l2 + (c->family == 4 ? 20 : 40);
	char why[256];
	int r;

	if (c->icmp_err || !df || odd_source(c, in)) {
		if (verdict != XDP_DROP)
			report(fz, INV_VIP_VERDICT, c, in, in_len, verdict, out, out_len,
			       "too big for the MTU, not answerable, yet not dropped");
		else
			fz->too_big_dropped++;
		return;
	}
	if (verdict != XDP_TX) {
		report(fz, INV_VIP_VERDICT, c, in, in_len, verdict, out, out_len,
		       "too big for the MTU, yet not answered");
		return;
	}
	r = fz_check_reply(c, in, in_len, out, out_len, fz->m.nic, why, sizeof(why));
	if (r < 0) {
		report(fz, INV_OUTPUT, c, in, in_len, verdict, out, out_len, why);
		return;
	}
	if (r != FZ_REPLY_TOOBIG ||
	    (__u32)(l4[4] << 24 | l4[5] << 16 | l4[6] << 8 | l4[7]) != want) {
		snprintf(why, sizeof(why), "too big: want a too-big answer with MTU %u", want);
		report(fz, INV_OUTPUT, c, in, in_len, verdict, out, out_len, why);
		return;
	}
	fz->too_big_answered++;
	fz->t.too_big++;
}

static void check_vip(struct fuzz *fz, const struct fz_cls *c, const __u8 *in, size_t in_len,
		      int verdict, const __u8 *out, size_t out_len, const struct expect *x)
{
	char why[256];
	int r;

	fz->t.vip_packets[c->vip->id]++;
	fz->t.vip_bytes[c->vip->id] += in_len;
	if (!x->fwd) {
		check_on_empty(fz, c, in, in_len, verdict, out, out_len);
		return;
	}
	if (!c->icmp_err && !x->found) { /* entered before it is forwarded */
		fz->t.vip_new_flows[c->vip->id]++;
		fz->t.flow_evicted += x->full;
	}
	if (too_big(fz, c, x)) {
		check_too_big(fz, c, x, in, in_len, verdict, out, out_len);
		return;
	}
	if (verdict != XDP_TX) {
		snprintf(why, sizeof(why), "backend %u usable (%s), yet %s", x->fwd, x->how,
			 verdict_name(verdict));
		report(fz, INV_VIP_VERDICT, c, in, in_len, verdict, out, out_len, why);
		return;
	}
	if (fz_backend_by_mac(&fz->w, out) || out_len < 12 || memcmp(out, in + 6, 6)) {
		check_forward(fz, c, x, in, in_len, out, out_len);
		return;
	}
	r = fz_check_reply(c, in, in_len, out, out_len, fz->m.nic_mac ? fz->m.nic : NULL, why,
			   sizeof(why));
	report(fz, r < 0 ? INV_OUTPUT : INV_VIP_VERDICT, c, in, in_len, verdict, out, out_len,
	       r < 0 ? why : "answered the client although a backend was usable");
}

static void one(struct fuzz *fz, const __u8 *in, size_t in_len)
{
	__u8 out[PB_MAX + 64];
	size_t out_len = 0;
	struct fz_cls c;
	struct expect x = {0};
	int verdict;

	if (in_len < ETH_HLEN) { /* BPF_PROG_TEST_RUN refuses them; no NIC delivers them */
		fz->too_short++;
		return;
	}
	fz_classify(&fz->w, &fz->m, in, in_len, &c);
	if (c.fate == FZ_VIP)
		expect_vip(fz, &c, &x);
	verdict = env_run(E.prog_fd, in, in_len, out, &out_len);
	fz->last_verdict = verdict;
	fz->last_cls = c;
	memcpy(fz->last_out, out, out_len);
	fz->last_len = out_len;
	if (verdict >= 0 && verdict < 5)
		fz->verdicts[verdict]++;
	if (c.relax)
		fz->relaxed[c.relax]++;
	if (verdict != XDP_PASS && verdict != XDP_DROP && verdict != XDP_TX) {
		report(fz, INV_VERDICT, &c, in, in_len, verdict, NULL, 0, "unexpected verdict");
		return;
	}
	if (verdict == XDP_DROP)
		fz->t.drops++;
	if (verdict == XDP_PASS && !same(in, in_len, out, out_len)) {
		report(fz, INV_PASS_UNCHANGED, &c, in, in_len, verdict, out, out_len,
		       "XDP_PASS with the frame changed");
		return;
	}
	switch (c.fate) {
	case FZ_NOT_OURS:
		if (verdict != XDP_PASS)
			report(fz, INV_NOT_OURS, &c, in, in_len, verdict, out, out_len,
			       "a frame not for a VIP (or not for this NIC) was not passed");
		break;
	case FZ_ODD:
		if (verdict == XDP_TX)
			report(fz, INV_NOT_OURS, &c, in, in_len, verdict, out, out_len,
			       "a malformed/anomalous frame was sent out");
		break;
	default:
		check_vip(fz, &c, in, in_len, verdict, out, out_len, &x);
	}
}

/* ---- counters ------------------------------------------------------------ */

/* The counters as the data plane has them, in the tally's terms. */
static void read_tally(const struct fuzz *fz, struct tally *got)
{
	memset(got, 0, sizeof(*got));
	for (__u32 id = 1; id < XLB_REASON_SLOTS; id++)
		if (xlb_reason_name(id) && xlb_reason_kind(id) == XLB_KIND_DROP)
			got->drops += reason(id);
	got->rst = reason(XLB_R_REJECT_TCP_RST);
	got->unreach = reason(XLB_R_REJECT_ICMP_UNREACH);
	got->icmp_fwd = reason(XLB_R_ICMP_ERROR_FORWARDED);
	got->no_backend_pass = reason(XLB_R_NO_BACKEND_PASS);
	got->flow_gone = reason(XLB_R_FLOW_BACKEND_GONE);
	got->flow_evicted = reason(XLB_R_FLOW_EVICTED);
	got->too_big = fz->too_big_id ? reason((__u32)fz->too_big_id) : 0;
	for (int i = 0; i < fz->w.nvips; i++) {
		__u32 v = fz->w.vip[i].id;
		struct xlb_vip_stats s = env_vip_stats(v);

		got->vip_packets[v] = s.packets;
		got->vip_bytes[v] = s.bytes;
		got->vip_no_backend[v] = s.no_backend_packets;
		got->vip_new_flows[v] = s.new_flows;
	}
	for (__u32 id = 1; id < FZ_MAX_BE; id++) {
		struct xlb_backend_stats s = env_backend_stats(id);

		got->be_packets[id] = s.packets;
		got->be_bytes[id] = s.bytes;
	}
}

/*
 * Every counter against the verdicts seen since the start. A window in
 * which a packet broke another invariant is not compared (that packet's
 * counts are unknown); either way the tally restarts from the counters, so
 * one discrepancy is reported once.
 */
static void check_counters(struct fuzz *fz, unsigned long long from)
{
	const struct tally *t = &fz->t;
	struct tally got;
	char why[256];
	int bad = 0;

	read_tally(fz, &got);
#define COUNTER(field, fmt, ...)                                                                   \
	do {                                                                                       \
		if (!bad && got.field != t->field) {                                               \
			snprintf(why, sizeof(why),                                                 \
				 fmt                                                               \
				 ": counted %llu, want %llu (checked after packets %llu..%llu)",   \
				 __VA_ARGS__, (unsigned long long)got.field,                       \
				 (unsigned long long)t->field, from, fz->idx);                     \
			bad = 1;                                                                   \
		}                                                                                  \
	} while (0)

	COUNTER(drops, "%s", "drop reasons vs XDP_DROP verdicts");
	COUNTER(rst, "%s", "reason reject_tcp_rst vs RSTs sent");
	COUNTER(unreach, "%s", "reason reject_icmp_unreach vs port unreachables sent");
	COUNTER(icmp_fwd, "%s", "reason icmp_error_forwarded vs ICMP errors forwarded");
	COUNTER(no_backend_pass, "%s", "reason no_backend_pass vs on_empty=pass passes");
	COUNTER(flow_gone, "%s", "reason flow_backend_gone vs flows found with a gone backend");
	COUNTER(flow_evicted, "%s", "reason flow_evicted vs new flows into full buckets");
	COUNTER(too_big, "%s", "reason encap_too_big vs too-big answers sent");
	for (int i = 0; i < fz->w.nvips; i++) {
		const struct fz_vip *v = &fz->w.vip[i];

		COUNTER(vip_packets[v->id], "VIP %s packets", v->name);
		COUNTER(vip_bytes[v->id], "VIP %s bytes", v->name);
		COUNTER(vip_no_backend[v->id], "VIP %s no_backend_packets", v->name);
		COUNTER(vip_new_flows[v->id], "VIP %s new_flows", v->name);
	}
	for (__u32 id = 1; id < FZ_MAX_BE; id++) {
		COUNTER(be_packets[id], "backend %u packets", id);
		COUNTER(be_bytes[id], "backend %u bytes", id);
	}
#undef COUNTER
	if (bad && !fz->window_failures)
		report(fz, INV_COUNTERS, NULL, NULL, 0, -1, NULL, 0, why);
	fz->window_failures = 0;
	fz->t = got;
}

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
		"  --intended       check the issue #12 pass rules even without the NIC map\n"
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
		printf("  FAILED %-15s %llu times\n", inv_name[i], fz->failures[i]);
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
	one(fz, p.buf, p.len);
	printf("replay: model: %s\nreplay: %s, %zu bytes: ", fz->last_cls.why,
	       verdict_name(fz->last_verdict), fz->last_len);
	hex(stdout, fz->last_out, fz->last_len);
	printf("\n");
	fz->idx = 1;
	check_counters(fz, 0);
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
		one(fz, p.buf, len);
		if (fz->idx + 1 - last_check >= fz->o.check_every) {
			check_counters(fz, last_check);
			last_check = fz->idx + 1;
		}
	}
	check_counters(fz, last_check);
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
	/* UDP flows never expire during a run: the flow table is read as is. */
	if (env_open(3600u * 1000u))
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
	if (fz.o.mode)
		fz.m.intended = fz.o.mode > 0;
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
