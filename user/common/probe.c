// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Health-check probes (probe.h).
 *
 * A probe goes: started (in the tag table and the deadline heap, its fd in
 * the epoll set) -> finished (everything it held released, its outcome in
 * the done queue, the tag still its own) -> delivered (callback called,
 * record freed). Callbacks run only at the end of xlb_prober_run(), after
 * every event of the batch has been handled, so a callback may start or
 * cancel anything without leaving a stale pointer in the batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <curl/curl.h>

#include "exec_child.h"
#include "log.h"
#include "probe.h"
#include "probe_syn.h"
#include "probe_uring.h"

#define BODY_MAX (64 * 1024) /* http: body searched for `body` */
#define REPLY_MAX 4096	     /* tcp send/expect: reply searched for `expect` */
#define BATCH 64	     /* epoll events handled per run */
#define POLL_CHILD_US 10000  /* exec children without a pidfd: looked at this often */
#define RING_SLOTS 4096	     /* plain tcp checks in flight through io_uring, at most */

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* ---- Records ------------------------------------------------------------ */

struct probe;
static void via_forget(struct probe *pr, int fd);

/* What an epoll event points to: every registered object starts with one. */
enum src_kind {
	SRC_PROBE,	/* a probe's socket or pidfd */
	SRC_CURL_SOCK,	/* a socket libcurl asked us to watch */
	SRC_DEADLINE,	/* timerfd at the earliest probe deadline */
	SRC_CURL_TIMER, /* timerfd at libcurl's next timeout */
	SRC_READY,	/* eventfd: outcomes queued without an fd event */
	SRC_REAP,	/* pidfd of a killed child not reaped yet */
	SRC_RING,	/* eventfd: io_uring connects completed (probe_uring.h) */
	SRC_SYN,	/* half-open checks' raw sockets and timer (probe_syn.h) */
};

struct src {
	enum src_kind kind;
	int fd; /* -1: none (or let go of) */
};

struct link {
	struct link *prev, *next;
};

/* Where a tcp probe is: a plain one finishes when connected; one with send
 * or expect then talks (send, then read until expect is found). */
enum tcp_phase {
	TCP_CONNECTING,
	TCP_SENDING,
	TCP_READING,
};

struct probe {
	struct src src; /* tcp/udp socket or exec pidfd */
	void *tag;
	struct probe *hnext; /* tag table chain */
	struct link qlink;   /* the done queue once finished; before, `polled` */
	unsigned int hidx;   /* heap index while running */
	__u8 type;
	__u8 finished;
	__u8 nranges;
	__u8 talk;		    /* tcp: send or expect set */
	__u8 phase;		    /* tcp: enum tcp_phase */
	__u8 spent;		    /* its one-shot epoll event came: nothing to remove */
	__u8 on_ring;		    /* plain tcp: connecting through io_uring (ring_h) */
	__u8 on_syn;		    /* plain tcp: a half-open check (ring_h) */
	__u64 ring_h;		    /* its connect's or half-open check's handle */
	pid_t pid;		    /* exec: child not reaped yet (0: none) */
	CURL *easy;		    /* http(s) */
	struct curl_slist *conn_to; /* http(s): CURLOPT_CONNECT_TO, owned */
	char *body;		    /* http(s): received body when matching */
	size_t body_len;
	char *out; /* tcp: what to send (owned), NULL: nothing */
	size_t out_len, out_off;
	char *reply; /* tcp: the reply so far (REPLY_MAX), while reading */
	size_t reply_len;
	__u64 start_us, deadline_us;
	struct xlb_probe_result r;
	struct xlb_status_range ranges[XLB_CHECK_MAX_RANGES];
	char match[XLB_CHECK_EXPECT_LEN]; /* http body or tcp/udp expect; "": anything */
	/* through the VIP (xlb_prober_start_via()): */
	struct xlb_prober *owner;  /* for libcurl's callbacks */
	struct xlb_probe_via via;  /* ifindex 0: to the address itself */
	struct xlb_check_key vkey; /* what its socket's packets carry, once recorded */
	int vfd;		   /* the socket recorded, -1: none */
	__u8 vproto;		   /* IPPROTO_TCP / IPPROTO_UDP */
};
_Static_assert(XLB_CHECK_EXPECT_LEN >= XLB_CHECK_STR, "match holds a body too");

/* A killed child whose exit the kernel has not reported yet. */
struct reaper {
	struct src src; /* pidfd */
	struct link link;
};

/* A libcurl socket. Freed only after the event batch: a later event of the
 * same batch may still point to it. */
struct csock {
	struct src src;
	struct csock *dead_next;
};

struct xlb_prober {
	xlb_probe_done_fn done;
	void *ctx;
	int ep;
	struct src deadline, curl_timer, ready;
	__u64 armed_us; /* deadline timer set to this; 0: disarmed */
	int signalled;	/* ready eventfd written, not yet read */
	int running;	/* inside xlb_prober_run(), before its callbacks */
	CURLM *multi;
	struct probe **heap; /* min-heap by deadline_us */
	unsigned int nheap, heap_cap;
	struct probe **tags; /* hash table by tag, nbuckets a power of two */
	unsigned int nbuckets, nprobes;
	struct link queue;   /* finished, callback not yet called */
	struct link reaping; /* struct reaper */
	struct link polled;  /* exec probes without a pidfd, see exec_start() */
	__u64 poll_at_us;
	struct csock *dead;	  /* curl sockets let go of, to free after the batch */
	xlb_probe_route_fn route; /* records probe sockets through the VIP */
	void *route_ctx;
	/* plain tcp checks through io_uring, made at the first one: */
	struct xlb_tcpring *ring;
	int ring_state;	     /* 0 not tried yet, 1 in use, -errno unavailable */
	struct src ring_src; /* its eventfd, edge-triggered */
	/* plain tcp checks half-open, made in xlb_prober_new(): */
	struct xlb_synprobe *syn;
	int syn_state; /* 1 in use, -errno unavailable */
	struct src syn_src[XLB_SYN_FDS];
	int hold;	 /* xlb_prober_hold(): submissions wait */
	char buf[65536]; /* udp replies */
};

static void link_init(struct link *h)
{
	h->prev = h->next = h;
}

static int link_empty(const struct link *h)
{
	return h->next == h;
}

static void link_add_tail(struct link *h, struct link *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static void link_del(struct link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	link_init(n);
}

static __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}

