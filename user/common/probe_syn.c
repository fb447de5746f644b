// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Half-open tcp checks (probe_syn.h).
 *
 * A slot goes: free -> queued (its SYN waits for xlb_synprobe_flush()) ->
 * sent (on the list of its retransmission stage, in the order sent, so each
 * list's head is its earliest) -> queued again when its retransmission is
 * due, and so on; or -> failed (a send or an ICMP error: on the failed list
 * until the next reap reports it, since done() is never called from
 * _start or _flush). A reply, a report or an abandon frees the slot; its
 * generation changes, so a stale handle or a queued send of the old check
 * touches nothing. A free slot is also out of the reply table, so a late
 * SYN-ACK finds nobody (this host's kernel still answers it with a RST).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "log.h"
#include "probe_syn.h"

#define SLOTS_MIN 256
#define SLOTS_MAX 65536
#define BATCH 64    /* segments a sendmmsg/recvmmsg */
#define SEG_BUF 128 /* received bytes kept a segment: IP header and tcp header */
#define SYN_LEN 24  /* tcp header and the MSS option */
#define NSTAGES 8   /* SYNs sent again 1, 3, 7, ... 255 s after the first */
#define RTO_MS 1000 /* the kernel's initial SYN timeout (TCP_TIMEOUT_INIT) */
#define RCVBUF (4 << 20)
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

enum {
	FD4,
	FD6,
	FDT
};

enum slot_state {
	S_FREE,
	S_QUEUED, /* its SYN waits for a flush */
	S_SENT,	  /* on stage list `stage` */
	S_FAILED, /* err set, on the failed list */
	S_LAST,	  /* sent for the last time: its deadline ends it */
};

struct slot {
	void *owner;
	__u32 gen;
	__u32 hnext;	    /* reply table chain: slot + 1, 0 the end */
	__u32 lnext, lprev; /* its list (stage or failed): slot + 1 */
	__u8 state, stage, family;
	int err;
	__u32 isn;
	__u16 sport, dport; /* network order */
	__u8 daddr[16];	    /* IPv4: the first 4 */
	__u64 due_us;	    /* stage list: when to send again */
	__u8 seg[SYN_LEN];
};

struct list {
	__u32 head, tail; /* slot + 1 */
};

struct src_ent {
	__u32 daddr, saddr; /* network order; daddr 0: empty */
	__u64 until_us;
};

struct xlb_synprobe {
	int fd[XLB_SYN_FDS];
	int udp4; /* source address lookups */
	int holders[XLB_SYN_PORTS];
	__u16 base; /* host order */
	unsigned int next_port;
	struct slot *slots;
	__u32 nslots, nfree, *free_stack;
	__u32 *table, tmask; /* reply table: bucket -> slot + 1 */
	struct list stage[NSTAGES], failed;
	__u64 *sendq; /* handles of queued SYNs */
	__u32 nsend, send_cap;
	__u64 armed_us;
	unsigned int busy;
	__u64 rng;
	struct src_ent *srcs; /* open addressing, power of two */
	__u32 nsrcs, srcs_cap;
	xlb_synprobe_done_fn done;
	void *ctx;
};

static __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}

/* xorshift64*: sequence numbers only need to be unguessable off-path. */
static __u32 rnd(struct xlb_synprobe *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return (__u32)((s->rng * 0x2545f4914f6cdd1dull) >> 32);
}

/* ---- Segments ------------------------------------------------------------ */

int xlb_syn_parse(int family, const void *buf, size_t len, struct xlb_syn_seg *r)
{
	const __u8 *b = buf;
	size_t off = 0;

	if (family == AF_INET) {
		if (len < 20 || b[0] >> 4 != 4 || (b[0] & 0xf) < 5 || b[9] != IPPROTO_TCP)
			return -EINVAL;
		if ((((__u16)b[6] << 8 | b[7]) & 0x1fff) != 0)
			return -EINVAL; /* a later fragment: no tcp header */
		off = (size_t)(b[0] & 0xf) * 4;
	} else if (family != AF_INET6) {
		return -EINVAL;
	}
	if (len < off + 20 || (b[off + 12] >> 4) < 5)
		return -EINVAL;
	b += off;
	r->sport = (__u16)(b[0] << 8 | b[1]);
	r->dport = (__u16)(b[2] << 8 | b[3]);
	r->seq = (__u32)b[4] << 24 | (__u32)b[5] << 16 | (__u32)b[6] << 8 | b[7];
	r->ack = (__u32)b[8] << 24 | (__u32)b[9] << 16 | (__u32)b[10] << 8 | b[11];
	r->flags = b[13];
	return 0;
}

static __u32 sum16(const void *p, size_t n, __u32 acc)
{
	const __u8 *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (__u32)b[i] << 8 | b[i + 1];
	if (n & 1)
		acc += (__u32)b[n - 1] << 8;
	return acc;
}

/* The SYN: tcp header with the MSS option; IPv4's checksum over saddr. */
static void build_syn(struct slot *sl, __u32 saddr)
{
	__u8 *t = sl->seg;
	__u32 acc;

	memset(t, 0, SYN_LEN);
	memcpy(t, &sl->sport, 2);
	memcpy(t + 2, &sl->dport, 2);
	t[4] = (__u8)(sl->isn >> 24);
	t[5] = (__u8)(sl->isn >> 16);
	t[6] = (__u8)(sl->isn >> 8);
	t[7] = (__u8)sl->isn;
	t[12] = (SYN_LEN / 4) << 4;
	t[13] = TH_SYN;
	t[14] = 64240 >> 8; /* window */
	t[15] = 64240 & 0xff;
	t[20] = 2; /* MSS */
	t[21] = 4;
	t[22] = (sl->family == AF_INET ? 1460 : 1440) >> 8;
	t[23] = (sl->family == AF_INET ? 1460 : 1440) & 0xff;
	if (sl->family != AF_INET)
		return; /* IPV6_CHECKSUM: the kernel sums it */
	acc = sum16(&saddr, 4, 0);
	acc = sum16(sl->daddr, 4, acc);
	acc += IPPROTO_TCP + SYN_LEN;
	acc = sum16(t, SYN_LEN, acc);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	acc = ~acc & 0xffff;
	t[16] = (__u8)(acc >> 8);
	t[17] = (__u8)acc;
}

/* ---- Source addresses (IPv4) -------------------------------------------- */

static __u32 src_hash(__u32 a)
{
	return (__u32)(((__u64)a * 0x9e3779b97f4a7c15ull) >> 32);
}

static struct src_ent *src_find(struct xlb_synprobe *s, __u32 daddr)
{
	__u32 m = s->srcs_cap - 1;

	for (__u32 i = src_hash(daddr) & m;; i = (i + 1) & m)
		if (!s->srcs[i].daddr || s->srcs[i].daddr == daddr)
			return &s->srcs[i];
}

/* The address this host's route gives packets to daddr: 0 or -errno (a
 * connect() would fail alike: ENETUNREACH, EHOSTUNREACH, EACCES...). */
static int src_of(struct xlb_synprobe *s, __u32 daddr, __u32 *saddr)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(9)};
	socklen_t len = sizeof(sin);
	__u64 now = now_us();
	struct src_ent *e;

	if ((s->nsrcs + 1) * 2 > s->srcs_cap) { /* full: forget them all */
		__u32 cap = s->srcs_cap < 65536 ? s->srcs_cap * 2 : s->srcs_cap;
		struct src_ent *n = calloc(cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		free(s->srcs);
		s->srcs = n;
		s->srcs_cap = cap;
		s->nsrcs = 0;
	}
	e = src_find(s, daddr);
	if (e->daddr && e->until_us > now) {
		*saddr = e->saddr;
		return 0;
	}
	sin.sin_addr.s_addr = daddr;
	if (connect(s->udp4, (struct sockaddr *)&sin, sizeof(sin)))
		return -errno;
	if (getsockname(s->udp4, (struct sockaddr *)&sin, &len))
		return -errno;
	if (!e->daddr)
		s->nsrcs++;
	*e = (struct src_ent){daddr, sin.sin_addr.s_addr, now + XLB_SYN_SRC_TTL_MS * 1000ull};
	*saddr = e->saddr;
	return 0;
}

