// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reconciliation engine against a fake data plane that records every
 * operation and keeps the resulting maps, so each case can check what was
 * programmed, in which order, and that unchanged things were not touched.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "config.h"
#include "harness.h"
#include "sync.h"
#include "test_unit.h"
#include "xlb_dp.h"
#include "maglev.h"

#define TBL 251
#define MAXOPS 256
#define FAKE_BES 512 /* failed applies keep ids in quarantine */

struct fake {
	struct xlb_backend be[FAKE_BES];
	struct {
		struct xlb_vip_key k;
		struct xlb_vip_val v;
		__u32 table[TBL];
		int live;
	} vip[8];
	char ops[MAXOPS][48]; /* "be 3 active", "vip 1", "del 1" */
	int nops;
	int unresolvable; /* last octet of an address whose MAC is unknown */
	int resolving;	  /* last octet of an address being resolved (-EAGAIN) */
	int writes;	  /* writes so far */
	int fail_at;	  /* this write fails with -ENOMEM (0: none) */
	int fail_from;	  /* this write and every later one fail (0: none) */
};

/* Fault injection: 0, or -ENOMEM for the write that is to fail. */
static int f_fault(struct fake *f)
{
	f->writes++;
	if (f->writes == f->fail_at || (f->fail_from && f->writes >= f->fail_from))
		return -ENOMEM;
	return 0;
}

static void op(struct fake *f, const char *fmt, unsigned a, const char *b)
{
	if (f->nops < MAXOPS)
		snprintf(f->ops[f->nops++], sizeof(f->ops[0]), fmt, a, b);
}

static int f_backend_set(void *ctx, __u32 id, const struct xlb_backend *b)
{
	struct fake *f = ctx;
	static const char *st[] = {"down", "active", "draining"};

	if (id >= FAKE_BES)
		return -EINVAL;
	if (f_fault(f))
		return -ENOMEM;
	f->be[id] = *b;
	op(f, "be %u %s", id, st[b->state]);
	return 0;
}

static int f_vip_set(void *ctx, const struct xlb_vip_key *k, const struct xlb_vip_val *v,
		     const __u32 *table)
{
	struct fake *f = ctx;
	int slot = -1;

	for (int i = 0; i < 8; i++)
		if ((f->vip[i].live && !memcmp(&f->vip[i].k, k, sizeof(*k))) ||
		    (slot < 0 && !f->vip[i].live))
			slot = i;
	if (slot < 0 || v->table_size != TBL)
		return -ENOSPC;
	if (f_fault(f))
		return -ENOMEM;
	f->vip[slot].k = *k;
	f->vip[slot].v = *v;
	memcpy(f->vip[slot].table, table, sizeof(f->vip[slot].table));
	f->vip[slot].live = 1;
	op(f, "vip %u%s", v->vip_id, "");
	return 0;
}

static int f_vip_del(void *ctx, const struct xlb_vip_key *k)
{
	struct fake *f = ctx;

	for (int i = 0; i < 8; i++) {
		if (f->vip[i].live && !memcmp(&f->vip[i].k, k, sizeof(*k))) {
			if (f_fault(f))
				return -ENOMEM;
			f->vip[i].live = 0;
			op(f, "del %u%s", f->vip[i].v.vip_id, "");
			return 0;
		}
	}
	return -ENOENT;
}

static int f_resolve(void *ctx, const union xlb_addr *a, __u8 mac[6])
{
	struct fake *f = ctx;

	if (a->b[15] == f->unresolvable)
		return -EHOSTUNREACH;
	if (a->b[15] == f->resolving)
		return -EAGAIN;
	memset(mac, 0x02, 6);
	mac[5] = a->b[15];
	return 0;
}

static struct fake F;
static struct xlb_sync *S;

static struct xlb_sync *new_sync(void)
{
	struct xlb_sink sink = {.ctx = &F,
				.backend_set = f_backend_set,
				.vip_set = f_vip_set,
				.vip_del = f_vip_del};

	return xlb_sync_new(&sink, f_resolve, &F);
}

static int setup(void)
{
	memset(&F, 0, sizeof(F));
	S = new_sync();
	return S ? 0 : -1;
}

static void teardown(void)
{
	xlb_sync_free(S);
	S = NULL;
}

/* Apply a YAML config; fails the test on any error. */
static int apply(const char *yaml)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	int ret;

	F.nops = 0;
	if (xlb_cfg_load_string("t.yaml", yaml, &c, &err)) {
		harness_fail(__FILE__, __LINE__, "config: %s", err.msg);
		return -1;
	}
	ret = xlb_sync_apply(S, &c, &err);
	if (ret)
		harness_fail(__FILE__, __LINE__, "apply: %s", err.msg);
	xlb_cfg_free(&c);
	return ret;
}

static int op_index(const char *want)
{
	for (int i = 0; i < F.nops; i++)
		if (!strcmp(F.ops[i], want))
			return i;
	return -1;
}

/* Slots of the fake VIP with this id that name backend id. */
static int slots_of(__u32 vip_id, __u32 id)
{
	int n = 0;

	for (int i = 0; i < 8; i++)
		if (F.vip[i].live && F.vip[i].v.vip_id == vip_id)
			for (int s = 0; s < TBL; s++)
				n += F.vip[i].table[s] == id;
	return n;
}

#define HEAD "vips:\n  - address: 10.0.0.10\n    port: 80\n    protocol: tcp\n    table_size: 251\n"
#define B(x) "      - address: 10.1.0." #x "\n"
#define THREE HEAD "    backends:\n" B(1) B(2) B(3)