static int ep_add(struct xlb_prober *p, struct src *s, __u32 events)
{
	struct epoll_event ev = {.events = events, .data.ptr = s};

	return epoll_ctl(p->ep, EPOLL_CTL_ADD, s->fd, &ev) ? -errno : 0;
}

/* Empty a timerfd or eventfd (both read as one 64-bit counter). */
static void drain(int fd)
{
	__u64 v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("couldn't read prober timer: %s\n", strerror(errno));
}

/* ---- Deadline heap ------------------------------------------------------ */

static void heap_set(struct xlb_prober *p, unsigned int i, struct probe *pr)
{
	p->heap[i] = pr;
	pr->hidx = i;
}

static void heap_up(struct xlb_prober *p, unsigned int i)
{
	struct probe *pr = p->heap[i];

	while (i > 0 && pr->deadline_us < p->heap[(i - 1) / 2]->deadline_us) {
		heap_set(p, i, p->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(p, i, pr);
}

static void heap_down(struct xlb_prober *p, unsigned int i)
{
	struct probe *pr = p->heap[i];

	for (;;) {
		unsigned int c = 2 * i + 1;

		if (c >= p->nheap)
			break;
		if (c + 1 < p->nheap && p->heap[c + 1]->deadline_us < p->heap[c]->deadline_us)
			c++;
		if (p->heap[c]->deadline_us >= pr->deadline_us)
			break;
		heap_set(p, i, p->heap[c]);
		i = c;
	}
	heap_set(p, i, pr);
}

static void heap_push(struct xlb_prober *p, struct probe *pr)
{
	heap_set(p, p->nheap++, pr);
	heap_up(p, pr->hidx);
}

static void heap_remove(struct xlb_prober *p, struct probe *pr)
{
	struct probe *last = p->heap[--p->nheap];

	if (last == pr)
		return;
	heap_set(p, pr->hidx, last);
	heap_up(p, last->hidx);
	heap_down(p, last->hidx);
}

/*
 * Make sure the deadline timer fires by the earliest running probe's
 * deadline (or the next look at polled children). It is only ever moved
 * earlier: a probe that finishes in time leaves the timer where it was,
 * and when that fires, xlb_prober_run() finds nothing due and sets it to
 * the earliest deadline then. Moving it later at every outcome would cost
 * a timerfd_settime() a probe (probes mostly finish in the order they
 * started, so the earliest deadline is usually the one just met); left
 * alone, it fires in vain about once a timeout.
 */
static void arm_deadline(struct xlb_prober *p)
{
	__u64 want = p->nheap ? p->heap[0]->deadline_us : 0;
	struct itimerspec its = {};

	if (!link_empty(&p->polled) && (!want || p->poll_at_us < want))
		want = p->poll_at_us;
	if (!want || (p->armed_us && p->armed_us <= want))
		return;
	its.it_value.tv_sec = (time_t)(want / 1000000);
	its.it_value.tv_nsec = (long)(want % 1000000) * 1000;
	if (timerfd_settime(p->deadline.fd, TFD_TIMER_ABSTIME, &its, NULL))
		pr_warn("couldn't set probe deadline timer: %s\n", strerror(errno));
	p->armed_us = want;
}

/* ---- Tag table ---------------------------------------------------------- */

static struct probe **tag_slot(const struct xlb_prober *p, const void *tag)
{
	__u64 h = (uintptr_t)tag * 0x9e3779b97f4a7c15ull; /* Fibonacci hashing */
	struct probe **pp = &p->tags[(h >> 32) & (p->nbuckets - 1)];

	while (*pp && (*pp)->tag != tag)
		pp = &(*pp)->hnext;
	return pp;
}

static void tag_insert(struct xlb_prober *p, struct probe *pr)
{
	struct probe **pp = tag_slot(p, pr->tag);

	*pp = pr;
	pr->hnext = NULL;
	p->nprobes++;
}

static void tag_remove(struct xlb_prober *p, const struct probe *pr)
{
	struct probe **pp = tag_slot(p, pr->tag);

	*pp = pr->hnext;
	p->nprobes--;
}

/* Room for one more probe in the heap and the table (doubling both). */
static int reserve(struct xlb_prober *p)
{
	if (p->nheap == p->heap_cap) {
		unsigned int cap = p->heap_cap * 2;
		struct probe **h = realloc(p->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		p->heap = h;
		p->heap_cap = cap;
	}
	if (p->nprobes >= p->nbuckets) {
		struct probe **old = p->tags;
		unsigned int n = p->nbuckets;

		p->tags = calloc(n * 2, sizeof(*p->tags));
		if (!p->tags) {
			p->tags = old;
			return -ENOMEM;
		}
		p->nbuckets = n * 2;
		p->nprobes = 0;
		for (unsigned int b = 0; b < n; b++) {
			for (struct probe *pr = old[b], *next; pr; pr = next) {
				next = pr->hnext;
				tag_insert(p, pr);
			}
		}
		free(old);
	}
	return 0;
}

/* ---- Outcomes ----------------------------------------------------------- */

static const char *errno_reason(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return "refused";
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
		return "unreachable";
	default:
		return strerror(e);
	}
}

/* Kill an exec probe's process group; reap it now or once its pidfd says so. */
static void kill_child(struct xlb_prober *p, struct probe *pr)
{
	struct epoll_event ev = {.events = EPOLLIN};
	siginfo_t si = {};
	struct reaper *r;

	kill(-pr->pid, SIGKILL);
	if (pr->src.fd < 0) { /* polled (no pidfd): SIGKILLed, it goes at once */
		waitpid(pr->pid, NULL, 0);
		pr->pid = 0;
		return;
	}
	pr->pid = 0;
	if (waitid(P_PIDFD, (id_t)pr->src.fd, &si, WEXITED | WNOHANG) || si.si_pid)
		return; /* reaped (or not ours to reap): the pidfd just closes */
	r = calloc(1, sizeof(*r));
	if (!r) {
		waitid(P_PIDFD, (id_t)pr->src.fd, &si, WEXITED); /* SIGKILLed: soon */
		return;
	}
	/* The pidfd stays in the epoll set, now pointing to the reaper. */
	r->src = (struct src){SRC_REAP, pr->src.fd};
	ev.data.ptr = &r->src;
	if (epoll_ctl(p->ep, EPOLL_CTL_MOD, r->src.fd, &ev)) {
		free(r);
		waitid(P_PIDFD, (id_t)pr->src.fd, &si, WEXITED);
		return;
	}
	link_add_tail(&p->reaping, &r->link);
	pr->src.fd = -1;
}

static void reap(struct xlb_prober *p, struct reaper *r, int block)
{
	siginfo_t si = {};

	if (!waitid(P_PIDFD, (id_t)r->src.fd, &si, WEXITED | (block ? 0 : WNOHANG)) && !si.si_pid)
		return; /* not yet */
	epoll_ctl(p->ep, EPOLL_CTL_DEL, r->src.fd, NULL);
	close(r->src.fd);
	link_del(&r->link);
	free(r);
}

/* Let go of everything a running probe holds. */
static void release(struct xlb_prober *p, struct probe *pr)
{
	heap_remove(p, pr);
	link_del(&pr->qlink); /* off `polled`, if there */
	if (pr->easy) {
		curl_multi_remove_handle(p->multi, pr->easy);
		curl_easy_cleanup(pr->easy);
		pr->easy = NULL;
	}
	curl_slist_free_all(pr->conn_to);
	pr->conn_to = NULL;
	free(pr->body);
	pr->body = NULL;
	free(pr->out);
	pr->out = NULL;
	free(pr->reply);
	pr->reply = NULL;
	if (pr->pid)
		kill_child(p, pr);
	if (pr->on_ring) { /* no outcome from it any more; its socket closes */
		xlb_tcpring_abandon(p->ring, pr->ring_h);
		pr->on_ring = 0;
	}
	if (pr->on_syn) { /* no outcome from it any more */
		xlb_synprobe_abandon(p->syn, pr->ring_h);
		pr->on_syn = 0;
	}
	if (pr->src.fd >= 0) {
		via_forget(pr, pr->src.fd); /* before the port is free again */
		/* A RST instead of a FIN: no TIME_WAIT left per check. */
		if (pr->type == XLB_CHECK_TCP)
			setsockopt(pr->src.fd, SOL_SOCKET, SO_LINGER,
				   &(struct linger){.l_onoff = 1, .l_linger = 0},
				   sizeof(struct linger));
		if (!pr->spent)
			epoll_ctl(p->ep, EPOLL_CTL_DEL, pr->src.fd, NULL);
		close(pr->src.fd);
		pr->src.fd = -1;
	}
}

/* The probe's outcome: release it and queue the result for delivery. */
static void __attribute__((format(printf, 4, 5)))
finish(struct xlb_prober *p, struct probe *pr, int ok, const char *fmt, ...)
{
	__u64 d = now_us() - pr->start_us;
	va_list ap;

	release(p, pr);
	pr->finished = 1;
	pr->r.ok = ok;
	pr->r.duration_us = d > UINT32_MAX ? UINT32_MAX : (__u32)d;
	va_start(ap, fmt);
	vsnprintf(pr->r.reason, sizeof(pr->r.reason), fmt, ap);
	va_end(ap);
	link_add_tail(&p->queue, &pr->qlink);
	/* Inside xlb_prober_run() its deliver() is next: no wake-up needed. */
	if (!p->signalled && !p->running) {
		__u64 one = 1;

		if (write(p->ready.fd, &one, sizeof(one)) != sizeof(one))
			pr_warn("couldn't signal probe outcome: %s\n", strerror(errno));
		p->signalled = 1;
	}
}

/* Call back for what was queued before this call (not for what the callbacks
 * queue: a callback restarting a `none` probe must not loop forever). */
static void deliver(struct xlb_prober *p)
{
	struct link batch;

	if (p->signalled) /* even if cancels emptied the queue: else it stays readable */
		drain(p->ready.fd);
	p->signalled = 0;
	if (link_empty(&p->queue))
		return;
	batch.next = p->queue.next;
	batch.prev = p->queue.prev;
	batch.next->prev = batch.prev->next = &batch;
	link_init(&p->queue);
	while (!link_empty(&batch)) {
		struct probe *pr = container_of(batch.next, struct probe, qlink);
		struct xlb_probe_result r = pr->r;
		void *tag = pr->tag;

		link_del(&pr->qlink);
		tag_remove(p, pr);
		free(pr);
		p->done(p->ctx, tag, &r);
	}
}

/* ---- tcp and udp -------------------------------------------------------- */

static socklen_t to_sockaddr(const union xlb_addr *a, __u8 family, __u16 port,
			     struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == XLB_AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = a->w[3];
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->b, 16);
	return sizeof(*sin6);
}

/*
 * A probe through the VIP: bind fd (not connected yet) to the NIC the
 * probe path watches and to a local port of its own, and record the key
 * its packets will carry with the backend's id (bpf/check_out.bpf.c).
 * 0 or -errno; *what says which step failed.
 */
static int via_bind(struct probe *pr, int fd, int family, const char **what)
{
	struct xlb_prober *p = pr->owner;
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} u;
	socklen_t len = family == AF_INET ? sizeof(u.sin) : sizeof(u.sin6);
	struct xlb_check_key k = {.proto = pr->vproto};
	int err;

	memset(&u, 0, sizeof(u));
	u.sa.sa_family = (sa_family_t)family;
	*what = "bind to the NIC";
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &pr->via.ifindex, sizeof(pr->via.ifindex)))
		return -errno;
	*what = "bind a local port";
	if (bind(fd, &u.sa, len) || getsockname(fd, &u.sa, &len))
		return -errno;
	k.sport = family == AF_INET ? u.sin.sin_port : u.sin6.sin6_port;
	k.vip = pr->via.vip;
	k.vport = htons(pr->via.port);
	*what = "record the probe";
	if (!p->route)
		return -EOPNOTSUPP;
	err = p->route(p->route_ctx, &k, pr->via.backend_id, 1);
	if (err)
		return err;
	pr->vkey = k;
	pr->vfd = fd;
	return 0;
}

