// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Plain tcp checks against loopback, by both engines that are not the
 * epoll path: half-open (user/common/probe_syn.c; suite probe syn) and
 * connect() through io_uring (user/common/probe_uring.c; suite probe ring,
 * half-open checks off). Half-open: ok, refused, unreachable and timeout
 * as connect() says them, the SYN sent again after 1 s, no connection ever
 * reaching the application, the port block held and the raw socket's
 * filter passing nothing but replies to it.
 *
 * io_uring: the prober's outcomes and timing stay those of the epoll path;
 * a connect abandoned (timeout, cancel) never reports, not even once its
 * handshake completes later, and a stale handle touches nothing once its
 * slot serves another connect (generations); where io_uring is refused
 * (seccomp here) the prober keeps the epoll path.
 *
 * A connect that hangs: a listener whose accept queue is full drops SYNs;
 * accepting what is queued lets the next retransmitted SYN (about 1 s
 * later) through.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "harness.h"
#include "probe.h"
#include "probe_syn.h"
#include "probe_uring.h"
#include "test_unit.h"

#define SLACK_MS 1500 /* late by at most this (valgrind is slow) */
#define MAX_FDS 16

struct out {
	int got;
	struct xlb_probe_result r;
};

static struct {
	struct xlb_prober *p;
	int fds[MAX_FDS];
	int nfds;
	/* the engine alone */
	int outcomes; /* prober callbacks, whatever their tag */
	int calls, last_err;
	void *last_owner;
} G;

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static void on_done(void *ctx, void *tag, const struct xlb_probe_result *r)
{
	struct out *o = tag;

	(void)ctx;
	G.outcomes++;
	o->got++;
	o->r = *r;
}

static int keep(int fd)
{
	if (fd < 0 || G.nfds == MAX_FDS) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	G.fds[G.nfds++] = fd;
	return fd;
}

/* A loopback listener (backlog as given); its port. */
static int listener(int backlog, __u16 *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, len) || listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return keep(fd);
}

static struct sockaddr_in loopback(__u16 port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	return sin;
}

/* A listener that drops SYNs: backlog 0, filled by one connection (a
 * second would keep retransmitting its SYN and fill it again later). */
static int full_listener(__u16 *port)
{
	int lfd = listener(0, port), fd;
	struct sockaddr_in sin;

	if (lfd < 0)
		return -1;
	sin = loopback(*port);
	fd = keep(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	if (fd < 0 || (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) && errno != EINPROGRESS))
		return -1;
	usleep(50000); /* the handshake done: the queue is full */
	return lfd;
}

/* Take what the listener queued: its next SYN gets through. */
static void unfill(int lfd)
{
	int c;

	while ((c = accept(lfd, NULL, NULL)) >= 0)
		keep(c);
}

/* A port nobody listens on. */
static __u16 closed_port(void)
{
	__u16 port = 0;
	int fd = listener(1, &port);

	if (fd >= 0) { /* free again at once */
		close(fd);
		G.fds[--G.nfds] = -1;
	}
	return port;
}

static int start(struct xlb_prober *p, __u32 timeout_ms, __u16 port, struct out *o)
{
	struct xlb_cfg_check c = {.type = XLB_CHECK_TCP};
	union xlb_addr a = {};

	a.w[2] = htonl(0xffff);
	a.w[3] = htonl(INADDR_LOOPBACK);
	return xlb_prober_start(p, &c, timeout_ms, &a, XLB_AF_INET, port, o);
}

/* Run the prober for ms, or until every o[0..n) has an outcome (n > 0). */
static int drive(struct xlb_prober *p, struct out *o, int n, int ms)
{
	__u64 end = now_ms() + (__u64)ms;

	for (;;) {
		struct pollfd pfd = {.fd = xlb_prober_fd(p), .events = POLLIN};
		__u64 now = now_ms();
		int all = n > 0;

		for (int i = 0; i < n; i++)
			all &= o[i].got > 0;
		if (all)
			return 0;
		if (now >= end)
			return -1;
		poll(&pfd, 1, (int)(end - now));
		xlb_prober_run(p);
	}
}

