// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbd: the xlb agent. Loads (or adopts) the data plane, makes it match the
 * configuration file, attaches it to the interface, and keeps it matching:
 * SIGHUP re-reads the file (validated in full first: a rejected file
 * changes nothing), next hops that are still resolving are retried every
 * 200 ms and every next hop is re-checked within 30 s.
 *
 * One event loop (epoll over a signalfd and a timerfd) owns all state and
 * is the only writer of BPF maps. Exiting leaves forwarding in place: the
 * program and maps stay pinned, and the next xlbd adopts them without
 * dropping or moving a flow. `xlbd --detach` removes them.
 *
 * Exit codes: 0 done, 1 runtime failure, 2 bad usage or configuration.
 *
 * The running configuration is persisted (state dir, atomically) after every
 * change and restored at start in preference to -c FILE; SIGHUP and
 * `xlbctl reload` apply the file again. xlbctl talks to the control
 * socket: its connections are served from this loop (ctl_conn.c), its
 * requests by ctl.c, which sees the agent only through a ctl_agent.
 *
 * Next hops follow the kernel: neighbour, link and route changes (netlink)
 * that change a backend's next hop trigger a re-check at the next 200 ms
 * tick, and the known routes are asked again over every 30 s, a slice a
 * tick (nexthop.h).
 *
 * Health checks (checks.c) run in the same loop: their timer and the
 * prober's fd are two more epoll sources; a change of health applies at
 * once (or at the next tick when the last apply is less than a tick old,
 * so bursts coalesce), and a running slow-start ramp or drain timeout
 * re-applies at each tick (only tables whose weights changed are rebuilt).
 */
#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "clock.h"
#include "config.h"
#include "exec_child.h"
#include "flowsweep.h"
#include "handover.h"
#include "heartbeat.h"
#include "notify.h"
#include "log.h"
#include "nexthop.h"
#include "privs.h"
#include "seed.h"
#include "state.h"
#include "sync.h"
#include "xlb_dp.h"
#include "agent.h"
#include "announce.h"
#include "via_route.h"
#include "ejection.h"
#include "cfgdiff.h"
#include "ctl.h"
#include "ctl_conn.h"
#include "metrics.h"
#include "reload.h"

#define DEFAULT_PIN_DIR "/sys/fs/bpf/xlb"
#define DEFAULT_STATE_DIR "/var/lib/xlb"
#define DEFAULT_SOCKET "/run/xlb/xlbd.sock"
#define TICK_MS 200
#define RECHECK_TICKS (30 * 1000 / TICK_MS) /* every route re-checked within 30 s */
#define FLOW_SLICES 5			    /* a pass over the flow table: 5 ticks, 1 s */

/* ---- data plane and next hops, as the reconciliation engine sees them -- */

static int resolve(void *ctx, const union xlb_addr *a, __u8 mac[6])
{
	struct agent *ag = ctx;
	int ret = xlb_nh_resolve(ag->nh, a, mac);

	if (ret)
		ag->unresolved++;
	return ret;
}

/* The data plane as the engine sees it: table updates are timed. */
static int sink_backend_set(void *ctx, __u32 id, const struct xlb_backend *b)
{
	struct agent *ag = ctx;

	return ag->dp_sink.backend_set(ag->dp_sink.ctx, id, b);
}

/* n tables programmed since t0 (CLOCK_MONOTONIC): counted for /metrics. */
static void count_tables(struct agent *ag, size_t n, const struct timespec *t0)
{
	struct timespec t1;
	double s;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
	for (size_t i = 0; i < n; i++) { /* each table: its share of the time */
		ag->counters.table_updates++;
		counters_observe(ag->counters.table_hist, &ag->counters.table_sum_s, s / (double)n);
	}
}

static int sink_vip_set(void *ctx, const struct xlb_vip_key *k, const struct xlb_vip_val *v,
			const __u32 *table)
{
	struct agent *ag = ctx;
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = ag->dp_sink.vip_set(ag->dp_sink.ctx, k, v, table);
	if (!ret)
		count_tables(ag, 1, &t0);
	return ret;
}

static int sink_vip_del(void *ctx, const struct xlb_vip_key *k)
{
	struct agent *ag = ctx;

	return ag->dp_sink.vip_del(ag->dp_sink.ctx, k);
}

static int sink_tables_swap(void *ctx, size_t n, const __u32 *vip_ids, const __u32 *const *tables,
			    const __u32 *sizes, const __u8 *flow_states)
{
	struct agent *ag = ctx;
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = ag->dp_sink.tables_swap(ag->dp_sink.ctx, n, vip_ids, tables, sizes, flow_states);
	if (!ret)
		count_tables(ag, n, &t0);
	return ret;
}

/* Reads for a rollback (sync.h): straight through. */
static int sink_backend_get(void *ctx, __u32 id, struct xlb_backend *b)
{
	struct agent *ag = ctx;

	return ag->dp_sink.backend_get(ag->dp_sink.ctx, id, b);
}

static int sink_table_get(void *ctx, __u32 vip_id, __u32 size, __u32 *table)
{
	struct agent *ag = ctx;

	return ag->dp_sink.table_get(ag->dp_sink.ctx, vip_id, size, table);
}

static int sink_flows_each(void *ctx, const __u32 *gen_by_id,
			   int (*cb)(void *cb_ctx, const struct xlb_flow_key *k, __u32 id),
			   void *cb_ctx)
{
	struct agent *ag = ctx;

	return ag->dp_sink.flows_each(ag->dp_sink.ctx, gen_by_id, cb, cb_ctx);
}

/* ---- adoption of what an earlier xlbd left pinned -------------------- */

