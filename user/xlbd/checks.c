// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbd's health checking; see checks.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/timerfd.h>

#include "clock.h"
#include "agent.h"
#include "checks.h"
#include "log.h"
#include "maglev.h"
#include "ejection.h"

#define LATENESS_RING 65536 /* 6.5 s of checks at 10,000 a second */
#define EARLY_MS 4	    /* checks due this soon start with those due now */

/*
 * What makes two checks the same probe. A check through the VIP (via: vip)
 * also names its VIP: it tests that VIP's path to the backend, so VIPs
 * that share a backend do not share it.
 */
struct tkey {
	union xlb_addr addr;
	union xlb_addr vip; /* via vip: the VIP's address (else zero) */
	__u64 what;	    /* digest of type, strings, status ranges, tls_verify, via */
	__u16 port;
	__u16 vport;  /* via vip: the VIP's port */
	__u8 family;  /* the backend's */
	__u8 vfamily; /* via vip: the VIP's (else 0) */
	__u8 vproto;  /* via vip: the VIP's protocol */
	__u8 pad;
};

/* What every check touches comes first; `check` (over 1 KiB, read only to
 * start a probe) last, so that the schedule and a result touch the first
 * cache lines of a target only. */
struct target {
	__u64 due_ms;	     /* CLOCK_MONOTONIC */
	__u64 hurry_till_ms; /* fast_interval until then (outlier ejection) */
	__u32 id;	     /* its place in checks.pos */
	int running;
	struct xlb_check_timing t;
	struct xlb_hstate h;
	struct tkey key;
	struct xlb_probe_result last;
	__u64 last_wall_ms, since_wall_ms;
	__u64 last_mono_ms;	    /* of the last result, 0 if none */
	int seen;		    /* during checks_sync() */
	__u64 changes;		    /* health transitions */
	struct xlb_cfg_check check; /* what to run (the first VIP's check) */
};

struct hent {
	__u64 due_ms;
	struct target *t;
	__u32 id; /* t->id, read here: sifting touches no target */
};

/*
 * Who uses a target: one (VIP, backend) pair. When a pair's check changes
 * what it does (type, path, port, ...), its key changes and a new target
 * is made; the pair's old target, found here, hands its health on.
 */
struct ukey {
	union xlb_addr vip, backend;
	__u16 port;
	__u8 proto;
	__u8 pad[5];
};

struct user {
	struct ukey k;
	struct target *t; /* NULL: free slot */
};

/* What checks_sync() makes of one (VIP, backend) of a configuration, in
 * its order: the same sequence as the last sync's means the same targets,
 * users and timings (padding zeroed: compared whole). */
struct pair {
	struct tkey k;
	struct ukey uk;
	struct xlb_check_timing t;
};

struct checks {
	struct agent *ag;
	struct xlb_prober *prober;
	int tfd;
	/* targets: open addressing by key (power-of-two slots) */
	struct target **slots;
	size_t nslots, ntargets;
	/* (VIP, backend) -> its target, as of the last checks_sync() */
	struct user *users;
	size_t nusers; /* slots, a power of two */
	/* schedule: min-heap by due time, kept in the heap itself, and each
	 * target's place in it in pos (by target id), so that sifting reads and
	 * writes two dense arrays, not a ~3 KB target per level (10,000 targets
	 * are ~30 MB: a cache miss each; 8% of the agent's samples at 10,000
	 * checks a second) */
	struct hent *heap;
	size_t nheap, capheap;
	int *pos;	 /* target id -> heap index, -1: not scheduled (type none) */
	__u32 *free_ids; /* ids of dropped targets, for new ones */
	__u32 nids, nfree_ids;
	/* backends the adopted data plane had in service, sorted */
	union xlb_addr *adopted;
	size_t nadopted;
	__u64 rng;
	__u32 late_us[LATENESS_RING];
	size_t nlate;
	/* what checks_note_apply() saw last time (0xff: nothing yet) */
	__u8 vip_usable[XLB_MAX_VIPS], vip_panic[XLB_MAX_VIPS];
	__u8 be_state[XLB_MAX_BACKENDS], be_admin[XLB_MAX_BACKENDS];
	__u8 vip_seen[XLB_MAX_VIPS], be_seen[XLB_MAX_BACKENDS]; /* this apply */
	/* the last check definition digested, and its digest: callers walk a
	 * VIP's backends in a row, and a digest is ~250 rounds over 2 KB */
	struct xlb_cfg_check memo_chk;
	__u64 memo_digest;
	int memo_ok;
	/* the VIP whose backends xlb_sync asks about now (checks_health_vip):
	 * its digest, without comparing 2 KB a backend */
	const struct xlb_sync_vip *hvip;
	__u64 hvip_digest;
	/* the pairs of the last complete checks_sync(), and the next one's */
	struct pair *last, *next;
	size_t nlast, caplast, capnext;
	int last_ok;
};

