// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Retransmitted SYNs of table-mode VIPs (bpf/lib/synretry.h, issue #16):
 * detected from the flow entry's opening flag and its age, counted per
 * backend, and given a second chance on another ACTIVE backend (syn_retry
 * another-backend) that the flow entry follows. The SYN "came a second
 * ago" by moving its entry's access time back, not by sleeping.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "env.h"
#include "flowsweep.h"
#include "syn_dp.h"
#include "xlb_hash.h"

#define TCP 6
#define F_FIN 0x01
#define F_SYN 0x02
#define F_ACK 0x10
#define CLIENT4 "192.0.2.1"
#define ENV_FLOW_BUCKETS (4096 / XLB_FLOW_WAYS) /* env_open's flow table */

static const struct vip_def V = {"10.0.0.30",	 80, TCP, XLB_MODE_DSR, XLB_HASH_5TUPLE,
				 XLB_EMPTY_DROP, 31};

static __u32 table[ENV_TABLE];

/* Backends 1-3 (IPv4, MACs 0-2) behind V's Maglev table. */
static int setup(void)
{
	static const char *addr[] = {"10.1.0.11", "10.1.0.12", "10.1.0.13"};
	static const __u32 ids[] = {1, 2, 3};

	for (int i = 0; i < 3; i++)
		if (env_backend(ids[i], addr[i], i, XLB_BE_ACTIVE))
			return -1;
	return env_vip_maglev(&V, ids, 3, table);
}

/* The VIP's syn_retry, as the agent stamps it on each backend record. */
static int syn_retry(__u8 how)
{
	for (__u32 id = 1; id <= 3; id++) {
		struct xlb_backend b;

		if (xlb_dp_backend_get(E.dp, id, &b))
			return -1;
		b.syn_retry = how;
		if (xlb_dp_backend_set(E.dp, id, &b))
			return -1;
	}
	return 0;
}

static int set_state(__u32 id, __u8 state)
{
	return env_backend_state(id, state, 1);
}

static void key_of(__u16 port, struct xlb_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	pb_addr(CLIENT4, k->saddr.b);
	pb_addr(V.addr, k->daddr.b);
	k->sport = htons(port);
	k->dport = htons(V.port);
	k->proto = TCP;
}

static void mk(struct pb *p, __u16 port, __u8 flags)
{
	pb_init(p);
	pb_eth(p, MAC_LB, MAC_ROUTER, 0, 0x0800);
	pb_ip4(p, CLIENT4, V.addr, TCP, 61, 0, 0x4000, 0);
	pb_tcp(p, port, V.port, 1000, (flags & F_ACK) ? 2000 : 0, flags, 65535);
	pb_finish(p);
}

/* The backend id a packet went to (MAC i is backend i + 1); -1: not sent. */
static int sent_to(__u16 port, __u8 flags)
{
	__u8 out[PB_MAX];
	size_t out_len = 0;
	struct pb p;

	mk(&p, port, flags);
	if (env_run(E.prog_fd, p.buf, p.len, out, &out_len) != XDP_TX)
		return -1;
	for (int i = 0; i < 3; i++)
		if (!memcmp(out, MAC_BACKEND[i], 6))
			return i + 1;
	return -2;
}

/* Move the flow's access time back by ms: its last SYN came that long ago. */
static int age(__u16 port, __u32 ms)
{
	int fd = xlb_dp_flows_fd(E.dp), found = 0;
	struct xlb_flow_bucket b;
	struct xlb_flow_key k;
	__u32 h, idx;

	key_of(port, &k);
	h = xlb_hash_flow(&k, &ENV_SEED);
	idx = xlb_hash_bucket(h, ENV_FLOW_BUCKETS);
	if (bpf_map_lookup_elem(fd, &idx, &b))
		return -1;
	for (int w = 0; w < XLB_FLOW_WAYS; w++)
		if (b.tag[w] == (h | 1)) {
			b.atime[w] -= (__u32)((__u64)ms * xlb_kernel_hz() / 1000);
			found = 1;
		}
	return found ? bpf_map_update_elem(fd, &idx, &b, BPF_ANY) : -1;
}