struct programmed {
	struct xlb_programmed_vip *vips;
	struct xlb_programmed_backend *bes;
	size_t nvips, nbes, cap_bes;
};

static int collect_vip(const struct xlb_vip_key *k, const struct xlb_vip_val *v, void *ctx)
{
	struct programmed *p = ctx;

	if (p->nvips >= XLB_MAX_VIPS)
		return -E2BIG;
	p->vips[p->nvips++] = (struct xlb_programmed_vip){*k, *v};
	return 0;
}

static int collect_backend(__u32 id, const struct xlb_backend *b, void *ctx)
{
	struct programmed *p = ctx;

	if (p->nbes == p->cap_bes) {
		size_t cap = p->cap_bes ? p->cap_bes * 2 : 256;
		void *n = realloc(p->bes, cap * sizeof(*p->bes));

		if (!n)
			return -ENOMEM;
		p->bes = n;
		p->cap_bes = cap;
	}
	p->bes[p->nbes++] = (struct xlb_programmed_backend){id, *b};
	return 0;
}

static int adopt(struct agent *ag)
{
	struct programmed p = {.vips = calloc(XLB_MAX_VIPS, sizeof(*p.vips))};
	int err = p.vips ? 0 : -ENOMEM;

	err = err ?: xlb_dp_for_each_vip(ag->dp, collect_vip, &p);
	err = err ?: xlb_dp_for_each_backend(ag->dp, collect_backend, &p);
	err = err ?: xlb_sync_adopt(ag->sync, p.vips, p.nvips, p.bes, p.nbes);
	if (!err) {
		/* What served before the restart keeps serving while checks warm up. */
		union xlb_addr *up = calloc(p.nbes ? p.nbes : 1, sizeof(*up));
		size_t n = 0;

		for (size_t i = 0; up && i < p.nbes; i++)
			if (p.bes[i].b.state != XLB_BE_DOWN)
				up[n++] = p.bes[i].b.addr;
		if (up)
			checks_adopted_up(ag->checks, up, n);
		free(up);
	}
	if (!err)
		pr_info("adopted the pinned data plane: %zu VIPs, %zu backend records\n", p.nvips,
			p.nbes);
	free(p.vips);
	free(p.bes);
	return err;
}

/* ---- applying a configuration ----------------------------------------- */

static void report_unresolved(struct agent *ag)
{
	char vn[80], bn[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < ag->sync->nvips; i++) {
		const struct xlb_sync_vip *v = &ag->sync->vips[i];

		for (size_t j = 0; j < v->nbackends; j++) {
			const struct xlb_sync_backend *b = &v->backends[j];

			if (b->resolve_err && b->resolve_err != -EAGAIN)
				pr_warn("backend %s of VIP %s is out of the table: %s\n",
					xlb_addr_str(&b->cfg.addr, bn, sizeof(bn)),
					xlb_cfg_vip_name(&v->cfg, vn, sizeof(vn)),
					xlb_nh_strerror(b->resolve_err));
		}
	}
}

/* What an apply did about a VIP's flow_state (sync.h), once each. */
static void log_flow_state_notes(const struct xlb_sync *s)
{
	char vn[80];

	for (size_t i = 0; i < s->nvips; i++) {
		const struct xlb_sync_vip *v = &s->vips[i];

		xlb_cfg_vip_name(&v->cfg, vn, sizeof(vn));
		if (v->note == XLB_SYNC_SEEDED)
			pr_info("VIP %s: stateless now; of its %u live flows in the flow table, "
				"those on another backend than their slot's are kept: %u slots "
				"carry that backend as previous hop\n",
				vn, v->seed_flows, v->seeded);
		if (v->note == XLB_SYNC_SEEDED && v->seed_lost)
			pr_warn("VIP %s: %u flows sat on a third backend of their slot (one "
				"previous "
				"hop a slot): they break\n",
				vn, v->seed_lost);
		if (v->note == XLB_SYNC_DEFERRED)
			pr_info("VIP %s: flow_state table: stays stateless until its %u slots' "
				"previous hops end (their connections would break), then "
				"switches\n",
				vn, v->ho ? v->ho->with_prev : 0);
		if (v->note == XLB_SYNC_SWITCHED)
			pr_info("VIP %s: flow_state table now\n", vn);
	}
}

int agent_apply(struct agent *ag, struct xlb_cfg *cfg)
{
	return agent_apply_with(ag, cfg, NULL);
}

int agent_apply_with(struct agent *ag, struct xlb_cfg *cfg, const char *digest)
{
	struct xlb_err err = {};
	int before = ag->unresolved, changed = cfg != &ag->cfg, ret;

	xlb_nh_refresh(ag->nh);
	ag->unresolved = 0;
	ag->sync->now_ms = mono_ms();
	ag->last_apply_ms = ag->sync->now_ms;
	ag->health_changed = 0;
	ret = xlb_sync_apply(ag->sync, cfg, &err);
	if (ret) {
		ag->unresolved = before;
		pr_warn("couldn't apply the configuration: %s\n", err.msg);
		return ret;
	}
	if (changed) {
		xlb_cfg_free(&ag->cfg);
		ag->cfg = *cfg;
		memset(cfg, 0, sizeof(*cfg));
		ag->cfg_gen++;
	}
	/* The fleet compares it (README "Fleet"); only a new config changes it. */
	if (changed && digest && digest[0]) {
		snprintf(ag->config_digest, sizeof(ag->config_digest), "%s", digest);
	} else if (changed || !ag->config_digest[0]) {
		int derr = xlb_cfg_digest(&ag->cfg, &ag->seed, ag->config_digest);

		if (derr) {
			ag->config_digest[0] = 0;
			pr_warn("couldn't compute the config digest: %s\n", strerror(-derr));
		}
	}
	/* 'mtu:' (validated by the parser); written only when it changes */
	xlb_dp_mtu_set(ag->dp, ag->cfg.mtu);
	/* The same configuration again (a health change, a tick): the checks
	 * are what they were, and rebuilding their table costs a hash of every
	 * backend's check. */
	if (changed || !ag->checks_synced) {
		ag->checks_synced = !checks_sync(ag->checks, &ag->cfg);
		if (!ag->checks_synced)
			pr_warn("health checks: out of memory; some backends are not checked\n");
	}
	checks_note_apply(ag->checks, ag->sync);
	log_flow_state_notes(ag->sync);
	if (ag->announce)
		announce_sync(ag->announce, &ag->cfg, ag->sync);
	if (ag->unresolved != before)
		report_unresolved(ag);
	if (before && !ag->unresolved)
		pr_info("next hops: all resolved\n");
	notify_status(ag); /* systemd's status line, when it changed */
	return 0;
}

