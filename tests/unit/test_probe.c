// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Health-check probes (user/common/probe.c) against real servers on
 * loopback: listening sockets, an HTTP and a UDP server thread, openssl
 * s_server for https, /bin/sh for exec. Every case drives the prober
 * through its fd, with a deadline, as the agent's loop does.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "exec_child.h"
#include "probe.h"
#include "test_unit.h"
#include "xlb_dp.h"

#define SLACK_MS 1500 /* late by at most this (valgrind is slow) */
#define MAXOUT 256

extern char **environ;

/* One probe's outcome; its address is the probe's tag. */
struct out {
	int got; /* callbacks */
	struct xlb_probe_result r;
	__u64 at_us;
	unsigned int seq;
};

struct server {
	int fd, stop[2];
	int udp;
	const char *reply; /* http: the response; udp: NULL echoes */
	char req[2048];	   /* http: the last request head */
	pthread_t th;
};

static struct {
	struct xlb_prober *p;
	struct out o[MAXOUT];
	int in_start, calls_in_start;
	unsigned int calls;
	struct server srv[4];
	int nsrv;
	int fds[8];
	int nfds;
	pid_t child; /* openssl s_server */
	char dir[64];
} F;

static __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}

static void on_done(void *ctx, void *tag, const struct xlb_probe_result *r)
{
	struct out *o = tag;

	(void)ctx;
	F.calls_in_start += F.in_start;
	o->got++;
	o->r = *r;
	o->at_us = now_us();
	o->seq = F.calls++;
}

/* ---- Fixture ------------------------------------------------------------ */

static int setup(void)
{
	memset(&F, 0, sizeof(F));
	F.p = xlb_prober_new(on_done, NULL);
	return F.p ? 0 : -1;
}

static void server_stop(struct server *s)
{
	if (write(s->stop[1], "x", 1) == 1)
		pthread_join(s->th, NULL);
	close(s->stop[0]);
	close(s->stop[1]);
	close(s->fd);
}

static void rm_dir(void)
{
	struct dirent *de;
	char path[320];
	DIR *d;

	if (!F.dir[0] || !(d = opendir(F.dir)))
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", F.dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(F.dir);
}

static void teardown(void)
{
	xlb_prober_free(F.p);
	for (int i = 0; i < F.nsrv; i++)
		server_stop(&F.srv[i]);
	for (int i = 0; i < F.nfds; i++)
		close(F.fds[i]);
	if (F.child > 0) {
		kill(F.child, SIGKILL);
		waitpid(F.child, NULL, 0);
	}
	rm_dir();
}

static struct xlb_cfg_check check(int type)
{
	struct xlb_cfg_check c;

	memset(&c, 0, sizeof(c));
	c.type = (__u8)type;
	c.tls_verify = 1;
	return c;
}

static int start(const struct xlb_cfg_check *c, __u32 timeout_ms, const char *addr, __u16 port,
		 struct out *o)
{
	union xlb_addr a;
	int fam = xlb_addr_parse(addr, &a), rc;

	if (fam < 0)
		return fam;
	F.in_start = 1;
	rc = xlb_prober_start(F.p, c, timeout_ms, &a, (__u8)fam, port, o);
	F.in_start = 0;
	return rc;
}

/* Run the prober until o[0..n) all have an outcome (0), or ms pass (-1). */
static int drive(struct out *o, int n, int ms)
{
	__u64 end = now_us() + (__u64)ms * 1000;

	for (;;) {
		struct pollfd pfd = {.fd = xlb_prober_fd(F.p), .events = POLLIN};
		__u64 now = now_us();
		int all = 1;

		for (int i = 0; i < n; i++)
			all &= o[i].got > 0;
		if (all && n)
			return 0;
		if (now >= end)
			return -1;
		poll(&pfd, 1, (int)((end - now) / 1000) + 1);
		xlb_prober_run(F.p);
	}
}

#define ASSERT_OUTCOME(o, want_ok, want_reason)                                                    \
	do {                                                                                       \
		if ((o).got != 1 || (o).r.ok != (want_ok) ||                                       \
		    strcmp((o).r.reason, (want_reason)) || F.calls_in_start) {                     \
			harness_fail(__FILE__, __LINE__,                                           \
				     "%s: %d callback(s) (%d from start), ok=%d \"%s\"; "          \
				     "want one, ok=%d \"%s\"",                                     \
				     #o, (o).got, F.calls_in_start, (o).r.ok, (o).r.reason,        \
				     (want_ok), (want_reason));                                    \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

/* ---- Servers ------------------------------------------------------------ */

static socklen_t sockaddr_of(const char *addr, __u16 port, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	inet_pton(AF_INET6, addr, &sin6->sin6_addr);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	return sizeof(*sin6);
}

/* A socket bound to addr, port chosen by the kernel; listening when asked.
 * Closed by teardown unless keep is 0 (then the caller closes it). */
static int bound(const char *addr, int type, int do_listen, __u16 *port, int keep)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(addr, 0, &ss);
	int fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) || (do_listen && listen(fd, 64)) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port); /* same offset in sin6 */
	if (keep && F.nfds < 8)
		F.fds[F.nfds++] = fd;
	return fd;
}

/* A port nothing listens on (tcp: bound, not listening, kept; udp: closed). */
static __u16 closed_port(const char *addr, int type)
{
	__u16 port = 0;
	int fd = bound(addr, type, 0, &port, type == SOCK_STREAM);

	if (fd >= 0 && type != SOCK_STREAM)
		close(fd);
	return port;
}

