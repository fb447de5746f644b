// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Counter samples from "stats" replies and the rates between two of them.
 * Rows are matched by key, (vip, address) for backends, vip for VIPs, name
 * for reasons, never by position: a backend added or removed between the
 * samples shifts nothing, it shows as appeared or gone, without a rate.
 * Pure logic: no socket, no terminal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "vipname.h"
#include "xlbctl.h"

const struct ctr_field ctr_fields[NCTR] = {
	[CTR_PACKETS] = {"packets", "packets_per_s", "packets/s", 1},
	[CTR_BYTES] = {"bytes", "bytes_per_s", "bytes/s", 1},
	[CTR_NEW_FLOWS] = {"new_flows", "new_flows_per_s", "new_flows/s", 0},
	[CTR_NO_BACKEND] = {"no_backend_packets", "no_backend_packets_per_s",
			    "no_backend_packets/s", 0},
};

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An address as bytes that sort numerically: IPv4 before IPv6. */
static int addr_key(const char *s, unsigned char key[17])
{
	memset(key, 0, 17);
	if (inet_pton(AF_INET, s, key + 1) == 1)
		return 0;
	key[0] = 1;
	return inet_pton(AF_INET6, s, key + 1) == 1 ? 0 : -1;
}

static int addr_cmp(const char *a, const char *b)
{
	unsigned char ka[17], kb[17];
	int r;

	if (addr_key(a, ka) || addr_key(b, kb))
		return strcmp(a, b);
	r = memcmp(ka, kb, sizeof(ka));
	return r ? r : strcmp(a, b);
}

int ctr_key_cmp(const char *vip_a, const char *addr_a, const char *vip_b, const char *addr_b)
{
	int r = xlb_vip_name_cmp(vip_a, vip_b);

	if (r || (!*addr_a && !*addr_b))
		return r;
	return addr_cmp(addr_a, addr_b);
}

static int row_cmp(const void *a, const void *b)
{
	const struct ctr_row *x = *(const struct ctr_row *const *)a;
	const struct ctr_row *y = *(const struct ctr_row *const *)b;

	return ctr_key_cmp(x->vip, x->addr, y->vip, y->addr);
}

static uint64_t get_u64(json_object *o, const char *k)
{
	int64_t v = get_int(o, k);

	return v < 0 ? 0 : (uint64_t)v;
}

static int parse_rows(json_object *arr, int backends, struct ctr_row **out, size_t *n)
{
	size_t len;

	*out = NULL;
	*n = 0;
	if (!arr || !json_object_is_type(arr, json_type_array))
		return -EINVAL;
	len = json_object_array_length(arr);
	*out = calloc(len ? len : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		struct ctr_row *r = &(*out)[i];

		if (!json_object_is_type(o, json_type_object))
			return -EINVAL;
		snprintf(r->vip, sizeof(r->vip), "%s", get_str(o, "vip"));
		if (backends)
			snprintf(r->addr, sizeof(r->addr), "%s", get_str(o, "address"));
		for (int c = 0; c < NCTR; c++)
			if (!backends || ctr_fields[c].on_backends)
				r->v[c] = get_u64(o, ctr_fields[c].field);
	}
	*n = len;
	return 0;
}

int sample_parse(json_object *reply, double mono, const struct timespec *wall, struct sample *s)
{
	json_object *vips = NULL, *bes = NULL, *reasons = NULL;
	size_t i = 0;
	int ret;

	memset(s, 0, sizeof(*s));
	s->mono = mono;
	s->wall = *wall;
	json_object_object_get_ex(reply, "vips", &vips);
	json_object_object_get_ex(reply, "backends", &bes);
	ret = parse_rows(vips, 0, &s->vips, &s->nvips);
	if (!ret)
		ret = parse_rows(bes, 1, &s->bes, &s->nbes);
	if (ret)
		goto fail;
	if (json_object_object_get_ex(reply, "reasons", &reasons) &&
	    json_object_is_type(reasons, json_type_object)) {
		s->reasons =
			calloc((size_t)json_object_object_length(reasons) + 1, sizeof(*s->reasons));
		if (!s->reasons) {
			ret = -ENOMEM;
			goto fail;
		}
		json_object_object_foreach(reasons, name, count)
		{
			snprintf(s->reasons[i].vip, sizeof(s->reasons[i].vip), "%s", name);
			if (json_object_is_type(count, json_type_int) &&
			    json_object_get_int64(count) > 0)
				s->reasons[i].v[CTR_PACKETS] =
					(uint64_t)json_object_get_int64(count);
			i++;
		}
		s->nreasons = i;
	}
	return 0;
fail:
	sample_free(s);
	return ret;
}

void sample_free(struct sample *s)
{
	free(s->vips);
	free(s->bes);
	free(s->reasons);
	memset(s, 0, sizeof(*s));
}

/* Rates of cur's rows against prev's, then prev's rows that are gone. */
static int match(const struct ctr_row *prev, size_t nprev, const struct ctr_row *cur, size_t ncur,
		 double dt, struct rate **out, size_t *nout)
{
	const struct ctr_row **sorted = calloc(nprev + 1, sizeof(*sorted));
	char *seen = calloc(nprev + 1, 1);
	struct rate *r = calloc(ncur + nprev + 1, sizeof(*r));
	size_t n = 0;

	if (!sorted || !seen || !r) {
		free(sorted);
		free(seen);
		free(r);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nprev; i++)
		sorted[i] = &prev[i];
	qsort(sorted, nprev, sizeof(*sorted), row_cmp);
	for (size_t i = 0; i < ncur; i++) {
		const struct ctr_row *key = &cur[i], **hit;
		struct rate *x = &r[n++];

		x->cur = key;
		hit = bsearch(&key, sorted, nprev, sizeof(*sorted), row_cmp);
		if (!hit)
			continue;
		x->prev = *hit;
		seen[hit - sorted] = 1;
		x->valid = dt > 0;
		for (int c = 0; c < NCTR; c++) {
			if (key->v[c] < x->prev->v[c])
				x->valid = 0; /* a counter went back: reset */
			else if (dt > 0)
				x->v[c] = (double)(key->v[c] - x->prev->v[c]) / dt;
		}
		if (!x->valid)
			memset(x->v, 0, sizeof(x->v));
	}
	for (size_t i = 0; i < nprev; i++)
		if (!seen[i])
			r[n++].prev = sorted[i];
	free(sorted);
	free(seen);
	*out = r;
	*nout = n;
	return 0;
}

int rates_compute(const struct sample *prev, const struct sample *cur, struct rates *r)
{
	double dt = cur->mono - prev->mono;

	memset(r, 0, sizeof(*r));
	r->interval = dt;
	if (match(prev->vips, prev->nvips, cur->vips, cur->nvips, dt, &r->vips, &r->nvips) ||
	    match(prev->bes, prev->nbes, cur->bes, cur->nbes, dt, &r->bes, &r->nbes) ||
	    match(prev->reasons, prev->nreasons, cur->reasons, cur->nreasons, dt, &r->reasons,
		  &r->nreasons)) {
		rates_free(r);
		return -ENOMEM;
	}
	return 0;
}

void rates_free(struct rates *r)
{
	free(r->vips);
	free(r->bes);
	free(r->reasons);
	memset(r, 0, sizeof(*r));
}

const char *rate_note(const struct rate *r)
{
	if (!r->prev)
		return "new";
	if (!r->cur)
		return "gone";
	return r->valid ? "" : "reset";
}
