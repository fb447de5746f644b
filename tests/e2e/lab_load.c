// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-lab-load: the client side of the lab's "under live traffic" cases.
 * For DURATION seconds it opens new connections at RATE per second and keeps
 * STREAMS long-lived connections sending, then reports every failure with
 * its wall-clock time, so a test can say which failures a change caused.
 *
 *   xlb-lab-load ADDR PORT [-r RATE] [-d SECONDS] [-s STREAMS] [-t TIMEOUT_MS] [-l]
 *
 * Against xlb-lab-tcp in `count` mode (it greets with its name, counts what
 * it reads, answers the count at the client's end of stream):
 *  - a new connection succeeds when the greeting arrives within TIMEOUT_MS;
 *  - a stream writes 11 bytes every 100 ms, then shuts down its sending side
 *    and succeeds when the server counted every byte sent.
 * Output, one line each:
 *   fail MS conn|stream REASON [NAME]    as it happens (MS: CLOCK_REALTIME)
 *   conn LATENCY_MS NAME                 -l: each new connection that succeeded,
 *                                        connect() to greeting
 *   stream I NAME SENT COUNTED ok|REASON at the end
 *   backend NAME CONNS                   new connections each backend took
 *   summary conns N ok N streams N ok N
 * REASON: refused, reset, timeout, closed, short, error.
 * SIGTERM or SIGINT end the run early, as if DURATION had passed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 1000
#define STREAM_EVERY_MS 100
#define STREAM_LINE "0123456789\n"
#define MAX_NAMES 16

enum kind {
	CONN,
	STREAM
};

enum phase {
	CONNECTING,
	GREETING, /* waiting for the backend's name */
	SENDING,  /* stream: writing a line every 100 ms */
	COUNTING, /* stream: sent everything, waiting for the count */
	DONE
};

struct peer {
	int fd;
	enum kind kind;
	enum phase phase;
	long long deadline; /* ms: the greeting (conn) or the count (stream) is due */
	long long next;	    /* stream: ms of the next line */
	long long started;  /* ms: connect() */
	long sent;
	char buf[64]; /* what the server said so far */
	size_t len;
	char name[32];
	const char *result; /* NULL while running */
	long counted;
};

static volatile sig_atomic_t stop;
static int print_latency; /* -l */
static struct sockaddr_storage dst;
static socklen_t dst_len;
static struct peer peers[MAX_FDS];
static int npeers;
static char names[MAX_NAMES][32];
static long name_conns[MAX_NAMES];

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *errno_reason(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "refused";
	case ECONNRESET:
	case EPIPE:
		return "reset";
	case ETIMEDOUT:
		return "timeout";
	}
	return "error";
}

static void finish(struct peer *p, const char *result)
{
	if (p->result)
		return;
	p->result = result;
	p->phase = DONE;
	if (strcmp(result, "ok"))
		printf("fail %lld %s %s %s\n", wall_ms(), p->kind == CONN ? "conn" : "stream",
		       result, *p->name ? p->name : "-");
	else if (p->kind == CONN && print_latency)
		printf("conn %lld %s\n", mono_ms() - p->started, p->name);
	if (!strcmp(result, "ok") && p->kind == CONN)
		for (int i = 0; i < MAX_NAMES; i++)
			if (!strcmp(names[i], p->name) || !names[i][0]) {
				snprintf(names[i], sizeof(names[i]), "%s", p->name);
				name_conns[i]++;
				break;
			}
	fflush(stdout);
	close(p->fd);
	p->fd = -1;
}

static struct peer *start(enum kind kind, long long now, int timeout_ms)
{
	struct peer *p;
	int fd;

	if (npeers == MAX_FDS)
		return NULL;
	fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	p = &peers[npeers++];
	*p = (struct peer){.fd = fd, .kind = kind, .deadline = now + timeout_ms, .started = now};
	if (connect(fd, (struct sockaddr *)&dst, dst_len) && errno != EINPROGRESS)
		finish(p, errno_reason(errno));
	return p;
}

/* The server said something: the greeting, then (streams) the count. */
static void readable(struct peer *p, long long now, int timeout_ms)
{
	ssize_t r = recv(p->fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len, 0);
	char *nl;

	if (r < 0) {
		if (errno != EAGAIN)
			finish(p, errno_reason(errno));
		return;
	}
	if (r == 0) {
		finish(p, "closed");
		return;
	}
	p->len += (size_t)r;
	p->buf[p->len] = 0;
	while ((nl = strchr(p->buf, '\n'))) {
		*nl = 0;
		if (p->phase == GREETING) {
			snprintf(p->name, sizeof(p->name), "%s", p->buf);
			if (p->kind == CONN) {
				finish(p, "ok");
				return;
			}
			p->phase = SENDING;
			p->next = now;
		} else if (p->phase == COUNTING) {
			p->counted = atol(p->buf);
			finish(p, p->counted == p->sent ? "ok" : "short");
			return;
		}
		memmove(p->buf, nl + 1, strlen(nl + 1) + 1);
		p->len = strlen(p->buf);
	}
	(void)timeout_ms;
}