/* The ring is in use here; 0 skips (a kernel or valgrind without it). */
static int ring_here(struct xlb_prober *p)
{
	if (xlb_prober_uring(p) == 1)
		return 1;
	printf("    io_uring not in use here (%s): skipped\n", strerror(-xlb_prober_uring(p)));
	return 0;
}

static int t_probe_ring_ok_refused_and_ipv4_reasons(void)
{
	struct out o[2] = {};
	__u16 up, down = closed_port();

	ASSERT_TRUE(listener(16, &up) >= 0, "listener");
	ASSERT_EQ(xlb_prober_uring(G.p), 0, "no ring before the first plain tcp check");
	ASSERT_OK(start(G.p, 1000, up, &o[0]), "start to a listener");
	ASSERT_OK(start(G.p, 1000, down, &o[1]), "start to a closed port");
	if (!ring_here(G.p))
		return 0;
	ASSERT_OK(drive(G.p, o, 2, 1000 + SLACK_MS), "both outcomes");
	ASSERT_EQ(o[0].got, 1, "one outcome");
	ASSERT_EQ(o[0].r.ok, 1, o[0].r.reason);
	ASSERT_EQ(strcmp(o[0].r.reason, "ok"), 0, o[0].r.reason);
	ASSERT_EQ(o[1].got, 1, "one outcome");
	ASSERT_EQ(o[1].r.ok, 0, "refused is a failure");
	ASSERT_EQ(strcmp(o[1].r.reason, "refused"), 0, o[1].r.reason);
	ASSERT_EQ(xlb_prober_running(G.p), 0, "none left");
	return 0;
}

/*
 * Many connects completing together: the kernel runs a bounded amount of
 * deferred task work a call and announces no rest; every one must still
 * report at once, not at its deadline.
 */
static int t_probe_ring_many_complete_at_once(void)
{
	struct out o[200] = {};
	__u32 slowest = 0;
	__u16 up;

	ASSERT_TRUE(listener(512, &up) >= 0, "listener");
	xlb_prober_hold(G.p, 1);
	for (int i = 0; i < 200; i++)
		ASSERT_OK(start(G.p, 3000, up, &o[i]), "start");
	xlb_prober_hold(G.p, 0);
	if (!ring_here(G.p))
		return 0;
	ASSERT_OK(drive(G.p, o, 200, 3000 + SLACK_MS), "every outcome");
	for (int i = 0; i < 200; i++) {
		ASSERT_EQ(strcmp(o[i].r.reason, "ok"), 0, o[i].r.reason);
		if (o[i].r.duration_us > slowest)
			slowest = o[i].r.duration_us;
	}
	ASSERT_TRUE(slowest < 1500000, "reported when connected, not at the deadline");
	return 0;
}

/* The deadline heap stays the authority: "timeout" at the deadline, not
 * before, and not at the kernel's own connect timeout. */
static int t_probe_ring_timeout_at_the_deadline(void)
{
	struct out o = {};
	__u16 port;

	ASSERT_TRUE(full_listener(&port) >= 0, "a listener that drops SYNs");
	ASSERT_OK(start(G.p, 300, port, &o), "start");
	if (!ring_here(G.p))
		return 0;
	ASSERT_OK(drive(G.p, &o, 1, 300 + SLACK_MS), "outcome");
	ASSERT_EQ(o.r.ok, 0, "failed");
	ASSERT_EQ(strcmp(o.r.reason, "timeout"), 0, o.r.reason);
	ASSERT_TRUE(o.r.duration_us >= 300000, "not before its deadline");
	ASSERT_TRUE(o.r.duration_us < (300 + SLACK_MS) * 1000, "soon after it");
	ASSERT_EQ(xlb_prober_running(G.p), 0, "none left");
	return 0;
}

/*
 * Cancelled while its SYN is dropped; then the listener takes connections
 * again and the old connect's retransmitted SYN would get through: it must
 * not report (its probe is freed: a callback would carry a stale tag).
 * The tag then serves a new probe, with one outcome.
 */
