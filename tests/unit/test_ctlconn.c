// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The control socket's connections (user/xlbd/ctl_conn.c): a request that
 * waited in the socket while the loop was busy past the deadline still gets
 * its reply, and a reply given later (CTL_REPLY_LATER) reaches its client.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ctl_conn.h"
#include "test_unit.h"

#define BIG (4 << 20) /* a reply of 10,000 backends' status is about this */

static char sock_path[108];
static unsigned long long later_ticket;
static int handled;

/* Echo the request back; "later" is answered by the test. */
static char *handler(void *ctx, const struct ctl_peer *peer, const char *text, size_t len,
		     int *keep_open)
{
	(void)ctx;
	*keep_open = 0;
	handled++;
	if (len == 5 && !memcmp(text, "later", 5)) {
		later_ticket = peer->ticket;
		return CTL_REPLY_LATER;
	}
	if (len == 3 && !memcmp(text, "big", 3)) {
		char *big = malloc(BIG + 1);

		if (big) {
			memset(big, 'x', BIG);
			big[BIG] = 0;
		}
		return big;
	}
	return strndup(text, len);
}

static int client(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Serve turns until the client's socket is readable (or about 2 s). */
static void serve_until_readable(struct ctl_server *s, int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	for (int i = 0; i < 200 && poll(&p, 1, 0) == 0; i++) {
		struct pollfd sp = {.fd = ctl_server_fd(s), .events = POLLIN};

		if (poll(&sp, 1, 10) > 0)
			ctl_server_run(s);
	}
}

/* What the server sent, up to its close (or the 1 s the test waits). */
static ssize_t read_reply(int fd, char *buf, size_t len)
{
	struct timeval tv = {.tv_sec = 1};
	size_t got = 0;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = 0;
	return (ssize_t)got;
}

static int open_server(struct ctl_server **s, unsigned int deadline_ms)
{
	snprintf(sock_path, sizeof(sock_path), "/tmp/xlb-test-ctlconn.%d", (int)getpid());
	handled = 0;
	later_ticket = 0;
	if (ctl_server_open(sock_path, NULL, handler, NULL, s))
		return -1;
	ctl_server_set_deadline(*s, deadline_ms);
	return 0;
}

static int t_ctlconn_late_request_gets_reply(void)
{
	struct ctl_server *s;
	char buf[256];
	int fd;

	ASSERT_OK(open_server(&s, 50), "server");
	fd = client();
	ASSERT_TRUE(fd >= 0, "connect");
	/* accepted: its deadline runs from here */
	{
		struct pollfd sp = {.fd = ctl_server_fd(s), .events = POLLIN};

		ASSERT_EQ(poll(&sp, 1, 1000), 1, "the connection is there");
		ctl_server_run(s);
	}
	/* the loop is busy elsewhere past the deadline; the request comes
	 * meanwhile, after the deadline's timer */
	usleep(150 * 1000);
	ASSERT_EQ(write(fd, "hello\n", 6), 6, "request sent");
	serve_until_readable(s, fd);
	ASSERT_EQ(read_reply(fd, buf, sizeof(buf)), 6, "a reply, not a close");
	ASSERT_MEM(buf, strlen(buf), "hello\n", (size_t)6, "the reply");
	ASSERT_EQ(handled, 1, "handled once");
	close(fd);
	ctl_server_close(s);
	return 0;
}

/* A big reply to a client that reads it slowly, but reads. */
static int t_ctlconn_slow_reader_gets_whole_reply(void)
{
	struct ctl_server *s;
	size_t want = BIG, got = 0;
	static char buf[65536]; /* not on the heap: an ASSERT returns early */
	int fd;

	ASSERT_OK(open_server(&s, 300), "server");
	fd = client();
	ASSERT_TRUE(fd >= 0, "connect");
	ASSERT_EQ(write(fd, "big\n", 4), 4, "asks for a 4 MB reply");
	/* the reply goes out as the client takes it: 64 KB every 20 ms, each
	 * pause far shorter than the deadline (300 ms: valgrind is slow), the
	 * whole (64 reads, 1.3 s) far longer */
	for (int i = 0; i < 2000 && got < want + 1; i++) {
		struct pollfd sp = {.fd = ctl_server_fd(s), .events = POLLIN};
		ssize_t n;

		if (poll(&sp, 1, 0) > 0)
			ctl_server_run(s);
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0)
			got += (size_t)n;
		usleep(20 * 1000);
	}
	close(fd);
	ctl_server_close(s);
	ASSERT_EQ(got, want + 1, "the whole reply");
	return 0;
}

static int t_ctlconn_reply_later_reaches_client(void)
{
	struct ctl_server *s;
	char buf[256];
	int fd;

	ASSERT_OK(open_server(&s, 50), "server");
	fd = client();
	ASSERT_TRUE(fd >= 0, "connect");
	ASSERT_EQ(write(fd, "later\n", 6), 6, "request sent");
	for (int i = 0; i < 200 && !later_ticket; i++) {
		struct pollfd sp = {.fd = ctl_server_fd(s), .events = POLLIN};

		if (poll(&sp, 1, 10) > 0)
			ctl_server_run(s);
	}
	ASSERT_TRUE(later_ticket != 0, "the handler saw it");
	/* no deadline while the answer is worked out */
	usleep(150 * 1000);
	for (int i = 0; i < 5; i++) {
		struct pollfd sp = {.fd = ctl_server_fd(s), .events = POLLIN};

		if (poll(&sp, 1, 20) > 0)
			ctl_server_run(s);
	}
	ASSERT_EQ(ctl_server_reply(s, later_ticket + 1, strdup("{}")), -ENOENT, "unknown ticket");
	ASSERT_OK(ctl_server_reply(s, later_ticket, strdup("done")), "reply given");
	ASSERT_EQ(read_reply(fd, buf, sizeof(buf)), 5, "the later reply, then the close");
	ASSERT_MEM(buf, strlen(buf), "done\n", (size_t)5, "the reply");
	ASSERT_EQ(ctl_server_reply(s, later_ticket, strdup("again")), -ENOENT, "answered once");
	close(fd);
	ctl_server_close(s);
	return 0;
}

const struct harness_case ctlconn_cases[] = {
	{"ctlconn_late_request_gets_reply", t_ctlconn_late_request_gets_reply},
	{"ctlconn_slow_reader_gets_whole_reply", t_ctlconn_slow_reader_gets_whole_reply},
	{"ctlconn_reply_later_reaches_client", t_ctlconn_reply_later_reaches_client},
};
const size_t ctlconn_ncases = sizeof(ctlconn_cases) / sizeof(ctlconn_cases[0]);