static void http_serve(struct server *s)
{
	struct timeval tv = {.tv_sec = 2};
	int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
	size_t n = 0;

	if (c < 0)
		return;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (n < sizeof(s->req) - 1) {
		ssize_t k = recv(c, s->req + n, sizeof(s->req) - 1 - n, 0);

		if (k <= 0)
			break;
		n += (size_t)k;
		s->req[n] = '\0';
		if (strstr(s->req, "\r\n\r\n"))
			break;
	}
	send(c, s->reply, strlen(s->reply), MSG_NOSIGNAL);
	close(c);
}

static void udp_serve(struct server *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char buf[512];
	ssize_t k = recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &len);

	if (k < 0)
		return;
	if (s->reply)
		sendto(s->fd, s->reply, strlen(s->reply), 0, (struct sockaddr *)&ss, len);
	else
		sendto(s->fd, buf, (size_t)k, 0, (struct sockaddr *)&ss, len);
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	for (;;) {
		struct pollfd pf[2] = {{.fd = s->fd, .events = POLLIN},
				       {.fd = s->stop[0], .events = POLLIN}};

		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents)
			break;
		if (!(pf[0].revents & POLLIN))
			continue;
		if (s->udp)
			udp_serve(s);
		else
			http_serve(s);
	}
	return NULL;
}

/* An HTTP (one canned response per connection) or UDP server thread. */
static struct server *server_start(const char *addr, int udp, const char *reply, __u16 *port)
{
	struct server *s = &F.srv[F.nsrv];

	if (F.nsrv == 4)
		return NULL;
	s->udp = udp;
	s->reply = reply;
	s->fd = bound(addr, udp ? SOCK_DGRAM : SOCK_STREAM, !udp, port, 0);
	if (s->fd < 0)
		return NULL;
	if (pipe2(s->stop, O_CLOEXEC)) {
		close(s->fd);
		return NULL;
	}
	if (pthread_create(&s->th, NULL, server_main, s)) {
		close(s->fd);
		close(s->stop[0]);
		close(s->stop[1]);
		return NULL;
	}
	F.nsrv++;
	return s;
}

/* Run argv (from PATH) with stdio on /dev/null: its exit status, or -1.
 * With bg, leave it running and return its pid there. */
static int run(char *const argv[], pid_t *bg)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc, st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return -1;
	if (bg) {
		*bg = pid;
		return 0;
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int make_dir(void)
{
	snprintf(F.dir, sizeof(F.dir), "/tmp/xlb-probe-XXXXXX");
	if (!mkdtemp(F.dir)) {
		F.dir[0] = '\0';
		return -1;
	}
	return chmod(F.dir, 0777); /* exec checks write here as nobody */
}

/*
 * openssl s_server with a fresh self-signed certificate for CN=localhost,
 * on 127.0.0.1: 0 and its port, 1 when openssl is missing, -1 on failure.
 */
static int https_server(__u16 *port)
{
	char key[128], crt[128], accept[32];
	char *req[] = {"openssl", "req",   "-x509",	    "-newkey", "rsa:2048",
		       "-nodes",  "-subj", "/CN=localhost", "-days",   "1",
		       "-keyout", key,	   "-out",	    crt,       NULL};
	char *srv[] = {"openssl", "s_server", "-accept", accept,   "-cert", crt,
		       "-key",	  key,	      "-www",	 "-quiet", NULL};
	char *version[] = {"openssl", "version", NULL};
	__u64 end;
	int fd;

	if (run(version, NULL) != 0) {
		printf("    openssl not found: https case skipped (make deps installs it)\n");
		return 1;
	}
	if (make_dir())
		return -1;
	snprintf(key, sizeof(key), "%s/key.pem", F.dir);
	snprintf(crt, sizeof(crt), "%s/cert.pem", F.dir);
	if (run(req, NULL) != 0)
		return -1;
	fd = bound("127.0.0.1", SOCK_STREAM, 0, port, 0); /* a free port for s_server */
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(accept, sizeof(accept), "127.0.0.1:%u", *port);
	if (run(srv, &F.child))
		return -1;
	for (end = now_us() + 10000000; now_us() < end; usleep(20000)) {
		struct sockaddr_storage ss;
		socklen_t len = sockaddr_of("127.0.0.1", *port, &ss);
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

		ok = s >= 0 && !connect(s, (struct sockaddr *)&ss, len);
		if (s >= 0)
			close(s);
		if (ok)
			return 0;
	}
	return -1;
}

/* 0: gone (or a zombie of someone else's), else its state letter. */
static char proc_state(long pid)
{
	char path[64], buf[256], *s;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	s = fgets(buf, sizeof(buf), f);
	fclose(f);
	s = s ? strrchr(buf, ')') : NULL;
	return s && s[1] == ' ' && s[2] != 'Z' ? s[2] : 0;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* ---- tcp ---------------------------------------------------------------- */

static int t_probe_tcp_ok_and_refused(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_TCP);
	__u16 up, down = closed_port("127.0.0.1", SOCK_STREAM);

	ASSERT_TRUE(bound("127.0.0.1", SOCK_STREAM, 1, &up, 1) >= 0, "listening socket");
	ASSERT_OK(start(&c, 1000, "127.0.0.1", up, &F.o[0]), "start tcp to a listener");
	ASSERT_OK(start(&c, 1000, "127.0.0.1", down, &F.o[1]), "start tcp to a closed port");
	ASSERT_EQ(F.calls, 0, "no callback from start");
	ASSERT_OK(drive(F.o, 2, 1000 + SLACK_MS), "both outcomes");
	ASSERT_OUTCOME(F.o[0], 1, "ok");
	ASSERT_OUTCOME(F.o[1], 0, "refused");
	ASSERT_TRUE(F.o[0].r.duration_us < 1000000, "connected well within the timeout");
	return 0;
}

static int t_probe_tcp_ipv6(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_TCP);
	__u16 up;

	if (bound("::1", SOCK_STREAM, 1, &up, 1) < 0) {
		printf("    no ::1 here: skipped\n");
		return 0;
	}
	ASSERT_OK(start(&c, 1000, "::1", up, &F.o[0]), "start");
	ASSERT_OK(drive(F.o, 1, 1000 + SLACK_MS), "outcome");
	ASSERT_OUTCOME(F.o[0], 1, "ok");
	return 0;
}