static int t_probe_ring_cancel_then_reuse_no_stale_result(void)
{
	struct out o[2] = {};
	__u16 hang, up;
	int lfd = full_listener(&hang);

	ASSERT_TRUE(lfd >= 0, "a listener that drops SYNs");
	ASSERT_TRUE(listener(16, &up) >= 0, "listener");
	ASSERT_OK(start(G.p, 5000, hang, &o[0]), "start the hanging probe");
	if (!ring_here(G.p))
		return 0;
	drive(G.p, NULL, 0, 100); /* its SYN sent and dropped */
	ASSERT_EQ(o[0].got, 0, "still connecting");
	xlb_prober_cancel(G.p, &o[0]);
	ASSERT_EQ(xlb_prober_running(G.p), 0, "cancelled");
	unfill(lfd); /* the old connect's retransmitted SYN would now get through */
	/* Nothing allocated meanwhile: a stale outcome would find its probe's
	 * memory freed, not reused. */
	ASSERT_EQ(drive(G.p, o, 0, 1500 + SLACK_MS), -1, "past the SYN retransmission");
	ASSERT_EQ(G.outcomes, 0, "no outcome after a cancel");
	ASSERT_OK(start(G.p, 5000, up, &o[0]), "the same tag again, to a listener");
	ASSERT_OK(start(G.p, 5000, hang, &o[1]), "a new probe to the unfilled listener");
	ASSERT_OK(drive(G.p, o, 2, 1000 + SLACK_MS), "their outcomes");
	ASSERT_EQ(G.outcomes, 2, "one each");
	ASSERT_EQ(o[0].got, 1, "one outcome for the tag: the new probe's");
	ASSERT_EQ(strcmp(o[0].r.reason, "ok"), 0, o[0].r.reason);
	ASSERT_EQ(o[1].got, 1, "the listener takes connections again");
	ASSERT_EQ(strcmp(o[1].r.reason, "ok"), 0, o[1].r.reason);
	return 0;
}

/* ---- the engine alone --------------------------------------------------- */

static void ring_done(void *ctx, void *owner, int err, const char *what)
{
	(void)ctx;
	(void)what;
	G.calls++;
	G.last_err = err;
	G.last_owner = owner;
}

/* Reap r until want calls came and no slot is busy, or ms pass. */
static int reap_until(struct xlb_tcpring *r, int want, int ms)
{
	__u64 end = now_ms() + (__u64)ms;

	xlb_tcpring_flush(r);
	while (G.calls < want || xlb_tcpring_busy(r)) {
		struct pollfd pfd = {.fd = xlb_tcpring_fd(r), .events = POLLIN};
		__u64 now = now_ms();

		if (now >= end)
			return -1;
		poll(&pfd, 1, (int)(end - now));
		xlb_tcpring_reap(r);
		xlb_tcpring_flush(r);
	}
	return 0;
}

/*
 * An abandoned connect reports nothing and gives its slot back; a stale
 * handle (abandoned again once its slot serves another connect) leaves
 * the new connect alone; with every slot busy, -ENOSPC.
 */