static int t_sync_first_apply_programs_in_order(void)
{
	ASSERT_OK(apply(THREE), "apply");
	ASSERT_EQ(F.nops, 4, "three records and one VIP");
	ASSERT_EQ(op_index("vip 1"), 3, "the VIP (and its table) after its records");
	for (__u32 id = 1; id <= 3; id++) {
		ASSERT_EQ(F.be[id].state, XLB_BE_ACTIVE, "record active");
		ASSERT_EQ(F.be[id].vip_id, 1, "record knows its VIP");
		ASSERT_EQ(F.be[id].mac[5], id, "resolved MAC");
		ASSERT_TRUE(slots_of(1, id) >= 83 && slots_of(1, id) <= 84, "a third of the table");
	}
	ASSERT_EQ(S->tables_built, 1, "one table built");
	return 0;
}

static int t_sync_same_config_changes_nothing(void)
{
	ASSERT_OK(apply(THREE), "apply");
	ASSERT_OK(apply(HEAD "    backends:\n" B(3) B(1) B(2)), "same, reordered");
	ASSERT_EQ(F.nops, 0, "no operation");
	ASSERT_EQ(S->tables_built, 1, "no table rebuilt");
	return 0;
}

static int t_sync_weight_change_rebuilds_only_the_table(void)
{
	ASSERT_OK(apply(THREE), "apply");
	ASSERT_OK(apply(HEAD "    backends:\n" B(1)
				B(2) "      - address: 10.1.0.3\n        weight: 2\n"),
		  "weight 2");
	ASSERT_EQ(F.nops, 1, "one operation");
	ASSERT_EQ(op_index("vip 1"), 0, "the table swap");
	ASSERT_TRUE(slots_of(1, 3) > 120, "backend 3 holds half the table");
	return 0;
}

static int t_sync_other_vips_untouched(void)
{
	ASSERT_OK(apply(THREE), "apply");
	ASSERT_OK(apply(THREE "  - address: 10.0.0.20\n    port: 53\n    protocol: udp\n"
			      "    table_size: 251\n    backends:\n" B(9)),
		  "a second VIP");
	ASSERT_EQ(F.nops, 2, "its record and its VIP only");
	ASSERT_EQ(op_index("be 4 active"), 0, "new record gets a new id");
	ASSERT_EQ(op_index("vip 2"), 1, "new VIP gets a new id");
	ASSERT_EQ(S->tables_built, 2, "one more table");
	return 0;
}

static int t_sync_removed_backend_leaves_table_then_goes_down(void)
{
	ASSERT_OK(apply(THREE), "apply");
	ASSERT_OK(apply(HEAD "    backends:\n" B(1) B(3)), "backend 2 removed");
	ASSERT_EQ(op_index("vip 1"), 0, "table without it first");
	ASSERT_EQ(op_index("be 2 down"), 1, "then DOWN: its flows move");
	ASSERT_EQ(slots_of(1, 2), 0, "no slot names it");
	ASSERT_EQ(F.nops, 2, "nothing else");
	return 0;
}

static int t_sync_readded_backend_gets_new_generation(void)
{
	__u32 gen;

	ASSERT_OK(apply(THREE), "apply");
	gen = F.be[2].gen;
	ASSERT_OK(apply(HEAD "    backends:\n" B(1) B(3)), "removed");
	ASSERT_OK(apply(THREE), "back at once");
	ASSERT_EQ(F.be[2].state, XLB_BE_DOWN, "id 2 waits in quarantine (a reader may hold it)");
	ASSERT_EQ(F.be[4].state, XLB_BE_ACTIVE, "a new id instead");
	ASSERT_OK(apply(HEAD "    backends:\n" B(1) B(3)), "removed again");
	S->now_ms += XLB_SYNC_ID_QUARANTINE_MS - 1;
	ASSERT_OK(apply(THREE), "back before the quarantine ends");
	ASSERT_EQ(F.be[2].state, XLB_BE_DOWN, "id 2 still waits");
	ASSERT_OK(apply(HEAD "    backends:\n" B(1) B(3)), "removed again");
	S->now_ms += XLB_SYNC_ID_QUARANTINE_MS;
	ASSERT_OK(apply(THREE), "back after the quarantine");
	ASSERT_TRUE(F.be[2].state == XLB_BE_ACTIVE || F.be[4].state == XLB_BE_ACTIVE,
		    "a freed id in use again");
	ASSERT_TRUE(F.be[2].gen != gen && F.be[4].gen != gen,
		    "with a new generation: old flows do not follow it");
	return 0;
}

static int t_sync_unresolved_next_hop_stays_out(void)
{
	const struct xlb_sync_vip *v;
	struct xlb_vip_key k = {.port = htons(80), .proto = IPPROTO_TCP};

	F.unresolvable = 2;
	ASSERT_OK(apply(THREE), "apply");
	ASSERT_EQ(slots_of(1, 2), 0, "unresolved backend not in the table");
	ASSERT_EQ(F.be[2].state, XLB_BE_DOWN, "its record is DOWN");
	ASSERT_TRUE(op_index("be 2 down") > op_index("vip 1"), "DOWN after the table");
	xlb_addr_parse("10.0.0.10", &k.addr);
	v = xlb_sync_find(S, &k);
	ASSERT_TRUE(v != NULL, "VIP known");
	ASSERT_EQ(v->backends[1].resolve_err, -EHOSTUNREACH, "the reason is kept for reporting");
	F.unresolvable = 0;
	ASSERT_OK(apply(THREE), "resolved now");
	ASSERT_EQ(op_index("be 2 active"), 0, "record ACTIVE before...");
	ASSERT_EQ(op_index("vip 1"), 1, "...the table names it");
	ASSERT_TRUE(slots_of(1, 2) > 80, "in the table");
	return 0;
}

