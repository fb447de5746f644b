// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-lab-tcp: a one-process TCP server for the end-to-end lab and the demo.
 * Listens on [::]:PORT (IPv4 too); per connection:
 *  - greet: writes "NAME\n" and closes;
 *  - count: writes "NAME\n", reads to the client's end of stream and
 *    answers the number of bytes it read ("220\n"), then closes;
 *  - http:  reads a request; "GET /slow" streams "NAME chunk I\n" lines, one
 *    every 200 ms for 8 s (a long download); anything else gets "NAME\n".
 *    HTTP/1.0, the connection closes after the answer.
 *
 *   xlb-lab-tcp PORT NAME greet|count|http
 *
 * Why not socat: its forking server, hit by connections that are reset at
 * once (what a tcp health check does, to spare TIME_WAIT), now and then
 * closes an unrelated client's connection without a word (measured on
 * loopback: 4 of 500 connections with 100 resets a second).
 */
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define SLOW_CHUNKS 40
#define SLOW_EVERY_MS 200

enum {
	GREET,
	COUNT,
	HTTP
};

struct conn {
	long counted;  /* count: bytes read */
	char req[512]; /* http: the request so far */
	size_t reqlen;
	int chunks;	/* http /slow: chunks sent, -1 = not streaming */
	long long next; /* ms when the next chunk is due */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int say(int fd, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return write(fd, buf, (size_t)len) == len ? 0 : -1;
}

/* http: a whole request arrived; 1 when the connection is done. */
static int answer(int fd, struct conn *c, const char *name)
{
	if (!strncmp(c->req, "GET /slow", 9)) {
		if (say(fd, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"))
			return 1;
		c->chunks = 0;
		c->next = now_ms();
		return 0;
	}
	say(fd, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s\n",
	    strlen(name) + 1, name);
	return 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
	static struct pollfd pfd[MAX_CONNS + 1];
	static struct conn conns[MAX_CONNS + 1];
	int lfd, one = 1, zero = 0, mode, n = 1;
	const char *name;

	if (argc != 4 ||
	    (strcmp(argv[3], "greet") && strcmp(argv[3], "count") && strcmp(argv[3], "http"))) {
		fprintf(stderr, "usage: xlb-lab-tcp PORT NAME greet|count|http\n");
		return 2;
	}
	mode = !strcmp(argv[3], "greet") ? GREET : !strcmp(argv[3], "count") ? COUNT : HTTP;
	name = argv[2];
	sa.sin6_port = htons((unsigned short)atoi(argv[1]));
	lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 512)) {
		perror("xlb-lab-tcp");
		return 1;
	}
	pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
	for (;;) {
		long long now = now_ms(), wait = -1;

		for (int i = 1; i < n; i++)
			if (conns[i].chunks >= 0 && (wait < 0 || conns[i].next - now < wait))
				wait = conns[i].next > now ? conns[i].next - now : 0;
		if (poll(pfd, (nfds_t)n, (int)wait) < 0 && errno != EINTR)
			return 1;
		now = now_ms();
		for (int i = n - 1; i >= 1; i--) {
			struct conn *c = &conns[i];
			int done = 0;

			if (c->chunks >= 0 && now >= c->next) { /* /slow: the next chunk */
				done = say(pfd[i].fd, "%s chunk %d\n", name, ++c->chunks) ||
				       c->chunks == SLOW_CHUNKS;
				c->next += SLOW_EVERY_MS;
			} else if (pfd[i].revents) {
				char buf[4096];
				ssize_t r = read(pfd[i].fd, buf, sizeof(buf));

				if (r > 0 && mode == COUNT) {
					c->counted += r;
				} else if (r > 0 && mode == HTTP && c->chunks < 0) {
					size_t k = (size_t)r < sizeof(c->req) - 1 - c->reqlen
							   ? (size_t)r
							   : sizeof(c->req) - 1 - c->reqlen;

					memcpy(c->req + c->reqlen, buf, k);
					c->reqlen += k;
					c->req[c->reqlen] = 0;
					if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n") ||
					    c->reqlen == sizeof(c->req) - 1)
						done = answer(pfd[i].fd, c, name);
				} else if (r == 0 && mode == COUNT) {
					say(pfd[i].fd, "%ld\n", c->counted);
					done = 1;
				} else if (r <= 0) {
					done = 1;
				}
			}
			if (!done)
				continue;
			close(pfd[i].fd);
			pfd[i] = pfd[--n];
			conns[i] = conns[n];
		}
		if (pfd[0].revents) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0)
				continue;
			if ((mode != HTTP && say(fd, "%s\n", name)) || mode == GREET ||
			    n > MAX_CONNS) {
				close(fd);
				continue;
			}
			pfd[n] = (struct pollfd){.fd = fd, .events = POLLIN};
			conns[n++] = (struct conn){.chunks = -1};
		}
	}
}