/* A check to daddr got no answer (sent again, or given up): the source
 * address may be what changed; the next SYN there learns it afresh. */
static void src_forget(struct xlb_synprobe *s, const __u8 *daddr)
{
	__u32 a;
	struct src_ent *e;

	memcpy(&a, daddr, 4);
	e = src_find(s, a);
	if (e->daddr)
		e->until_us = 0;
}

/* ---- Lists and the reply table ------------------------------------------ */

static void list_add(struct xlb_synprobe *s, struct list *l, __u32 i)
{
	struct slot *sl = &s->slots[i];

	sl->lnext = 0;
	sl->lprev = l->tail;
	if (l->tail)
		s->slots[l->tail - 1].lnext = i + 1;
	else
		l->head = i + 1;
	l->tail = i + 1;
}

static void list_del(struct xlb_synprobe *s, struct list *l, __u32 i)
{
	struct slot *sl = &s->slots[i];

	if (sl->lprev)
		s->slots[sl->lprev - 1].lnext = sl->lnext;
	else
		l->head = sl->lnext;
	if (sl->lnext)
		s->slots[sl->lnext - 1].lprev = sl->lprev;
	else
		l->tail = sl->lprev;
	sl->lnext = sl->lprev = 0;
}

static __u32 key_hash(int family, const __u8 *addr, __u16 dport, __u16 sport)
{
	__u64 h = (__u64)family << 32 | (__u32)dport << 16 | sport;
	__u32 w;

	for (int i = 0; i < (family == AF_INET ? 4 : 16); i += 4) {
		memcpy(&w, addr + i, 4);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	}
	return (__u32)(h >> 32);
}