/* The state file (state.c: atomic, 0600, checked to load back). */
int agent_persist(struct agent *ag, struct xlb_err *err)
{
	return ag->state_path ? state_write(ag->state_path, &ag->cfg, err) : 0;
}

static double unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void agent_count_reload(struct agent *ag, int ok)
{
	if (!ok) {
		ag->counters.reloads_failed++;
		return;
	}
	ag->counters.reloads_ok++;
	ag->counters.last_reload_ok_s = unix_now();
}

/*
 * A reload keeps the seed xlbd started with: a new one moves every flow and
 * needs the pinned program replaced (xlb_dp_open() refuses to adopt it).
 */
static int same_seed(const struct xlb_hash_seed *have, const struct xlb_cfg *next,
		     struct xlb_err *err)
{
	struct xlb_hash_seed seed;
	int ret = xlb_seed_resolve(next, &seed, err);

	if (ret)
		return ret;
	if (!memcmp(&seed, have, sizeof(seed)))
		return 0;
	snprintf(err->msg, sizeof(err->msg),
		 "the hash seed (%s) changed; a reload cannot apply it. A new seed moves every "
		 "established flow to another backend: stop xlbd, run 'xlbd --detach', start xlbd, "
		 "on every host of the fleet (README \"Hash seed\")",
		 xlb_seed_source(next));
	return -EINVAL;
}

/*
 * The flow table's size at start: when nothing is pinned (a first start, or
 * after --detach) the file's flow_table_size is taken, even when the running
 * state is restored: that is how a resize is applied (same_flow_table()).
 * With a table pinned, the running state's size must match it
 * (xlb_dp_open() refuses otherwise).
 */
static void start_flow_table_size(struct agent *ag)
{
	struct xlb_cfg file = {};
	struct xlb_err err = {};
	char path[512];

	snprintf(path, sizeof(path), "%s/flows", ag->pin_dir);
	if (!ag->config_path || !access(path, F_OK) ||
	    xlb_cfg_load_file(ag->config_path, &file, &err))
		return;
	if (file.flow_table_size != ag->cfg.flow_table_size)
		pr_info("flow table: %u flows (flow_table_size of %s)\n",
			xlb_cfg_flow_entries(&file), ag->config_path);
	ag->cfg.flow_table_size = file.flow_table_size;
	xlb_cfg_free(&file);
}

/* The seed at start: from -c FILE when given (the running state keeps no
 * secret), else from the default seed file. */
static int load_seed(struct agent *ag, struct xlb_err *err)
{
	struct xlb_cfg file = {};
	int ret;

	if (!ag->config_path || ag->cfg.hash_seed[0] || ag->cfg.hash_seed_file[0])
		return xlb_seed_resolve(&ag->cfg, &ag->seed, err);
	/* Restoring the state with a broken FILE still starts (as before the
	 * seed): from the default seed file, which xlb_dp_open() refuses if
	 * the pinned program runs with another seed. */
	if (xlb_cfg_load_file(ag->config_path, &file, err))
		pr_warn("%s; the hash seed comes from %s\n", err->msg, XLB_SEED_FILE);
	ret = xlb_seed_resolve(&file, &ag->seed, err);
	xlb_cfg_free(&file);
	return ret;
}

int agent_read_file(const char *path, const struct xlb_hash_seed *seed, const char *iface,
		    struct xlb_cfg *next, struct xlb_err *err)
{
	memset(next, 0, sizeof(*next));
	if (!path) {
		snprintf(err->msg, sizeof(err->msg),
			 "xlbd was started without -c FILE: there is no file to reload");
		return -ENOENT;
	}
	if (xlb_cfg_load_file(path, next, err) || same_seed(seed, next, err)) {
		xlb_cfg_free(next);
		return -EINVAL;
	}
	if (next->iface[0] && strcmp(next->iface, iface))
		pr_warn("reload: interface '%s' in the file differs from the running '%s'; "
			"restart xlbd to move\n",
			next->iface, iface);
	snprintf(next->iface, sizeof(next->iface), "%s", iface);
	return 0;
}

int agent_load_file(struct agent *ag, struct xlb_cfg *next, struct xlb_err *err)
{
	int ret = agent_read_file(ag->config_path, &ag->seed, ag->iface, next, err);

	if (ret == -EINVAL) {
		pr_warn("reload rejected, still running the previous configuration: %s\n",
			err->msg);
		agent_count_reload(ag, 0);
	}
	return ret;
}

/*
 * CAP_NET_ADMIN is kept only when the configuration xlbd started with
 * announces (privs.c): one that starts announcing later is refused, as a
 * whole, rather than applied without its routes.
 */
