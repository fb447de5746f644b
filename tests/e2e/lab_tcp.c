// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-lab-tcp: a one-process TCP server for the end-to-end lab. Listens on
 * [::]:PORT (IPv4 too) and greets every connection with "NAME\n"; then
 *  - greet: closes;
 *  - count: reads to the client's end of stream and answers the number of
 *    bytes it read ("220\n"), then closes.
 *
 *   xlb-lab-tcp PORT NAME greet|count
 *
 * Why not socat: its forking server, hit by connections that are reset at
 * once (what a tcp health check does, to spare TIME_WAIT), now and then
 * closes an unrelated client's connection without a word (measured on
 * loopback: 4 of 500 connections with 100 resets a second).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 1024

int main(int argc, char **argv)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
	static struct pollfd pfd[MAX_CONNS + 1];
	static long counted[MAX_CONNS + 1];
	int lfd, one = 1, zero = 0, count, n = 1;
	char greeting[128];

	if (argc != 4 || (strcmp(argv[3], "greet") && strcmp(argv[3], "count"))) {
		fprintf(stderr, "usage: xlb-lab-tcp PORT NAME greet|count\n");
		return 2;
	}
	count = !strcmp(argv[3], "count");
	snprintf(greeting, sizeof(greeting), "%s\n", argv[2]);
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
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			return 1;
		for (int i = n - 1; i >= 1; i--) {
			char buf[4096];
			ssize_t r;

			if (!pfd[i].revents)
				continue;
			r = read(pfd[i].fd, buf, sizeof(buf));
			if (r > 0) {
				counted[i] += r;
				continue;
			}
			if (r == 0) { /* the client is done: the count, then close */
				int len = snprintf(buf, sizeof(buf), "%ld\n", counted[i]);

				if (write(pfd[i].fd, buf, (size_t)len) < 0)
					perror("xlb-lab-tcp: write");
			}
			close(pfd[i].fd);
			pfd[i] = pfd[--n];
			counted[i] = counted[n];
		}
		if (pfd[0].revents) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0)
				continue;
			if (write(fd, greeting, strlen(greeting)) < 0 || !count || n > MAX_CONNS) {
				close(fd);
				continue;
			}
			pfd[n] = (struct pollfd){.fd = fd, .events = POLLIN};
			counted[n++] = 0;
		}
	}
}
