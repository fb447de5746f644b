// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The control socket's connections; see ctl_conn.h. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include "clock.h"
#include "ctl_conn.h"
#include "log.h"

#define CTL_DRAIN_MAX (1 << 20) /* bytes read and dropped after too large a request */
#define ACCEPTS_PER_TURN 16
#define EV_LISTEN 0 /* epoll data of the listening socket */
#define EV_TIMER 1  /* and of the deadline timer; connections: slot + 2 */

enum phase {
	READING,  /* a request, until its newline */
	WRITING,  /* the reply */
	DRAINING, /* after an error reply: what the client still sends, dropped */
	WAITING,  /* for the reply the handler gives later (ctl_server_reply) */
};

char ctl_reply_later[] = "";

struct conn {
	int fd;
	struct ctl_peer peer;
	enum phase phase;
	char *in; /* the request so far */
	size_t inlen, incap;
	char *out; /* the reply, with its newline */
	size_t outlen, outoff;
	int close_after; /* once the reply is out */
	int keep_open;	 /* WAITING: what the handler said of the connection */
	size_t drained;
	__u64 deadline_ms; /* CLOCK_MONOTONIC: of this phase */
};

struct ctl_server {
	int listen_fd, ep, tfd;
	char *path;
	ctl_handler_fn fn;
	void *ctx;
	struct conn *conns[CTL_MAX_CONNS];
	size_t nconns;
	unsigned int deadline_ms; /* CTL_DEADLINE_MS; shorter in tests */
	unsigned long long next_ticket;
};

static int watch(struct ctl_server *s, size_t slot, __u32 events, int op)
{
	struct epoll_event ev = {.events = events, .data.u64 = slot + 2};

	return epoll_ctl(s->ep, op, s->conns[slot]->fd, &ev) ? -errno : 0;
}

static void conn_close(struct ctl_server *s, size_t slot)
{
	struct conn *c = s->conns[slot];

	close(c->fd); /* leaves the epoll with it */
	free(c->in);
	free(c->out);
	free(c);
	s->conns[slot] = NULL;
	s->nconns--;
}

/* The earliest deadline, or none. */
static void arm(struct ctl_server *s)
{
	struct itimerspec its = {};
	__u64 first = 0;

	for (size_t i = 0; i < CTL_MAX_CONNS; i++)
		if (s->conns[i] && s->conns[i]->deadline_ms &&
		    (!first || s->conns[i]->deadline_ms < first))
			first = s->conns[i]->deadline_ms;
	if (first) {
		its.it_value.tv_sec = (time_t)(first / 1000);
		its.it_value.tv_nsec = (long)(first % 1000) * 1000000L;
	}
	timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Send what the socket takes now: 1 all sent, 0 the rest waits, -1 gone. */
static int send_some(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		c->outoff += (size_t)n;
	}
	return 1;
}

/* The reply is out: next request, drain, or close. */
static void reply_done(struct ctl_server *s, size_t slot)
{
	struct conn *c = s->conns[slot];

	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
	c->deadline_ms = mono_ms() + s->deadline_ms;
	if (c->close_after == 2) { /* an error: drop what the client still sends */
		shutdown(c->fd, SHUT_WR);
		c->phase = DRAINING;
	} else if (c->close_after) {
		conn_close(s, slot);
		return;
	} else {
		c->phase = READING;
	}
	if (watch(s, slot, EPOLLIN, EPOLL_CTL_MOD))
		conn_close(s, slot);
}

static void write_more(struct ctl_server *s, size_t slot)
{
	size_t before = s->conns[slot]->outoff;
	int r = send_some(s->conns[slot]);

	/* The deadline is for taking nothing: a big reply to a client that
	 * reads it, however slowly, goes out whole. */
	if (r == 0 && s->conns[slot]->outoff > before)
		s->conns[slot]->deadline_ms = mono_ms() + s->deadline_ms;
	if (r < 0) {
		pr_debug("control: client pid %d went away before its reply\n",
			 (int)s->conns[slot]->peer.pid);
		conn_close(s, slot);
	} else if (r) {
		reply_done(s, slot);
	}
}