static __u32 *bucket(struct xlb_synprobe *s, const struct slot *sl)
{
	return &s->table[key_hash(sl->family, sl->daddr, sl->dport, sl->sport) & s->tmask];
}

/* The slot of a check in flight to addr:dport from sport; -1: none. */
static long lookup(struct xlb_synprobe *s, int family, const __u8 *addr, __u16 dport, __u16 sport)
{
	size_t alen = family == AF_INET ? 4 : 16;

	for (__u32 j = s->table[key_hash(family, addr, dport, sport) & s->tmask]; j;
	     j = s->slots[j - 1].hnext) {
		const struct slot *sl = &s->slots[j - 1];

		if (sl->family == family && sl->dport == dport && sl->sport == sport &&
		    !memcmp(sl->daddr, addr, alen))
			return (long)j - 1;
	}
	return -1;
}

static void table_del(struct xlb_synprobe *s, __u32 i)
{
	__u32 *pp = bucket(s, &s->slots[i]);

	while (*pp && *pp != i + 1)
		pp = &s->slots[*pp - 1].hnext;
	if (*pp)
		*pp = s->slots[i].hnext;
}

/* Room for one more slot: doubles the slots and the table. */
static int grow(struct xlb_synprobe *s)
{
	__u32 n = s->nslots ? s->nslots * 2 : SLOTS_MIN, *fs, *tb;
	struct slot *sl;

	if (s->nfree)
		return 0;
	if (n > SLOTS_MAX)
		return -ENOSPC;
	sl = realloc(s->slots, n * sizeof(*sl));
	if (!sl)
		return -ENOMEM;
	s->slots = sl;
	fs = realloc(s->free_stack, n * sizeof(*fs));
	tb = calloc((size_t)n * 2, sizeof(*tb));
	if (!fs || !tb) {
		free(tb);
		if (fs)
			s->free_stack = fs;
		return -ENOMEM;
	}
	s->free_stack = fs;
	free(s->table);
	s->table = tb;
	s->tmask = n * 2 - 1;
	memset(sl + s->nslots, 0, (n - s->nslots) * sizeof(*sl));
	for (__u32 i = 0; i < s->nslots; i++) { /* every slot in use is in the table */
		if (sl[i].state == S_FREE)
			continue;
		sl[i].hnext = *bucket(s, &sl[i]);
		*bucket(s, &sl[i]) = i + 1;
	}
	for (__u32 i = n; i > s->nslots; i--)
		s->free_stack[s->nfree++] = i - 1;
	s->nslots = n;
	return 0;
}

static void slot_free(struct xlb_synprobe *s, __u32 i)
{
	struct slot *sl = &s->slots[i];

	if (sl->state == S_SENT)
		list_del(s, &s->stage[sl->stage], i);
	else if (sl->state == S_FAILED)
		list_del(s, &s->failed, i);
	table_del(s, i);
	sl->state = S_FREE;
	sl->owner = NULL;
	sl->gen++;
	s->free_stack[s->nfree++] = i;
	s->busy--;
}