static int entry(__u16 port, struct xlb_flow_entry *e)
{
	struct xlb_flow_key k;

	key_of(port, &k);
	return xlb_dp_flow_get(E.dp, &k, e);
}

/* The flow's Maglev slot in V's table. */
static __u32 slot_of(__u16 port)
{
	struct xlb_flow_key k;

	key_of(port, &k);
	return xlb_hash_slot(xlb_hash_flow(&k, &ENV_SEED), ENV_TABLE);
}

/* The rule, written out: the first backend after the slot's own in slot
 * order that is neither `left` nor the slot's own, and ACTIVE. */
static __u32 next_choice(__u16 port, __u32 left, const __u8 *active)
{
	__u32 s = slot_of(port), own = table[s];

	for (int j = 1; j < XLB_SYN_RETRY_SCAN; j++) {
		__u32 id = table[(s + (__u32)j) % ENV_TABLE];

		if (id != left && id != own && active[id])
			return id;
	}
	return 0;
}

static struct xlb_backend_syn_stats ss(__u32 id)
{
	return env_backend_syn_stats(id);
}

/* A SYN a second after the first, its entry still opening: a
 * retransmission, counted on the first backend, and sent to the slot's
 * next choice; the flow entry follows it, ACK included. */
static int t_syn_retransmit_rerouted(void)
{
	static const __u8 active[4] = {0, 1, 1, 1};
	struct xlb_flow_entry e;
	__u16 port = 40100;
	int a, b;

	ASSERT_OK(setup(), "setup");
	a = sent_to(port, F_SYN);
	ASSERT_TRUE(a == (int)table[slot_of(port)], "first SYN: the slot's backend");
	ASSERT_OK(entry(port, &e), "entry");
	ASSERT_EQ(e.flags, XLB_FLOW_OPENING, "a SYN's entry is opening");
	ASSERT_OK(age(port, 1000), "the SYN came a second ago");
	b = sent_to(port, F_SYN);
	ASSERT_TRUE(b > 0 && b != a, "the retransmission went to another backend");
	ASSERT_EQ(b, (int)next_choice(port, (__u32)a, active), "the slot's next choice");
	ASSERT_EQ(ss((__u32)a).syn, 1, "one SYN forwarded to a");
	ASSERT_EQ(ss((__u32)a).syn_retransmits, 1, "a's SYN retransmitted");
	ASSERT_EQ(ss((__u32)a).syn_rerouted, 1, "and rerouted away from a");
	ASSERT_EQ(ss((__u32)b).syn, 1, "b got it as a SYN");
	ASSERT_EQ(ss((__u32)b).syn_retransmits, 0, "nothing retransmitted on b");
	ASSERT_EQ(env_reason(XLB_R_SYN_RETRANSMIT), 1, "reason syn_retransmit");
	ASSERT_EQ(env_reason(XLB_R_SYN_REROUTED), 1, "reason syn_rerouted");
	ASSERT_OK(entry(port, &e), "entry");
	ASSERT_EQ(e.backend_id, (__u32)b, "the flow entry followed");
	ASSERT_EQ(e.flags, XLB_FLOW_OPENING, "still opening");
	ASSERT_EQ(sent_to(port, F_SYN), b, "a duplicate at once goes to b too");
	ASSERT_EQ(env_reason(XLB_R_SYN_DUPLICATE), 1, "counted as a duplicate");
	ASSERT_EQ(sent_to(port, F_ACK), b, "the handshake's ACK follows to b");
	ASSERT_OK(entry(port, &e), "entry");
	ASSERT_EQ(e.flags, 0, "no longer opening");
	ASSERT_EQ(sent_to(port, F_ACK | F_FIN), b, "FIN");
	ASSERT_OK(entry(port, &e), "entry");
	ASSERT_EQ(e.flags, XLB_FLOW_CLOSED, "closed");
	ASSERT_EQ(env_vip_stats(V.vip_id).new_flows, 1, "one flow, not two");
	return 0;
}