/* Queue reply (taken over) + newline and send what goes now. close_after:
 * 0 keep reading, 1 close, 2 close after draining the client's input. */
static void reply(struct ctl_server *s, size_t slot, char *text, int close_after)
{
	struct conn *c = s->conns[slot];
	size_t len = text ? strlen(text) : 0;
	char *out = text ? realloc(text, len + 2) : NULL;

	if (!out) {
		free(text);
		conn_close(s, slot);
		return;
	}
	out[len] = '\n';
	out[len + 1] = 0;
	c->out = out;
	c->outlen = len + 1;
	c->outoff = 0;
	c->close_after = close_after;
	c->phase = WRITING;
	c->deadline_ms = mono_ms() + s->deadline_ms;
	c->inlen = 0;
	if (send_some(c) == 0 && !watch(s, slot, EPOLLOUT, EPOLL_CTL_MOD))
		return; /* the rest when the client reads */
	if (c->outoff == c->outlen)
		reply_done(s, slot);
	else
		conn_close(s, slot);
}

static char *error_json(const char *msg)
{
	json_object *o = json_object_new_object();
	char *text;

	if (!o)
		return NULL;
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

static void handle(struct ctl_server *s, size_t slot)
{
	struct conn *c = s->conns[slot];
	size_t len = c->inlen - 1; /* without the newline */
	int keep_open = 0;
	char *text;

	c->in[len] = 0;
	c->peer.ticket = ++s->next_ticket;
	text = s->fn(s->ctx, &c->peer, c->in, len, &keep_open);
	if (!text) {
		conn_close(s, slot);
		return;
	}
	if (text == CTL_REPLY_LATER) {
		/* Nothing more is read meanwhile: one request at a time. */
		c->phase = WAITING;
		c->keep_open = keep_open;
		c->deadline_ms = 0;
		c->inlen = 0;
		if (watch(s, slot, 0, EPOLL_CTL_MOD))
			conn_close(s, slot);
		return;
	}
	reply(s, slot, text, !keep_open);
}

int ctl_server_reply(struct ctl_server *s, unsigned long long ticket, char *text)
{
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		struct conn *c = s->conns[i];

		if (!c || c->phase != WAITING || c->peer.ticket != ticket)
			continue;
		if (!text) {
			conn_close(s, i);
			return 0;
		}
		reply(s, i, text, !c->keep_open);
		arm(s);
		return 0;
	}
	free(text);
	return -ENOENT;
}

/* Room for more of a request: up to CTL_MAX_REQUEST + newline + NUL. */
static int grow(struct conn *c)
{
	size_t cap = c->incap ? c->incap * 2 : 4096;
	char *n;

	if (c->incap >= CTL_MAX_REQUEST + 2)
		return 0;
	if (cap > CTL_MAX_REQUEST + 2)
		cap = CTL_MAX_REQUEST + 2;
	n = realloc(c->in, cap);
	if (!n)
		return -ENOMEM;
	c->in = n;
	c->incap = cap;
	return 0;
}

/*
 * One read: up to the first newline (peeked first, so what follows stays
 * in the socket for the next turn, and the next request waits for this
 * reply).
 */
static void read_some(struct ctl_server *s, size_t slot)
{
	struct conn *c = s->conns[slot];
	size_t room;
	ssize_t n;
	char *nl;

	if (c->incap - c->inlen < 2 && grow(c)) {
		conn_close(s, slot);
		return;
	}
	room = c->incap - 1 - c->inlen; /* one for the NUL */
	n = recv(c->fd, c->in + c->inlen, room, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0 || (n == 0 && !c->inlen)) {
		conn_close(s, slot); /* done, or gone */
		return;
	}
	if (n == 0) {
		reply(s, slot, error_json("truncated request: no newline"), 1);
		return;
	}
	nl = memchr(c->in + c->inlen, '\n', (size_t)n);
	if (nl)
		n = nl - (c->in + c->inlen) + 1;
	n = recv(c->fd, c->in + c->inlen, (size_t)n, MSG_DONTWAIT);
	if (n <= 0) {
		conn_close(s, slot);
		return;
	}
	c->inlen += (size_t)n;
	if (nl) {
		handle(s, slot);
	} else if (c->inlen > CTL_MAX_REQUEST) {
		char msg[96];

		snprintf(msg, sizeof(msg), "request larger than %d bytes", CTL_MAX_REQUEST);
		pr_info("control: request of uid %u pid %d refused: %s\n",
			(unsigned int)c->peer.uid, (int)c->peer.pid, msg);
		reply(s, slot, error_json(msg), 2);
	} else if (c->inlen == c->incap - 1 && grow(c)) {
		conn_close(s, slot);
	}
}