/* The recorded socket fd closes: forget it first. */
static void via_forget(struct probe *pr, int fd)
{
	struct xlb_prober *p = pr->owner;

	if (pr->vfd < 0 || pr->vfd != fd)
		return;
	if (p->route)
		p->route(p->route_ctx, &pr->vkey, pr->via.backend_id, 0);
	pr->vfd = -1;
}

/* A non-blocking socket connected (or connecting) to the backend; 0 or the
 * probe is finished. */
static int sock_open(struct xlb_prober *p, struct probe *pr, int type, const struct sockaddr *sa,
		     socklen_t len)
{
	const char *what;
	int err;

	pr->src.fd = socket(sa->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (pr->src.fd < 0) {
		finish(p, pr, 0, "socket: %s", strerror(errno));
		return -1;
	}
	if (pr->via.ifindex && (err = via_bind(pr, pr->src.fd, sa->sa_family, &what))) {
		finish(p, pr, 0, "via vip: couldn't %s: %s", what, strerror(-err));
		return -1;
	}
	if (connect(pr->src.fd, sa, len) && errno != EINPROGRESS) {
		finish(p, pr, 0, "%s", errno_reason(errno));
		return -1;
	}
	return 0;
}

/* A connect through io_uring completed (probe_uring.h), or a half-open
 * check ended (probe_syn.h): the same outcomes and reasons as the epoll
 * path's. */
static void ring_done(void *ctx, void *owner, int err, const char *what)
{
	struct xlb_prober *p = ctx;
	struct probe *pr = owner;

	pr->on_ring = 0;
	pr->on_syn = 0;
	if (what)
		finish(p, pr, 0, "%s: %s", what, strerror(err));
	else if (err)
		finish(p, pr, 0, "%s", errno_reason(err));
	else
		finish(p, pr, 1, "ok");
}

/*
 * The io_uring connect ring, made at the first plain tcp check (in the
 * process that runs the checks: xlbd forks in daemon(), and the ring takes
 * submissions from the task that made it only). Where it cannot be made
 * (or XLB_PROBE_URING=0 was in the environment when the prober was made),
 * plain tcp checks keep the epoll path. 1 when in use.
 */
static int ring_ready(struct xlb_prober *p)
{
	struct rlimit rl = {RING_SLOTS, RING_SLOTS};
	unsigned int slots = RING_SLOTS;
	int err;

	if (p->ring_state)
		return p->ring_state > 0;
	p->ring_state = -EOPNOTSUPP;
	/* The kernel refuses a file table beyond RLIMIT_NOFILE. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < slots)
		slots = rl.rlim_cur > 64 ? (unsigned int)rl.rlim_cur / 2 : 32;
	p->ring = xlb_tcpring_new(slots, ring_done, p, &err);
	if (p->ring) {
		p->ring_src = (struct src){SRC_RING, xlb_tcpring_fd(p->ring)};
		err = ep_add(p, &p->ring_src, EPOLLIN);
		if (err) {
			xlb_tcpring_free(p->ring);
			p->ring = NULL;
		}
	}
	if (!p->ring) {
		pr_debug("tcp checks: io_uring unavailable (%s), epoll instead\n", strerror(-err));
		p->ring_state = err < 0 ? err : -EOPNOTSUPP;
		return 0;
	}
	pr_debug("tcp checks: connects through io_uring, %u at a time at most\n", slots);
	p->ring_state = 1;
	return 1;
}

/* Submit the ring's and send the half-open checks' queued work, unless
 * inside xlb_prober_run() (which does at its end) or held
 * (xlb_prober_hold()). */
static void ring_flush(struct xlb_prober *p)
{
	if (p->running || p->hold)
		return;
	if (p->ring)
		xlb_tcpring_flush(p->ring);
	if (p->syn)
		xlb_synprobe_flush(p->syn);
}

/*
 * The half-open engine, made with the prober (xlb_prober_new(): xlbd makes
 * it at setup, while it may still open raw sockets). Off with
 * XLB_PROBE_SYN=0, or where raw sockets are refused (no CAP_NET_RAW).
 */
static void syn_make(struct xlb_prober *p)
{
	int fds[XLB_SYN_FDS], err = 0;

	p->syn = xlb_synprobe_new(ring_done, p, &err);
	if (p->syn) {
		xlb_synprobe_fds(p->syn, fds);
		for (int i = 0; i < XLB_SYN_FDS && !err; i++) {
			p->syn_src[i] = (struct src){SRC_SYN, fds[i]};
			if (fds[i] >= 0)
				err = ep_add(p, &p->syn_src[i], EPOLLIN);
		}
		if (err) {
			xlb_synprobe_free(p->syn);
			p->syn = NULL;
		}
	}
	if (!p->syn) {
		pr_debug("tcp checks: no half-open probes (%s), connect() instead\n",
			 strerror(-err));
		p->syn_state = err < 0 ? err : -EOPNOTSUPP;
		return;
	}
	pr_debug("tcp checks: half-open (SYN from local ports %u-%u, SYN-ACK, RST)\n",
		 xlb_synprobe_port_base(p->syn),
		 xlb_synprobe_port_base(p->syn) + XLB_SYN_PORTS - 1);
	p->syn_state = 1;
}

static void tcp_start(struct xlb_prober *p, struct probe *pr, const struct sockaddr *sa,
		      socklen_t len, const char *payload)
{
	int err;

	pr->phase = TCP_CONNECTING;
	pr->talk = payload[0] || pr->match[0];
	/* A plain check (no talk, not through the VIP) half-open when it can,
	 * else through io_uring; a full ring or a ring that cannot be made:
	 * the epoll path. */
	if (!pr->talk && !pr->via.ifindex && p->syn &&
	    !xlb_synprobe_start(p->syn, sa, len, pr, &pr->ring_h)) {
		pr->on_syn = 1;
		ring_flush(p);
		return;
	}
	if (!pr->talk && !pr->via.ifindex && ring_ready(p) &&
	    !xlb_tcpring_connect(p->ring, sa, len, pr, &pr->ring_h)) {
		pr->on_ring = 1;
		ring_flush(p);
		return;
	}
	if (payload[0]) {
		pr->out_len = strlen(payload);
		pr->out = malloc(pr->out_len);
		if (!pr->out) {
			finish(p, pr, 0, "%s", strerror(ENOMEM));
			return;
		}
		memcpy(pr->out, payload, pr->out_len);
	}
	if (sock_open(p, pr, SOCK_STREAM, sa, len))
		return;
	/* A plain check waits for one event: one-shot, so that once it came
	 * the socket can close without an EPOLL_CTL_DEL. (Closing does not
	 * always remove it: an exec check's child, between its fork and its
	 * exec, holds the socket too, and an armed entry would then outlive
	 * the probe.) */
	err = ep_add(p, &pr->src, pr->talk ? EPOLLOUT : EPOLLOUT | EPOLLONESHOT);
	if (err)
		finish(p, pr, 0, "epoll: %s", strerror(-err));
}

/*
 * What a reply began with, for a reason: printable ASCII as it is, the rest
 * escaped (\r, \n, \t, \\, \xHH), "..." when cut to fit len.
 */
static const char *excerpt(const char *b, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		char one[5];

		if (c == '\r' || c == '\n' || c == '\t' || c == '\\')
			snprintf(one, sizeof(one), "\\%c",
				 c == '\r'   ? 'r'
				 : c == '\n' ? 'n'
				 : c == '\t' ? 't'
					     : '\\');
		else if (c >= 0x20 && c <= 0x7e)
			snprintf(one, sizeof(one), "%c", c);
		else
			snprintf(one, sizeof(one), "\\x%02x", c);
		if (o + strlen(one) + 4 > len && (i + 1 < n || o + strlen(one) + 1 > len)) {
			snprintf(out + o, len - o, "...");
			return out;
		}
		memcpy(out + o, one, strlen(one) + 1);
		o += strlen(one);
	}
	out[o] = 0;
	return out;
}

/* A reply that did not hold `expect` (the peer closed, or REPLY_MAX came
 * without it): counted as a reply mismatch, with what came. */
static void tcp_mismatch(struct xlb_prober *p, struct probe *pr)
{
	char got[40];

	if (!pr->reply_len)
		finish(p, pr, 0, "reply mismatch: closed without a reply");
	else
		finish(p, pr, 0, "reply mismatch: got '%s'",
		       excerpt(pr->reply, pr->reply_len, got, sizeof(got)));
}

/* Send what is left of the payload; then read. */
static void tcp_send(struct xlb_prober *p, struct probe *pr)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &pr->src};

	while (pr->out_off < pr->out_len) {
		ssize_t n = send(pr->src.fd, pr->out + pr->out_off, pr->out_len - pr->out_off,
				 MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return; /* EPOLLOUT again when there is room */
		if (n < 0) {
			finish(p, pr, 0, "%s", errno_reason(errno));
			return;
		}
		pr->out_off += (size_t)n;
	}
	pr->phase = TCP_READING;
	pr->reply = malloc(REPLY_MAX);
	if (!pr->reply)
		finish(p, pr, 0, "%s", strerror(ENOMEM));
	else if (epoll_ctl(p->ep, EPOLL_CTL_MOD, pr->src.fd, &ev))
		finish(p, pr, 0, "epoll: %s", strerror(errno));
}