/* ---- http and https ----------------------------------------------------- */

#define HTTP_OK "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nhealthy"
#define HTTP_500                                                                                   \
	"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

static int t_probe_http_ok_with_host_path_and_body(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_HTTP);
	struct server *s;
	char want[64];
	__u16 port;

	s = server_start("127.0.0.1", 0, HTTP_OK, &port);
	ASSERT_TRUE(s, "http server");
	strcpy(c.path, "/healthz");
	strcpy(c.host, "health.example");
	strcpy(c.body, "health");
	ASSERT_OK(start(&c, 2000, "127.0.0.1", port, &F.o[0]), "start");
	ASSERT_OK(drive(F.o, 1, 2000 + SLACK_MS), "outcome");
	ASSERT_OUTCOME(F.o[0], 1, "ok");
	ASSERT_TRUE(!strncmp(s->req, "GET /healthz HTTP/1.1\r\n", 23), "request line");
	snprintf(want, sizeof(want), "\r\nHost: health.example:%u\r\n", port);
	ASSERT_TRUE(strstr(s->req, want), "Host: the configured name (connected to the address)");
	ASSERT_TRUE(strstr(s->req, "\r\nUser-Agent: xlb-health-check\r\n"), "user agent");
	return 0;
}

static int t_probe_http_ipv6_default_path(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_HTTP);
	struct server *s;
	char want[64];
	__u16 port;

	s = server_start("::1", 0, HTTP_OK, &port);
	if (!s) {
		printf("    no ::1 here: skipped\n");
		return 0;
	}
	ASSERT_OK(start(&c, 2000, "::1", port, &F.o[0]), "start");
	ASSERT_OK(drive(F.o, 1, 2000 + SLACK_MS), "outcome");
	ASSERT_OUTCOME(F.o[0], 1, "ok");
	ASSERT_TRUE(!strncmp(s->req, "GET / HTTP/1.1\r\n", 16), "path defaults to /");
	snprintf(want, sizeof(want), "\r\nHost: [::1]:%u\r\n", port);
	ASSERT_TRUE(strstr(s->req, want), "Host: the address in brackets");
	return 0;
}

static int t_probe_http_bad_status_and_ranges(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_HTTP);
	__u16 port;

	ASSERT_TRUE(server_start("127.0.0.1", 0, HTTP_500, &port), "http server");
	ASSERT_OK(start(&c, 2000, "127.0.0.1", port, &F.o[0]), "start (200-399)");
	ASSERT_OK(drive(F.o, 1, 2000 + SLACK_MS), "outcome");
	ASSERT_OUTCOME(F.o[0], 0, "bad status 500");
	ASSERT_OK(xlb_parse_status_ranges("200,500-503", &c), "ranges");
	ASSERT_OK(start(&c, 2000, "127.0.0.1", port, &F.o[1]), "start (200,500-503)");
	ASSERT_OK(drive(F.o + 1, 1, 2000 + SLACK_MS), "outcome");
	ASSERT_OUTCOME(F.o[1], 1, "ok");
	return 0;
}

static int t_probe_http_body_mismatch_and_refused(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_HTTP);
	__u16 port, down = closed_port("127.0.0.1", SOCK_STREAM);

	ASSERT_TRUE(server_start("127.0.0.1", 0, HTTP_OK, &port), "http server");
	strcpy(c.body, "ready");
	ASSERT_OK(start(&c, 2000, "127.0.0.1", port, &F.o[0]), "start");
	ASSERT_OK(start(&c, 2000, "127.0.0.1", down, &F.o[1]), "start to a closed port");
	ASSERT_OK(drive(F.o, 2, 2000 + SLACK_MS), "outcomes");
	ASSERT_OUTCOME(F.o[0], 0, "body mismatch");
	ASSERT_OUTCOME(F.o[1], 0, "refused");
	return 0;
}

/* A server that never answers costs its own timeout, nothing else. */
static int t_probe_http_hanging_server_times_out_alone(void)
{
	struct xlb_cfg_check http = check(XLB_CHECK_HTTP), tcp = check(XLB_CHECK_TCP);
	__u16 hang, good;

	/* Never accepted: the kernel completes the handshake, nobody answers. */
	ASSERT_TRUE(bound("127.0.0.1", SOCK_STREAM, 1, &hang, 1) >= 0, "hanging listener");
	ASSERT_TRUE(bound("127.0.0.1", SOCK_STREAM, 1, &good, 1) >= 0, "good listener");
	ASSERT_OK(start(&http, 500, "127.0.0.1", hang, &F.o[0]), "start http");
	ASSERT_OK(start(&tcp, 5000, "127.0.0.1", good, &F.o[1]), "start tcp");
	ASSERT_OK(drive(F.o, 2, 500 + SLACK_MS), "both outcomes");
	ASSERT_OUTCOME(F.o[0], 0, "timeout");
	ASSERT_OUTCOME(F.o[1], 1, "ok");
	ASSERT_TRUE(F.o[1].at_us < F.o[0].at_us, "tcp done while http hung");
	ASSERT_TRUE(F.o[1].r.duration_us < 500000, "tcp not held up");
	ASSERT_TRUE(F.o[0].r.duration_us >= 500000, "not before the timeout");
	ASSERT_TRUE(F.o[0].r.duration_us < (500 + SLACK_MS) * 1000, "soon after it");
	return 0;
}