static int can_announce(struct agent *ag, const struct xlb_cfg *next, struct xlb_err *err)
{
	if (!next->announce.table || ag->net_admin)
		return 0;
	snprintf(err->msg, sizeof(err->msg),
		 "couldn't start announcing (table %u): xlbd started without an 'announce:' block "
		 "and dropped CAP_NET_ADMIN, which routes need; nothing changed. Restart xlbd "
		 "(systemctl restart xlbd) to announce; forwarding and routes survive a restart",
		 next->announce.table);
	return -EPERM;
}

/*
 * A program from before stateless forwarding reads a stateless VIP's table
 * as four ids a value and the entry's flow_state not at all: while such a
 * program forwards, a configuration with a stateless VIP is refused as a
 * whole (issue #14). At start that is the program an earlier xlbd pinned,
 * until this xlbd's own replaces it at attach.
 */
static int can_stateless(const struct agent *ag, const struct xlb_cfg *next, struct xlb_err *err)
{
	char vn[80];

	if (ag->features & XLB_FEAT_STATELESS)
		return 0;
	for (size_t i = 0; i < next->nvips; i++) {
		if (next->vips[i].flow_state != XLB_FLOW_STATELESS)
			continue;
		xlb_cfg_vip_name(&next->vips[i], vn, sizeof(vn));
		if (ag->own_program)
			snprintf(
				err->msg, sizeof(err->msg),
				"couldn't apply VIP %s with flow_state stateless: this xlbd's XDP "
				"program predates stateless forwarding; nothing changed. Set "
				"'flow_state: table', or install an xlbd with stateless forwarding",
				vn);
		else
			snprintf(err->msg, sizeof(err->msg),
				 "couldn't apply VIP %s with flow_state stateless: the XDP program "
				 "that forwards (pinned by an earlier xlbd) predates stateless "
				 "forwarding and would misread its table; nothing changed. Start "
				 "with 'flow_state: table' (this xlbd's program replaces it then; "
				 "reload after), or replace it now: stop xlbd, run 'xlbd --detach "
				 "--pin-dir %s', start xlbd (forwarding stops for about a second)",
				 vn, ag->pin_dir);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* The features of the program that forwards: the pinned one (while an
 * earlier xlbd's is attached), else this xlbd's own. Unreadable: none. */
static void read_features(struct agent *ag, int attached)
{
	int err = -ENOENT;

	ag->features = 0;
	if (!attached && xlb_dp_adopted(ag->dp))
		err = xlb_dp_pinned_features(ag->pin_dir, &ag->features);
	ag->own_program = err == -ENOENT;
	if (ag->own_program)
		err = xlb_dp_features(ag->dp, &ag->features);
	if (err) {
		pr_warn("couldn't read the features of the XDP program (%s): stateless VIPs are "
			"refused\n",
			strerror(-err));
		ag->features = 0;
	}
}

/*
 * The flow table keeps the size it was created with: a reload or apply that
 * changes flow_table_size is refused as a whole (README "Flow table": why,
 * and how to resize).
 */
static int same_flow_table(struct agent *ag, const struct xlb_cfg *next, struct xlb_err *err)
{
	__u32 have = xlb_dp_flow_entries(ag->dp), want = xlb_cfg_flow_entries(next);

	if (have == want)
		return 0;
	snprintf(err->msg, sizeof(err->msg),
		 "couldn't resize the flow table: flow_table_size %u -> %u needs a restart with "
		 "--detach (stop xlbd, run 'xlbd --detach --pin-dir %s', start xlbd; forwarding "
		 "stops meanwhile, about a second, and established flows are then re-hashed by "
		 "the Maglev tables); nothing changed. Or keep flow_table_size: %u",
		 have, want, ag->pin_dir, have);
	return -EBUSY;
}

int agent_reload_apply(struct agent *ag, struct xlb_cfg *next, const struct agent_prepared *pre,
		       struct xlb_err *err)
{
	if (can_stateless(ag, next, err)) {
		pr_warn("reload rejected, still running the previous configuration: %s\n",
			err->msg);
		agent_count_reload(ag, 0);
		return -EOPNOTSUPP;
	}
	if (can_announce(ag, next, err) || same_flow_table(ag, next, err) ||
	    via_routes_ok(ag, next, err)) {
		agent_count_reload(ag, 0);
		return -EPERM;
	}
	if (agent_apply_with(ag, next, pre ? pre->digest : NULL)) {
		snprintf(err->msg, sizeof(err->msg),
			 "couldn't apply the reloaded configuration; nothing changed");
		agent_count_reload(ag, 0);
		return -EIO;
	}
	agent_count_reload(ag, 1);
	pr_info("configuration reloaded: %zu VIPs\n", ag->cfg.nvips);
	if (pre && pre->defer_persist)
		return 0;
	return pre && pre->state_text && ag->state_path
		       ? state_write_text(ag->state_path, pre->state_text, pre->state_len, err)
		       : agent_persist(ag, err);
}

int agent_reload(struct agent *ag, struct xlb_err *err)
{
	struct xlb_cfg next;
	int ret = agent_load_file(ag, &next, err);

	if (!ret)
		ret = agent_reload_apply(ag, &next, NULL, err);
	xlb_cfg_free(&next);
	return ret;
}

/* ---- the control socket's view of the agent ---------------------------- */

static int ctl_apply(void *ctx, struct xlb_cfg *next, struct xlb_err *err)
{
	struct agent *ag = ctx;

	if (can_announce(ag, next, err) || same_flow_table(ag, next, err) ||
	    via_routes_ok(ag, next, err))
		return -EPERM;
	if (can_stateless(ag, next, err))
		return -EOPNOTSUPP;
	if (agent_apply(ag, next)) {
		snprintf(err->msg, sizeof(err->msg),
			 "the data plane refused the change; nothing else changed");
		return -EIO;
	}
	return agent_persist(ag, err);
}

static int ctl_load_file(void *ctx, struct xlb_cfg *next, struct xlb_err *err)
{
	return agent_load_file(ctx, next, err);
}

static int ctl_reload(void *ctx, struct xlb_cfg *next, struct xlb_err *err)
{
	return agent_reload_apply(ctx, next, NULL, err);
}

/* Read and checked off the loop (reload.h); answered later. */
static int ctl_reload_start(void *ctx, const struct ctl_peer *peer, int dry, struct xlb_err *err)
{
	struct agent *ag = ctx;

	return reload_start(ag->reload, peer, dry, err);
}

static int ctl_maintenance(void *ctx, const char *vip, int on, struct xlb_err *err)
{
	struct agent *ag = ctx;

	return announce_maintenance(ag->announce, &ag->cfg, ag->sync, vip, on, err);
}

static void ctl_detach(void *ctx)
{
	struct agent *ag = ctx;

	ag->detach = 1; /* after the reply: unpin, close, exit */
}

/* The verbs' side of the agent (one agent a process). */
static struct ctl_agent ctl_glue;

static char *ctl_request(void *ctx, const struct ctl_peer *peer, const char *text, size_t len,
			 int *keep_open)
{
	return ctl_handle(ctx, peer, text, len, keep_open);
}

static int ctl_open(struct agent *ag)
{
	ctl_glue = (struct ctl_agent){
		.ctx = ag,
		.view = {.iface = ag->iface,
			 .pin_dir = ag->pin_dir,
			 .generic = ag->generic,
			 .unresolved = &ag->unresolved,
			 .cfg = &ag->cfg,
			 .sync = ag->sync,
			 .dp = ag->dp,
			 .checks = ag->checks,
			 .outliers = ag->outliers,
			 .events = ag->events,
			 .announce = ag->announce,
			 .config_digest = ag->config_digest,
			 .flows = ag->flows},
		.events = ag->events,
		.apply = ctl_apply,
		.load_file = ctl_load_file,
		.reload = ctl_reload,
		.detach = ctl_detach,
		.maintenance = ctl_maintenance,
	};
	ag->reload = reload_new(ag, &ctl_glue);
	if (ag->reload)
		ctl_glue.reload_start = ctl_reload_start;
	else
		pr_warn("reloads are read in the event loop: out of memory for their thread\n");
	return ctl_server_open(ag->socket_path, ag->socket_group, ctl_request, &ctl_glue, &ag->ctl);
}

/* ---- the event loop --------------------------------------------------- */

static int add_fd(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int run(struct agent *ag)
{
	struct itimerspec tick = {.it_interval = {0, TICK_MS * 1000000L},
				  .it_value = {0, TICK_MS * 1000000L}};
	int ep = epoll_create1(EPOLL_CLOEXEC), sfd, tfd, err = 0;
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL); /* main() did already, for the threads */
	/* A control client gone before its reply must not kill us (replies
	 * go out with MSG_NOSIGNAL too). */
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (ep < 0 || sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &tick, NULL) ||
	    add_fd(ep, sfd) || add_fd(ep, tfd) || add_fd(ep, ctl_server_fd(ag->ctl)) ||
	    add_fd(ep, checks_timer_fd(ag->checks)) || add_fd(ep, checks_prober_fd(ag->checks)) ||
	    (ag->metrics && add_fd(ep, metrics_fd(ag->metrics))) ||
	    (ag->reload && add_fd(ep, reload_fd(ag->reload))) ||
	    (ag->nl_events_fd >= 0 && add_fd(ep, ag->nl_events_fd))) {
		pr_warn("couldn't set up the event loop: %s\n", strerror(errno));
		err = -errno;
		goto out;
	}
	for (;;) {
		struct epoll_event ev;
		int n = epoll_wait(ep, &ev, 1, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (ev.data.fd == ag->nl_events_fd) {
			/* Debounced: a burst of changes is one re-check at the next tick. */
			if (xlb_nh_events_read(ag->nh))
				ag->nl_changed = 1;
			xlb_dp_nic_refresh(ag->dp); /* our NIC's own MAC or MTU may have changed */
			continue;
		}
		if (ag->reload && ev.data.fd == reload_fd(ag->reload)) {
			reload_on_event(ag->reload);
			continue;
		}
		if (ag->metrics && ev.data.fd == metrics_fd(ag->metrics)) {
			metrics_on_request(ag->metrics);
			continue;
		}
		if (ev.data.fd == checks_timer_fd(ag->checks) ||
		    ev.data.fd == checks_prober_fd(ag->checks)) {
			if (ev.data.fd == checks_timer_fd(ag->checks))
				checks_on_timer(ag->checks);
			else
				checks_on_prober(ag->checks);
			/* At once, unless we applied within a tick: then the tick
			 * does, so a burst of changes (thousands of backends coming
			 * up) is one table rebuild, not one each. */
			if (ag->health_changed && mono_ms() - ag->last_apply_ms >= TICK_MS)
				agent_apply(ag, &ag->cfg);
			continue;
		}
		if (ev.data.fd == ctl_server_fd(ag->ctl)) {
			ctl_server_run(ag->ctl);
			if (!ag->detach)
				continue;
			/* routers stop sending before nothing answers */
			announce_detach(ag->announce, &ag->cfg, ag->sync);
			pr_info("detach: removing the program and everything pinned in %s\n",
				ag->pin_dir);
			xlb_dp_unpin(ag->pin_dir); /* the link goes when we close it */
			break;
		}
		if (ev.data.fd == sfd) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {
				struct xlb_err err = {};

				notify_reloading();
				if (ag->reload && !reload_start(ag->reload, NULL, 0, &err))
					continue; /* systemd hears when it is done */
				if (ag->reload) {
					pr_warn("reload rejected, still running the previous "
						"configuration: %s\n",
						err.msg);
					agent_count_reload(ag, 0);
				} else {
					agent_reload(ag, &err);
				}
				notify_reloaded(ag);
				continue;
			}
			pr_info("signal %u: exiting, forwarding stays in place\n", si.ssi_signo);
			/* and so do the routes (announce.h): the next agent adopts
			 * them; xlb-guard withdraws them after `hold` if none comes */
			if (ag->cfg.announce.table)
				pr_info("announcements stay in table %u; to leave the fleet first: "
					"'xlbctl maintenance on', then 'xlbctl maintenance wait'\n",
					ag->cfg.announce.table);
			break;
		}
		__u64 ticks;

		if (read(tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
			continue;
		metrics_heartbeat(ag->metrics);
		announce_tick(ag->announce, &ag->cfg, ag->sync);
		agent_beat(ag->pin_dir, &ag->cfg.announce);
		if (outliers_tick(ag->outliers, mono_ms()))
			ag->health_changed = 1;
		notify_tick(mono_ms());		      /* systemd's watchdog: the loop turns */
		flowsweep_tick(ag->flows, mono_ms()); /* status's flow counts */
		/* the routes' safety net: a slice each tick, all in 30 s */
		if (xlb_nh_tick(ag->nh, RECHECK_TICKS) > 0)
			ag->nl_changed = 1;
		if (ag->unresolved || ag->nl_changed || ag->sync->time_matters ||
		    ag->health_changed || (ag->sync->wake_ms && mono_ms() >= ag->sync->wake_ms)) {
			ag->nl_changed = 0;
			agent_apply(ag, &ag->cfg);
		}
	}
out:
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	return err;
}

/* ---- start ------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: xlbd [-i IFACE] -c FILE [options]\n"
		   "       xlbd --detach [--pin-dir DIR]\n"
		   "\n"
		   "  -i, --interface IFACE   attach to IFACE (default: the config's 'interface')\n"
		   "  -c, --config FILE       YAML configuration (README \"Configuration\")\n"
		   "      --pin-dir DIR       pinned maps and link (default " DEFAULT_PIN_DIR ")\n"
		   "      --xdp-mode MODE     native (default) or generic\n"
		   "  -l, --log-level LEVEL   warn, info (default) or debug\n"
		   "      --state-dir DIR     running configuration kept here "
		   "(default " DEFAULT_STATE_DIR ")\n"
		   "      --socket PATH       control socket (default " DEFAULT_SOCKET ")\n"
		   "      --socket-group GRP  let group GRP use the control socket (mode 0660)\n"
		   "      --metrics ADDR:PORT Prometheus /metrics and /healthz "
		   "(default " METRICS_DEFAULT ",\n"
		   "                          [::1]:9641 for IPv6, 'off' for none)\n"
		   "      --exec-user USER    run exec health checks as USER "
		   "(default " XLB_EXEC_DEFAULT_USER ")\n"
		   "      --daemon            go to the background once forwarding runs\n"
		   "      --detach            remove the program and everything pinned, then exit\n"
		   "      --check             only validate -c FILE (exit 0 valid, 2 not), change "
		   "nothing\n"
		   "  -h, --help              this text\n"
		   "      --version           print the version\n"
		   "\n"
		   "Exit status: 0 done, 1 runtime failure, 2 bad usage or configuration.\n"
		   "Files: /etc/xlb/xlb.yaml (usual -c FILE), /var/lib/xlb/running.yaml (state),\n"
		   "/run/xlb/xlbd.sock (control socket), /sys/fs/bpf/xlb (pinned data plane).\n");
}

static int attach(struct agent *ag)
{
	int err = xlb_dp_attach(ag->dp, ag->ifindex, ag->generic);

	if (err == -EOPNOTSUPP && !ag->generic) {
		pr_warn("driver of '%s' has no native XDP: falling back to generic XDP, which is "
			"much slower; use --xdp-mode generic to say so explicitly\n",
			ag->iface);
		ag->generic = 1;
		err = xlb_dp_attach(ag->dp, ag->ifindex, 1);
	}
	if (err)
		pr_warn("couldn't attach to interface '%s': %s\n", ag->iface, strerror(-err));
	return err;
}

static int start(struct agent *ag)
{
	struct xlb_sink sink;
	struct xlb_dp_opts o = {.flow_entries = xlb_cfg_flow_entries(&ag->cfg),
				.pin_dir = ag->pin_dir,
				.encap_vary_bits = 16,
				.hash_seed = ag->seed};
	int err;

	ag->nh = xlb_nh_new();
	if (!ag->nh) {
		pr_warn("couldn't open a netlink socket for next-hop resolution\n");
		return -EIO;
	}
	ag->nl_events_fd = xlb_nh_events_open(ag->nh);
	if (ag->nl_events_fd < 0)
		pr_warn("couldn't follow neighbour changes (%s): next hops are re-checked every "
			"30 s only\n",
			strerror(-ag->nl_events_fd));
	/* ipip outer sources: 172.16.0.0/16 (README "ipip encapsulation"). */
	o.encap_src4 = htonl(0xac100000);
	xlb_addr_parse("fd00:ffff::", &o.encap_src6);
	err = xlb_dp_open(&o, &ag->dp);
	if (err)
		return err;
	xlb_sync_dp_sink(&ag->dp_sink, ag->dp);
	sink = (struct xlb_sink){.ctx = ag,
				 .backend_set = sink_backend_set,
				 .vip_set = sink_vip_set,
				 .vip_del = sink_vip_del,
				 .tables_swap = sink_tables_swap,
				 .backend_get = sink_backend_get,
				 .table_get = sink_table_get,
				 .flows_each = sink_flows_each};
	ag->sync = xlb_sync_new(&sink, resolve, ag);
	ag->events = events_new();
	ag->checks = checks_new(ag);
	ag->outliers = outliers_new(ag);
	ag->announce = announce_new(ag->events, ag->dp, ag->state_dir);
	ag->flows = flowsweep_new(ag->dp, FLOW_SLICES, TICK_MS, XLB_FLOW_LIVE_TCP_IDLE_S,
				  ctl_backend_gens, ag->sync);
	if (!ag->sync || !ag->events || !ag->checks || !ag->outliers || !ag->announce || !ag->flows)
		return -ENOMEM;
	ag->sync->health = checks_health;
	ag->sync->health_vip = checks_health_vip;
	ag->sync->seed = ag->seed;
	ag->sync->health_ctx = ag->checks;
	if (xlb_dp_adopted(ag->dp)) {
		err = adopt(ag);
		if (err) {
			pr_warn("couldn't adopt the pinned data plane: %s\n", strerror(-err));
			return err;
		}
	}
	read_features(ag, 0);
	{
		struct xlb_err ferr = {};

		err = can_stateless(ag, &ag->cfg, &ferr) ?: via_routes_ok(ag, &ag->cfg, &ferr);
		if (err)
			pr_warn("%s\n", ferr.msg);
	}
	err = err ?: agent_apply(ag, &ag->cfg);
	err = err ?: attach(ag);
	if (!err)
		read_features(ag, 1); /* ours forwards now */
	if (!err) { /* attached: announcing may start (routes present are adopted) */
		announce_start(ag->announce);
		announce_sync(ag->announce, &ag->cfg, ag->sync);
	}
	if (!err) {
		struct xlb_err perr = {};

		err = agent_persist(ag, &perr);
		if (err)
			pr_warn("%s\n", perr.msg);
	}
	if (!err)
		err = ctl_open(ag);
	if (!err)
		agent_count_reload(ag, 1); /* the configuration xlbd started with */
	if (!err)
		pr_info("forwarding on '%s' (%s XDP): %zu VIPs\n", ag->iface,
			ag->generic ? "generic" : "native", ag->cfg.nvips);
	return err;
}

/*
 * The model (README "Running xlbd"): the running configuration, persisted,
 * is what a restart restores; the file is applied by reload (and SIGHUP)
 * only. When they differ at start, say so and how to see and apply the
 * difference, rather than silently run something else than the file says.
 */
static void warn_file_differs(const struct agent *ag)
{
	struct xlb_cfg file = {};
	struct xlb_err err = {};
	int n;

	if (!ag->config_path)
		return;
	if (xlb_cfg_load_file(ag->config_path, &file, &err)) {
		pr_warn("%s does not load (%s); running from the state file\n", ag->config_path,
			err.msg);
		return;
	}
	snprintf(file.iface, sizeof(file.iface), "%s", ag->cfg.iface);
	n = xlb_cfg_diff(&ag->cfg, &file, NULL, NULL);
	if (n)
		pr_warn("%s differs from the running configuration in %d place%s (changes made "
			"with xlbctl, or edits to the file): 'xlbctl reload --dry-run' lists them, "
			"'xlbctl reload' applies the file\n",
			ag->config_path, n, n == 1 ? "" : "s");
	xlb_cfg_free(&file);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"interface", required_argument, NULL, 'i'},
		{"config", required_argument, NULL, 'c'},
		{"pin-dir", required_argument, NULL, 'P'},
		{"xdp-mode", required_argument, NULL, 'M'},
		{"log-level", required_argument, NULL, 'l'},
		{"detach", no_argument, NULL, 'D'},
		{"state-dir", required_argument, NULL, 'S'},
		{"socket", required_argument, NULL, 's'},
		{"socket-group", required_argument, NULL, 'G'},
		{"daemon", no_argument, NULL, 'd'},
		{"metrics", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"check", no_argument, NULL, 'K'},
		{"exec-user", required_argument, NULL, 'U'},
		{},
	};
	struct agent ag = {.pin_dir = DEFAULT_PIN_DIR,
			   .socket_path = DEFAULT_SOCKET,
			   .metrics_listen = METRICS_DEFAULT,
			   .nl_events_fd = -1};
	const char *state_dir = DEFAULT_STATE_DIR;
	char state_path[256];
	struct xlb_err err = {};
	const char *iface = NULL;
	int c, detach = 0, daemonize = 0, check_only = 0, ret;

	xlb_log_level = XLB_LOG_INFO;
	while ((c = getopt_long(argc, argv, "i:c:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			iface = optarg;
			break;
		case 'c':
			ag.config_path = optarg;
			break;
		case 'P':
			ag.pin_dir = optarg;
			break;
		case 'M':
			if (strcmp(optarg, "native") && strcmp(optarg, "generic")) {
				fprintf(stderr, "xlbd: --xdp-mode '%s': use native or generic\n",
					optarg);
				return 2;
			}
			ag.generic = !strcmp(optarg, "generic");
			break;
		case 'l':
			if (!strcmp(optarg, "warn"))
				xlb_log_level = XLB_LOG_WARN;
			else if (!strcmp(optarg, "info"))
				xlb_log_level = XLB_LOG_INFO;
			else if (!strcmp(optarg, "debug"))
				xlb_log_level = XLB_LOG_DEBUG;
			else {
				fprintf(stderr, "xlbd: --log-level '%s': use warn, info or debug\n",
					optarg);
				return 2;
			}
			break;
		case 'D':
			detach = 1;
			break;
		case 'S':
			state_dir = optarg;
			break;
		case 's':
			ag.socket_path = optarg;
			break;
		case 'G':
			ag.socket_group = optarg;
			break;
		case 'd':
			daemonize = 1;
			break;
		case 'm':
			ag.metrics_listen = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'K':
			check_only = 1;
			break;
		case 'U':
			if (xlb_exec_set_user(optarg)) {
				fprintf(stderr,
					"xlbd: --exec-user '%s': no such user; give an "
					"existing unprivileged one, e.g. nobody\n",
					optarg);
				return 2;
			}
			break;
		case 'V':
			printf("xlbd " XLB_VERSION "\n");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	xlb_log_libbpf();
	if (check_only) {
		if (!ag.config_path) {
			fprintf(stderr, "xlbd: --check needs -c FILE\n");
			return 2;
		}
		if (xlb_cfg_load_file(ag.config_path, &ag.cfg, &err)) {
			fprintf(stderr, "xlbd: %s\n", err.msg);
			return 2;
		}
		printf("%s: ok, %zu VIPs\n", ag.config_path, ag.cfg.nvips);
		xlb_cfg_free(&ag.cfg);
		return 0;
	}
	if (detach) {
		/* the routes first: announced VIPs must not outlive forwarding */
		ret = agent_beat_withdraw(ag.pin_dir);
		if (ret < 0)
			fprintf(stderr,
				"xlbd: couldn't withdraw the announced routes named by '%s/beat': "
				"%s; remove them with 'ip route flush table TABLE proto "
				"PROTOCOL'\n",
				ag.pin_dir, strerror(-ret));
		else if (ret > 0)
			printf("xlbd: withdrew %d announced routes\n", ret);
		ret = xlb_dp_unpin(ag.pin_dir);
		if (ret)
			fprintf(stderr, "xlbd: couldn't remove '%s': %s\n", ag.pin_dir,
				strerror(-ret));
		return ret ? 1 : 0;
	}
	/* What was running (changes made through xlbctl included) wins over
	 * the file the daemon was started with: a restart restores it. */
	snprintf(state_path, sizeof(state_path), "%s/running.yaml", state_dir);
	ag.state_dir = state_dir;
	ag.state_path = state_path;
	if (!access(state_path, F_OK)) {
		if (xlb_cfg_load_file(state_path, &ag.cfg, &err)) {
			fprintf(stderr, "xlbd: state %s; fix or remove it\n", err.msg);
			return 2;
		}
		pr_info("restoring the running configuration from %s\n", state_path);
		warn_file_differs(&ag);
	} else if (!ag.config_path) {
		fprintf(stderr, "xlbd: no configuration; give -c FILE\n");
		usage(stderr);
		return 2;
	} else if (xlb_cfg_load_file(ag.config_path, &ag.cfg, &err)) {
		fprintf(stderr, "xlbd: %s\n", err.msg);
		return 2;
	}
	start_flow_table_size(&ag);
	if (load_seed(&ag, &err)) {
		fprintf(stderr, "xlbd: %s\n", err.msg);
		xlb_cfg_free(&ag.cfg);
		return 2;
	}
	if (iface)
		snprintf(ag.cfg.iface, sizeof(ag.cfg.iface), "%s", iface);
	snprintf(ag.iface, sizeof(ag.iface), "%s", ag.cfg.iface);
	ag.ifindex = ag.iface[0] ? (int)if_nametoindex(ag.iface) : 0;
	if (!ag.ifindex) {
		if (ag.iface[0])
			fprintf(stderr,
				"xlbd: no interface '%s' here; give an existing one with -i IFACE "
				"or "
				"'interface:' in the config\n",
				ag.iface);
		else
			fprintf(stderr, "xlbd: no interface given; use -i IFACE or 'interface:' in "
					"the config\n");
		xlb_cfg_free(&ag.cfg);
		return 2;
	}
	/* Signals go to the loop's signalfd: block them before any thread
	 * (metrics) starts, as threads inherit the mask. */
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	ret = start(&ag);
	/* Detach from the terminal once forwarding runs, so that a failure to
	 * start is still reported to whoever started us. */
	if (!ret && daemonize && daemon(0, 0)) {
		pr_warn("couldn't become a daemon: %s\n", strerror(errno));
		ret = -errno;
	}
	/* After daemon(): a fork keeps no thread. */
	if (!ret) {
		ret = metrics_start(&ag, ag.metrics_listen, &ag.metrics);
		if (ret)
			pr_warn("couldn't serve metrics on '%s': %s; give --metrics ADDR:PORT or "
				"--metrics off\n",
				ag.metrics_listen, strerror(-ret));
	}
	/* The first beat pins the record (xlb-guard reads it) at once. */
	if (!ret)
		agent_beat(ag.pin_dir, &ag.cfg.announce);
	/* Setup is done: keep only what the loop needs (privs.c). */
	if (!ret) {
		ag.net_admin = ag.cfg.announce.table != 0;
		ret = privs_drop(ag.net_admin);
	}
	/* Forwarding runs, the control socket and metrics are up. */
	if (!ret)
		notify_ready(&ag);
	if (!ret) {
		ret = run(&ag);
		notify_stopping();
	}
	reload_free(ag.reload);
	ctl_server_close(ag.ctl);
	metrics_stop(ag.metrics);
	outliers_free(ag.outliers);
	checks_free(ag.checks);
	announce_free(ag.announce);
	flowsweep_free(ag.flows);
	events_free(ag.events);
	xlb_sync_free(ag.sync);
	xlb_dp_close(ag.dp); /* the pinned link keeps forwarding */
	xlb_nh_free(ag.nh);
	xlb_cfg_free(&ag.cfg);
	return ret ? 1 : 0;
}
