/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xlbd's state, owned by its one event loop (main.c), and its entry points.
 * The control socket (ctl*.c) does not see it: main.c hands it a ctl_agent. */
#ifndef XLBD_AGENT_H
#define XLBD_AGENT_H

#include <net/if.h>

#include "cfgdigest.h"
#include "checks.h"
#include "counters.h"
#include "events.h"
#include "config.h"
#include "nexthop.h"
#include "sync.h"
#include "xlb_dp.h"

struct metrics;
struct announce;
struct flowsweep;
struct reload;

struct agent {
	const char *config_path;
	const char *pin_dir;
	char iface[IF_NAMESIZE];
	int ifindex;
	int generic;
	struct xlb_cfg cfg; /* the running configuration */
	struct xlb_dp *dp;
	struct xlb_nh *nh;
	struct xlb_sync *sync;
	int unresolved;		/* backends whose next hop is not known yet */
	const char *state_path; /* the running config, persisted */
	const char *socket_path;
	const char *socket_group;	/* NULL: root only (0600) */
	struct ctl_server *ctl;		/* the control socket (ctl_conn.h) */
	int detach;			/* set by the detach verb: unpin, then exit */
	int nl_events_fd;		/* neighbour/link/route changes */
	int nl_changed;			/* a change came: resolve next hops again */
	struct checks *checks;		/* health checks */
	struct outliers *outliers;	/* passive: retransmitted SYNs (outlier.h) */
	struct events *events;		/* the event history (events.h) */
	int health_changed;		/* a backend's health changed: apply soon */
	int checks_synced;		/* the checks follow the running configuration */
	__u64 last_apply_ms;		/* CLOCK_MONOTONIC of the last apply */
	struct agent_counters counters; /* for /metrics */
	struct metrics *metrics;	/* NULL with --metrics off */
	const char *metrics_listen;
	struct xlb_sink dp_sink;   /* the data plane's own sink (timed by ours) */
	struct xlb_hash_seed seed; /* the fleet's, read at start (seed.h) */
	const char *state_dir;
	struct announce *announce; /* routes for BGP, maintenance (announce.h) */
	struct flowsweep *flows;   /* flows per backend, counted a slice a tick */
	int net_admin;		   /* CAP_NET_ADMIN kept: announcing possible */
	/* cfgdigest.h: of cfg and seed, for status and /metrics; "" unknown */
	char config_digest[XLB_CFG_DIGEST_LEN];
	/* XLB_FEAT_* of the program that forwards (at start: the pinned one,
	 * until ours is attached); stateless VIPs need XLB_FEAT_STATELESS */
	__u32 features;
	int own_program;       /* features are those of this xlbd's own program */
	unsigned long cfg_gen; /* counts changes of cfg (a reload's diff is of one) */
	struct reload *reload; /* reloads read and checked off the loop (reload.h) */
};

/* What a reload made off the loop (reload.c) so the loop need not: the
 * next configuration's digest and state file text; defer_persist: the
 * caller writes the state file itself (before it replies). */
struct agent_prepared {
	const char *digest;
	const char *state_text;
	size_t state_len;
	int defer_persist;
};

/* Make the data plane match cfg; on success cfg becomes the running one
 * (and is taken over: *cfg is left empty). */
int agent_apply(struct agent *ag, struct xlb_cfg *cfg);
/* The same with the digest of cfg computed already ("" or NULL: here). */
int agent_apply_with(struct agent *ag, struct xlb_cfg *cfg, const char *digest);
/* Re-read the configuration file and apply it (SIGHUP): load, then apply. */
int agent_reload(struct agent *ag, struct xlb_err *err);
int agent_load_file(struct agent *ag, struct xlb_cfg *next, struct xlb_err *err);
/* The file at path, checked in full and against the running seed, with the
 * running interface: what agent_load_file() does, touching no agent state
 * (so a thread may run it). 0, or -errno with err set. */
int agent_read_file(const char *path, const struct xlb_hash_seed *seed, const char *iface,
		    struct xlb_cfg *next, struct xlb_err *err);
/* Apply next (loaded from the file) as a reload: the checks against what
 * runs, apply, count, persist. pre: NULL, or what was prepared. */
int agent_reload_apply(struct agent *ag, struct xlb_cfg *next, const struct agent_prepared *pre,
		       struct xlb_err *err);
/* Count a reload or an apply -f for /metrics. */
void agent_count_reload(struct agent *ag, int ok);
/* Write the running configuration to the state file, atomically. */
int agent_persist(struct agent *ag, struct xlb_err *err);

#endif /* XLBD_AGENT_H */
