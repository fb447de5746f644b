// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcp checks with send and expect (user/common/probe.c) against scripted
 * servers on loopback: a thread per server that greets, reads the request
 * up to a terminator, answers in pieces and closes or holds the
 * connection; and a listening socket nobody accepts from, which is what a
 * frozen application looks like from outside (the kernel completes the
 * handshake, nothing ever answers).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "harness.h"
#include "probe.h"
#include "test_unit.h"
#include "xlb_dp.h"

#define SLACK_MS 1500 /* late by at most this (valgrind is slow) */

struct out {
	int got;
	struct xlb_probe_result r;
};

/* One connection at a time: greet, read until `until`, answer the pieces
 * 100 ms apart, then close (or hold until stopped). */
struct talker {
	int fd, stop[2];
	pthread_t th;
	const char *banner; /* NULL: none */
	const char *until;  /* NULL: read nothing */
	const char *reply[3];
	size_t flood;	/* then this many 'x' */
	int hold;	/* keep the connection open after answering */
	char got[2048]; /* the last request, as received */
	size_t got_len;
};

static struct {
	struct xlb_prober *p;
	struct talker t[2];
	int nt;
	int fds[4];
	int nfds;
} T;

static void on_done(void *ctx, void *tag, const struct xlb_probe_result *r)
{
	struct out *o = tag;

	(void)ctx;
	o->got++;
	o->r = *r;
}

static int setup(void)
{
	memset(&T, 0, sizeof(T));
	T.p = xlb_prober_new(on_done, NULL);
	return T.p ? 0 : -1;
}

static void teardown(void)
{
	xlb_prober_free(T.p);
	for (int i = 0; i < T.nt; i++) {
		struct talker *t = &T.t[i];

		if (write(t->stop[1], "x", 1) == 1)
			pthread_join(t->th, NULL);
		close(t->stop[0]);
		close(t->stop[1]);
		close(t->fd);
	}
	for (int i = 0; i < T.nfds; i++)
		close(T.fds[i]);
}

/* A TCP socket listening on 127.0.0.1, port chosen by the kernel. */
static int listener(__u16 *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, len) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Wait until fd is readable or the talker is stopped: 1, 0 when stopped. */
static int wait_in(struct talker *t, int fd)
{
	struct pollfd pf[2] = {{.fd = fd, .events = POLLIN}, {.fd = t->stop[0], .events = POLLIN}};

	while (poll(pf, 2, -1) < 0)
		if (errno != EINTR)
			return 0;
	return !pf[1].revents;
}

static void talk(struct talker *t, int c)
{
	char x[512];

	if (t->banner)
		send(c, t->banner, strlen(t->banner), MSG_NOSIGNAL);
	t->got_len = 0;
	while (t->until && !memmem(t->got, t->got_len, t->until, strlen(t->until))) {
		ssize_t k;

		if (!wait_in(t, c))
			return;
		k = recv(c, t->got + t->got_len, sizeof(t->got) - t->got_len, 0);
		if (k <= 0)
			return;
		t->got_len += (size_t)k;
	}
	for (int i = 0; i < 3 && t->reply[i]; i++) {
		if (i)
			usleep(100000);
		send(c, t->reply[i], strlen(t->reply[i]), MSG_NOSIGNAL);
	}
	memset(x, 'x', sizeof(x));
	for (size_t left = t->flood; left;) {
		ssize_t k = send(c, x, left < sizeof(x) ? left : sizeof(x), MSG_NOSIGNAL);

		if (k <= 0)
			break;
		left -= (size_t)k;
	}
	if (t->hold)
		while (wait_in(t, c) && recv(c, x, sizeof(x), 0) > 0)
			;
}

