// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * systemd's side of sd_notify for the e2e cases (no systemd runs as PID 1
 * here): a unix datagram socket at PATH (NOTIFY_SOCKET for xlbd). Each
 * message is one line on stdout, "<ms since start> FIELD=... FIELD=...";
 * at the first READY=1, CMD (if given) runs at once and "on-ready rc=N"
 * says how it went (e.g. whether the program was attached by then).
 *
 *   xlb-lab-notify PATH [CMD]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	long long t0 = now_ms();
	int fd, ready = 0;
	char buf[4096];

	if (argc < 2 || argc > 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: xlb-lab-notify PATH [CMD]\n");
		return 2;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]));
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("xlb-lab-notify: socket");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("xlb-lab-notify: recv");
			return 1;
		}
		buf[n] = '\0';
		for (char *p = buf; *p; p++)
			if (*p == '\n')
				*p = ' ';
		printf("%lld %s\n", now_ms() - t0, buf);
		if (!ready && argc == 3 && strstr(buf, "READY=1")) {
			int st = system(argv[2]);

			ready = 1;
			printf("on-ready rc=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		}
		fflush(stdout);
	}
}