/* ---- Timer --------------------------------------------------------------- */

/* The timer fires by the earliest retransmission, at once when failures
 * wait to be reported or a send was refused for lack of room. Only moved
 * earlier (as the prober's deadline timer): firing early costs a look. */
static void arm(struct xlb_synprobe *s)
{
	struct itimerspec its = {};
	__u64 want = 0;

	if (s->failed.head || s->nsend)
		want = now_us() + 1000;
	for (int k = 0; k < NSTAGES; k++)
		if (s->stage[k].head) {
			__u64 d = s->slots[s->stage[k].head - 1].due_us;

			if (!want || d < want)
				want = d;
		}
	if (!want || (s->armed_us && s->armed_us <= want))
		return;
	its.it_value.tv_sec = (time_t)(want / 1000000);
	its.it_value.tv_nsec = (long)(want % 1000000) * 1000;
	if (timerfd_settime(s->fd[FDT], TFD_TIMER_ABSTIME, &its, NULL))
		pr_warn("couldn't set the SYN retransmission timer: %s\n", strerror(errno));
	else
		s->armed_us = want;
}

/* ---- Checks -------------------------------------------------------------- */

static void fail(struct xlb_synprobe *s, __u32 i, int err)
{
	struct slot *sl = &s->slots[i];

	if (sl->state == S_SENT)
		list_del(s, &s->stage[sl->stage], i);
	sl->state = S_FAILED;
	sl->err = err;
	list_add(s, &s->failed, i);
}

static int queue_send(struct xlb_synprobe *s, __u32 i)
{
	if (s->nsend == s->send_cap) {
		__u32 cap = s->send_cap ? s->send_cap * 2 : 256;
		__u64 *q = realloc(s->sendq, cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		s->sendq = q;
		s->send_cap = cap;
	}
	s->sendq[s->nsend++] = (__u64)s->slots[i].gen << 32 | i;
	s->slots[i].state = S_QUEUED;
	return 0;
}

int xlb_synprobe_start(struct xlb_synprobe *s, const struct sockaddr *sa, socklen_t len,
		       void *owner, __u64 *handle)
{
	const struct sockaddr_in *sin = (const void *)sa;
	const struct sockaddr_in6 *sin6 = (const void *)sa;
	int family = sa->sa_family, err;
	__u8 addr[16] = {};
	__u32 saddr = 0, i;
	__u16 dport, sport = 0;
	struct slot *sl;

	if (family == AF_INET && len >= sizeof(*sin) && s->fd[FD4] >= 0) {
		memcpy(addr, &sin->sin_addr, 4);
		dport = sin->sin_port;
	} else if (family == AF_INET6 && len >= sizeof(*sin6) && s->fd[FD6] >= 0) {
		memcpy(addr, &sin6->sin6_addr, 16);
		dport = sin6->sin6_port;
	} else {
		return -EAFNOSUPPORT;
	}
	err = grow(s);
	if (err)
		return err;
	/* The next port of the block that has no check to this address in flight. */
	for (unsigned int k = 0;; k++) {
		if (k == XLB_SYN_PORTS)
			return -EBUSY;
		sport = htons((__u16)(s->base + s->next_port++ % XLB_SYN_PORTS));
		if (lookup(s, family, addr, dport, sport) < 0)
			break;
	}
	i = s->free_stack[--s->nfree];
	sl = &s->slots[i];
	sl->owner = owner;
	sl->family = (__u8)family;
	sl->stage = 0;
	sl->lnext = sl->lprev = 0;
	memcpy(sl->daddr, addr, sizeof(addr));
	sl->dport = dport;
	sl->sport = sport;
	sl->isn = rnd(s);
	sl->hnext = *bucket(s, sl);
	*bucket(s, sl) = i + 1;
	s->busy++;
	*handle = (__u64)sl->gen << 32 | i;
	err = family == AF_INET ? src_of(s, sin->sin_addr.s_addr, &saddr) : 0;
	if (err) { /* as connect() would have said */
		fail(s, i, -err);
		arm(s);
		return 0;
	}
	build_syn(sl, saddr);
	if (queue_send(s, i)) {
		slot_free(s, i);
		return -ENOMEM;
	}
	return 0;
}

static struct slot *by_handle(struct xlb_synprobe *s, __u64 h)
{
	__u32 i = (__u32)h;

	if (i >= s->nslots || s->slots[i].gen != (__u32)(h >> 32) || s->slots[i].state == S_FREE)
		return NULL;
	return &s->slots[i];
}

void xlb_synprobe_abandon(struct xlb_synprobe *s, __u64 handle)
{
	struct slot *sl = by_handle(s, handle);

	if (!sl)
		return;
	if (sl->family == AF_INET && (sl->state == S_SENT || sl->state == S_LAST))
		src_forget(s, sl->daddr); /* unanswered: a timeout, mostly */
	slot_free(s, (__u32)handle);
}

/* Report slot i's outcome and free it (before the callback, which may
 * start checks and move the slots). */
static void report(struct xlb_synprobe *s, __u32 i, int err)
{
	void *owner = s->slots[i].owner;

	slot_free(s, i);
	s->done(s->ctx, owner, err, NULL);
}

/* Sent (or sent again): on the list of its next stage, or on none once it
 * has no retransmission left (the prober's deadline ends it). */
static void sent(struct xlb_synprobe *s, __u32 i, __u64 now)
{
	struct slot *sl = &s->slots[i];

	if (sl->stage >= NSTAGES) {
		sl->state = S_LAST;
		return;
	}
	sl->state = S_SENT;
	sl->due_us = now + ((__u64)RTO_MS * 1000 << sl->stage);
	list_add(s, &s->stage[sl->stage], i);
}

/* One batch of SYNs to send: messages, their buffers, their slots. */
struct batch {
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} to[BATCH];
	__u32 idx[BATCH];
	int n;
};

