// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flow table read from user space (mmapped, one pass, no syscall per
 * bucket): counts per backend and the table's fill (status, drain, metrics)
 * and the live flows one by one (a switch to stateless seeds previous hops
 * from them, handover.h "Switching"). One rule says which entries are live.
 */
#include <errno.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "xlb_dp.h"
#include "xlb_dp_int.h"
#include "xlb.skel.h"

/* The mapped table and what deciding liveness needs. */
struct flow_view {
	const struct xlb_flow_bucket *b;
	size_t mapped;
	__u32 now, tcp_idle, udp_idle;
};

static int view_open(struct xlb_dp *dp, __u32 tcp_idle_s, struct flow_view *v)
{
	size_t bytes = (size_t)dp->flow_buckets * sizeof(struct xlb_flow_bucket);
	void *mem;

	v->mapped = (bytes + getpagesize() - 1) & ~((size_t)getpagesize() - 1);
	v->now = (__u32)xlb_kernel_jiffies();
	v->tcp_idle = tcp_idle_s * xlb_kernel_hz();
	v->udp_idle = dp->skel->rodata->udp_idle_jiffies;
	if (!v->now)
		return -ENOENT;
	mem = mmap(NULL, v->mapped, PROT_READ, MAP_SHARED, xlb_dp_flows_fd(dp), 0);
	if (mem == MAP_FAILED)
		return -errno;
	v->b = mem;
	return 0;
}

static void view_close(struct flow_view *v)
{
	munmap((void *)v->b, v->mapped);
}

/*
 * Way w of bucket b, if it is a flow of a current backend (gen_by_id) that
 * the data plane would still keep: its idle time in *age, else -1.
 */
static int live(const struct flow_view *v, const struct xlb_flow_bucket *b, int w,
		const __u32 *gen_by_id, __u32 *age)
{
	const struct xlb_flow_entry *e = &b->way[w];
	__u32 id = e->backend_id;

	if (!b->tag[w] || id >= XLB_MAX_BACKENDS || !gen_by_id[id] ||
	    e->backend_gen != gen_by_id[id])
		return -1;
	/* the check word gives the hash back: a torn entry (written while we
	 * read) fails */
	if (((e->check ^ xlb_flow_check(0, id, e->backend_gen)) | 1) != b->tag[w])
		return -1;
	/* /proc/timer_list's jiffies can trail the data plane's by a tick or
	 * more (measured: up to 0.6 s on kernel 6.18): an access time "in the
	 * future" is a fresh flow, not one idle for 2^32 jiffies */
	*age = v->now - b->atime[w];
	if ((__s32)*age < 0)
		*age = 0;
	return *age > (e->key.proto == IPPROTO_UDP ? v->udp_idle : v->tcp_idle) ? -1 : 0;
}

/* Buckets [first, end) into count_by_id (may be NULL); returns the fill. */
static __u64 count_range(const struct flow_view *v, __u32 first, __u32 end, const __u32 *gen_by_id,
			 __u32 *count_by_id)
{
	__u64 n_used = 0;

	for (__u32 i = first; i < end; i++) {
		const struct xlb_flow_bucket *b = &v->b[i];

		for (int w = 0; w < XLB_FLOW_WAYS; w++) {
			__u32 age;

			n_used += !!b->tag[w]; /* the table's fill: any entry, live or not */
			if (count_by_id && !(b->way[w].flags & XLB_FLOW_CLOSED) &&
			    !live(v, b, w, gen_by_id, &age))
				count_by_id[b->way[w].backend_id]++;
		}
	}
	return n_used;
}

int xlb_dp_flow_count(struct xlb_dp *dp, const __u32 *gen_by_id, __u32 *count_by_id,
		      __u32 tcp_idle_s, __u64 *used)
{
	struct flow_view v = {0};
	__u64 n_used;
	int err = view_open(dp, tcp_idle_s, &v);

	if (err || !v.b)
		return err ?: -ENOMEM;
	n_used = count_range(&v, 0, dp->flow_buckets, gen_by_id, count_by_id);
	view_close(&v);
	if (used)
		*used = n_used;
	return 0;
}

/* A mapping kept across calls (flow_scan_*): its pages stay faulted in. */
struct xlb_dp_flow_scan {
	struct flow_view v;
	__u32 buckets;
};

int xlb_dp_flow_scan_open(struct xlb_dp *dp, __u32 tcp_idle_s, struct xlb_dp_flow_scan **out)
{
	struct xlb_dp_flow_scan *s = calloc(1, sizeof(*s));
	int err = s ? view_open(dp, tcp_idle_s, &s->v) : -ENOMEM;

	if (err) {
		free(s);
		return err;
	}
	s->buckets = dp->flow_buckets;
	*out = s;
	return 0;
}

void xlb_dp_flow_scan_close(struct xlb_dp_flow_scan *s)
{
	if (!s)
		return;
	view_close(&s->v);
	free(s);
}

__u32 xlb_dp_flow_scan_buckets(const struct xlb_dp_flow_scan *s)
{
	return s->buckets;
}

__u64 xlb_dp_flow_scan_count(struct xlb_dp_flow_scan *s, __u32 now_jiffies, __u32 first, __u32 n,
			     const __u32 *gen_by_id, __u32 *count_by_id)
{
	__u32 end = first + n > s->buckets || first + n < first ? s->buckets : first + n;

	s->v.now = now_jiffies;
	return first < end ? count_range(&s->v, first, end, gen_by_id, count_by_id) : 0;
}

int xlb_dp_flow_each(struct xlb_dp *dp, const __u32 *gen_by_id, __u32 tcp_idle_s, __u32 closed_s,
		     int (*cb)(void *ctx, const struct xlb_flow_key *k, __u32 id), void *ctx)
{
	__u32 closed_idle = closed_s * xlb_kernel_hz();
	struct flow_view v = {0};
	int ret = view_open(dp, tcp_idle_s, &v);

	if (ret || !v.b)
		return ret ?: -ENOMEM;
	for (__u32 i = 0; !ret && i < dp->flow_buckets; i++) {
		const struct xlb_flow_bucket *b = &v.b[i];

		for (int w = 0; !ret && w < XLB_FLOW_WAYS; w++) {
			struct xlb_flow_key k;
			__u32 age;

			if (live(&v, b, w, gen_by_id, &age))
				continue;
			if ((b->way[w].flags & XLB_FLOW_CLOSED) && age > closed_idle)
				continue; /* ended (the client's FIN or RST) a while ago */
			k = b->way[w].key;
			ret = cb(ctx, &k, b->way[w].backend_id);
		}
	}
	view_close(&v);
	return ret;
}