static int t_sync_resolving_again_keeps_the_known_mac(void)
{
	ASSERT_OK(apply(THREE), "apply");
	F.resolving = 2;
	ASSERT_OK(apply(THREE), "backend 2's entry is being refreshed");
	ASSERT_EQ(F.nops, 0, "nothing rewritten, nothing moved");
	ASSERT_EQ(F.be[2].state, XLB_BE_ACTIVE, "still active");
	ASSERT_EQ(F.be[2].mac[5], 2, "with the MAC it had");
	F.resolving = 0;
	memset(&F, 0, sizeof(F));
	xlb_sync_free(S);
	S = new_sync();
	F.resolving = 2;
	ASSERT_OK(apply(THREE), "a new backend that is still resolving");
	ASSERT_EQ(F.be[2].state, XLB_BE_DOWN, "stays out until it resolves");
	return 0;
}

static int t_sync_drain_and_disable(void)
{
	ASSERT_OK(apply(THREE), "apply");
	ASSERT_OK(apply(HEAD "    backends:\n" B(1) B(2) "        admin: drain\n" B(3)), "drain 2");
	ASSERT_EQ(op_index("vip 1"), 0, "out of the table first");
	ASSERT_EQ(op_index("be 2 draining"), 1, "then DRAINING: its flows stay");
	ASSERT_EQ(slots_of(1, 2), 0, "no new flows");
	ASSERT_OK(apply(HEAD "    backends:\n" B(1) B(2) "        admin: disabled\n" B(3)),
		  "disable 2");
	ASSERT_EQ(op_index("be 2 down"), 0, "DOWN: its flows move");
	ASSERT_EQ(F.nops, 1, "the table did not change again");
	ASSERT_OK(apply(THREE), "enable 2");
	ASSERT_EQ(op_index("be 2 active"), 0, "ACTIVE before...");
	ASSERT_EQ(op_index("vip 1"), 1, "...the table names it again");
	ASSERT_TRUE(slots_of(1, 2) > 80, "back in the table");
	return 0;
}

static int t_sync_deleted_vip_entry_then_backends_down(void)
{
	ASSERT_OK(apply("deleted_vip_grace: 0\n" THREE), "apply");
	ASSERT_OK(apply("deleted_vip_grace: 0\nvips: []\n"), "VIP removed");
	ASSERT_EQ(op_index("del 1"), 0, "VIP entry first");
	for (__u32 id = 1; id <= 3; id++)
		ASSERT_EQ(F.be[id].state, XLB_BE_DOWN, "then its backends DOWN");
	ASSERT_EQ(F.nops, 4, "nothing else");
	ASSERT_EQ(S->ngone, 0, "no grace period");
	S->now_ms += XLB_SYNC_ID_QUARANTINE_MS;
	ASSERT_OK(apply(THREE), "again");
	ASSERT_EQ(op_index("vip 1"), 3, "ids are free again: VIP 1");
	return 0;
}

static int t_sync_mode_change_rewrites_records(void)
{
	ASSERT_OK(apply(THREE), "apply");
	ASSERT_OK(apply(HEAD "    mode: ipip\n    backends:\n" B(1) B(2) B(3)), "ipip");
	for (__u32 id = 1; id <= 3; id++)
		ASSERT_EQ(F.be[id].mode, XLB_MODE_IPIP, "records carry the new mode");
	ASSERT_EQ(op_index("vip 1"), 3, "and the VIP");
	ASSERT_EQ(S->tables_built, 2, "table rebuilt with its VIP value");
	return 0;
}

/* reject_rate reaches the VIP value; a change rewrites the entry. */
static int t_sync_reject_rate_in_vip_value(void)
{
	ASSERT_OK(apply(THREE), "apply");
	ASSERT_EQ(F.vip[0].v.reject_rate, 0, "absent: 0, the data plane's default");
	ASSERT_OK(apply(HEAD "    reject_rate: 25\n    backends:\n" B(1) B(2) B(3)), "rate");
	ASSERT_EQ(F.vip[0].v.reject_rate, 25, "the configured rate");
	ASSERT_TRUE(op_index("vip 1") >= 0, "the VIP entry rewritten");
	ASSERT_OK(apply(HEAD "    reject_rate: unlimited\n    backends:\n" B(1) B(2) B(3)), "unl");
	ASSERT_EQ(F.vip[0].v.reject_rate, XLB_REJECT_RATE_UNLIMITED, "unlimited");
	return 0;
}

/* syn_retry is stamped on the VIP's backend records (the data plane reads
 * it from the record of the backend a SYN leaves); a change rewrites them,
 * and an adopting agent reads it back. */
static int t_sync_syn_retry_on_records(void)
{
	struct xlb_programmed_vip pv[8];
	struct xlb_programmed_backend pb[64];
	size_t nv = 0, nb = 0;

	ASSERT_OK(apply(THREE), "apply");
	ASSERT_EQ(F.be[1].syn_retry, XLB_SYN_RETRY_ANOTHER, "default: another-backend");
	ASSERT_OK(apply(HEAD "    syn_retry: same-backend\n    backends:\n" B(1) B(2) B(3)),
		  "same-backend");
	for (__u32 id = 1; id <= 3; id++)
		ASSERT_EQ(F.be[id].syn_retry, XLB_SYN_RETRY_SAME, "every record stamped");
	ASSERT_TRUE(op_index("be 1 active") >= 0, "records rewritten");
	for (int i = 0; i < 8; i++)
		if (F.vip[i].live)
			pv[nv++] = (struct xlb_programmed_vip){F.vip[i].k, F.vip[i].v};
	for (__u32 id = 1; id < 64; id++)
		if (F.be[id].gen)
			pb[nb++] = (struct xlb_programmed_backend){id, F.be[id]};
	xlb_sync_free(S);
	S = new_sync();
	ASSERT_TRUE(S != NULL, "second agent");
	ASSERT_OK(xlb_sync_adopt(S, pv, nv, pb, nb), "adopt");
	ASSERT_OK(apply(THREE), "back to the default");
	for (__u32 id = 1; id <= 3; id++)
		ASSERT_EQ(F.be[id].syn_retry, XLB_SYN_RETRY_ANOTHER, "the adopted value was known");
	return 0;
}