static int t_probe_https_self_signed_verify_fails(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_HTTPS);
	__u16 port;
	int rc = https_server(&port);

	if (rc > 0)
		return 0;
	ASSERT_OK(rc, "openssl s_server with a self-signed certificate");
	strcpy(c.host, "localhost"); /* the name matches: only the issuer is wrong */
	ASSERT_OK(start(&c, 3000, "127.0.0.1", port, &F.o[0]), "start");
	ASSERT_OK(drive(F.o, 1, 3000 + SLACK_MS), "outcome");
	ASSERT_OUTCOME(F.o[0], 0, "TLS error");
	return 0;
}

static int t_probe_https_self_signed_no_verify_ok(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_HTTPS);
	__u16 port;
	int rc = https_server(&port);

	if (rc > 0)
		return 0;
	ASSERT_OK(rc, "openssl s_server with a self-signed certificate");
	c.tls_verify = 0;
	ASSERT_OK(start(&c, 3000, "127.0.0.1", port, &F.o[0]), "start");
	ASSERT_OK(drive(F.o, 1, 3000 + SLACK_MS), "outcome");
	ASSERT_OUTCOME(F.o[0], 1, "ok");
	return 0;
}

/* ---- udp ---------------------------------------------------------------- */

static int t_probe_udp_echo_mismatch_refused(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_UDP), bad = check(XLB_CHECK_UDP);
	__u16 echo, down = closed_port("127.0.0.1", SOCK_DGRAM);

	ASSERT_TRUE(server_start("127.0.0.1", 1, NULL, &echo), "udp echo server");
	strcpy(c.send, "ping");
	strcpy(c.expect, "ping");
	strcpy(bad.send, "ping");
	strcpy(bad.expect, "pong");
	ASSERT_OK(start(&c, 1000, "127.0.0.1", echo, &F.o[0]), "start echo");
	ASSERT_OK(start(&bad, 1000, "127.0.0.1", echo, &F.o[1]), "start mismatch");
	ASSERT_OK(start(&c, 1000, "127.0.0.1", down, &F.o[2]), "start to a closed port");
	ASSERT_OK(drive(F.o, 3, 1000 + SLACK_MS), "outcomes");
	ASSERT_OUTCOME(F.o[0], 1, "ok");
	ASSERT_OUTCOME(F.o[1], 0, "reply mismatch");
	ASSERT_OUTCOME(F.o[2], 0, "refused");
	return 0;
}

/* ---- through the VIP (via: vip) ----------------------------------------- */

static struct {
	struct xlb_check_key k[8];
	__u32 id[8];
	int add[8], n, ret;
} R;

static int record_route(void *ctx, const struct xlb_check_key *k, __u32 id, int add)
{
	(void)ctx;
	if (add && R.ret)
		return R.ret;
	if (R.n < 8) {
		R.k[R.n] = *k;
		R.id[R.n] = id;
		R.add[R.n] = add;
	}
	R.n++;
	return 0;
}

/* One probe through the VIP: its socket recorded before it connects, with
 * what its packets carry, and forgotten before it closes. */
static int via_one(const struct xlb_cfg_check *c, __u16 port, __u8 proto)
{
	struct xlb_probe_via via = {.ifindex = (int)if_nametoindex("lo"), .backend_id = 42};
	union xlb_addr a;
	int fam = xlb_addr_parse("127.0.0.1", &a);

	memset(&R, 0, sizeof(R));
	memset(F.o, 0, sizeof(F.o));
	ASSERT_TRUE(via.ifindex > 0, "lo");
	xlb_prober_set_route(F.p, record_route, NULL);
	ASSERT_OK(xlb_prober_start_via(F.p, c, 2000, &a, (__u8)fam, port, &F.o[0], &via), "start");
	ASSERT_OK(drive(F.o, 1, 2000 + SLACK_MS), "outcome");
	ASSERT_OUTCOME(F.o[0], 1, "ok");
	ASSERT_EQ(R.n, 2, "recorded once, forgotten once");
	ASSERT_TRUE(R.add[0] && !R.add[1], "recorded, then forgotten");
	ASSERT_TRUE(!memcmp(&R.k[0], &R.k[1], sizeof(R.k[0])), "the same key");
	ASSERT_EQ(R.id[0], 42, "the backend's id");
	ASSERT_TRUE(!memcmp(&R.k[0].vip, &a, sizeof(a)), "the destination");
	ASSERT_EQ(ntohs(R.k[0].vport), port, "the check port");
	ASSERT_EQ(R.k[0].proto, proto, "the protocol");
	ASSERT_TRUE(R.k[0].sport != 0, "the socket's own local port");
	return 0;
}

static int t_probe_via_records_each_socket(void)
{
	struct xlb_cfg_check tcp = check(XLB_CHECK_TCP), http = check(XLB_CHECK_HTTP),
			     udp = check(XLB_CHECK_UDP);
	struct xlb_probe_via via = {.ifindex = (int)if_nametoindex("lo"), .backend_id = 42};
	union xlb_addr a;
	__u16 up, web, echo;

	ASSERT_TRUE(bound("127.0.0.1", SOCK_STREAM, 1, &up, 1) >= 0, "listening socket");
	ASSERT_TRUE(server_start("127.0.0.1", 0, HTTP_OK, &web), "http server");
	ASSERT_TRUE(server_start("127.0.0.1", 1, NULL, &echo), "udp echo server");
	strcpy(udp.send, "ping");
	ASSERT_OK(via_one(&tcp, up, IPPROTO_TCP), "tcp");
	ASSERT_OK(via_one(&http, web, IPPROTO_TCP), "http");
	ASSERT_OK(via_one(&udp, echo, IPPROTO_UDP), "udp");
	/* a route function that refuses fails the probe; nothing to forget */
	memset(&R, 0, sizeof(R));
	memset(F.o, 0, sizeof(F.o));
	R.ret = -EPERM;
	xlb_addr_parse("127.0.0.1", &a);
	ASSERT_OK(xlb_prober_start_via(F.p, &tcp, 1000, &a, XLB_AF_INET, up, &F.o[0], &via),
		  "start");
	ASSERT_OK(drive(F.o, 1, 1000 + SLACK_MS), "outcome");
	ASSERT_OUTCOME(F.o[0], 0, "via vip: couldn't record the probe: Operation not permitted");
	ASSERT_EQ(R.n, 0, "nothing recorded, nothing forgotten");
	return 0;
}