static void batch_add(struct batch *b, __u32 i, const struct slot *sl)
{
	int n = b->n++;

	b->idx[n] = i;
	b->iov[n] = (struct iovec){(void *)sl->seg, SYN_LEN};
	memset(&b->to[n], 0, sizeof(b->to[n]));
	if (sl->family == AF_INET) {
		b->to[n].in.sin_family = AF_INET;
		memcpy(&b->to[n].in.sin_addr, sl->daddr, 4);
	} else {
		b->to[n].in6.sin6_family = AF_INET6;
		memcpy(&b->to[n].in6.sin6_addr, sl->daddr, 16);
	}
	b->m[n].msg_hdr = (struct msghdr){
		.msg_name = &b->to[n],
		.msg_namelen = sl->family == AF_INET ? sizeof(b->to[n].in) : sizeof(b->to[n].in6),
		.msg_iov = &b->iov[n],
		.msg_iovlen = 1,
	};
}

/* Send batch b on fd: the SYNs sent go on their stage lists, one the kernel
 * refuses fails as connect() would have; 0, or how many from the end were
 * not sent for lack of room (they wait for the timer). */
static int batch_send(struct xlb_synprobe *s, int fd, struct batch *b, __u64 now)
{
	int off = 0;

	while (off < b->n) {
		int k = sendmmsg(fd, b->m + off, (unsigned int)(b->n - off), MSG_DONTWAIT);

		if (k > 0) {
			for (int j = off; j < off + k; j++)
				sent(s, b->idx[j], now);
			off += k;
		} else if (errno == EAGAIN || errno == ENOBUFS) {
			return b->n - off;
		} else if (errno != EINTR) {
			fail(s, b->idx[off++], errno);
		}
	}
	return 0;
}

/* The queued SYNs of one family go in batches; the other family's stay
 * queued, as do the ones without room. */
static void flush_family(struct xlb_synprobe *s, int family, __u64 now)
{
	int fd = s->fd[family == AF_INET ? FD4 : FD6];
	__u32 q = 0, kept = 0;
	struct batch b;

	while (q < s->nsend) {
		int left;

		b.n = 0;
		while (q < s->nsend && b.n < BATCH) {
			__u64 h = s->sendq[q++];
			struct slot *sl = by_handle(s, h);

			if (!sl || sl->state != S_QUEUED)
				continue; /* abandoned since */
			if (sl->family != family)
				s->sendq[kept++] = h;
			else
				batch_add(&b, (__u32)h, sl);
		}
		left = batch_send(s, fd, &b, now);
		if (!left)
			continue;
		for (int j = b.n - left; j < b.n; j++)
			s->sendq[kept++] = (__u64)s->slots[b.idx[j]].gen << 32 | b.idx[j];
		while (q < s->nsend)
			s->sendq[kept++] = s->sendq[q++];
	}
	s->nsend = kept;
}