/* The client's next retransmission (2 s on Linux) leaves b too: a third
 * backend, never back to a while another is there. */
static int t_syn_second_retransmit_third_backend(void)
{
	__u16 port = 40200;
	int a, b, c;

	ASSERT_OK(setup(), "setup");
	a = sent_to(port, F_SYN);
	ASSERT_OK(age(port, 1000), "1 s");
	b = sent_to(port, F_SYN);
	ASSERT_OK(age(port, 2000), "2 s more");
	c = sent_to(port, F_SYN);
	ASSERT_TRUE(a > 0 && b > 0 && c > 0, "all forwarded");
	ASSERT_TRUE(a != b && b != c && c != a, "three backends in turn");
	ASSERT_EQ(ss((__u32)b).syn_retransmits, 1, "b's retransmission counted on b");
	ASSERT_EQ(ss((__u32)b).syn_rerouted, 1, "and rerouted from b");
	ASSERT_EQ(env_reason(XLB_R_SYN_REROUTED), 2, "two reroutes");
	return 0;
}

/* A copy of the SYN under 200 ms later is a duplicate: not counted as a
 * retransmission, sent where the first went, nothing moved. */
static int t_syn_duplicate_too_early(void)
{
	struct xlb_flow_entry e;
	__u16 port = 40300;
	int a;

	ASSERT_OK(setup(), "setup");
	a = sent_to(port, F_SYN);
	ASSERT_TRUE(a > 0, "SYN");
	ASSERT_OK(age(port, XLB_SYN_RETRY_MIN_MS / 4), "50 ms later");
	ASSERT_EQ(sent_to(port, F_SYN), a, "the duplicate goes where the SYN went");
	ASSERT_EQ(ss((__u32)a).syn_retransmits, 0, "no retransmission");
	ASSERT_EQ(env_reason(XLB_R_SYN_RETRANSMIT), 0, "no retransmission reason");
	ASSERT_EQ(env_reason(XLB_R_SYN_REROUTED), 0, "nothing rerouted");
	ASSERT_EQ(env_reason(XLB_R_SYN_DUPLICATE), 1, "a duplicate");
	ASSERT_EQ(ss((__u32)a).syn, 1, "a duplicate is no attempt of its own");
	ASSERT_OK(entry(port, &e), "entry");
	ASSERT_EQ(e.backend_id, (__u32)a, "entry unchanged");
	return 0;
}

/* Once the client's ACK came, a later SYN on the same 5-tuple is a new
 * connection: Maglev decides, nothing counted as a retransmission. */
static int t_syn_after_ack_is_a_new_flow(void)
{
	struct xlb_flow_entry e;
	__u16 port = 40400;
	int a;

	ASSERT_OK(setup(), "setup");
	a = sent_to(port, F_SYN);
	ASSERT_EQ(sent_to(port, F_ACK), a, "ACK");
	ASSERT_OK(age(port, 5000), "5 s later");
	ASSERT_EQ(sent_to(port, F_SYN), a, "a new SYN: the slot's backend again");
	ASSERT_EQ(env_reason(XLB_R_SYN_RETRANSMIT), 0, "not a retransmission");
	ASSERT_EQ(ss((__u32)a).syn_retransmits, 0, "nothing on a");
	ASSERT_EQ(ss((__u32)a).syn, 2, "two SYNs on a");
	ASSERT_OK(entry(port, &e), "entry");
	ASSERT_EQ(e.flags, XLB_FLOW_OPENING, "opening again");
	return 0;
}

/* The second chance takes only ACTIVE backends: never a DRAINING or a DOWN
 * one; with none left, the table's choice (counted). */
