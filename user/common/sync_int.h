// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Internals shared by the pieces of the reconciler (sync.c, sync_index.c,
 * sync_table.c, sync_txn.c, sync_put.c, sync_gone.c): not for use outside
 * sync*.c. The public interface is sync.h.
 */
#ifndef XLB_SYNC_INT_H
#define XLB_SYNC_INT_H

#include <stddef.h>

#include "sync.h"

/* Writes printf-style into err->msg; returns ret. */
int sync_fail(struct xlb_err *err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Frees n VIPs of a view and their backends. */
void sync_free_vips(struct xlb_sync_vip *v, size_t n);

/* ---- sync_index.c -------------------------------------------------------- */
/*
 * Lookups by key in a view: an open-addressing index (slot = position + 1)
 * built once per apply, so reconciling N backends costs O(N), not O(N^2)
 * (10,000 backends: a linear search per backend took most of a core).
 */
struct index {
	size_t *slot;
	size_t n; /* power of two, 0 = no index: search linearly */
};

/* Whether two VIPs have the same key (address, port, protocol). */
int sync_same_key(const struct xlb_cfg_vip *a, const struct xlb_cfg_vip *b);
/* Index n VIPs of a view by key; -ENOMEM. */
int sync_index_vips(struct index *x, const struct xlb_sync_vip *v, size_t n);
/* Index v's backends by address (nothing for no v); -ENOMEM. */
int sync_index_backends(struct index *x, const struct xlb_sync_vip *v);
/* The VIP of v[0..n) with c's key (x NULL or empty: linear search), or NULL. */
struct xlb_sync_vip *sync_find_vip(struct xlb_sync_vip *v, size_t n, const struct index *x,
				   const struct xlb_cfg_vip *c);
/* v's backend at address a (x from sync_index_backends), or NULL. */
struct xlb_sync_backend *sync_find_backend(struct xlb_sync_vip *v, const struct index *x,
					   const union xlb_addr *a);

/* ---- sync_table.c -------------------------------------------------------- */

/* What a VIP's table depends on, order-independent. */
__u64 sync_table_fingerprint(const struct xlb_sync_vip *v);
/* Build v's Maglev table (v->cfg.table_size entries) into table. */
int sync_build_table(struct xlb_sync *s, const struct xlb_sync_vip *v, __u32 *table);
/* The table as programmed for view v: its previous hops too if stateless. */
int sync_table_of(struct xlb_sync *s, const struct xlb_sync_vip *v, __u32 *table);
/* A stateless VIP's next handover state (v->ho) and table, from ov's
 * (NULL: none) and its Maglev table in table (replaced by the encoding).
 * -ENOMEM. */
int sync_handover(struct xlb_sync *s, struct xlb_sync_vip *v, const struct xlb_sync_vip *ov,
		  __u32 *table);
/* A switch to stateless (ov in table mode): the handover state "before"
 * v's first stateless table (Maglev ids in table), from the flow table's
 * live flows (handover.h "Switching"); sets v's seed counts. -errno. */
int sync_seed(struct xlb_sync *s, struct xlb_sync_vip *v, const __u32 *table,
	      struct xlb_handover **out);
/* What a stateless VIP's previous hops depend on besides its Maglev
 * table: its handover and its backends' ids, generations and states. */
__u64 sync_hops_fingerprint(const struct xlb_sync_vip *v);
/* When the first handover of the view nv[0..n) ends (0: none). */
__u64 sync_handover_wake(const struct xlb_sync_vip *nv, size_t n);
/* The data-plane record of backend b of VIP v. */
void sync_record_of(const struct xlb_sync_vip *v, const struct xlb_sync_backend *b,
		    struct xlb_backend *r);
/* The data-plane entry of VIP v. */
void sync_val_of(const struct xlb_sync_vip *v, struct xlb_vip_val *val);
/* The data-plane entry of a VIP in its grace period. */
void sync_gone_val(const struct xlb_sync_gone *g, struct xlb_vip_val *val);

/* ---- sync_txn.c ---------------------------------------------------------- */
/* ---- one apply as a transaction ----------------------------------------
 *
 * Every write to the sink is preceded by an undo entry that puts back what
 * was there before; a failed step replays the log in reverse. The forward
 * order is safe for packets (records before the tables that name them,
 * tables before a record leaves ACTIVE), and the reverse of a safe order is
 * safe too: a table stops naming a record before the record goes back to
 * DOWN, and a record is ACTIVE again before an old table names it again.
 * Undo entries are idempotent, so one written before a write that then
 * failed half way does no harm.
 */

enum undo_kind {
	UNDO_BACKEND, /* put record `rec` back at id */
	UNDO_TABLE,   /* put the old table back (entry unchanged) */
	UNDO_VIP_PUT, /* put entry `val` and the old table back */
	UNDO_VIP_DEL, /* remove a VIP that was not there */
};

struct undo {
	__u8 kind;
	__u32 id; /* UNDO_BACKEND */
	struct xlb_backend rec;
	struct xlb_vip_key key;
	struct xlb_vip_val val;
	/* The old table: rebuilt from `from` (the programmed view), or this
	 * copy read back (an adopted VIP: we never built its table), or,
	 * neither, an empty one (a VIP in its grace period). */
	const struct xlb_sync_vip *from;
	__u32 *saved;
};

struct txn {
	struct undo *log;
	size_t n, cap;
	struct xlb_sync_gone *gone; /* the grace list after this apply */
	size_t ngone;
	struct xlb_sync_quar *freed; /* ids this apply gives back */
	size_t nfreed, capfreed;
};

/* Append u to the log (takes u->saved, freed on failure); -ENOMEM. */
int sync_undo_push(struct txn *t, const struct undo *u);
/* Id `id` (a VIP's if vip) is given back when this apply commits. */
int sync_txn_free_id(struct txn *t, __u32 id, int vip);
/* Free what t holds. */
void sync_txn_release(struct txn *t);
/* Before record `id` is written (prior: what it holds, NULL: read it). */
int sync_undo_backend(struct xlb_sync *s, struct txn *t, __u32 id, const struct xlb_backend *prior);
/* Before VIP ov's table is replaced (kind UNDO_TABLE or UNDO_VIP_PUT). */
int sync_undo_vip(struct xlb_sync *s, struct txn *t, __u8 kind, const struct xlb_sync_vip *ov);
/* Replay the log backwards; returns how many undo writes failed. */
int sync_rollback(struct xlb_sync *s, struct txn *t);
/* Ids out of quarantine long enough can be given out again. */
void sync_release_ids(struct xlb_sync *s);
/* n ids go into quarantine. */
void sync_quarantine(struct xlb_sync *s, const struct xlb_sync_quar *q, size_t n);
/* A failed apply: the ids its plan took in nv[0..n) go into quarantine. */
void sync_give_back(struct xlb_sync *s, struct xlb_sync_vip *nv, size_t n, int rolled_back);

/* ---- sync_put.c ---------------------------------------------------------- */

struct swap_batch;

/* Program backend records of nv[0..n) whose state is `state`. */
int sync_put_backends(struct xlb_sync *s, struct txn *t, struct xlb_sync_vip *nv, size_t n,
		      __u8 state, struct xlb_err *err);
/* Program the VIP entries and tables of nv[0..n) that changed. */
int sync_put_vips(struct xlb_sync *s, struct txn *t, struct xlb_sync_vip *nv, size_t n,
		  struct xlb_err *err);
/* A batch of table swaps, or NULL (the sink takes no batches, or no memory). */
struct swap_batch *sync_batch_new(const struct xlb_sync *s);
/* Swap in a table whose entry stays (batch NULL: on its own); takes table. */
int sync_swap_table(struct xlb_sync *s, struct swap_batch *batch, const struct xlb_vip_key *k,
		    const struct xlb_vip_val *val, __u32 *table, struct xlb_err *err);
/* Flush (unless ret) and free a batch; returns ret or the flush's error. */
int sync_end_batch(struct xlb_sync *s, struct swap_batch *batch, int ret, struct xlb_err *err);

/* ---- sync_gone.c --------------------------------------------------------- */

/* The VIP with c's key in its grace period, or NULL. */
const struct xlb_sync_gone *sync_find_gone(const struct xlb_sync *s, const struct xlb_cfg_vip *c);
/* Delete what nv[0..n) no longer has: VIPs (grace periods), backends. */
int sync_retire(struct xlb_sync *s, struct txn *t, const struct xlb_cfg *cfg,
		struct xlb_sync_vip *nv, size_t n, struct xlb_err *err);
/* When the first grace period ends (0: none runs). */
__u64 sync_grace_wake(const struct xlb_sync *s);

#endif