static int t_probe_ring_generations_and_slots(void)
{
	struct sockaddr_in hang, up;
	__u16 hport, uport;
	int owner[4], err;
	__u64 h[4], old;
	struct xlb_tcpring *r;

	ASSERT_TRUE(full_listener(&hport) >= 0, "a listener that drops SYNs");
	ASSERT_TRUE(listener(16, &uport) >= 0, "listener");
	hang = loopback(hport);
	up = loopback(uport);
	r = xlb_tcpring_new(2, ring_done, NULL, &err);
	if (!r) {
		printf("    io_uring not usable here (%s): skipped\n", strerror(-err));
		return 0;
	}
	G.calls = 0;
	if (xlb_tcpring_connect(r, (struct sockaddr *)&hang, sizeof(hang), &owner[0], &old))
		goto fail;
	xlb_tcpring_flush(r);
	usleep(100000);
	xlb_tcpring_reap(r);
	if (G.calls || xlb_tcpring_busy(r) != 1)
		goto fail; /* still connecting */
	xlb_tcpring_abandon(r, old);
	if (reap_until(r, 0, 1000) || G.calls)
		goto fail; /* cancelled, closed, no outcome */
	/* Both slots (the abandoned one again, under a new generation). */
	if (xlb_tcpring_connect(r, (struct sockaddr *)&up, sizeof(up), &owner[1], &h[1]) ||
	    xlb_tcpring_connect(r, (struct sockaddr *)&up, sizeof(up), &owner[2], &h[2]))
		goto fail;
	if (xlb_tcpring_connect(r, (struct sockaddr *)&up, sizeof(up), &owner[3], &h[3]) != -ENOSPC)
		goto fail;
	if ((__u32)h[1] != (__u32)old && (__u32)h[2] != (__u32)old)
		goto fail;	     /* the old slot is one of them */
	xlb_tcpring_abandon(r, old); /* stale: must not touch the new connect */
	if (reap_until(r, 2, 1000 + SLACK_MS) || G.calls != 2 || G.last_err)
		goto fail;
	xlb_tcpring_free(r);
	return 0;
fail:
	harness_fail(__FILE__, __LINE__, "calls %d (last err %d), busy %u", G.calls, G.last_err,
		     xlb_tcpring_busy(r));
	xlb_tcpring_free(r);
	return -1;
}

/* ---- fallback ----------------------------------------------------------- */

/* In a child: io_uring_setup refused by seccomp (as a container runtime's
 * profile does). Exit codes: 0 as expected, 77 no seccomp, else the step. */
static int child_without_io_uring(__u16 up, __u16 down)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	struct out o[2] = {};
	struct xlb_prober *p;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return 77;
	p = xlb_prober_new(on_done, NULL);
	if (!p)
		return 1;
	if (start(p, 1000, up, &o[0]) || start(p, 1000, down, &o[1]))
		return 2;
	if (xlb_prober_uring(p) != -ENOSYS)
		return 3;
	if (drive(p, o, 2, 1000 + SLACK_MS))
		return 4;
	if (o[0].got != 1 || !o[0].r.ok || strcmp(o[0].r.reason, "ok"))
		return 5;
	if (o[1].got != 1 || o[1].r.ok || strcmp(o[1].r.reason, "refused"))
		return 6;
	xlb_prober_free(p);
	return 0;
}

static int t_probe_ring_fallback_when_io_uring_is_refused(void)
{
	__u16 up, down = closed_port();
	int st = 0;
	pid_t pid;

	ASSERT_TRUE(listener(16, &up) >= 0, "listener");
	pid = fork();
	ASSERT_TRUE(pid >= 0, "fork");
	if (!pid)
		_exit(child_without_io_uring(up, down));
	ASSERT_EQ(waitpid(pid, &st, 0), pid, "the child");
	ASSERT_TRUE(WIFEXITED(st), "the child exited");
	if (WEXITSTATUS(st) == 77) {
		printf("    no seccomp here: skipped\n");
		return 0;
	}
	ASSERT_EQ(WEXITSTATUS(st), 0, "the child's step that failed (see the test)");
	return 0;
}

/* XLB_PROBE_URING=0: the epoll path, the same outcomes. */
static int t_probe_ring_off_by_environment(void)
{
	struct out o[2] = {};
	__u16 up, down = closed_port();
	struct xlb_prober *p;

	ASSERT_TRUE(listener(16, &up) >= 0, "listener");
	setenv("XLB_PROBE_URING", "0", 1);
	p = xlb_prober_new(on_done, NULL);
	unsetenv("XLB_PROBE_URING");
	ASSERT_TRUE(p, "prober");
	if (start(p, 1000, up, &o[0]) || start(p, 1000, down, &o[1]) ||
	    xlb_prober_uring(p) != -EPERM || drive(p, o, 2, 1000 + SLACK_MS)) {
		harness_fail(__FILE__, __LINE__, "io_uring %d, outcomes %d %d", xlb_prober_uring(p),
			     o[0].got, o[1].got);
		xlb_prober_free(p);
		return -1;
	}
	xlb_prober_free(p);
	ASSERT_EQ(strcmp(o[0].r.reason, "ok"), 0, o[0].r.reason);
	ASSERT_EQ(strcmp(o[1].r.reason, "refused"), 0, o[1].r.reason);
	return 0;
}

