// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>

#include "env.h"
#include "pkt_check.h"
#include "xlb_hash.h"

const char *const fz_inv_name[INV_N] = {
	"verdict",	  "pass-unchanged", "not-ours-passes", "backend-down", "backend-pool",
	"backend-choice", "vip-verdict",    "output-format",   "counters",
};

void fz_hex(FILE *f, const __u8 *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", b[i]);
}

const char *fz_verdict_name(int v)
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
	fprintf(stderr, "\nFAIL [%s%s%s] packet %llu of seed %llu (%s%s%s)\n", fz_inv_name[inv],
		tag[0] ? "/" : "", tag, fz->idx, fz->o.seed, fz->kind,
		fz->muts[0] ? "; mutated: " : "", fz->muts);
	fprintf(stderr, "  broken: %s\n", what);
	if (c)
		fprintf(stderr, "  model: %s%s%s\n", c->why, c->relax ? "; relaxed: " : "",
			c->relax ? fz_relax_name[c->relax] : "");
	if (!in)
		return;
	fprintf(stderr, "  verdict: %s\n", fz_verdict_name(verdict));
	fprintf(stderr, "  input  (%zu bytes): ", in_len);
	fz_hex(stderr, in, in_len);
	if (out) {
		fprintf(stderr, "\n  output (%zu bytes): ", out_len);
		fz_hex(stderr, out, out_len);
	}
	if (c && c->vip) {
		fz_world_describe(&fz->w, c->vip, pool, sizeof(pool));
		fprintf(stderr, "\n  VIP %s pool (id:state/gen): %s", c->vip->name, pool);
	}
	if (!fz->o.replay) {
		fprintf(stderr, "\n  reproduce: pkt_fuzz --seed %llu --packets %llu", fz->o.seed,
			fz->idx + 1);
		fprintf(stderr, "\n  replay alone (initial state): pkt_fuzz --replay ");
		fz_hex(stderr, in, in_len);
	}
	fprintf(stderr, "\n  fixture: pb_init(&p); pb_hex(&p, \"");
	fz_hex(stderr, in, in_len);
	fprintf(stderr, "\");\n");
}

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
	__u32 prev;	 /* stateless: the previous hop it must carry, 0: none */
	int sl;		 /* a stateless VIP's packet */
	int found;	 /* its flow was in the flow table */
	int full;	 /* its bucket is full */
	const char *how; /* why that backend */
};

/* The second chance of a retransmitted SYN (bpf/lib/synretry.h), written
 * out: the first ACTIVE backend after `left` in slot order that is neither
 * left nor the slot's own; else the first ACTIVE one that is not left. */
static __u32 second_chance(const struct fuzz *fz, const struct fz_vip *v, __u32 slot, __u32 left)
{
	__u32 own = v->table[slot], first = 0;
	int seen = 0;

	for (__u32 j = 0; j < XLB_SYN_RETRY_SCAN; j++) {
		__u32 id = v->table[(slot + j) % FZ_TABLE];

		if (id == left) {
			seen = 1;
			continue;
		}
		if (id == XLB_BACKEND_NONE || id >= FZ_MAX_BE ||
		    fz->w.be[id].state != XLB_BE_ACTIVE)
			continue;
		if (seen && id != own)
			return id;
		if (!first)
			first = id;
	}
	return first;
}