static int t_syn_reroute_only_to_active(void)
{
	__u8 active[4] = {0, 1, 1, 1};
	__u16 port = 40500;
	__u32 a, skip, other;

	ASSERT_OK(setup(), "setup");
	a = (__u32)sent_to(port, F_SYN);
	skip = next_choice(port, a, active);
	ASSERT_TRUE(skip > 0, "there is a next choice");
	other = 6 - a - skip;
	ASSERT_OK(set_state(skip, XLB_BE_DRAINING), "the next choice drains");
	ASSERT_OK(age(port, 1000), "1 s");
	ASSERT_EQ(sent_to(port, F_SYN), (int)other, "past the draining one");
	/* as the agent does: out of the table first, then the state */
	ASSERT_OK(env_table_fill(V.vip_id, other), "only other in the table");
	ASSERT_OK(set_state(skip, XLB_BE_DOWN), "skip down");
	ASSERT_OK(set_state(a, XLB_BE_DRAINING), "a drains");
	ASSERT_OK(age(port, 2000), "2 s more");
	/* other did not answer either; a drains, skip is down: nobody else */
	ASSERT_EQ(sent_to(port, F_SYN), (int)other, "no other ACTIVE backend: the table's");
	ASSERT_EQ(env_reason(XLB_R_SYN_NO_OTHER_BACKEND), 1, "counted");
	ASSERT_EQ(env_reason(XLB_R_SYN_REROUTED), 1, "only the first was rerouted");
	ASSERT_EQ(ss(other).syn_retransmits, 1, "other's retransmission counted");
	ASSERT_EQ(ss(skip).syn, 0, "nothing ever sent to skip");
	return 0;
}

/* syn_retry same-backend: counted, not moved. */
static int t_syn_retry_same_backend(void)
{
	struct xlb_flow_entry e;
	__u16 port = 40600;
	int a;

	ASSERT_OK(setup(), "setup");
	ASSERT_OK(syn_retry(XLB_SYN_RETRY_SAME), "same-backend");
	a = sent_to(port, F_SYN);
	ASSERT_OK(age(port, 1000), "1 s");
	ASSERT_EQ(sent_to(port, F_SYN), a, "the retransmission stays");
	ASSERT_EQ(ss((__u32)a).syn_retransmits, 1, "counted");
	ASSERT_EQ(ss((__u32)a).syn_rerouted, 0, "not rerouted");
	ASSERT_EQ(ss((__u32)a).syn, 2, "two attempts on a");
	ASSERT_EQ(env_reason(XLB_R_SYN_REROUTED), 0, "no reroute reason");
	ASSERT_OK(entry(port, &e), "entry");
	ASSERT_EQ(e.backend_id, (__u32)a, "entry stays");
	return 0;
}

/* The agent counts a flow in its handshake as live, a closed one not. */
static int t_opening_flow_counts_as_live(void)
{
	__u32 *gen = calloc(XLB_MAX_BACKENDS, sizeof(*gen));
	__u32 *count = calloc(XLB_MAX_BACKENDS, sizeof(*count));
	int a, b, rc = -1;

	if (!gen || !count || setup())
		goto out;
	gen[1] = gen[2] = gen[3] = 1;
	a = sent_to(40700, F_SYN);
	b = sent_to(40701, F_SYN);
	if (a <= 0 || b <= 0 || sent_to(40701, F_ACK | F_FIN) != b ||
	    xlb_dp_flow_count(E.dp, gen, count, XLB_FLOW_LIVE_TCP_IDLE_S, NULL))
		goto out;
	if (count[1] + count[2] + count[3] != 1 || count[a] != 1) {
		harness_fail(__FILE__, __LINE__, "one live flow: the opening one");
		goto out;
	}
	rc = 0;
out:
	free(gen);
	free(count);
	return rc;
}

/* The flowsweep's view of backends 1-3 (generation 1). */
static void gens_1to3(void *ctx, __u32 *gen)
{
	(void)ctx;
	gen[1] = gen[2] = gen[3] = 1;
}

static int sum3(const __u32 *c)
{
	return c ? (int)(c[1] + c[2] + c[3]) : -1;
}

/* A request reads the last published pass (no pass of its own while the
 * sweep runs); the counts catch up when the next pass ends. */