/* Read what came; success once `expect` is in it (or anything came, when
 * only send is set). */
static void tcp_read(struct xlb_prober *p, struct probe *pr)
{
	size_t mlen = strlen(pr->match);
	ssize_t n = recv(pr->src.fd, pr->reply + pr->reply_len, REPLY_MAX - pr->reply_len, 0);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			finish(p, pr, 0, "%s", errno_reason(errno));
		return;
	}
	if (n == 0) {
		tcp_mismatch(p, pr);
		return;
	}
	pr->reply_len += (size_t)n;
	if (!mlen || memmem(pr->reply, pr->reply_len, pr->match, mlen))
		finish(p, pr, 1, "ok");
	else if (pr->reply_len == REPLY_MAX)
		tcp_mismatch(p, pr);
}

/* A connecting socket reports its outcome by EPOLLOUT; only an error or a
 * hang-up has an error code to fetch (refused, unreachable...). */
static void tcp_event(struct xlb_prober *p, struct probe *pr, __u32 events)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (pr->phase == TCP_SENDING) {
		tcp_send(p, pr);
		return;
	}
	if (pr->phase == TCP_READING) {
		tcp_read(p, pr);
		return;
	}
	pr->spent = !pr->talk;
	if ((events & (EPOLLERR | EPOLLHUP)) &&
	    getsockopt(pr->src.fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err) {
		finish(p, pr, 0, "%s", errno_reason(err));
	} else if (!pr->talk) {
		finish(p, pr, 1, "ok");
	} else {
		pr->phase = TCP_SENDING;
		tcp_send(p, pr);
	}
}