const struct harness_case probe_ring_cases[] = {
	{"probe_ring_ok_refused_and_ipv4_reasons", t_probe_ring_ok_refused_and_ipv4_reasons},
	{"probe_ring_many_complete_at_once", t_probe_ring_many_complete_at_once},
	{"probe_ring_timeout_at_the_deadline", t_probe_ring_timeout_at_the_deadline},
	{"probe_ring_cancel_then_reuse_no_stale_result",
	 t_probe_ring_cancel_then_reuse_no_stale_result},
	{"probe_ring_generations_and_slots", t_probe_ring_generations_and_slots},
	{"probe_ring_fallback_when_io_uring_is_refused",
	 t_probe_ring_fallback_when_io_uring_is_refused},
	{"probe_ring_off_by_environment", t_probe_ring_off_by_environment},
};
const size_t probe_ring_ncases = sizeof(probe_ring_cases) / sizeof(probe_ring_cases[0]);

/* A prober for a suite; syn 0: half-open checks off for the whole suite,
 * its own probers too (the connect() engines' suite: probe_syn has them). */
static int suite_setup(int syn)
{
	memset(&G, 0, sizeof(G));
	if (!syn)
		setenv("XLB_PROBE_SYN", "0", 1);
	G.p = xlb_prober_new(on_done, NULL);
	return G.p ? 0 : -1;
}

static void suite_teardown(void)
{
	unsetenv("XLB_PROBE_SYN");
	xlb_prober_free(G.p);
	for (int i = 0; i < G.nfds; i++)
		if (G.fds[i] >= 0)
			close(G.fds[i]);
	G.nfds = 0;
}

int probe_ring_setup(void)
{
	return suite_setup(0);
}

void probe_ring_teardown(void)
{
	suite_teardown();
}

/* ---- half-open checks (probe_syn.c) -------------------------------------- */

/* Half-open checks are in use; 0 skips (no CAP_NET_RAW here). */
static int syn_here(struct xlb_prober *p)
{
	if (xlb_prober_syn(p) == 1)
		return 1;
	printf("    half-open checks not in use here (%s): skipped\n",
	       strerror(-xlb_prober_syn(p)));
	return 0;
}

/* ok and refused as connect() says them; and the listener's application
 * never sees a connection (accept() finds none): a SYN-ACK is all it takes. */
static int t_probe_syn_ok_refused_and_no_connection(void)
{
	struct out o[2] = {};
	__u16 up, down = closed_port();
	int lfd = listener(16, &up);

	ASSERT_TRUE(lfd >= 0, "listener");
	if (!syn_here(G.p))
		return 0;
	ASSERT_OK(start(G.p, 1000, up, &o[0]), "start to a listener");
	ASSERT_OK(start(G.p, 1000, down, &o[1]), "start to a closed port");
	ASSERT_OK(drive(G.p, o, 2, 1000 + SLACK_MS), "both outcomes");
	ASSERT_EQ(o[0].got, 1, "one outcome");
	ASSERT_EQ(strcmp(o[0].r.reason, "ok"), 0, o[0].r.reason);
	ASSERT_EQ(o[0].r.ok, 1, "healthy");
	ASSERT_EQ(o[1].got, 1, "one outcome");
	ASSERT_EQ(strcmp(o[1].r.reason, "refused"), 0, o[1].r.reason);
	ASSERT_EQ(xlb_prober_uring(G.p), 0, "no connect(), no ring made");
	ASSERT_EQ(xlb_prober_running(G.p), 0, "none left");
	usleep(50000);
	ASSERT_TRUE(accept(lfd, NULL, NULL) < 0 && errno == EAGAIN,
		    "the application never saw a connection");
	return 0;
}