static int sweep_body(__u32 *gen, __u32 *exact, struct flowsweep *fs)
{
	const struct flowsweep_stats *st = flowsweep_stats(fs);
	__u64 t = 1000000, used = 0, age = 1;
	__u32 *c;
	int n, same;

	for (__u16 p = 40900; p < 40910; p++)
		ASSERT_TRUE(sent_to(p, F_SYN) > 0, "10 flows");
	c = flowsweep_counts(fs, gen, t, &used, &age);
	n = sum3(c);
	free(c);
	ASSERT_EQ(n, 10, "the first request: counted now");
	ASSERT_EQ(st->full, 1, "by one whole pass");
	ASSERT_EQ(age, 0, "fresh");
	ASSERT_EQ(used, 10, "the fill with it");
	for (__u16 p = 40910; p < 40920; p++)
		ASSERT_TRUE(sent_to(p, F_SYN) > 0, "10 more");
	c = flowsweep_counts(fs, gen, t + 100, NULL, &age);
	n = sum3(c);
	free(c);
	ASSERT_EQ(n, 10, "the next request reads the published pass");
	ASSERT_EQ(st->full, 1, "no whole pass for it");
	for (int k = 1; k <= 4; k++)
		flowsweep_tick(fs, t + 200 * (__u64)k);
	ASSERT_EQ(st->passes, 1, "four slices: one pass");
	c = flowsweep_counts(fs, gen, t + 900, &used, &age);
	n = sum3(c);
	same = c && !xlb_dp_flow_count(E.dp, gen, exact, XLB_FLOW_LIVE_TCP_IDLE_S, NULL) &&
	       !memcmp(c, exact, XLB_MAX_BACKENDS * sizeof(*c));
	free(c);
	ASSERT_TRUE(same, "after a pass: the exact counts, backend by backend");
	ASSERT_EQ(n, 20, "all 20");
	ASSERT_EQ(used, 20, "and the fill");
	ASSERT_EQ(age, 700, "as of the pass's start");
	gen[2] = 2; /* backend 2 came back as another generation */
	c = flowsweep_counts(fs, gen, t + 1000, NULL, NULL);
	n = c ? (int)c[2] : -1;
	free(c);
	ASSERT_EQ(n, 0, "another generation: none of the old one's flows");
	/* nobody asks for 10 minutes: no sweep, then a whole pass at once */
	flowsweep_tick(fs, t + 600000);
	ASSERT_EQ(st->slices, 4, "no slice while nobody asks");
	c = flowsweep_counts(fs, gen, t + 600000, NULL, &age);
	free(c);
	ASSERT_EQ(st->full, 2, "the first request after a quiet spell counts at once");
	ASSERT_EQ(age, 0, "fresh again");
	return 0;
}

static int t_flow_sweep_converges_after_a_pass(void)
{
	__u32 *gen = calloc(XLB_MAX_BACKENDS, sizeof(*gen));
	__u32 *exact = calloc(XLB_MAX_BACKENDS, sizeof(*exact));
	struct flowsweep *fs = NULL;
	int rc = -1;

	if (gen && exact && !setup())
		fs = flowsweep_new(E.dp, 4, 200, XLB_FLOW_LIVE_TCP_IDLE_S, gens_1to3, NULL);
	if (fs) {
		gens_1to3(NULL, gen);
		rc = sweep_body(gen, exact, fs);
	}
	flowsweep_free(fs);
	free(gen);
	free(exact);
	return rc;
}

static __u32 peek3(const struct flowsweep *fs)
{
	return flowsweep_flows(fs, 1, 1) + flowsweep_flows(fs, 2, 1) + flowsweep_flows(fs, 3, 1);
}

/* A scrape's reader (flowsweep_peek): never a pass of its own, only what
 * the sweep published, however the table moved since; while only scrapes
 * ask, a pass every 10 s (not one a second). */
