// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Plain tcp connect checks through io_uring (probe_uring.h).
 *
 * A slot goes: free -> connecting (socket, linger and connect in flight)
 * -> free again once its connect completed and its close is queued (a
 * direct close runs in order at submission, before anything queued after
 * it can take the slot). The owner is reported to once, at the connect's
 * completion; abandoning it clears the owner and asks the kernel to cancel
 * the connect, which then completes (-ECANCELED, or its real result if it
 * won the race) into an ownerless slot. A completion's user_data names its
 * slot, generation and step; one that does not match its slot's
 * generation is stale and dropped.
 *
 * Only the connect posts a completion when it succeeds: socket, linger,
 * close and cancel skip theirs (IOSQE_CQE_SKIP_SUCCESS). They run at
 * submission, so a completion from them would wake the prober once more
 * for every batch and every close. A failed socket or linger posts its
 * error before the connect's (submission order); should a connect come
 * back -ECANCELED with nobody having cancelled it, the slot waits for the
 * step error that explains it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <liburing.h>

#include "log.h"
#include "probe_uring.h"

#define SQ_ENTRIES 256
#define SOCKET_OP_SETSOCKOPT 3 /* SOCKET_URING_OP_SETSOCKOPT, Linux 6.7 */

enum step {
	STEP_SOCKET,
	STEP_LINGER,
	STEP_CONNECT,
	STEP_CLOSE,
	STEP_CANCEL,
};

struct slot {
	void *owner; /* NULL: nobody wants the outcome (abandoned, or reported) */
	__u32 gen;
	__u8 busy;	/* connecting: its connect has not completed */
	__u8 step_wait; /* connect cancelled by a failed step: wait for its error */
	int res[3];	/* of socket, linger, connect (0 until a failure says) */
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} addr; /* the connect's: kept until it completes */
	socklen_t len;
};

struct xlb_tcpring {
	struct io_uring ring;
	int efd;
	struct slot *slots;
	unsigned int nslots;
	unsigned int *free; /* stack of free slot indexes */
	unsigned int nfree;
	unsigned int queued; /* SQEs not submitted yet */
	xlb_tcpring_done_fn done;
	void *ctx;
};

static const struct linger rst = {.l_onoff = 1, .l_linger = 0};

static __u64 udata(__u32 gen, unsigned int slot, enum step st)
{
	return (__u64)gen << 32 | (__u64)slot << 3 | st;
}

static struct io_uring_sqe *get_sqe(struct xlb_tcpring *r)
{
	struct io_uring_sqe *s = io_uring_get_sqe(&r->ring);

	if (!s) { /* full: make room */
		xlb_tcpring_flush(r);
		s = io_uring_get_sqe(&r->ring);
	}
	if (s)
		r->queued++;
	return s;
}

/* liburing 2.3 has no io_uring_prep_cmd_sock(): the fields by hand (cmd_op
 * in off; level and optname in addr; optlen; optval in addr3). */
static void prep_linger(struct io_uring_sqe *s, unsigned int slot)
{
	io_uring_prep_rw(IORING_OP_URING_CMD, s, (int)slot, NULL, 0, SOCKET_OP_SETSOCKOPT);
	s->addr = (__u64)SOL_SOCKET | (__u64)SO_LINGER << 32;
	s->splice_fd_in = sizeof(rst);
	s->addr3 = (__u64)(unsigned long)&rst;
	s->flags |= IOSQE_FIXED_FILE;
}

/*
 * socket, linger, connect: not linked. Each of the three completes (or, for
 * the connect, arms its wait) inline at submission, in order, so each finds
 * the socket the one before made. Links would cost more than they buy:
 * with deferred task work, each hop of a chain is task work of its own,
 * i.e. one more io_uring_enter() to run it (two more a check).
 * Should the socket fail, the two after fail on the empty slot (-EBADF)
 * and the socket's own error is what is reported.
 */
static void queue_chain(struct xlb_tcpring *r, unsigned int i)
{
	struct slot *sl = &r->slots[i];
	struct io_uring_sqe *s;

	s = get_sqe(r);
	io_uring_prep_socket_direct(s, sl->addr.sa.sa_family, SOCK_STREAM, 0, i, 0);
	s->flags |= IOSQE_CQE_SKIP_SUCCESS;
	s->user_data = udata(sl->gen, i, STEP_SOCKET);
	s = get_sqe(r);
	prep_linger(s, i);
	s->flags |= IOSQE_CQE_SKIP_SUCCESS;
	s->user_data = udata(sl->gen, i, STEP_LINGER);
	s = get_sqe(r);
	io_uring_prep_connect(s, (int)i, &sl->addr.sa, sl->len);
	s->flags |= IOSQE_FIXED_FILE;
	s->user_data = udata(sl->gen, i, STEP_CONNECT);
}