static void expect_vip(struct fuzz *fz, const struct fz_cls *c, struct expect *x)
{
	const struct fz_vip *v = c->vip;
	struct xlb_flow_entry e;
	__u32 h = hash_flow(&c->key), slot, tid;
	int syn = c->key.proto == 6 && !c->icmp_err && (c->tcp_flags & 0x12) == 0x02;

	slot = xlb_hash_slot(v->hash == XLB_HASH_SRC ? hash_src(&c->key.saddr) : h, FZ_TABLE);
	tid = v->table[slot];
	memset(x, 0, sizeof(*x));
	if (v->flow_state == XLB_FLOW_STATELESS) {
		/* The slot alone: cur unless DOWN; prev on non-SYN ipip packets
		 * while it is not DOWN and of cur's family. */
		__u32 pid = v->prev[slot];

		x->sl = 1;
		if (tid == XLB_BACKEND_NONE || fz->w.be[tid].state == XLB_BE_DOWN)
			return;
		x->fwd = tid;
		x->how = "stateless slot";
		if (!syn && !c->icmp_err && pid != XLB_BACKEND_NONE && pid != tid &&
		    fz->w.be[pid].state != XLB_BE_DOWN &&
		    fz->w.be[pid].family == fz->w.be[tid].family)
			x->prev = pid;
		return;
	}
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
	/* A SYN of a flow still opening on the same backend record: a
	 * retransmission (pkt_fuzz sets no minimum age); another-backend
	 * moves it when the table had a usable choice. */
	if (x->fwd && syn && x->found && (e.flags & XLB_FLOW_OPENING) &&
	    e.check == xlb_flow_check(h, e.backend_id, e.backend_gen) && e.backend_id < FZ_MAX_BE &&
	    fz->w.be[e.backend_id].gen == e.backend_gen) {
		const struct fz_backend *old = &fz->w.be[e.backend_id];
		__u32 alt;

		fz->syn_retx++;
		if (old->vip >= 0 && fz->w.vip[old->vip].syn_retry != XLB_SYN_RETRY_ANOTHER)
			return;
		alt = second_chance(fz, v, slot, e.backend_id);
		if (alt) {
			fz->syn_second_chance++;
			x->fwd = alt;
			x->how = "second chance (a retransmitted SYN)";
		}
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
	if (fz_check_forward(&fz->w, c, in, in_len, out, out_len, id, x->prev,
			     fz->m.nic_mac ? fz->m.nic : NULL, why, sizeof(why))) {
		report(fz, INV_OUTPUT, c, in, in_len, XDP_TX, out, out_len, why);
		return;
	}
	fz->t.be_packets[id]++;
	fz->t.be_bytes[id] += in_len;
	fz->t.sl += x->sl;
	fz->t.sl_prev += x->prev != 0;
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

/* What the MTU check counts for an ipip forward to x->fwd, 0 for dsr: the
 * outer header, twice for a stateless VIP (a previous hop or not). */
static __u32 encap_len(const struct fuzz *fz, const struct fz_cls *c, const struct expect *x)
{
	if (c->vip->mode != XLB_MODE_IPIP)
		return 0;
	return (fz->w.be[x->fwd].family == XLB_AF_INET6 ? 40 : 20) * (x->sl ? 2 : 1);
}

/* An ipip packet that no longer fits the MTU with its outer header. */
static int too_big(const struct fuzz *fz, const struct fz_cls *c, const struct expect *x)
{
	__u32 olen = encap_len(fz, c, x);

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
	__u32 olen = encap_len(fz, c, x), want = fz->m.mtu - olen;
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
	if (x->sl) {
		struct xlb_flow_entry e;
		int full;

		if (flow_entry(fz, &c->key, hash_flow(&c->key), &e, &full)) {
			report(fz, INV_OUTPUT, c, in, in_len, verdict, out, out_len,
			       "a stateless VIP's flow is in the flow table");
			return;
		}
	}
	if (!x->fwd) {
		check_on_empty(fz, c, in, in_len, verdict, out, out_len);
		return;
	}
	if (!c->icmp_err && !x->found && !x->sl) { /* entered before it is forwarded */
		fz->t.vip_new_flows[c->vip->id]++;
		fz->t.flow_evicted += x->full;
	}
	if (too_big(fz, c, x)) {
		check_too_big(fz, c, x, in, in_len, verdict, out, out_len);
		return;
	}
	if (verdict != XDP_TX) {
		snprintf(why, sizeof(why), "backend %u usable (%s), yet %s", x->fwd, x->how,
			 fz_verdict_name(verdict));
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

void fz_one(struct fuzz *fz, const __u8 *in, size_t in_len)
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
	case FZ_ODD: /* README "Packet policy": dropped and counted */
		if (verdict != XDP_DROP)
			report(fz, INV_VIP_VERDICT, &c, in, in_len, verdict, out, out_len,
			       "a malformed/anomalous frame to a VIP address was not dropped");
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
	got->sl = reason(XLB_R_STATELESS);
	got->sl_prev = reason(XLB_R_STATELESS_PREV_HOP);
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
void fz_check_counters(struct fuzz *fz, unsigned long long from)
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
	COUNTER(sl, "%s", "reason stateless vs stateless forwards");
	COUNTER(sl_prev, "%s", "reason stateless_prev_hop vs forwards carrying a previous hop");
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