static int peek_body(struct flowsweep *fs)
{
	const struct flowsweep_stats *st = flowsweep_stats(fs);
	__u64 t = 2000000, used = 0, age = 0;

	for (__u16 p = 41000; p < 41010; p++)
		ASSERT_TRUE(sent_to(p, F_SYN) > 0, "10 flows");
	ASSERT_EQ(flowsweep_peek(fs, t, &used, &age), -EAGAIN, "no pass yet: nothing to read");
	ASSERT_EQ(st->full, 0, "and no pass for it");
	for (int k = 1; k <= 4; k++)
		flowsweep_tick(fs, t + 200 * (__u64)k);
	ASSERT_EQ(st->passes, 1, "asked: the sweep ran a pass");
	ASSERT_OK(flowsweep_peek(fs, t + 900, &used, &age), "a pass to read");
	ASSERT_EQ(peek3(fs), 10, "its counts");
	ASSERT_EQ(used, 10, "its fill");
	ASSERT_EQ(age, 700, "as of its start");
	for (__u16 p = 41010; p < 41015; p++)
		ASSERT_TRUE(sent_to(p, F_SYN) > 0, "5 more");
	ASSERT_OK(flowsweep_peek(fs, t + 1000, &used, &age), "still the pass");
	ASSERT_EQ(peek3(fs), 10, "the pass's counts, not the table's now");
	ASSERT_EQ(st->full, 0, "no pass for a reader");
	ASSERT_EQ(flowsweep_flows(fs, 1, 2) + flowsweep_flows(fs, 2, 2) + flowsweep_flows(fs, 3, 2),
		  0, "another generation: none");
	for (int k = 5; k <= 50; k++)
		flowsweep_tick(fs, t + 200 * (__u64)k);
	ASSERT_EQ(st->passes, 1, "only scrapes ask: no pass within 10 s of the last one's start");
	for (int k = 51; k <= 54; k++)
		flowsweep_tick(fs, t + 200 * (__u64)k);
	ASSERT_EQ(st->passes, 2, "10 s on: the next pass");
	ASSERT_OK(flowsweep_peek(fs, t + 10900, &used, &age), "the next pass");
	ASSERT_EQ(peek3(fs), 15, "caught up");
	ASSERT_EQ(age, 700, "as of its start");
	ASSERT_OK(flowsweep_peek(fs, t + 18000, &used, &age), "a pass 7.8 s old, still asked");
	ASSERT_EQ(age, 7800, "as old as it is (its start)");
	ASSERT_EQ(flowsweep_peek(fs, t + 600000, &used, &age), -EAGAIN,
		  "after a quiet spell (no sweep): too old to show");
	ASSERT_EQ(st->full, 0, "still no pass for a reader");
	return 0;
}

static int t_flow_sweep_peek_reads_only_the_pass(void)
{
	struct flowsweep *fs = NULL;
	int rc = -1;

	if (!setup())
		fs = flowsweep_new(E.dp, 4, 200, XLB_FLOW_LIVE_TCP_IDLE_S, gens_1to3, NULL);
	if (fs)
		rc = peek_body(fs);
	flowsweep_free(fs);
	return rc;
}

/* One status, then nobody asks for a minute: a pass a second for 10 s,
 * then one every 10 s (not 75 passes over the whole table); a request
 * then reads the slow sweep's last pass (no whole count of its own). */
