// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What a new view no longer has: deleted VIPs in their grace period,
 * grace periods that end, backends that left. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"
#include "sync_int.h"

const struct xlb_sync_gone *sync_find_gone(const struct xlb_sync *s, const struct xlb_cfg_vip *c)
{
	for (size_t i = 0; i < s->ngone; i++)
		if (sync_same_key(&s->gone[i].cfg, c))
			return &s->gone[i];
	return NULL;
}

/*
 * What the new view no longer has. VIPs first: a deleted one keeps its
 * entry with an empty table for its grace period (packets get its on_empty
 * answer, its id stays reserved), or loses it at once without one; grace
 * periods that ended end now. Then the backends that left: DOWN, ids freed.
 */
int sync_retire(struct xlb_sync *s, struct txn *t, const struct xlb_cfg *cfg,
		struct xlb_sync_vip *nv, size_t n, struct xlb_err *err)
{
	struct swap_batch *batch = sync_batch_new(s);
	struct index vx = {}, bx = {};
	int ret = sync_index_vips(&vx, nv, n);
	size_t cap = s->ngone + s->nvips;

	t->gone = calloc(cap ? cap : 1, sizeof(*t->gone));
	ret = ret ?: t->gone ? 0 : -ENOMEM;
	for (size_t i = 0; !ret && i < s->ngone; i++) {
		const struct xlb_sync_gone *g = &s->gone[i];
		const struct xlb_sync_vip *back = sync_find_vip(nv, n, &vx, &g->cfg);
		struct undo u = {.kind = UNDO_VIP_PUT};

		if (back) { /* back: the new view has its id, or a new one (flow_state) */
			ret = back->id == g->id ? 0 : sync_txn_free_id(t, g->id, 1);
			continue;
		}
		/* A shorter deleted_vip_grace (0: off) shortens running ones. */
		if (s->now_ms < g->until_ms &&
		    s->now_ms < g->until_ms - g->grace_ms + cfg->deleted_vip_grace_ms) {
			t->gone[t->ngone++] = *g;
			continue;
		}
		xlb_sync_vip_key(&g->cfg, &u.key);
		sync_gone_val(g, &u.val);
		ret = sync_undo_push(t, &u) ?: s->sink.vip_del(s->sink.ctx, &u.key);
		ret = ret == -ENOENT ? 0 : ret;
		ret = ret ?: sync_txn_free_id(t, g->id, 1);
		if (ret)
			sync_fail(err, ret, "couldn't delete a VIP: %s", strerror(-ret));
	}
	for (size_t i = 0; !ret && i < s->nvips; i++) {
		struct xlb_sync_vip *ov = &s->vips[i];
		struct xlb_sync_gone *g = &t->gone[t->ngone];
		struct xlb_vip_val val;
		struct xlb_vip_key k;
		const struct xlb_sync_vip *still = sync_find_vip(nv, n, &vx, &ov->cfg);
		__u32 *empty;

		if (still) { /* a new id for a new flow_state: the old one goes */
			ret = still->id == ov->id ? 0 : sync_txn_free_id(t, ov->id, 1);
			continue;
		}
		xlb_sync_vip_key(&ov->cfg, &k);
		if (!cfg->deleted_vip_grace_ms) {
			ret = sync_undo_vip(s, t, UNDO_VIP_PUT, ov)
				      ?: s->sink.vip_del(s->sink.ctx, &k);
			ret = ret == -ENOENT ? 0 : ret;
			ret = ret ?: sync_txn_free_id(t, ov->id, 1);
			if (ret)
				sync_fail(err, ret, "couldn't delete a VIP: %s", strerror(-ret));
			continue;
		}
		*g = (struct xlb_sync_gone){.cfg = ov->cfg,
					    .id = ov->id,
					    .until_ms = s->now_ms + cfg->deleted_vip_grace_ms,
					    .grace_ms = cfg->deleted_vip_grace_ms};
		g->cfg.backends = NULL;
		g->cfg.nbackends = 0;
		t->ngone++;
		if (!ov->table_fp && !ov->nbackends)
			continue; /* adopted in its grace period: empty already */
		sync_val_of(ov, &val);
		empty = calloc(ov->cfg.table_size, sizeof(*empty));
		ret = empty ? sync_undo_vip(s, t, UNDO_TABLE, ov) : -ENOMEM;
		if (ret)
			free(empty);
		else
			ret = sync_swap_table(s, batch, &k, &val, empty, err);
	}
	ret = sync_end_batch(s, batch, ret, err);
	for (size_t i = 0; !ret && i < s->nvips; i++) {
		struct xlb_sync_vip *ov = &s->vips[i], *v = sync_find_vip(nv, n, &vx, &ov->cfg);

		free(bx.slot);
		bx = (struct index){};
		if (sync_index_backends(&bx, v)) {
			ret = -ENOMEM;
			break;
		}
		for (size_t j = 0; !ret && j < ov->nbackends; j++) {
			struct xlb_sync_backend *ob = &ov->backends[j];
			struct xlb_backend r, prior;

			if (sync_find_backend(v, &bx, &ob->cfg.addr))
				continue;
			sync_record_of(ov, ob, &prior);
			r = prior;
			r.state = XLB_BE_DOWN;
			ret = sync_undo_backend(s, t, ob->id, &prior) ?:
				s->sink.backend_set(s->sink.ctx, ob->id, &r) ?:
				sync_txn_free_id(t, ob->id, 0);
			if (ret)
				sync_fail(err, ret, "couldn't retire backend %u: %s", ob->id,
					  strerror(-ret));
		}
	}
	free(vx.slot);
	free(bx.slot);
	return ret;
}

/* When the first grace period ends (0: none runs). */
__u64 sync_grace_wake(const struct xlb_sync *s)
{
	__u64 wake = 0;

	for (size_t i = 0; i < s->ngone; i++)
		if (!wake || s->gone[i].until_ms < wake)
			wake = s->gone[i].until_ms;
	return wake;
}
