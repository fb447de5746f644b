// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-loop-probe: how long xlbd's event loop keeps a control client
 * waiting. Every INTERVAL ms for SECONDS s it connects to the control
 * socket, sends the cheapest request there is (an unknown verb: refused at
 * once) and times connect-to-reply. A reply can only be late by the turn
 * the loop is in when the request arrives, so the slowest reply bounds the
 * loop's longest turn from below (to within INTERVAL). Prints one line:
 *   probes N max_ms X p99_ms Y p50_ms Z
 * Figures only (tools/bench/loop.sh).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One request: its latency in ms, or -1. */
static double probe(const char *path)
{
	static const char req[] = "{\"verb\":\"probe\"}\n";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	double t0 = now_ms();
	char buf[512];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (memchr(buf, '\n', (size_t)n))
			break;
	close(fd);
	return n > 0 ? now_ms() - t0 : -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double secs, interval_ms, end, *lat;
	size_t n = 0, cap;

	if (argc < 3) {
		fprintf(stderr, "usage: xlb-loop-probe SOCKET SECONDS [INTERVAL_MS]\n");
		return 2;
	}
	secs = atof(argv[2]);
	interval_ms = argc > 3 ? atof(argv[3]) : 5;
	cap = (size_t)(secs * 1000 / (interval_ms > 0.1 ? interval_ms : 0.1)) + 16;
	lat = calloc(cap, sizeof(*lat));
	if (!lat)
		return 1;
	end = now_ms() + secs * 1000;
	while (now_ms() < end && n < cap) {
		double t0 = now_ms(), l = probe(argv[1]);
		struct timespec d;

		if (l >= 0)
			lat[n++] = l;
		l = interval_ms - (now_ms() - t0);
		if (l > 0) {
			d.tv_sec = (time_t)(l / 1000);
			d.tv_nsec = (long)((l - (double)d.tv_sec * 1000) * 1e6);
			nanosleep(&d, NULL);
		}
	}
	if (!n) {
		printf("probes 0 max_ms - p99_ms - p50_ms -\n");
		free(lat);
		return 1;
	}
	qsort(lat, n, sizeof(*lat), cmp);
	printf("probes %zu max_ms %.1f p99_ms %.1f p50_ms %.2f\n", n, lat[n - 1],
	       lat[(size_t)((double)(n - 1) * 0.99)], lat[n / 2]);
	free(lat);
	return 0;
}