static void drain(struct ctl_server *s, size_t slot)
{
	struct conn *c = s->conns[slot];
	char sink[4096];
	ssize_t n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n > 0)
		c->drained += (size_t)n;
	if (n <= 0 || c->drained > CTL_DRAIN_MAX)
		conn_close(s, slot);
}

static void on_conn(struct ctl_server *s, size_t slot, __u32 events)
{
	struct conn *c = s->conns[slot];

	if (!c)
		return;
	if (c->phase == WRITING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			write_more(s, slot);
	} else if (c->phase == DRAINING) {
		drain(s, slot);
	} else if (c->phase == WAITING) {
		/* only EPOLLHUP and EPOLLERR come now: nobody to answer */
		pr_debug("control: client pid %d went away before its reply\n", (int)c->peer.pid);
		conn_close(s, slot);
	} else {
		read_some(s, slot);
	}
}

static void refuse(int fd, const char *msg)
{
	char *text = error_json(msg);

	if (text) {
		/* best effort: a new socket's buffer takes a short line */
		if (send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ||
		    send(fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			pr_debug("control: couldn't send a refusal: %s\n", strerror(errno));
		free(text);
	}
	close(fd);
}

/* Root always gets in: the oldest connection of another user makes room. */
static int displace(struct ctl_server *s)
{
	size_t victim = CTL_MAX_CONNS;

	for (size_t i = 0; i < CTL_MAX_CONNS; i++)
		if (s->conns[i] && s->conns[i]->peer.uid != 0 && s->conns[i]->phase != WAITING &&
		    (victim == CTL_MAX_CONNS ||
		     s->conns[i]->deadline_ms < s->conns[victim]->deadline_ms))
			victim = i;
	if (victim == CTL_MAX_CONNS)
		return 0;
	pr_info("control: uid %u pid %d closed to make room for root\n",
		(unsigned int)s->conns[victim]->peer.uid, (int)s->conns[victim]->peer.pid);
	conn_close(s, victim);
	return 1;
}

static void on_listen(struct ctl_server *s)
{
	for (int i = 0; i < ACCEPTS_PER_TURN; i++) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ucred cred = {.pid = -1, .uid = (uid_t)-1, .gid = (gid_t)-1};
		socklen_t len = sizeof(cred);
		struct conn *c;
		size_t slot;

		if (fd < 0)
			return; /* EAGAIN: all taken; anything else: try next turn */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
			refuse(fd, "couldn't tell who is asking (SO_PEERCRED)");
			continue;
		}
		if (s->nconns >= CTL_MAX_CONNS && !(cred.uid == 0 && displace(s))) {
			pr_info("control: refused uid %u pid %d: already %d connections\n",
				(unsigned int)cred.uid, (int)cred.pid, CTL_MAX_CONNS);
			refuse(fd, "too many control connections at once; try again");
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->peer = (struct ctl_peer){.uid = cred.uid, .gid = cred.gid, .pid = cred.pid};
		c->phase = READING;
		c->deadline_ms = mono_ms() + s->deadline_ms;
		for (slot = 0; s->conns[slot]; slot++)
			;
		s->conns[slot] = c;
		s->nconns++;
		if (watch(s, slot, EPOLLIN, EPOLL_CTL_ADD))
			conn_close(s, slot);
	}
}

/* Bytes of the client's wait in the socket. */
static int pending(const struct conn *c)
{
	char b;

	return recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
}

static void on_timer(struct ctl_server *s)
{
	__u64 now = mono_ms(), ticks;

	if (read(s->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		pr_debug("control: timer read: %s\n", strerror(errno));
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		struct conn *c = s->conns[i];
		char msg[160];

		if (!c || !c->deadline_ms || c->deadline_ms > now)
			continue;
		/* A request that came while the loop was busy elsewhere is read,
		 * not taken for silence. */
		if (c->phase == READING && pending(c)) {
			read_some(s, i);
			continue;
		}
		if (c->phase != READING || !c->inlen) {
			conn_close(s, i); /* idle, or not taking its reply */
			continue;
		}
		snprintf(msg, sizeof(msg),
			 "request deadline: no whole request (up to its newline) within %d ms; "
			 "send the request at once",
			 CTL_DEADLINE_MS);
		pr_info("control: uid %u pid %d: %s\n", (unsigned int)c->peer.uid, (int)c->peer.pid,
			msg);
		reply(s, i, error_json(msg), 1);
	}
}

void ctl_server_run(struct ctl_server *s)
{
	struct epoll_event evs[CTL_MAX_CONNS + 2];
	int n = epoll_wait(s->ep, evs, CTL_MAX_CONNS + 2, 0), timer = 0;

	/* Deadlines last: what the clients sent meanwhile counts first. */
	for (int i = 0; i < n; i++) {
		__u64 id = evs[i].data.u64;

		if (id == EV_LISTEN)
			on_listen(s);
		else if (id == EV_TIMER)
			timer = 1;
		else
			on_conn(s, (size_t)(id - 2), evs[i].events);
	}
	if (timer)
		on_timer(s);
	arm(s);
}

void ctl_server_set_deadline(struct ctl_server *s, unsigned int ms)
{
	s->deadline_ms = ms;
}

int ctl_server_fd(const struct ctl_server *s)
{
	return s->ep;
}

/* 0600 root only; with a group, 0660 and that group. */
static int set_access(const char *path, const char *group)
{
	struct group *g;

	if (!group)
		return chmod(path, 0600) ? -errno : 0;
	g = getgrnam(group);
	if (!g) {
		pr_warn("--socket-group: no group '%s'\n", group);
		return -ENOENT;
	}
	return chown(path, 0, g->gr_gid) || chmod(path, 0660) ? -errno : 0;
}

static int listen_on(const char *path, const char *group)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)], *slash;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		pr_warn("couldn't listen on control socket '%s': path too long\n", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* a stale socket of an earlier xlbd */
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	err = err ?: set_access(path, group);
	err = err ?: (listen(fd, 64) ? -errno : 0);
	if (err) {
		pr_warn("couldn't listen on control socket '%s': %s\n", path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int ctl_server_open(const char *path, const char *group, ctl_handler_fn fn, void *ctx,
		    struct ctl_server **out)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	struct epoll_event lev = {.events = EPOLLIN, .data.u64 = EV_LISTEN};
	struct epoll_event tev = {.events = EPOLLIN, .data.u64 = EV_TIMER};
	int err;

	if (!s)
		return -ENOMEM;
	s->fn = fn;
	s->ctx = ctx;
	s->deadline_ms = CTL_DEADLINE_MS;
	s->listen_fd = -1;
	s->path = strdup(path);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (!s->path || s->ep < 0 || s->tfd < 0) {
		err = s->path ? -errno : -ENOMEM;
		goto fail;
	}
	s->listen_fd = listen_on(path, group);
	if (s->listen_fd < 0) {
		err = s->listen_fd;
		free(s->path);
		s->path = NULL; /* not ours to unlink */
		goto fail;
	}
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->listen_fd, &lev) ||
	    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->tfd, &tev)) {
		err = -errno;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	ctl_server_close(s);
	return err;
}

void ctl_server_close(struct ctl_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < CTL_MAX_CONNS; i++)
		if (s->conns[i])
			conn_close(s, i);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	if (s->ep >= 0)
		close(s->ep);
	if (s->tfd >= 0)
		close(s->tfd);
	free(s->path);
	free(s);
}
