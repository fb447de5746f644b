// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Lookups by key in a sync view (VIPs, a VIP's backends); see sync_int.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "sync.h"
#include "sync_int.h"

int sync_same_key(const struct xlb_cfg_vip *a, const struct xlb_cfg_vip *b)
{
	return !memcmp(&a->addr, &b->addr, sizeof(a->addr)) && a->port == b->port &&
	       a->proto == b->proto;
}

static size_t hash_key(const union xlb_addr *a, __u32 extra, size_t n)
{
	__u64 h = extra;

	for (int i = 0; i < 4; i++)
		h = xlb_mix64(h ^ a->w[i]);
	return (size_t)h & (n - 1);
}

static __u32 vip_extra(const struct xlb_cfg_vip *c)
{
	return (__u32)c->port << 8 | c->proto;
}

static int index_init(struct index *x, size_t count)
{
	x->n = 16;
	while (x->n < 2 * count)
		x->n *= 2;
	x->slot = calloc(x->n, sizeof(*x->slot));
	return x->slot ? 0 : -ENOMEM;
}

static void index_put(struct index *x, const union xlb_addr *a, __u32 extra, size_t pos)
{
	size_t i = hash_key(a, extra, x->n);

	while (x->slot[i])
		i = (i + 1) & (x->n - 1);
	x->slot[i] = pos + 1;
}

int sync_index_vips(struct index *x, const struct xlb_sync_vip *v, size_t n)
{
	if (index_init(x, n))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		index_put(x, &v[i].cfg.addr, vip_extra(&v[i].cfg), i);
	return 0;
}

int sync_index_backends(struct index *x, const struct xlb_sync_vip *v)
{
	if (!v || index_init(x, v->nbackends))
		return v ? -ENOMEM : 0;
	for (size_t i = 0; i < v->nbackends; i++)
		index_put(x, &v->backends[i].cfg.addr, 0, i);
	return 0;
}

struct xlb_sync_vip *sync_find_vip(struct xlb_sync_vip *v, size_t n, const struct index *x,
				   const struct xlb_cfg_vip *c)
{
	if (!x || !x->n) {
		for (size_t i = 0; i < n; i++)
			if (sync_same_key(&v[i].cfg, c))
				return &v[i];
		return NULL;
	}
	for (size_t i = hash_key(&c->addr, vip_extra(c), x->n); x->slot[i];
	     i = (i + 1) & (x->n - 1))
		if (sync_same_key(&v[x->slot[i] - 1].cfg, c))
			return &v[x->slot[i] - 1];
	return NULL;
}

struct xlb_sync_backend *sync_find_backend(struct xlb_sync_vip *v, const struct index *x,
					   const union xlb_addr *a)
{
	if (!v)
		return NULL;
	for (size_t i = hash_key(a, 0, x->n); x->slot[i]; i = (i + 1) & (x->n - 1))
		if (!memcmp(&v->backends[x->slot[i] - 1].cfg.addr, a, sizeof(*a)))
			return &v->backends[x->slot[i] - 1];
	return NULL;
}
