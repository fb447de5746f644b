/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Health-check probes: run one check against one address, without
 * blocking, and report its outcome once. The caller (xlbd's scheduler)
 * decides when; the prober only runs what it is given, concurrently, and
 * enforces each probe's timeout.
 *
 * Everything the prober waits on (sockets, libcurl's sockets and timer,
 * exec'd children through pidfds, its own timeout timer) sits in one epoll
 * instance whose fd the caller adds to its own loop: when that fd is
 * readable, call xlb_prober_run(). Nothing blocks: a hanging backend only
 * ever costs its own timeout.
 *
 * Types (struct xlb_cfg_check, config.h):
 *  - tcp: non-blocking connect; success once connected (closed with a RST,
 *    so no TIME_WAIT piles up at thousands of checks per second). With
 *    `send` or `expect` set it then talks, because a frozen application
 *    (SIGSTOP, a deadlock) still has its kernel complete handshakes: it
 *    writes `send` (partial writes resumed on EPOLLOUT) and reads until
 *    the reply holds `expect` (any reply when only send is set; expect
 *    alone waits for a banner), searching the first 4 KiB across reads;
 *    the peer closing or 4 KiB without expect is a reply mismatch;
 *  - http/https: libcurl multi, GET path with Host header, status in the
 *    accepted ranges, body containing `body` (within its first 64 KiB) when
 *    set; https verifies the certificate against `host` (or the address)
 *    unless tls_verify is 0; a fresh connection each time, closed with a RST
 *    like tcp's;
 *  - udp: connected socket, send `send`, a reply (containing `expect` when
 *    set) is success, an ICMP port unreachable is "refused";
 *  - exec: `command` run as the exec user, split on blanks (or by
 *    /bin/sh -c with `shell`), with PATH, XLB_BACKEND_ADDR and
 *    XLB_BACKEND_PORT only in its environment, stdin/stdout/stderr on
 *    /dev/null and no other fd, in its own process group, killed (the whole
 *    group) at the timeout (exec_child.h); exit 0 = healthy. Children are
 *    watched through pidfds (polled
 *    every 10 ms where pidfd_open is missing, e.g. under valgrind 3.19) and
 *    reaped by their pid: the agent must not ignore SIGCHLD nor reap with
 *    waitpid(-1);
 *  - none: succeeds at once (reported from the next xlb_prober_run()).
 *
 * Reasons (struct xlb_probe_result.reason): "ok", "refused", "timeout",
 * "unreachable", "TLS error", "bad status N", "body mismatch",
 * "reply mismatch", "exit code N", "killed by signal N"; tcp with send or
 * expect: "timeout sending", "timeout waiting for reply", "timeout: got
 * 'REPLY'", "reply mismatch: got 'REPLY'", "reply mismatch: closed without
 * a reply" (REPLY: the reply's start, escaped to printable ASCII, cut with
 * "..."; the prefixes are what xlbd's result counters go by), "couldn't run
 * 'PROG': REASON", "couldn't become user 'U': REASON", "via vip: couldn't
 * STEP: REASON" (xlb_prober_start_via()), or a short description of a
 * local failure ("socket: Too many open files").
 */
#ifndef XLB_PROBE_H
#define XLB_PROBE_H

#include <linux/types.h>

#include "config.h"

struct xlb_probe_result {
	int ok;		   /* 1 healthy, 0 not */
	char reason[64];   /* see above */
	__u32 duration_us; /* from start to outcome */
};

/* Called once per started probe, from xlb_prober_run() (never from _start).
 * It may start and cancel probes, but not free the prober. */
typedef void (*xlb_probe_done_fn)(void *ctx, void *tag, const struct xlb_probe_result *r);

struct xlb_prober;

struct xlb_prober *xlb_prober_new(xlb_probe_done_fn done, void *ctx);
/* Cancels what runs, no callbacks; waits for the killed exec children. */
void xlb_prober_free(struct xlb_prober *p);

/* The fd to poll for readability (an epoll fd). */
int xlb_prober_fd(const struct xlb_prober *p);

/* Handle whatever is ready and whatever timed out; calls done(). */
void xlb_prober_run(struct xlb_prober *p);

/*
 * Start one probe of check c (its type, ranges and strings are used; c need
 * not outlive the call) against addr:port, ending by timeout_ms (0: the
 * default). `tag` identifies it in the callback and in xlb_prober_cancel();
 * one probe per tag at a time, until its callback. Returns 0 (the outcome
 * comes through done(), a local failure included), -EBUSY when the tag has
 * a probe running, or -ENOMEM.
 */
int xlb_prober_start(struct xlb_prober *p, const struct xlb_cfg_check *c, __u32 timeout_ms,
		     const union xlb_addr *addr, __u8 family, __u16 port, void *tag);

/*
 * Probes through the VIP (check `via: vip`, bpf/check_out.bpf.c): addr and
 * port are the VIP's and the check port; the probe's socket is bound to
 * via->ifindex (the NIC the probe path watches) and to a local port of its
 * own before it connects, and the prober's route function records the key
 * its packets carry with via->backend_id (add 1), and forgets it (add 0)
 * before the socket closes. A route function that fails (or none set)
 * fails the probe: "via vip: couldn't record the probe: REASON" (or
 * "... bind to the NIC: ...", "... bind a port: ...").
 * tcp, http, https and udp; exec and none ignore via. via NULL: as
 * xlb_prober_start().
 */
struct xlb_probe_via {
	int ifindex;	    /* > 0 */
	__u32 backend_id;   /* the backend record the probe is for */
	union xlb_addr vip; /* (set by the prober: addr) */
	__u16 port;	    /* (set by the prober: port) */
};

struct xlb_check_key;
typedef int (*xlb_probe_route_fn)(void *ctx, const struct xlb_check_key *k, __u32 backend_id,
				  int add);
void xlb_prober_set_route(struct xlb_prober *p, xlb_probe_route_fn fn, void *ctx);
int xlb_prober_start_via(struct xlb_prober *p, const struct xlb_cfg_check *c, __u32 timeout_ms,
			 const union xlb_addr *addr, __u8 family, __u16 port, void *tag,
			 const struct xlb_probe_via *via);

/* Stop tag's probe, if one runs; no callback for it. */
void xlb_prober_cancel(struct xlb_prober *p, void *tag);

/*
 * Plain tcp checks (no send/expect, not through the VIP) go half-open (a
 * SYN from a raw socket, probe_syn.h) where xlb_prober_new() could open raw
 * sockets (CAP_NET_RAW), else connect through io_uring where the kernel
 * allows (probe_uring.h; Linux 6.7), else through epoll like the rest; same
 * outcomes, reasons and timing every way. In the environment of
 * xlb_prober_new(), XLB_PROBE_SYN=0 keeps them on connect() and
 * XLB_PROBE_URING=0 keeps connect() on epoll (any value but 0 and 1 is
 * said and ignored). While held, their submissions wait (one syscall for a
 * batch of starts); releasing the hold submits. xlb_prober_uring() and
 * xlb_prober_syn(): 1 in use, 0 no plain tcp check yet (io_uring), -errno
 * why it is not used.
 */
void xlb_prober_hold(struct xlb_prober *p, int hold);
int xlb_prober_uring(const struct xlb_prober *p);
int xlb_prober_syn(const struct xlb_prober *p);

/* Probes started and neither reported nor cancelled yet. */
unsigned int xlb_prober_running(const struct xlb_prober *p);

#endif /* XLB_PROBE_H */
