// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The forward steps of an apply: backend records, then VIP entries and
 * tables (swapped in batches where the sink takes them). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handover.h"
#include "sync.h"
#include "sync_int.h"

static int backend_changed(const struct xlb_sync_vip *v, const struct xlb_sync_backend *b)
{
	struct xlb_backend x, y;

	if (!b->prev)
		return 1;
	sync_record_of(v, b, &x);
	sync_record_of(v->prev, b->prev, &y);
	return memcmp(&x, &y, sizeof(x)) != 0;
}

/* Program backend records of the new view whose state is `state`. */
int sync_put_backends(struct xlb_sync *s, struct txn *t, struct xlb_sync_vip *nv, size_t n,
		      __u8 state, struct xlb_err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct xlb_sync_vip *v = &nv[i];

		for (size_t j = 0; j < v->nbackends; j++) {
			struct xlb_sync_backend *b = &v->backends[j];
			struct xlb_backend r, prior;
			int ret;

			if (b->state != state || !backend_changed(v, b))
				continue;
			if (b->prev)
				sync_record_of(v->prev, b->prev, &prior);
			sync_record_of(v, b, &r);
			ret = sync_undo_backend(s, t, b->id, b->prev ? &prior : NULL)
				      ?: s->sink.backend_set(s->sink.ctx, b->id, &r);
			if (ret)
				return sync_fail(err, ret, "couldn't program backend %u: %s", b->id,
						 strerror(-ret));
		}
	}
	return 0;
}

#define SWAP_BATCH 64 /* tables held in memory for one batch update */

struct swap_batch {
	size_t n;
	__u32 ids[SWAP_BATCH], sizes[SWAP_BATCH];
	__u8 flow_states[SWAP_BATCH];
	__u32 *tables[SWAP_BATCH];
};

struct swap_batch *sync_batch_new(const struct xlb_sync *s)
{
	return s->sink.tables_swap ? calloc(1, sizeof(struct swap_batch)) : NULL;
}

static int flush_batch(struct xlb_sync *s, struct swap_batch *b, struct xlb_err *err)
{
	int ret = b->n ? s->sink.tables_swap(s->sink.ctx, b->n, b->ids,
					     (const __u32 *const *)b->tables, b->sizes,
					     b->flow_states)
		       : 0;

	if (ret)
		sync_fail(err, ret, "couldn't swap %zu tables: %s", b->n, strerror(-ret));
	for (size_t i = 0; i < b->n; i++)
		free(b->tables[i]);
	b->n = 0;
	return ret;
}

/* Swap in a VIP's table whose entry stays as it is: in a batch when the
 * sink takes batches (the batch owns `table` then), else on its own. */
int sync_swap_table(struct xlb_sync *s, struct swap_batch *batch, const struct xlb_vip_key *k,
		    const struct xlb_vip_val *val, __u32 *table, struct xlb_err *err)
{
	int ret;

	if (batch) {
		batch->ids[batch->n] = val->vip_id;
		batch->sizes[batch->n] = val->table_size;
		batch->flow_states[batch->n] = val->flow_state;
		batch->tables[batch->n++] = table;
		return batch->n == SWAP_BATCH ? flush_batch(s, batch, err) : 0;
	}
	ret = s->sink.vip_set(s->sink.ctx, k, val, table);
	free(table);
	return ret ? sync_fail(err, ret, "couldn't swap a table: %s", strerror(-ret)) : 0;
}

int sync_end_batch(struct xlb_sync *s, struct swap_batch *batch, int ret, struct xlb_err *err)
{
	if (!batch)
		return ret;
	if (!ret)
		ret = flush_batch(s, batch, err);
	for (size_t i = 0; i < batch->n; i++)
		free(batch->tables[i]);
	free(batch);
	return ret;
}

static void handover_failed(const struct xlb_sync_vip *v, const struct xlb_sync_vip *ov, int ret,
			    struct xlb_err *err)
{
	char vn[80];

	xlb_cfg_vip_name(&v->cfg, vn, sizeof(vn));
	if (ov && ov->cfg.flow_state == XLB_FLOW_TABLE)
		sync_fail(err, ret,
			  "couldn't switch VIP %s to stateless: reading the flow table failed "
			  "(%s); nothing changed",
			  vn, strerror(-ret));
	else
		sync_fail(err, ret, "couldn't compute the previous hops of VIP %s: %s", vn,
			  strerror(-ret));
}