int xlb_tcpring_connect(struct xlb_tcpring *r, const struct sockaddr *sa, socklen_t len,
			void *owner, __u64 *handle)
{
	struct slot *sl;
	unsigned int i;

	if (!r->nfree)
		return -ENOSPC;
	if (len > sizeof(sl->addr))
		return -EINVAL;
	if (io_uring_sq_space_left(&r->ring) < 3)
		xlb_tcpring_flush(r);
	if (io_uring_sq_space_left(&r->ring) < 3)
		return -EBUSY; /* the chain must not be split */
	i = r->free[--r->nfree];
	sl = &r->slots[i];
	sl->owner = owner;
	sl->gen++;
	sl->busy = 1;
	sl->step_wait = 0;
	memset(sl->res, 0, sizeof(sl->res));
	memcpy(&sl->addr, sa, len);
	sl->len = len;
	queue_chain(r, i);
	*handle = (__u64)sl->gen << 32 | i;
	return 0;
}

void xlb_tcpring_abandon(struct xlb_tcpring *r, __u64 handle)
{
	unsigned int i = (unsigned int)handle;
	__u32 gen = (__u32)(handle >> 32);
	struct io_uring_sqe *s;
	struct slot *sl;

	if (i >= r->nslots)
		return;
	sl = &r->slots[i];
	if (sl->gen != gen || !sl->owner || !sl->busy)
		return;
	sl->owner = NULL;
	s = get_sqe(r);
	if (!s)
		return; /* the connect ends by itself (the kernel's own timeout) */
	io_uring_prep_cancel64(s, udata(gen, i, STEP_CONNECT), 0);
	s->flags |= IOSQE_CQE_SKIP_SUCCESS;
	s->user_data = udata(gen, i, STEP_CANCEL);
}

/* Slot i's connect is over: report, close, free the slot. */
static void settle(struct xlb_tcpring *r, unsigned int i)
{
	struct slot *sl = &r->slots[i];
	void *owner = sl->owner;
	struct io_uring_sqe *s;

	sl->owner = NULL;
	if (owner) {
		if (sl->res[STEP_SOCKET] < 0)
			r->done(r->ctx, owner, -sl->res[STEP_SOCKET], "socket");
		else if (sl->res[STEP_LINGER] < 0)
			r->done(r->ctx, owner, -sl->res[STEP_LINGER], "setsockopt");
		else
			r->done(r->ctx, owner, -sl->res[STEP_CONNECT], NULL);
	}
	sl->busy = 0;
	if (sl->res[STEP_SOCKET] >= 0) {
		s = get_sqe(r);
		if (!s) { /* no room: its socket stays until the ring goes */
			pr_warn("couldn't queue a probe socket's close: ring full\n");
			return; /* and the slot is not reused */
		}
		io_uring_prep_close_direct(s, i);
		s->flags |= IOSQE_CQE_SKIP_SUCCESS;
		s->user_data = udata(sl->gen, i, STEP_CLOSE);
	}
	r->free[r->nfree++] = i;
}

static void complete(struct xlb_tcpring *r, __u64 ud, int res)
{
	enum step st = (enum step)(ud & 7);
	unsigned int i = (unsigned int)(ud >> 3) & 0x1fffffff;
	struct slot *sl = i < r->nslots ? &r->slots[i] : NULL;

	if (st == STEP_CANCEL)
		return; /* not found, or too late: the connect completes anyway */
	if (!sl || sl->gen != (__u32)(ud >> 32) || !sl->busy || st == STEP_CLOSE) {
		/* (a close fails only where a late step error left no socket) */
		pr_debug("probe ring: completion %llx (%d) with nothing waiting for it\n",
			 (unsigned long long)ud, res);
		return;
	}
	sl->res[st] = res;
	if (st != STEP_CONNECT) { /* a failed socket or linger */
		if (sl->step_wait)
			settle(r, i);
		return;
	}
	/* Cancelled with nobody having asked: a step failed, its error is on
	 * its way (or already here). */
	if (res == -ECANCELED && sl->owner && !sl->res[STEP_SOCKET] && !sl->res[STEP_LINGER]) {
		sl->step_wait = 1;
		return;
	}
	settle(r, i);
}

/*
 * Run the deferred task work and report what it posted, until a round
 * posts nothing: the kernel runs a bounded amount of task work a call
 * (Linux 6.13+) and keeps the rest for the next, which no eventfd write
 * announces.
 */
