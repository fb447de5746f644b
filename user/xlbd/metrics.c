// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Prometheus exposition of xlbd; see metrics.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <microhttpd.h>

#include "agent.h"
#include "log.h"
#include "strbuf.h"
#include "metrics.h"
#include "metrics_snap.h"
#include "metrics_text.h"

#define SNAPSHOT_WAIT_MS 2000
#define HEALTHZ_STALE_S 5

struct metrics {
	struct agent *ag;
	struct MHD_Daemon *httpd;
	int efd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct snap *snap;  /* the newest, one ref held here */
	__u64 seq;	    /* snapshots built */
	__u64 heartbeat_s;  /* CLOCK_MONOTONIC of the loop's last tick */
	double start_s;	    /* unix time */
	struct body *spare; /* a scrape's buffer, kept for the next one */
	/* the HTTP thread's (one scrape at a time) */
	struct mtext_cache *labels; /* label text kept across scrapes */
	__u64 wait_ns, render_ns;   /* the previous scrape's, shown by the next */
	__u64 snap_ns;
};

static void snap_put(struct snap *s)
{
	if (s && !--s->refs)
		snap_free(s);
}

void metrics_on_request(struct metrics *m)
{
	__u64 n;
	struct snap *s;

	if (read(m->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_debug("metrics: eventfd: %s\n", strerror(errno));
	s = snap_build(m->ag);
	pthread_mutex_lock(&m->lock);
	if (s) {
		snap_put(m->snap);
		m->snap = s;
	}
	m->seq++;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

static __u64 mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec;
}

void metrics_heartbeat(struct metrics *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->heartbeat_s = mono_s();
	pthread_mutex_unlock(&m->lock);
}

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* A fresh snapshot from the loop (or the last one if it is slow). */
static struct snap *snapshot(struct metrics *m)
{
	struct timespec until;
	struct snap *s;
	__u64 one = 1, seq;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SNAPSHOT_WAIT_MS / 1000;
	pthread_mutex_lock(&m->lock);
	seq = m->seq;
	if (write(m->efd, &one, sizeof(one)) < 0)
		pr_debug("metrics: eventfd: %s\n", strerror(errno));
	while (m->seq == seq)
		if (pthread_cond_timedwait(&m->cond, &m->lock, &until))
			break;
	s = m->snap;
	if (s)
		s->refs++;
	pthread_mutex_unlock(&m->lock);
	return s;
}

static void drop_ref(struct metrics *m, struct snap *s)
{
	pthread_mutex_lock(&m->lock);
	snap_put(s);
	pthread_mutex_unlock(&m->lock);
}

/* ---- reading the data plane --------------------------------------------- */

/* What the data plane counts now, for the snapshot's VIPs and backends;
 * on a read error: zeros (as before). */
struct reading {
	struct mtext_dp dp;
	struct xlb_vip_stats *vips;
	struct xlb_backend_stats *bes;
	struct xlb_backend_syn_stats *syn;
	__u32 *flows;
};

static void reading_free(struct reading *r)
{
	free(r->vips);
	free(r->bes);
	free(r->syn);
	free(r->flows);
}

/* No recent sweep pass (the first scrape in a while): count the flow
 * table here, on the HTTP thread, once; the loop's sweep starts. */
static int count_flows(struct xlb_dp *dp, const struct snap *s, struct reading *r)
{
	__u32 *gen = calloc(XLB_MAX_BACKENDS, sizeof(*gen));
	__u32 *by_id = calloc(XLB_MAX_BACKENDS, sizeof(*by_id));
	int err = -ENOMEM;

	r->flows = calloc(s->nbes ? s->nbes : 1, sizeof(*r->flows));
	if (!gen || !by_id || !r->flows)
		goto out;
	for (size_t i = 0; i < s->nbes; i++)
		gen[s->bes[i].id % XLB_MAX_BACKENDS] = s->bes[i].gen;
	err = xlb_dp_flow_count(dp, gen, by_id, XLB_FLOW_LIVE_TCP_IDLE_S, &r->dp.flows_used);
	for (size_t i = 0; !err && i < s->nbes; i++)
		r->flows[i] = by_id[s->bes[i].id % XLB_MAX_BACKENDS];
	r->dp.flows = r->flows;
out:
	free(gen);
	free(by_id);
	return err;
}

static int read_dp(struct xlb_dp *dp, const struct snap *s, struct reading *r)
{
	size_t nv = s->nvips ? s->nvips : 1, nb = s->nbes ? s->nbes : 1;
	__u32 *ids = malloc((nv > nb ? nv : nb) * sizeof(*ids));

	memset(r, 0, sizeof(*r));
	r->vips = malloc(nv * sizeof(*r->vips));
	r->bes = malloc(nb * sizeof(*r->bes));
	r->syn = malloc(nb * sizeof(*r->syn));
	if (!ids || !r->vips || !r->bes || !r->syn) {
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->nvips; i++)
		ids[i] = s->vips[i].id;
	xlb_dp_vip_stats_many(dp, ids, s->nvips, r->vips);
	for (size_t i = 0; i < s->nbes; i++)
		ids[i] = s->bes[i].id;
	xlb_dp_backend_stats_many(dp, ids, s->nbes, r->bes);
	xlb_dp_backend_syn_stats_many(dp, ids, s->nbes, r->syn);
	free(ids);
	r->dp.vips = r->vips;
	r->dp.bes = r->bes;
	r->dp.syn = r->syn;
	if (!s->flows_ok && count_flows(dp, s, r))
		pr_debug("metrics: couldn't count the flow table\n");
	r->dp.flow_entries = xlb_dp_flow_entries(dp);
	r->dp.lookups_ok = !xlb_dp_flow_lookups(dp, &r->dp.lookups);
	r->dp.reasons_ok = !xlb_dp_reason_counts(dp, r->dp.reasons);
	return 0;
}

/* ---- HTTP ---------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code, char *body, size_t len,
			     const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * The body of a scrape: a strbuf that goes back to m->spare when MHD is
 * done with the response, so steady scrapes reuse one buffer (13 MB with
 * 10,000 backends) instead of allocating and faulting in a new one each.
 */
struct body {
	struct metrics *m;
	struct strbuf sb;
};

static struct body *body_get(struct metrics *m)
{
	struct body *b;

	pthread_mutex_lock(&m->lock);
	b = m->spare;
	m->spare = NULL;
	pthread_mutex_unlock(&m->lock);
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return NULL;
		b->m = m;
	}
	sb_reset(&b->sb);
	return b;
}

static void body_put(void *cls)
{
	struct body *b = cls;
	struct metrics *m = b->m;

	pthread_mutex_lock(&m->lock);
	if (!m->spare) {
		m->spare = b;
		b = NULL;
	}
	pthread_mutex_unlock(&m->lock);
	if (b) {
		sb_free(&b->sb);
		free(b);
	}
}

static enum MHD_Result reply_metrics(struct MHD_Connection *conn, struct body *b)
{
	struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
		b->sb.len, b->sb.p, body_put, b);
	enum MHD_Result ret;

	if (!r) {
		body_put(b);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url,
			     const char *method, const char *version, const char *upload,
			     size_t *upload_len, void **state)
{
	struct metrics *m = cls;
	struct mtext_self self;
	struct reading r;
	struct body *b;
	struct snap *s;
	__u64 t0, t1, c1;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("GET only\n"), 9,
			     "text/plain");
	if (!strcmp(url, "/healthz")) {
		__u64 beat;

		pthread_mutex_lock(&m->lock);
		beat = m->heartbeat_s;
		pthread_mutex_unlock(&m->lock);
		if (mono_s() - beat > HEALTHZ_STALE_S)
			return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				     strdup("xlbd's event loop is stuck\n"), 27, "text/plain");
		return reply(conn, MHD_HTTP_OK, strdup("ok\n"), 3, "text/plain");
	}
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, strdup("try /metrics or /healthz\n"), 25,
			     "text/plain");
	b = body_get(m);
	if (!b)
		return MHD_NO;
	t0 = clock_ns(CLOCK_MONOTONIC);
	s = snapshot(m);
	if (!s) {
		body_put(b);
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, strdup("no snapshot yet\n"), 16,
			     "text/plain");
	}
	t1 = clock_ns(CLOCK_MONOTONIC);
	c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	self = (struct mtext_self){.start_s = m->start_s,
				   .snap_ns = m->snap_ns,
				   .wait_ns = m->wait_ns,
				   .render_ns = m->render_ns};
	if (read_dp(m->ag->dp, s, &r))
		b->sb.oom = 1;
	else
		mtext_render(&b->sb, m->labels, s, &r.dp, &self);
	reading_free(&r);
	m->snap_ns = s->build_ns;
	m->wait_ns = t1 - t0;
	m->render_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c1;
	drop_ref(m, s);
	if (b->sb.oom) {
		body_put(b);
		return MHD_NO;
	}
	return reply_metrics(conn, b);
}

