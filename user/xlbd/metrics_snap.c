// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The loop's copy of its state for a scrape; see metrics_snap.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "announce.h"
#include "clock.h"
#include "ejection.h"
#include "flowsweep.h"
#include "handover.h"
#include "metrics_snap.h"

static __u64 thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

void snap_free(struct snap *s)
{
	if (!s)
		return;
	free(s->vips);
	free(s->bes);
	free(s);
}

static void copy_vip(struct agent *ag, const struct xlb_sync_vip *v, struct snap_vip *sv)
{
	*sv = (struct snap_vip){.id = v->id,
				.nbackends = (__u32)v->nbackends,
				.in_table = v->in_table,
				.panic = v->panic,
				.with_prev = v->ho ? v->ho->with_prev : 0};
	xlb_cfg_vip_name(&v->cfg, sv->name, sizeof(sv->name));
	if (ag->announce) {
		struct announce_view av;

		announce_view(ag->announce, v, &av);
		sv->announced = (__u8)av.announced;
	}
}

static void copy_backend(struct agent *ag, const struct xlb_sync_vip *v,
			 const struct xlb_sync_backend *b, int flows_ok, struct snap_be *sb)
{
	struct check_view cv;
	struct outlier_view ov;

	checks_view(ag->checks, &v->cfg, &b->cfg, &cv);
	outliers_view(ag->outliers, v, b, &ov);
	*sb = (struct snap_be){.id = b->id,
			       .gen = b->gen,
			       .weight = b->cfg.weight,
			       .eff = b->weight,
			       .flows = flows_ok ? flowsweep_flows(ag->flows, b->id, b->gen) : 0,
			       .admin = b->cfg.admin,
			       .health = cv.checked ? cv.health : b->health,
			       .state = b->state,
			       .changes = cv.changes,
			       .ejected = ov.ejected,
			       .ejections = ov.ejections,
			       .addr = b->cfg.addr};
}

struct snap *snap_build(struct agent *ag)
{
	const struct xlb_sync *sy = ag->sync;
	__u64 t0 = thread_ns();
	struct snap *s = calloc(1, sizeof(*s));
	size_t nb = 0;

	if (!s)
		return NULL;
	for (size_t i = 0; i < sy->nvips; i++)
		nb += sy->vips[i].nbackends;
	s->refs = 1;
	s->vips = malloc((sy->nvips ? sy->nvips : 1) * sizeof(*s->vips));
	s->bes = malloc((nb ? nb : 1) * sizeof(*s->bes));
	if (!s->vips || !s->bes) {
		snap_free(s);
		return NULL;
	}
	/* the sweep's last pass; none recent: the scrape counts itself */
	s->flows_ok = ag->flows &&
		      !flowsweep_peek(ag->flows, mono_ms(), &s->flows_used, &s->flows_age_ms);
	for (size_t i = 0; i < sy->nvips; i++) {
		const struct xlb_sync_vip *v = &sy->vips[i];

		copy_vip(ag, v, &s->vips[s->nvips++]);
		for (size_t j = 0; j < v->nbackends; j++) {
			struct snap_be *sb = &s->bes[s->nbes++];

			copy_backend(ag, v, &v->backends[j], s->flows_ok, sb);
			sb->vip = (__u32)i;
		}
	}
	s->c = ag->counters;
	if (ag->announce) {
		__u64 since;

		s->maintenance = (__u8)announce_host_maintenance(ag->announce, &since);
	}
	memcpy(s->digest, ag->config_digest, sizeof(s->digest));
	s->build_ns = thread_ns() - t0;
	return s;
}