static __u64 mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}

static __u64 thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}

static __u64 rnd(struct checks *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

/* ---- keys and the target table ---------------------------------------- */

static __u64 check_digest(const struct xlb_cfg_check *chk)
{
	struct xlb_cfg_check w = *chk;
	const unsigned char *p = (const void *)&w;
	__u64 h = 0x9e3779b97f4a7c15ULL, x;

	memset(&w.t, 0, sizeof(w.t)); /* timing does not make another probe */
	w.start_up = 0;
	for (size_t i = 0; i + 8 <= sizeof(w); i += 8) {
		memcpy(&x, p + i, 8);
		h = xlb_mix64(h ^ x);
	}
	return h;
}

/* check_digest(chk), from the memo when chk is the definition digested last
 * (compared whole: a VIP's definition may change in place). */
static __u64 digest_of(struct checks *c, const struct xlb_cfg_check *chk)
{
	if (!c->memo_ok || memcmp(&c->memo_chk, chk, sizeof(*chk))) {
		c->memo_chk = *chk;
		c->memo_digest = check_digest(chk);
		c->memo_ok = 1;
	}
	return c->memo_digest;
}

/* The key of (v, b); what: check_digest(&v->check). */
static void key_what(const struct xlb_cfg_vip *v, const struct xlb_cfg_backend *b, __u64 what,
		     struct tkey *k)
{
	memset(k, 0, sizeof(*k));
	k->addr = b->addr;
	k->family = b->family;
	k->port = b->check.port ? b->check.port : v->port;
	k->what = what;
	if (v->check.via == XLB_CHECK_VIA_VIP) {
		k->vip = v->addr;
		k->vport = v->port;
		k->vfamily = v->family;
		k->vproto = v->proto;
	}
}

static void key_of(struct checks *c, const struct xlb_cfg_vip *v, const struct xlb_cfg_backend *b,
		   struct tkey *k)
{
	key_what(v, b, digest_of(c, &v->check), k);
}

static size_t slot_of(const struct tkey *k, size_t nslots)
{
	__u64 a[2];

	memcpy(a, &k->addr, sizeof(a));
	return (size_t)xlb_mix64(k->what ^ xlb_mix64(a[0] ^ xlb_mix64(a[1] ^ k->port)) ^
				 k->vip.w[3]) &
	       (nslots - 1);
}

static struct target *find_in(struct target *const *slots, size_t nslots, const struct tkey *k)
{
	if (!nslots)
		return NULL;
	for (size_t i = slot_of(k, nslots);; i = (i + 1) & (nslots - 1)) {
		struct target *t = slots[i];

		if (!t)
			return NULL;
		if (!memcmp(&t->key, k, sizeof(*k)))
			return t;
	}
}

static struct target *find(const struct checks *c, const struct tkey *k)
{
	return find_in(c->slots, c->nslots, k);
}

static void insert(struct checks *c, struct target *t)
{
	size_t i = slot_of(&t->key, c->nslots);

	while (c->slots[i])
		i = (i + 1) & (c->nslots - 1);
	c->slots[i] = t;
}

static void ukey_of(const struct xlb_cfg_vip *v, const struct xlb_cfg_backend *b, struct ukey *k)
{
	memset(k, 0, sizeof(*k));
	k->vip = v->addr;
	k->backend = b->addr;
	k->port = v->port;
	k->proto = v->proto;
}

static size_t uslot_of(const struct ukey *k, size_t n)
{
	__u64 h = (__u64)k->port << 8 | k->proto;

	for (int i = 0; i < 4; i++)
		h = xlb_mix64(h ^ k->vip.w[i] ^ (__u64)k->backend.w[i] << 32);
	return (size_t)h & (n - 1);
}

static struct user *user_slot(struct user *u, size_t n, const struct ukey *k)
{
	if (!n)
		return NULL;
	for (size_t i = uslot_of(k, n);; i = (i + 1) & (n - 1))
		if (!u[i].t || !memcmp(&u[i].k, k, sizeof(*k)))
			return &u[i];
}

/* The target this (VIP, backend) used at the last checks_sync(), or NULL. */
static struct target *used_before(const struct checks *c, const struct xlb_cfg_vip *v,
				  const struct xlb_cfg_backend *b)
{
	struct user *u;
	struct ukey k;

	ukey_of(v, b, &k);
	u = user_slot(c->users, c->nusers, &k);
	return u && u->t ? u->t : NULL;
}

/* ---- the schedule ------------------------------------------------------ */

/* An id for a new target (its place in pos, unscheduled); -ENOMEM. */
static int id_get(struct checks *c, __u32 *id)
{
	if (!c->nfree_ids) {
		__u32 n = c->nids ? c->nids * 2 : 64;
		int *pos = realloc(c->pos, n * sizeof(*pos));
		__u32 *f;

		if (!pos)
			return -ENOMEM;
		c->pos = pos;
		f = realloc(c->free_ids, n * sizeof(*f));
		if (!f)
			return -ENOMEM;
		c->free_ids = f;
		for (__u32 i = n; i > c->nids; i--)
			c->free_ids[c->nfree_ids++] = i - 1;
		c->nids = n;
	}
	*id = c->free_ids[--c->nfree_ids];
	c->pos[*id] = -1;
	return 0;
}

static int scheduled(const struct checks *c, const struct target *t)
{
	return c->pos[t->id] >= 0;
}

static void heap_swap(struct checks *c, size_t i, size_t j)
{
	struct hent e = c->heap[i];

	c->heap[i] = c->heap[j];
	c->heap[j] = e;
	c->pos[c->heap[i].id] = (int)i;
	c->pos[c->heap[j].id] = (int)j;
}

static void heap_fix(struct checks *c, size_t i)
{
	while (i && c->heap[(i - 1) / 2].due_ms > c->heap[i].due_ms) {
		heap_swap(c, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < c->nheap && c->heap[l].due_ms < c->heap[m].due_ms)
			m = l;
		if (r < c->nheap && c->heap[r].due_ms < c->heap[m].due_ms)
			m = r;
		if (m == i)
			break;
		heap_swap(c, i, m);
		i = m;
	}
}

static int heap_push(struct checks *c, struct target *t)
{
	if (c->nheap == c->capheap) {
		size_t cap = c->capheap ? c->capheap * 2 : 64;
		void *n = realloc(c->heap, cap * sizeof(*c->heap));

		if (!n)
			return -ENOMEM;
		c->heap = n;
		c->capheap = cap;
	}
	c->pos[t->id] = (int)c->nheap;
	c->heap[c->nheap++] = (struct hent){t->due_ms, t, t->id};
	heap_fix(c, c->nheap - 1);
	return 0;
}

static void heap_remove(struct checks *c, struct target *t)
{
	int i = c->pos[t->id];

	if (i < 0)
		return;
	heap_swap(c, (size_t)i, c->nheap - 1);
	c->nheap--;
	if ((size_t)i < c->nheap)
		heap_fix(c, (size_t)i);
	c->pos[t->id] = -1;
}

/* A scheduled target's next check is due at `due`. */
static void reschedule(struct checks *c, struct target *t, __u64 due)
{
	int i = c->pos[t->id];

	t->due_ms = due;
	if (i < 0)
		return;
	c->heap[i].due_ms = due;
	heap_fix(c, (size_t)i);
}

static void arm(struct checks *c)
{
	struct itimerspec its = {};

	if (c->nheap) {
		__u64 due = c->heap[0].due_ms ? c->heap[0].due_ms : 1;

		its.it_value.tv_sec = (time_t)(due / 1000);
		its.it_value.tv_nsec = (long)(due % 1000) * 1000000L;
	}
	timerfd_settime(c->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Between states: some results disagree with the health it has. */
static int in_transition(const struct target *t)
{
	return (t->h.health != XLB_HEALTH_UP && t->h.successes) ||
	       (t->h.health != XLB_HEALTH_DOWN && t->h.failures) ||
	       t->h.health == XLB_HEALTH_UNKNOWN;
}

static __u64 next_interval(struct checks *c, const struct target *t)
{
	__u64 iv = t->t.interval_ms;

	if (t->t.fast_interval_ms && (in_transition(t) || mono_ms() < t->hurry_till_ms))
		iv = t->t.fast_interval_ms;
	if (t->t.jitter_pct) {
		__u64 span = iv * t->t.jitter_pct / 100;

		iv = iv - span + rnd(c) % (2 * span + 1);
	}
	return iv ? iv : 1;
}

/* ---- checks through the VIP ------------------------------------------- */

/* The backend record id of a via-vip target's (VIP, backend): 0, -ENOENT
 * while the data plane has none (not applied yet). */
static int via_backend_id(const struct checks *c, const struct target *t, __u32 *id)
{
	struct xlb_vip_key vk = {
		.addr = t->key.vip, .port = htons(t->key.vport), .proto = t->key.vproto};
	const struct xlb_sync_vip *v = c->ag->sync ? xlb_sync_find(c->ag->sync, &vk) : NULL;

	for (size_t i = 0; v && i < v->nbackends; i++)
		if (!memcmp(&v->backends[i].cfg.addr, &t->key.addr, sizeof(t->key.addr))) {
			*id = v->backends[i].id;
			return 0;
		}
	return -ENOENT;
}

/* The prober's route function: probe sockets in and out of the probe path. */
static int via_route(void *ctx, const struct xlb_check_key *k, __u32 id, int add)
{
	struct checks *c = ctx;

	if (!c->ag->dp)
		return -EOPNOTSUPP;
	if (!add)
		return xlb_dp_check_sock_del(c->ag->dp, k);
	/* Not attached (a kernel without tcx): the probe would reach the VIP
	 * through the router, i.e. any backend: fail it instead. */
	if (!xlb_dp_check_ready(c->ag->dp))
		return -EOPNOTSUPP;
	return xlb_dp_check_sock_set(c->ag->dp, k, id);
}

static int start_probe(struct checks *c, struct target *t)
{
	struct xlb_probe_via via = {.ifindex = c->ag->ifindex};

	if (!t->key.vfamily)
		return xlb_prober_start(c->prober, &t->check, t->t.timeout_ms, &t->key.addr,
					t->key.family, t->key.port, t);
	if (via_backend_id(c, t, &via.backend_id))
		return -ENOENT; /* before the first apply: next time */
	return xlb_prober_start_via(c->prober, &t->check, t->t.timeout_ms, &t->key.vip,
				    t->key.vfamily, t->key.port, t, &via);
}

/* The timer needs no read(): arm() sets it again at the end, and setting a
 * timerfd clears its expirations (one syscall less a wake-up). */
void checks_on_timer(struct checks *c)
{
	__u64 now_us = mono_us(), now = now_us / 1000;

	/* The checks due now go to the kernel together (one sendmmsg for their
	 * half-open SYNs, one io_uring submission for connects, probe.h), and
	 * with them those due within EARLY_MS: one wake-up, not one a
	 * millisecond (10,000 checks a second would wake the agent 1,000 times
	 * a second, each wake-up a context switch). */
	xlb_prober_hold(c->prober, 1);
	while (c->nheap && c->heap[0].due_ms <= now + EARLY_MS) {
		struct target *t = c->heap[0].t;
		__u64 due;

		c->late_us[c->nlate++ % LATENESS_RING] =
			now_us > t->due_ms * 1000 ? (__u32)(now_us - t->due_ms * 1000) : 0;
		if (!t->running && !start_probe(c, t))
			t->running = 1;
		due = t->due_ms + next_interval(c, t);
		if (due <= now) /* we fell far behind: do not burst */
			due = now + next_interval(c, t);
		reschedule(c, t, due);
	}
	xlb_prober_hold(c->prober, 0);
	arm(c);
}

/* ---- events ----------------------------------------------------------- */

static void name_backend(const struct xlb_cfg_backend *b, char *buf, size_t len)
{
	xlb_addr_str(&b->addr, buf, len);
}

/* A target's health changed: one event per VIP whose backend it checks. */
static void health_events(struct checks *c, const struct target *t, int from)
{
	const struct xlb_cfg *cfg = &c->ag->cfg;

	for (size_t i = 0; i < cfg->nvips; i++) {
		const struct xlb_cfg_vip *v = &cfg->vips[i];
		int digested = 0;
		__u64 what = 0;

		for (size_t j = 0; j < v->nbackends; j++) {
			struct tkey k;
			struct event e;

			if (memcmp(&v->backends[j].addr, &t->key.addr, sizeof(t->key.addr)))
				continue;
			if (!digested) {
				what = check_digest(&v->check);
				digested = 1;
			}
			key_what(v, &v->backends[j], what, &k);
			if (memcmp(&k, &t->key, sizeof(k)))
				continue;
			memset(&e, 0, sizeof(e));
			e.duration_us = t->last.duration_us;
			snprintf(e.kind, sizeof(e.kind), "health");
			xlb_cfg_vip_name(v, e.vip, sizeof(e.vip));
			name_backend(&v->backends[j], e.backend, sizeof(e.backend));
			snprintf(e.from, sizeof(e.from), "%s", xlb_health_name(from));
			snprintf(e.to, sizeof(e.to), "%s", xlb_health_name(t->h.health));
			snprintf(e.reason, sizeof(e.reason), "%s check %s",
				 xlb_check_type_name(t->check.type), t->last.reason);
			event_add(c->ag->events, &e);
		}
	}
}

static void probe_done(void *ctx, void *tag, const struct xlb_probe_result *r)
{
	struct checks *c = ctx;
	struct target *t = tag;
	int from = t->h.health, changed;

	t->running = 0;
	t->last = *r;
	t->last_wall_ms = wall_ms();
	t->last_mono_ms = mono_ms();
	counters_check(&c->ag->counters, r->reason, r->duration_us);
	changed = xlb_health_result(&t->h, r->ok, t->t.rise, t->t.fall, mono_ms());
	if (changed < 0)
		return;
	t->changes++;
	t->since_wall_ms = t->last_wall_ms;
	health_events(c, t, from);
	c->ag->health_changed = 1;
	/* Entering or leaving a transition changes the interval: from now. */
	if (scheduled(c, t)) {
		reschedule(c, t, mono_ms() + next_interval(c, t));
		arm(c);
	}
}

void checks_on_prober(struct checks *c)
{
	xlb_prober_run(c->prober);
}

/* ---- targets from the configuration ----------------------------------- */

static int cmp_addr(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(union xlb_addr));
}

void checks_adopted_up(struct checks *c, const union xlb_addr *addrs, size_t n)
{
	free(c->adopted);
	c->adopted = n ? malloc(n * sizeof(*addrs)) : NULL;
	c->nadopted = c->adopted ? n : 0;
	if (c->adopted) {
		memcpy(c->adopted, addrs, n * sizeof(*addrs));
		qsort(c->adopted, n, sizeof(*addrs), cmp_addr);
	}
}

static int start_up(const struct checks *c, const struct xlb_cfg_vip *v,
		    const struct xlb_cfg_backend *b)
{
	return v->check.start_up || v->check.type == XLB_CHECK_NONE ||
	       (c->nadopted &&
		bsearch(&b->addr, c->adopted, c->nadopted, sizeof(b->addr), cmp_addr));
}

static void drop_target(struct checks *c, struct target *t)
{
	if (t->running)
		xlb_prober_cancel(c->prober, t);
	heap_remove(c, t);
	c->free_ids[c->nfree_ids++] = t->id;
	free(t);
}

/*
 * A new target; `from` (or NULL) is the target the same (VIP, backend) used
 * until its check changed: the new one starts with its health, so editing a
 * check never takes a healthy backend out (its own results then move it).
 */
static struct target *new_target(struct checks *c, const struct xlb_cfg_vip *v,
				 const struct xlb_cfg_backend *b, const struct tkey *k,
				 const struct target *from, __u64 now)
{
	struct target *t = calloc(1, sizeof(*t));

	if (!t || id_get(c, &t->id)) {
		free(t);
		return NULL;
	}
	t->key = *k;
	t->check = v->check;
	t->t = b->check;
	xlb_health_init(&t->h, start_up(c, v, b), now);
	t->since_wall_ms = wall_ms();
	snprintf(t->last.reason, sizeof(t->last.reason), "not checked yet");
	if (from) {
		xlb_health_inherit(&t->h, &from->h);
		t->since_wall_ms = from->since_wall_ms;
		t->changes = from->changes;
		snprintf(t->last.reason, sizeof(t->last.reason), "check changed, not checked yet");
	}
	if (v->check.type != XLB_CHECK_NONE) {
		/* first check spread over the first (fast) interval */
		__u64 iv = b->check.fast_interval_ms ? b->check.fast_interval_ms
						     : b->check.interval_ms;

		t->due_ms = now + 1 + rnd(c) % (iv ? iv : 1);
		if (heap_push(c, t)) {
			c->free_ids[c->nfree_ids++] = t->id;
			free(t);
			return NULL;
		}
	}
	return t;
}

/* The pairs of cfg into c->next, in its order; -ENOMEM. */
static int pairs_of(struct checks *c, const struct xlb_cfg *cfg, size_t total)
{
	size_t n = 0;

	if (total > c->capnext) {
		struct pair *p = realloc(c->next, total * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->next = p;
		c->capnext = total;
	}
	for (size_t i = 0; i < cfg->nvips; i++) {
		const struct xlb_cfg_vip *v = &cfg->vips[i];
		__u64 what = check_digest(&v->check); /* once a VIP */

		for (size_t j = 0; j < v->nbackends; j++) {
			const struct xlb_cfg_backend *b = &v->backends[j];
			struct pair *p = &c->next[n++];

			memset(&p->t, 0, sizeof(p->t));
			key_what(v, b, what, &p->k);
			ukey_of(v, b, &p->uk);
			p->t.interval_ms = b->check.interval_ms;
			p->t.fast_interval_ms = b->check.fast_interval_ms;
			p->t.timeout_ms = b->check.timeout_ms;
			p->t.rise = b->check.rise;
			p->t.fall = b->check.fall;
			p->t.jitter_pct = b->check.jitter_pct;
			p->t.port = b->check.port;
		}
	}
	return 0;
}

/* The targets of c->next's pairs (cfg's): kept, retimed, made or dropped. */
static int sync_targets(struct checks *c, const struct xlb_cfg *cfg, size_t total)
{
	size_t nslots = 16, old_n = c->nslots, nusers, n = 0;
	struct target **old = c->slots;
	struct user *users;
	__u64 now = mono_ms();
	int err = 0;

	while (nslots < 2 * total)
		nslots *= 2;
	nusers = nslots;
	for (size_t i = 0; i < old_n; i++)
		if (old[i])
			old[i]->seen = 0;
	/* Look targets up in the old table, enter them in the new one. */
	c->slots = calloc(nslots, sizeof(*c->slots));
	users = calloc(nusers, sizeof(*users));
	if (!c->slots || !users) {
		free(c->slots);
		free(users);
		c->slots = old;
		return -ENOMEM;
	}
	c->nslots = nslots;
	c->ntargets = 0;
	for (size_t i = 0; i < cfg->nvips; i++) {
		const struct xlb_cfg_vip *v = &cfg->vips[i];

		for (size_t j = 0; j < v->nbackends; j++) {
			const struct xlb_cfg_backend *b = &v->backends[j];
			const struct pair *p = &c->next[n++];
			struct target *t;

			t = find(c, &p->k);
			if (t) { /* shared: a VIP before this one has it */
				*user_slot(users, nusers, &p->uk) = (struct user){p->uk, t};
				continue;
			}
			t = find_in(old, old_n, &p->k);
			if (t) {
				t->seen = 1;
				if (memcmp(&t->t, &b->check, sizeof(t->t))) {
					t->t = b->check; /* new timing, same health */
					reschedule(c, t, now + next_interval(c, t));
				}
			} else {
				t = new_target(c, v, b, &p->k, used_before(c, v, b), now);
				if (!t) {
					err = -ENOMEM;
					continue;
				}
				t->seen = 1;
			}
			insert(c, t);
			*user_slot(users, nusers, &p->uk) = (struct user){p->uk, t};
			c->ntargets++;
		}
	}
	for (size_t i = 0; i < old_n; i++)
		if (old[i] && !old[i]->seen)
			drop_target(c, old[i]);
	free(old);
	free(c->users);
	c->users = users;
	c->nusers = nusers;
	return err;
}

int checks_sync(struct checks *c, const struct xlb_cfg *cfg)
{
	__u64 cpu0 = thread_cpu_us();
	size_t total = 0, cap;
	struct pair *p;
	int err, same;

	for (size_t i = 0; i < cfg->nvips; i++)
		total += cfg->vips[i].nbackends;
	err = pairs_of(c, cfg, total);
	if (err)
		return err;
	/* The same pairs as the last sync (a weight, an admin state, anything
	 * but the checks changed): the same targets, users and timings; the
	 * walk below would find each target where it is and change nothing. */
	same = c->last_ok && c->nlast == total &&
	       !memcmp(c->last, c->next, total * sizeof(*c->next));
	if (!same)
		err = sync_targets(c, cfg, total);
	/* this sync's pairs are the last ones now (unless it failed: next
	 * time it runs in full again) */
	p = c->last;
	c->last = c->next;
	c->next = p;
	cap = c->caplast;
	c->caplast = c->capnext;
	c->capnext = cap;
	c->nlast = total;
	c->last_ok = !err;
	free(c->adopted); /* only the first configuration after a restart */
	c->adopted = NULL;
	c->nadopted = 0;
	arm(c);
	pr_debug("health checks: %zu targets %s in %llu us of CPU\n", c->ntargets,
		 same ? "unchanged" : "synced", (unsigned long long)(thread_cpu_us() - cpu0));
	return err;
}

void checks_health_vip(void *ctx, const struct xlb_sync_vip *v)
{
	struct checks *c = ctx;

	c->hvip = v;
	c->hvip_digest = check_digest(&v->cfg.check);
}

void checks_health(void *ctx, const struct xlb_sync_vip *v, const struct xlb_sync_backend *b,
		   struct xlb_hsel_in *in)
{
	struct checks *c = ctx;
	const struct target *t;
	struct tkey k;

	if (v == c->hvip) /* its backends in a row, v unchanged (sync.h) */
		key_what(&v->cfg, &b->cfg, c->hvip_digest, &k);
	else
		key_of(c, &v->cfg, &b->cfg, &k);
	t = find(c, &k);
	/* A check that changed: checks_sync() makes its target next, with the
	 * health of the one this backend had. */
	if (!t)
		t = used_before(c, &v->cfg, &b->cfg);
	if (t) {
		in->health = t->h.health;
		in->up_since_ms = t->h.up_since_ms;
	} else { /* new this apply: checks_sync() creates it next */
		in->health = start_up(c, &v->cfg, &b->cfg) ? XLB_HEALTH_UP : XLB_HEALTH_UNKNOWN;
		in->up_since_ms = c->ag->sync->now_ms;
	}
	in->ejected = (__u8)outliers_ejected(c->ag->outliers, v, b);
	if (in->admin == XLB_ADMIN_DRAIN && v->cfg.drain_timeout_ms &&
	    c->ag->sync->now_ms >= b->admin_since_ms + v->cfg.drain_timeout_ms)
		in->admin = XLB_ADMIN_DISABLED; /* drained long enough: DOWN */
}

void checks_view(struct checks *c, const struct xlb_cfg_vip *v, const struct xlb_cfg_backend *b,
		 struct check_view *out)
{
	struct tkey k;
	const struct target *t;

	memset(out, 0, sizeof(*out));
	key_of(c, v, b, &k);
	t = find(c, &k);
	if (!t)
		return;
	out->checked = 1;
	out->health = t->h.health;
	out->since_ms = t->since_wall_ms;
	out->last_ms = t->last_wall_ms;
	out->last = t->last;
	out->changes = t->changes;
	out->last_mono_ms = t->last_mono_ms;
}

int checks_check_now(struct checks *c, const struct xlb_cfg_vip *v, const struct xlb_cfg_backend *b,
		     __u64 hurry_till_ms)
{
	struct target *t;
	struct tkey k;

	key_of(c, v, b, &k);
	t = find(c, &k);
	if (!t || !scheduled(c, t))
		return -ENOENT; /* no check (type none) */
	if (hurry_till_ms > t->hurry_till_ms)
		t->hurry_till_ms = hurry_till_ms;
	if (!t->running) {
		reschedule(c, t, mono_ms());
		arm(c);
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

void checks_lateness(const struct checks *c, __u32 *p50_us, __u32 *p99_us, __u32 *n)
{
	size_t k = c->nlate < LATENESS_RING ? c->nlate : LATENESS_RING;
	__u32 *v = k ? malloc(k * sizeof(*v)) : NULL;

	*p50_us = *p99_us = 0;
	*n = (__u32)k;
	if (!v)
		return;
	memcpy(v, c->late_us, k * sizeof(*v));
	qsort(v, k, sizeof(*v), cmp_u32);
	*p50_us = v[k / 2];
	*p99_us = v[k * 99 / 100];
	free(v);
}

unsigned int checks_targets(const struct checks *c)
{
	return (unsigned int)c->ntargets;
}

/* ---- transitions the data plane shows --------------------------------- */

static const char *dp_state_name(int s)
{
	return s == XLB_BE_ACTIVE ? "active" : s == XLB_BE_DRAINING ? "draining" : "down";
}

/* Why a backend is in the state it is. */
static const char *state_reason(const struct xlb_sync_vip *v, const struct xlb_sync_backend *b,
				char *buf, size_t len)
{
	if (b->resolve_err && b->resolve_err != -EAGAIN)
		snprintf(buf, len, "next hop: %s", xlb_nh_strerror(b->resolve_err));
	else if (b->cfg.admin == XLB_ADMIN_DISABLED)
		snprintf(buf, len, "admin disabled");
	else if (b->cfg.admin == XLB_ADMIN_DRAIN && b->state == XLB_BE_DOWN &&
		 b->health == XLB_HEALTH_UP && v->cfg.drain_timeout_ms)
		snprintf(buf, len, "drain timeout %ums", v->cfg.drain_timeout_ms);
	else if (b->cfg.admin == XLB_ADMIN_DRAIN)
		snprintf(buf, len, "admin drain");
	else
		snprintf(buf, len, "health %s", xlb_health_name(b->health));
	return buf;
}

static void vip_event(struct checks *c, const struct xlb_sync_vip *v, const char *kind,
		      const char *from, const char *to, const char *reason)
{
	struct event e = {};

	snprintf(e.kind, sizeof(e.kind), "%s", kind);
	xlb_cfg_vip_name(&v->cfg, e.vip, sizeof(e.vip));
	snprintf(e.from, sizeof(e.from), "%s", from);
	snprintf(e.to, sizeof(e.to), "%s", to);
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	event_add(c->ag->events, &e);
}

void checks_note_apply(struct checks *c, const struct xlb_sync *s)
{
	char why[64];

	memset(c->vip_seen, 0, sizeof(c->vip_seen));
	memset(c->be_seen, 0, sizeof(c->be_seen));
	for (size_t i = 0; i < s->nvips; i++) {
		const struct xlb_sync_vip *v = &s->vips[i];
		__u8 usable = v->in_table > 0, *pu = &c->vip_usable[v->id % XLB_MAX_VIPS],
		     *pp = &c->vip_panic[v->id % XLB_MAX_VIPS];

		for (size_t j = 0; j < v->nbackends; j++) {
			const struct xlb_sync_backend *b = &v->backends[j];
			__u8 *ps = &c->be_state[b->id % XLB_MAX_BACKENDS],
			     *pa = &c->be_admin[b->id % XLB_MAX_BACKENDS];
			struct event e = {};

			if (*pa != 0xff && *pa != b->cfg.admin) {
				snprintf(e.kind, sizeof(e.kind), "admin");
				xlb_cfg_vip_name(&v->cfg, e.vip, sizeof(e.vip));
				name_backend(&b->cfg, e.backend, sizeof(e.backend));
				snprintf(e.from, sizeof(e.from), "%s", xlb_admin_name(*pa));
				snprintf(e.to, sizeof(e.to), "%s", xlb_admin_name(b->cfg.admin));
				snprintf(e.reason, sizeof(e.reason), "operator");
				event_add(c->ag->events, &e);
			}
			if (*ps != 0xff && *ps != b->state) {
				snprintf(e.kind, sizeof(e.kind), "state");
				xlb_cfg_vip_name(&v->cfg, e.vip, sizeof(e.vip));
				name_backend(&b->cfg, e.backend, sizeof(e.backend));
				snprintf(e.from, sizeof(e.from), "%s", dp_state_name(*ps));
				snprintf(e.to, sizeof(e.to), "%s", dp_state_name(b->state));
				snprintf(e.reason, sizeof(e.reason), "%s",
					 state_reason(v, b, why, sizeof(why)));
				event_add(c->ag->events, &e);
			}
			*ps = b->state;
			*pa = b->cfg.admin;
			c->be_seen[b->id % XLB_MAX_BACKENDS] = 1;
		}
		c->vip_seen[v->id % XLB_MAX_VIPS] = 1;
		if (*pu != usable) {
			snprintf(why, sizeof(why), "%s; on_empty %s",
				 usable ? "a backend is usable again" : "no usable backend",
				 xlb_on_empty_name(v->cfg.on_empty));
			vip_event(c, v, "vip",
				  *pu == 0xff ? "new"
				  : *pu	      ? "serving"
					      : "empty",
				  usable ? "serving" : "empty", why);
			if (!usable)
				pr_warn("VIP %s has no usable backend: new connections get its "
					"on_empty policy (%s)\n",
					xlb_cfg_vip_name(&v->cfg, why, sizeof(why)),
					xlb_on_empty_name(v->cfg.on_empty));
		}
		if (*pp != v->panic && (*pp != 0xff || v->panic))
			vip_event(c, v, "panic", *pp == 1 ? "on" : "off", v->panic ? "on" : "off",
				  v->panic ? "healthy share below panic_threshold: every enabled "
					     "backend is in the table"
					   : "healthy share back above panic_threshold");
		*pu = usable;
		*pp = v->panic;
	}
	/* Ids given back: whatever gets them next starts with no history. */
	for (size_t i = 0; i < XLB_MAX_VIPS; i++)
		if (!c->vip_seen[i])
			c->vip_usable[i] = c->vip_panic[i] = 0xff;
	for (size_t i = 0; i < XLB_MAX_BACKENDS; i++)
		if (!c->be_seen[i])
			c->be_state[i] = c->be_admin[i] = 0xff;
}

/* ---- life cycle ------------------------------------------------------- */

struct checks *checks_new(struct agent *ag)
{
	struct checks *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ag = ag;
	c->rng = (__u64)time(NULL) * 0x9e3779b97f4a7c15ULL | 1;
	memset(c->vip_usable, 0xff, sizeof(c->vip_usable));
	memset(c->vip_panic, 0xff, sizeof(c->vip_panic));
	memset(c->be_state, 0xff, sizeof(c->be_state));
	memset(c->be_admin, 0xff, sizeof(c->be_admin));
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	c->prober = xlb_prober_new(probe_done, c);
	if (c->tfd < 0 || !c->prober) {
		checks_free(c);
		return NULL;
	}
	xlb_prober_set_route(c->prober, via_route, c);
	if (xlb_prober_syn(c->prober) == 1)
		pr_info("plain tcp checks: half-open (SYN, SYN-ACK, this host's RST)\n");
	else
		pr_info("plain tcp checks: connect() (half-open ones need raw sockets: %s)\n",
			strerror(-xlb_prober_syn(c->prober)));
	return c;
}

void checks_free(struct checks *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nslots; i++)
		free(c->slots[i]);
	free(c->slots);
	free(c->users);
	free(c->heap);
	free(c->pos);
	free(c->free_ids);
	free(c->adopted);
	free(c->last);
	free(c->next);
	if (c->prober)
		xlb_prober_free(c->prober);
	if (c->tfd >= 0)
		close(c->tfd);
	free(c);
}

int checks_timer_fd(const struct checks *c)
{
	return c->tfd;
}

int checks_prober_fd(const struct checks *c)
{
	return xlb_prober_fd(c->prober);
}
