// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The CPU one plain tcp check costs, by the way its syscalls are made
 * (issue #15): BATCH connect checks at a time against a listener on
 * loopback (a child process on the other CPU accepts and closes), each
 * connected, then closed with a RST, as user/common/probe.c does.
 *
 *   syscalls  the prober's way: socket, connect, epoll_ctl ADD (one-shot),
 *             epoll_wait for the batch, setsockopt SO_LINGER, close
 *   io_uring  one submission a batch: socket (a direct descriptor) linked
 *             to its connect; then SO_LINGER (a socket uring_cmd, Linux
 *             6.7) linked to its close, again one submission
 *   prober/epoll, prober/uring  xlbd's own prober (user/common/probe.c),
 *             the batch started under xlb_prober_hold() and run until every
 *             outcome is in: with XLB_PROBE_URING=0 (its epoll path) and
 *             with io_uring (probe_uring.c), as xlbd runs it
 *   prober/syn  the same prober with half-open checks (probe_syn.c): a
 *             SYN from a raw socket, the SYN-ACK read back, the RST sent
 *             by the kernel (no socket on either side after it)
 *
 * Prints microseconds of CPU (user + kernel, getrusage) a check, for each
 * way, RUNS times alternately. The listener's half of each handshake runs
 * in the caller's softirq on loopback and is counted in both. Run it in a
 * network namespace of its own (tools/bench/probe_cost.sh does).
 *
 *   xlb-probe-cost [BATCH [CHECKS [RUNS]]]   (default 10 20000 5)
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <liburing.h>

#include "probe.h"

#define MAX_BATCH 256
#define SOCKET_OP_SETSOCKOPT 3 /* SOCKET_URING_OP_SETSOCKOPT, Linux 6.7 */

enum op {
	OP_SOCKET = 1,
	OP_CONNECT,
	OP_LINGER,
	OP_CLOSE
};

static const struct linger rst = {.l_onoff = 1, .l_linger = 0};

static double cpu_us(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 +
	       (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* A listener on 127.0.0.1 (its port in *sa), served by a child. */
static pid_t listener(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, len) || listen(fd, 4096) ||
	    getsockname(fd, (struct sockaddr *)sa, &len))
		return -1;
	pid = fork();
	if (pid == 0) {
		pin(1);
		for (;;) {
			int c = accept(fd, NULL, NULL);

			if (c >= 0)
				close(c);
		}
	}
	close(fd);
	return pid;
}

static int batch_syscalls(int ep, const struct sockaddr_in *sa, int n)
{
	struct epoll_event evs[MAX_BATCH];
	int fds[MAX_BATCH], done = 0, ok = 0;

	for (int i = 0; i < n; i++) {
		struct epoll_event ev = {.events = EPOLLOUT | EPOLLONESHOT, .data.u32 = (__u32)i};

		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 ||
		    (connect(fds[i], (const struct sockaddr *)sa, sizeof(*sa)) &&
		     errno != EINPROGRESS) ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev))
			return -errno;
	}
	while (done < n) {
		int k = epoll_wait(ep, evs, MAX_BATCH, 1000);

		if (k <= 0)
			return -ETIMEDOUT;
		for (int i = 0; i < k; i++, done++) {
			socklen_t len = sizeof(int);
			int err = 0;

			if (evs[i].events & (EPOLLERR | EPOLLHUP))
				getsockopt(fds[evs[i].data.u32], SOL_SOCKET, SO_ERROR, &err, &len);
			ok += !err;
		}
	}
	for (int i = 0; i < n; i++) {
		setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
		close(fds[i]);
	}
	return ok;
}

/* Wait for n completions; connects that succeeded are counted in *ok. */
static int reap(struct io_uring *r, int n, int *ok)
{
	for (int i = 0; i < n; i++) {
		struct io_uring_cqe *cqe;
		enum op op;

		if (io_uring_wait_cqe(r, &cqe))
			return -EIO;
		op = (enum op)(cqe->user_data >> 32);
		if (op == OP_CONNECT)
			*ok += cqe->res == 0;
		else if (cqe->res < 0)
			fprintf(stderr, "io_uring op %d: %s\n", op, strerror(-cqe->res));
		io_uring_cqe_seen(r, cqe);
	}
	return 0;
}

static int batch_uring(struct io_uring *r, const struct sockaddr_in *sa, int n)
{
	int ok = 0, closed = 0;

	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *s = io_uring_get_sqe(r);

		io_uring_prep_socket_direct(s, AF_INET, SOCK_STREAM, 0, (unsigned int)i, 0);
		s->flags |= IOSQE_IO_LINK;
		s->user_data = (__u64)OP_SOCKET << 32 | (__u32)i;
		s = io_uring_get_sqe(r);
		io_uring_prep_connect(s, i, (const struct sockaddr *)sa, sizeof(*sa));
		s->flags |= IOSQE_FIXED_FILE;
		s->user_data = (__u64)OP_CONNECT << 32 | (__u32)i;
	}
	io_uring_submit_and_wait(r, (unsigned int)(2 * n));
	if (reap(r, 2 * n, &ok))
		return -EIO;
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *s = io_uring_get_sqe(r);

		/* liburing 2.3 has no io_uring_prep_cmd_sock(): the fields by hand
		 * (cmd_op in off; level, optname in addr; optlen; optval in addr3). */
		io_uring_prep_rw(IORING_OP_URING_CMD, s, i, NULL, 0, SOCKET_OP_SETSOCKOPT);
		s->addr = (__u64)SOL_SOCKET | (__u64)SO_LINGER << 32;
		s->splice_fd_in = sizeof(rst);
		s->addr3 = (__u64)(unsigned long)&rst;
		s->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
		s->user_data = (__u64)OP_LINGER << 32 | (__u32)i;
		s = io_uring_get_sqe(r);
		io_uring_prep_close_direct(s, (unsigned int)i);
		s->user_data = (__u64)OP_CLOSE << 32 | (__u32)i;
	}
	io_uring_submit_and_wait(r, (unsigned int)(2 * n));
	return reap(r, 2 * n, &closed) ? -EIO : ok;
}

