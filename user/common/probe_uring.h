/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Plain tcp connect checks through io_uring (issue #15), for the prober
 * (probe.c): a socket, SO_LINGER {on, 0} (a RST at close, no TIME_WAIT)
 * and the connect go to the kernel as three entries of one submission, and
 * the close as one more, instead of five syscalls and an epoll
 * registration a check; many checks share a submission. The sockets are direct descriptors (slots of
 * the ring's file table): never in the process's fd table, so an exec
 * check's child cannot inherit one.
 *
 * The ring is single-issuer with deferred task work: completions only run
 * when the prober asks (never interrupting another syscall of the agent
 * with -EINTR), and a registered eventfd says when there are some. The
 * prober adds that fd to its epoll set and calls xlb_tcpring_reap() when
 * it is readable (reap empties it).
 *
 * A connect is identified by a handle (slot and generation). Abandoning it
 * (timeout, cancel) detaches its owner at once: no outcome is ever
 * reported for it, whatever completes later, and the slot is reused only
 * once every completion of the old connect (and its close) is in, with a
 * new generation. Submissions are queued until xlb_tcpring_flush().
 *
 * Needs Linux 6.7 (SO_LINGER through a socket uring_cmd); xlb_tcpring_new()
 * tries the whole chain once and fails where any step is missing
 * (kernel.io_uring_disabled, seccomp, an older kernel): the prober then
 * keeps its epoll path.
 */
#ifndef XLB_PROBE_URING_H
#define XLB_PROBE_URING_H

#include <linux/types.h>
#include <sys/socket.h>

struct xlb_tcpring;

/* One connect's outcome: err 0 connected, else a positive errno; `what`
 * NULL when the connect itself failed, else the local step that did
 * ("socket", "setsockopt"). Never called from _connect/_abandon. */
typedef void (*xlb_tcpring_done_fn)(void *ctx, void *owner, int err, const char *what);

/* A ring with `slots` sockets at most in flight; NULL with *err (-errno)
 * when io_uring cannot do the job here. */
struct xlb_tcpring *xlb_tcpring_new(unsigned int slots, xlb_tcpring_done_fn done, void *ctx,
				    int *err);
/* Closes every socket (pending connects are cancelled, no callbacks). */
void xlb_tcpring_free(struct xlb_tcpring *r);

/* An eventfd, readable when completions wait. */
int xlb_tcpring_fd(const struct xlb_tcpring *r);

/* Queue a connect to sa for owner; 0 and *handle, -ENOSPC when every slot
 * is busy, -EBUSY when the submission queue cannot take it. */
int xlb_tcpring_connect(struct xlb_tcpring *r, const struct sockaddr *sa, socklen_t len,
			void *owner, __u64 *handle);
/* No outcome for this connect, ever; its socket is closed. */
void xlb_tcpring_abandon(struct xlb_tcpring *r, __u64 handle);
/* Report what completed (done() for connects whose owner is still there). */
void xlb_tcpring_reap(struct xlb_tcpring *r);
/* Submit what was queued. */
void xlb_tcpring_flush(struct xlb_tcpring *r);
/* Slots in use (connecting, or closing). */
unsigned int xlb_tcpring_busy(const struct xlb_tcpring *r);

#endif /* XLB_PROBE_URING_H */
