// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* One apply as a transaction: undo log, rollback, id quarantine. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"
#include "sync_int.h"

int sync_undo_push(struct txn *t, const struct undo *u)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		void *n = realloc(t->log, cap * sizeof(*t->log));

		if (!n) {
			free(u->saved);
			return -ENOMEM;
		}
		t->log = n;
		t->cap = cap;
	}
	t->log[t->n++] = *u;
	return 0;
}

int sync_txn_free_id(struct txn *t, __u32 id, int vip)
{
	if (t->nfreed == t->capfreed) {
		size_t cap = t->capfreed ? t->capfreed * 2 : 64;
		void *n = realloc(t->freed, cap * sizeof(*t->freed));

		if (!n)
			return -ENOMEM;
		t->freed = n;
		t->capfreed = cap;
	}
	t->freed[t->nfreed++] = (struct xlb_sync_quar){.id = id, .vip = (__u8)vip};
	return 0;
}

void sync_txn_release(struct txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->log[i].saved);
	free(t->log);
	free(t->gone);
	free(t->freed);
}

/* Before record `id` is written: how to put back what it holds. */
int sync_undo_backend(struct xlb_sync *s, struct txn *t, __u32 id, const struct xlb_backend *prior)
{
	struct undo u = {.kind = UNDO_BACKEND, .id = id};
	int ret = 0;

	if (prior)
		u.rec = *prior;
	else if (s->sink.backend_get) /* a new id: whatever it held (DOWN, or unset) */
		ret = s->sink.backend_get(s->sink.ctx, id, &u.rec);
	return ret ?: sync_undo_push(t, &u);
}

/* Before VIP ov's table is replaced: how to get it back. */
int sync_undo_vip(struct xlb_sync *s, struct txn *t, __u8 kind, const struct xlb_sync_vip *ov)
{
	struct undo u = {.kind = kind};
	int ret;

	xlb_sync_vip_key(&ov->cfg, &u.key);
	sync_val_of(ov, &u.val);
	u.from = ov;
	if (!ov->table_fp && s->sink.table_get) {
		/* Adopted: the table is the one the last xlbd built; read it. */
		u.from = NULL;
		u.saved = calloc(ov->cfg.table_size, sizeof(*u.saved));
		if (!u.saved)
			return -ENOMEM;
		ret = s->sink.table_get(s->sink.ctx, ov->id, ov->cfg.table_size, u.saved);
		if (ret) {
			free(u.saved);
			return ret;
		}
	}
	return sync_undo_push(t, &u);
}

static int old_table(struct xlb_sync *s, const struct undo *u, __u32 **out)
{
	__u32 *table = calloc(u->val.table_size, sizeof(*table));
	int ret = 0;

	if (!table)
		return -ENOMEM;
	if (u->saved)
		memcpy(table, u->saved, u->val.table_size * sizeof(*table));
	else if (u->from)
		ret = sync_table_of(s, u->from, table);
	if (ret)
		free(table);
	else
		*out = table;
	return ret;
}

/* Replay the log backwards; returns how many undo writes failed. */
int sync_rollback(struct xlb_sync *s, struct txn *t)
{
	int failed = 0;

	for (size_t i = t->n; i-- > 0;) {
		const struct undo *u = &t->log[i];
		__u32 *table = NULL;
		int ret;

		switch (u->kind) {
		case UNDO_BACKEND:
			ret = s->sink.backend_set(s->sink.ctx, u->id, &u->rec);
			break;
		case UNDO_VIP_DEL:
			ret = s->sink.vip_del(s->sink.ctx, &u->key);
			ret = ret == -ENOENT ? 0 : ret;
			break;
		default:
			ret = old_table(s, u, &table);
			if (!ret && u->kind == UNDO_TABLE && s->sink.tables_swap)
				ret = s->sink.tables_swap(s->sink.ctx, 1, &u->val.vip_id,
							  (const __u32 *const *)&table,
							  &u->val.table_size, &u->val.flow_state);
			else if (!ret)
				ret = s->sink.vip_set(s->sink.ctx, &u->key, &u->val, table);
			free(table);
		}
		failed += ret != 0;
	}
	return failed;
}

/* Ids freed at least XLB_SYNC_ID_QUARANTINE_MS ago can be given out again. */
void sync_release_ids(struct xlb_sync *s)
{
	for (size_t i = 0; i < s->nquar;) {
		const struct xlb_sync_quar *q = &s->quar[i];

		if (s->now_ms < q->since_ms + XLB_SYNC_ID_QUARANTINE_MS) {
			i++;
			continue;
		}
		if (q->vip)
			s->vip_used[q->id] = 0;
		else
			s->backend_used[q->id] = 0;
		s->quar[i] = s->quar[--s->nquar];
	}
}

/* Ids go into quarantine (they stay marked used). */
void sync_quarantine(struct xlb_sync *s, const struct xlb_sync_quar *q, size_t n)
{
	if (s->nquar + n > s->capquar) {
		size_t cap = s->capquar ? s->capquar : 64;
		void *p;

		while (cap < s->nquar + n)
			cap *= 2;
		p = realloc(s->quar, cap * sizeof(*s->quar));
		if (!p)
			return; /* out of memory: the ids stay used, lost but safe */
		s->quar = p;
		s->capquar = cap;
	}
	for (size_t i = 0; i < n; i++) {
		s->quar[s->nquar] = q[i];
		s->quar[s->nquar++].since_ms = s->now_ms;
	}
}

/* A failed apply: the ids its plan took were named in the data plane for a
 * while; they wait like freed ones (or, if the rollback failed, stay used:
 * something may still name them). */
void sync_give_back(struct xlb_sync *s, struct xlb_sync_vip *nv, size_t n, int rolled_back)
{
	for (size_t i = 0; rolled_back && i < n; i++) {
		const struct xlb_sync_vip *v = &nv[i];

		/* a new id: none before, or a new flow_state (sync.h) */
		if (v->id && v->id != (v->prev ? v->prev->id : v->grave ? v->grave->id : 0))
			sync_quarantine(s, &(struct xlb_sync_quar){.id = v->id, .vip = 1}, 1);
		for (size_t j = 0; j < v->nbackends; j++)
			if (!v->backends[j].prev && v->backends[j].id)
				sync_quarantine(s, &(struct xlb_sync_quar){.id = v->backends[j].id},
						1);
	}
}
