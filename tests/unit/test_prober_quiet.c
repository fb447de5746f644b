// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the prober saves per tcp check (user/common/probe.c) must not cost
 * correctness: the deadline timer, moved only earlier, still fires at a
 * later probe's deadline once an earlier probe finished in time; and a
 * plain tcp probe's socket, closed without EPOLL_CTL_DEL, leaves nothing
 * armed in the prober's epoll set even while an exec check's child (here:
 * a forked process) still holds the socket.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "harness.h"
#include "probe.h"
#include "test_unit.h"

#define SLACK_MS 1500 /* late by at most this (valgrind is slow) */

struct out {
	int got;
	struct xlb_probe_result r;
};

static struct {
	struct xlb_prober *p;
	int fds[4];
	int nfds;
	pid_t child;
} Q;

static void on_done(void *ctx, void *tag, const struct xlb_probe_result *r)
{
	struct out *o = tag;

	(void)ctx;
	o->got++;
	o->r = *r;
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* A listening socket on loopback (kept until teardown); its port. */
static int listener(__u16 *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, len) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) || Q.nfds == 4) {
		close(fd);
		return -1;
	}
	Q.fds[Q.nfds++] = fd;
	*port = ntohs(sin.sin_port);
	return fd;
}

static int start(const struct xlb_cfg_check *c, __u32 timeout_ms, __u16 port, struct out *o)
{
	union xlb_addr a = {};

	a.w[2] = htonl(0xffff);
	a.w[3] = htonl(INADDR_LOOPBACK);
	return xlb_prober_start(Q.p, c, timeout_ms, &a, XLB_AF_INET, port, o);
}

/* Run the prober until o has its outcome (0) or ms pass (-1). */
static int drive(struct out *o, int ms)
{
	__u64 end = now_ms() + (__u64)ms;

	while (!o->got) {
		struct pollfd pfd = {.fd = xlb_prober_fd(Q.p), .events = POLLIN};
		__u64 now = now_ms();

		if (now >= end)
			return -1;
		poll(&pfd, 1, (int)(end - now));
		xlb_prober_run(Q.p);
	}
	return 0;
}

static struct xlb_cfg_check tcp_check(void)
{
	struct xlb_cfg_check c;

	memset(&c, 0, sizeof(c));
	c.type = XLB_CHECK_TCP;
	return c;
}

/* A probe that finishes early leaves the timer at its deadline; when that
 * fires in vain, the next deadline (a later probe's) is armed. */
static int t_prober_deadline_after_an_early_finish(void)
{
	struct xlb_cfg_check plain = tcp_check(), talk = tcp_check();
	struct out early = {}, late = {};
	__u16 port;

	ASSERT_TRUE(listener(&port) >= 0, "listener");
	ASSERT_OK(start(&plain, 200, port, &early), "start a probe with an early deadline");
	ASSERT_OK(drive(&early, SLACK_MS), "its outcome");
	ASSERT_TRUE(early.r.ok, "connected");
	/* Nobody accepts: the handshake completes, no reply ever comes. */
	strcpy(talk.expect, "READY");
	ASSERT_OK(start(&talk, 600, port, &late), "start a probe with a later deadline");
	ASSERT_OK(drive(&late, 600 + SLACK_MS), "its outcome");
	ASSERT_EQ(late.r.ok, 0, "no reply");
	ASSERT_EQ(strcmp(late.r.reason, "timeout waiting for reply"), 0, late.r.reason);
	ASSERT_TRUE(late.r.duration_us >= 600000, "not before its own timeout");
	ASSERT_TRUE(late.r.duration_us < (600 + SLACK_MS) * 1000, "soon after it");
	ASSERT_EQ(xlb_prober_running(Q.p), 0, "nothing left running");
	return 0;
}

/*
 * Another process holding the probe's socket (an exec check's child between
 * fork and exec) keeps it open after the prober closed it. The socket then
 * stays writable (and turns readable when the peer closes): an epoll entry
 * still armed for it would wake the prober for a freed probe, again and
 * again. The one-shot entry is spent: the prober's fd stays quiet.
 */
static int t_prober_closed_socket_held_elsewhere_stays_quiet(void)
{
	struct xlb_cfg_check c = tcp_check();
	struct pollfd pfd = {.events = POLLIN};
	struct out o = {};
	__u16 port;
	int lfd = listener(&port), conn;

	ASSERT_TRUE(lfd >= 0, "listener");
	/* A long timeout: the deadline timer stays out of the way. */
	ASSERT_OK(start(&c, 10000, port, &o), "start");
	Q.child = fork();
	ASSERT_TRUE(Q.child >= 0, "fork");
	if (!Q.child) {
		pause(); /* holds a copy of every fd, the probe's socket too */
		_exit(0);
	}
	ASSERT_OK(drive(&o, SLACK_MS), "outcome");
	ASSERT_TRUE(o.r.ok, "connected");
	conn = accept(lfd, NULL, NULL);
	ASSERT_TRUE(conn >= 0, "the probe's connection, still open in the child");
	close(conn); /* a FIN to the socket the child holds */
	pfd.fd = xlb_prober_fd(Q.p);
	ASSERT_EQ(poll(&pfd, 1, 300), 0, "the prober's fd stays quiet");
	return 0;
}

const struct harness_case prober_cases[] = {
	{"prober_deadline_after_an_early_finish", t_prober_deadline_after_an_early_finish},
	{"prober_closed_socket_held_elsewhere_stays_quiet",
	 t_prober_closed_socket_held_elsewhere_stays_quiet},
};
const size_t prober_ncases = sizeof(prober_cases) / sizeof(prober_cases[0]);

/* What these guard is the connect() path's: half-open checks off. */
int prober_setup(void)
{
	memset(&Q, 0, sizeof(Q));
	setenv("XLB_PROBE_SYN", "0", 1);
	Q.p = xlb_prober_new(on_done, NULL);
	return Q.p ? 0 : -1;
}

void prober_teardown(void)
{
	unsetenv("XLB_PROBE_SYN");
	xlb_prober_free(Q.p);
	for (int i = 0; i < Q.nfds; i++)
		close(Q.fds[i]);
	if (Q.child > 0) {
		kill(Q.child, SIGKILL);
		waitpid(Q.child, NULL, 0);
	}
}