/* A restarted agent learns ids and generations from the programmed state. */
static int t_sync_adopt_then_same_config_moves_nothing(void)
{
	struct xlb_programmed_vip pv[8];
	struct xlb_programmed_backend pb[64];
	size_t nv = 0, nb = 0;
	__u32 before[TBL];

	ASSERT_OK(apply(THREE), "first agent");
	memcpy(before, F.vip[0].table, sizeof(before));
	for (int i = 0; i < 8; i++)
		if (F.vip[i].live)
			pv[nv++] = (struct xlb_programmed_vip){F.vip[i].k, F.vip[i].v};
	for (__u32 id = 1; id < 64; id++)
		if (F.be[id].gen)
			pb[nb++] = (struct xlb_programmed_backend){id, F.be[id]};
	xlb_sync_free(S);
	S = new_sync();
	ASSERT_TRUE(S != NULL, "second agent");
	ASSERT_OK(xlb_sync_adopt(S, pv, nv, pb, nb), "adopt");
	ASSERT_OK(apply(THREE), "same config");
	ASSERT_EQ(op_index("be 1 active") + op_index("be 2 active") + op_index("be 3 active"), -3,
		  "no record rewritten");
	ASSERT_TRUE(!memcmp(before, F.vip[0].table, sizeof(before)), "identical table");
	ASSERT_OK(apply(THREE "  - address: 10.0.0.20\n    port: 53\n    protocol: udp\n"
			      "    table_size: 251\n    backends:\n" B(9)),
		  "one more VIP");
	ASSERT_EQ(op_index("be 4 active"), 0, "ids in use are not given out again");
	ASSERT_TRUE(F.be[4].gen > F.be[3].gen, "generations go on from the adopted ones");
	return 0;
}

static int f_tables_swap(void *ctx, size_t n, const __u32 *ids, const __u32 *const *tables,
			 const __u32 *sizes, const __u8 *flow_states)
{
	(void)flow_states;
	struct fake *f = ctx;
	int fault = f_fault(f);

	for (size_t j = 0; j < (fault ? n / 2 : n); j++) { /* a failed batch: half done */
		int slot = -1;

		for (int i = 0; i < 8; i++)
			if (f->vip[i].live && f->vip[i].v.vip_id == ids[j])
				slot = i;
		if (slot < 0 || sizes[j] != TBL)
			return -ENOENT; /* a batch only swaps tables of existing VIPs */
		memcpy(f->vip[slot].table, tables[j], sizeof(f->vip[slot].table));
		op(f, "swap %u%s", ids[j], "");
	}
	return fault;
}

/* Health as a test sets it: by the last octet of the backend's address. */
static __u8 HEALTH[256];

static void f_health(void *ctx, const struct xlb_sync_vip *v, const struct xlb_sync_backend *b,
		     struct xlb_hsel_in *in)
{
	(void)ctx;
	in->health = HEALTH[b->cfg.addr.b[15]];
	in->up_since_ms = 0;
	if (in->admin == XLB_ADMIN_DRAIN && v->cfg.drain_timeout_ms &&
	    S->now_ms >= b->admin_since_ms + v->cfg.drain_timeout_ms)
		in->admin = XLB_ADMIN_DISABLED;
}

static void use_health(void)
{
	memset(HEALTH, XLB_HEALTH_UP, sizeof(HEALTH));
	S->health = f_health;
}

static int t_sync_health_down_leaves_table_and_moves_flows(void)
{
	use_health();
	HEALTH[2] = XLB_HEALTH_DOWN;
	HEALTH[3] = XLB_HEALTH_UNKNOWN;
	ASSERT_OK(apply(THREE), "apply");
	ASSERT_EQ(slots_of(1, 1), TBL, "only the healthy backend has slots");
	ASSERT_EQ(F.be[2].state, XLB_BE_DOWN, "down: DOWN");
	ASSERT_EQ(F.be[3].state, XLB_BE_DOWN, "unknown: DOWN, no traffic before rise");
	HEALTH[2] = XLB_HEALTH_UP;
	ASSERT_OK(apply(THREE), "again");
	ASSERT_EQ(F.be[2].state, XLB_BE_ACTIVE, "up again: ACTIVE");
	ASSERT_TRUE(slots_of(1, 2) > 100, "and back in the table");
	ASSERT_EQ(S->vips[0].in_table, 2, "two in the table");
	return 0;
}

static int t_sync_backup_only_without_primaries(void)
{
	const char *cfg = HEAD "    backends:\n" B(1) B(2) "      - address: 10.1.0.3\n"
							   "        backup: true\n";

	use_health();
	ASSERT_OK(apply(cfg), "apply");
	ASSERT_EQ(slots_of(1, 3), 0, "a backup stands by");
	ASSERT_EQ(F.be[3].state, XLB_BE_ACTIVE, "but is ACTIVE (ready)");
	HEALTH[1] = HEALTH[2] = XLB_HEALTH_DOWN;
	ASSERT_OK(apply(cfg), "primaries down");
	ASSERT_EQ(slots_of(1, 3), TBL, "the backup takes every slot");
	HEALTH[1] = XLB_HEALTH_UP;
	ASSERT_OK(apply(cfg), "one primary back");
	ASSERT_EQ(slots_of(1, 1), TBL, "the primary takes every slot back");
	ASSERT_EQ(F.be[3].state, XLB_BE_ACTIVE, "the backup keeps its flows");
	return 0;
}