/* Many probes, deadlines in shuffled order: each times out in its turn. */
static int t_probe_many_deadlines_in_order(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_UDP);
	__u64 lo[200], hi[200]; /* each deadline lies between these */
	__u32 tmo;
	__u16 silent;
	int n = 200;

	ASSERT_TRUE(bound("127.0.0.1", SOCK_DGRAM, 0, &silent, 1) >= 0, "silent udp socket");
	for (int i = 0; i < n; i++) {
		tmo = 50 + 2 * (__u32)((i * 73) % n); /* a permutation of 50..448 ms */
		lo[i] = now_us() + tmo * 1000;
		ASSERT_OK(start(&c, tmo, "127.0.0.1", silent, &F.o[i]), "start");
		hi[i] = now_us() + tmo * 1000;
	}
	ASSERT_EQ(xlb_prober_running(F.p), n, "all running");
	ASSERT_OK(drive(F.o, n, 450 + SLACK_MS), "all outcomes");
	for (int i = 0; i < n; i++) {
		ASSERT_OUTCOME(F.o[i], 0, "timeout");
		ASSERT_TRUE(F.o[i].at_us >= lo[i], "not before its deadline");
		for (int j = 0; j < n; j++)
			ASSERT_TRUE(hi[i] >= lo[j] || F.o[i].seq < F.o[j].seq,
				    "an earlier deadline is reported first");
	}
	ASSERT_EQ(xlb_prober_running(F.p), 0, "none left");
	return 0;
}

/* ---- exec --------------------------------------------------------------- */

static int t_probe_exec_exit_codes(void)
{
	struct xlb_cfg_check ok = check(XLB_CHECK_EXEC), three = check(XLB_CHECK_EXEC);
	struct xlb_cfg_check sig = check(XLB_CHECK_EXEC), missing = check(XLB_CHECK_EXEC);
	struct xlb_cfg_check sh_missing = check(XLB_CHECK_EXEC);

	strcpy(ok.command, "true");
	strcpy(three.command, "exit 3");
	strcpy(sig.command, "kill -TERM $$");
	strcpy(missing.command, "/nonexistent/check");
	strcpy(sh_missing.command, "/nonexistent/check");
	three.shell = sig.shell = sh_missing.shell = 1;
	ASSERT_OK(start(&ok, 2000, "127.0.0.1", 80, &F.o[0]), "start true");
	ASSERT_OK(start(&three, 2000, "127.0.0.1", 80, &F.o[1]), "start exit 3");
	ASSERT_OK(start(&sig, 2000, "127.0.0.1", 80, &F.o[2]), "start kill");
	ASSERT_OK(start(&missing, 2000, "127.0.0.1", 80, &F.o[3]), "start missing");
	ASSERT_OK(start(&sh_missing, 2000, "127.0.0.1", 80, &F.o[4]), "start missing, shell");
	ASSERT_OK(drive(F.o, 5, 2000 + SLACK_MS), "outcomes");
	ASSERT_OUTCOME(F.o[0], 1, "ok");
	ASSERT_OUTCOME(F.o[1], 0, "exit code 3");
	ASSERT_OUTCOME(F.o[2], 0, "killed by signal 15");
	/* Without a shell, a program that cannot run is said so. */
	ASSERT_OUTCOME(F.o[3], 0, "couldn't run '/nonexistent/check': No such file or directory");
	ASSERT_OUTCOME(F.o[4], 0, "exit code 127");
	return 0;
}