/*
 * Tables and VIP entries that changed. A VIP whose entry stays the same
 * and whose table changed (the usual case: health moved a backend) joins
 * a batch swapped in one update; the others go through vip_set.
 */
int sync_put_vips(struct xlb_sync *s, struct txn *t, struct xlb_sync_vip *nv, size_t n,
		  struct xlb_err *err)
{
	struct swap_batch *batch = sync_batch_new(s);
	int ret = 0;
	char vn[80];

	for (size_t i = 0; i < n && !ret; i++) {
		struct xlb_sync_vip *v = &nv[i];
		const struct xlb_sync_vip *ov = v->prev;
		struct xlb_vip_val val, oval;
		struct xlb_vip_key k;
		__u32 *table;
		int same_entry = 0, same_maglev = 0;
		int stateless = v->cfg.flow_state == XLB_FLOW_STATELESS;

		v->table_fp = sync_table_fingerprint(v);
		sync_val_of(v, &val);
		if (ov) {
			sync_val_of(ov, &oval);
			same_entry = !memcmp(&val, &oval, sizeof(val));
			same_maglev = same_entry && ov->table_fp == v->table_fp;
			if (same_maglev && !stateless)
				continue; /* nothing of this VIP changed */
			/* Stateless, the same table and backends, no handover
			 * ended: the previous hops stay as they are (the usual
			 * apply: a tick, a health change elsewhere). */
			if (same_maglev && ov->ho && ov->ho->size == v->cfg.table_size &&
			    ov->ho->inputs == sync_hops_fingerprint(v) &&
			    (!ov->ho->next_end_ms || s->now_ms < ov->ho->next_end_ms)) {
				v->ho_kept = 1;
				continue;
			}
		}
		xlb_sync_vip_key(&v->cfg, &k);
		table = calloc(v->cfg.table_size, sizeof(*table));
		if (!table)
			ret = -ENOMEM;
		else if (same_maglev && ov->ho) /* the same backends: previous hops may end */
			for (__u32 j = 0; j < v->cfg.table_size; j++)
				table[j] = ov->ho->slot[j].cur;
		else
			ret = sync_build_table(s, v, table);
		if (!ret && stateless) {
			ret = sync_handover(s, v, ov, table);
			if (ret)
				handover_failed(v, ov, ret, err);
		}
		if (!ret && stateless && same_maglev && ov->ho && xlb_ho_same(ov->ho, v->ho)) {
			free(table);
			continue; /* no previous hop came or went */
		}
		if (!ret && ov && !ov->table_fp && s->sink.table_get) {
			/* Adopted: the table the last xlbd built. The same (a
			 * restart): nothing to write. Else keep it for a rollback. */
			struct undo u = {.kind = same_entry ? UNDO_TABLE : UNDO_VIP_PUT, .key = k};

			u.val = oval;
			u.saved = calloc(ov->cfg.table_size, sizeof(*u.saved));
			ret = u.saved ? s->sink.table_get(s->sink.ctx, ov->id, ov->cfg.table_size,
							  u.saved)
				      : -ENOMEM;
			if (!ret && same_entry &&
			    !memcmp(u.saved, table, v->cfg.table_size * sizeof(*table))) {
				free(u.saved);
				free(table);
				continue;
			}
			if (ret)
				free(u.saved);
			else
				ret = sync_undo_push(t, &u);
		} else if (!ret && ov) {
			ret = sync_undo_vip(s, t, same_entry ? UNDO_TABLE : UNDO_VIP_PUT, ov);
		} else if (!ret && v->grave) { /* back to its grace-period entry */
			struct undo u = {.kind = UNDO_VIP_PUT, .key = k};

			sync_gone_val(v->grave, &u.val);
			ret = sync_undo_push(t, &u);
		} else if (!ret) {
			ret = sync_undo_push(t, &(struct undo){.kind = UNDO_VIP_DEL, .key = k});
		}
		if (ret) {
			free(table);
			break;
		}
		if (ov && same_entry) {
			ret = sync_swap_table(s, batch, &k, &val, table, err);
			continue;
		}
		ret = s->sink.vip_set(s->sink.ctx, &k, &val, table);
		if (ret)
			sync_fail(err, ret, "couldn't program VIP %s: %s",
				  xlb_cfg_vip_name(&v->cfg, vn, sizeof(vn)), strerror(-ret));
		free(table);
	}
	return sync_end_batch(s, batch, ret, err);
}