static void *talker_main(void *arg)
{
	struct talker *t = arg;

	while (wait_in(t, t->fd)) {
		int c = accept4(t->fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		talk(t, c);
		close(c);
	}
	return NULL;
}

/* A talker set up by the case (banner, until, reply...), started here. */
static struct talker *talker_new(void)
{
	return T.nt < 2 ? &T.t[T.nt] : NULL;
}

static int talker_start(struct talker *t, __u16 *port)
{
	t->fd = listener(port);
	if (t->fd < 0)
		return -1;
	if (pipe2(t->stop, O_CLOEXEC)) {
		close(t->fd);
		return -1;
	}
	if (pthread_create(&t->th, NULL, talker_main, t)) {
		close(t->fd);
		close(t->stop[0]);
		close(t->stop[1]);
		return -1;
	}
	T.nt++;
	return 0;
}

/* A listening socket nobody accepts from: a frozen application. */
static int frozen(__u16 *port)
{
	int fd = T.nfds < 4 ? listener(port) : -1;

	if (fd < 0)
		return -1;
	T.fds[T.nfds++] = fd;
	return 0;
}

static struct xlb_cfg_check tcp_check(const char *send, const char *expect)
{
	struct xlb_cfg_check c;

	memset(&c, 0, sizeof(c));
	c.type = XLB_CHECK_TCP;
	snprintf(c.send, sizeof(c.send), "%s", send);
	snprintf(c.expect, sizeof(c.expect), "%s", expect);
	return c;
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* Probe 127.0.0.1:port with c and drive the prober until the outcome. */
static int probe(const struct xlb_cfg_check *c, __u32 timeout_ms, __u16 port, struct out *o)
{
	union xlb_addr a;
	int fam = xlb_addr_parse("127.0.0.1", &a);
	__u64 end;

	memset(o, 0, sizeof(*o));
	if (xlb_prober_start(T.p, c, timeout_ms, &a, (__u8)fam, port, o))
		return -1;
	end = now_ms() + timeout_ms + SLACK_MS;
	while (!o->got && now_ms() < end) {
		struct pollfd pfd = {.fd = xlb_prober_fd(T.p), .events = POLLIN};

		poll(&pfd, 1, 50);
		xlb_prober_run(T.p);
	}
	return o->got == 1 ? 0 : -1;
}

#define ASSERT_REASON(o, want_ok, want)                                                            \
	do {                                                                                       \
		if ((o).r.ok != (want_ok) || strcmp((o).r.reason, (want))) {                       \
			harness_fail(__FILE__, __LINE__, "ok=%d \"%s\"; want ok=%d \"%s\"",        \
				     (o).r.ok, (o).r.reason, (want_ok), (want));                   \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

/* ---- Cases -------------------------------------------------------------- */

/* send, then the reply holds expect: ok; the server got the payload as is. */
static int t_probe_tcp_send_expect_match(void)
{
	struct talker *t = talker_new();
	struct xlb_cfg_check c = tcp_check("PING\r\n", "+PONG");
	struct out o;
	__u16 port;

	*t = (struct talker){.until = "\r\n", .reply = {"+PONG\r\n"}};
	ASSERT_OK(talker_start(t, &port), "server");
	ASSERT_OK(probe(&c, 1000, port, &o), "outcome");
	ASSERT_REASON(o, 1, "ok");
	ASSERT_MEM(t->got, t->got_len, "PING\r\n", 6, "what the server got");
	return 0;
}

/* A reply without expect: the reason shows what came, escaped; closed at
 * once it is a mismatch, held open it fails at the timeout. */
static int t_probe_tcp_send_expect_mismatch(void)
{
	struct talker *t = talker_new(), *h;
	struct xlb_cfg_check c = tcp_check("PING\r\n", "+PONG");
	struct out o;
	__u16 port, hport;
	__u64 t0;

	*t = (struct talker){.until = "\r\n", .reply = {"-ERR loading\r\n"}};
	ASSERT_OK(talker_start(t, &port), "server");
	t0 = now_ms();
	ASSERT_OK(probe(&c, 2000, port, &o), "outcome");
	ASSERT_REASON(o, 0, "reply mismatch: got '-ERR loading\\r\\n'");
	ASSERT_TRUE(now_ms() - t0 < 1000, "a closed connection fails at once");
	h = talker_new();
	*h = (struct talker){.until = "\r\n", .reply = {"-ERR loading\r\n"}, .hold = 1};
	ASSERT_OK(talker_start(h, &hport), "holding server");
	t0 = now_ms();
	ASSERT_OK(probe(&c, 300, hport, &o), "outcome");
	ASSERT_REASON(o, 0, "timeout: got '-ERR loading\\r\\n'");
	ASSERT_TRUE(now_ms() - t0 >= 300 && o.r.duration_us >= 300000, "not before the timeout");
	return 0;
}

/*
 * The frozen application (SIGSTOP, a deadlock): the kernel accepts the
 * connection, nothing reads or answers. A plain tcp check passes; with send
 * and expect, or a banner expected, it fails at the timeout, not later.
 */
static int t_probe_tcp_frozen_app_fails_within_timeout(void)
{
	struct xlb_cfg_check plain = tcp_check("", ""), talk = tcp_check("PING\r\n", "+PONG"),
			     banner = tcp_check("", "SSH-");
	struct out o;
	__u16 port;
	__u64 t0;

	ASSERT_OK(frozen(&port), "listener");
	ASSERT_OK(probe(&plain, 500, port, &o), "plain outcome");
	ASSERT_REASON(o, 1, "ok");
	t0 = now_ms();
	ASSERT_OK(probe(&talk, 500, port, &o), "send/expect outcome");
	ASSERT_REASON(o, 0, "timeout waiting for reply");
	ASSERT_TRUE(now_ms() - t0 >= 500 && now_ms() - t0 < 500 + SLACK_MS, "at the timeout");
	ASSERT_OK(probe(&banner, 500, port, &o), "banner outcome");
	ASSERT_REASON(o, 0, "timeout waiting for reply");
	return 0;
}

/* expect without send: the server speaks first (SSH, SMTP, ...). */
static int t_probe_tcp_banner_only(void)
{
	struct talker *t = talker_new(), *u;
	struct xlb_cfg_check ssh = tcp_check("", "SSH-2.0"), smtp = tcp_check("", "220 ");
	struct out o;
	__u16 port, uport;

	*t = (struct talker){.banner = "SSH-2.0-OpenSSH_9.2\r\n", .hold = 1};
	ASSERT_OK(talker_start(t, &port), "server");
	ASSERT_OK(probe(&ssh, 1000, port, &o), "outcome");
	ASSERT_REASON(o, 1, "ok");
	ASSERT_OK(probe(&smtp, 300, port, &o), "outcome");
	ASSERT_REASON(o, 0, "timeout: got 'SSH-2.0-OpenSSH_9.2\\r\\n'");
	ASSERT_EQ(t->got_len, 0, "nothing was sent");
	/* a server that closes without a word */
	u = talker_new();
	*u = (struct talker){0};
	ASSERT_OK(talker_start(u, &uport), "server");
	ASSERT_OK(probe(&smtp, 1000, uport, &o), "outcome");
	ASSERT_REASON(o, 0, "reply mismatch: closed without a reply");
	return 0;
}

/* expect split over several reads (pieces 100 ms apart) is still found;
 * send without expect takes any reply. */
static int t_probe_tcp_reply_across_reads(void)
{
	struct talker *t = talker_new();
	struct xlb_cfg_check c = tcp_check("INFO\r\n", "role:master"),
			     any = tcp_check("INFO\r\n", "");
	struct out o;
	__u16 port;

	*t = (struct talker){.until = "\r\n", .reply = {"$20\r\nro", "le:mas", "ter\r\n"}};
	ASSERT_OK(talker_start(t, &port), "server");
	ASSERT_OK(probe(&c, 2000, port, &o), "outcome");
	ASSERT_REASON(o, 1, "ok");
	ASSERT_TRUE(o.r.duration_us >= 150000, "after the last piece");
	ASSERT_OK(probe(&any, 2000, port, &o), "outcome");
	ASSERT_REASON(o, 1, "ok");
	ASSERT_TRUE(o.r.duration_us < 150000, "at the first piece");
	return 0;
}

/* A reply that fills the buffer without expect fails then, not at the
 * timeout; the reason is cut with "...". */
static int t_probe_tcp_reply_buffer_full(void)
{
	struct talker *t = talker_new();
	struct xlb_cfg_check c = tcp_check("GET\r\n", "never");
	struct out o;
	__u16 port;

	*t = (struct talker){.until = "\r\n", .flood = 65536, .hold = 1};
	ASSERT_OK(talker_start(t, &port), "server");
	ASSERT_OK(probe(&c, 3000, port, &o), "outcome");
	ASSERT_EQ(o.r.ok, 0, "fails");
	ASSERT_TRUE(!strncmp(o.r.reason, "reply mismatch: got 'xxxx", 25), o.r.reason);
	ASSERT_TRUE(strstr(o.r.reason, "...'") != NULL, o.r.reason);
	ASSERT_TRUE(o.r.duration_us < 2000000, "before the timeout");
	return 0;
}

/* Escapes written in the config arrive as bytes, in every YAML style. */
static int t_probe_tcp_escapes_from_config(void)
{
	static const char *yaml[] = {
		"{type: tcp, send: AUTH x\\r\\nPING\\x21\\r\\n, expect: '+PONG\\r\\n'}",
		"{type: tcp, send: 'AUTH x\\r\\nPING\\x21\\r\\n', expect: \"+PONG\\r\\n\"}",
		"{type: tcp, send: \"AUTH x\\r\\nPING\\x21\\r\\n\", expect: +PONG\\r\\n}",
	};
	struct talker *t = talker_new();
	struct xlb_cfg_vip v = {.port = 80};
	struct xlb_err err = {};
	struct out o;
	__u16 port;

	*t = (struct talker){.until = "PING!\r\n", .reply = {"+OK\r\n+PONG\r\n"}};
	ASSERT_OK(talker_start(t, &port), "server");
	for (size_t i = 0; i < sizeof(yaml) / sizeof(yaml[0]); i++) {
		xlb_cfg_check_defaults(&v.check);
		ASSERT_OK(xlb_cfg_parse_check(yaml[i], &v, NULL, &err), err.msg);
		ASSERT_OK(probe(&v.check, 1000, port, &o), yaml[i]);
		ASSERT_REASON(o, 1, "ok");
		ASSERT_MEM(t->got, t->got_len, "AUTH x\r\nPING!\r\n", 15, yaml[i]);
	}
	return 0;
}

const struct harness_case probe_tcp_cases[] = {
	{"probe_tcp_send_expect_match", t_probe_tcp_send_expect_match},
	{"probe_tcp_send_expect_mismatch", t_probe_tcp_send_expect_mismatch},
	{"probe_tcp_frozen_app_fails_within_timeout", t_probe_tcp_frozen_app_fails_within_timeout},
	{"probe_tcp_banner_only", t_probe_tcp_banner_only},
	{"probe_tcp_reply_across_reads", t_probe_tcp_reply_across_reads},
	{"probe_tcp_reply_buffer_full", t_probe_tcp_reply_buffer_full},
	{"probe_tcp_escapes_from_config", t_probe_tcp_escapes_from_config},
};
const size_t probe_tcp_ncases = sizeof(probe_tcp_cases) / sizeof(probe_tcp_cases[0]);

int probe_tcp_setup(void)
{
	return setup();
}

void probe_tcp_teardown(void)
{
	teardown();
}