static void run_completions(struct xlb_tcpring *r)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n, round;

	do {
		io_uring_get_events(&r->ring);
		round = 0;
		do {
			n = 0;
			io_uring_for_each_cqe(&r->ring, head, cqe)
			{
				complete(r, cqe->user_data, cqe->res);
				n++;
			}
			io_uring_cq_advance(&r->ring, n);
			round += n;
		} while (n);
	} while (round);
}

/*
 * The eventfd is written when task work is queued on an empty list (a
 * connect's wake-up) and when completions are posted, reaping's own
 * included. Emptied after reaping, it does not wake the prober again for
 * what was just reaped; but work queued between the moment the kernel took
 * the list and the read would then wake nobody (the list is not empty any
 * more for the next one): task work is run once more after the read, and
 * what is queued after that writes the eventfd again.
 */
void xlb_tcpring_reap(struct xlb_tcpring *r)
{
	__u64 v;

	run_completions(r);
	if (read(r->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_debug("probe ring: couldn't read its eventfd: %s\n", strerror(errno));
	run_completions(r);
}

void xlb_tcpring_flush(struct xlb_tcpring *r)
{
	int rc;

	if (!r->queued)
		return;
	rc = io_uring_submit(&r->ring);
	if (rc < 0) {
		pr_warn("couldn't submit probe connects: %s\n", strerror(-rc));
		return; /* they stay queued: the next flush tries again */
	}
	r->queued = 0;
}

unsigned int xlb_tcpring_busy(const struct xlb_tcpring *r)
{
	return r->nslots - r->nfree;
}

int xlb_tcpring_fd(const struct xlb_tcpring *r)
{
	return r->efd;
}

/* The whole chain once, on slot 0, waiting for it: 0 or -errno. */
static int trial(struct xlb_tcpring *r)
{
	struct io_uring_sqe *s = get_sqe(r);
	struct io_uring_cqe *cqe;
	int err = 0;

	io_uring_prep_socket_direct(s, AF_INET, SOCK_STREAM, 0, 0, 0);
	s->flags |= IOSQE_IO_LINK;
	s = get_sqe(r);
	prep_linger(s, 0);
	s->flags |= IOSQE_IO_HARDLINK; /* close even when linger is refused */
	s = get_sqe(r);
	io_uring_prep_close_direct(s, 0);
	r->queued = 0;
	if (io_uring_submit_and_wait(&r->ring, 3) < 0)
		return -EOPNOTSUPP;
	for (int k = 0; k < 3; k++) {
		if (io_uring_wait_cqe(&r->ring, &cqe))
			return -EIO;
		if (cqe->res < 0 && !err)
			err = cqe->res;
		io_uring_cqe_seen(&r->ring, cqe);
	}
	return err;
}

struct xlb_tcpring *xlb_tcpring_new(unsigned int slots, xlb_tcpring_done_fn done, void *ctx,
				    int *err)
{
	struct io_uring_params pa = {
		.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			 IORING_SETUP_CQSIZE,
		.cq_entries = 4 * slots > 2 * SQ_ENTRIES ? 4 * slots : 2 * SQ_ENTRIES,
	};
	struct xlb_tcpring *r = calloc(1, sizeof(*r));
	int rc;

	*err = -ENOMEM;
	if (!r)
		return NULL;
	r->efd = -1;
	r->ring.ring_fd = -1;
	r->done = done;
	r->ctx = ctx;
	r->nslots = slots;
	r->slots = calloc(slots, sizeof(*r->slots));
	r->free = calloc(slots, sizeof(*r->free));
	if (!slots || !r->slots || !r->free)
		goto fail;
	rc = io_uring_queue_init_params(SQ_ENTRIES, &r->ring, &pa);
	if (rc) {
		r->ring.ring_fd = -1;
		*err = rc;
		goto fail;
	}
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0) {
		*err = -errno;
		goto fail;
	}
	if ((rc = io_uring_register_files_sparse(&r->ring, slots)) ||
	    (rc = io_uring_register_eventfd(&r->ring, r->efd)) || (rc = trial(r))) {
		*err = rc;
		goto fail;
	}
	for (unsigned int i = 0; i < slots; i++)
		r->free[i] = slots - 1 - i; /* slot 0 first */
	r->nfree = slots;
	*err = 0;
	return r;
fail:
	xlb_tcpring_free(r);
	return NULL;
}

void xlb_tcpring_free(struct xlb_tcpring *r)
{
	if (!r)
		return;
	/* The kernel cancels what runs and closes the direct sockets (each
	 * with its SO_LINGER: a RST). */
	if (r->ring.ring_fd >= 0)
		io_uring_queue_exit(&r->ring);
	if (r->efd >= 0)
		close(r->efd);
	free(r->slots);
	free(r->free);
	free(r);
}