/* The whole of /proc/PID/name, NULs and all (at most len - 1 bytes). */
static ssize_t proc_file(long pid, const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* Our child running comm, or 0. */
static long child_named(const char *comm)
{
	char buf[512], want[64];
	struct dirent *d;
	long found = 0;
	DIR *dir = opendir("/proc");

	snprintf(want, sizeof(want), "(%s) ", comm);
	while (dir && !found && (d = readdir(dir))) {
		long pid = atol(d->d_name), ppid = 0;
		char *p;

		if (pid <= 0 || proc_file(pid, "stat", buf, sizeof(buf)) <= 0)
			continue;
		p = strstr(buf, want);
		if (p && sscanf(p + strlen(want), "%*c %ld", &ppid) == 1 && ppid == getpid())
			found = pid;
	}
	if (dir)
		closedir(dir);
	return found;
}

/* The command runs as nobody, without capabilities, with no_new_privs,
 * the environment PATH and our two variables only, and fds 0-2 on
 * /dev/null only: not an fd of the agent's (one left inheritable here),
 * not a variable of its environment. Looked at from outside, in /proc. */
static int t_probe_exec_sandbox(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_EXEC);
	static const char want_env[] = "PATH=" XLB_EXEC_PATH "\0XLB_BACKEND_ADDR=127.0.0.1\0"
				       "XLB_BACKEND_PORT=1234";
	char buf[4096], uid[64], path[64];
	struct passwd *pw = getpwnam("nobody");
	int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: inheritable */
	struct dirent *d;
	ssize_t n;
	long pid;
	DIR *dir;
	int nfds = 0;

	ASSERT_TRUE(pw && pw->pw_uid, "a user nobody");
	ASSERT_TRUE(leak > 2, "an inheritable fd");
	setenv("XLB_PROBE_TEST", "inherited", 1);
	strcpy(c.command, "sleep 7");
	ASSERT_OK(start(&c, 3000, "127.0.0.1", 1234, &F.o[0]), "start");
	unsetenv("XLB_PROBE_TEST");
	close(leak);
	pid = child_named("sleep");
	ASSERT_TRUE(pid > 0, "the check runs");
	ASSERT_TRUE(proc_file(pid, "status", buf, sizeof(buf)) > 0, "its status");
	snprintf(uid, sizeof(uid), "\nUid:\t%u\t%u\t%u\t%u\n", pw->pw_uid, pw->pw_uid, pw->pw_uid,
		 pw->pw_uid);
	ASSERT_TRUE(strstr(buf, uid), "every uid is nobody's");
	snprintf(uid, sizeof(uid), "\nGid:\t%u\t%u\t%u\t%u\n", pw->pw_gid, pw->pw_gid, pw->pw_gid,
		 pw->pw_gid);
	ASSERT_TRUE(strstr(buf, uid), "every gid is nobody's");
	ASSERT_TRUE(strstr(buf, "\nGroups:\t\n") || strstr(buf, "\nGroups:\t \n"),
		    "no supplementary groups");
	ASSERT_TRUE(strstr(buf, "\nCapEff:\t0000000000000000\n"), "no effective capability");
	ASSERT_TRUE(strstr(buf, "\nCapPrm:\t0000000000000000\n"), "no permitted capability");
	ASSERT_TRUE(strstr(buf, "\nCapAmb:\t0000000000000000\n"), "no ambient capability");
	ASSERT_TRUE(strstr(buf, "\nNoNewPrivs:\t1\n"), "no_new_privs");
	n = proc_file(pid, "environ", buf, sizeof(buf));
	ASSERT_MEM(buf, (size_t)(n > 0 ? n : 0), want_env, sizeof(want_env),
		   "environment: PATH and the backend only");
	/* sleep itself opens the locale archive for a moment while it starts
	 * (setlocale): an fd inherited from us would stay, so look again for
	 * up to a second before calling it one. */
	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	for (int tries = 0; tries < 20 && nfds != 3; tries++) {
		if (tries)
			usleep(50000);
		nfds = 0;
		dir = opendir(path);
		ASSERT_TRUE(dir, "its fds");
		while ((d = readdir(dir))) {
			char link[320], target[64];

			if (d->d_name[0] == '.')
				continue;
			nfds++;
			snprintf(link, sizeof(link), "%s/%s", path, d->d_name);
			n = readlink(link, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = '\0';
			if (atoi(d->d_name) > 2 || strcmp(target, "/dev/null")) {
				nfds = -1;
				break;
			}
		}
		closedir(dir);
	}
	ASSERT_EQ(nfds, 3, "fds 0, 1, 2 only, on /dev/null");
	xlb_prober_cancel(F.p, &F.o[0]);
	return 0;
}

/* Without shell: words split on blanks, nothing expanded or interpreted. */
static int t_probe_exec_no_shell_expansion(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_EXEC), sh = check(XLB_CHECK_EXEC);
	char path[160];

	ASSERT_OK(make_dir(), "temporary directory");
	snprintf(c.command, sizeof(c.command), "touch %s/a$HOME %s/'q' %s/b;c", F.dir, F.dir,
		 F.dir);
	snprintf(sh.command, sizeof(sh.command), "touch %s/s$XLB_BACKEND_PORT", F.dir);
	sh.shell = 1;
	ASSERT_OK(start(&c, 2000, "127.0.0.1", 80, &F.o[0]), "start");
	ASSERT_OK(start(&sh, 2000, "127.0.0.1", 80, &F.o[1]), "start shell");
	ASSERT_OK(drive(F.o, 2, 2000 + SLACK_MS), "outcomes");
	ASSERT_OUTCOME(F.o[0], 1, "ok");
	ASSERT_OUTCOME(F.o[1], 1, "ok");
	snprintf(path, sizeof(path), "%s/a$HOME", F.dir);
	ASSERT_OK(access(path, F_OK), "$HOME kept as it is");
	snprintf(path, sizeof(path), "%s/'q'", F.dir);
	ASSERT_OK(access(path, F_OK), "quotes kept as they are");
	snprintf(path, sizeof(path), "%s/b;c", F.dir);
	ASSERT_OK(access(path, F_OK), "; is no command separator");
	snprintf(path, sizeof(path), "%s/s80", F.dir);
	ASSERT_OK(access(path, F_OK), "shell: true expands");
	return 0;
}

/* The configuration refuses a command written for a shell unless it asks
 * for one, and shell is only for exec checks. */