static int t_sync_panic_never_uses_an_unknown_next_hop(void)
{
	const char *cfg = HEAD "    panic_threshold: 50\n    backends:\n" B(1) B(2) B(3) B(4);

	use_health();
	HEALTH[2] = HEALTH[3] = HEALTH[4] = XLB_HEALTH_DOWN;
	F.unresolvable = 4;
	ASSERT_OK(apply(cfg), "apply");
	ASSERT_EQ(S->vips[0].panic, 1, "1 of 4 healthy is below 50%: panic");
	ASSERT_TRUE(slots_of(1, 2) > 0 && slots_of(1, 3) > 0, "unhealthy back in the table");
	ASSERT_EQ(slots_of(1, 4), 0, "but not one we cannot reach");
	ASSERT_EQ(F.be[4].state, XLB_BE_DOWN, "which stays DOWN");
	HEALTH[2] = XLB_HEALTH_UP;
	ASSERT_OK(apply(cfg), "2 of 4");
	ASSERT_EQ(S->vips[0].panic, 0, "at the threshold: no panic");
	ASSERT_EQ(slots_of(1, 3), 0, "the unhealthy leave");
	return 0;
}

static int t_sync_drain_timeout_turns_down(void)
{
	const char *cfg = HEAD "    drain_timeout: 10s\n    backends:\n" B(
		1) "      - address: 10.1.0.2\n        admin: drain\n";

	use_health();
	S->now_ms = 1000;
	ASSERT_OK(apply(cfg), "drain");
	ASSERT_EQ(F.be[2].state, XLB_BE_DRAINING, "draining");
	ASSERT_EQ(S->time_matters, 1, "a timer runs: apply again later");
	S->now_ms = 10999;
	ASSERT_OK(apply(cfg), "before the timeout");
	ASSERT_EQ(F.be[2].state, XLB_BE_DRAINING, "still draining");
	S->now_ms = 11000;
	ASSERT_OK(apply(cfg), "at the timeout");
	ASSERT_EQ(F.be[2].state, XLB_BE_DOWN, "DOWN: its flows move");
	ASSERT_EQ(S->time_matters, 0, "nothing to wait for");
	return 0;
}

static int t_sync_slow_start_steps_rebuild_the_table(void)
{
	const char *cfg = HEAD "    slow_start: 10s\n    backends:\n" B(
		1) "      - address: 10.1.0.2\n        weight: 10\n";
	__u64 built;

	use_health();
	S->now_ms = 0;
	ASSERT_OK(apply(cfg), "apply");
	ASSERT_EQ(S->vips[0].backends[1].weight, 1, "10% of 10");
	ASSERT_EQ(S->time_matters, 1, "ramping");
	built = S->tables_built;
	S->now_ms = 500;
	ASSERT_OK(apply(cfg), "within the first step");
	ASSERT_EQ(S->tables_built, built, "same step: no rebuild");
	S->now_ms = 5000;
	ASSERT_OK(apply(cfg), "half way");
	ASSERT_EQ(S->vips[0].backends[1].weight, 6, "60%");
	S->now_ms = 10000;
	ASSERT_OK(apply(cfg), "done");
	ASSERT_EQ(S->vips[0].backends[1].weight, 10, "full weight");
	ASSERT_EQ(S->time_matters, 0, "ramp over");
	return 0;
}

static int t_sync_table_changes_swap_in_one_batch(void)
{
	const char *two = "vips:\n  - address: 10.0.0.10\n    port: 80\n    protocol: tcp\n"
			  "    table_size: 251\n    backends:\n" B(1)
				  B(2) "  - address: 10.0.0.11\n    port: 80\n    protocol: tcp\n"
				       "    table_size: 251\n    backends:\n" B(1) B(2);

	use_health();
	S->sink.tables_swap = f_tables_swap;
	ASSERT_OK(apply(two), "apply");
	ASSERT_TRUE(op_index("vip 1") >= 0 && op_index("vip 2") >= 0, "new VIPs: vip_set");
	HEALTH[2] = XLB_HEALTH_DOWN;
	ASSERT_OK(apply(two), "b2 down in both");
	ASSERT_TRUE(op_index("swap 1") >= 0 && op_index("swap 2") >= 0, "both tables swapped");
	ASSERT_EQ(op_index("vip 1"), -1, "no VIP entry rewritten");
	ASSERT_TRUE(op_index("swap 2") < op_index("be 2 down"),
		    "tables before the record goes DOWN");
	ASSERT_EQ(slots_of(1, 1), TBL, "VIP 1: all slots on b1");
	return 0;
}

/* ---- deleted VIPs' grace period, rollback of failed applies ------------ */

static int f_backend_get(void *ctx, __u32 id, struct xlb_backend *b)
{
	struct fake *f = ctx;

	if (id >= FAKE_BES)
		return -EINVAL;
	*b = f->be[id];
	return 0;
}

static int f_table_get(void *ctx, __u32 vip_id, __u32 size, __u32 *table)
{
	struct fake *f = ctx;

	for (int i = 0; i < 8; i++)
		if (f->vip[i].live && f->vip[i].v.vip_id == vip_id && size == TBL) {
			memcpy(table, f->vip[i].table, sizeof(f->vip[i].table));
			return 0;
		}
	return -ENOENT;
}

/* Apply, and return what it returned (a test that expects a failure). */
static int try_apply(const char *yaml)
{
	struct xlb_cfg c = {};
	struct xlb_err err = {};
	int ret;

	F.nops = 0;
	if (xlb_cfg_load_string("t.yaml", yaml, &c, &err)) {
		harness_fail(__FILE__, __LINE__, "config: %s", err.msg);
		return -EINVAL;
	}
	ret = xlb_sync_apply(S, &c, &err);
	if (getenv("XLB_DEBUG") && ret)
		fprintf(stderr, "    apply: %s\n", err.msg);
	xlb_cfg_free(&c);
	return ret;
}