static void udp_start(struct xlb_prober *p, struct probe *pr, const struct sockaddr *sa,
		      socklen_t len, const char *payload)
{
	int err;

	if (sock_open(p, pr, SOCK_DGRAM, sa, len))
		return;
	if (send(pr->src.fd, payload, strlen(payload), 0) < 0) {
		finish(p, pr, 0, "%s", errno_reason(errno));
		return;
	}
	err = ep_add(p, &pr->src, EPOLLIN);
	if (err)
		finish(p, pr, 0, "epoll: %s", strerror(-err));
}

static void udp_event(struct xlb_prober *p, struct probe *pr)
{
	ssize_t n = recv(pr->src.fd, p->buf, sizeof(p->buf), 0);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			finish(p, pr, 0, "%s", errno_reason(errno));
	} else if (pr->match[0] && !memmem(p->buf, (size_t)n, pr->match, strlen(pr->match))) {
		finish(p, pr, 0, "reply mismatch");
	} else {
		finish(p, pr, 1, "ok");
	}
}

/* ---- exec --------------------------------------------------------------- */

static void exec_start(struct xlb_prober *p, struct probe *pr, const struct xlb_cfg_check *c,
		       const char *addr, __u16 port)
{
	static int no_pidfd; /* pidfd_open said ENOSYS once: it always will */
	char why[128];
	pid_t pid;
	int rc;

	rc = xlb_exec_spawn(c->command, c->shell, addr, port, &pid, why, sizeof(why));
	if (rc) {
		finish(p, pr, 0, "%s", why);
		return;
	}
	pr->pid = pid;
	pr->src.fd = no_pidfd ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);
	if (pr->src.fd < 0 && (no_pidfd || errno == ENOSYS)) {
		/* Kernels before 5.3, and valgrind 3.19 (which runs the unit tests),
		 * have no pidfd_open: look every POLL_CHILD_US instead. */
		no_pidfd = 1;
		if (link_empty(&p->polled))
			p->poll_at_us = now_us() + POLL_CHILD_US;
		link_add_tail(&p->polled, &pr->qlink);
		return;
	}
	if (pr->src.fd < 0) {
		finish(p, pr, 0, "pidfd_open: %s", strerror(errno));
		return;
	}
	rc = ep_add(p, &pr->src, EPOLLIN);
	if (rc)
		finish(p, pr, 0, "epoll: %s", strerror(-rc));
}