/* A dropped SYN (the listener's queue full) goes again 1 s later, as a
 * connect()'s does: the check succeeds then, well before its deadline. */
static int t_probe_syn_sends_again_after_a_second(void)
{
	struct out o = {};
	__u16 port;
	int lfd = full_listener(&port);

	ASSERT_TRUE(lfd >= 0, "a listener that drops SYNs");
	if (!syn_here(G.p))
		return 0;
	ASSERT_OK(start(G.p, 4000, port, &o), "start");
	ASSERT_EQ(drive(G.p, &o, 1, 300), -1, "no answer to the first SYN");
	unfill(lfd);
	ASSERT_OK(drive(G.p, &o, 1, 1000 + SLACK_MS), "outcome");
	ASSERT_EQ(strcmp(o.r.reason, "ok"), 0, o.r.reason);
	ASSERT_TRUE(o.r.duration_us >= 900000, "at the second SYN");
	ASSERT_TRUE(o.r.duration_us < 1000000 + SLACK_MS * 1000, "not at the deadline");
	return 0;
}

/* "timeout" at the deadline; a cancelled check reports nothing, even when
 * its retransmitted SYN would now be answered; its tag serves again. */
static int t_probe_syn_timeout_cancel_and_reuse(void)
{
	struct out o[2] = {};
	__u16 hang, up;
	int lfd = full_listener(&hang);

	ASSERT_TRUE(lfd >= 0, "a listener that drops SYNs");
	ASSERT_TRUE(listener(16, &up) >= 0, "listener");
	if (!syn_here(G.p))
		return 0;
	ASSERT_OK(start(G.p, 300, hang, &o[0]), "start");
	ASSERT_OK(drive(G.p, o, 1, 300 + SLACK_MS), "outcome");
	ASSERT_EQ(strcmp(o[0].r.reason, "timeout"), 0, o[0].r.reason);
	ASSERT_TRUE(o[0].r.duration_us >= 300000, "not before its deadline");
	memset(o, 0, sizeof(o));
	G.outcomes = 0;
	ASSERT_OK(start(G.p, 5000, hang, &o[0]), "start the hanging check");
	drive(G.p, NULL, 0, 100);
	xlb_prober_cancel(G.p, &o[0]);
	unfill(lfd);
	ASSERT_EQ(drive(G.p, o, 0, 1500), -1, "past the SYN's retransmission");
	ASSERT_EQ(G.outcomes, 0, "no outcome after a cancel");
	ASSERT_OK(start(G.p, 5000, up, &o[0]), "the same tag again");
	ASSERT_OK(start(G.p, 5000, hang, &o[1]), "to the unfilled listener");
	ASSERT_OK(drive(G.p, o, 2, 1000 + SLACK_MS), "their outcomes");
	ASSERT_EQ(G.outcomes, 2, "one each");
	ASSERT_EQ(strcmp(o[0].r.reason, "ok"), 0, o[0].r.reason);
	ASSERT_EQ(strcmp(o[1].r.reason, "ok"), 0, o[1].r.reason);
	return 0;
}

/* 200 checks of one address and port at once: 64 go half-open (one a local
 * port of the block), the rest connect(); every one reports ok. */
static int t_probe_syn_more_than_the_block(void)
{
	struct out o[200] = {};
	__u16 up;

	ASSERT_TRUE(listener(512, &up) >= 0, "listener");
	if (!syn_here(G.p))
		return 0;
	xlb_prober_hold(G.p, 1);
	for (int i = 0; i < 200; i++)
		ASSERT_OK(start(G.p, 3000, up, &o[i]), "start");
	xlb_prober_hold(G.p, 0);
	ASSERT_OK(drive(G.p, o, 200, 3000 + SLACK_MS), "every outcome");
	for (int i = 0; i < 200; i++)
		ASSERT_EQ(strcmp(o[i].r.reason, "ok"), 0, o[i].r.reason);
	return 0;
}

