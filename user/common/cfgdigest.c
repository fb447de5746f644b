// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The configuration digest; see cfgdigest.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgdigest.h"
#include "sha256.h"
#include "xlb_dp.h"

/*
 * The canonical text goes straight into the hash, line by line: one line a
 * VIP, its check, each backend, fields named, strings length-prefixed (so
 * no content can imitate a separator). Version 1 of the text; a change to
 * it changes every digest (harmless: the fleet upgrades together, and the
 * alert only compares hosts with each other).
 */
__attribute__((format(printf, 2, 3))) static void feed(struct xlb_sha256 *h, const char *fmt, ...)
{
	char line[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* every format here is short and bounded: never truncated */
	xlb_sha256_update(h, line,
			  n < 0			     ? 0
			  : (size_t)n < sizeof(line) ? (size_t)n
						     : sizeof(line) - 1);
	explicit_bzero(line, sizeof(line));
}

static void feed_str(struct xlb_sha256 *h, const char *name, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	feed(h, " %s=%zu:", name, n);
	xlb_sha256_update(h, s, n);
}

static void feed_addr(struct xlb_sha256 *h, __u8 family, const union xlb_addr *a)
{
	char buf[64];

	feed(h, " %s %s", family == XLB_AF_INET6 ? "inet6" : "inet",
	     xlb_addr_str(a, buf, sizeof(buf)));
}

static void feed_timing(struct xlb_sha256 *h, const struct xlb_check_timing *t)
{
	feed(h, " interval=%u fast=%u timeout=%u rise=%u fall=%u jitter=%u port=%u", t->interval_ms,
	     t->fast_interval_ms, t->timeout_ms, t->rise, t->fall, t->jitter_pct, t->port);
}

static void feed_check(struct xlb_sha256 *h, const struct xlb_cfg_check *c)
{
	feed(h, "  check type=%u start_up=%u tls_verify=%u shell=%u ranges=", c->type, c->start_up,
	     c->tls_verify, c->shell);
	for (int i = 0; i < c->nranges && i < XLB_CHECK_MAX_RANGES; i++)
		feed(h, "%s%u-%u", i ? "," : "", c->ranges[i].lo, c->ranges[i].hi);
	feed_timing(h, &c->t);
	feed_str(h, "path", c->path, sizeof(c->path));
	feed_str(h, "host", c->host, sizeof(c->host));
	feed_str(h, "body", c->body, sizeof(c->body));
	feed_str(h, "send", c->send, sizeof(c->send));
	feed_str(h, "expect", c->expect, sizeof(c->expect));
	feed_str(h, "command", c->command, sizeof(c->command));
	/* Only when set, so a configuration without it keeps its digest across
	 * the upgrade that added the key. */
	if (c->via != XLB_CHECK_VIA_BACKEND)
		feed(h, " via=%u", c->via);
	feed(h, "\n");
}

static int cmp_addr(__u8 fa, const union xlb_addr *a, __u8 fb, const union xlb_addr *b)
{
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return memcmp(a, b, sizeof(*a));
}

static int cmp_vip(const void *x, const void *y)
{
	const struct xlb_cfg_vip *a = *(const struct xlb_cfg_vip *const *)x,
				 *b = *(const struct xlb_cfg_vip *const *)y;
	int r = cmp_addr(a->family, &a->addr, b->family, &b->addr);

	if (r)
		return r;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return a->proto < b->proto ? -1 : a->proto > b->proto;
}

static int cmp_backend(const void *x, const void *y)
{
	const struct xlb_cfg_backend *a = *(const struct xlb_cfg_backend *const *)x,
				     *b = *(const struct xlb_cfg_backend *const *)y;

	return cmp_addr(a->family, &a->addr, b->family, &b->addr);
}

static int feed_vip(struct xlb_sha256 *h, const struct xlb_cfg_vip *v)
{
	const struct xlb_cfg_backend **b = calloc(v->nbackends ? v->nbackends : 1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	feed(h, "vip");
	feed_addr(h, v->family, &v->addr);
	feed(h,
	     " port=%u proto=%u mode=%u hash=%u on_empty=%u table_size=%u panic=%u "
	     "slow_start=%u drain_timeout=%u reject_rate=%u announce=%u\n",
	     v->port, v->proto, v->mode, v->hash, v->on_empty, v->table_size, v->panic_percent,
	     v->slow_start_ms, v->drain_timeout_ms, v->reject_rate, v->announce);
	/* Issue #14's keys only when they are not the defaults: a config that
	 * does not use them keeps the digest it had before they existed (a
	 * fleet being upgraded host by host compares equal). The effective
	 * handover: 'handover: 10m' and no handover run the same. */
	if (v->flow_state || xlb_cfg_handover_ms(v) != XLB_CFG_DEFAULT_HANDOVER_MS)
		feed(h, "flow_state=%u handover=%u\n", v->flow_state, xlb_cfg_handover_ms(v));
	/* issue #16's likewise: the LBs of a fleet must agree on it (a
	 * retransmitted SYN goes to the same second backend everywhere) */
	if (v->syn_retry)
		feed(h, "syn_retry=%u\n", v->syn_retry);
	if (v->outlier.state) { /* as written: the LBs should judge alike */
		const struct xlb_cfg_outlier *o = &v->outlier;

		feed(h, "outlier=%u %u %u %u %u %u %u\n", o->state, o->window_ms, o->threshold_pct,
		     o->min_samples, o->base_ejection_ms, o->max_ejection_ms, o->max_percent);
	}
	feed_check(h, &v->check);
	for (size_t i = 0; i < v->nbackends; i++)
		b[i] = &v->backends[i];
	qsort(b, v->nbackends, sizeof(*b), cmp_backend);
	for (size_t i = 0; i < v->nbackends; i++) {
		feed(h, "  backend");
		feed_addr(h, b[i]->family, &b[i]->addr);
		feed(h, " weight=%u admin=%u backup=%u", b[i]->weight, b[i]->admin, b[i]->backup);
		feed_timing(h, &b[i]->check);
		feed(h, "\n");
	}
	free(b);
	return 0;
}

int xlb_cfg_digest(const struct xlb_cfg *c, const struct xlb_hash_seed *seed,
		   char out[XLB_CFG_DIGEST_LEN])
{
	const struct xlb_cfg_vip **v = calloc(c->nvips ? c->nvips : 1, sizeof(*v));
	__u8 md[XLB_SHA256_LEN];
	struct xlb_sha256 h;
	int ret = 0;

	if (!v)
		return -ENOMEM;
	xlb_sha256_init(&h);
	feed(&h, "xlb config 1\nseed %016llx%016llx\n", (unsigned long long)seed->k[0],
	     (unsigned long long)seed->k[1]);
	feed(&h, "mtu=%u deleted_vip_grace=%u\n", c->mtu, c->deleted_vip_grace_ms);
	for (size_t i = 0; i < c->nvips; i++)
		v[i] = &c->vips[i];
	qsort(v, c->nvips, sizeof(*v), cmp_vip);
	for (size_t i = 0; !ret && i < c->nvips; i++)
		ret = feed_vip(&h, v[i]);
	xlb_sha256_final(&h, md);
	free(v);
	for (int i = 0; !ret && i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	explicit_bzero(md, sizeof(md));
	return ret;
}