static const struct xlb_sync_vip *vip_at(const char *addr, __u16 port)
{
	struct xlb_vip_key k = {.port = htons(port), .proto = IPPROTO_TCP};

	xlb_addr_parse(addr, &k.addr);
	return xlb_sync_find(S, &k);
}

static const struct xlb_sync_gone *gone_at(const char *addr, __u16 port)
{
	struct xlb_vip_key k = {.port = htons(port), .proto = IPPROTO_TCP};

	xlb_addr_parse(addr, &k.addr);
	return xlb_sync_find_gone(S, &k);
}

/* The live fake VIP with this id, or NULL. */
static const __u32 *fake_table(__u32 vip_id)
{
	for (int i = 0; i < 8; i++)
		if (F.vip[i].live && F.vip[i].v.vip_id == vip_id)
			return F.vip[i].table;
	return NULL;
}

/* Every table names only ACTIVE records of its own VIP. */
static int tables_sound(void)
{
	for (int i = 0; i < 8; i++)
		for (int j = 0; F.vip[i].live && j < TBL; j++) {
			__u32 id = F.vip[i].table[j];

			if (id && (F.be[id].state != XLB_BE_ACTIVE ||
				   F.be[id].vip_id != F.vip[i].v.vip_id))
				return 0;
		}
	return 1;
}

#define V(a, more)                                                                                 \
	"  - address: 10.0.0." #a "\n    port: 80\n    protocol: tcp\n"                            \
	"    table_size: 251\n" more "    backends:\n"
#define W(x, w) "      - address: 10.1.0." #x "\n        weight: " #w "\n"
#define CFG_A V(10, "") B(1) B(2) B(3) V(11, "") B(4) B(5) V(12, "") B(6)
/* From A: a mode change and backend changes, a deletion (into its grace
 * period), a weight change (a batch swap), a new VIP, a VIP back from its
 * grace period, and a grace period that ends. */
#define CFG_B                                                                                      \
	V(10, "    mode: ipip\n")                                                                  \
	B(1) B(2) B(7) V(12, "") W(6, 2) B(8) V(13, "") B(9) B(10) V(14, "") B(11)

static int t_sync_deleted_vip_answers_for_its_grace_period(void)
{
	const struct xlb_sync_gone *g;
	const __u32 *t;

	S->now_ms = 1000;
	ASSERT_OK(apply(THREE), "apply");
	ASSERT_OK(apply("deleted_vip_grace: 10s\nvips: []\n"), "VIP deleted");
	ASSERT_EQ(op_index("del 1"), -1, "its entry stays");
	ASSERT_EQ(op_index("vip 1"), 0, "with an empty table first: packets get on_empty");
	t = fake_table(1);
	ASSERT_TRUE(t != NULL, "programmed");
	for (int i = 0; i < TBL; i++)
		ASSERT_EQ(t[i], 0, "every slot empty");
	for (__u32 id = 1; id <= 3; id++)
		ASSERT_EQ(F.be[id].state, XLB_BE_DOWN, "then its backends DOWN: flows re-hash");
	g = gone_at("10.0.0.10", 80);
	ASSERT_TRUE(g != NULL, "listed as deleted");
	ASSERT_EQ(g->id, 1, "its id");
	ASSERT_EQ(g->until_ms, 11000, "until the grace period ends");
	ASSERT_EQ(S->wake_ms, 11000, "the caller must apply again when it ends");
	ASSERT_TRUE(!S->time_matters, "and not on every tick until then");
	S->now_ms = 10999;
	ASSERT_OK(apply("deleted_vip_grace: 10s\nvips:\n" V(20, "") B(9)), "another VIP meanwhile");
	ASSERT_EQ(op_index("del 1"), -1, "still there just before the end");
	ASSERT_EQ(S->nvips ? S->vips[0].id : 0, 2, "the reserved id is not given out");
	S->now_ms = 11000;
	ASSERT_OK(apply("deleted_vip_grace: 10s\nvips:\n" V(20, "") B(9)), "at the end");
	ASSERT_EQ(op_index("del 1"), 0, "deleted");
	ASSERT_TRUE(gone_at("10.0.0.10", 80) == NULL, "no longer listed");
	ASSERT_EQ(S->vip_used[1], 1, "its id waits in quarantine");
	S->now_ms += XLB_SYNC_ID_QUARANTINE_MS;
	ASSERT_OK(apply("deleted_vip_grace: 10s\nvips:\n" V(20, "") B(9)), "later");
	ASSERT_EQ(S->vip_used[1], 0, "free again");
	ASSERT_TRUE(!S->time_matters && !S->wake_ms, "nothing to wait for");
	ASSERT_OK(apply("vips:\n" V(21, "") B(8)), "another one deleted (60 s)");
	ASSERT_EQ(S->ngone, 1, "in its grace period");
	S->now_ms += 1000;
	ASSERT_OK(apply("deleted_vip_grace: 0\nvips:\n" V(21, "") B(8)), "grace turned off");
	ASSERT_EQ(S->ngone, 0, "ends the running grace period too");
	return 0;
}