static int t_probe_exec_config_shell_rule(void)
{
	static const char head[] =
		"vips:\n  - address: 10.0.0.10\n    port: 80\n    protocol: tcp\n"
		"    check:\n      type: %s\n      command: %s\n%s";
	static const struct {
		const char *type, *command, *extra, *err;
	} cases[] = {
		{"exec", "/bin/true --x=1", "", NULL},
		{"exec", "\"test -f /x && true\"", "", "uses shell syntax ('&')"},
		{"exec", "\"/bin/true | cat\"", "      shell: true\n", NULL},
		{"exec", "\"/bin/true $HOME\"", "      shell: false\n", "add 'shell: true'"},
		{"tcp", "\"\"", "      shell: true\n", "shell is for exec checks"},
	};
	char yaml[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xlb_cfg cfg = {};
		struct xlb_err err = {};
		int rc;

		snprintf(yaml, sizeof(yaml), head, cases[i].type, cases[i].command, cases[i].extra);
		rc = xlb_cfg_load_string("t", yaml, &cfg, &err);
		if (!rc)
			rc = xlb_cfg_validate(&cfg, "t", &err);
		if (!rc && cases[i].extra[0] && cases[i].type[0] == 'e') {
			char *dump = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&dump, &len);

			xlb_cfg_dump(&cfg, f);
			fclose(f);
			ASSERT_TRUE(strstr(dump, "shell: true"), "shell: true is dumped");
			free(dump);
		}
		xlb_cfg_free(&cfg);
		if (cases[i].err) {
			ASSERT_TRUE(rc, cases[i].command);
			ASSERT_TRUE(strstr(err.msg, cases[i].err), err.msg);
		} else {
			ASSERT_OK(rc, err.msg);
		}
	}
	return 0;
}

static int t_probe_exec_timeout_kills_the_group(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_EXEC);
	long sh = 0, bg = 0;
	char path[128];
	__u64 end;
	FILE *f;

	ASSERT_OK(make_dir(), "temporary directory");
	snprintf(path, sizeof(path), "%s/pids", F.dir);
	snprintf(c.command, sizeof(c.command),
		 "cd %s || exit 9; sleep 30 & echo $$ $! > pids.tmp && mv pids.tmp pids; wait",
		 F.dir);
	c.shell = 1;
	ASSERT_OK(start(&c, 1000, "127.0.0.1", 80, &F.o[0]), "start");
	ASSERT_OK(drive(F.o, 1, 1000 + SLACK_MS), "outcome");
	ASSERT_OUTCOME(F.o[0], 0, "timeout");
	ASSERT_TRUE(F.o[0].r.duration_us >= 1000000, "not before the timeout");
	f = fopen(path, "r");
	ASSERT_TRUE(f, "the shell wrote its pids");
	ASSERT_EQ(fscanf(f, "%ld %ld", &sh, &bg), 2, "two pids");
	fclose(f);
	/* SIGKILL is asynchronous: give it a moment, reaping as the agent would. */
	for (end = now_us() + 2000000; now_us() < end && (proc_state(sh) || proc_state(bg));)
		drive(NULL, 0, 20);
	ASSERT_EQ(proc_state(sh), 0, "the shell is killed and reaped");
	ASSERT_EQ(proc_state(bg), 0, "its background job is killed with the group");
	return 0;
}

/* ---- none, cancel, bookkeeping ------------------------------------------ */

static int t_probe_none_reports_from_run(void)
{
	struct xlb_cfg_check c = check(XLB_CHECK_NONE);

	ASSERT_OK(start(&c, 1000, "127.0.0.1", 80, &F.o[0]), "start");
	ASSERT_EQ(F.calls, 0, "not from start");
	ASSERT_EQ(xlb_prober_running(F.p), 1, "running until reported");
	ASSERT_OK(drive(F.o, 1, 1000), "outcome");
	ASSERT_OUTCOME(F.o[0], 1, "ok");
	ASSERT_TRUE(F.o[0].r.duration_us < 1000000, "at once");
	ASSERT_EQ(xlb_prober_running(F.p), 0, "reported: not running");
	return 0;
}

static int t_probe_cancel_means_no_callback(void)
{
	struct xlb_cfg_check none = check(XLB_CHECK_NONE), tcp = check(XLB_CHECK_TCP);
	struct xlb_cfg_check http = check(XLB_CHECK_HTTP), ex = check(XLB_CHECK_EXEC);
	__u16 hang;

	ASSERT_TRUE(bound("127.0.0.1", SOCK_STREAM, 1, &hang, 1) >= 0, "hanging listener");
	strcpy(ex.command, "sleep 30");
	/* Timeouts of 1 s: forking under valgrind on a loaded machine can take
	 * a good part of 300 ms. */
	ASSERT_OK(start(&http, 1000, "127.0.0.1", hang, &F.o[2]), "start http");
	ASSERT_OK(start(&ex, 1000, "127.0.0.1", 80, &F.o[3]), "start exec");
	drive(NULL, 0, 100); /* under way: connected, running */
	/* Finished, or about to, but not reported yet. */
	ASSERT_OK(start(&none, 1000, "127.0.0.1", 80, &F.o[0]), "start none");
	ASSERT_OK(start(&tcp, 1000, "127.0.0.1", hang, &F.o[1]), "start tcp");
	for (int i = 0; i < 4; i++)
		xlb_prober_cancel(F.p, &F.o[i]);
	xlb_prober_cancel(F.p, &F.o[9]); /* not running: nothing happens */
	ASSERT_EQ(xlb_prober_running(F.p), 0, "nothing running");
	ASSERT_EQ(drive(F.o, 4, 1000 + 500), -1, "past every timeout");
	ASSERT_EQ(F.calls, 0, "no callback");
	ASSERT_OK(start(&none, 300, "127.0.0.1", 80, &F.o[0]), "the tag is free again");
	ASSERT_OK(drive(F.o, 1, 1000), "outcome");
	ASSERT_OUTCOME(F.o[0], 1, "ok");
	return 0;
}