void xlb_synprobe_flush(struct xlb_synprobe *s)
{
	__u64 now = now_us();

	flush_family(s, AF_INET, now);
	flush_family(s, AF_INET6, now);
	arm(s);
}

/* A segment from addr (a SYN-ACK or RST of one of ours, or not). */
static void on_segment(struct xlb_synprobe *s, int family, const __u8 *addr,
		       const struct xlb_syn_seg *g)
{
	long i = lookup(s, family, addr, htons(g->sport), htons(g->dport));
	const struct slot *sl;

	if (i < 0)
		return;
	sl = &s->slots[i];
	if (!(g->flags & TH_ACK) || g->ack != sl->isn + 1 || sl->state == S_FAILED)
		return; /* not an answer to this SYN (the kernel's connect drops it too) */
	if (g->flags & TH_RST)
		report(s, (__u32)i, ECONNREFUSED);
	else if (g->flags & TH_SYN)
		report(s, (__u32)i, 0);
}

static void read_segments(struct xlb_synprobe *s, int fam)
{
	static __u8 buf[BATCH][SEG_BUF];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in6 from[BATCH];
	int family = fam == FD4 ? AF_INET : AF_INET6;

	for (int round = 0; round < 64; round++) {
		int n;

		for (int j = 0; j < BATCH; j++) {
			iov[j] = (struct iovec){buf[j], SEG_BUF};
			m[j].msg_hdr = (struct msghdr){.msg_name = &from[j],
						       .msg_namelen = sizeof(from[j]),
						       .msg_iov = &iov[j],
						       .msg_iovlen = 1};
		}
		n = recvmmsg(s->fd[fam], m, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue; /* EINTR, or a pending ICMP error (sk_err) said once */
		}
		for (int j = 0; j < n; j++) {
			struct xlb_syn_seg g;
			const __u8 *a =
				family == AF_INET
					? (const __u8 *)&((struct sockaddr_in *)&from[j])->sin_addr
					: (const __u8 *)&from[j].sin6_addr;

			if (!xlb_syn_parse(family, buf[j], m[j].msg_len, &g))
				on_segment(s, family, a, &g);
		}
		if (n < BATCH)
			return;
	}
}