static int t_sync_readded_during_grace_takes_its_id_back(void)
{
	S->now_ms = 1000;
	ASSERT_OK(apply(THREE), "apply");
	ASSERT_OK(apply("vips: []\n"), "deleted (60 s grace by default)");
	S->now_ms = 5000;
	ASSERT_OK(apply(HEAD "    on_empty: drop\n    backends:\n" B(1) B(2)), "back, changed");
	ASSERT_EQ(S->nvips, 1, "one VIP");
	ASSERT_EQ(S->vips[0].id, 1, "with its reserved id");
	ASSERT_EQ(S->ngone, 0, "no longer deleted");
	ASSERT_EQ(op_index("vip 1"), 2, "two records first, then the VIP");
	ASSERT_TRUE(tables_sound() && slots_of(1, 0) == 0, "serving again");
	ASSERT_OK(apply("vips: []\n"), "deleted again");
	S->now_ms = 65000 + XLB_SYNC_ID_QUARANTINE_MS;
	ASSERT_OK(apply("vips: []\n"), "its grace period ended");
	S->now_ms += XLB_SYNC_ID_QUARANTINE_MS;
	ASSERT_OK(apply("vips: []\n"), "and the quarantine");
	for (__u32 id = 1; id < 16; id++)
		ASSERT_EQ(S->vip_used[id], 0, "no VIP id leaked");
	for (__u32 id = 1; id < 16; id++)
		ASSERT_EQ(S->backend_used[id], 0, "no backend id leaked");
	return 0;
}

/* The live fake VIP entry with this id, or NULL. */
static const struct xlb_vip_val *fake_val(__u32 vip_id)
{
	for (int i = 0; i < 8; i++)
		if (F.vip[i].live && F.vip[i].v.vip_id == vip_id)
			return &F.vip[i].v;
	return NULL;
}

/* A grace period ends in an apply that then fails: the entry put back is
 * the one the data plane had, reject_rate included. */
static int t_sync_rollback_puts_a_grace_entry_back_exactly(void)
{
	struct xlb_vip_val before;
	__u32 id;

	ASSERT_OK(apply("vips:\n" V(10, "") B(1) B(4) V(15, "    reject_rate: 25\n") B(2)),
		  "apply");
	id = vip_at("10.0.0.15", 80)->id;
	ASSERT_OK(apply("vips:\n" V(10, "") B(1) B(4)), ".15 deleted into its grace period");
	ASSERT_TRUE(fake_val(id) != NULL, "its entry stays");
	before = *fake_val(id);
	ASSERT_EQ(before.reject_rate, 25, "with its rate");
	S->now_ms += 10 * XLB_CFG_DEFAULT_DELETED_VIP_GRACE_MS;
	F.fail_at = F.writes + 3; /* .10's table, .15's deletion, then b4's record fails */
	ASSERT_EQ(try_apply("vips:\n" V(10, "") B(1)), -ENOMEM, "fails");
	F.fail_at = 0;
	ASSERT_TRUE(fake_val(id) != NULL, "the grace entry is back");
	ASSERT_TRUE(!memcmp(fake_val(id), &before, sizeof(before)), "byte for byte");
	return 0;
}

/* The fake data plane in a canonical form: records, then live VIPs by id. */
struct snap {
	struct xlb_backend be[FAKE_BES];
	struct {
		struct xlb_vip_key k;
		struct xlb_vip_val v;
		__u32 table[TBL];
	} vip[8];
	int nvips;
};

static void snap_take(struct snap *sn)
{
	memset(sn, 0, sizeof(*sn));
	memcpy(sn->be, F.be, sizeof(sn->be));
	for (__u32 id = 0; id < XLB_MAX_VIPS; id++)
		for (int i = 0; i < 8; i++)
			if (F.vip[i].live && F.vip[i].v.vip_id == id) {
				sn->vip[sn->nvips].k = F.vip[i].k;
				sn->vip[sn->nvips].v = F.vip[i].v;
				memcpy(sn->vip[sn->nvips++].table, F.vip[i].table,
				       sizeof(F.vip[i].table));
			}
}

/* The engine's view, digested. */
static __u64 view_digest(void)
{
	__u64 h = xlb_mix64(S->nvips * 31 + S->ngone);

	for (size_t i = 0; i < S->nvips; i++) {
		const struct xlb_sync_vip *v = &S->vips[i];

		h = xlb_mix64(h ^ v->id ^ v->table_fp ^ (__u64)v->nbackends << 40);
		for (size_t j = 0; j < v->nbackends; j++) {
			const struct xlb_sync_backend *b = &v->backends[j];

			h = xlb_mix64(h ^ b->id ^ (__u64)b->gen << 16 ^ (__u64)b->state << 48 ^
				      (__u64)b->weight << 52);
		}
	}
	for (size_t i = 0; i < S->ngone; i++)
		h = xlb_mix64(h ^ S->gone[i].id ^ S->gone[i].until_ms << 20);
	return h;
}

/* For every N, the Nth write of a multi-VIP apply fails: the data plane is
 * as it was, byte for byte, the view agrees, and the apply then works. */
static int t_sync_every_failed_write_rolls_back(void)
{
	struct snap *before = malloc(sizeof(*before)), *after = malloc(sizeof(*after));
	int n, ret = -1, rc = -1;
	__u64 view;

	S->sink.tables_swap = f_tables_swap;
	S->sink.backend_get = f_backend_get;
	S->sink.table_get = f_table_get;
	if (!before || !after)
		goto out;
	if (apply("vips:\n" CFG_A V(14, "") B(11) V(15, "") B(12)) ||
	    apply("vips:\n" CFG_A V(14, "") B(11)))
		goto out;
	S->now_ms = 30000;
	if (apply("vips:\n" CFG_A)) /* .15 gone until 60 s, .14 until 90 s */
		goto out;
	S->now_ms = 60000;
	snap_take(before);
	view = view_digest();
	for (n = 1; n < 200; n++) {
		F.fail_at = F.writes + n;
		ret = try_apply("vips:\n" CFG_B);
		F.fail_at = 0;
		if (!ret)
			break;
		snap_take(after);
		if (memcmp(before, after, sizeof(*before))) {
			harness_fail(__FILE__, __LINE__, "write %d failed: data plane changed", n);
			goto out;
		}
		if (view_digest() != view) {
			harness_fail(__FILE__, __LINE__, "write %d failed: the view changed", n);
			goto out;
		}
	}
	if (ret || n < 15) {
		harness_fail(__FILE__, __LINE__, "apply after %d failures: %d", n - 1, ret);
		goto out;
	}
	if (!vip_at("10.0.0.13", 80) || vip_at("10.0.0.11", 80) || !gone_at("10.0.0.11", 80) ||
	    gone_at("10.0.0.15", 80) || !vip_at("10.0.0.14", 80) || !tables_sound() || S->dirty) {
		harness_fail(__FILE__, __LINE__, "the apply after the failures is not right");
		goto out;
	}
	rc = 0;
out:
	free(before);
	free(after);
	return rc;
}