static void step(struct peer *p, short revents, long long now, long long end, int timeout_ms)
{
	if (p->phase == CONNECTING && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			finish(p, errno_reason(err));
			return;
		}
		p->phase = GREETING;
	}
	if (p->phase >= GREETING && p->phase != DONE && (revents & (POLLIN | POLLERR | POLLHUP)))
		readable(p, now, timeout_ms);
	if (p->phase == SENDING && now >= p->next) {
		if (now >= end) {
			shutdown(p->fd, SHUT_WR);
			p->phase = COUNTING;
			p->deadline = now + timeout_ms;
			return;
		}
		if (send(p->fd, STREAM_LINE, sizeof(STREAM_LINE) - 1, MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(STREAM_LINE) - 1) {
			finish(p, errno == EAGAIN ? "short" : errno_reason(errno));
			return;
		}
		p->sent += sizeof(STREAM_LINE) - 1;
		p->next += STREAM_EVERY_MS;
	}
	if (p->phase != SENDING && p->phase != DONE && now >= p->deadline)
		finish(p, "timeout");
}

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_addr(const char *a, const char *port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&dst;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&dst;
	int p = atoi(port);

	if (p <= 0 || p > 65535)
		return -1;
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)p);
		dst_len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)p);
		dst_len = sizeof(*s6);
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	int rate = 50, seconds = 10, streams = 0, timeout_ms = 2000, opt;
	long conns = 0, conns_ok = 0, streams_ok = 0;
	static struct pollfd pfd[MAX_FDS];
	long long t0, end, now;

	while ((opt = getopt(argc, argv, "r:d:s:t:l")) != -1) {
		switch (opt) {
		case 'r':
			rate = atoi(optarg);
			break;
		case 'd':
			seconds = atoi(optarg);
			break;
		case 's':
			streams = atoi(optarg);
			break;
		case 't':
			timeout_ms = atoi(optarg);
			break;
		case 'l':
			print_latency = 1;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || parse_addr(argv[optind], argv[optind + 1]) || rate < 0 ||
	    rate > 500 || seconds <= 0 || streams < 0 || streams > 200 || timeout_ms <= 0)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	t0 = mono_ms();
	end = t0 + (long long)seconds * 1000;
	for (int i = 0; i < streams; i++)
		start(STREAM, t0, timeout_ms);
	for (;;) {
		int n = 0, live = 0;

		now = mono_ms();
		if (stop && end > now)
			end = now;
		/* new connections on schedule: the i-th at t0 + i/rate */
		while (rate && now < end && t0 + conns * 1000 / rate <= now) {
			if (!start(CONN, now, timeout_ms))
				break;
			conns++;
		}
		for (int i = 0; i < npeers; i++) {
			struct peer *p = &peers[i];

			if (p->phase == DONE)
				continue;
			live++;
			pfd[n++] = (struct pollfd){
				.fd = p->fd,
				.events = p->phase == CONNECTING ? POLLOUT : POLLIN,
			};
		}
		if (!live && now >= end)
			break;
		if (poll(pfd, (nfds_t)n, 10) < 0 && errno != EINTR)
			return 1;
		now = mono_ms();
		n = 0;
		for (int i = 0; i < npeers; i++) {
			struct peer *p = &peers[i];

			if (p->phase == DONE)
				continue;
			step(p, pfd[n++].revents, now, end, timeout_ms);
		}
		/* forget finished connections (streams stay for the report) */
		for (int i = npeers - 1; i >= 0; i--)
			if (peers[i].phase == DONE && peers[i].kind == CONN) {
				conns_ok += !strcmp(peers[i].result, "ok");
				peers[i] = peers[--npeers];
			}
	}
	for (int i = 0, s = 0; i < npeers; i++) {
		struct peer *p = &peers[i];

		streams_ok += !strcmp(p->result, "ok");
		printf("stream %d %s %ld %ld %s\n", ++s, *p->name ? p->name : "-", p->sent,
		       p->counted, p->result);
	}
	for (int i = 0; i < MAX_NAMES && names[i][0]; i++)
		printf("backend %s %ld\n", names[i], name_conns[i]);
	printf("summary conns %ld ok %ld streams %d ok %ld\n", conns, conns_ok, streams,
	       streams_ok);
	return 0;
usage:
	fprintf(stderr,
		"usage: xlb-lab-load ADDR PORT [-r RATE<=500] [-d SECONDS] [-s STREAMS<=200] "
		"[-t TIMEOUT_MS] [-l]\n");
	return 2;
}