/* ---- life cycle ----------------------------------------------------------- */

static int parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	unsigned long port;
	char *end;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !port || port > 65535)
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	if (host[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		size_t n = strlen(host);

		if (host[n - 1] != ']')
			return -EINVAL;
		host[n - 1] = 0;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((__u16)port);
		return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_port = htons((__u16)port);
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -EINVAL;
}

int metrics_start(struct agent *ag, const char *listen, struct metrics **out)
{
	struct sockaddr_storage ss = {};
	struct metrics *m;
	struct timespec now;

	*out = NULL;
	if (!strcmp(listen, "off"))
		return 0;
	if (parse_listen(listen, &ss))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ag = ag;
	clock_gettime(CLOCK_REALTIME, &now);
	m->start_s = (double)now.tv_sec + now.tv_nsec / 1e9;
	m->heartbeat_s = mono_s();
	m->labels = mtext_cache_new();
	if (!m->labels) {
		free(m);
		return -ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->efd < 0) {
		metrics_stop(m);
		return -errno;
	}
	m->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
					    (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				    0, NULL, NULL, serve, m, MHD_OPTION_SOCK_ADDR,
				    (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT,
				    (unsigned int)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				    MHD_OPTION_END);
	if (!m->httpd) {
		metrics_stop(m);
		return -EADDRINUSE;
	}
	*out = m;
	return 0;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	if (m->httpd)
		MHD_stop_daemon(m->httpd);
	if (m->efd >= 0)
		close(m->efd);
	snap_put(m->snap);
	mtext_cache_free(m->labels);
	if (m->spare) {
		sb_free(&m->spare->sb);
		free(m->spare);
	}
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	free(m);
}

int metrics_fd(const struct metrics *m)
{
	return m ? m->efd : -1;
}