static int slow_body(__u32 *gen, struct flowsweep *fs)
{
	const struct flowsweep_stats *st = flowsweep_stats(fs);
	__u64 t = 3000000, age = 0;
	__u32 *c;
	int n;

	for (__u16 p = 41100; p < 41105; p++)
		ASSERT_TRUE(sent_to(p, F_SYN) > 0, "5 flows");
	free(flowsweep_counts(fs, gen, t, NULL, NULL));
	ASSERT_EQ(st->full, 1, "the first request counts at once");
	for (int k = 1; k <= 50; k++) /* 10 s: a pass each 4 ticks */
		flowsweep_tick(fs, t + 200 * (__u64)k);
	ASSERT_EQ(st->passes, 12, "asked within 10 s: a pass a second (0.8 s here)");
	for (int k = 51; k <= 300; k++)
		flowsweep_tick(fs, t + 200 * (__u64)k);
	ASSERT_TRUE(st->passes >= 16 && st->passes <= 18, "then a pass every 10 s");
	c = flowsweep_counts(fs, gen, t + 60100, NULL, &age);
	n = sum3(c);
	free(c);
	ASSERT_EQ(st->full, 1, "no whole count for a request while the slow sweep runs");
	ASSERT_TRUE(age <= 11000, "its counts are at most a slow pass old");
	ASSERT_TRUE(n >= 5, "and hold the flows");
	for (int k = 301; k <= 320; k++) /* asked again: a pass a second */
		flowsweep_tick(fs, t + 200 * (__u64)k);
	ASSERT_TRUE(st->passes >= 20, "asked again: a pass a second again");
	return 0;
}

static int t_flow_sweep_slows_when_nobody_asks(void)
{
	__u32 *gen = calloc(XLB_MAX_BACKENDS, sizeof(*gen));
	struct flowsweep *fs = NULL;
	int rc = -1;

	if (gen && !setup())
		fs = flowsweep_new(E.dp, 4, 200, XLB_FLOW_LIVE_TCP_IDLE_S, gens_1to3, NULL);
	if (fs) {
		gens_1to3(NULL, gen);
		rc = slow_body(gen, fs);
	}
	flowsweep_free(fs);
	free(gen);
	return rc;
}

/* Pins of a release before backend_syn_stats are adopted (the map is
 * created and pinned, the flows kept); any other missing map is refused. */
static int t_pins_without_syn_stats_adopted(void)
{
	char dir[64], path[96];
	int a, rc = -1;

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/xt-syn-%d", (int)getpid());
	xlb_dp_unpin(dir);
	env_close();
	if (env_open_pinned(0, dir) || setup() || (a = sent_to(40800, F_SYN)) <= 0) {
		harness_fail(__FILE__, __LINE__, "first instance: set up and forward");
		goto out;
	}
	env_close();
	snprintf(path, sizeof(path), "%s/backend_syn_stats", dir);
	if (unlink(path)) {
		harness_fail(__FILE__, __LINE__, "unpin backend_syn_stats");
		goto out;
	}
	if (env_open_pinned(0, dir) || !xlb_dp_adopted(E.dp) || sent_to(40800, F_ACK) != a ||
	    sent_to(40801, F_SYN) <= 0 || access(path, F_OK)) {
		harness_fail(__FILE__, __LINE__, "older pins not adopted, or the map not pinned");
		goto out;
	}
	env_close();
	snprintf(path, sizeof(path), "%s/backend_stats", dir);
	if (unlink(path) || env_open_pinned(0, dir) != -EPROTO) {
		harness_fail(__FILE__, __LINE__, "pins without backend_stats adopted");
		goto out;
	}
	rc = 0;
out:
	env_close();
	xlb_dp_unpin(dir);
	return rc ?: env_open(0);
}

#define CASE(fn)                                                                                   \
	{                                                                                          \
		&(#fn)[2], fn                                                                      \
	}

const struct harness_case syn_dp_cases[] = {
	CASE(t_syn_retransmit_rerouted),	   CASE(t_syn_second_retransmit_third_backend),
	CASE(t_syn_duplicate_too_early),	   CASE(t_syn_after_ack_is_a_new_flow),
	CASE(t_syn_reroute_only_to_active),	   CASE(t_syn_retry_same_backend),
	CASE(t_opening_flow_counts_as_live),	   CASE(t_pins_without_syn_stats_adopted),
	CASE(t_flow_sweep_converges_after_a_pass), CASE(t_flow_sweep_peek_reads_only_the_pass),
	CASE(t_flow_sweep_slows_when_nobody_asks),
};

const size_t syn_dp_ncases = sizeof(syn_dp_cases) / sizeof(syn_dp_cases[0]);