/* In a child with a network namespace of its own (only lo, up): a check to
 * an address without a route is "unreachable" at once, as connect() says.
 * Exit codes: 0 as expected, 77 no namespace here, else the step. */
static int child_without_route(void)
{
	struct ifreq ifr = {.ifr_name = "lo"};
	union xlb_addr a = {};
	struct xlb_cfg_check c = {.type = XLB_CHECK_TCP};
	struct out o = {};
	struct xlb_prober *p;
	int fd;

	if (unshare(CLONE_NEWNET))
		return 77;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr))
		return 1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		return 1;
	close(fd);
	p = xlb_prober_new(on_done, NULL);
	if (!p || xlb_prober_syn(p) != 1)
		return 2;
	a.w[2] = htonl(0xffff);
	a.w[3] = htonl(0xc0000201); /* 192.0.2.1 */
	if (xlb_prober_start(p, &c, 2000, &a, XLB_AF_INET, 80, &o))
		return 3;
	if (drive(p, &o, 1, 500))
		return 4;
	if (o.r.ok || strcmp(o.r.reason, "unreachable"))
		return 5;
	xlb_prober_free(p);
	return 0;
}

static int t_probe_syn_unreachable_at_once(void)
{
	int st = 0;
	pid_t pid;

	if (!syn_here(G.p))
		return 0;
	pid = fork();
	ASSERT_TRUE(pid >= 0, "fork");
	if (!pid)
		_exit(child_without_route());
	ASSERT_EQ(waitpid(pid, &st, 0), pid, "the child");
	ASSERT_TRUE(WIFEXITED(st), "the child exited");
	if (WEXITSTATUS(st) == 77) {
		printf("    no network namespace here: skipped\n");
		return 0;
	}
	ASSERT_EQ(WEXITSTATUS(st), 0, "the child's step that failed (see the test)");
	return 0;
}

static void syn_done(void *ctx, void *owner, int err, const char *what)
{
	(void)ctx;
	(void)what;
	G.calls++;
	G.last_err = err;
	G.last_owner = owner;
}

/*
 * The engine alone: its port block is held (nobody else binds it); a raw
 * tcp socket sees every segment the host receives, but the filter lets
 * through only SYN-ACKs and RSTs to the block: after a whole connection's
 * worth of other traffic on loopback (and a SYN sent to the block itself)
 * nothing waits on it; then a check's SYN-ACK does, and reports.
 */
static int t_probe_syn_block_held_and_filtered(void)
{
	struct sockaddr_in sin, blk;
	int fds[XLB_SYN_FDS], err, cfd, afd, owner = 0;
	struct xlb_synprobe *s = xlb_synprobe_new(syn_done, NULL, &err);
	struct pollfd pfd = {.events = POLLIN};
	char b[64];
	__u64 h;
	__u16 up;

	if (!s) {
		printf("    half-open checks not possible here (%s): skipped\n", strerror(-err));
		return 0;
	}
	xlb_synprobe_fds(s, fds);
	blk = loopback(xlb_synprobe_port_base(s));
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0 || !bind(cfd, (struct sockaddr *)&blk, sizeof(blk)) || errno != EADDRINUSE)
		goto fail;
	/* A SYN to the block: this host's kernel refuses it (nobody listens). */
	if (!connect(cfd, (struct sockaddr *)&blk, sizeof(blk)) || errno != ECONNREFUSED)
		goto fail;
	close(cfd);
	/* A connection elsewhere, data both ways. */
	if (listener(16, &up) < 0)
		goto fail;
	sin = loopback(up);
	cfd = keep(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    write(cfd, "hi", 2) != 2)
		goto fail;
	usleep(20000);
	afd = keep(accept(G.fds[G.nfds - 2], NULL, NULL));
	if (afd < 0 || write(afd, "yo", 2) != 2 || read(cfd, b, sizeof(b)) != 2)
		goto fail;
	usleep(20000);
	if (recv(fds[0], b, sizeof(b), MSG_DONTWAIT) >= 0 || errno != EAGAIN)
		goto fail; /* something else reached the raw socket */
	if (xlb_synprobe_start(s, (struct sockaddr *)&sin, sizeof(sin), &owner, &h))
		goto fail;
	xlb_synprobe_flush(s);
	pfd.fd = fds[0];
	if (poll(&pfd, 1, 1000) != 1)
		goto fail;
	xlb_synprobe_reap(s, fds[0], POLLIN);
	if (G.calls != 1 || G.last_err || G.last_owner != &owner || xlb_synprobe_busy(s))
		goto fail;
	xlb_synprobe_free(s);
	return 0;