/* ICMP errors about our SYNs (IP_RECVERR): what a connect() would end with. */
static void read_errors(struct xlb_synprobe *s, int fam)
{
	int family = fam == FD4 ? AF_INET : AF_INET6;

	for (int round = 0; round < 256; round++) {
		union {
			char b[CMSG_SPACE(sizeof(struct sock_extended_err) +
					  sizeof(struct sockaddr_in6))];
			struct cmsghdr align;
		} c;
		struct sockaddr_in6 to = {};
		__u8 b[SEG_BUF];
		struct iovec iov = {b, sizeof(b)};
		struct msghdr mh = {.msg_name = &to,
				    .msg_namelen = sizeof(to),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = c.b,
				    .msg_controllen = sizeof(c.b)};
		const struct sock_extended_err *ee = NULL;
		ssize_t n = recvmsg(s->fd[fam], &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
		const __u8 *addr;
		__u16 sport, dport;
		long i;

		if (n < 0)
			return;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if ((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
			    (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR))
				ee = (const void *)CMSG_DATA(cm);
		/* The SYN's tcp header: its ports and sequence number. */
		if (!ee || n < 8 || !ee->ee_errno || ee->ee_errno == EMSGSIZE)
			continue;
		if (ee->ee_origin == SO_EE_ORIGIN_ICMP && ee->ee_type == 5)
			continue; /* a redirect: no error for a connect either */
		addr = family == AF_INET ? (const __u8 *)&((struct sockaddr_in *)&to)->sin_addr
					 : (const __u8 *)&to.sin6_addr;
		memcpy(&sport, b, 2); /* network order, as the slots keep them */
		memcpy(&dport, b + 2, 2);
		i = lookup(s, family, addr, dport, sport);
		if (i >= 0 && s->slots[i].state != S_FAILED &&
		    ((__u32)b[4] << 24 | (__u32)b[5] << 16 | (__u32)b[6] << 8 | b[7]) ==
			    s->slots[i].isn)
			report(s, (__u32)i, (int)ee->ee_errno);
	}
}

/* Queue slot i's SYN again; IPv4's with its source address learnt afresh
 * (a route change may be why nothing came back). */
static int resend(struct xlb_synprobe *s, __u32 i)
{
	__u32 saddr = 0, daddr;
	int err;

	if (s->slots[i].family == AF_INET) {
		memcpy(&daddr, s->slots[i].daddr, 4);
		src_forget(s, s->slots[i].daddr);
		err = src_of(s, daddr, &saddr);
		if (err)
			return err;
		build_syn(&s->slots[i], saddr);
	}
	return queue_send(s, i);
}

static void on_timer(struct xlb_synprobe *s)
{
	__u64 v, now = now_us();
	int err;

	if (read(s->fd[FDT], &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("couldn't read the SYN retransmission timer: %s\n", strerror(errno));
	s->armed_us = 0;
	for (int k = 0; k < NSTAGES; k++)
		while (s->stage[k].head && s->slots[s->stage[k].head - 1].due_us <= now) {
			__u32 i = s->stage[k].head - 1;

			list_del(s, &s->stage[k], i);
			s->slots[i].stage++;
			err = resend(s, i);
			if (err)
				fail(s, i, -err);
		}
}

void xlb_synprobe_reap(struct xlb_synprobe *s, int fd, __u32 events)
{
	if (fd == s->fd[FDT])
		on_timer(s);
	for (int f = FD4; f <= FD6; f++) {
		if (s->fd[f] < 0 || (fd != s->fd[f] && fd != -1))
			continue;
		if (events & EPOLLERR)
			read_errors(s, f);
		read_segments(s, f);
	}
	while (s->failed.head)
		report(s, s->failed.head - 1, s->slots[s->failed.head - 1].err);
	arm(s);
}

/* ---- Set-up -------------------------------------------------------------- */

/*
 * Keep SYN-ACKs (and RSTs) to the port block, nothing else: a raw tcp
 * socket gets a copy of every tcp segment the host receives. IPv4: from
 * the IP header (its length read from it; later fragments dropped); IPv6:
 * the tcp header right after the fixed header (a reply with extension
 * headers is dropped: the check times out).
 */
static int attach_filter(int fd, int family, __u16 base)
{
	__u32 lo = base, hi = base + XLB_SYN_PORTS - 1;
	struct sock_filter f4[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 8, 0),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 5),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, hi, 4, 0),
		BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, TH_RST, 3, 0),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, TH_SYN | TH_ACK),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TH_SYN | TH_ACK, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, SEG_BUF),
	};
	struct sock_filter f6[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, (__u32)SKF_NET_OFF + 40 + 2),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 5),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, hi, 4, 0),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (__u32)SKF_NET_OFF + 40 + 13),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, TH_RST, 3, 0),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, TH_SYN | TH_ACK),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TH_SYN | TH_ACK, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, SEG_BUF),
	};
	struct sock_fprog prog = family == AF_INET
					 ? (struct sock_fprog){sizeof(f4) / sizeof(f4[0]), f4}
					 : (struct sock_fprog){sizeof(f6) / sizeof(f6[0]), f6};

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ? -errno : 0;
}

static int bind_port(int family, __u16 port, __u16 *got)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), off = 0, err;
	socklen_t len = family == AF_INET ? sizeof(a4) : sizeof(a6);
	struct sockaddr *sa = family == AF_INET ? (struct sockaddr *)&a4 : (struct sockaddr *)&a6;

	if (fd < 0)
		return -errno;
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)))
		goto fail;
	if (bind(fd, sa, len) || getsockname(fd, sa, &len))
		goto fail;
	*got = ntohs(family == AF_INET ? a4.sin_port : a6.sin6_port);
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* XLB_SYN_PORTS consecutive local ports held by bound sockets: one the
 * kernel picks, and the ports after it (again elsewhere when one is taken).
 * Dual-stack when the host has IPv6. */