/* The child's exit, if it has exited: through its pidfd, or its pid when polled. */
static void exec_event(struct xlb_prober *p, struct probe *pr)
{
	idtype_t idt = pr->src.fd >= 0 ? P_PIDFD : P_PID;
	id_t id = pr->src.fd >= 0 ? (id_t)pr->src.fd : (id_t)pr->pid;
	siginfo_t si = {};

	if (waitid(idt, id, &si, WEXITED | WNOHANG)) {
		pr->pid = 0; /* not ours to reap (SIGCHLD ignored?) */
		finish(p, pr, 0, "waitid: %s", strerror(errno));
		return;
	}
	if (!si.si_pid)
		return;
	pr->pid = 0;
	if (si.si_code == CLD_EXITED && si.si_status == 0)
		finish(p, pr, 1, "ok");
	else if (si.si_code == CLD_EXITED)
		finish(p, pr, 0, "exit code %d", si.si_status);
	else
		finish(p, pr, 0, "killed by signal %d", si.si_status);
}

static void poll_children(struct xlb_prober *p, __u64 now)
{
	struct link *l, *next;

	if (link_empty(&p->polled) || now < p->poll_at_us)
		return;
	for (l = p->polled.next; l != &p->polled; l = next) {
		next = l->next; /* exec_event() may finish this one: off the list */
		exec_event(p, container_of(l, struct probe, qlink));
	}
	p->poll_at_us = now + POLL_CHILD_US;
}

/* ---- http and https (libcurl multi) ------------------------------------- */

static int curl_sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct xlb_prober *p = userp;
	struct csock *cs = sockp;
	struct epoll_event ev = {};

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (cs) {
			epoll_ctl(p->ep, EPOLL_CTL_DEL, fd, NULL);
			cs->src.fd = -1;
			cs->dead_next = p->dead;
			p->dead = cs;
		}
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (cs) {
		ev.data.ptr = &cs->src;
		return epoll_ctl(p->ep, EPOLL_CTL_MOD, fd, &ev) ? -1 : 0;
	}
	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return -1;
	cs->src = (struct src){SRC_CURL_SOCK, fd};
	ev.data.ptr = &cs->src;
	if (epoll_ctl(p->ep, EPOLL_CTL_ADD, fd, &ev)) {
		free(cs);
		return -1;
	}
	curl_multi_assign(p->multi, fd, cs);
	return 0;
}

/* libcurl's next timeout; 0 means "as soon as you can", which must not
 * disarm the timerfd: 1 ns fires at once. */
static int curl_timer_cb(CURLM *m, long ms, void *userp)
{
	struct xlb_prober *p = userp;
	struct itimerspec its = {};

	(void)m;
	if (ms >= 0) {
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = ms ? (ms % 1000) * 1000000 : 1;
	}
	return timerfd_settime(p->curl_timer.fd, 0, &its, NULL) ? -1 : 0;
}

/* Close-on-exec (exec probes must not inherit the connection) and a RST at
 * close like tcp probes. */
static int curl_sockopt_cb(void *userp, curl_socket_t fd, curlsocktype purpose)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	struct probe *pr = userp;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const char *what;
	int err;

	(void)purpose;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (!pr->via.ifindex)
		return CURL_SOCKOPT_OK;
	/* Through the VIP: one connection per transfer (FORBID_REUSE), and a
	 * second socket would need a key of its own: refuse it. */
	memset(&ss, 0, sizeof(ss));
	if (pr->vfd >= 0 || getsockname(fd, (struct sockaddr *)&ss, &len))
		return CURL_SOCKOPT_ERROR;
	err = via_bind(pr, fd, ss.ss_family, &what);
	if (err) {
		pr_debug("probe via vip: couldn't %s: %s\n", what, strerror(-err));
		return CURL_SOCKOPT_ERROR;
	}
	return CURL_SOCKOPT_OK;
}

/* libcurl closes a socket: a recorded one is forgotten first. */
static int curl_close_cb(void *userp, curl_socket_t fd)
{
	via_forget(userp, fd);
	return close(fd);
}

/* Keep up to BODY_MAX bytes when the body is matched; discard otherwise. */
static size_t curl_write_cb(char *data, size_t size, size_t n, void *userp)
{
	struct probe *pr = userp;
	size_t len = size * n, take = BODY_MAX - pr->body_len;
	char *b;

	if (!pr->match[0] || !take)
		return len;
	if (take > len)
		take = len;
	b = realloc(pr->body, pr->body_len + take);
	if (!b)
		return 0; /* CURLE_WRITE_ERROR */
	memcpy(b + pr->body_len, data, take);
	pr->body = b;
	pr->body_len += take;
	return len;
}

static int status_ok(const struct probe *pr, long code)
{
	if (!pr->nranges)
		return code >= 200 && code <= 399;
	for (unsigned int i = 0; i < pr->nranges; i++)
		if (code >= pr->ranges[i].lo && code <= pr->ranges[i].hi)
			return 1;
	return 0;
}

static int is_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		return 1;
	default:
		return 0;
	}
}

static void http_done(struct xlb_prober *p, struct probe *pr, CURLcode rc)
{
	long code = 0, os_err = 0;

	if (rc == CURLE_COULDNT_CONNECT &&
	    curl_easy_getinfo(pr->easy, CURLINFO_OS_ERRNO, &os_err) == CURLE_OK && os_err)
		finish(p, pr, 0, "%s", errno_reason((int)os_err));
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		finish(p, pr, 0, "timeout");
	else if (is_tls_error(rc))
		finish(p, pr, 0, "TLS error");
	else if (rc != CURLE_OK)
		finish(p, pr, 0, "%s", curl_easy_strerror(rc));
	else if (curl_easy_getinfo(pr->easy, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
		 !status_ok(pr, code))
		finish(p, pr, 0, "bad status %ld", code);
	else if (pr->match[0] &&
		 !(pr->body && memmem(pr->body, pr->body_len, pr->match, strlen(pr->match))))
		finish(p, pr, 0, "body mismatch");
	else
		finish(p, pr, 1, "ok");
}

/* Finish the transfers libcurl reports done. */
static void curl_collect(struct xlb_prober *p)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(p->multi, &left))) {
		char *pr = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &pr);
		http_done(p, (struct probe *)pr, m->data.result);
	}
}

static void curl_action(struct xlb_prober *p, curl_socket_t fd, __u32 events)
{
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(p->multi, fd, flags, &running);
	curl_collect(p);
}

/*
 * GET http(s)://NAME:PORT/PATH. NAME is the address, or `host` when set,
 * with CURLOPT_CONNECT_TO sending the connection to the address anyway: the
 * Host header, SNI and certificate check then use the name.
 */