static int t_probe_running_count_and_busy_tag(void)
{
	struct xlb_cfg_check none = check(XLB_CHECK_NONE), tcp = check(XLB_CHECK_TCP);
	struct xlb_cfg_check ex = check(XLB_CHECK_EXEC);
	__u16 up;

	ASSERT_TRUE(bound("127.0.0.1", SOCK_STREAM, 1, &up, 1) >= 0, "listener");
	strcpy(ex.command, "true");
	ASSERT_EQ(xlb_prober_running(F.p), 0, "idle");
	ASSERT_OK(start(&none, 1000, "127.0.0.1", 80, &F.o[0]), "start none");
	ASSERT_OK(start(&tcp, 1000, "127.0.0.1", up, &F.o[1]), "start tcp");
	ASSERT_OK(start(&ex, 1000, "127.0.0.1", 80, &F.o[2]), "start exec");
	ASSERT_EQ(xlb_prober_running(F.p), 3, "three running");
	ASSERT_EQ(start(&tcp, 1000, "127.0.0.1", up, &F.o[1]), -EBUSY, "one probe per tag");
	ASSERT_OK(drive(F.o, 3, 1000 + SLACK_MS), "outcomes");
	for (int i = 0; i < 3; i++)
		ASSERT_OUTCOME(F.o[i], 1, "ok");
	ASSERT_EQ(xlb_prober_running(F.p), 0, "all reported");
	return 0;
}

/* Freeing a prober with probes of every kind in flight leaves no fd behind
 * (valgrind checks the memory) and kills the exec child. */
static int t_probe_free_releases_everything(void)
{
	struct xlb_cfg_check tcp = check(XLB_CHECK_TCP), http = check(XLB_CHECK_HTTP);
	struct xlb_cfg_check udp = check(XLB_CHECK_UDP), ex = check(XLB_CHECK_EXEC);
	struct xlb_cfg_check none = check(XLB_CHECK_NONE);
	__u16 hang, silent;
	long sh = 0;
	char path[128];
	int before;
	FILE *f;

	ASSERT_OK(make_dir(), "temporary directory");
	ASSERT_TRUE(bound("127.0.0.1", SOCK_STREAM, 1, &hang, 1) >= 0, "hanging listener");
	ASSERT_TRUE(bound("127.0.0.1", SOCK_DGRAM, 0, &silent, 1) >= 0, "silent udp socket");
	snprintf(path, sizeof(path), "%s/pid", F.dir);
	snprintf(ex.command, sizeof(ex.command),
		 "cd %s || exit 9; echo $$ > pid.tmp && mv pid.tmp pid; sleep 30", F.dir);
	ex.shell = 1;
	/* A prober of its own (curl is initialised already: its fds stay). */
	xlb_prober_free(F.p);
	before = count_fds();
	F.p = xlb_prober_new(on_done, NULL);
	ASSERT_TRUE(F.p, "prober");
	ASSERT_OK(start(&tcp, 5000, "127.0.0.1", hang, &F.o[0]), "start tcp");
	ASSERT_OK(start(&http, 5000, "127.0.0.1", hang, &F.o[1]), "start http");
	ASSERT_OK(start(&udp, 5000, "127.0.0.1", silent, &F.o[2]), "start udp");
	ASSERT_OK(start(&ex, 5000, "127.0.0.1", 80, &F.o[3]), "start exec");
	ASSERT_OK(start(&none, 5000, "127.0.0.1", 80, &F.o[4]), "start none");
	drive(NULL, 0, 100); /* under way: curl connected, the child running */
	for (__u64 end = now_us() + 2000000; now_us() < end && access(path, F_OK);)
		usleep(10000);
	ASSERT_EQ(F.calls, 2, "only tcp and none reported");
	xlb_prober_free(F.p);
	F.p = NULL;
	ASSERT_EQ(count_fds(), before, "no fd left open");
	f = fopen(path, "r");
	ASSERT_TRUE(f, "the shell wrote its pid");
	ASSERT_EQ(fscanf(f, "%ld", &sh), 1, "pid");
	fclose(f);
	ASSERT_EQ(proc_state(sh), 0, "the exec child is killed and reaped");
	return 0;
}

const struct harness_case probe_cases[] = {
	{"probe_via_records_each_socket", t_probe_via_records_each_socket},
	{"probe_tcp_ok_and_refused", t_probe_tcp_ok_and_refused},
	{"probe_tcp_ipv6", t_probe_tcp_ipv6},
	{"probe_http_ok_with_host_path_and_body", t_probe_http_ok_with_host_path_and_body},
	{"probe_http_ipv6_default_path", t_probe_http_ipv6_default_path},
	{"probe_http_bad_status_and_ranges", t_probe_http_bad_status_and_ranges},
	{"probe_http_body_mismatch_and_refused", t_probe_http_body_mismatch_and_refused},
	{"probe_http_hanging_server_times_out_alone", t_probe_http_hanging_server_times_out_alone},
	{"probe_https_self_signed_verify_fails", t_probe_https_self_signed_verify_fails},
	{"probe_https_self_signed_no_verify_ok", t_probe_https_self_signed_no_verify_ok},
	{"probe_udp_echo_mismatch_refused", t_probe_udp_echo_mismatch_refused},
	{"probe_many_deadlines_in_order", t_probe_many_deadlines_in_order},
	{"probe_exec_exit_codes", t_probe_exec_exit_codes},
	{"probe_exec_sandbox", t_probe_exec_sandbox},
	{"probe_exec_no_shell_expansion", t_probe_exec_no_shell_expansion},
	{"probe_exec_config_shell_rule", t_probe_exec_config_shell_rule},
	{"probe_exec_timeout_kills_the_group", t_probe_exec_timeout_kills_the_group},
	{"probe_none_reports_from_run", t_probe_none_reports_from_run},
	{"probe_cancel_means_no_callback", t_probe_cancel_means_no_callback},
	{"probe_running_count_and_busy_tag", t_probe_running_count_and_busy_tag},
	{"probe_free_releases_everything", t_probe_free_releases_everything},
};
const size_t probe_ncases = sizeof(probe_cases) / sizeof(probe_cases[0]);

int probe_setup(void)
{
	return setup();
}

void probe_teardown(void)
{
	teardown();
}