/*
 * The measured bug: a failed apply left a new VIP programmed and gave its
 * id back; the next new VIP got that id and its traffic went to the first
 * one's backends. Now the failed VIP is gone and its ids wait; and when the
 * rollback itself fails, the ids stay reserved for good.
 */
static int t_sync_failed_apply_leaves_no_orphan_and_no_shared_id(void)
{
	const char *one = "vips:\n" V(10, "") B(1);

	S->sink.backend_get = f_backend_get;
	ASSERT_OK(apply(one), "apply");
	F.fail_at = F.writes + 3; /* .20's record, .20's VIP, then .21's record fails */
	ASSERT_EQ(try_apply("vips:\n" V(10, "") B(1) V(20, "") B(2) V(21, "") B(3)), -ENOMEM,
		  "fails");
	ASSERT_TRUE(fake_table(2) == NULL, "the VIP programmed before the failure is gone");
	ASSERT_EQ(F.be[2].state, XLB_BE_DOWN, "its record is not ACTIVE");
	ASSERT_EQ(F.be[2].gen, 0, "it is as it was: never set");
	ASSERT_OK(apply("vips:\n" V(10, "") B(1) V(22, "") B(4)), "another new VIP");
	ASSERT_EQ(vip_at("10.0.0.22", 80)->id, 4, "does not get an id the failed apply had");
	F.fail_from = F.writes + 3; /* from there on, every write fails: no rollback */
	ASSERT_EQ(try_apply("vips:\n" V(10, "") B(1) V(22, "") B(4) V(23, "") B(5) V(24, "") B(6)),
		  -ENOMEM, "fails, and so does its rollback");
	F.fail_from = 0;
	ASSERT_TRUE(S->dirty, "the engine knows the data plane may differ");
	S->now_ms += 10 * XLB_SYNC_ID_QUARANTINE_MS;
	ASSERT_OK(apply("vips:\n" V(10, "") B(1) V(22, "") B(4) V(25, "") B(7)), "later");
	ASSERT_TRUE(vip_at("10.0.0.25", 80)->id != 5, "the orphan's id is never given out");
	ASSERT_TRUE(vip_at("10.0.0.25", 80)->backends[0].id != 5 &&
			    vip_at("10.0.0.25", 80)->backends[0].id != 6,
		    "nor its records'");
	return 0;
}

const struct harness_case sync_cases[] = {
	{"sync_table_changes_swap_in_one_batch", t_sync_table_changes_swap_in_one_batch},
	{"sync_health_down_leaves_table_and_moves_flows",
	 t_sync_health_down_leaves_table_and_moves_flows},
	{"sync_backup_only_without_primaries", t_sync_backup_only_without_primaries},
	{"sync_panic_never_uses_an_unknown_next_hop", t_sync_panic_never_uses_an_unknown_next_hop},
	{"sync_drain_timeout_turns_down", t_sync_drain_timeout_turns_down},
	{"sync_slow_start_steps_rebuild_the_table", t_sync_slow_start_steps_rebuild_the_table},
	{"sync_first_apply_programs_in_order", t_sync_first_apply_programs_in_order},
	{"sync_same_config_changes_nothing", t_sync_same_config_changes_nothing},
	{"sync_weight_change_rebuilds_only_the_table",
	 t_sync_weight_change_rebuilds_only_the_table},
	{"sync_other_vips_untouched", t_sync_other_vips_untouched},
	{"sync_removed_backend_leaves_table_then_goes_down",
	 t_sync_removed_backend_leaves_table_then_goes_down},
	{"sync_readded_backend_gets_new_generation", t_sync_readded_backend_gets_new_generation},
	{"sync_unresolved_next_hop_stays_out", t_sync_unresolved_next_hop_stays_out},
	{"sync_resolving_again_keeps_the_known_mac", t_sync_resolving_again_keeps_the_known_mac},
	{"sync_drain_and_disable", t_sync_drain_and_disable},
	{"sync_deleted_vip_entry_then_backends_down", t_sync_deleted_vip_entry_then_backends_down},
	{"sync_mode_change_rewrites_records", t_sync_mode_change_rewrites_records},
	{"sync_reject_rate_in_vip_value", t_sync_reject_rate_in_vip_value},
	{"sync_rollback_puts_a_grace_entry_back_exactly",
	 t_sync_rollback_puts_a_grace_entry_back_exactly},
	{"sync_adopt_then_same_config_moves_nothing", t_sync_adopt_then_same_config_moves_nothing},
	{"sync_syn_retry_on_records", t_sync_syn_retry_on_records},
	{"sync_deleted_vip_answers_for_its_grace_period",
	 t_sync_deleted_vip_answers_for_its_grace_period},
	{"sync_readded_during_grace_takes_its_id_back",
	 t_sync_readded_during_grace_takes_its_id_back},
	{"sync_every_failed_write_rolls_back", t_sync_every_failed_write_rolls_back},
	{"sync_failed_apply_leaves_no_orphan_and_no_shared_id",
	 t_sync_failed_apply_leaves_no_orphan_and_no_shared_id},
};
const size_t sync_ncases = sizeof(sync_cases) / sizeof(sync_cases[0]);

int sync_setup(void)
{
	return setup();
}

void sync_teardown(void)
{
	teardown();
}