static void http_start(struct xlb_prober *p, struct probe *pr, const struct xlb_cfg_check *c,
		       const char *addr, __u8 family, __u16 port, __u32 timeout_ms)
{
	const char *scheme = c->type == XLB_CHECK_HTTPS ? "https" : "http";
	const char *lb = family == XLB_AF_INET6 ? "[" : "", *rb = family == XLB_AF_INET6 ? "]" : "";
	char url[64 + 2 * XLB_CHECK_STR], addr_host[64], conn_to[96 + XLB_CHECK_STR];
	CURL *e;

	snprintf(addr_host, sizeof(addr_host), "%s%s%s", lb, addr, rb);
	snprintf(url, sizeof(url), "%s://%s:%u%s%s", scheme, c->host[0] ? c->host : addr_host, port,
		 c->path[0] == '/' ? "" : "/", c->path);
	e = pr->easy = curl_easy_init();
	if (!e) {
		finish(p, pr, 0, "curl: %s", curl_easy_strerror(CURLE_OUT_OF_MEMORY));
		return;
	}
	if (c->host[0]) {
		snprintf(conn_to, sizeof(conn_to), "%s:%u:%s:%u", c->host, port, addr_host, port);
		pr->conn_to = curl_slist_append(NULL, conn_to);
		if (!pr->conn_to) {
			finish(p, pr, 0, "curl: %s", curl_easy_strerror(CURLE_OUT_OF_MEMORY));
			return;
		}
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, pr->conn_to);
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, pr);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "xlb-health-check");
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, curl_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, pr);
	curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, curl_sockopt_cb);
	curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, pr);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, curl_close_cb);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, pr);
	if (curl_multi_add_handle(p->multi, e) != CURLM_OK)
		finish(p, pr, 0, "curl: couldn't add transfer");
}

/* ---- Prober ------------------------------------------------------------- */

static void addr_str(const union xlb_addr *a, __u8 family, char *buf, size_t len)
{
	if (family == XLB_AF_INET)
		inet_ntop(AF_INET, &a->w[3], buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a->b, buf, (socklen_t)len);
}

/* An on/off switch in the environment: unset or "1" on, "0" off; anything
 * else is said and ignored (on). */
static int env_switch(const char *name)
{
	const char *v = getenv(name);

	if (!v || !strcmp(v, "1"))
		return 1;
	if (!strcmp(v, "0"))
		return 0;
	pr_warn("%s='%s' ignored: set it to 0 (off) or 1 (on, the default)\n", name, v);
	return 1;
}

struct xlb_prober *xlb_prober_new(xlb_probe_done_fn done, void *ctx)
{
	static int curl_ready; /* curl_global_init() once per process, never undone */
	struct xlb_prober *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->done = done;
	p->ctx = ctx;
	link_init(&p->queue);
	link_init(&p->reaping);
	link_init(&p->polled);
	if (!env_switch("XLB_PROBE_URING"))
		p->ring_state = -EPERM; /* off: plain tcp checks on epoll too */
	p->ep = epoll_create1(EPOLL_CLOEXEC);
	p->deadline = (struct src){SRC_DEADLINE,
				   timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)};
	p->curl_timer = (struct src){SRC_CURL_TIMER,
				     timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)};
	p->ready = (struct src){SRC_READY, eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
	p->heap_cap = p->nbuckets = 64;
	p->heap = calloc(p->heap_cap, sizeof(*p->heap));
	p->tags = calloc(p->nbuckets, sizeof(*p->tags));
	if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
		curl_ready = 1;
	if (curl_ready)
		p->multi = curl_multi_init();
	if (p->ep < 0 || p->deadline.fd < 0 || p->curl_timer.fd < 0 || p->ready.fd < 0 ||
	    !p->heap || !p->tags || !p->multi || ep_add(p, &p->deadline, EPOLLIN) ||
	    ep_add(p, &p->curl_timer, EPOLLIN) || ep_add(p, &p->ready, EPOLLIN)) {
		pr_warn("couldn't create the health-check prober\n");
		xlb_prober_free(p);
		return NULL;
	}
	if (env_switch("XLB_PROBE_SYN"))
		syn_make(p);
	else
		p->syn_state = -EPERM;
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	return p;
}

static void bury_curl_socks(struct xlb_prober *p)
{
	while (p->dead) {
		struct csock *cs = p->dead;

		p->dead = cs->dead_next;
		free(cs);
	}
}

void xlb_prober_free(struct xlb_prober *p)
{
	if (!p)
		return;
	for (unsigned int b = 0; p->tags && b < p->nbuckets; b++)
		while (p->tags[b])
			xlb_prober_cancel(p, p->tags[b]->tag);
	/* Shutting down: wait for the SIGKILLed children rather than leave zombies. */
	while (!link_empty(&p->reaping))
		reap(p, container_of(p->reaping.next, struct reaper, link), 1);
	if (p->multi)
		curl_multi_cleanup(p->multi);
	bury_curl_socks(p);
	xlb_tcpring_free(p->ring);
	xlb_synprobe_free(p->syn);
	if (p->ep >= 0)
		close(p->ep);
	if (p->deadline.fd >= 0)
		close(p->deadline.fd);
	if (p->curl_timer.fd >= 0)
		close(p->curl_timer.fd);
	if (p->ready.fd >= 0)
		close(p->ready.fd);
	free(p->heap);
	free(p->tags);
	free(p);
}

int xlb_prober_fd(const struct xlb_prober *p)
{
	return p->ep;
}

unsigned int xlb_prober_running(const struct xlb_prober *p)
{
	return p->nprobes;
}

static void handle(struct xlb_prober *p, struct src *s, __u32 events)
{
	struct probe *pr;

	switch (s->kind) {
	case SRC_PROBE:
		pr = container_of(s, struct probe, src);
		if (pr->finished)
			break; /* finished earlier in this batch */
		if (pr->type == XLB_CHECK_TCP)
			tcp_event(p, pr, events);
		else if (pr->type == XLB_CHECK_UDP)
			udp_event(p, pr);
		else
			exec_event(p, pr);
		break;
	case SRC_CURL_SOCK:
		if (s->fd >= 0) /* not let go of earlier in this batch */
			curl_action(p, s->fd, events);
		break;
	case SRC_CURL_TIMER:
		drain(s->fd);
		curl_action(p, CURL_SOCKET_TIMEOUT, 0);
		break;
	case SRC_DEADLINE:
		drain(s->fd);
		p->armed_us = 0; /* a fired timerfd is disarmed */
		break;
	case SRC_READY:
		break; /* deliver() reads it */
	case SRC_REAP:
		reap(p, container_of(s, struct reaper, src), 0);
		break;
	case SRC_RING:
		xlb_tcpring_reap(p->ring);
		break;
	case SRC_SYN:
		xlb_synprobe_reap(p->syn, s->fd, events);
		break;
	}
}