static int hold_ports(struct xlb_synprobe *s, int family)
{
	int err = -EADDRINUSE;

	for (int attempt = 0; attempt < 32; attempt++) {
		int n = 0;
		__u16 got;

		err = bind_port(family, 0, &s->base);
		if (err < 0)
			return err;
		s->holders[n++] = err;
		if (s->base > 65535 - XLB_SYN_PORTS)
			err = -EADDRINUSE;
		while (err >= 0 && n < XLB_SYN_PORTS) {
			err = bind_port(family, (__u16)(s->base + n), &got);
			if (err >= 0)
				s->holders[n++] = err;
		}
		if (n == XLB_SYN_PORTS)
			return 0;
		while (n) {
			close(s->holders[--n]);
			s->holders[n] = -1;
		}
		if (err != -EADDRINUSE)
			return err;
	}
	return err;
}

static int raw_socket(int family, __u16 base)
{
	int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	int on = 1, buf = RCVBUF, csum = 16, pmtu = IP_PMTUDISC_DO, err;

	if (fd < 0)
		return -errno;
	/* RCVBUFFORCE where xlbd still has CAP_NET_ADMIN (setup), else what
	 * net.core.rmem_max allows. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	/* IPv4: ICMP errors queued; DF, as the kernel's own SYNs have (and no
	 * IP ID to pick a packet). IPv6: errors; the kernel sums the tcp
	 * checksum at offset 16. */
	if (family == AF_INET && (setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof(on)) ||
				  setsockopt(fd, SOL_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu))))
		goto fail;
	if (family == AF_INET6 && (setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof(on)) ||
				   setsockopt(fd, SOL_IPV6, IPV6_CHECKSUM, &csum, sizeof(csum))))
		goto fail;
	err = attach_filter(fd, family, base);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

struct xlb_synprobe *xlb_synprobe_new(xlb_synprobe_done_fn done, void *ctx, int *err)
{
	struct xlb_synprobe *s = calloc(1, sizeof(*s));
	int e;

	*err = -ENOMEM;
	if (!s)
		return NULL;
	s->done = done;
	s->ctx = ctx;
	for (int i = 0; i < XLB_SYN_FDS; i++)
		s->fd[i] = -1;
	for (int i = 0; i < XLB_SYN_PORTS; i++)
		s->holders[i] = -1;
	s->udp4 = -1;
	/* Raw sockets first: without CAP_NET_RAW nothing else is worth making. */
	e = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
	if (e < 0) {
		*err = -errno;
		free(s);
		return NULL;
	}
	close(e);
	e = hold_ports(s, AF_INET6);
	if (e == -EAFNOSUPPORT)
		e = hold_ports(s, AF_INET);
	if (e)
		goto fail;
	e = raw_socket(AF_INET, s->base);
	if (e < 0)
		goto fail;
	s->fd[FD4] = e;
	e = raw_socket(AF_INET6, s->base);
	if (e < 0 && e != -EAFNOSUPPORT)
		goto fail;
	s->fd[FD6] = e < 0 ? -1 : e;
	s->fd[FDT] = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s->udp4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	s->srcs_cap = 64;
	s->srcs = calloc(s->srcs_cap, sizeof(*s->srcs));
	if (s->fd[FDT] < 0 || s->udp4 < 0 || !s->srcs ||
	    getrandom(&s->rng, sizeof(s->rng), 0) != sizeof(s->rng)) {
		e = -errno ? -errno : -ENOMEM;
		goto fail;
	}
	s->rng |= 1;
	*err = 0;
	return s;
fail:
	*err = e;
	xlb_synprobe_free(s);
	return NULL;
}

void xlb_synprobe_free(struct xlb_synprobe *s)
{
	if (!s)
		return;
	for (int i = 0; i < XLB_SYN_FDS; i++)
		if (s->fd[i] >= 0)
			close(s->fd[i]);
	for (int i = 0; i < XLB_SYN_PORTS; i++)
		if (s->holders[i] >= 0)
			close(s->holders[i]);
	if (s->udp4 >= 0)
		close(s->udp4);
	free(s->slots);
	free(s->free_stack);
	free(s->table);
	free(s->sendq);
	free(s->srcs);
	free(s);
}

void xlb_synprobe_fds(const struct xlb_synprobe *s, int fds[XLB_SYN_FDS])
{
	memcpy(fds, s->fd, sizeof(s->fd));
}

__u16 xlb_synprobe_port_base(const struct xlb_synprobe *s)
{
	return s->base;
}

unsigned int xlb_synprobe_busy(const struct xlb_synprobe *s)
{
	return s->busy;
}
