/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reconciliation: make the data plane match a configuration, as a diff.
 *
 * Pure logic: the data plane is reached through struct xlb_sink, next-hop
 * MACs through a resolver callback, so unit tests run it without BPF.
 *
 * - Ids. Every VIP and every (VIP, backend) pair keeps its id for as long as
 *   it is configured; a new pair gets a free id and a new generation, so a
 *   flow never follows a recycled id. After a restart, xlb_sync_adopt()
 *   learns the ids and generations from what is programmed, so applying the
 *   same configuration again changes nothing and moves no flow.
 * - Id quarantine. An id given back (its VIP or backend removed, or taken
 *   by an apply that was rolled back) is named by nothing programmed any
 *   more, but a packet that read the old table or record just before may
 *   still be using it: XDP runs inside an RCU read-side section, so such
 *   readers are gone after one RCU grace period (typically 10-30 ms). A
 *   freed id waits XLB_SYNC_ID_QUARANTINE_MS, released at the first apply
 *   after that: no reader ever sees a record rewritten for its next owner,
 *   and no apply pays a synchronize_rcu() wait for it (ids are plentiful;
 *   the wait is not: 8-16 ms per forced grace period).
 * - Transactions. An apply completes or is rolled back: every write is
 *   preceded by an undo entry (the record, entry or table it replaces), and
 *   a failed write replays them in reverse, which keeps the order safe for
 *   packets (sync.c). The data plane is then byte-identical to before, the
 *   view is the old one, and the error says what failed. Should an undo
 *   write fail too, `dirty` is set and the ids involved stay reserved;
 *   restarting xlbd reconciles (it adopts what is programmed).
 * - Order (xlb_dp.h): backend records before the tables that name them;
 *   tables before a backend leaves ACTIVE; a removed backend goes DOWN
 *   (its flows move at once) after no table names it; a removed VIP loses
 *   its table (grace period) or entry, then its backends go DOWN.
 * - Deleted VIPs (cfg deleted_vip_grace_ms > 0): the entry stays with an
 *   empty table for that long, so packets of its flows get the VIP's
 *   on_empty answer (RST or ICMP unreachable, counted as no-backend packets
 *   of the VIP) instead of silence; its id stays reserved; the first apply
 *   after the period deletes it. The same VIP added again meanwhile takes
 *   its id back. `gone` lists them (for status); `wake_ms` says when the
 *   caller should apply again to end the first one.
 * - Diff. A VIP's Maglev table is rebuilt only when its inputs (size and
 *   the ids and weights of its usable backends) change; a stateless VIP's
 *   also when a previous hop comes or goes (handover.h: a slot's
 *   backend changed, a handover ended, a backend went DOWN or was
 *   deleted). `wake_ms` includes the first handover that ends.
 * - Stateless tables hold one __u32 per slot: current id | previous << 16
 *   (the sink's data plane writes them as struct xlb_sl_slot). A VIP whose
 *   flow_state changes gets a new VIP id: its table in the new layout is
 *   put in under the new id, then the entry switches in one update, so no
 *   packet reads a table in the other layout (its counters start again).
 * - flow_state changes keep connections (issue #14, handover.h "Switching"):
 *   table -> stateless seeds previous hops from the flow table's live
 *   flows (sink.flows_each) before the entry switches; stateless -> table
 *   waits while previous hops live: the VIP stays stateless in the data
 *   plane (`switching`, its id kept) and switches at the first apply after
 *   the last one ended (wake_ms says when to apply again).
 * - A backend whose next hop cannot be resolved stays out of the table and
 *   is reported (xlb_sync_backend.resolve_err), never forwarded to a wrong
 *   MAC. One that is only being resolved again (-EAGAIN) keeps the MAC it
 *   had: a transient neighbour state must not move flows.
 * - Health. What each backend's table weight and data-plane state are comes
 *   from xlb_health_select() (health.h) over admin state x health (from the
 *   health callback; "up" without one) x backup x slow start x panic. A
 *   backend without a next hop counts as down there.
 */
#ifndef XLB_SYNC_H
#define XLB_SYNC_H

#include "config.h"
#include "health.h"
#include "xlb_hash.h"

struct xlb_sink {
	void *ctx;
	int (*backend_set)(void *ctx, __u32 id, const struct xlb_backend *b);
	int (*vip_set)(void *ctx, const struct xlb_vip_key *k, const struct xlb_vip_val *v,
		       const __u32 *table);
	int (*vip_del)(void *ctx, const struct xlb_vip_key *k);
	/* Optional: new tables for n VIPs whose entry does not change, at once;
	 * flow_states[i] (enum xlb_flow_state) says each table's layout. */
	int (*tables_swap)(void *ctx, size_t n, const __u32 *vip_ids, const __u32 *const *tables,
			   const __u32 *sizes, const __u8 *flow_states);
	/* Reads for a rollback. Optional: without backend_get a new id is put
	 * back as an unset (all-zero) record; without table_get an adopted
	 * VIP's table is put back as the engine would build it. */
	int (*backend_get)(void *ctx, __u32 id, struct xlb_backend *b);
	int (*table_get)(void *ctx, __u32 vip_id, __u32 size, __u32 *table);
	/* Optional: the flow table's live flows (xlb_dp_flow_each) whose
	 * backend id has the generation gen_by_id[id] (XLB_MAX_BACKENDS
	 * entries); cb for each until it returns nonzero. Without it a switch
	 * to stateless seeds no previous hop. 0 or -errno. */
	int (*flows_each)(void *ctx, const __u32 *gen_by_id,
			  int (*cb)(void *cb_ctx, const struct xlb_flow_key *k, __u32 id),
			  void *cb_ctx);
};

struct xlb_dp;

/* The sink that programs a real data plane through libxlb. */
void xlb_sync_dp_sink(struct xlb_sink *sink, struct xlb_dp *dp);

/* Next-hop MAC of a backend: 0, or -EAGAIN (resolving), -EHOSTUNREACH... */
typedef int (*xlb_resolve_fn)(void *ctx, const union xlb_addr *addr, __u8 mac[6]);

struct xlb_sync_backend {
	struct xlb_cfg_backend cfg;
	__u32 id, gen;
	__u8 mac[6];
	__u8 state;	      /* enum xlb_backend_state, as programmed */
	__u8 health;	      /* enum xlb_health, as the selection saw it */
	__u32 weight;	      /* effective weight in the table (0 = out) */
	int resolve_err;      /* 0, or why the next hop is unknown */
	__u64 admin_since_ms; /* when cfg.admin took its value (xlb_sync.now_ms) */
	/* During xlb_sync_apply() only: the same backend as programmed, or NULL. */
	const struct xlb_sync_backend *prev;
};

struct xlb_handover;

struct xlb_sync_vip {
	struct xlb_cfg_vip cfg; /* backends live in `backends` below */
	/* flow_state stateless: each slot's current and previous backend
	 * (handover.h), as programmed; NULL for a table-mode VIP. */
	struct xlb_handover *ho;
	__u32 id;
	__u64 table_fp; /* fingerprint of the table's inputs */
	__u8 panic;	/* the panic threshold put unhealthy backends in */
	__u32 in_table; /* backends with a share of the table */
	struct xlb_sync_backend *backends;
	size_t nbackends;
	/* During xlb_sync_apply() only: the same VIP as programmed, or NULL;
	 * grave: the same VIP in its grace period, or NULL. */
	const struct xlb_sync_vip *prev;
	const struct xlb_sync_gone *grave;
	int ho_kept; /* during an apply: prev's handover state stays, as it is */
	/* The configuration says table, but previous hops still live: cfg
	 * (as programmed) says stateless until they end (see above). */
	__u8 switching;
	/* What the last apply did about flow_state (for the agent's log). */
	__u8 note;	  /* enum xlb_sync_note */
	__u32 seeded;	  /* XLB_SYNC_SEEDED: slots given a previous hop */
	__u32 seed_flows; /* the live flows the flow table held for the VIP */
	__u32 seed_lost;  /* of them, on a third backend of their slot: they break */
};

enum xlb_sync_note {
	XLB_SYNC_NOTE_NONE,
	XLB_SYNC_SEEDED,   /* switched to stateless, hops seeded from the flow table */
	XLB_SYNC_DEFERRED, /* the switch to table waits for the previous hops */
	XLB_SYNC_SWITCHED, /* switched to table (after waiting, or at once) */
};

/* A deleted VIP in its grace period: programmed with an empty table. */
struct xlb_sync_gone {
	struct xlb_cfg_vip cfg; /* as it was (no backends) */
	__u32 id;		/* reserved until it goes */
	__u64 until_ms;		/* (xlb_sync.now_ms) the first apply from then deletes it */
	__u32 grace_ms;		/* the grace period it got (a shorter one set later ends it) */
};

/* How long a freed id waits before it is given out again (see above). */
#define XLB_SYNC_ID_QUARANTINE_MS 2000

struct xlb_sync_quar {
	__u32 id;
	__u8 vip; /* a VIP id, else a backend id */
	__u64 since_ms;
};

/*
 * Health input of one backend: `in` comes filled from the configuration
 * (admin, backup, weight) with health up; the callback sets health and
 * up_since_ms, and may turn admin to disabled (e.g. a drain timed out).
 */
typedef void (*xlb_health_fn)(void *ctx, const struct xlb_sync_vip *v,
			      const struct xlb_sync_backend *b, struct xlb_hsel_in *in);
/* Optional: called once for a VIP right before the health callbacks of its
 * backends (v unchanged in between), so the caller can work out what the
 * whole VIP shares once, not once a backend. */
typedef void (*xlb_health_vip_fn)(void *ctx, const struct xlb_sync_vip *v);

struct xlb_sync {
	struct xlb_sink sink;
	xlb_resolve_fn resolve;
	void *resolve_ctx;
	xlb_health_fn health;	      /* NULL: every backend is up */
	xlb_health_vip_fn health_vip; /* NULL: none */
	void *health_ctx;
	__u64 now_ms;	  /* set by the caller before xlb_sync_apply() */
	int time_matters; /* after an apply: a ramp or drain timer runs, apply again later */
	__u64 wake_ms;	  /* after an apply: apply again from then (a grace period ends); 0 none */
	struct xlb_sync_vip *vips;
	size_t nvips;
	__u32 next_gen;
	/* 1: in use, in a grace period or in quarantine */
	__u8 vip_used[XLB_MAX_VIPS];
	__u8 backend_used[XLB_MAX_BACKENDS];
	__u64 tables_built;	    /* Maglev builds so far (to see the diff at work) */
	struct xlb_sync_gone *gone; /* deleted VIPs in their grace period */
	size_t ngone;
	struct xlb_sync_quar *quar; /* freed ids waiting */
	size_t nquar, capquar;
	__u64 rollbacks;	   /* applies that failed and were rolled back */
	int dirty;		   /* a rollback failed: the data plane may differ from the view */
	struct xlb_hash_seed seed; /* keys the Maglev permutations (set before the first apply) */
};

/* What is programmed already, for xlb_sync_adopt(). */
struct xlb_programmed_vip {
	struct xlb_vip_key key;
	struct xlb_vip_val val;
};

struct xlb_programmed_backend {
	__u32 id;
	struct xlb_backend b;
};

struct xlb_sync *xlb_sync_new(const struct xlb_sink *sink, xlb_resolve_fn resolve, void *ctx);
void xlb_sync_free(struct xlb_sync *s);

/* Learn ids and generations of programmed VIPs and backend records. */
int xlb_sync_adopt(struct xlb_sync *s, const struct xlb_programmed_vip *vips, size_t nvips,
		   const struct xlb_programmed_backend *bes, size_t nbes);

/*
 * Make the data plane match cfg (validated). Returns 0, or -errno from the
 * sink; err says what failed. On error everything this apply wrote is
 * rolled back and the engine's view is the one programmed before.
 */
int xlb_sync_apply(struct xlb_sync *s, const struct xlb_cfg *cfg, struct xlb_err *err);

/* The deleted VIP with this key in its grace period, or NULL. Status shows
 * it as "deleted, answering <on_empty> until <until_ms>" (ms left: until_ms
 * minus the caller's clock of now_ms). */
const struct xlb_sync_gone *xlb_sync_find_gone(const struct xlb_sync *s,
					       const struct xlb_vip_key *k);

/* The VIP with this key, or NULL. */
const struct xlb_sync_vip *xlb_sync_find(const struct xlb_sync *s, const struct xlb_vip_key *k);

/* The data-plane key of a configured VIP. */
void xlb_sync_vip_key(const struct xlb_cfg_vip *v, struct xlb_vip_key *k);

#endif /* XLB_SYNC_H */