/* The deadline passed: "timeout", and for a tcp probe that got through
 * connecting, what it was waiting for. */
static void timed_out(struct xlb_prober *p, struct probe *pr)
{
	char got[40];

	if (pr->type != XLB_CHECK_TCP || pr->phase == TCP_CONNECTING)
		finish(p, pr, 0, "timeout");
	else if (pr->phase == TCP_SENDING)
		finish(p, pr, 0, "timeout sending");
	else if (!pr->reply_len)
		finish(p, pr, 0, "timeout waiting for reply");
	else
		finish(p, pr, 0, "timeout: got '%s'",
		       excerpt(pr->reply, pr->reply_len, got, sizeof(got)));
}

void xlb_prober_run(struct xlb_prober *p)
{
	struct epoll_event ev[BATCH];
	int n = epoll_wait(p->ep, ev, BATCH, 0);
	__u64 now;

	p->running = 1;
	for (int i = 0; i < n; i++)
		handle(p, ev[i].data.ptr, ev[i].events);
	/* Whatever produced events, the deadlines are the authority. */
	now = now_us();
	poll_children(p, now);
	/* A connect through the ring that is due: what the kernel completed
	 * counts first (as an fd event of this batch would). */
	if (p->ring && p->nheap && p->heap[0]->deadline_us <= now && p->heap[0]->on_ring)
		xlb_tcpring_reap(p->ring);
	if (p->syn && p->nheap && p->heap[0]->deadline_us <= now && p->heap[0]->on_syn)
		xlb_synprobe_reap(p->syn, -1, EPOLLIN);
	while (p->nheap && p->heap[0]->deadline_us <= now)
		timed_out(p, p->heap[0]);
	bury_curl_socks(p);
	arm_deadline(p);
	p->running = 0; /* what the callbacks finish needs the eventfd again */
	ring_flush(p);	/* closes and cancels of this batch */
	deliver(p);
}

void xlb_prober_hold(struct xlb_prober *p, int hold)
{
	p->hold = hold;
	ring_flush(p);
}

int xlb_prober_uring(const struct xlb_prober *p)
{
	return p->ring_state;
}

int xlb_prober_syn(const struct xlb_prober *p)
{
	return p->syn_state;
}

void xlb_prober_set_route(struct xlb_prober *p, xlb_probe_route_fn fn, void *ctx)
{
	p->route = fn;
	p->route_ctx = ctx;
}

int xlb_prober_start(struct xlb_prober *p, const struct xlb_cfg_check *c, __u32 timeout_ms,
		     const union xlb_addr *addr, __u8 family, __u16 port, void *tag)
{
	return xlb_prober_start_via(p, c, timeout_ms, addr, family, port, tag, NULL);
}

int xlb_prober_start_via(struct xlb_prober *p, const struct xlb_cfg_check *c, __u32 timeout_ms,
			 const union xlb_addr *addr, __u8 family, __u16 port, void *tag,
			 const struct xlb_probe_via *via)
{
	struct sockaddr_storage ss;
	char astr[INET6_ADDRSTRLEN];
	struct probe *pr;
	socklen_t len;

	if (*tag_slot(p, tag))
		return -EBUSY;
	if (reserve(p))
		return -ENOMEM;
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	if (!timeout_ms)
		timeout_ms = XLB_CHECK_DEFAULT_TIMEOUT_MS;
	pr->src = (struct src){SRC_PROBE, -1};
	pr->tag = tag;
	pr->owner = p;
	pr->vfd = -1;
	if (via && c->type != XLB_CHECK_EXEC && c->type != XLB_CHECK_NONE) {
		pr->via = *via;
		pr->via.vip = *addr; /* the probe's destination */
		pr->via.port = port;
		pr->vproto = c->type == XLB_CHECK_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	}
	pr->type = c->type;
	pr->start_us = now_us();
	pr->deadline_us = pr->start_us + (__u64)timeout_ms * 1000;
	link_init(&pr->qlink);
	if (c->type == XLB_CHECK_UDP || c->type == XLB_CHECK_TCP)
		snprintf(pr->match, sizeof(pr->match), "%s", c->expect);
	else
		snprintf(pr->match, sizeof(pr->match), "%s", c->body);
	pr->nranges = c->nranges < XLB_CHECK_MAX_RANGES ? c->nranges : XLB_CHECK_MAX_RANGES;
	memcpy(pr->ranges, c->ranges, sizeof(pr->ranges));
	tag_insert(p, pr);
	heap_push(p, pr);

	len = to_sockaddr(addr, family, port, &ss);
	if (c->type == XLB_CHECK_HTTP || c->type == XLB_CHECK_HTTPS || c->type == XLB_CHECK_EXEC)
		addr_str(addr, family, astr, sizeof(astr));
	switch (c->type) {
	case XLB_CHECK_TCP:
		tcp_start(p, pr, (struct sockaddr *)&ss, len, c->send);
		break;
	case XLB_CHECK_HTTP:
	case XLB_CHECK_HTTPS:
		http_start(p, pr, c, astr, family, port, timeout_ms);
		break;
	case XLB_CHECK_UDP:
		udp_start(p, pr, (struct sockaddr *)&ss, len, c->send);
		break;
	case XLB_CHECK_EXEC:
		exec_start(p, pr, c, astr, port);
		break;
	case XLB_CHECK_NONE:
		finish(p, pr, 1, "ok");
		break;
	default:
		finish(p, pr, 0, "unknown check type %u", c->type);
		break;
	}
	arm_deadline(p);
	return 0;
}

void xlb_prober_cancel(struct xlb_prober *p, void *tag)
{
	struct probe *pr = *tag_slot(p, tag);

	if (!pr)
		return;
	tag_remove(p, pr);
	if (pr->finished)
		link_del(&pr->qlink);
	else
		release(p, pr);
	free(pr);
	arm_deadline(p);
	ring_flush(p);
}
