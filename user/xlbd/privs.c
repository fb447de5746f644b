// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Least privilege: what xlbd keeps once the program is loaded and
 * attached, the pins made and the sockets bound. Measured on kernel 6.18
 * by dropping each capability in turn and running the agent's e2e cases
 * (health checks, apply, reload, restart adopt, detach); README
 * "Capabilities" has the table.
 *
 * Setup alone needs more (xlbd.service's CapabilityBoundingSet): CAP_BPF,
 * CAP_PERFMON (the verifier refuses the parser's "pointer -= pointer"
 * without it), CAP_NET_ADMIN (loading an XDP program, attaching it),
 * CAP_SETPCAP (shrinking the bounding set here), CAP_CHOWN (only with
 * --socket-group), CAP_NET_RAW (the raw sockets of half-open tcp checks,
 * probe_syn.h: opened when the prober is made, at setup, and kept open; the
 * capability is not kept, so no other raw socket can be opened later;
 * without it plain tcp checks connect()). CAP_SYS_ADMIN is never needed: pins
 * are opened by path (BPF_OBJ_GET checks file permissions), the link is
 * updated through its fd, maps are read through their fds and mmap, the
 * neighbour prompts are plain UDP sends, /proc/timer_list is root's (uid
 * 0, not a capability).
 *
 * CAP_NET_ADMIN stays only when the configuration xlbd starts with
 * announces (issue #13: RTM_NEWROUTE/DELROUTE in the announce table need
 * it). A reload or apply that starts announcing later is refused with a
 * hint to restart: keeping NET_ADMIN on every host for a block that most
 * configurations never gain would give the loop the power to rewrite the
 * host's network for nothing; a restart keeps forwarding and routes.
 *
 * Checks through the VIP (`via: vip`, bpf/check_out.bpf.c) add nothing:
 * their tc egress link is attached at setup with the XDP link (NET_ADMIN,
 * then dropped); each probe socket is bound to the NIC with
 * SO_BINDTOIFINDEX (no capability for a socket's first binding since Linux
 * 5.7) and to an ephemeral port, and recorded in a map (CAP_BPF, kept).
 * They do not mark sockets: SO_MARK needs CAP_NET_RAW or CAP_NET_ADMIN.
 * (t_check_via_vip_sees_a_lost_vip runs with the reduced set.)
 *
 * The calls themselves are user/common/caps.c's, shared with xlb-guard.
 */
#include <stddef.h>
#include <linux/capability.h>

#include "caps.h"
#include "log.h"
#include "privs.h"

static const struct {
	int cap;
	const char *name, *why;
} keep[] = {
	/* BPF_MAP_CREATE of each new Maglev table (an inner map swapped in
	 * by one update of the outer map, on every table change). */
	{CAP_BPF, "CAP_BPF", "create the Maglev tables' inner maps"},
	/* Exec checks: setgroups, setresgid, setresuid to the exec user. */
	{CAP_SETGID, "CAP_SETGID", "exec checks: drop to the exec user's group"},
	{CAP_SETUID, "CAP_SETUID", "exec checks: drop to the exec user"},
	/* Exec checks: SIGKILL of a timed-out check's process group, which
	 * runs under another uid. */
	{CAP_KILL, "CAP_KILL", "exec checks: kill a timed-out check"},
};

unsigned long long privs_kept_mask(int net_admin)
{
	unsigned long long m = net_admin ? 1ULL << CAP_NET_ADMIN : 0;

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		m |= 1ULL << keep[i].cap;
	return m;
}

int privs_drop(int net_admin)
{
	unsigned long long want = privs_kept_mask(net_admin), have;
	int err = xlb_caps_permitted("xlbd", &have);

	if (err)
		return err;
	if ((have & want) != want)
		pr_warn("xlbd runs without some capabilities it needs (have %#llx, want %#llx): "
			"exec checks or table changes may fail; run it as root or with "
			"AmbientCapabilities as in xlbd.service\n",
			have, want);
	err = xlb_caps_limit(want, true,
			     "; xlbd needs CAP_SETPCAP at start (xlbd.service gives it)", &want);
	if (err)
		return err;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		pr_debug("kept %s: %s\n", keep[i].name, keep[i].why);
	if (net_admin)
		pr_debug("kept CAP_NET_ADMIN: routes in the announce table\n");
	pr_info("capabilities after setup: %#llx, %zu kept (--log-level debug lists them)\n", want,
		sizeof(keep) / sizeof(keep[0]) + !!net_admin);
	return 0;
}