static void on_done(void *ctx, void *tag, const struct xlb_probe_result *r)
{
	int *counts = ctx;

	(void)tag;
	counts[0]++;
	counts[1] += r->ok;
	if (!r->ok) /* what a failed check says (a loaded host: timeouts) */
		fprintf(stderr, "  a check failed: %s after %u us\n", r->reason, r->duration_us);
}

/* n checks through xlbd's prober: how many connected, or -errno. */
static int batch_prober(struct xlb_prober *p, int *counts, const struct sockaddr_in *sa, int n)
{
	struct xlb_cfg_check c = {.type = XLB_CHECK_TCP};
	union xlb_addr a = {};
	char tags[MAX_BATCH];

	a.w[3] = sa->sin_addr.s_addr;
	counts[0] = counts[1] = 0;
	xlb_prober_hold(p, 1);
	for (int i = 0; i < n; i++)
		if (xlb_prober_start(p, &c, 1000, &a, XLB_AF_INET, ntohs(sa->sin_port), &tags[i]))
			return -ENOMEM;
	xlb_prober_hold(p, 0);
	while (counts[0] < n) {
		struct pollfd pfd = {.fd = xlb_prober_fd(p), .events = POLLIN};

		if (poll(&pfd, 1, 2000) <= 0)
			return -ETIMEDOUT;
		xlb_prober_run(p);
	}
	return counts[1];
}

int main(int argc, char **argv)
{
	int batch = argc > 1 ? atoi(argv[1]) : 10, checks = argc > 2 ? atoi(argv[2]) : 20000,
	    runs = argc > 3 ? atoi(argv[3]) : 5, ep = epoll_create1(EPOLL_CLOEXEC), rc = 1;
	static const char *const names[] = {"syscalls", "io_uring", "prober/epoll", "prober/uring",
					    "prober/syn"};
	struct xlb_prober *probers[3] = {NULL, NULL, NULL};
	int counts[3][2] = {};
	struct sockaddr_in sa;
	struct io_uring ring;
	pid_t srv;

	if (batch < 1 || batch > MAX_BATCH || checks < batch || runs < 1) {
		fprintf(stderr, "usage: xlb-probe-cost [BATCH (1-%d) [CHECKS [RUNS]]]\n",
			MAX_BATCH);
		return 2;
	}
	srv = listener(&sa);
	if (srv < 0 || ep < 0) {
		fprintf(stderr, "couldn't set up the listener: %s\n", strerror(errno));
		return 1;
	}
	pin(0);
	if (io_uring_queue_init((unsigned int)(4 * batch), &ring, 0) ||
	    io_uring_register_files_sparse(&ring, (unsigned int)batch)) {
		fprintf(stderr, "couldn't set up io_uring (kernel.io_uring_disabled?)\n");
		goto out;
	}
	/* The prober makes its ring at its first tcp check: one each way;
	 * the half-open engine with the prober (needs CAP_NET_RAW). */
	setenv("XLB_PROBE_SYN", "0", 1);
	setenv("XLB_PROBE_URING", "0", 1);
	probers[0] = xlb_prober_new(on_done, counts[0]);
	if (probers[0])
		batch_prober(probers[0], counts[0], &sa, 1);
	unsetenv("XLB_PROBE_URING");
	probers[1] = xlb_prober_new(on_done, counts[1]);
	if (probers[1])
		batch_prober(probers[1], counts[1], &sa, 1);
	unsetenv("XLB_PROBE_SYN");
	probers[2] = xlb_prober_new(on_done, counts[2]);
	if (!probers[0] || !probers[1] || !probers[2] || xlb_prober_uring(probers[1]) != 1 ||
	    xlb_prober_syn(probers[2]) != 1) {
		fprintf(stderr, "couldn't set up the probers (io_uring: %d, half-open: %d)\n",
			probers[1] ? xlb_prober_uring(probers[1]) : 0,
			probers[2] ? xlb_prober_syn(probers[2]) : 0);
		goto out;
	}
	printf("plain tcp checks on loopback, %d at a time: CPU a check (us)\n", batch);
	for (int r = 0; r < runs; r++) {
		for (int way = 0; way < 5; way++) {
			double c0 = cpu_us();
			int ok = 0;

			for (int done = 0; done < checks; done += batch) {
				int k = way == 0   ? batch_syscalls(ep, &sa, batch)
					: way == 1 ? batch_uring(&ring, &sa, batch)
						   : batch_prober(probers[way - 2], counts[way - 2],
								  &sa, batch);

				if (k < 0) {
					fprintf(stderr, "couldn't run a batch: %s\n", strerror(-k));
					goto out;
				}
				ok += k;
			}
			printf("  %-12s %6.2f  (%d of %d connected)\n", names[way],
			       (cpu_us() - c0) / (checks / batch * batch), ok,
			       checks / batch * batch);
		}
	}
	rc = 0;
out:
	xlb_prober_free(probers[0]);
	xlb_prober_free(probers[1]);
	xlb_prober_free(probers[2]);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	return rc;
}
