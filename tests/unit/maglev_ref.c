// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>

#include "maglev_ref.h"
#include "xlb_hash.h"
#include "xlb_limits.h"

struct ref_backend {
	__u64 key, credit;
	__u32 id, weight, pos, skip;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref_backend *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

int maglev_ref_build(const struct xlb_maglev_backend *b, size_t n, __u32 m,
		     const struct xlb_hash_seed *seed, __u32 *table)
{
	const struct xlb_hash_seed zero = {{0, 0}}, *s = seed ? seed : &zero;
	struct ref_backend *r;
	__u32 wmax = 0, filled = 0;
	size_t live = 0;
	__u8 *used;
	int err = 0;

	if (!xlb_maglev_size_ok(m) || m < 2)
		return -EINVAL;
	for (__u32 i = 0; i < m; i++)
		table[i] = XLB_BACKEND_NONE;
	r = calloc(n ? n : 1, sizeof(*r));
	used = calloc(m, 1);
	if (!r || !used) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (b[i].id == XLB_BACKEND_NONE) {
			err = -EINVAL;
			goto out;
		}
		if (!b[i].weight)
			continue;
		r[live] = (struct ref_backend){
			.key = b[i].key,
			.id = b[i].id,
			.weight = b[i].weight,
			.pos = (__u32)(xlb_mix64(b[i].key ^ s->k[0] ^ 0x6f66667365740000ull) % m),
			.skip = (__u32)(xlb_mix64(b[i].key ^ s->k[1] ^ 0x736b697000000000ull) %
					(m - 1)) +
				1,
		};
		if (b[i].weight > wmax)
			wmax = b[i].weight;
		live++;
	}
	qsort(r, live, sizeof(*r), ref_cmp);
	for (size_t i = 1; i < live; i++) {
		if (r[i].key == r[i - 1].key) {
			err = -EINVAL;
			goto out;
		}
	}
	while (live && filled < m) {
		for (size_t i = 0; i < live && filled < m; i++) {
			r[i].credit += r[i].weight;
			if (r[i].credit < wmax)
				continue;
			r[i].credit -= wmax;
			while (used[r[i].pos])
				r[i].pos = (r[i].pos + r[i].skip) % m;
			used[r[i].pos] = 1;
			table[r[i].pos] = r[i].id;
			r[i].pos = (r[i].pos + r[i].skip) % m;
			filled++;
		}
	}
out:
	if (err)
		for (__u32 i = 0; i < m; i++)
			table[i] = XLB_BACKEND_NONE;
	free(r);
	free(used);
	return err;
}