fail:
	harness_fail(__FILE__, __LINE__, "errno %d (%s), calls %d (last err %d), busy %u", errno,
		     strerror(errno), G.calls, G.last_err, xlb_synprobe_busy(s));
	xlb_synprobe_free(s);
	return -1;
}

/* What the raw sockets read: whole tcp headers only, from the right bytes. */
static int t_probe_syn_parse(void)
{
	__u8 v4[44] = {0x45, 0, 0, 44, 0,   0, 0x40, 0, 64,   IPPROTO_TCP, 0,	 0,
		       127,  0, 0, 1,  127, 0, 0,    1, 0x1f, 0x90,	   0x9c, 0x40,
		       0,    0, 0, 7,  0,   0, 0,    9, 0x60, 0x12};
	struct xlb_syn_seg g;

	ASSERT_OK(xlb_syn_parse(AF_INET, v4, sizeof(v4), &g), "a SYN-ACK");
	ASSERT_TRUE(g.sport == 8080 && g.dport == 40000 && g.seq == 7 && g.ack == 9 &&
			    g.flags == 0x12,
		    "its fields");
	ASSERT_OK(xlb_syn_parse(AF_INET6, v4 + 20, 24, &g), "the same tcp header, IPv6's way");
	ASSERT_TRUE(g.sport == 8080 && g.ack == 9, "its fields");
	ASSERT_EQ(xlb_syn_parse(AF_INET, v4, 39, &g), -EINVAL, "cut inside the tcp header");
	ASSERT_EQ(xlb_syn_parse(AF_INET6, v4 + 20, 19, &g), -EINVAL, "cut");
	v4[0] = 0x44;
	ASSERT_EQ(xlb_syn_parse(AF_INET, v4, sizeof(v4), &g), -EINVAL, "header length 16");
	v4[0] = 0x46;
	ASSERT_EQ(xlb_syn_parse(AF_INET, v4, sizeof(v4), &g), -EINVAL, "options push tcp out");
	v4[0] = 0x45;
	v4[7] = 1;
	ASSERT_EQ(xlb_syn_parse(AF_INET, v4, sizeof(v4), &g), -EINVAL, "a later fragment");
	v4[7] = 0;
	v4[32] = 0x40;
	ASSERT_EQ(xlb_syn_parse(AF_INET, v4, sizeof(v4), &g), -EINVAL, "data offset 4");
	return 0;
}

const struct harness_case probe_syn_cases[] = {
	{"probe_syn_ok_refused_and_no_connection", t_probe_syn_ok_refused_and_no_connection},
	{"probe_syn_sends_again_after_a_second", t_probe_syn_sends_again_after_a_second},
	{"probe_syn_timeout_cancel_and_reuse", t_probe_syn_timeout_cancel_and_reuse},
	{"probe_syn_more_than_the_block", t_probe_syn_more_than_the_block},
	{"probe_syn_unreachable_at_once", t_probe_syn_unreachable_at_once},
	{"probe_syn_block_held_and_filtered", t_probe_syn_block_held_and_filtered},
	{"probe_syn_parse", t_probe_syn_parse},
};
const size_t probe_syn_ncases = sizeof(probe_syn_cases) / sizeof(probe_syn_cases[0]);

/* The prober as xlbd makes it: half-open checks where raw sockets open. */
int probe_syn_setup(void)
{
	return suite_setup(1);
}

void probe_syn_teardown(void)
{
	suite_teardown();
}
